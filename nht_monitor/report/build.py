"""Build the report: load runs, draw figures, write the HTML (and optional PNG files)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from nht_monitor._forked import fork_workers, forked_pool
from nht_monitor.report import figures
from nht_monitor.report.data import ReportRun, load_run
from nht_monitor.report.html import (
    assessment_html,
    esc,
    figure_png,
    fmt,
    img_tag,
    kv_table,
    page,
    table,
)
from nht_monitor.report.sweep import SweepSummary, summarize_sweep

logger = logging.getLogger(__name__)


@dataclass
class ReportSummary:
    """What was written: the HTML path, the PNG files, the runs and figure count."""

    html: Path
    runs: list[str]
    figures: int
    png_files: list[Path] = field(default_factory=list)
    sweep: SweepSummary | None = None


MAX_WORKERS = 4
"""Run sections are drawn by up to this many forked processes (at most one per CPU)."""


class _Figures:
    """Renders figures as embedded PNG; keeps the PNG bytes when files are wanted."""

    def __init__(self, keep_png: bool) -> None:
        self.keep_png = keep_png
        self.count = 0
        self.pngs: list[tuple[str, bytes]] = []  # (file stem, PNG) when keep_png

    def render(self, name: str, fig: Figure | None, alt: str) -> str:
        if fig is None:
            return ""
        png = figure_png(fig)  # (no fig.clear(): clearing rebuilds axes; dropping it is free)
        self.count += 1
        if self.keep_png:
            self.pngs.append((_slug(name), png))
        return img_tag(png, alt)

    def add(self, count: int, pngs: list[tuple[str, bytes]]) -> None:
        """Take over what another collector (a worker's) rendered."""
        self.count += count
        self.pngs.extend(pngs)

    def write(self, png_dir: Path) -> list[Path]:
        """Write every kept PNG into ``png_dir``; returns the files."""
        png_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for stem, png in self.pngs:
            path = png_dir / f"{stem}.png"
            path.write_bytes(png)
            files.append(path)
        return files


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "figure"


def _anchor(run: ReportRun, index: int) -> str:
    return f"run-{index}-{_slug(run.run_id)}"


def _run_section(run: ReportRun, index: int, figs: _Figures) -> str:
    rid = run.run_id
    header = run.log.header
    facts = [
        ("log", esc(run.log.path)), ("model", esc(f"{header.model.class_name} "
                                                  f"({header.model.n_params:,} parameters)")),
        ("layers", f"{len(header.layers)} (head: {esc(header.head or '—')})"),
        ("samples", f"{len(run.samples):,} (steps {fmt(run.samples[0].step)}–"
                    f"{fmt(run.samples[-1].step)})" if run.samples else "0"),
        ("started", esc(header.started_at)),
    ]
    if run.log.skipped_lines or run.log.truncated:
        facts.append(("log problems", f"{run.log.skipped_lines} unreadable line(s) skipped "
                      "(corrupt or over-long)"
                      + ("; last line truncated" if run.log.truncated else "")))
    parts = [f'<section id="{_anchor(run, index)}"><h2>Run {esc(rid)}</h2>',
             kv_table(facts),
             "<h3>Assessment</h3>", assessment_html(run.assessment, run.assessment_source)]
    if not run.samples:
        parts.append("<p>The log has no samples yet: nothing to draw.</p></section>")
        return "\n".join(parts)
    parts += ["<h3>Total and head norm</h3>",
              '<p class="muted">Background: the regime assessed at each point of the run; '
              "dashed line and hatched band: the forecast transition step and its 80% "
              "interval.</p>",
              figs.render(f"{rid}_norms", figures.norms_figure(run),
                          f"{rid}: total and head norm vs step")]
    layer_parts = [figs.render(f"{rid}_layers_heatmap", figures.layers_figure(run),
                               f"{rid}: per-layer norm heatmap"),
                   figs.render(f"{rid}_layers", figures.layer_multiples_figure(run),
                               f"{rid}: per-layer norm small multiples")]
    if any(layer_parts):
        parts += ["<h3>Per-layer norms</h3>", *layer_parts]
    metrics = figs.render(f"{rid}_metrics", figures.metrics_figure(run),
                          f"{rid}: train and validation metrics")
    parts += ["<h3>Train / val metrics</h3>",
              metrics or "<p>No metrics were logged (use <code>monitor.log(...)</code>).</p>",
              "<h3>τ clock</h3>",
              figs.render(f"{rid}_tau", figures.tau_figure(run), f"{rid}: τ clock vs step"),
              "</section>"]
    return "\n".join(parts)


def _percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _sweep_section(runs: Sequence[ReportRun], summary: SweepSummary, figs: _Figures) -> str:
    from nht_monitor.analysis.transition import DEFINITION

    steps = summary.transition_steps or [None] * len(runs)
    parts = ['<section id="sweep"><h2>Sweep</h2>',
             table(("run", "λ", "lr", "regime", "final norm", "transition", "transition step",
                    "forecast step", "chance within the budget"),
                   [(esc(r.run_id), fmt(r.weight_decay), fmt(r.lr),
                     f'<span class="badge regime-{esc(r.assessment.regime)}">'
                     f"{esc(r.assessment.regime)}</span>",
                     fmt(r.samples[-1].norm if r.samples else None),
                     esc(r.assessment.transition.status), fmt(step),
                     fmt(r.assessment.transition.forecast_step),
                     _percent(r.assessment.transition.chance_in_budget))
                    for r, step in zip(runs, steps, strict=True)]),
             f'<p class="muted">{esc(DEFINITION[:1].upper() + DEFINITION[1:])} '
             "(docs/FORECAST.md): the step backtest scores forecasts against and the delay "
             "below counts to.</p>",
             "<h3>Norm curves coloured by λ</h3>",
             figs.render("sweep_norms", figures.sweep_norms_figure(runs),
                         "sweep: total norm curves coloured by weight decay")]
    parts.append("<h3>Delay vs 1/(ηλ)</h3>")
    delay = figs.render("sweep_delay", figures.delay_figure(summary.delay_points,
                                                            summary.delay_fit,
                                                            summary.forecast_points),
                        "sweep: transition delay vs 1/(eta lambda) with fit")
    parts.append(delay or f"<p>{esc(summary.delay_note or 'No run has a transition step yet.')}"
                          "</p>")
    parts.append("<h3>Scorecard P1–P6</h3>")
    if summary.scorecard_rows:
        parts.append(table(("prediction", "result", "numbers"), summary.scorecard_rows))
        if summary.score is not None:
            parts.append(f"<p><b>Overall score S = {esc(summary.score)}</b></p>")
        parts.append('<p class="muted">From <code>nht_monitor.analysis.scorecard</code> '
                     "(the same table as <code>nht-monitor scorecard</code>).</p>")
    else:
        parts.append(f"<p>{esc(summary.scorecard_note or 'Scorecard unavailable.')}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def build_report(paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str],
                 png_dir: str | os.PathLike[str] | None = None,
                 load: Callable[[str | os.PathLike[str]], ReportRun] = load_run,
                 workers: int | None = None) -> ReportSummary:
    """Write the HTML report of ``paths`` to ``output``; returns what was written.

    ``workers``: processes drawing the run sections (default: one per CPU where forking
    is safe, :func:`nht_monitor._forked.fork_workers`; 1 draws everything in this process).

    Raises ``FileNotFoundError``/``RunLogError`` (a ``ValueError``) for unreadable logs.
    """
    if not paths:
        raise ValueError("give at least one run log")
    runs = [load(path) for path in paths]
    keep_png = png_dir is not None
    figs, sweep_figs = _Figures(keep_png), _Figures(keep_png)
    sweep: list[tuple[SweepSummary, str]] = []

    def draw_sweep() -> None:  # in this process, while the workers draw the runs
        if len(runs) > 1:
            summary = summarize_sweep(runs)
            sweep.append((summary, _sweep_section(runs, summary, sweep_figs)))

    sections = _run_sections(runs, figs, workers, meanwhile=draw_sweep)
    nav = [(_anchor(run, i), run.run_id) for i, run in enumerate(runs)]
    sweep_summary = None
    if sweep:
        sweep_summary, section = sweep[0]
        sections.append(section)
        nav.append(("sweep", "Sweep"))
        figs.add(sweep_figs.count, sweep_figs.pngs)
    title = (f"nht-monitor report: {runs[0].run_id}" if len(runs) == 1
             else f"nht-monitor report: {len(runs)} runs")
    subtitle = ", ".join(r.run_id for r in runs[:6]) + (" …" if len(runs) > 6 else "")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page(title, subtitle, nav, sections), encoding="utf-8")
    files = figs.write(Path(png_dir)) if png_dir is not None else []
    return ReportSummary(html=output, runs=[r.run_id for r in runs], figures=figs.count,
                         png_files=files, sweep=sweep_summary)


