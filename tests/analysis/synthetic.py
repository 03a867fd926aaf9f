"""Synthetic run logs with known answers: norm curves built from closed forms."""

from __future__ import annotations

import math
from collections.abc import Callable

from nht_monitor.runlog.schema import Sample


def make_run(norm_of: Callable[[int, float], float], *, steps: int = 1000, lr: float = 1e-3,
             weight_decay: float = 1.0, lr_of: Callable[[int], float] | None = None,
             acc_of: Callable[[int, float], float] | None = None,
             loss_of: Callable[[int, float], float] | None = None,
             val_of: Callable[[int, float], float] | None = None,
             head_of: Callable[[int, float], float] | None = None,
             start: int = 1) -> list[Sample]:
    """One sample per step; ``norm_of(step, tau)`` etc. give the values (τ = Σ lr·λ)."""
    out = []
    tau = 0.0
    for step in range(start, start + steps):
        eta = lr_of(step) if lr_of else lr
        tau += eta * weight_decay
        metrics = {}
        if loss_of:
            metrics["train_loss"] = loss_of(step, tau)
        if acc_of:
            metrics["train_acc"] = acc_of(step, tau)
        if val_of:
            metrics["val_acc"] = val_of(step, tau)
        out.append(Sample(step=step, tau=tau, lr=eta, weight_decay=weight_decay,
                          norm=norm_of(step, tau),
                          head_norm=head_of(step, tau) if head_of else None, metrics=metrics))
    return out


def fit_acc(fit_step: int) -> Callable[[int, float], float]:
    """Train accuracy rising linearly to 1 at ``fit_step``."""
    return lambda s, t: min(1.0, 0.01 + s / fit_step)


def fit_loss(fit_step: int) -> Callable[[int, float], float]:
    """Train loss falling linearly to ~0 at ``fit_step``."""
    return lambda s, t: max(1e-3, 4.6 * (1 - s / fit_step))


def grokking(*, v0: float = 10.0, peak: float = 30.0, ratio: float = 2.0, rate: float = 0.8,
             fit_step: int = 200, lr: float = 1e-3, weight_decay: float = 1.0):
    """Norm rises to ``peak`` (V_sc) at ``fit_step``, then decays as exp(-rate·Δτ) until it
    reaches ``peak / ratio`` (V_st): the transition, val_acc jumps to 1; then it drifts
    slowly. The head peaks at the fit too but contracts twice as fast (flags earlier).

    Returns ``(norm_of, val_of, head_of, transition_tau)``.
    """
    tau_fit = fit_step * lr * weight_decay
    tau_t = tau_fit + math.log(ratio) / rate
    v_st = peak / ratio

    def norm_of(s: int, t: float) -> float:
        if s <= fit_step:
            return v0 + (peak - v0) * s / fit_step
        if t < tau_t:
            return peak * math.exp(-rate * (t - tau_fit))
        return v_st * math.exp(-0.02 * (t - tau_t))

    def val_of(s: int, t: float) -> float:
        return 1.0 if t >= tau_t else 0.05

    def head_of(s: int, t: float) -> float:
        if s <= fit_step:
            return 1.0 + 9.0 * s / fit_step
        return max(10.0 * math.exp(-2 * rate * (t - tau_fit)), 4.0)

    return norm_of, val_of, head_of, tau_t
