"""Decay fits in τ, the transition forecast, and its conversion from τ into optimizer steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nht_monitor.analysis.assessment import Transition
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


def fit_log_decay(tau: np.ndarray, values: np.ndarray) -> DecayFit | None:
    """Fit ``log(values)`` linearly in ``tau``; ``None`` with < 3 usable points or no τ span."""
    ok = np.isfinite(tau) & np.isfinite(values) & (values > 0)
    if ok.sum() < 3:
        return None
    t = tau[ok]
    y = np.log(values[ok])
    tm = t.mean()
    dt = t - tm
    sxx = float(dt @ dt)
    if not sxx > 0.0 or not math.isfinite(sxx):
        return None
    ym = y.mean()
    dy = y - ym
    slope = float(dt @ dy) / sxx
    resid = dy - slope * dt
    n = int(t.shape[0])
    sse = float(resid @ resid)
    syy = float(dy @ dy)
    r2 = 1.0 - sse / syy if syy > 0 else 0.0
    noise = math.sqrt(sse / max(n - 2, 1))
    se = noise / math.sqrt(sxx)
    if not (math.isfinite(slope) and math.isfinite(se)):
        return None
    return DecayFit(rate=-slope, rate_se=se, r2=max(0.0, min(1.0, r2)), n=n, noise=noise)


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


def fit_last_span(s: Series, values: np.ndarray, start: int, span: float) -> DecayFit | None:
    """Decay fit over the last ``span`` of τ (from row ``start`` on); ``None`` if the rows
    after ``start`` cover less than ``span``."""
    tau = s.tau[start:]
    if tau.shape[0] < 3 or not tau[-1] - tau[0] >= span:
        return None
    i = start + int(np.searchsorted(tau, tau[-1] - span, side="left"))
    return fit_log_decay(s.tau[i:], values[i:])


def tau_per_step(step: np.ndarray, tau: np.ndarray, lr: np.ndarray, wd: np.ndarray) -> float:
    """The current τ increment per optimizer step: last ``lr * weight_decay`` when it is a
    positive finite number, else the slope of τ over the last rows of the log, else 0."""
    if lr.shape[0]:
        rate = float(lr[-1]) * float(wd[-1])
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
                 max_steps: float = 1e9) -> float | None:
    """Optimizer steps after ``step_now`` until τ has grown by ``delta_tau``.

    Default: the current ``rate`` (τ per step, i.e. η·λ) is held constant. With
    ``lr_schedule`` (and optionally ``wd_schedule``; else ``weight_decay`` constant),
    τ is integrated step by step over the future schedule. Returns ``None`` when τ
    does not reach the target within ``max_steps`` (the clock stops or is too slow).
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
    start = int(step_now) + 1
    done = 0.0
    taken = 0
    while taken < max_steps:
        n = int(min(_CHUNK, max_steps - taken))
        steps = range(start + taken, start + taken + n)
        try:
            lrs = np.fromiter((float(lr_schedule(s)) if lr_schedule else _rate_lr(rate, wd_const)
                               for s in steps), dtype=np.float64, count=n)
            wds = np.fromiter((float(wd_schedule(s)) if wd_schedule else wd_const
                               for s in steps), dtype=np.float64, count=n)
        except Exception:  # noqa: BLE001 - a broken user schedule must not break assess()
            return None
        inc = np.nan_to_num(lrs * wds, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
        cum = done + np.cumsum(inc)
        hit = int(np.searchsorted(cum, delta_tau, side="left"))
        if hit < n:
            return float(taken + hit + 1)
        done = float(cum[-1])
        taken += n
        if not inc.any() and lr_schedule is not None and taken >= 4 * _CHUNK:
            return None
    return None


def _rate_lr(rate: float, wd: float) -> float:
    return rate / wd if wd > 0 else 0.0


def steps_ahead(delta_tau: float, s: Series, settings: AnalyzerSettings,
                lr_schedule: ScheduleFn | None = None,
                wd_schedule: ScheduleFn | None = None) -> float | None:
    """:func:`steps_to_tau` from the end of ``s``, at its current τ per step or along the
    given schedules (integrated over at most 10⁷ steps)."""
    rate = tau_per_step(s.step, s.tau, s.lr, s.wd)
    wd_now = float(s.wd[-1]) if s.wd.shape[0] and math.isfinite(s.wd[-1]) else None
    max_steps = settings.max_forecast_steps
    if lr_schedule is not None or wd_schedule is not None:
        max_steps = min(max_steps, _SCHEDULE_MAX_STEPS)
    return steps_to_tau(delta_tau, float(s.step[-1]), rate, lr_schedule, wd_schedule,
                        wd_now, max_steps)


@dataclass(frozen=True)
class Forecast:
    """When the norm reaches V_st, the structured norm.

    ``method``: ``"law"`` (τ(V_sc) + ``delay_tau``), ``"rate"`` (the fitted decay from
    ``last`` down to V_st) or ``"none"`` (no decay to extrapolate). ``v_st`` = V_sc /
    ``structured_ratio``; ``tau_sc`` = τ(V_sc); ``law_tau`` = τ(V_sc) + ``delay_tau``
    (``None`` without a law); ``d_tau``: the τ still to go; ``transition``: the forecast
    in steps (``forecast_step`` ``None`` when the τ clock is too slow to get there).
    """

    method: str
    v_st: float
    tau_sc: float
    law_tau: float | None
    transition: Transition
    d_tau: float | None = None


def forecast_transition(s: Series, start: int, last: float, peak: float, tau_now: float,
                        fit: DecayFit | None, settings: AnalyzerSettings,
                        lr_schedule: ScheduleFn | None = None,
                        wd_schedule: ScheduleFn | None = None) -> Forecast:
    """The transition forecast from V_sc = ``peak`` (at row ``start``), converted to steps.

    Law-based (``settings.delay_tau`` set and still ahead of ``tau_now``): τ(V_sc) +
    ``delay_tau``, sd ``delay_tau_sd``. Rate-based (otherwise): τ until the norm decays
    from ``last`` to V_st = V_sc / ``structured_ratio`` at the fitted log-linear rate ×
    ``rate_factor``; sd from the ratio prior's spread and the rate's standard error.
    The 80% interval is ± ``interval_z`` sd (clipped at now)."""
    v_st = peak / settings.structured_ratio
    tau_sc = float(s.tau[min(start, len(s) - 1)])
    law_tau = tau_sc + settings.delay_tau if settings.delay_tau is not None else None
    if law_tau is not None and math.isfinite(law_tau) and law_tau > tau_now:
        method = "law"
        d_tau = law_tau - tau_now
        spread = settings.delay_tau_sd
    elif fit is None or fit.rate <= 0:
        return Forecast("none", v_st, tau_sc, law_tau, Transition(status="pending"))
    else:
        method = "rate"
        rate = fit.rate * settings.rate_factor
        gap = max(math.log(max(last, 1e-300) / v_st), 0.0)
        d_tau = gap / rate
        spread = math.hypot(settings.ratio_log_sd / rate, d_tau * fit.rate_se / rate)
    steps = steps_ahead(d_tau, s, settings, lr_schedule, wd_schedule)
    if steps is None:
        return Forecast(method, v_st, tau_sc, law_tau,
                        Transition(status="pending", forecast_tau=tau_now + d_tau), d_tau)
    lo = steps_ahead(max(d_tau - settings.interval_z * spread, 0.0), s, settings,
                     lr_schedule, wd_schedule)
    hi = steps_ahead(d_tau + settings.interval_z * spread, s, settings, lr_schedule, wd_schedule)
    step_now = float(s.step[-1])
    whole = max(step_now + steps - s.step[0], 1.0)
    status = "imminent" if steps <= settings.imminent_fraction * whole else "pending"
    transition = Transition(
        status=status, forecast_step=step_now + steps,
        interval=(step_now + (lo if lo is not None else steps),
                  step_now + (hi if hi is not None else settings.max_forecast_steps)),
        forecast_tau=tau_now + d_tau, steps_remaining=steps)
    return Forecast(method, v_st, tau_sc, law_tau, transition, d_tau)
