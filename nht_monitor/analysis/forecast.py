"""Decay fits in τ, the transition forecast, and its conversion from τ into optimizer steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

from nht_monitor.analysis.assessment import Transition
from nht_monitor.analysis.lr_plan import PlannedLr
from nht_monitor.analysis.series import Series
from nht_monitor.analysis.settings import AnalyzerSettings

ScheduleFn = Callable[[int], float]
"""A future schedule: optimizer step -> learning rate (or weight decay)."""

_CHUNK = 65536
_SCHEDULE_MAX_STEPS = 10_000_000


@dataclass(frozen=True)
class DecayFit:
    """Least-squares fit ``log(norm) = a - rate * tau`` on a window.

    ``rate`` is per unit τ (positive when the norm decays), ``rate_se`` its standard
    error, ``r2`` the fit's coefficient of determination, ``n`` the points used,
    ``noise`` the residual sd of ``log(norm)``.
    """

    rate: float
    rate_se: float
    r2: float
    n: int
    noise: float


@dataclass(frozen=True)
class Line:
    """Least-squares line ``y = intercept + slope * x``: ``slope_se`` the slope's standard
    error (residual variance over n − 2), ``r2``, ``noise`` the residual sd, ``n``."""

    slope: float
    intercept: float
    slope_se: float
    r2: float
    noise: float
    n: int


def fit_line(x: np.ndarray, y: np.ndarray) -> Line | None:
    """The :class:`Line` through the finite ``(x, y)`` points; ``None`` with < 3 of them
    or no spread in ``x``."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return None
    x, y = x[ok], y[ok]
    xm, ym = x.mean(), y.mean()
    dx, dy = x - xm, y - ym
    sxx = float(dx @ dx)
    if not sxx > 0.0 or not math.isfinite(sxx):
        return None
    slope = float(dx @ dy) / sxx
    resid = dy - slope * dx
    n = int(x.shape[0])
    sse, syy = float(resid @ resid), float(dy @ dy)
    noise = math.sqrt(sse / max(n - 2, 1))
    se = noise / math.sqrt(sxx)
    if not (math.isfinite(slope) and math.isfinite(se)):
        return None
    r2 = 1.0 - sse / syy if syy > 0 else 0.0
    return Line(slope, float(ym - slope * xm), se, max(0.0, min(1.0, r2)), noise, n)


def fit_log_decay(tau: np.ndarray, values: np.ndarray) -> DecayFit | None:
    """Fit ``log(values)`` linearly in ``tau``; ``None`` with < 3 usable points or no τ span."""
    ok = np.isfinite(values) & (values > 0)
    line = fit_line(tau[ok], np.log(values[ok]))
    if line is None:
        return None
    return DecayFit(rate=-line.slope, rate_se=line.slope_se, r2=line.r2, n=line.n,
                    noise=line.noise)


def fit_last_fraction(s: Series, values: np.ndarray, start: int, fraction: float
                      ) -> DecayFit | None:
    """Decay fit on the last ``fraction`` of the τ span from row ``start`` on (at least
    the last 3 rows)."""
    tau = s.tau[start:]
    if tau.shape[0] < 3:
        return None
    t0, t1 = tau[0], tau[-1]
    if not (math.isfinite(t0) and math.isfinite(t1)) or t1 <= t0:
        return None
    lo = t1 - fraction * (t1 - t0)
    i = start + int(np.searchsorted(tau, lo, side="left"))
    if s.tau.shape[0] - i < 3:
        i = max(start, s.tau.shape[0] - 3)
    return fit_log_decay(s.tau[i:], values[i:])


GAIN_ROWS = 20
"""Row pairs at the end of the log that :func:`clock_gain` reads."""

GAIN_SNAP = 0.05
"""A measured gain within this relative distance of 1 is 1 (schedules between sampled
rows make Δτ / (Δstep · η·λ) approximate)."""


def clock_gain(step: np.ndarray, tau: np.ndarray, lr: np.ndarray, wd: np.ndarray) -> float:
    """τ per step ÷ the nominal η·λ, as the log recorded it: the median over the last
    :data:`GAIN_ROWS` row pairs of Δτ / (Δstep · η·λ at the later row). 1 for AdamW and
    plain SGD; 1/(1 − momentum) for SGD with momentum (whose coupled L2 term builds up
    in the momentum buffer: see :mod:`nht_monitor.live.clock`). 1 when unmeasurable."""
    n = min(step.shape[0], GAIN_ROWS + 1)
    if n < 2:
        return 1.0
    ds, dt = np.diff(step[-n:]), np.diff(tau[-n:])
    nominal = ds * lr[-n + 1:] * wd[-n + 1:]
    ok = np.isfinite(dt) & np.isfinite(nominal) & (nominal > 0) & (dt > 0)
    if not ok.any():
        return 1.0
    gain = float(np.median(dt[ok] / nominal[ok]))
    return 1.0 if abs(gain - 1.0) <= GAIN_SNAP or not math.isfinite(gain) else gain


