"""The report's head lead: the "Head signal" row gives the lead with its sign where one
is measured, "no lead measured" (and which norm has not flagged) where none is; the norms
figure marks both flags and names the lead in its legend."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from nht_monitor.analysis.assess import assess_log  # noqa: E402
from nht_monitor.report import build_report  # noqa: E402
from nht_monitor.report.data import load_run  # noqa: E402
from nht_monitor.report.figures import norms_figure  # noqa: E402
from tests.analysis.head_lead_logs import head_lead_log  # noqa: E402


def head_row(page: str) -> str:
    """The text of the report's "Head signal" cell (tags stripped, entities decoded)."""
    cells = re.findall(r"<tr><th>Head signal</th><td>(.*?)</td></tr>", page)
    assert len(cells) == 1, "one Head signal row per run"
    return html.unescape(re.sub(r"<[^>]+>", "", cells[0]))


def report_of(log: Path, tmp_path: Path) -> str:
    out = tmp_path / f"{log.stem}.html"
    build_report([log], out, workers=1)
    return out.read_text(encoding="utf-8")


def test_a_measured_lead_is_shown_with_its_sign_and_meaning(tmp_path):
    log = head_lead_log(tmp_path, "head_first")
    head = assess_log(log).head
    # the head norm contracts twice as fast as the total norm: it flags first
    assert head is not None and head.lead_steps is not None and head.lead_steps > 0
    row = head_row(report_of(log, tmp_path))
    lead = f"{head.lead_steps:,.0f}"
    assert f"flagged at step {head.flagged_step}" in row
    assert (f"lead +{lead} steps: the head norm flagged {lead} steps before the total norm"
            in row)
    assert "no lead measured" not in row


@pytest.mark.parametrize(("case", "why"), [
    ("head_never", "the head norm has not flagged"),
    ("total_never", "the total norm has not flagged"),
    ("no_head", "no head norm"),
])
def test_without_a_lead_the_report_says_no_lead_measured(tmp_path, case, why):
    log = head_lead_log(tmp_path, case)
    head = assess_log(log).head
    assert head is None or head.lead_steps is None
    row = head_row(report_of(log, tmp_path))
    assert f"no lead measured ({why})" in row
    assert "lead +" not in row and "lead -" not in row and "n/a" not in row
    if case == "total_never":  # the head flagged; only the total norm's flag is missing
        assert head is not None and f"flagged at step {head.flagged_step}" in row


def legend_of_norms_figure(log: Path) -> list[str]:
    fig = norms_figure(load_run(log))
    return [text.get_text() for text in fig.axes[0].get_legend().get_texts()]


def test_norms_figure_marks_both_flags_and_the_lead(tmp_path):
    log = head_lead_log(tmp_path, "head_first")
    head = assess_log(log).head
    assert head is not None and head.flagged_step is not None and head.lead_steps is not None
    legend = legend_of_norms_figure(log)
    assert f"head flagged, step {head.flagged_step:,}" in legend
    assert f"total norm flagged, step {head.flagged_step + head.lead_steps:,.0f}" in legend
    assert f"head lead +{head.lead_steps:,.0f} steps" in legend


def test_norms_figure_says_no_lead_measured(tmp_path):
    log = head_lead_log(tmp_path, "total_never")
    head = assess_log(log).head
    assert head is not None and head.flagged_step is not None and head.lead_steps is None
    legend = legend_of_norms_figure(log)
    assert f"head flagged, step {head.flagged_step:,}" in legend
    assert "head lead: no lead measured" in legend
    assert not any(label.startswith("total norm flagged") for label in legend)


def test_norms_figure_hatches_an_open_interval_to_the_plot_end(tmp_path):
    """An interval whose upper end is open (the τ clock stops first) is hatched from its
    low end to the last step or the forecast, whichever is later, and says so."""
    from dataclasses import replace

    from matplotlib.patches import Rectangle

    run = load_run(head_lead_log(tmp_path, "head_first"))
    last = run.samples[-1].step
    t = run.assessment.transition.model_copy(update={
        "status": "pending", "forecast_step": last + 500.0, "interval": (last - 100.0, None)})
    run = replace(run, assessment=run.assessment.model_copy(update={"transition": t}))
    fig = norms_figure(run)
    ax = fig.axes[0]
    assert "forecast 80% interval (no upper end)" in [
        x.get_text() for x in ax.get_legend().get_texts()]
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch() == "//"]
    (span,) = [p.get_path().transformed(p.get_patch_transform()).get_extents()
               for p in hatched] or [None]
    assert span is not None
    assert (span.x0, span.x1) == pytest.approx((last - 100.0, last + 500.0))


def test_norms_figure_says_when_undecayed_layers_are_left_out(tmp_path):
    run = load_run(head_lead_log(tmp_path, "head_first"))
    assert "total norm" in [t.get_text() for t in
                            norms_figure(run).axes[0].get_legend().get_texts()]
    run.log.header.config["undecayed_layers"] = ["fc.bias", "norm"]
    legend = [t.get_text() for t in norms_figure(run).axes[0].get_legend().get_texts()]
    assert "total norm (2 undecayed layers left out)" in legend
