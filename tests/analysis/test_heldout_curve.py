"""The held-out trend that bends (``heldout_curvature``, ``heldout_tangent``): for a
held-out logit that accelerates into its rise, the Δτ to ``done_val_acc`` is the
geometric mean of the line's and the parabola's through the last half of the
evaluations; for one that slows down, its tangent's now; rule 7d's time rule reads the
line.
Checked against exact rational least squares, the normal equations and a bracketing
root finder in float64."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as hst
from scipy.optimize import brentq

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.forecast import (
    _reach,
    fit_parabola,
    forecast_transition,
    heldout_trend,
    recent_line,
)
from nht_monitor.analysis.series import series_from_samples
from tests.analysis.test_heldout import (
    FIT,
    LR,
    TARGET,
    WD,
    _header,
    _held_up_run,
    _line_fit,
    _run,
    _trend_rows,
)

TAU_FIT = FIT * LR * WD


def _exact_parabola(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least squares ``y = a + b·x + c·x²`` by the normal equations in exact rationals
    (Gauss–Jordan on Fractions of the float64 inputs)."""
    xs = [Fraction(float(v)) for v in x]
    ys = [Fraction(float(v)) for v in y]
    rows = [[sum((xi ** (i + j) for xi in xs), Fraction(0)) for j in range(3)]
            + [sum((xi ** i * yi for xi, yi in zip(xs, ys)), Fraction(0))] for i in range(3)]
    for col in range(3):
        pivot = next(r for r in range(col, 3) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for r in range(3):
            if r != col:
                rows[r] = [v - rows[r][col] * p for v, p in zip(rows[r], rows[col])]
    return float(rows[0][3]), float(rows[1][3]), float(rows[2][3])


def _bent(a: float, b: float, c: float):
    """Held-out logit a + b·u + c·u² (u = τ − τ at the fit) after the fit; chance before."""
    return lambda s, t: (1.0 / (1.0 + math.exp(-(a + b * (t - TAU_FIT) + c * (t - TAU_FIT) ** 2)))
                         if s > FIT else 0.01)


def test_fit_parabola_is_the_exact_least_squares_parabola():
    rng = np.random.default_rng(3)
    for n, lo, hi in ((4, -3.0, 0.0), (12, -0.9, -0.01), (40, -250.0, 0.0)):
        x = np.sort(rng.uniform(lo, hi, n))
        y = -4.0 + 0.7 * x + 0.05 * x * x + rng.normal(0, 0.3, n)
        assert fit_parabola(x, y) == pytest.approx(_exact_parabola(x, y), rel=1e-8, abs=1e-12)
    assert fit_parabola(np.array([0.0, 1.0, 2.0]), np.zeros(3)) is None  # < 4 points
    assert fit_parabola(np.array([-1.0, -1.0, 0.0, 0.0]), np.ones(4)) is None  # rank 2


def test_reach_is_the_first_root_of_the_parabola():
    for gap, slope, curvature in ((6.0, 0.5, 0.2), (1e-3, 2.0, 40.0), (3.0, 1e-4, 1e-5),
                                  (5.0, 1.5, 1e-15)):
        root = brentq(lambda u: slope * u + curvature * u * u - gap, 0.0, gap / slope,
                      xtol=1e-14, rtol=1e-14)
        assert _reach(gap, slope, curvature) == pytest.approx(root, rel=1e-10)
    assert _reach(5.0, 2.0, 0.0) == 2.5  # the line's
    assert _reach(0.0, 2.0, 1.0) == 0.0 and _reach(-1.0, 2.0, 1.0) < 0.0  # already there


def test_an_accelerating_heldout_logit_goes_half_way_to_its_parabola():
    """Exact parabola in logit: the trend's curvature is the parabola's, its slope the
    line's, its Δτ the geometric mean of the line's (normal equations) and the
    parabola's root, and its progress read half-way between the two values now; with
    ``heldout_curvature`` off, or ``bend=False``, the line alone."""
    a, b, c = -4.5, 0.5, 1.5
    st = AnalyzerSettings(heldout_min_gain=None)  # the math; the gate has its own test
    samples = _run(1200, _bent(a, b, c))
    s = series_from_samples(samples, st)
    start, tau_now = int(np.searchsorted(s.step, FIT)), float(s.tau[-1])
    u_now = tau_now - TAU_FIT
    trend = heldout_trend(s, start, tau_now, st)
    c0, c1 = _line_fit(s, start, tau_now)
    root = brentq(lambda u: a + b * u + c * u * u - TARGET, u_now, u_now + 100.0, xtol=1e-13)
    d_line, d_bent = (TARGET - c0) / c1, root - u_now
    assert d_bent < d_line
    assert trend is not None
    assert trend.curvature == pytest.approx(c, rel=1e-6)
    assert trend.slope == pytest.approx(c1, rel=1e-9)
    assert trend.d_tau == pytest.approx(math.sqrt(d_line * d_bent), rel=1e-6)
    first = math.log(0.01 / 0.99)
    now = 0.5 * (c0 + a + b * u_now + c * u_now ** 2)
    assert trend.progress == pytest.approx((now - first) / (TARGET - first), rel=1e-6)
    for line in (heldout_trend(s, start, tau_now, st.model_copy(
            update={"heldout_curvature": False})), heldout_trend(s, start, tau_now, st,
                                                                 bend=False)):
        assert line.curvature == 0.0
        assert line.slope == pytest.approx(c1, rel=1e-9)
        assert line.d_tau == pytest.approx(d_line, rel=1e-9)
    both = forecast_transition(s, start, float(s.norm[-1]), 30.0, tau_now, None, st,
                               use_rate=False)
    assert both.heldout.curvature == pytest.approx(c, rel=1e-6)
    reasons = " ".join(Analyzer(_header(), st).analyze(samples).reasons)
    assert "bending upwards" in reasons and "half-way in log" in reasons


def _tangent_now(a: float, b: float, c: float, u_now: float) -> tuple[float, float]:
    """The parabola's value and slope at ``u_now``."""
    return a + b * u_now + c * u_now ** 2, b + 2.0 * c * u_now


def test_a_decelerating_heldout_logit_reads_its_tangent_now():
    """Exact parabola bending downwards, still climbing: the trend's Δτ is its tangent's
    now (the parabola's value and slope at the last sample, extended to the target),
    later than the line's, which stays the trend's early end (``soonest``); its progress
    is read from the parabola's value now; with ``heldout_tangent`` off, the line."""
    a, b, c = -4.5, 4.0, -0.6
    st = AnalyzerSettings(heldout_min_gain=None)  # the math; the gate has its own test
    samples = _run(1200, _bent(a, b, c))  # still rising at the end, slowing
    s = series_from_samples(samples, st)
    start, tau_now = int(np.searchsorted(s.step, FIT)), float(s.tau[-1])
    u_now = tau_now - TAU_FIT
    value, slope = _tangent_now(a, b, c, u_now)
    assert slope > 0 and value < TARGET
    c0, c1 = _line_fit(s, start, tau_now)
    d_line, d_tangent = (TARGET - c0) / c1, (TARGET - value) / slope
    assert d_tangent > d_line
    trend = heldout_trend(s, start, tau_now, st)
    assert trend is not None and trend.curvature == pytest.approx(c, rel=1e-6)
    assert trend.slope == pytest.approx(c1, rel=1e-9)
    assert trend.d_tau == pytest.approx(d_tangent, rel=1e-6)
    assert trend.d_line == pytest.approx(d_line, rel=1e-9)
    assert trend.soonest == pytest.approx(d_line, rel=1e-9)
    first = math.log(0.01 / 0.99)
    assert trend.progress == pytest.approx((value - first) / (TARGET - first), rel=1e-6)
    for line in (heldout_trend(s, start, tau_now, st.model_copy(
            update={"heldout_tangent": False})), heldout_trend(s, start, tau_now, st,
                                                               bend=False)):
        assert line.curvature == 0.0 and line.d_line == math.inf
        assert line.d_tau == pytest.approx(d_line, rel=1e-9) == line.soonest
    # the early end of the combined forecast is never later than the line's reach, even
    # beside a law that puts it far later (constant lr: Δτ / (lr·λ) steps)
    late_law = st.model_copy(update={"delay_tau": 50.0, "delay_log_sd": 0.05})
    both = forecast_transition(s, start, float(s.norm[-1]), 30.0, tau_now, None, late_law,
                               use_rate=False)
    assert both.heldout.d_tau == pytest.approx(d_tangent, rel=1e-6)
    early = both.transition.interval[0] - float(s.step[-1])
    assert early == pytest.approx(d_line / (LR * WD), rel=1e-6, abs=1.0)
    reasons = " ".join(Analyzer(_header(), st).analyze(samples).reasons)
    assert "and slowing (" in reasons and "its tangent now" in reasons


def test_a_logit_past_its_peak_keeps_its_line():
    """A parabola bending downwards that no longer climbs now (its top passed): the line."""
    st = AnalyzerSettings()
    samples = _run(1200, _bent(-4.5, 4.0, -2.5))
    s = series_from_samples(samples, st)
    start, tau_now = int(np.searchsorted(s.step, FIT)), float(s.tau[-1])
    assert _tangent_now(-4.5, 4.0, -2.5, tau_now - TAU_FIT)[1] < 0
    bent = heldout_trend(s, start, tau_now, st)
    line = heldout_trend(s, start, tau_now, st.model_copy(update={"heldout_tangent": False}))
    assert bent is not None and bent.curvature == 0.0
    assert (bent.slope, bent.d_tau, bent.progress) == (line.slope, line.d_tau, line.progress)


def test_a_tangent_too_flat_to_reach_keeps_the_line():
    """A slowing logit whose tangent now is nearly flat reaches beyond
    ``heldout_max_reach`` × the τ its evaluations cover: the line, not the tangent."""
    st = AnalyzerSettings()
    samples = _run(1200, _bent(-4.5, 2.0, -0.97))
    s = series_from_samples(samples, st)
    start, tau_now = int(np.searchsorted(s.step, FIT)), float(s.tau[-1])
    value, slope = _tangent_now(-4.5, 2.0, -0.97, tau_now - TAU_FIT)
    span = float(np.ptp(s.tau[_trend_rows(s, start)]))
    assert 0 < slope and (TARGET - value) / slope > st.heldout_max_reach * span
    bent = heldout_trend(s, start, tau_now, st)
    line = heldout_trend(s, start, tau_now, st.model_copy(update={"heldout_tangent": False}))
    assert bent is not None and bent.curvature == 0.0 and bent.d_line == math.inf
    assert (bent.slope, bent.d_tau, bent.progress) == (line.slope, line.d_tau, line.progress)
    reach_any = heldout_trend(s, start, tau_now, st.model_copy(
        update={"heldout_max_reach": None}))
    assert reach_any.d_tau == pytest.approx((TARGET - value) / slope, rel=1e-5)


def test_a_held_up_norm_bends_its_forecast():
    """A norm that never came down: its forecast bends the accelerating held-out logit as
    a decayed norm's does (the reason names the bend), and comes sooner than the line's."""
    st = AnalyzerSettings()
    samples = _held_up_run(900, _bent(-5.0, 0.5, 4.0))
    result = Analyzer(_header(budget=4000), st).analyze(samples)
    reasons = " ".join(result.reasons)
    assert "held_up" in result.findings
    assert "held-out accuracy's logit" in reasons and "bending upwards" in reasons
    s = series_from_samples(samples, st)
    start = int(np.searchsorted(s.step, FIT))
    bent, line = (forecast_transition(s, start, float(s.norm[-1]), 30.0, float(s.tau[-1]),
                                      None, st, use_rate=False, bend=bend)
                  for bend in (True, False))
    assert result.transition.forecast_step == pytest.approx(
        bent.transition.forecast_step, rel=1e-9)
    assert bent.transition.forecast_step < line.transition.forecast_step


STEPS = 900
"""Steps of the property tests' runs."""


def _bent_case(a: float, b: float, c: float, every: int):
    """``(settings, series, start, τ now, τ to the next evaluation, line (c0, c1))`` of a
    run whose held-out logit bends as ``_bent``, evaluated every ``every`` steps; assumes
    enough evaluations since the fit and a clear rise (0.1 in logit) over those fitted
    (the math: ``heldout_min_gain``'s gate has its own test)."""
    st = AnalyzerSettings(heldout_min_gain=None)
    s = series_from_samples(_run(STEPS, _bent(a, b, c), every=every), st)
    start, tau_now = int(np.searchsorted(s.step, FIT)), float(s.tau[-1])
    rows = _trend_rows(s, start)
    assume(rows.shape[0] >= st.heldout_min_evals)
    logit_at = [a + b * u + c * u * u for u in (float(s.tau[r]) - TAU_FIT for r in rows[[0, -1]])]
    assume(logit_at[1] - logit_at[0] > 0.1)  # a clear rise
    next_eval = float(s.tau[rows[-1]] + np.median(np.diff(s.tau[rows]))) - tau_now
    return st, s, start, tau_now, next_eval, _line_fit(s, start, tau_now)


@given(a=hst.floats(-6.0, -2.0), b=hst.floats(0.05, 3.0), c=hst.floats(0.05, 8.0),
       every=hst.sampled_from([1, 7, 25]))
@hsettings(max_examples=40, deadline=None)
def test_property_the_trend_is_exact_on_any_accelerating_logit(a, b, c, every):
    """For any upward-bending held-out logit still below 0.9 and above the clip, the
    trend's Δτ is the geometric mean of the line's and the parabola's (each no sooner
    than the next evaluation), so between the two."""
    u_end = STEPS * LR * WD - TAU_FIT
    assume(a + b * u_end + c * u_end ** 2 < TARGET - 1e-3)
    st, s, start, tau_now, next_eval, (c0, c1) = _bent_case(a, b, c, every)
    st = st.model_copy(update={"heldout_recent_share": None})  # the mean alone
    trend = heldout_trend(s, start, tau_now, st)
    assert trend is not None and trend.curvature == pytest.approx(c, rel=1e-5)
    u_now = tau_now - TAU_FIT
    root = brentq(lambda u: a + b * u + c * u * u - TARGET, u_now, u_now + 1e3, xtol=1e-13)
    d_line, d_bent = max((TARGET - c0) / c1, next_eval), max(root - u_now, next_eval)
    assert trend.d_tau == pytest.approx(math.sqrt(d_line * d_bent), rel=1e-5)
    assert d_bent * (1 - 1e-9) <= trend.d_tau <= d_line * (1 + 1e-9)


@given(a=hst.floats(-6.0, -2.0), b=hst.floats(0.05, 3.0), c=hst.floats(0.05, 8.0),
       every=hst.sampled_from([1, 7, 25]), share=hst.sampled_from([0.1, 0.25, 0.5]))
@hsettings(max_examples=40, deadline=None)
def test_property_an_accelerating_trend_reads_its_latest_line_when_sooner(a, b, c, every,
                                                                        share):
    """With ``heldout_recent_share``, an upward-bending trend's Δτ is the sooner of the
    geometric mean (line, parabola) and the line through its last ``share`` of the
    evaluations (at least ``heldout_min_evals``; each no sooner than the next evaluation)
    — on an accelerating logit that line is the steeper — and ``recent`` says how many it
    read when it was the sooner (0 otherwise); float64 normal equations as the reference."""
    u_end = STEPS * LR * WD - TAU_FIT
    assume(a + b * u_end + c * u_end ** 2 < TARGET - 1e-3)
    st, s, start, tau_now, next_eval, (c0, c1) = _bent_case(a, b, c, every)
    st = st.model_copy(update={"heldout_recent_share": share})
    rows = _trend_rows(s, start)
    k = max(st.heldout_min_evals, int(rows.shape[0] * share))
    assume(k < rows.shape[0])
    x = s.tau[rows[-k:]] - tau_now
    acc = np.clip(s.val[rows[-k:]], 1e-3, 0.999)
    design = np.column_stack([np.ones_like(x), x]).astype(np.float64)
    r0, r1 = np.linalg.solve(design.T @ design, design.T @ np.log(acc / (1 - acc)))
    assert r1 > c1  # steeper, as on any accelerating logit
    u_now = tau_now - TAU_FIT
    root = brentq(lambda u: a + b * u + c * u * u - TARGET, u_now, u_now + 1e3, xtol=1e-13)
    mean = math.sqrt(max((TARGET - c0) / c1, next_eval) * max(root - u_now, next_eval))
    d_recent = max((TARGET - r0) / r1, next_eval)
    trend = heldout_trend(s, start, tau_now, st)
    assert trend is not None
    assert trend.d_tau == pytest.approx(min(mean, d_recent), rel=1e-5)
    if not math.isclose(d_recent, mean, rel_tol=1e-6):
        assert trend.recent == (k if d_recent < mean else 0)


def test_the_latest_line_is_read_only_when_shorter_steeper_and_sooner():
    """A trend of ``heldout_min_evals`` evaluations has no shorter latest line (nor any
    trend with the setting off, nor a line no steeper than the trend's); on a sharply
    accelerating logit the trend reads its last quarter (and the reason says so), on a
    gentle one the mean."""
    x = np.linspace(-0.5, 0.0, 5)
    logits = -3.0 + 2.0 * (x + 0.5) ** 2
    st = AnalyzerSettings()
    assert recent_line(x, logits, 0.1, st) is None
    assert recent_line(x, logits, 0.1, st.model_copy(update={"heldout_recent_share": None})
                       ) is None
    x10 = np.linspace(-1.0, 0.0, 10)
    line, k = recent_line(x10, -3.0 + 2.0 * (x10 + 1.0) ** 2, 0.1,
                          st.model_copy(update={"heldout_recent_share": 0.25}))
    assert k == 5 and line.slope == pytest.approx(
        np.polyfit(x10[-5:], -3.0 + 2.0 * (x10[-5:] + 1.0) ** 2, 1)[0], rel=1e-9)
    assert recent_line(x10, -3.0 + 2.0 * (x10 + 1.0) ** 2, 50.0, st) is None  # not steeper
    st = AnalyzerSettings(heldout_min_gain=None)
    for (a, b, c), recent in (((-4.0, 0.5, 6.0), 87), ((-4.0, 2.0, 1.0), 0)):
        s = series_from_samples(_run(STEPS, _bent(a, b, c), every=1), st)
        start = int(np.searchsorted(s.step, FIT))
        assert _trend_rows(s, start).shape[0] == 351  # the last quarter: 87
        assert heldout_trend(s, start, float(s.tau[-1]), st).recent == recent
    reasons = " ".join(Analyzer(_header(), st).analyze(
        _run(STEPS, _bent(-4.0, 0.5, 6.0), every=1)).reasons)
    assert ("bending upwards (6/τ²; the line through its last 88, steeper, reaches it sooner "
            "than half-way in log between its line and its parabola)") in reasons


@given(a=hst.floats(-6.0, -2.0), b=hst.floats(1.0, 8.0), c=hst.floats(-3.0, -0.05),
       every=hst.sampled_from([1, 7, 25]))
@hsettings(max_examples=40, deadline=None)
def test_property_the_trend_is_exact_on_any_decelerating_logit(a, b, c, every):
    """For any downward-bending held-out logit still climbing at the end, below 0.9 and
    above the clip, the trend's Δτ is its tangent's now (no sooner than the next
    evaluation), never sooner than the line's, which is its early end — or the line's,
    when the tangent reaches beyond ``heldout_max_reach`` × the span."""
    value, slope = _tangent_now(a, b, c, STEPS * LR * WD - TAU_FIT)
    assume(slope > 0.05 and value < TARGET - 1e-3)
    st, s, start, tau_now, next_eval, (c0, c1) = _bent_case(a, b, c, every)
    trend = heldout_trend(s, start, tau_now, st)
    assert trend is not None
    value, slope = _tangent_now(a, b, c, tau_now - TAU_FIT)
    d_line, d_tangent = max((TARGET - c0) / c1, next_eval), (TARGET - value) / slope
    if d_tangent > st.heldout_max_reach * float(np.ptp(s.tau[_trend_rows(s, start)])):  # flat
        assert trend.curvature == 0.0 and trend.d_line == math.inf
        assert trend.d_tau == pytest.approx(d_line, rel=1e-9) == trend.soonest
        return
    assert trend.curvature == pytest.approx(c, rel=1e-5)
    assert trend.d_tau == pytest.approx(max(d_tangent, next_eval), rel=1e-5, abs=1e-9)
    assert trend.d_line == pytest.approx(d_line, rel=1e-9)
    assert trend.soonest == min(trend.d_tau, trend.d_line)
    assert trend.d_tau >= d_line * (1 - 1e-6)


def _val_series(val: list[float]):
    """A series of held-out evaluations only, one per 0.02 τ (the norm flat)."""
    from nht_monitor.analysis.series import Series

    n = len(val)
    tau = 0.02 * np.arange(1, n + 1, dtype=float)
    return Series(step=np.arange(1, n + 1, dtype=float), tau=tau, lr=np.full(n, 1e-3),
                  wd=np.full(n, 20.0), norm=np.full(n, 10.0), head=np.full(n, np.nan),
                  loss=np.full(n, np.nan), acc=np.full(n, 1.0), val=np.array(val, dtype=float))


# one, two, three examples right of 1,124: a steep logit, no learning
_TICKS = [1 / 1124] * 20 + [k / 1124 for k in (1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3,
                                             3, 3, 3, 3)]
_CLIMB = [0.02] * 20 + list(np.linspace(0.03, 0.4, 20))


@pytest.mark.parametrize("val, gain, off", [
    (_TICKS, None, True), (_TICKS, 0.02, False), (_CLIMB, 0.02, True), (_CLIMB, 0.5, False),
    ([0.0, 0.5, 0.5, 0.5], 0.02, False)])  # fewer than heldout_min_evals: never off
def test_the_heldout_trend_waits_for_accuracy_off_its_floor(val, gain, off):
    from nht_monitor.analysis.forecast import heldout_off_floor

    st = AnalyzerSettings(heldout_min_gain=gain)
    s = _val_series(val)
    assert heldout_off_floor(s, 0, st) is off
    if len(val) >= 2 * st.heldout_min_evals:
        # the median of the last 5 against the lowest, in float64
        gained = float(np.median(np.asarray(val[-5:], dtype=np.float64))) - min(val)
        assert off == (gain is None or gained >= gain)
        trend = heldout_trend(s, 0, float(s.tau[-1]), st)
        ungated = heldout_trend(s, 0, float(s.tau[-1]), AnalyzerSettings(heldout_min_gain=None))
        assert ungated is not None  # the logit rises in both: only the gate differs
        assert (trend is not None) is off
