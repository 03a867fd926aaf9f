"""Backtest: replay a log through the live analyzer and score its forecasts against the
*actual* transition.

Actual transition: :mod:`nht_monitor.analysis.transition`'s one definition (docs/FORECAST.md,
"The transition step"): the first evaluation at which the held-out accuracy (first
present of ``AnalyzerSettings.val_acc_keys``) reaches ``AnalyzerSettings.done_val_acc``
(0.9); a later dip does not move it. Logs without a held-out accuracy fall back to the
norm plateau the whole-log analysis reports (``transition.status == "done"``), labelled
``"norm plateau"``. The text form of a :class:`BacktestResult` is
:func:`nht_monitor.analysis.text.format_backtest`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from nht_monitor.analysis.analyzer import Analyzer
from nht_monitor.analysis.facts import facts_from_series
from nht_monitor.analysis.series import Series, series_from_samples
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.sweep import SweepReferences, observed_delay
from nht_monitor.analysis.transition import first_reached
from nht_monitor.analysis.assessment import Assessment
from nht_monitor.runlog.schema import RunHeader, Sample

FRACTIONS: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75)
"""Fractions of the actual transition step at which forecasts are scored."""

DELAY_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75)
"""Fractions of the delay (fit step → actual transition) at which forecasts are scored
too: the measure of the task-family benchmark (docs/FORECAST.md)."""


class ActualTransition(BaseModel):
    """The observed transition: ``step`` (None if not seen) and how it was found."""

    step: float | None = None
    tau: float | None = None
    method: str = "none"


class ForecastPoint(BaseModel):
    """The live forecast as of ``fraction`` × actual step (in ``delay_points``: as of fit
    step + ``fraction`` × (actual − fit step)): ``error`` = |f − a| / a."""

    fraction: float
    step: int | None = None
    regime: str | None = None
    status: str | None = None
    forecast_step: float | None = None
    interval: tuple[float, float | None] | None = None
    error: float | None = None
    covered: bool | None = None


class RegimeSpan(BaseModel):
    """A label the replayed assessments held: from ``first_step`` to ``last_step``
    (the steps of its first and last assessment), ``assessments`` of them in a row."""

    regime: str
    first_step: int
    last_step: int
    assessments: int


class BacktestResult(BaseModel):
    """What :func:`backtest` returns."""

    run_id: str | None = None
    n_samples: int = 0
    actual: ActualTransition = Field(default_factory=ActualTransition)
    points: list[ForecastPoint] = Field(default_factory=list)
    fit_step: float | None = None
    delay_points: list[ForecastPoint] = Field(default_factory=list)
    """At :data:`DELAY_FRACTIONS` of the delay; empty without a fit before the transition."""
    regime_first_stable: dict[str, int] = Field(default_factory=dict)
    """Each label's first step of its first :attr:`regime_history` span."""
    regime_history: list[RegimeSpan] = Field(default_factory=list)
    """The labels in the order held (:func:`regime_spans`): a return to an earlier label
    is a span of its own."""
    final: Assessment | None = None
    v_sc_step: float | None = None
    """Step of V_sc, the largest total norm at or after the fit (and before the
    transition, when there is one)."""
    delay_tau: float | None = None
    """τ from V_sc to the actual transition (:func:`~nht_monitor.analysis.sweep.observed_delay`):
    this run's value of the forecast's ``AnalyzerSettings.delay_tau`` (pass this log as
    ``--reference`` to forecast runs of the same task)."""


def actual_transition(series: Series, settings: AnalyzerSettings,
                      final: Assessment | None = None) -> ActualTransition:
    """The actual transition of a run (see the module docstring)."""
    if np.isfinite(series.val).any():
        level = settings.done_val_acc
        step = first_reached(series.step, series.val, level)
        if step is not None:
            j = int(np.searchsorted(series.step, step))
            return ActualTransition(step=step, tau=float(series.tau[j]),
                                    method=f"held-out accuracy first reached {level:g}")
        return ActualTransition(method=f"held-out accuracy never reached {level:g}")
    if final is not None and final.transition.status == "done" and final.transition.forecast_step:
        return ActualTransition(step=final.transition.forecast_step,
                                tau=final.transition.forecast_tau, method="norm plateau")
    return ActualTransition(method="no held-out accuracy and no norm plateau")


