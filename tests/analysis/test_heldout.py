"""The held-out accuracy trend in the forecast: its logit as a line in τ, extended to
``done_val_acc``, combined with the norm's forecast by a weighted mean in log (the
trend's share of the precision grows with how far it has climbed from chance); the
``weak`` budget verdict stays the norm's own."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as hst

from nht_monitor.analysis import Analyzer, AnalyzerSettings, wording
from nht_monitor.analysis.forecast import (
    fit_log_decay,
    forecast_transition,
    heldout_progress,
    floor_bound,
    heldout_trend,
    law_floor,
    law_parts,
    trend_weight,
)
from nht_monitor.analysis.series import series_from_samples
from nht_monitor.runlog.schema import RunHeader
from tests.analysis.synthetic import fit_acc, fit_loss, make_run
from tests.analysis.test_belief import mixture_reference

LR, WD, FIT = 1e-3, 1.0, 200
TARGET = math.log(0.9 / 0.1)


def _header(budget: int | None = None, norms: list[str] | None = None) -> RunHeader:
    """A header with ``budget`` steps, the model's normalization layers ``norms``
    (``None``: not recorded)."""
    config = {} if budget is None else {"budget_steps": budget}
    return RunHeader(run_id="heldout", started_at="2026-12-03T00:00:00Z",
                     model={"class_name": "M", "n_params": 1, "normalization": norms},
                     layers=["a"], config=config)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _run(steps: int, val_of, *, rate: float = 0.3, every: int = 10):
    """Fit at step 200, then the norm decays at ``rate`` per τ; held-out accuracy every
    ``every`` steps from ``val_of(step, tau)``."""
    def norm_of(s: int, t: float) -> float:
        return 10.0 + 20.0 * s / FIT if s <= FIT else 30.0 * math.exp(-rate * (t - FIT * LR))

    samples = make_run(norm_of, steps=steps, lr=LR, weight_decay=WD, acc_of=fit_acc(FIT),
                       loss_of=fit_loss(FIT))
    for s in samples:
        if s.step % every == 0:
            s.metrics["val_acc"] = val_of(s.step, s.tau)
    return samples


def _line(a: float, b: float):
    """Held-out logit a + b·τ after the fit; chance before it."""
    return lambda s, t: _logistic(a + b * t) if s > FIT else 0.01


def _on_line(a: float, b: float, steps: int, st: AnalyzerSettings):
    """``(samples, series, start, tau_now)`` of a run whose held-out logit follows
    :func:`_line`; ``start`` the fit's row, ``tau_now`` the last τ."""
    samples = _run(steps, _line(a, b))
    s = series_from_samples(samples, st)
    return samples, s, int(np.searchsorted(s.step, FIT)), float(s.tau[-1])


def test_the_trend_reaches_done_val_acc_where_the_logit_line_does():
    """Exact on a logit-linear held-out accuracy: Δτ = (logit 0.9 − logit now) / slope,
    against a float64 least-squares line by the normal equations."""
    a, b = -4.0, 2.5
    st = AnalyzerSettings()
    samples, s, start, tau_now = _on_line(a, b, 1500, st)
    trend = heldout_trend(s, start, tau_now, st)
    assert trend is not None
    assert trend.slope == pytest.approx(b, rel=1e-9)
    assert trend.d_tau == pytest.approx((TARGET - (a + b * tau_now)) / b, rel=1e-9)
    c0, c1 = _line_fit(s, start, tau_now)
    assert trend.slope == pytest.approx(c1, rel=1e-9)
    assert trend.d_tau == pytest.approx((TARGET - c0) / c1, rel=1e-9)
    assert trend.n == _trend_rows(s, start).shape[0]


