"""The delay law across a sweep: grokking step against 1/(ηλ)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from scipy import stats

from nht_monitor.demos.modular_arithmetic.result import RunResult


class DelayLawFit(BaseModel):
    """Least-squares line ``grok_step = slope · 1/(ηλ) + intercept`` over the grokked runs.

    ``slope`` estimates ``log(V_sc/V_st)`` of the NHT law ``T = (ηλ)⁻¹ log(V_sc/V_st)``;
    ``r_squared`` the fit quality; ``n`` the number of runs used (those that grokked,
    λ > 0); ``excluded`` the λ left out (never grokked).
    """

    slope: float
    intercept: float
    r_squared: float
    n: int
    excluded: list[float]


def fit_delay_law(results: Sequence[RunResult]) -> DelayLawFit | None:
    """Fit over the runs that grokked; ``None`` when fewer than 3 distinct λ grokked."""
    points = [(1.0 / (r.lr * r.weight_decay), float(r.grok_step)) for r in results
              if r.grok_step is not None and r.weight_decay > 0]
    excluded = [r.weight_decay for r in results if r.grok_step is None or r.weight_decay <= 0]
    if len({x for x, _ in points}) < 3:
        return None
    xs, ys = zip(*points)
    fit = stats.linregress(xs, ys)
    return DelayLawFit(slope=float(fit.slope), intercept=float(fit.intercept),
                       r_squared=float(fit.rvalue ** 2), n=len(points), excluded=excluded)
