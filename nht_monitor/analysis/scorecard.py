"""The sweep scorecard: the paper's predictions P1–P6 over logs differing in λ, and S.

P1 norm ordering: final total norm falls as λ grows (Spearman ρ(λ, final norm) ≤ -0.8).
P2 three regimes: weak, intermediate and strong are all among the final labels.
P3 accuracy ordering: the best final held-out accuracy belongs to an intermediate run,
   and the mean over intermediate runs beats the weak and the strong means.
P4 layer hierarchy: the head norm flags the transition before the total norm
   (lead_steps > 0) in at least ``min_fraction`` of the runs where both flagged
   (``n/a``, "no lead measured", when no run has a lead).
P5 Clean Norm Separation holds in at least ``min_fraction`` of the intermediate runs
   with a decided CNS.
P6 delay scaling: delay (transition step − fit step) against 1/(ηλ) and against
   log(V_sc/V_st)/(ηλ): least-squares slope and R² (pass when the better R² ≥ 0.9).
The transition step is :mod:`nht_monitor.analysis.transition`'s (the first evaluation at
which held-out accuracy reaches ``done_val_acc``), found by
:func:`nht_monitor.analysis.backtest.actual_transition` as backtest finds it.
S: the fraction of applicable predictions that pass (``None`` when none applies).
Each prediction is ``pass`` | ``fail`` | ``n/a`` with the numbers behind it. The text
form of a :class:`Scorecard` is :func:`nht_monitor.analysis.text.format_scorecard`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from nht_monitor.analysis.analyzer import Analyzer
from nht_monitor.analysis.sweep import SweepReferences
from nht_monitor.analysis.backtest import actual_transition
from nht_monitor.analysis.series import series_from_samples
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.text import NO_LEAD
from nht_monitor.runlog.schema import RunHeader, Sample

SPEARMAN_MAX = -0.8
MIN_FRACTION = 0.6
DELAY_R2_MIN = 0.9


class RunSummary(BaseModel):
    """One run of the sweep as the scorecard sees it."""

    run_id: str | None = None
    weight_decay: float | None = None
    lr: float | None = None
    regime: str
    confidence: float
    final_norm: float | None = None
    v_peak: float | None = None
    final_val: float | None = None
    fit_step: float | None = None
    actual_step: float | None = None
    delay: float | None = None
    v_st: float | None = None
    lead_steps: float | None = None
    cns_holds: bool | None = None


class Prediction(BaseModel):
    """One of P1–P6: ``status`` pass | fail | n/a, a one-line ``detail`` and the numbers."""

    name: str
    title: str
    status: str
    detail: str
    numbers: dict[str, object] = Field(default_factory=dict)


class Scorecard(BaseModel):
    """P1–P6 and S over a sweep."""

    runs: list[RunSummary]
    predictions: list[Prediction]
    score: float | None = None


def summarize_run(samples: Sequence[Sample], header: RunHeader | None,
                  settings: AnalyzerSettings,
                  references: Sequence[str | os.PathLike[str]] = ()) -> RunSummary:
    """Analyse one log for the scorecard (``references``: logs of the same sweep that
    calibrate its forecast, :class:`~nht_monitor.analysis.sweep.SweepReferences`)."""
    series = series_from_samples(samples, settings)
    refs = SweepReferences(references, settings,
                           exclude_run_id=header.run_id if header else None) \
        if references else None
    analyzer = Analyzer(header, settings.model_copy(update={"advice": False}), references=refs)
    a = analyzer.analyze_series(series)
    from nht_monitor.analysis.facts import facts_from_series
    facts = facts_from_series(series, settings)
    actual = actual_transition(series, settings, a)
    val = series.val[np.isfinite(series.val)]
    delay = None
    v_st = None
    if actual.step is not None:
        start = facts.fit_step if facts.fit_step is not None else 0.0
        delay = max(actual.step - start, 0.0)
        i = int(np.searchsorted(series.step, actual.step))
        if i < len(series) and math.isfinite(series.norm[i]):
            v_st = float(series.norm[i])
    return RunSummary(
        run_id=header.run_id if header else None,
        weight_decay=_median(series.wd), lr=_median(series.lr), regime=a.regime,
        confidence=a.confidence, final_norm=a.norm, v_peak=a.v_peak,
        final_val=float(val[-1]) if val.shape[0] else None, fit_step=facts.fit_step,
        actual_step=actual.step, delay=delay, v_st=v_st,
        lead_steps=a.head.lead_steps if a.head else None, cns_holds=a.cns.holds)


def _median(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.shape[0] else None


def linear_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray
               ) -> dict[str, float]:
    """Least-squares ``y = slope·x + intercept``: ``{"slope", "intercept", "r2", "n"}``
    (what ``scipy.stats.linregress`` gives, without importing ``scipy.stats``, which
    takes longer than the whole fit of a sweep). All ``x`` equal: ``ValueError``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape[0] < 2 or np.all(x == x[0]):
        raise ValueError("cannot fit a line if all x values are identical")
    sxx, sxy, _, syy = np.cov(x, y, bias=True).flat
    den = math.sqrt(sxx * syy)
    r = math.nan if den == 0.0 else min(max(sxy / den, -1.0), 1.0)  # y constant: no R²
    slope = sxy / sxx
    return {"slope": float(slope), "intercept": float(y.mean() - slope * x.mean()),
            "r2": float(r * r), "n": int(x.shape[0])}


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman's rank correlation (ties get their average rank; ``nan`` when either
    side is constant), as ``scipy.stats.spearmanr(x, y).statistic``."""
    rx, ry = _ranks(np.asarray(x, dtype=float)), _ranks(np.asarray(y, dtype=float))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float(np.dot(rx, rx)) * float(np.dot(ry, ry)))
    return float("nan") if den == 0.0 else min(max(float(np.dot(rx, ry)) / den, -1.0), 1.0)


def _ranks(a: np.ndarray) -> np.ndarray:
    """1-based ranks of ``a``, ties averaged."""
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def scorecard(runs: Sequence[RunSummary]) -> Scorecard:
    """P1–P6 and S for already summarised runs."""
    preds = [_p1(runs), _p2(runs), _p3(runs), _p4(runs), _p5(runs), _p6(runs)]
    applicable = [p for p in preds if p.status != "n/a"]
    score = (sum(p.status == "pass" for p in applicable) / len(applicable)) if applicable else None
    return Scorecard(runs=list(runs), predictions=preds, score=score)


def _p1(runs: Sequence[RunSummary]) -> Prediction:
    pts = [(r.weight_decay, r.final_norm) for r in runs
           if r.weight_decay is not None and r.final_norm is not None and r.regime != "diverged"]
    title = "final norm falls as λ grows"
    if len({w for w, _ in pts}) < 3:
        return Prediction(name="P1", title=title, status="n/a",
                          detail=f"needs ≥ 3 distinct λ with a finite final norm, got {len(pts)}")
    w, n = np.array(pts).T
    rho = spearman(w, n)
    ok = rho <= SPEARMAN_MAX
    return Prediction(name="P1", title=title, status="pass" if ok else "fail",
                      detail=f"Spearman ρ(λ, final norm) = {rho:.3f} ({'≤' if ok else '>'} {SPEARMAN_MAX})",
                      numbers={"spearman_rho": rho, "n": len(pts),
                               "pairs": [[float(a), float(b)] for a, b in sorted(pts)]})


def _p2(runs: Sequence[RunSummary]) -> Prediction:
    found = sorted({r.regime for r in runs})
    need = {"weak", "intermediate", "strong"}
    missing = sorted(need - set(found))
    title = "weak, intermediate and strong regimes all present"
    if len(runs) < 3:
        return Prediction(name="P2", title=title, status="n/a", detail=f"needs ≥ 3 runs, got {len(runs)}",
                          numbers={"regimes": found})
    return Prediction(name="P2", title=title, status="fail" if missing else "pass",
                      detail=f"regimes found: {', '.join(found)}" + (f"; missing {', '.join(missing)}" if missing else ""),
                      numbers={"regimes": found,
                               "by_weight_decay": {str(r.weight_decay): r.regime for r in runs}})


def _p3(runs: Sequence[RunSummary]) -> Prediction:
    title = "held-out accuracy best in the intermediate regime"
    by = {k: [r.final_val for r in runs if r.regime == k and r.final_val is not None]
          for k in ("weak", "intermediate", "strong")}
    if not by["intermediate"] or not (by["weak"] or by["strong"]):
        return Prediction(name="P3", title=title, status="n/a",
                          detail="needs held-out accuracy for an intermediate run and a weak or strong run")
    means = {k: float(np.mean(v)) for k, v in by.items() if v}
    best = max((r for r in runs if r.final_val is not None), key=lambda r: r.final_val)
    ok = best.regime == "intermediate" and all(means["intermediate"] > means[k] for k in means if k != "intermediate")
    return Prediction(name="P3", title=title, status="pass" if ok else "fail",
                      detail="mean held-out accuracy " + ", ".join(f"{k} {v:.3f}" for k, v in means.items())
                             + f"; best run λ={best.weight_decay} ({best.regime})",
                      numbers={"mean_by_regime": means, "best_weight_decay": best.weight_decay})


def _p4(runs: Sequence[RunSummary]) -> Prediction:
    title = "head norm flags before the total norm"
    leads = [r.lead_steps for r in runs if r.lead_steps is not None]
    if not leads:
        return Prediction(name="P4", title=title, status="n/a",
                          detail=f"{NO_LEAD}: no run where both the head and the "
                                 "total norm flagged")
    frac = sum(x > 0 for x in leads) / len(leads)
    ok = frac >= MIN_FRACTION
    return Prediction(name="P4", title=title, status="pass" if ok else "fail",
                      detail=f"head earlier in {frac:.0%} of {len(leads)} runs; median lead "
                             f"{float(np.median(leads)):.0f} steps",
                      numbers={"fraction_head_first": frac, "median_lead_steps": float(np.median(leads)),
                               "lead_steps": leads})


def _p5(runs: Sequence[RunSummary]) -> Prediction:
    title = "Clean Norm Separation holds"
    decided = [r.cns_holds for r in runs if r.regime == "intermediate" and r.cns_holds is not None]
    if not decided:
        return Prediction(name="P5", title=title, status="n/a",
                          detail="no intermediate run with a decided CNS (transition not seen)")
    frac = sum(decided) / len(decided)
    ok = frac >= MIN_FRACTION
    return Prediction(name="P5", title=title, status="pass" if ok else "fail",
                      detail=f"CNS holds in {sum(decided)}/{len(decided)} intermediate runs",
                      numbers={"fraction": frac, "n": len(decided)})


def _p6(runs: Sequence[RunSummary]) -> Prediction:
    title = "delay ∝ 1/(ηλ) and ∝ log(V_sc/V_st)/(ηλ)"
    pts = [r for r in runs if r.delay is not None and r.lr and r.weight_decay
           and r.lr > 0 and r.weight_decay > 0]
    if len(pts) < 3:
        return Prediction(name="P6", title=title, status="n/a",
                          detail=f"needs ≥ 3 runs with an observed transition, got {len(pts)}")
    delay = np.array([r.delay for r in pts])
    inv = np.array([1.0 / (r.lr * r.weight_decay) for r in pts])
    fit1 = linear_fit(inv, delay)
    numbers: dict[str, object] = {"inverse_eta_lambda": fit1}
    logs = [(r, math.log(r.v_peak / r.v_st)) for r in pts
            if r.v_peak and r.v_st and r.v_peak > r.v_st > 0]
    best = fit1["r2"]
    detail = f"vs 1/(ηλ): slope {fit1['slope']:.3g}, R² {fit1['r2']:.3f}"
    if len(logs) >= 3:
        x = np.array([lg / (r.lr * r.weight_decay) for r, lg in logs])
        y = np.array([r.delay for r, _ in logs])
        fit2 = linear_fit(x, y)
        numbers["log_ratio_over_eta_lambda"] = fit2
        best = max(best, fit2["r2"])
        detail += f"; vs log(V_sc/V_st)/(ηλ): slope {fit2['slope']:.3g}, R² {fit2['r2']:.3f}"
    ok = best >= DELAY_R2_MIN
    return Prediction(name="P6", title=title, status="pass" if ok else "fail",
                      detail=detail + f" (pass at R² ≥ {DELAY_R2_MIN})", numbers=numbers)