def _trend_rows(s, start: int) -> np.ndarray:
    """The rows the trend fits: the last half of the held-out evaluations from ``start``,
    or the last ``heldout_min_evals`` (5) while the half holds fewer."""
    rows = np.nonzero(np.isfinite(s.val[start:]))[0] + start
    least = AnalyzerSettings().heldout_min_evals
    return rows[-max(rows.shape[0] - rows.shape[0] // 2, least):]


def _line_fit(s, start: int, tau_now: float) -> tuple[float, float]:
    """Brute force: ``(intercept, slope)`` of the held-out logit's line through the
    trend's evaluations by the normal equations, in float64."""
    rows = _trend_rows(s, start)
    x = s.tau[rows] - tau_now
    acc = np.clip(s.val[rows], 1e-3, 0.999)
    y = np.log(acc / (1 - acc))
    design = np.column_stack([np.ones_like(x), x]).astype(np.float64)
    c0, c1 = np.linalg.solve(design.T @ design, design.T @ y)
    return float(c0), float(c1)


def test_the_trend_comes_no_sooner_than_the_next_evaluation():
    """A line already past 0.9 between evaluations (every 10 steps) puts the transition at
    the next evaluation: one interval after the *last* one, not after now — 2 steps from
    step 298 (τ 0.002 at ηλ = 1e-3), not 10 (the Optuna test's healthy trial, which groks
    at its last step, was `weak` at steps 298–299 with the floor counted from now)."""
    st = AnalyzerSettings()
    samples = _run(1498, _line(-8.0, 11.0))  # logit 0.9 crossed near τ 0.93, step ~930
    s = series_from_samples(samples, st)
    trend = heldout_trend(s, int(np.searchsorted(s.step, FIT)), float(s.tau[-1]), st)
    assert trend is not None
    last_eval, now = 1490, 1498
    assert trend.d_tau == pytest.approx((last_eval + 10 - now) * LR * WD, rel=1e-6)
    overdue = _run(1511, _line(-8.0, 11.0))  # now 1511; the evaluation of 1510 missing:
    overdue[1510 - 1].metrics.pop("val_acc")  # the next one is due already → 0
    s = series_from_samples(overdue, st)
    trend = heldout_trend(s, int(np.searchsorted(s.step, FIT)), float(s.tau[-1]), st)
    assert trend is not None and trend.d_tau == 0.0


def test_no_trend_without_a_clear_rise():
    st = AnalyzerSettings()

    def trend_of(samples):
        s = series_from_samples(samples, st)
        return heldout_trend(s, int(np.searchsorted(s.step, FIT)), float(s.tau[-1]), st)

    assert trend_of(_run(1500, lambda s, t: 0.02)) is None  # flat at chance
    assert trend_of(_run(1500, _line(-4.0, -1.0))) is None  # falling
    rng = np.random.default_rng(0)
    noise = {step: rng.normal(0, 0.5) for step in range(0, 1501, 10)}
    # a rise of 0.02 in logit per τ under noise of 0.5: nowhere near 3 standard errors
    assert trend_of(_run(1500, lambda s, t: _logistic(-4 + 0.02 * t + noise[s]))) is None
    assert trend_of(_run(FIT + 30, _line(-4.0, 2.5))) is None  # 4 evaluations from the fit


def test_the_trend_reads_at_least_its_minimum_of_evaluations():
    """Seven evaluations from the fit (steps 200–260): the last half holds 3, fewer than
    ``heldout_min_evals`` (5), so the line runs through the last 5 — the slope of float64
    least squares there; with 13, through the last half, 7."""
    st = AnalyzerSettings()
    for steps, n in ((FIT + 60, 5), (FIT + 120, 7)):
        s = series_from_samples(_run(steps, _line(-4.0, 2.5)), st)
        start = int(np.searchsorted(s.step, FIT))
        tau_now = float(s.tau[-1])
        trend = heldout_trend(s, start, tau_now, st)
        assert trend is not None and trend.n == n == _trend_rows(s, start).shape[0]
        assert trend.slope == pytest.approx(_line_fit(s, start, tau_now)[1], rel=1e-9)


def _progress(a: float, b: float, tau_now: float) -> float:
    """Brute force: the share of the logit way from the first evaluation (0.01, chance)
    to 0.9 that the line a + b·τ has climbed by ``tau_now``."""
    first = math.log(0.01 / 0.99)
    return min(max((a + b * tau_now - first) / (TARGET - first), 0.0), 1.0)


def test_trend_weight_is_the_trends_share_of_the_precision():
    """Against the precisions written out: law 1/sd_law², trend (1+p)/(1−p)/sd_trend²."""
    for p in (0.0, 0.3, 0.75, 0.99):
        for sd_law, sd_trend in ((0.71, 0.71), (0.2, 0.71), (0.71, 0.3)):
            law, trend = sd_law ** -2, (1 + p) / (1 - p) / sd_trend ** 2
            assert trend_weight(p, sd_law, sd_trend) == pytest.approx(trend / (law + trend),
                                                                      rel=1e-12)
    assert trend_weight(0.0, 0.71, 0.71) == 0.5  # the geometric mean at chance
    assert trend_weight(0.5, None, None) == pytest.approx(0.75)
    assert trend_weight(1.0, 0.71, 0.71) == 1.0
    # sweep references narrow the law's prior: the trend counts for less
    assert trend_weight(0.5, 0.2, 0.71) < trend_weight(0.5, 0.71, 0.71)


def test_the_forecast_is_the_weighted_mean_and_its_spread_shrinks():
    a, b = -3.0, 3.0
    on, off = AnalyzerSettings(), AnalyzerSettings(heldout_trend=False)
    samples, s, start, tau_now = _on_line(a, b, 1200, on)
    args = (s, start, float(s.norm[-1]), 30.0, tau_now, None)
    both = forecast_transition(*args, on, use_rate=False)
    norm = forecast_transition(*args, off, use_rate=False)
    trend = heldout_trend(s, start, tau_now, on)
    assert both.method == "law+heldout" and norm.method == "law"
    p = _progress(a, b, tau_now)
    assert 0.2 < p < 0.9
    assert trend.progress == pytest.approx(p, rel=1e-9)
    assert trend.d_tau < norm.d_tau and not both.heldout.later  # the trend says sooner
    w = (1 + p) / (1 - p) / ((1 + p) / (1 - p) + 1)  # equal log-sds: 1/sd² cancels
    assert both.heldout.weight == pytest.approx(w, rel=1e-9)
    assert both.d_tau == pytest.approx(norm.d_tau ** (1 - w) * trend.d_tau ** w, rel=1e-9)
    step_now = float(s.step[-1])
    lo_n, hi_n = (x - step_now for x in norm.transition.interval)
    lo_b, hi_b = (x - step_now for x in both.transition.interval)
    med_n = norm.transition.forecast_step - step_now
    med_b = both.transition.forecast_step - step_now
    # constant τ rate: steps ∝ Δτ; the upper log-width is heldout_interval_scale × √(1 − w)
    # of the norm's, and the early end the earlier of the norm's own and the combined one's
    k = on.heldout_interval_scale * math.sqrt(1 - w)
    assert math.log(hi_b / med_b) == pytest.approx(math.log(hi_n / med_n) * k, rel=1e-6)
    assert lo_b == pytest.approx(min(lo_n, med_b * (lo_n / med_n) ** k), rel=1e-6)


@pytest.mark.parametrize("scale", [1.0, 0.75, 0.5])
def test_the_interval_scale_narrows_only_around_the_trend_combined_median(scale):
    """``heldout_interval_scale`` multiplies the combined interval's log-widths; the median
    stays; with the scale 1 the widths are √(1 − w) of the norm's alone."""
    a, b = -3.0, 3.0
    st = AnalyzerSettings(heldout_interval_scale=scale)
    samples, s, start, tau_now = _on_line(a, b, 1200, st)
    args = (s, start, float(s.norm[-1]), 30.0, tau_now, None)
    plain = forecast_transition(*args, AnalyzerSettings(heldout_interval_scale=1.0),
                                use_rate=False)
    scaled = forecast_transition(*args, st, use_rate=False)
    assert scaled.d_tau == plain.d_tau and scaled.heldout.weight == plain.heldout.weight
    now = float(s.step[-1])
    med = scaled.transition.forecast_step - now
    assert med == pytest.approx(plain.transition.forecast_step - now, rel=1e-12)
    hi_p, hi_s = (f.transition.interval[1] - now for f in (plain, scaled))
    assert math.log(hi_s / med) == pytest.approx(scale * math.log(hi_p / med), rel=1e-6)
    with pytest.raises(ValueError):
        AnalyzerSettings(heldout_interval_scale=0.0)
    with pytest.raises(ValueError):
        AnalyzerSettings(heldout_interval_scale=2.5)


def test_the_budget_verdict_reads_the_early_end_before_the_narrowing():
    """``budget_unnarrowed``: the budget quantile's step (what ``weak`` from the budget
    and a sweep's early stop read) is the early end at log-width √(1 − w) of the norm's,
    as with the scale 1, however ``heldout_interval_scale`` narrows the interval; a
    widening scale widens both; off, the narrowed interval's early end."""
    samples, s, start, tau_now = _on_line(-3.0, 4.0, 900, AnalyzerSettings())
    args = (s, start, float(s.norm[-1]), 30.0, tau_now, None)

    def made(**kw):
        return forecast_transition(*args, AnalyzerSettings(**kw), use_rate=False)

    whole = made(heldout_interval_scale=1.0)
    narrow = made(heldout_interval_scale=0.5)
    assert narrow.heldout.weight > 0
    assert narrow.transition.interval[0] > whole.transition.interval[0]  # narrowed
    assert narrow.budget_step == pytest.approx(whole.budget_step, rel=1e-12)
    assert whole.budget_step == pytest.approx(whole.transition.interval[0], rel=1e-12)
    old = made(heldout_interval_scale=0.5, budget_unnarrowed=False)
    assert old.budget_step == pytest.approx(narrow.transition.interval[0], rel=1e-12)
    assert old.budget_step > narrow.budget_step
    wide = made(heldout_interval_scale=1.5)
    assert wide.budget_step == pytest.approx(wide.transition.interval[0], rel=1e-12)
    assert wide.budget_step < whole.budget_step


@pytest.mark.parametrize("normalized", [1.2, 0.9, None])
def test_a_model_with_normalization_layers_gets_its_own_interval_scale(normalized):
    """``heldout_interval_scale_normalized`` replaces ``heldout_interval_scale`` when the
    header records normalization layers (none recorded, or not recorded at all: the plain
    scale; ``None``: the plain scale for every model). Same median; the upper log-width
    scales by their ratio."""
    st = AnalyzerSettings(heldout_interval_scale_normalized=normalized)
    plain_scale = st.heldout_interval_scale
    samples, s, start, tau_now = _on_line(-3.0, 3.0, 1200, st)
    said = {}
    for norms in ([], None, ["LayerNorm"], ["BatchNorm1d", "LayerNorm"]):
        analyzer = Analyzer(_header(budget=4000, norms=norms), st)
        ln = bool(norms) and normalized is not None
        assert analyzer.settings.heldout_interval_scale == (normalized if ln else plain_scale)
        said[str(norms)] = analyzer.analyze(samples).transition
    plain, ln = said["[]"], said["['LayerNorm']"]
    assert said["None"] == plain and said["['BatchNorm1d', 'LayerNorm']"] == ln
    now = float(s.step[-1])
    med = plain.forecast_step - now
    assert ln.forecast_step - now == pytest.approx(med, rel=1e-12)
    ratio = (normalized or plain_scale) / plain_scale
    assert math.log((ln.interval[1] - now) / med) == pytest.approx(
        ratio * math.log((plain.interval[1] - now) / med), rel=1e-6)
    for bad in (0.0, 2.5):
        with pytest.raises(ValueError):
            AnalyzerSettings(heldout_interval_scale_normalized=bad)


def test_sweep_references_leave_the_trend_its_weight_against_the_law():
    """A sweep calibration narrows the law's log-sd; the trend's (``heldout_log_sd``)
    narrows with it, so the trend keeps the weight it has against the uncalibrated prior
    while the law part of the forecast moves to the calibrated median."""
    from nht_monitor.analysis.sweep import SweepCalibration
    a, b = -3.0, 3.0
    samples = _run(1200, _line(a, b))
    for st in (AnalyzerSettings(), AnalyzerSettings(heldout_log_sd=0.4)):
        calibrated = SweepCalibration(references=(), delay_tau=2.0, delay_log_sd=0.2).apply(st)
        assert calibrated.delay_log_sd == 0.2
        assert calibrated.heldout_log_sd == pytest.approx(
            (st.heldout_log_sd or st.delay_log_sd) * 0.2 / st.delay_log_sd)
        s = series_from_samples(samples, st)
        start = int(np.searchsorted(s.step, FIT))
        tau_now = float(s.tau[-1])
        args = (s, start, float(s.norm[-1]), 30.0, tau_now, None)
        plain = forecast_transition(*args, st, use_rate=False).heldout
        narrowed = forecast_transition(*args, calibrated, use_rate=False).heldout
        assert not plain.later and not narrowed.later
        assert narrowed.weight == pytest.approx(plain.weight, rel=1e-12)
        assert plain.weight == pytest.approx(trend_weight(
            plain.progress, st.delay_log_sd, st.heldout_log_sd or st.delay_log_sd))


def _forecasts_of_a_slow_climb(st: AnalyzerSettings):
    """``(samples, series, start, tau_now, forecast, norm-only forecast)`` of the slow
    climb: held-out logit −4.5 + 0.6·τ (0.9 some Δτ 10 on), 1,500 steps."""
    samples, s, start, tau_now = _on_line(-4.5, 0.6, 1500, st)
    args = (s, start, float(s.norm[-1]), 30.0, tau_now, None)
    return (samples, s, start, tau_now, forecast_transition(*args, st, use_rate=False),
            forecast_transition(*args, st.model_copy(update={"heldout_trend": False}),
                                use_rate=False))


def test_a_trend_pointing_later_than_the_norm_counts_as_at_chance():
    """Without ``heldout_later_weight``, a slow climb (logit up 0.6/τ from 0.01: 0.9
    some Δτ 10 on) has progress > 0 but points beyond the norm's forecast: its weight is
    that of p = 0 (½ here), and the reason says so."""
    # a climb of < 0.02 of accuracy: heldout_min_gain's gate aside
    # its reach (Δτ 10, span 0.65) aside
    st = AnalyzerSettings(heldout_max_reach=None, heldout_min_gain=None,
                          heldout_later_weight=None)
    samples, s, start, tau_now, both, norm = _forecasts_of_a_slow_climb(st)
    trend = both.heldout
    assert trend.progress == pytest.approx(_progress(-4.5, 0.6, tau_now), rel=1e-9)
    assert trend.progress > 0.05
    assert trend.d_tau > norm.d_tau and trend.later
    assert trend.weight == 0.5
    assert both.d_tau == pytest.approx(math.sqrt(norm.d_tau * trend.d_tau), rel=1e-9)
    reasons = " ".join(Analyzer(_header(), st).analyze(samples).reasons)
    assert "later than the norm's: counted as at chance" in reasons


@pytest.mark.parametrize("weight", [0.0, 0.25, 0.6])
def test_a_trend_pointing_later_than_the_norm_weighs_heldout_later_weight(weight):
    """With ``heldout_later_weight`` (0.25 by default) the same slow climb weighs that
    much: the median is norm^(1 − w) · trend^w in Δτ, the 80 % interval's log-widths
    √(1 − w) of the norm's (× ``heldout_interval_scale`` when w > 0), and the reason
    says it was down-weighted (a trend pointing earlier keeps its progress weight: the
    property test below)."""
    st = AnalyzerSettings(heldout_max_reach=None, heldout_min_gain=None,
                          heldout_later_weight=weight)
    samples, s, start, tau_now, both, norm = _forecasts_of_a_slow_climb(st)
    trend = both.heldout
    assert trend.later and trend.weight == weight
    assert both.d_tau == pytest.approx(norm.d_tau ** (1 - weight) * trend.d_tau ** weight,
                                       rel=1e-9)
    spread = math.sqrt(1 - weight) * (st.heldout_interval_scale if weight > 0 else 1.0)
    lo_norm, hi_norm = (x - float(s.step[-1]) for x in norm.transition.interval)
    lo, hi = (x - float(s.step[-1]) for x in both.transition.interval)
    steps, steps_norm = both.transition.steps_remaining, norm.transition.steps_remaining
    # on a constant τ rate the steps are Δτ over that rate: ratios carry over
    assert hi / steps == pytest.approx((hi_norm / steps_norm) ** spread, rel=1e-6)
    assert lo <= steps * (lo_norm / steps_norm) ** spread * (1 + 1e-9)
    reasons = " ".join(Analyzer(_header(), st).analyze(samples).reasons)
    assert "later than the norm's: down-weighted" in reasons
    assert AnalyzerSettings().heldout_later_weight == 0.25


def test_weak_needs_both_forecasts_beyond_the_budget():
    """A held-out trend pointing far beyond the budget does not make a run ``weak`` (the
    norm's interval still reaches into it); one about to reach 0.9 keeps a run
    ``intermediate`` whose norm alone would be ``weak``."""
    slow = _run(1500, _line(-6.0, 0.3), rate=0.3)  # 0.9 only Δτ ≈ 26 on
    # a climb of < 0.02 of accuracy: heldout_min_gain's gate aside
    # combined, however far it reaches, at weight ½ (at chance): its median past the budget
    st = AnalyzerSettings(heldout_max_reach=None, heldout_min_gain=None,
                          heldout_later_weight=None)
    off = st.model_copy(update={"heldout_trend": False})
    with_trend = Analyzer(_header(budget=4000), st).analyze(slow)
    without = Analyzer(_header(budget=4000), off).analyze(slow)
    assert with_trend.regime == without.regime == "intermediate"
    assert "held-out accuracy's logit" in " ".join(with_trend.reasons)
    assert with_trend.transition.forecast_step > 4000 > without.transition.forecast_step
    # held-out accuracy about to reach 0.9; the norm's own interval starts past a
    # 1,570-step budget
    about_to = _run(1500, _line(2.197 - 5 * 1.501, 5.0), rate=0.3)
    tight = Analyzer(_header(budget=1570), st).analyze(about_to)
    tight_off = Analyzer(_header(budget=1570), off).analyze(about_to)
    assert tight_off.regime == "weak" and tight.regime == "intermediate"
    assert tight.transition.forecast_step < 1570 < tight_off.transition.interval[0]


def test_bad_heldout_settings_fail_at_construction():
    for bad in ({"heldout_min_evals": 3}, {"heldout_min_t": -1}):
        with pytest.raises(ValueError):
            AnalyzerSettings(**bad)


@given(a=hst.floats(-6.0, 0.0), b=hst.floats(0.5, 20.0), every=hst.sampled_from([1, 7, 25]))
@hsettings(max_examples=40, deadline=None)
def test_property_the_trend_is_exact_on_any_logit_line(a, b, every):
    """For any logit-linear held-out accuracy still below 0.9 (and above the 0.001 clip),
    the trend's slope is b and its Δτ the closed form; the combined forecast's Δτ lies
    between the norm's and the trend's (their weighted mean in log)."""
    steps = 900
    tau_end = steps * LR * WD
    assume(a + b * tau_end < TARGET - 1e-3)  # not yet at 0.9 at the end
    assume(_logistic(a + b * FIT * LR) > 2e-3)  # above the clip
    samples = _run(steps, _line(a, b), every=every)
    st = AnalyzerSettings(heldout_min_gain=None)  # the math; the gate has its own test
    s = series_from_samples(samples, st)
    start = int(np.searchsorted(s.step, FIT))
    tau_now = float(s.tau[-1])
    trend = heldout_trend(s, start, tau_now, st)
    rows = _trend_rows(s, start)
    if rows.shape[0] < st.heldout_min_evals:
        assert trend is None
        return
    assert trend is not None
    assert trend.slope == pytest.approx(b, rel=1e-6)
    step_tau = float(np.median(np.diff(s.tau[rows])))
    next_eval = float(s.tau[rows[-1]]) + step_tau - tau_now  # the last sample may
    # come after the last evaluation (every = 7, 25)
    assert trend.d_tau == pytest.approx(max((TARGET - (a + b * tau_now)) / b, next_eval),
                                        rel=1e-6)
    args = (s, start, float(s.norm[-1]), 30.0, tau_now, None)
    both = forecast_transition(*args, st, use_rate=False)
    norm = forecast_transition(*args, st.model_copy(update={"heldout_trend": False}),
                               use_rate=False)
    later = trend.d_tau >= norm.d_tau
    span = float(np.ptp(s.tau[_trend_rows(s, start)]))
    far = trend.d_tau > st.heldout_max_reach * span
    assert trend.span == pytest.approx(span, rel=1e-12)
    w = (0.0 if far else st.heldout_later_weight if later
         else trend_weight(_progress(a, b, tau_now), 1.0, 1.0))
    assert both.heldout.later == later and both.heldout.far == far
    assert both.heldout.weight == pytest.approx(w, rel=1e-6)
    assert both.d_tau == pytest.approx(norm.d_tau ** (1 - w) * trend.d_tau ** w, rel=1e-9)
    assert min(norm.d_tau, trend.d_tau) * (1 - 1e-9) <= both.d_tau
    assert both.d_tau <= max(norm.d_tau, trend.d_tau) * (1 + 1e-9)


def _held_up_run(steps: int, val_of=None, *, every: int = 10):
    """Fit at step 200, then a norm that barely moves (−0.01/τ: no post-fit decay, V_sc
    at the fit); held-out accuracy every ``every`` steps from ``val_of`` (none without)."""
    def norm_of(s: int, t: float) -> float:
        return 10.0 + 20.0 * s / FIT if s <= FIT else 30.0 * math.exp(-0.01 * (t - FIT * LR))

    samples = make_run(norm_of, steps=steps, lr=LR, weight_decay=WD, acc_of=fit_acc(FIT),
                       loss_of=fit_loss(FIT))
    if val_of is not None:
        for s in samples:
            if s.step % every == 0:
                s.metrics["val_acc"] = val_of(s.step, s.tau)
    return samples


def test_a_rising_heldout_accuracy_forecasts_a_held_up_norm():
    """No post-fit decay yet, but held-out accuracy climbing on a clear trend:
    ``intermediate`` with the combined forecast (without the trend: no forecast, the
    transition only expected, ``room_while_held``)."""
    samples = _held_up_run(900, _line(-5.0, 6.0))
    on = Analyzer(_header(budget=4000), AnalyzerSettings()).analyze(samples)
    off = Analyzer(_header(budget=4000), AnalyzerSettings(heldout_trend=False)).analyze(samples)
    assert off.regime == "intermediate" and off.transition.forecast_step is None
    assert "room_while_held" in off.findings
    assert "room_while_held" not in on.findings
    assert on.regime == "intermediate" and on.transition.status in ("pending", "imminent")
    assert "held-out accuracy's logit" in " ".join(on.reasons)
    s = series_from_samples(samples, AnalyzerSettings())
    start = int(np.searchsorted(s.step, FIT))
    law = forecast_transition(s, start, float(s.norm[-1]), 30.0, float(s.tau[-1]), None,
                              AnalyzerSettings(heldout_trend=False), use_rate=False)
    assert on.transition.forecast_step < law.transition.forecast_step  # pulled in


def test_the_held_up_verdict_reads_the_bent_trend_once_heldout_accuracy_has_come_far():
    """A norm held up since the fit, a 1,200-step budget, held-out logit −4 + Δτ + 6·Δτ²
    since the fit (0.12 at step 700 and accelerating): the line through the last half of
    its evaluations reaches 0.9 beyond the budget, the bent trend before it. With
    ``held_verdict_bend_progress`` below the trend's progress the budget verdict reads the
    bent trend (``intermediate``, with its forecast); above it, or ``None``, the line
    (``weak``, beyond the budget)."""
    def val(s: int, t: float) -> float:
        x = t - FIT * LR
        return _logistic(-4.0 + x + 6.0 * x * x) if s > FIT else 0.01

    samples = _held_up_run(700, val)
    st = AnalyzerSettings()
    s = series_from_samples(samples, st)
    trend = heldout_trend(s, int(np.searchsorted(s.step, FIT)), float(s.tau[-1]), st)
    assert trend is not None and trend.curvature > 0
    assert 0.3 < trend.progress < 0.45 and st.held_verdict_bend_progress == 0.35

    def regime(progress: float | None):
        settings = st.model_copy(update={"held_verdict_bend_progress": progress})
        return Analyzer(_header(budget=1200), settings).analyze(samples)

    for bent in (regime(0.0), regime(trend.progress - 0.05),
                 regime(st.held_verdict_bend_progress)):
        assert bent.regime == "intermediate" and "held_up" in bent.findings
        assert bent.transition.forecast_step is not None
    for line in (regime(None), regime(trend.progress + 0.05), regime(1.0)):
        assert line.regime == "weak" and "too_late" in line.findings


def test_weak_from_the_laws_prior_waits_for_the_heldout_trend():
    """Right after the fit the law's prior alone puts even its early end past a
    1,000-step budget: not ``weak`` while held-out accuracy has fewer than
    2 × ``heldout_min_evals`` evaluations since the fit, ``weak`` once it has them and
    shows no trend, and at once in a run that logs no held-out accuracy."""
    st = AnalyzerSettings()
    needed = 2 * st.heldout_min_evals
    flat = lambda s, t: 0.02  # noqa: E731
    early = Analyzer(_header(budget=1000), st).analyze(_held_up_run(FIT + 10 * (needed - 2), flat))
    assert early.regime == "undetermined"
    assert f"of the {needed} evaluations since the fit" in " ".join(early.reasons)
    later = Analyzer(_header(budget=1000), st).analyze(_held_up_run(FIT + 10 * needed, flat))
    assert later.regime == "weak" and later.transition.status == "not_expected"
    blind = Analyzer(_header(budget=1000), st).analyze(_held_up_run(FIT + 10 * (needed - 2)))
    assert blind.regime == "weak"
    off = Analyzer(_header(budget=1000), AnalyzerSettings(heldout_trend=False)).analyze(
        _held_up_run(FIT + 10 * (needed - 2), flat))
    assert off.regime == "weak"


def _regrowing_run(steps: int, a: float, b: float):
    """danielmamay/grokking's shape: fit at step 200, the norm comes down 18 % by step
    600, then grows again past its old peak (renewing V_sc at every step) while
    held-out accuracy climbs on the logit line a + b·τ every 10 steps."""
    def norm_of(s: int, t: float) -> float:
        if s <= FIT:
            return 10.0 + 20.0 * s / FIT
        if s <= 600:
            return 30.0 * math.exp(-0.5 * (t - FIT * LR))
        return 30.0 * math.exp(-0.2) * math.exp(0.6 * (t - 0.6))

    samples = make_run(norm_of, steps=steps, lr=LR, weight_decay=WD, acc_of=fit_acc(FIT),
                       loss_of=fit_loss(FIT))
    for s in samples:
        if s.step % 10 == 0:
            s.metrics["val_acc"] = _line(a, b)(s.step, s.tau)
    return samples


def test_a_norm_growing_again_keeps_the_heldout_trend_read_since_the_fit():
    """The norm grows again after coming down, so V_sc is renewed at every step and the
    law's prior restarts from now: its early end (Δτ ≈ 1 on) lies past a 1,900-step budget.
    Held-out accuracy, read since the fit (not since the renewed V_sc), is at 0.73 and
    reaches 0.9 by step ~1,800: the run is ``intermediate`` with the trend's forecast, not
    ``weak`` — and the interval's early end is never later than the trend's own."""
    a, b = -5.0, 4.0
    samples = _regrowing_run(1500, a, b)
    st = AnalyzerSettings()
    s = series_from_samples(samples, st)
    assert s.norm[-1] > 30.0  # past its old peak: V_sc is the last sample
    result = Analyzer(_header(budget=1900), st).analyze(samples)
    assert result.regime == "intermediate", result.reasons
    assert "held-out accuracy's logit" in " ".join(result.reasons)
    d_tau = (TARGET - (a + b * float(s.tau[-1]))) / b  # the trend's own, ≈ 0.3
    low, high = result.transition.interval
    assert low <= 1500 + d_tau / (LR * WD) + 1e-6 < 1900
    off = Analyzer(_header(budget=1900), st.model_copy(update={"heldout_trend": False}))
    assert off.analyze(samples).regime == "weak"


def _growing_run(steps: int, val_of):
    """Fit at step 200, then a norm that keeps growing (+0.08/τ: it never comes down, as
    with a small initialisation through grokking); held-out accuracy every 10 steps."""
    def norm_of(s: int, t: float) -> float:
        return 10.0 + 20.0 * s / FIT if s <= FIT else 30.0 * math.exp(0.08 * (t - FIT * LR))

    samples = make_run(norm_of, steps=steps, lr=LR, weight_decay=WD, acc_of=fit_acc(FIT),
                       loss_of=fit_loss(FIT))
    for s in samples:
        if s.step % 10 == 0:
            s.metrics["val_acc"] = val_of(s.step, s.tau)
    return samples


def test_a_rising_heldout_trend_keeps_a_growing_norm_out_of_weak():
    """A norm that grew for Δτ 2.5 since the fit (past ``weak_min_tau_after_fit``) is
    ``weak`` by the time rule while held-out accuracy stays at chance, but
    ``intermediate`` with the law + trend forecast while it climbs on a significant trend
    whose own line reaches 0.9 within the budget (here Δτ 2.76 from step 2,700: step
    ≈ 5,460); ``weak`` again when that line reaches it only past the budget, and without
    the held-out trend."""
    st = AnalyzerSettings()
    steps = FIT + 2500
    rising = _growing_run(steps, _line(-6.0, 1.5))
    flat = _growing_run(steps, lambda s, t: 0.02)
    s = series_from_samples(rising, st)
    assert heldout_trend(s, int(np.searchsorted(s.step, FIT)), float(s.tau[-1]), st) is not None
    on = Analyzer(_header(budget=20000), st).analyze(rising)
    assert on.regime == "intermediate", on.reasons
    assert on.transition.forecast_step is not None and on.transition.forecast_step > steps
    assert "held-out accuracy's logit" in " ".join(on.reasons)
    assert Analyzer(_header(budget=20000), st).analyze(flat).regime == "weak"
    short = Analyzer(_header(budget=5000), st).analyze(rising)
    assert short.regime == "weak" and "held_up" in short.findings, short.reasons
    assert Analyzer(_header(budget=6000), st).analyze(rising).regime == "intermediate"
    off = AnalyzerSettings(heldout_trend=False)
    assert Analyzer(_header(budget=20000), off).analyze(rising).regime == "weak"


@given(a=hst.floats(-7.0, -3.0), b=hst.floats(0.5, 3.0), budget=hst.integers(3000, 30000))
@hsettings(max_examples=30, deadline=None)
def test_property_the_time_rule_waits_exactly_while_the_trend_reaches_the_budget(a, b, budget):
    """On a norm grown for Δτ 2.5 since the fit with a held-out logit on the line a + b·τ:
    the time rule's ``weak`` (no ``too_late``) comes iff that line, extended from the last
    evaluation (closed form, float64), reaches 0.9 only past the budget."""
    st = AnalyzerSettings(heldout_min_gain=None)  # the math; the gate has its own test
    steps = FIT + 2500
    samples = _growing_run(steps, _line(a, b))
    s = series_from_samples(samples, st)
    tau_now = float(s.tau[-1])
    assume(a + b * tau_now < TARGET - 0.5)  # well short of 0.9 at the end
    first = math.log(0.01 / 0.99)  # and short of heldout_near_done's 0.8 of the way
    assume(a + b * (tau_now - 0.05) < first + 0.75 * (TARGET - first))
    half = _trend_rows(s, int(np.searchsorted(s.step, FIT)))
    next_eval = float(s.tau[half[-1]] + np.median(np.diff(s.tau[half])) - tau_now)
    d_tau = max((TARGET - (a + b * tau_now)) / b, next_eval)
    reach = float(s.step[-1]) + d_tau / (LR * WD)
    assume(abs(reach - budget) > 20)  # clear of the boundary's rounding
    a_ = Analyzer(_header(budget=budget), st).analyze(samples)
    time_rule_weak = a_.regime == "weak" and "too_late" not in a_.findings
    assert time_rule_weak == (reach > budget), (reach, budget, a_.reasons)


def test_heldout_progress_is_the_logit_share_of_the_way_to_done():
    """The median of the last ``heldout_min_evals`` evaluations from ``start`` on, as a
    share of the way in logit from the run's first evaluation to ``done_val_acc``
    (float64 by hand); ``None`` with too few evaluations."""
    st = AnalyzerSettings()
    values = [0.02, 0.05, 0.3, 0.8, 0.86, 0.84, 0.88, 0.2, 0.87]
    samples = _run(FIT + 10 * (len(values) - 1),  # the last evaluation is values[-1]
                   lambda s, t: values[s // 10 - FIT // 10] if s >= FIT else 0.02)
    s = series_from_samples(samples, st)
    start = int(np.searchsorted(s.step, FIT))
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    median = float(np.median([0.86, 0.84, 0.88, 0.2, 0.87]))
    want = (logit(median) - logit(0.02)) / (logit(0.9) - logit(0.02))
    assert heldout_progress(s, start, st) == pytest.approx(want, rel=1e-12)
    assert heldout_progress(s, len(s) - 30, st) is None  # three evaluations


def test_heldout_near_done_keeps_a_growing_norm_out_of_weak():
    """A norm grown for Δτ 2.5 since the fit with held-out accuracy hovering at 0.86–0.88
    (no rising trend: it dips) is not ``weak`` by the time rule — the structured
    solution is mostly learnt — but is with the check off or with held-out accuracy at
    0.5 (less than 0.8 of the way in logit from chance)."""
    st = AnalyzerSettings()
    steps = FIT + 2500
    wiggle = [0.87, 0.86, 0.88, 0.84, 0.87, 0.88, 0.86]
    hovering = _growing_run(steps, lambda s, t: 0.01 if s <= FIT
                            else wiggle[(s // 10) % len(wiggle)])
    s = series_from_samples(hovering, st)
    start = int(np.searchsorted(s.step, FIT))
    assert heldout_trend(s, start, float(s.tau[-1]), st) is None
    assert heldout_progress(s, start, st) > st.weak_max_heldout_progress
    near = Analyzer(_header(budget=20000), st).analyze(hovering)
    assert near.regime != "weak", near.reasons
    off = AnalyzerSettings(weak_max_heldout_progress=None)
    assert Analyzer(_header(budget=20000), off).analyze(hovering).regime == "weak"
    halfway = _growing_run(steps, lambda s, t: 0.01 if s <= FIT else 0.5)
    assert Analyzer(_header(budget=20000), st).analyze(halfway).regime == "weak"


def test_a_trend_reaching_far_beyond_its_evaluations_gets_no_weight():
    """The slow climb above reaches 0.9 some Δτ 10 on from evaluations covering Δτ 0.65:
    beyond ``heldout_max_reach`` (8) × that span it gets weight 0, so the median and the
    80 % interval are the norm's own to the digit; it still counts as a trend (the
    method, the reason). Allowed a reach of 20 spans, it weighs ``heldout_later_weight``
    (later than the norm)."""
    st = AnalyzerSettings(heldout_min_gain=None)  # a climb of < 0.02: the gate aside
    samples, s, start, tau_now, gated, norm = _forecasts_of_a_slow_climb(st)
    trend = gated.heldout
    span = float(np.ptp(s.tau[_trend_rows(s, start)]))
    assert trend.span == pytest.approx(span, rel=1e-12)
    assert trend.d_tau > st.heldout_max_reach * span and trend.far
    assert trend.weight == 0.0 and gated.method == "law+heldout"
    assert gated.d_tau == pytest.approx(norm.d_tau, rel=1e-12)
    assert gated.transition.forecast_step == pytest.approx(norm.transition.forecast_step,
                                                           rel=1e-12)
    assert gated.transition.interval == pytest.approx(norm.transition.interval, rel=1e-12)
    reasons = " ".join(Analyzer(_header(), st).analyze(samples).reasons)
    assert "its evaluations cover: no information" in reasons
    wide = _forecasts_of_a_slow_climb(st.model_copy(update={"heldout_max_reach": 20.0}))[4]
    assert trend.d_tau < 20.0 * span and not wide.heldout.far
    assert wide.heldout.weight == st.heldout_later_weight and wide.d_tau > norm.d_tau
    with pytest.raises(ValueError):
        AnalyzerSettings(heldout_max_reach=0)


def test_a_trend_reaching_far_beyond_its_evaluations_does_not_lift_the_laws_floor():
    """The budget verdict's early end yields to the law's floor (``budget_law_floor``)
    unless the held-out trend reaches the transition sooner — a trend that counts: one
    extended beyond ``heldout_max_reach`` × the τ its evaluations cover has weight 0 ("no
    information") and leaves the floor in place, as without a trend. (A public MLP at τ
    budget 0.36 flipped between ``weak`` and ``intermediate`` on such a trend: held-out
    accuracy 0.046, its logit line reaching 0.9 in Δτ 0.6 from evaluations over Δτ 0.04.)"""
    st = AnalyzerSettings(budget_law_floor=True)
    climb = lambda s, t: _logistic(-2.7 + 7.0 * (t - FIT * LR)) if s > FIT else 0.01  # noqa: E731
    samples = _run(300, climb, rate=3.0)
    s = series_from_samples(samples, st)
    start = int(np.searchsorted(s.step, FIT))
    tau_now = float(s.tau[-1])
    fit = fit_log_decay(s.tau[start:], s.norm[start:])
    args = (s, start, float(s.norm[-1]), 30.0, tau_now, fit)
    gated = forecast_transition(*args, st)
    alone = forecast_transition(*args, st.model_copy(update={"heldout_trend": False}))
    trend, floor = gated.heldout, law_floor(gated.elapsed, st)
    assert trend.far and trend.weight == 0.0 and trend.d_tau < floor
    assert alone.least_tau is not None  # the floor decides the norm's own early end
    assert gated.least_tau == pytest.approx(alone.least_tau, rel=1e-12)
    assert gated.budget_step == pytest.approx(alone.budget_step, rel=1e-12)
    # a trend allowed that reach counts, and reaching sooner than the floor, lifts it
    near = forecast_transition(*args, st.model_copy(update={"heldout_max_reach": None}))
    assert not near.heldout.far and near.least_tau is None
    assert near.budget_step < alone.budget_step


def test_the_budget_verdict_on_a_decaying_norm_waits_for_the_heldout_trend():
    """Rule 7b/7c's budget verdict waits for held-out accuracy as rule 7d's does: right
    after the fit, a norm decaying at 3/τ puts even its forecast's early end past a
    330-step budget, yet the run stays ``intermediate`` (forecast kept, the reason says
    it waits) while held-out accuracy has fewer than 2 × ``heldout_min_evals``
    evaluations since the fit; ``weak`` once it has them and shows no trend, and at once
    in a run that logs no held-out accuracy. (One log-normal law prior: the budget sits
    between its early end and the run's step.)"""
    st = AnalyzerSettings(delay_tail_weight=None)
    needed = 2 * st.heldout_min_evals
    flat = lambda s, t: 0.02  # noqa: E731
    early = Analyzer(_header(budget=330), st).analyze(_run(FIT + 10 * (needed - 4), flat,
                                                           rate=3.0))
    assert (early.regime, early.findings[-1]) == ("intermediate", "awaiting_heldout")
    assert early.transition.status == "pending" and early.transition.interval[0] > 330
    assert re.search(rf"not weak yet: held-out accuracy has [0-9] of the {needed} evaluations "
                     "since the fit", " ".join(early.reasons))
    later = Analyzer(_header(budget=330), st).analyze(_run(FIT + 10 * (needed + 2), flat,
                                                           rate=3.0))
    assert later.regime == "weak" and "awaiting_heldout" not in later.findings
    blind = _run(FIT + 10 * (needed - 4), flat, rate=3.0)
    for s in blind:
        s.metrics.pop("val_acc", None)
    assert Analyzer(_header(budget=330), st).analyze(blind).regime == "weak"


def test_the_budget_verdict_does_not_wait_for_heldout_evaluations_once_the_budget_is_spent():
    """A run that fits just before its budget ends: while the budget lasts, the verdict
    waits for held-out accuracy's trend (``awaiting_heldout``, ``intermediate``); at the
    budget's last step no evaluation can come in time, so the run is ``weak``
    (``too_late``) — round 27 had one fitted 17 steps before its end read ``intermediate``
    there."""
    st = AnalyzerSettings()
    steps = FIT + 10 * (2 * st.heldout_min_evals - 4)
    flat = lambda s, t: 0.02  # noqa: E731
    run = _run(steps, flat, rate=3.0)
    before = Analyzer(_header(budget=steps + 1), st).analyze(run)
    assert (before.regime, before.findings[-1]) == ("intermediate", "awaiting_heldout")
    spent = Analyzer(_header(budget=steps), st).analyze(run)
    assert spent.regime == "weak" and "awaiting_heldout" not in spent.findings, spent.reasons
    assert "too_late" in spent.findings


def test_past_an_annealed_plans_end_the_budget_verdict_still_reads_the_trend():
    """A growing norm with held-out accuracy climbing fast: the combined median needs more
    τ than a plan annealed to lr 0 at the budget still holds, the trend's own reach does
    not. The run stays ``intermediate`` (``pending``, no step for the median: the clock
    ends with the plan) instead of ``weak`` from the law's early end alone; ``weak`` once
    the plan holds less than the trend's early end, and without the trend."""
    st = AnalyzerSettings()
    steps = FIT + 2500
    rising = _growing_run(steps, _line(-6.0, 2.5))
    s = series_from_samples(rising, st)
    tau_now = float(s.tau[-1])
    far = forecast_transition(s, len(s) - 1, float(s.norm[-1]), float(s.norm[-1]), tau_now,
                              None, st, trend_start=int(np.searchsorted(s.step, FIT)))
    # (a constant lr: every quantile has a step)
    trend_tau = far.heldout.d_tau
    assert far.heldout.weight > 0.5 and trend_tau < far.d_tau  # the trend leads

    def plan_holding(tau_left: float) -> RunHeader:
        end = steps + round(2 * tau_left / (LR * WD))  # lr falls linearly to 0 by `end`
        return _header(budget=end).model_copy(update={"lr_plan": [(1, LR), (steps, LR),
                                                                  (end, 0.0)]})

    held = Analyzer(plan_holding(0.5 * (trend_tau + far.d_tau)), st).analyze(rising)
    assert held.regime == "intermediate", held.reasons
    assert held.transition.status == "pending" and held.transition.forecast_step is None
    assert "held-out accuracy's logit" in " ".join(held.reasons)
    off = st.model_copy(update={"heldout_trend": False})
    assert Analyzer(plan_holding(0.5 * (trend_tau + far.d_tau)), off).analyze(
        rising).regime == "weak"
    assert Analyzer(plan_holding(0.3 * trend_tau), st).analyze(rising).regime == "weak"


def test_a_heldout_accuracy_on_its_floor_bounds_the_delay_from_below():
    """``heldout_floor_share`` (0.8): held-out accuracy flat at chance since the fit (every
    10 steps): the law's belief is conditioned on Δτ > elapsed / 0.8 instead of elapsed —
    its median and 80 % ends against scipy's log-normal mixture; the reason says so. With
    the share ``None``, or a held-out logit rising off its floor: elapsed alone."""
    st, off = AnalyzerSettings(), AnalyzerSettings(heldout_floor_share=None)
    samples = _run(1500, lambda step, tau: 0.01)
    s = series_from_samples(samples, st)
    start = int(np.searchsorted(s.step, FIT))
    args = (s, start, float(s.norm[-1]), 30.0, float(s.tau[-1]), None)
    bound, plain = (forecast_transition(*args, x, use_rate=False) for x in (st, off))
    elapsed = bound.elapsed
    assert elapsed > 0.5 and bound.floor_tau == pytest.approx(elapsed / 0.8, rel=1e-12)
    assert plain.floor_tau is None
    step_now, per_tau = float(s.step[-1]), 1.0 / (LR * WD)  # constant τ rate
    for forecast, seen in ((bound, elapsed / 0.8), (plain, elapsed)):
        want = [mixture_reference(law_parts(st), seen, q) - elapsed for q in (0.1, 0.5, 0.9)]
        assert forecast.d_tau == pytest.approx(want[1], rel=1e-6)
        got = [forecast.transition.interval[0], forecast.transition.forecast_step,
               forecast.transition.interval[1]]
        assert got == pytest.approx([step_now + w * per_tau for w in want], rel=1e-6)
    assert bound.transition.forecast_step > plain.transition.forecast_step
    reason = next(r for r in Analyzer(_header()).analyze(samples).reasons if "law:" in r)
    assert (f"and none before Δτ {wording.fmt(elapsed / 0.8)} from it (held-out accuracy is "
            "still on its floor, which it leaves by 80% of the delay)") in reason, reason
    # floor_bound itself: too few evaluations, nothing elapsed, off the floor → None
    assert floor_bound(s, len(s) - 3, elapsed, st) is None
    assert floor_bound(s, start, 0.0, st) is None
    _, rising, at, tau_now = _on_line(-3.0, 3.0, 1200, st)
    assert floor_bound(rising, at, tau_now - float(rising.tau[at]), st) is None
