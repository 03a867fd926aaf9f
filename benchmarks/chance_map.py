"""The map of ``Transition.chance_in_budget``: σ(a · logit c + b) of the forecast's own
chance c, fitted by logistic regression of the outcome (transitioned within the budget)
on logit c (``families.py chance-map`` collects the pairs from the family replays)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit

from nht_monitor.analysis import AnalyzerSettings
from nht_monitor.analysis.forecast import calibrated_chance


def fit_chance_map(chance: Sequence[float], outcome: Sequence[float]) -> tuple[float, float]:
    """``(a, b)`` maximising the likelihood of ``outcome`` (0/1) under σ(a · logit c + b);
    ``chance`` strictly inside (0, 1)."""
    x = logit(np.asarray(chance, dtype=np.float64))
    y = np.asarray(outcome, dtype=np.float64)

    def loss(t: np.ndarray) -> float:
        z = t[0] * x + t[1]
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    def grad(t: np.ndarray) -> np.ndarray:
        r = expit(t[0] * x + t[1]) - y
        return np.array([np.sum(r * x), np.sum(r)])

    return tuple(float(v) for v in minimize(loss, np.array([1.0, 0.0]), jac=grad,
                                            method="BFGS").x)


def brier(chance: Sequence[float], outcome: Sequence[float], a: float, b: float) -> float:
    """Mean squared error against the 0/1 ``outcome`` of each chance as the engine maps it
    with slope ``a`` and shift ``b`` (:func:`~nht_monitor.analysis.forecast.calibrated_chance`)."""
    mapping = AnalyzerSettings(chance_slope=a, chance_shift=b)
    mapped = [calibrated_chance(c, mapping) for c in chance]
    return float(np.mean((np.asarray(mapped) - np.asarray(outcome, dtype=np.float64)) ** 2))