def tau_per_step(step: np.ndarray, tau: np.ndarray, lr: np.ndarray, wd: np.ndarray,
                 gain: float | None = None) -> float:
    """The current τ increment per optimizer step: the last ``lr * weight_decay`` times the
    log's :func:`clock_gain` (``gain`` when the caller has it) when that is a positive
    finite number, else the slope of τ over the last rows of the log, else 0."""
    if lr.shape[0]:
        if gain is None:
            gain = clock_gain(step, tau, lr, wd)
        rate = float(lr[-1]) * float(wd[-1]) * gain
        if math.isfinite(rate) and rate > 0:
            return rate
    ok = np.isfinite(tau) & np.isfinite(step)
    if ok.sum() >= 2:
        s, t = step[ok], tau[ok]
        m = max(2, min(len(s), 20))
        ds = s[-1] - s[-m]
        if ds > 0:
            rate = (t[-1] - t[-m]) / ds
            if math.isfinite(rate) and rate > 0:
                return float(rate)
    return 0.0


def steps_to_tau(delta_tau: float, step_now: float, rate: float,
                 lr_schedule: ScheduleFn | None = None,
                 wd_schedule: ScheduleFn | None = None,
                 weight_decay: float | None = None,
                 max_steps: float = 1e9, gain: float = 1.0) -> float | None:
    """Optimizer steps after ``step_now`` until τ has grown by ``delta_tau``.

    Default: the current ``rate`` (τ per step, i.e. η·λ·``gain``) is held constant. With
    ``lr_schedule`` (and optionally ``wd_schedule``; else ``weight_decay`` constant),
    τ is integrated step by step over the future schedule, each step η·λ·``gain``
    (:func:`clock_gain`); along a :class:`~nht_monitor.analysis.lr_plan.PlannedLr` (with
    a constant weight decay) the sum is in closed form (its segments are arithmetic
    series; past its last step its lr is held, unless the plan is annealed: its clock
    ends there). Returns ``None`` when τ does not reach the target within ``max_steps``
    (the clock stops or is too slow).
    """
    if not math.isfinite(delta_tau):
        return None
    if delta_tau <= 0:
        return 0.0
    if lr_schedule is None and wd_schedule is None:
        if not rate > 0:
            return None
        steps = delta_tau / rate
        return steps if steps <= max_steps else None
    wd_const = weight_decay if weight_decay is not None else 0.0
    if isinstance(lr_schedule, PlannedLr) and wd_schedule is None:
        scale = wd_const * gain
        return lr_schedule.steps_until(delta_tau / scale, step_now, max_steps) \
            if scale > 0 else None
    start = int(step_now) + 1
    done = 0.0
    taken = 0
    while taken < max_steps:
        n = int(min(_CHUNK, max_steps - taken))
        steps = range(start + taken, start + taken + n)
        try:
            if isinstance(lr_schedule, PlannedLr):
                lrs = lr_schedule.clocked(np.arange(steps.start, steps.stop,
                                                    dtype=np.float64))
            else:
                lrs = np.fromiter((float(lr_schedule(s)) if lr_schedule
                                   else _rate_lr(rate / gain, wd_const)
                                   for s in steps), dtype=np.float64, count=n)
            wds = (np.fromiter((float(wd_schedule(s)) for s in steps), dtype=np.float64,
                               count=n) if wd_schedule else np.full(n, wd_const))
        except Exception:  # noqa: BLE001 - a broken user schedule must not break assess()
            return None
        inc = np.nan_to_num(lrs * wds * gain, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
        cum = done + np.cumsum(inc)
        hit = int(np.searchsorted(cum, delta_tau, side="left"))
        if hit < n:
            return float(taken + hit + 1)
        done = float(cum[-1])
        taken += n
        if not inc.any() and lr_schedule is not None and taken >= 4 * _CHUNK:
            return None
    return None


def planned_tau_left(s: Series, lr_schedule: ScheduleFn | None, budget: float | None
                     ) -> float | None:
    """The τ a :class:`~nht_monitor.analysis.lr_plan.PlannedLr` still holds from the end
    of ``s`` to the ``budget`` step (at the last weight decay and clock gain); ``None``
    without a plan or a budget."""
    if not isinstance(lr_schedule, PlannedLr) or budget is None or not len(s):
        return None
    now = float(s.step[-1])
    wd = float(s.wd[-1]) if math.isfinite(s.wd[-1]) else 0.0
    gain = clock_gain(s.step, s.tau, s.lr, s.wd)
    return max(lr_schedule.total(budget) - lr_schedule.total(now), 0.0) * wd * gain


def _rate_lr(rate: float, wd: float) -> float:
    return rate / wd if wd > 0 else 0.0


def steps_ahead(s: Series, settings: AnalyzerSettings, lr_schedule: ScheduleFn | None = None,
                wd_schedule: ScheduleFn | None = None) -> Callable[[float], float | None]:
    """Δτ ↦ :func:`steps_to_tau` from the end of ``s``, at its current τ per step or along
    the given schedules (integrated over at most 10⁷ steps); the clock's gain and rate
    are read from ``s`` once."""
    gain = clock_gain(s.step, s.tau, s.lr, s.wd)
    rate = tau_per_step(s.step, s.tau, s.lr, s.wd, gain)
    wd_now = float(s.wd[-1]) if s.wd.shape[0] and math.isfinite(s.wd[-1]) else None
    max_steps = settings.max_forecast_steps
    if lr_schedule is not None or wd_schedule is not None:
        max_steps = min(max_steps, _SCHEDULE_MAX_STEPS)
    step_now = float(s.step[-1])
    return lambda delta_tau: steps_to_tau(delta_tau, step_now, rate, lr_schedule, wd_schedule,
                                          wd_now, max_steps, gain=gain)


@dataclass(frozen=True)
class Forecast:
    """When the transition comes, as a belief about the delay Δτ from V_sc.

    ``method``: ``"law"`` (the law's log-normal prior on Δτ, median ``delay_tau``),
    ``"law+rate"`` (that prior combined with the fitted decay from ``last`` down to V_st),
    ``"rate"`` (the decay alone: ``delay_tau`` is ``None``) or ``"none"``. Either way
    the belief is conditioned on what was seen: no transition during the ``elapsed`` τ
    since V_sc. ``v_st`` = V_sc / ``structured_ratio``; ``tau_sc`` = τ(V_sc);
    ``rate_tau``: Δτ from V_sc the decay alone gives (``None`` without one); ``d_tau``:
    the median τ still to go; ``transition``: the forecast in steps (``forecast_step``
    ``None`` when the τ clock is too slow to get there).
    """

    method: str
    v_st: float
    tau_sc: float
    elapsed: float
    transition: Transition
    d_tau: float | None = None
    rate_tau: float | None = None
    heldout: HeldOutTrend | None = None
    budget_step: float | None = None
    """The step of the belief's ``budget_quantile`` (what the budget verdict reads;
    ``None``: the τ clock is too slow to get there)."""
    least_tau: float | None = None
    """The law's own ``budget_quantile`` of Δτ from V_sc when it, not the belief, set
    ``budget_step`` (:func:`law_floor`)."""
    floor_tau: float | None = None
    """The least Δτ from V_sc while held-out accuracy is on its floor (:func:`floor_bound`):
    the belief is conditioned on it instead of ``elapsed``."""


_NORMAL = NormalDist()
_MIN_LOGIT_RISE = 0.05
"""The held-out trend counts once its logit rose by this much over the evaluations fitted."""


def conditional_quantile(mu: float, sigma: float, elapsed: float, q: float) -> float:
    """The ``q`` quantile of Δτ ~ log-normal(``mu``, ``sigma``) given Δτ > ``elapsed``.

    Solved in the upper tail (``inv_cdf`` of a small probability, accurate there); past
    where the normal's survival underflows (z > 37), to first order in Mills' ratio."""
    if not elapsed > 0:
        return _exp(mu + sigma * _NORMAL.inv_cdf(q))
    y = math.log(elapsed)
    z = (y - mu) / sigma
    tail = (1.0 - q) * 0.5 * math.erfc(z / math.sqrt(2.0))
    if tail > 0.0:
        return max(elapsed, _exp(mu - sigma * _NORMAL.inv_cdf(tail)))
    return _exp(y - math.log(1.0 - q) * sigma / z)


_Z90 = _NORMAL.inv_cdf(0.9)


def chance_by(transition: Transition, step_now: float, budget: float | None) -> float | None:
    """The probability that the transition completes by step ``budget``: 1 once ``done``;
    else, from the forecast step and its 80 % interval, a log-normal in the steps still to
    go with the forecast as its median, spread below (above) the median so that the
    interval's low (high) end is its 10 % (90 %) quantile: exact at those three quantiles
    whatever the schedules map τ to steps. Without a high end (the τ clock stops, or
    crawls past ``max_forecast_steps``, before it) the spread above is the one below: no
    jump as the end opens. (Read in the τ still to go along a planned lr instead, where a
    step past an annealing plan's high end adds little τ, the chance fell on the cosine
    runs of rounds 65–76 that transitioned all the same: Brier 0.176 → 0.221 on the 15
    changed at 30 % of the horizon; not done.) 0 once the budget is spent; ``None``
    without a budget or a forecast step."""
    if transition.status == "done":
        return 1.0
    if budget is None or transition.forecast_step is None or transition.interval is None:
        return None
    left, median = budget - step_now, transition.forecast_step - step_now
    if not left > 0:
        return 0.0
    if not median > 0:
        return 1.0
    low, high = transition.interval
    x = math.log(left / median)
    # a step is the finest the interval can mean; an open upper end (the τ clock stops
    # first) spreads as the low end does
    end = max(low - step_now, 1.0) if x < 0 or high is None else high - step_now
    spread = abs(math.log(end / median)) / _Z90 if end > 0 else 0.0
    if not spread > 0:
        return 1.0 if x >= 0 else 0.0
    return _NORMAL.cdf(x / spread)


CHANCE_CLIP = 1e-6
"""The forecast's own chance is read within [CHANCE_CLIP, 1 − CHANCE_CLIP] by the map.
Stop 57: clipped at 0.001 (as :func:`logit` clips accuracies), no chance said exceeded
0.943; on rounds 65–79 of the task families the 107 checkpoints whose own chance was
above 0.999 all transitioned within their budget, and the Brier score at 30 / 50 / 70 %
of the horizon went 0.1246 / 0.1047 / 0.0932 → 0.1233 / 0.1040 / 0.0927 with this clip
(the six below 0.001, none transitioned, moved the same way)."""


def calibrated_chance(chance: float, settings: AnalyzerSettings) -> float:
    """σ(``chance_slope`` · logit(``chance``) + ``chance_shift``), the chance clipped to
    :data:`CHANCE_CLIP`: the forecast's own chance mapped to the share of runs that
    transitioned by their budget."""
    c = min(max(chance, CHANCE_CLIP), 1.0 - CHANCE_CLIP)
    return 1.0 / (1.0 + math.exp(-(settings.chance_slope * math.log(c / (1.0 - c))
                                   + settings.chance_shift)))


def chance_past_clock(transition: Transition, tau_now: float | None, tau_left: float | None,
                      settings: AnalyzerSettings) -> float | None:
    """A forecast whose median has no step (it lies past where a planned lr's τ clock
    stops): the chance that its Δτ fits in the ``tau_left`` the plan still holds until the
    budget, a log-normal around the median's Δτ with the law's log-sd
    (``delay_log_sd``); below ½, as the median lies beyond. ``None`` for any other
    forecast, or without the plan's τ."""
    if not transition.median_past_clock or tau_now is None or tau_left is None:
        return None
    median = transition.forecast_tau - tau_now
    if not median > 0:
        return None
    if not tau_left > 0:
        return 0.0
    return _NORMAL.cdf(math.log(tau_left / median) / settings.delay_log_sd)


def chance_in_budget(transition: Transition, step_now: float, budget: float | None,
                     settings: AnalyzerSettings, tau_now: float | None = None,
                     tau_left: float | None = None) -> float | None:
    """The chance that the transition comes by the budget: 1 once done, 0 once the budget
    is spent, else the forecast's own (:func:`chance_by`; for a median past a planned lr's
    clock, :func:`chance_past_clock` with the plan's ``tau_left`` from ``tau_now``) as
    :func:`calibrated_chance` maps it; ``None`` without a budget or a forecast."""
    chance = chance_by(transition, step_now, budget)
    if chance is None and budget is not None:
        chance = chance_past_clock(transition, tau_now, tau_left, settings)
    if chance is None or transition.status == "done" or step_now >= budget:
        return chance
    return calibrated_chance(chance, settings)


def law_floor(elapsed: float, settings: AnalyzerSettings) -> float | None:
    """The law's own ``budget_quantile`` of Δτ from V_sc, minus the ``elapsed`` τ: the
    least τ still to go the budget verdict accepts (``budget_law_floor``; ``None``
    without it — ``"auto"`` not resolved from a header counts as off — without a law
    prior, or once the run is past it)."""
    st = settings
    if st.budget_law_floor is not True or st.delay_tau is None:
        return None
    least = law_quantile(st.budget_quantile, st)
    return least - elapsed if least > elapsed else None


def law_quantile(q: float, settings: AnalyzerSettings) -> float:
    """The law prior's ``q`` quantile of Δτ from V_sc (log-normal, median ``delay_tau``,
    log-sd ``delay_log_sd``; ``delay_tau`` must be set)."""
    st = settings
    return st.delay_tau * _exp(st.delay_log_sd * _NORMAL.inv_cdf(q))


def _exp(x: float) -> float:
    return math.exp(x) if x < 709.0 else math.inf


def structured_norm(peak: float, last: float, settings: AnalyzerSettings) -> float:
    """V_st: V_sc / the ratio prior's median (log-normal, median ``structured_ratio``,
    log-sd ``ratio_log_sd``) given that the norm has come down to ``last`` without a
    transition — so once it passes the prior's V_st, V_st moves below it."""
    st = settings
    if not (0 < last < math.inf and 0 < peak < math.inf) or st.ratio_log_sd <= 0:
        return peak / st.structured_ratio
    ratio = conditional_quantile(math.log(st.structured_ratio), st.ratio_log_sd,
                                 peak / last if last < peak else 0.0, 0.5)
    return peak / ratio


def delay_belief(elapsed: float, last: float, v_st: float, fit: DecayFit | None,
                 settings: AnalyzerSettings, use_rate: bool) -> tuple[str, Belief,
                                                                       float | None]:
    """``(method, belief, rate_tau)``: the belief about Δτ from V_sc.

    The law's prior (median ``delay_tau``, log-sd ``delay_log_sd``; with
    ``delay_tail_weight`` of it at log-sd ``delay_tail_log_sd``: :func:`law_parts`) and,
    when ``use_rate`` and the norm is still above V_st, the decay's own estimate (elapsed +
    log(last/V_st) / (``rate_factor`` × rate), its sd from ``ratio_log_sd`` and the
    rate's standard error), combined by precision in log τ, part by part
    (:func:`combine`)."""
    st = settings
    parts = law_parts(st)
    rate_tau = None
    finite = 0 < v_st < math.inf and 0 < last < math.inf
    gap = math.log(last) - math.log(v_st) if finite else 0.0
    if use_rate and fit is not None and fit.rate > 0 and gap > 0:
        rate = fit.rate * st.rate_factor
        d = gap / rate
        sd = math.hypot(st.ratio_log_sd / rate, d * fit.rate_se / fit.rate)
        rate_tau = max(elapsed, 0.0) + d
        parts = combine(parts, math.log(rate_tau), max(sd / rate_tau, 0.05))
    if not parts:
        return "none", Belief(()), None
    method = "+".join(name for name, on in (("law", st.delay_tau is not None),
                                            ("rate", rate_tau is not None)) if on)
    return method, Belief(parts), rate_tau


Parts = tuple[tuple[float, float, float], ...]
"""A belief's log-normal parts, each (weight, mu, sigma) of log τ."""


def law_parts(settings: AnalyzerSettings) -> Parts:
    """The law prior as (weight, mu, sigma) log-normal parts of one median ``delay_tau``:
    ``delay_log_sd``, and ``delay_tail_weight`` of the prior at ``delay_tail_log_sd``
    (a family far slower or faster than those calibrated on); none without ``delay_tau``."""
    st = settings
    if st.delay_tau is None:
        return ()
    mu, tail = math.log(st.delay_tau), st.delay_tail_weight
    if not tail:
        return ((1.0, mu, st.delay_log_sd),)
    return ((1.0 - tail, mu, st.delay_log_sd), (tail, mu, st.delay_tail_log_sd))


def combine(parts: Parts, mu: float, sd: float) -> Parts:
    """Each log-normal part times the log-normal (``mu``, ``sd``), by precision in log τ,
    reweighted by how well it predicted ``mu`` (its density there at sd² + ``sd``²), a
    part whose weight underflows to 0 dropped; just (``mu``, ``sd``) without parts."""
    if not parts:
        return ((1.0, mu, sd),)
    out, logs = [], []
    for w, m, s in parts:
        precisions = [1.0 / s ** 2, 1.0 / sd ** 2]
        out.append((sum(p * x for p, x in zip(precisions, (m, mu))) / sum(precisions),
                    math.sqrt(1.0 / sum(precisions))))
        var = s ** 2 + sd ** 2
        logs.append(math.log(w) - 0.5 * (mu - m) ** 2 / var - 0.5 * math.log(var))
    return tuple((w, m, s) for w, (m, s) in zip(normalised_exp(logs), out) if w > 0)


def normalised_exp(logs: list[float]) -> list[float]:
    """exp of ``logs`` scaled to sum to 1 (shifted by the largest first: no overflow)."""
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    total = sum(weights)
    return [w / total for w in weights]


@dataclass(frozen=True)
class Belief:
    """Δτ from V_sc: a mixture of log-normal ``parts``, each (weight, mu, sigma) of log τ,
    the weights summing to 1 (:func:`delay_belief`)."""

    parts: Parts

    def quantile(self, elapsed: float, q: float) -> float:
        """The ``q`` quantile of Δτ given Δτ > ``elapsed``: :func:`conditional_quantile`
        for one part, :func:`mixture_quantile` for more."""
        if len(self.parts) == 1:
            _, mu, sigma = self.parts[0]
            return conditional_quantile(mu, sigma, elapsed, q)
        return mixture_quantile(self.parts, elapsed, q)


def log_sf(z: float) -> float:
    """log P(Z > z) of a standard normal, without underflow (Mills' ratio to first order
    past z = 30)."""
    if z < 30.0:
        return math.log(0.5 * math.erfc(z / math.sqrt(2.0)))
    return -0.5 * z * z - math.log(z * math.sqrt(2.0 * math.pi))


def mixture_quantile(parts: Parts, elapsed: float, q: float) -> float:
    """The ``q`` quantile of a mixture of log-normals given Δτ > ``elapsed``: each part
    reweighted by its chance of lasting that long, the quantile bisected in log τ between
    the parts' own (a mixture's quantile lies between its parts')."""
    ends = [conditional_quantile(mu, sigma, elapsed, q) for _, mu, sigma in parts]
    lo, hi = min(ends), max(ends)
    if not (hi > lo and math.isfinite(hi)):
        return hi
    y = math.log(elapsed) if elapsed > 0 else -math.inf
    lasted = [log_sf((y - mu) / sigma) for _, mu, sigma in parts]
    weights = normalised_exp([math.log(w) + x for (w, _, _), x in zip(parts, lasted)])

    def below(log_x: float) -> float:  # P(Δτ ≤ x | Δτ > elapsed)
        return sum(w * -math.expm1(log_sf((log_x - mu) / sigma) - x)
                   for w, (_, mu, sigma), x in zip(weights, parts, lasted))

    a, b = math.log(lo), math.log(hi)
    for _ in range(60):
        mid = 0.5 * (a + b)
        a, b = (mid, b) if below(mid) < q else (a, mid)
    return math.exp(0.5 * (a + b))


@dataclass(frozen=True)
class HeldOutTrend:
    """Held-out accuracy on its way to ``done_val_acc``: the logit of the accuracy fitted
    as a line in τ (``slope``) over the last half of the evaluations since the fit (the
    last ``heldout_min_evals`` while the half holds fewer);
    ``d_tau``: τ from now until the line reaches ``done_val_acc`` (no sooner than the next
    evaluation: one interval after the last) — or, when a parabola through the same
    points bends upwards (``curvature`` > 0), the geometric mean of the line's and the
    parabola's, or the line's through the latest evaluations when steeper and sooner
    (``recent``); when it bends downwards (``curvature`` < 0), its tangent's now;
    ``progress``: how far the curve's value now (the mean of the two when it bends up,
    the parabola's when down) has climbed, in logit, from the run's first held-out
    evaluation (chance, before training) to ``done_val_acc`` (0–1);
    ``weight``: its weight in log Δτ against the norm's forecast once combined
    (:func:`trend_weight`; ``later``: it pointed later than the norm's, and weighs
    ``heldout_later_weight``, or as at chance without one)."""

    slope: float
    d_tau: float
    n: int
    progress: float = 0.0
    weight: float = 0.5
    later: bool = False
    curvature: float = 0.0
    """``c`` of the parabola ``logit = a + b·x + c·x²`` (x = τ − now) when the trend
    bends: upwards and still climbing now (``heldout_curvature``), or downwards and still
    climbing, its tangent within reach (``heldout_tangent``); else 0 (the line alone)."""
    span: float = math.inf
    """The τ the fitted evaluations cover (first to last)."""
    far: bool = False
    """``d_tau`` beyond ``heldout_max_reach`` × ``span``: weight 0 once combined."""
    d_line: float = math.inf
    """The line's own Δτ, when the trend reads a tangent instead (``heldout_tangent``)."""
    recent: int = 0
    """How many of the latest evaluations the bent trend's ``d_tau`` reads a line through,
    when that line is steeper and sooner (``heldout_recent_share``); 0: none."""

    @property
    def soonest(self) -> float:
        """The sooner of ``d_tau`` and the line's own: the trend's early end."""
        return min(self.d_tau, self.d_line)


def trend_weight(progress: float, prior_log_sd: float | None, trend_log_sd: float | None
                 ) -> float:
    """The held-out trend's share of the precision beside the law prior's
    (1/``prior_log_sd``²): (1 + p)/(1 − p)/``trend_log_sd``² — the further the
    accuracy has climbed, the shorter and surer its extrapolation; ½ at chance when the
    two log-sds are equal (or unknown)."""
    if progress >= 1.0:
        return 1.0
    odds = (1.0 + progress) / (1.0 - progress)
    if prior_log_sd and trend_log_sd:
        odds *= (prior_log_sd / trend_log_sd) ** 2
    return odds / (1.0 + odds)


def heldout_trend(s: Series, start: int, tau_now: float, settings: AnalyzerSettings,
                  bend: bool = True) -> HeldOutTrend | None:
    """The :class:`HeldOutTrend` from row ``start`` on (a parabola only with ``bend``
    and ``heldout_curvature`` or ``heldout_tangent``); ``None`` with fewer than
    ``heldout_min_evals`` evaluations since ``start``, a logit not rising, or held-out
    accuracy not yet off its floor (:func:`heldout_off_floor`)."""
    st = settings
    if not heldout_off_floor(s, start, st):
        return None
    rows = np.nonzero(np.isfinite(s.val[start:]) & np.isfinite(s.tau[start:]))[0] + start
    rows = rows[min(rows.shape[0] // 2, max(rows.shape[0] - st.heldout_min_evals, 0)):]
    if rows.shape[0] < st.heldout_min_evals:
        return None
    tau = s.tau[rows]
    logits = np.array([logit(float(v)) for v in s.val[rows]])
    x = tau - tau_now
    line = fit_line(x, logits)
    if line is None:
        return None
    slope, intercept, span = line.slope, line.intercept, float(np.ptp(tau))
    if not (slope * span >= _MIN_LOGIT_RISE and slope >= st.heldout_min_t * line.slope_se):
        return None
    target = logit(st.done_val_acc)
    next_eval = float(tau[-1]) + float(np.median(np.diff(tau))) - tau_now  # τ from now

    def reach(a: float, b: float, c: float = 0.0) -> float:
        """Δτ until a + b·x + c·x² reaches ``done_val_acc``, no sooner than the next
        evaluation."""
        return max(_reach(target - a, b, c), next_eval, 0.0)

    d_tau = reach(intercept, slope)
    curvature, d_line, recent = 0.0, math.inf, 0
    bends = bend and (st.heldout_curvature or st.heldout_tangent)
    curve = fit_parabola(x, logits) if bends else None
    if curve is not None and curve[2] > 0 and curve[1] > 0 and st.heldout_curvature:
        # the line runs late on a logit accelerating into its rise, the parabola early
        # far ahead of its points: half-way between them in log Δτ
        a, b, curvature = curve
        d_bent = reach(a, b, curvature)
        d_tau = math.sqrt(d_tau * d_bent) if d_tau > 0 and d_bent > 0 else d_bent
        intercept = 0.5 * (intercept + a)
        if (latest := recent_line(x, logits, slope, st)) is not None:
            steeper, k = latest
            d_latest = reach(steeper.intercept, steeper.slope)
            if d_latest < d_tau:  # the climb steepened lately: the sooner of the two
                d_tau, recent = d_latest, k
    elif curve is not None and curve[2] < 0 < curve[1] and st.heldout_tangent:
        # the line runs early on a logit slowing down: its tangent now, from where it is,
        # unless too flat to get there within `heldout_max_reach` spans (then the line)
        a, b, c = curve
        d_tangent = reach(a, b)
        if within_reach(d_tangent, span, st):
            curvature, d_line, d_tau, intercept = c, d_tau, d_tangent, a
    progress = _share_of_the_way(s, intercept, st)
    return HeldOutTrend(float(slope), d_tau, int(rows.shape[0]),
                        min(max(float(progress), 0.0), 1.0), curvature=float(curvature),
                        span=span, d_line=d_line, recent=recent)


def recent_line(x: np.ndarray, logits: np.ndarray, slope: float,
                settings: AnalyzerSettings) -> tuple[Line, int] | None:
    """The line through the last ``heldout_recent_share`` of a bending-up trend's
    evaluations (at least ``heldout_min_evals``; ``x``: τ − now), and how many, when it
    is steeper than the whole trend's ``slope``; ``None`` otherwise, when that would be
    all of them, or without the setting."""
    share = settings.heldout_recent_share
    if share is None:
        return None
    k = max(settings.heldout_min_evals, int(x.shape[0] * share))
    if k >= x.shape[0]:
        return None
    line = fit_line(x[-k:], logits[-k:])
    return (line, k) if line is not None and line.slope > slope else None


def heldout_off_floor(s: Series, start: int, settings: AnalyzerSettings) -> bool:
    """Held-out accuracy, the median of its last ``heldout_min_evals`` evaluations, at
    least ``heldout_min_gain`` above its lowest evaluation from row ``start`` on (always
    with ``None``; never with fewer evaluations than that)."""
    gain = settings.heldout_min_gain
    if gain is None:
        return True
    val = s.val[start:]
    val = val[np.isfinite(val)]
    if val.shape[0] < settings.heldout_min_evals:
        return False
    return float(np.median(val[-settings.heldout_min_evals:])) - float(val.min()) >= gain


def floor_bound(s: Series, start: int, elapsed: float, settings: AnalyzerSettings
                ) -> float | None:
    """``elapsed`` / ``heldout_floor_share`` while held-out accuracy, with at least
    ``heldout_min_evals`` evaluations from row ``start`` on, has not come off its floor
    (:func:`heldout_off_floor`): it comes off by that share of the delay from V_sc, so the
    transition is no sooner; ``None`` otherwise (and with the share ``None``)."""
    share = settings.heldout_floor_share
    if (share is None or not elapsed > 0
            or int(np.isfinite(s.val[start:]).sum()) < settings.heldout_min_evals
            or heldout_off_floor(s, start, settings)):
        return None
    return elapsed / share


def within_reach(d_tau: float, span: float, settings: AnalyzerSettings) -> bool:
    """``d_tau`` no more than ``heldout_max_reach`` × ``span`` (always, with ``None``)."""
    reach = settings.heldout_max_reach
    return reach is None or d_tau <= reach * span


def fit_parabola(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | None:
    """``(a, b, c)`` of the least-squares ``y = a + b·x + c·x²`` through the points;
    ``None`` with fewer than 4 of them or a degenerate design."""
    if x.shape[0] < 4:
        return None
    scale = float(np.max(np.abs(x))) or 1.0
    u = x / scale  # conditioning: the columns on the same scale
    coef, _, rank, _ = np.linalg.lstsq(np.stack([np.ones_like(u), u, u * u], axis=1), y,
                                       rcond=None)
    if rank < 3 or not np.all(np.isfinite(coef)):
        return None
    return float(coef[0]), float(coef[1]) / scale, float(coef[2]) / scale ** 2


def _reach(gap: float, slope: float, curvature: float) -> float:
    """The x > 0 where ``slope·x + curvature·x²`` first equals ``gap`` (slope > 0,
    curvature ≥ 0; ≤ 0 when the gap is already closed), in the form that stays exact as
    the curvature goes to 0 (the line's gap/slope)."""
    if gap <= 0:
        return gap / slope
    return 2.0 * gap / (slope + math.sqrt(slope * slope + 4.0 * curvature * gap))


def heldout_progress(s: Series, start: int, settings: AnalyzerSettings) -> float | None:
    """How far held-out accuracy has come: the median of its last ``heldout_min_evals``
    evaluations from row ``start`` on, as a share of the way in logit from the first
    evaluation of the run to ``done_val_acc`` (1 when the first is already there);
    ``None`` with fewer evaluations."""
    val = s.val[start:]
    recent = val[np.isfinite(val)][-settings.heldout_min_evals:]
    if recent.shape[0] < settings.heldout_min_evals:
        return None
    return _share_of_the_way(s, logit(float(np.median(recent))), settings)


def _share_of_the_way(s: Series, logit_now: float, settings: AnalyzerSettings) -> float:
    """How far ``logit_now`` has come, in logit, from the run's first held-out evaluation
    (chance, before training) to ``done_val_acc``; 1 when the first is already there."""
    first = logit(float(s.val[np.isfinite(s.val)][0]))
    target = logit(settings.done_val_acc)
    return (logit_now - first) / (target - first) if target > first else 1.0


def logit(p: float) -> float:
    """The logit of ``p`` clipped to [0.001, 0.999]."""
    p = min(max(p, 1e-3), 0.999)
    return math.log(p / (1.0 - p))


def forecast_transition(s: Series, start: int, last: float, peak: float, tau_now: float,
                        fit: DecayFit | None, settings: AnalyzerSettings,
                        lr_schedule: ScheduleFn | None = None,
                        wd_schedule: ScheduleFn | None = None, *,
                        use_rate: bool = True, trend_start: int | None = None,
                        bend: bool = True) -> Forecast:
    """The transition forecast from V_sc = ``peak`` (at row ``start``), in steps; the
    held-out trend reads the evaluations from ``trend_start`` (default ``start``) on, and
    may bend only with ``bend`` (:func:`heldout_trend`).

    The median and 10–90% quantiles of :func:`delay_belief` given no transition yet
    (:meth:`Belief.quantile`), minus the τ elapsed since V_sc, converted to steps
    along the current τ rate or the given schedules. ``imminent`` when the median lies
    within ``imminent_fraction`` of the whole run so far."""
    st = settings
    v_st = structured_norm(peak, last, st)
    tau_sc = float(s.tau[min(start, len(s) - 1)])
    elapsed = max(tau_now - tau_sc, 0.0)
    method, belief, rate_tau = delay_belief(elapsed, last, v_st, fit, st, use_rate)
    if method == "none" or not (math.isfinite(elapsed) and peak > 0):
        return Forecast("none", v_st, tau_sc, elapsed, Transition(status="pending"))
    trend_from = start if trend_start is None else trend_start
    floor_tau = floor_bound(s, trend_from, elapsed, st)
    seen = elapsed if floor_tau is None else floor_tau  # Δτ is known to exceed this
    lo_tau, q_tau, d_tau, hi_tau = (belief.quantile(seen, q) - elapsed
                                    for q in (0.1, st.budget_quantile, 0.5, 0.9))
    if not math.isfinite(hi_tau):
        return Forecast("none", v_st, tau_sc, elapsed, Transition(status="pending"))
    ahead = steps_ahead(s, st, lr_schedule, wd_schedule)
    trend = heldout_trend(s, trend_from, tau_now, st, bend) if st.heldout_trend else None
    steps = early_trend = None
    if trend is not None and d_tau > 0 and lo_tau > 0:
        # a weighted mean of the two in log Δτ, the weight the trend's share of the
        # precision: the spread shrinks by √(1 − w) (1/√2 for the geometric mean), and
        # by `heldout_interval_scale` more when the trend has any weight;
        # the early end never later than the norm's own nor the trend's, so `weak` from
        # the budget (and a sweep's early stop) needs all three beyond it
        later = trend.d_tau >= d_tau
        # extended far beyond the τ its evaluations cover, the trend tells nothing
        far = not within_reach(trend.d_tau, trend.span, st)
        if far:
            w = 0.0
        elif later and st.heldout_later_weight is not None:
            w = st.heldout_later_weight
        else:
            w = trend_weight(0.0 if later else trend.progress, st.delay_log_sd,
                             st.heldout_log_sd or st.delay_log_sd)
        trend = replace(trend, weight=w, later=later, far=far)
        median = trend.d_tau ** w * d_tau ** (1.0 - w)  # no log: d_tau_trend may be 0
        spread = math.sqrt(1.0 - w) * (st.heldout_interval_scale if w > 0 else 1.0)
        # the budget's early end is not narrowed by the scale (`budget_unnarrowed`)
        early_spread = max(spread, math.sqrt(1.0 - w)) if st.budget_unnarrowed else spread
        steps = ahead(median)
        early = min(q_tau, median * (q_tau / d_tau) ** early_spread, trend.soonest)
        if steps is not None:
            lo_tau = min(lo_tau, median * (lo_tau / d_tau) ** spread, trend.soonest)
            q_tau = early
            hi_tau = median * (hi_tau / d_tau) ** spread
            d_tau = median
            method += "+heldout"
        elif not (later or far):
            # the median beyond the clock (an annealed plan's end): the budget verdict
            # still reads the trend's early end, as above
            q_tau, early_trend = early, trend
    if steps is None:  # the norm's forecast alone
        trend, steps = early_trend, ahead(d_tau)
    least = None  # the decay sped the belief up: its early end is not the law's
    floor = law_floor(elapsed, st) if rate_tau is not None else None
    if floor is not None and floor > q_tau and (trend is None or trend.far
                                                 or trend.soonest > floor):
        q_tau, least = floor, floor + elapsed
    step_now = float(s.step[-1])
    if steps is None:  # the median is beyond the clock; the early end may not be
        q_steps = ahead(q_tau)
        return Forecast(method, v_st, tau_sc, elapsed,
                        Transition(status="pending", forecast_tau=tau_now + d_tau), d_tau,
                        rate_tau, trend, None if q_steps is None else step_now + q_steps,
                        least, floor_tau)
    lo, hi = ahead(lo_tau), ahead(hi_tau)
    # the default budget quantile is the interval's early end (no second schedule walk)
    # unless the law's floor or the unnarrowed early end (`budget_unnarrowed`) moved it
    q_steps = lo if q_tau == lo_tau else ahead(q_tau)
    whole = max(step_now + steps - s.step[0], 1.0)
    status = "imminent" if steps <= st.imminent_fraction * whole else "pending"
    transition = Transition(
        status=status, forecast_step=step_now + steps,
        interval=(step_now + (lo if lo is not None else steps),
                  step_now + hi if hi is not None else None),
        forecast_tau=tau_now + d_tau, steps_remaining=steps)
    return Forecast(method, v_st, tau_sc, elapsed, transition, d_tau, rate_tau, trend,
                    None if q_steps is None else step_now + q_steps, least, floor_tau)
