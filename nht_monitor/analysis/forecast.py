"""Decay fits in τ and the conversion of a τ-clock forecast into optimizer steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ScheduleFn = Callable[[int], float]
"""A future schedule: optimizer step -> learning rate (or weight decay)."""

_CHUNK = 65536


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
