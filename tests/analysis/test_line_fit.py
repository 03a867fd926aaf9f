"""The one least-squares line of the engine (``forecast.fit_line``: the norm's decay, the
held-out accuracy's trend, the train accuracy's rate) against a float64 brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as hst

from nht_monitor.analysis.forecast import fit_line, fit_log_decay


def _reference(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """slope, intercept, slope se (residual variance over n − 2) and R², by lstsq."""
    design = np.column_stack([np.ones_like(x), x]).astype(np.float64)
    (b0, b1), *_ = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)
    resid = y - (b0 + b1 * x)
    n = x.shape[0]
    sigma2 = float(resid @ resid) / (n - 2)
    se = math.sqrt(sigma2 / float(((x - x.mean()) ** 2).sum()))
    r2 = 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
    return float(b1), float(b0), se, r2


@given(n=hst.integers(3, 60), slope=hst.floats(-5, 5), intercept=hst.floats(-10, 10),
       noise=hst.floats(0.01, 1.0), seed=hst.integers(0, 2**16))
@hsettings(max_examples=60, deadline=None)
def test_the_line_is_the_least_squares_line(n, slope, intercept, noise, seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 3, n))
    if np.ptp(x) < 1e-6:
        return
    y = intercept + slope * x + rng.normal(0, noise, n)
    line = fit_line(x, y)
    b1, b0, se, r2 = _reference(x, y)
    assert line.slope == pytest.approx(b1, rel=1e-9, abs=1e-9)
    assert line.intercept == pytest.approx(b0, rel=1e-9, abs=1e-9)
    assert line.slope_se == pytest.approx(se, rel=1e-7, abs=1e-12)
    assert line.r2 == pytest.approx(max(0.0, min(1.0, r2)), abs=1e-9)
    assert line.n == n


def test_non_finite_points_are_dropped_and_degenerate_inputs_give_none():
    x = np.array([0.0, 1.0, np.nan, 2.0, 3.0])
    y = np.array([1.0, 3.0, 5.0, np.inf, 7.0])
    line = fit_line(x, y)
    assert line.n == 3 and line.slope == pytest.approx(2.0) and line.intercept == pytest.approx(1.0)
    assert fit_line(np.array([0.0, 1.0]), np.array([1.0, 2.0])) is None  # < 3 points
    assert fit_line(np.ones(5), np.arange(5.0)) is None  # no spread in x


def test_the_decay_fit_is_the_line_through_the_log_norm():
    tau = np.linspace(0.0, 2.0, 40)
    norm = 30.0 * np.exp(-0.7 * tau) * (1 + 0.01 * np.sin(np.arange(40)))
    norm[5] = -1.0  # not a norm: dropped
    fit = fit_log_decay(tau, norm)
    ok = norm > 0
    b1, _b0, se, _r2 = _reference(tau[ok], np.log(norm[ok]))
    assert fit.rate == pytest.approx(-b1, rel=1e-9) and fit.rate_se == pytest.approx(se, rel=1e-7)
    assert fit.n == 39