_FORKED_RUNS: Sequence[ReportRun] = ()
"""The runs a forked worker draws (set just before forking, inherited, never pickled)."""


def _draw_run(index: int, keep_png: bool) -> tuple[str, int, list[tuple[str, bytes]]]:
    """In a worker: run section ``index`` of :data:`_FORKED_RUNS`, its figure count and
    kept PNGs."""
    figs = _Figures(keep_png)
    return _run_section(_FORKED_RUNS[index], index, figs), figs.count, figs.pngs


def _run_sections(runs: Sequence[ReportRun], figs: _Figures, workers: int | None,
                  meanwhile: Callable[[], None]) -> list[str]:
    """Every run's section (figures into ``figs``), drawn by ``workers`` forked processes
    (``None``: :func:`~nht_monitor._forked.fork_workers`) when more than one; ``meanwhile()`` runs in this
    process in the meantime."""
    global _FORKED_RUNS

    workers = fork_workers(len(runs), MAX_WORKERS) if workers is None else workers
    if workers > 1:
        _FORKED_RUNS = runs
        try:
            with forked_pool(workers) as pool:
                jobs = [pool.submit(_draw_run, i, figs.keep_png) for i in range(len(runs))]
                meanwhile()
                sections = []
                for job in jobs:
                    html, count, pngs = job.result()
                    sections.append(html)
                    figs.add(count, pngs)
                return sections
        finally:
            _FORKED_RUNS = ()
    sections = [_run_section(run, i, figs) for i, run in enumerate(runs)]
    meanwhile()
    return sections
