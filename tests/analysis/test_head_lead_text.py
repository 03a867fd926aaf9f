"""The head line of ``nht-monitor analyze``: the lead with its sign, or "no lead measured"."""

from __future__ import annotations

import pytest

from nht_monitor.analysis.assess import assess_log
from nht_monitor.analysis.assessment import HeadSignal
from nht_monitor.analysis.text import head_lead_text
from nht_monitor.cli import main
from tests.analysis.head_lead_logs import head_lead_log


def head_line(capsys, log) -> str:
    assert main(["analyze", str(log)]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("head:")]
    assert len(lines) == 1
    return lines[0]


def test_analyze_prints_the_measured_lead_with_its_meaning(tmp_path, capsys):
    log = head_lead_log(tmp_path, "head_first")
    head = assess_log(log).head
    assert head is not None and head.lead_steps is not None and head.lead_steps > 0
    lead = f"{head.lead_steps:,.0f}"
    line = head_line(capsys, log)
    assert f"flagged at step {head.flagged_step};" in line
    assert f"lead +{lead} steps: the head norm flagged {lead} steps before the total norm" in line


@pytest.mark.parametrize(("case", "expected"), [
    ("head_never", "not flagged; no lead measured (the head norm has not flagged);"),
    ("total_never", "; no lead measured (the total norm has not flagged);"),
    ("no_head", "head: -; no lead measured (no head norm)"),
])
def test_analyze_says_no_lead_measured(tmp_path, capsys, case, expected):
    log = head_lead_log(tmp_path, case)
    line = head_line(capsys, log)
    assert expected in line
    assert "lead +" not in line and "lead -" not in line


@pytest.mark.parametrize(("lead", "expected"), [
    (300.0, "lead +300 steps: the head norm flagged 300 steps before the total norm "
            "(which flagged at step 2,300)"),
    (1.0, "lead +1 step: the head norm flagged 1 step before the total norm (which flagged "
          "at step 2,001)"),
    (-1250.0, "lead -1,250 steps: the head norm flagged 1,250 steps after the total norm "
              "(which flagged at step 750)"),
    (0.0, "lead 0 steps: the head and the total norm flagged at the same step"),
    (float("nan"), "no lead measured (the total norm has not flagged)"),
])
def test_lead_wording_carries_the_sign(lead, expected):
    assert head_lead_text(HeadSignal(flagged_step=2000, lead_steps=lead)) == expected


def test_a_verdict_without_a_head_signal_says_the_head_norm_was_logged():
    """A public strong run logged its head norm at every step; its head line read "no head
    norm": the strong rule reads no head signal. Now it says which; a run without a head
    norm still says so."""
    from nht_monitor.analysis.assessment import Assessment
    from nht_monitor.analysis.text import format_assessment
    from nht_monitor.report.html import head_html

    logged = Assessment(regime="strong", head=None, head_norm=3.2)
    missing = Assessment(regime="strong", head=None)
    says = "no lead measured (the head norm is logged; this verdict reads no head signal)"
    assert f"head: -; {says}" in format_assessment(logged)
    assert says in head_html(logged)
    assert "head: -; no lead measured (no head norm)" in format_assessment(missing)
    assert "(no head norm)" in head_html(missing)