def backtest(samples: Sequence[Sample], header: RunHeader | None = None,
             settings: AnalyzerSettings | None = None, *, assessments: int = 200,
             references: Sequence[str | os.PathLike[str]] = ()) -> BacktestResult:
    """Replay ``samples`` through :meth:`Analyzer.observe`/``assess`` (about ``assessments``
    evenly spaced assessments plus one at each scored fraction). ``references``: logs of
    the same sweep (paths or globs); each assessment uses those that had transitioned by
    its step (:class:`~nht_monitor.analysis.sweep.SweepReferences`, ``replay=True``)."""
    settings = settings or AnalyzerSettings()
    series = series_from_samples(samples, settings)
    refs = SweepReferences(references, settings, replay=True,
                           exclude_run_id=header.run_id if header else None) \
        if references else None
    offline = Analyzer(header, settings, references=refs)
    final = offline.analyze_series(series)
    result = BacktestResult(run_id=header.run_id if header else None, n_samples=len(series),
                            final=final)
    result.actual = actual_transition(series, settings, final)
    observed = observed_delay(series, settings)
    facts = facts_from_series(series, settings)
    if observed is not None:
        result.v_sc_step, result.delay_tau = observed.v_sc_step, observed.delay_tau
    elif result.actual.step is None:
        result.v_sc_step = facts.sc_peak_step
    else:  # V_sc before the transition, as observed_delay reads it
        result.v_sc_step = facts_from_series(series.before(result.actual.step),
                                             settings).sc_peak_step
    result.fit_step = facts.fit_step
    samples = _dedupe(samples)
    n = len(samples)
    if n == 0:
        return result
    checkpoints: dict[int, list[tuple[str, float]]] = {}
    actual, fit = result.actual.step, result.fit_step
    delayed = bool(actual and fit is not None and fit < actual)
    targets = [("step", f, f * actual) for f in FRACTIONS] if actual else []
    if delayed:
        targets += [("delay", f, fit + f * (actual - fit)) for f in DELAY_FRACTIONS]
    for kind, frac, target in targets:
        i = int(np.searchsorted(series.step, target, side="right")) - 1
        if i >= 0:
            checkpoints.setdefault(i, []).append((kind, frac))
    every = max(1, n // max(1, assessments))
    live = Analyzer(header, settings.model_copy(update={"advice": False}), references=refs)
    labels: list[tuple[int, str]] = []
    points: dict[tuple[str, float], ForecastPoint] = {}
    for i, sample in enumerate(samples):
        live.observe(sample)
        if i in checkpoints or i % every == every - 1 or i == n - 1:
            a = live.assess()
            labels.append((sample.step, a.regime))
            for kind, frac in checkpoints.get(i, ()):
                points[(kind, frac)] = _point(frac, sample.step, a, actual)
    result.points = [points.get(("step", f), ForecastPoint(fraction=f)) for f in FRACTIONS] \
        if actual else []
    result.delay_points = [points.get(("delay", f), ForecastPoint(fraction=f))
                           for f in DELAY_FRACTIONS] if delayed else []
    result.regime_history = regime_spans(labels)
    result.regime_first_stable = {}
    for span in result.regime_history:
        result.regime_first_stable.setdefault(span.regime, span.first_step)
    return result


def _dedupe(samples: Sequence[Sample]) -> list[Sample]:
    steps = np.fromiter((s.step for s in samples), dtype=np.float64, count=len(samples))
    from nht_monitor.analysis.series import keep_last_occurrence
    mask = keep_last_occurrence(steps)
    return [s for s, k in zip(samples, mask, strict=True) if k]


def _point(frac: float, step: int, a: Assessment, actual: float) -> ForecastPoint:
    f = a.transition.forecast_step
    err = abs(f - actual) / actual if f is not None and actual else None
    return ForecastPoint(fraction=frac, step=step, regime=a.regime, status=a.transition.status,
                         forecast_step=f, interval=a.transition.interval, error=err,
                         covered=a.transition.holds(actual))


def regime_spans(labels: list[tuple[int, str]], hold: int = 5) -> list[RegimeSpan]:
    """The runs of equal labels (``(step, label)`` in order) that held for ``hold``
    consecutive assessments, or until the end of the log; shorter ones are left out, and
    a held label interrupted only by them goes on in the same span."""
    runs: list[RegimeSpan] = []
    for step, label in labels:
        if runs and runs[-1].regime == label:
            runs[-1].last_step, runs[-1].assessments = int(step), runs[-1].assessments + 1
        else:
            runs.append(RegimeSpan(regime=label, first_step=int(step), last_step=int(step),
                                   assessments=1))
    spans: list[RegimeSpan] = []
    for i, run in enumerate(runs):
        if run.assessments < hold and i < len(runs) - 1:
            continue
        if spans and spans[-1].regime == run.regime:
            spans[-1].last_step = run.last_step
            spans[-1].assessments += run.assessments
        else:
            spans.append(run)
    return spans
