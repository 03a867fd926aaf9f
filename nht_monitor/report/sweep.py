"""The sweep page's numbers: transition delay vs 1/(ηλ) with its fit, the P1–P6 scorecard.

Both come from the analysis package (``nht_monitor.analysis.scorecard``): each run is
summarised (observed transition step minus fit step = the delay), P6 fits the delay
against 1/(ηλ). The observed transition step is the one definition of
:mod:`nht_monitor.analysis.transition` (first evaluation at which held-out accuracy
reaches ``done_val_acc``), the step backtest scores forecasts against. Runs whose
transition is only forecast are drawn apart (hollow points), outside the fit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nht_monitor.report.data import ReportRun
from nht_monitor.report.html import esc, fmt

logger = logging.getLogger(__name__)

FORECAST_STATUSES = ("pending", "imminent")


@dataclass
class SweepSummary:
    """Delay points ``(run, 1/(ηλ), delay)`` observed and forecast, the fit
    ``(slope, intercept, R²)`` of the observed ones, each run's observed transition
    step (``None``: not seen; empty without a scorecard), and the scorecard rows
    ``(prediction, result, numbers)`` as HTML."""

    delay_points: list[tuple[str, float, float]] = field(default_factory=list)
    forecast_points: list[tuple[str, float, float]] = field(default_factory=list)
    delay_fit: tuple[float, float, float] | None = None
    delay_note: str = ""
    transition_steps: list[float | None] = field(default_factory=list)
    scorecard_rows: list[tuple[str, str, str]] = field(default_factory=list)
    score: str | None = None
    scorecard_note: str = ""
    scorecard: Any = None


def _inverse_eta_lambda(lr: float | None, wd: float | None) -> float | None:
    if lr and wd and lr > 0 and wd > 0 and math.isfinite(lr * wd):
        return 1.0 / (lr * wd)
    return None


def forecast_points(runs: Sequence[ReportRun],
                    fit_steps: Sequence[float | None] | None = None
                    ) -> list[tuple[str, float, float]]:
    """``(run_id, 1/(ηλ), forecast delay)`` of runs whose transition is still ahead; the
    delay counts from the run's fit step (``fit_steps[i]``, 0 when unknown)."""
    points = []
    for i, run in enumerate(runs):
        t = run.assessment.transition
        x = _inverse_eta_lambda(run.lr, run.weight_decay)
        if (t.status in FORECAST_STATUSES and t.forecast_step is not None and x is not None
                and math.isfinite(t.forecast_step)):
            start = (fit_steps[i] if fit_steps is not None else None) or 0.0
            points.append((run.run_id, x, max(float(t.forecast_step) - start, 0.0)))
    return points


def fit_line(points: Sequence[tuple[str, float, float]]) -> tuple[float, float, float] | None:
    """Least-squares ``delay = slope·x + intercept`` and its R² (needs 2 distinct x)."""
    if len(points) < 2 or len({p[1] for p in points}) < 2:
        return None
    from nht_monitor.analysis.scorecard import linear_fit

    fit = linear_fit([p[1] for p in points], [p[2] for p in points])
    return fit["slope"], fit["intercept"], fit["r2"]


def _numbers(numbers: dict[str, Any]) -> str:
    parts = []
    for key, value in numbers.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {fmt(v)}" for k, v in value.items())
            parts.append(f"{esc(key)}: {inner}")
        elif isinstance(value, list):
            text = ", ".join(fmt(v) if not isinstance(v, list) else
                             "(" + ", ".join(fmt(x) for x in v) + ")" for v in value[:12])
            parts.append(f"{esc(key)}: {esc(text)}{' …' if len(value) > 12 else ''}")
        else:
            parts.append(f"{esc(key)}: {esc(fmt(value))}")
    return "<br>".join(parts)


def summarize_sweep(runs: Sequence[ReportRun]) -> SweepSummary:
    """Scorecard, observed delays with their fit, and forecast delays of ``runs``."""
    from nht_monitor.analysis.assess import log_settings
    from nht_monitor.analysis.scorecard import scorecard, summarize_run

    summary = SweepSummary(forecast_points=forecast_points(runs))
    try:  # the settings each run's report section used (see report.data.assess)
        card = scorecard([summarize_run(r.samples, r.log.header,
                                        log_settings(r.log.header, {"advice": False},
                                                     lenient=True))
                          for r in runs])
    except Exception as exc:  # the rest of the report is still worth writing
        logger.warning("scorecard failed: %s", exc)
        summary.scorecard_note = f"The scorecard could not be computed: {exc}"
        return summary
    summary.scorecard = card
    summary.forecast_points = forecast_points(runs, [r.fit_step for r in card.runs])
    summary.transition_steps = [r.actual_step for r in card.runs]
    for run in card.runs:
        x = _inverse_eta_lambda(run.lr, run.weight_decay)
        if run.delay is not None and x is not None:
            summary.delay_points.append((run.run_id or "?", x, float(run.delay)))
    p6 = next((p for p in card.predictions if p.name == "P6"), None)
    fit = (p6.numbers.get("inverse_eta_lambda") if p6 is not None else None) or None
    if isinstance(fit, dict) and {"slope", "intercept", "r2"} <= set(fit):
        summary.delay_fit = (float(fit["slope"]), float(fit["intercept"]), float(fit["r2"]))
    else:
        summary.delay_fit = fit_line(summary.delay_points)
    if not summary.delay_points and not summary.forecast_points:
        summary.delay_note = ("No run shows a transition (observed or forecast) yet: the "
                              "delay law needs intermediate runs.")
    summary.scorecard_rows = [
        (f"<b>{esc(p.name)}</b> {esc(p.title)}",
         f'<span class="{"pass" if p.status == "pass" else "fail" if p.status == "fail" else "na"}">'
         f"{esc(p.status)}</span>",
         esc(p.detail) + ("<br>" + _numbers(p.numbers) if p.numbers else ""))
        for p in card.predictions]
    applicable = sum(p.status != "n/a" for p in card.predictions)
    passed = sum(p.status == "pass" for p in card.predictions)
    summary.score = (f"{card.score:.2f} ({passed} pass / {applicable} applicable)"
                     if card.score is not None else "n/a (no prediction applicable)")
    return summary
