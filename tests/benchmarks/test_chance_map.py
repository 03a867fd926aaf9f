"""benchmarks/chance_map.py: the chance map's logistic fit against a float64 brute force."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from chance_map import brier, fit_chance_map  # noqa: E402


def _draw(a: float, b: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.02, 0.98, n)
    p = 1.0 / (1.0 + np.exp(-(a * np.log(c / (1 - c)) + b)))
    return c, (rng.uniform(size=n) < p).astype(float)


def _nll(a: float, b: float, c: np.ndarray, y: np.ndarray) -> float:
    p = 1.0 / (1.0 + np.exp(-(a * np.log(c / (1 - c)) + b)))
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_the_fit_is_the_likelihoods_maximum_on_a_brute_force_grid():
    c, y = _draw(0.65, -1.7, 600, seed=3)
    a, b = fit_chance_map(c, y)
    grid = [(_nll(ga, gb, c, y), ga, gb) for ga in np.linspace(0.2, 1.4, 121)
            for gb in np.linspace(-3.0, 0.0, 151)]
    best, ga, gb = min(grid)
    assert _nll(a, b, c, y) <= best + 1e-9
    assert (a, b) == pytest.approx((ga, gb), abs=0.03)


def test_a_calibrated_chance_maps_to_itself_and_a_known_map_is_recovered():
    a, b = fit_chance_map(*_draw(1.0, 0.0, 20000, seed=1))
    assert (a, b) == pytest.approx((1.0, 0.0), abs=0.06)
    a, b = fit_chance_map(*_draw(0.6, -1.3, 20000, seed=2))
    assert (a, b) == pytest.approx((0.6, -1.3), abs=0.06)


def test_brier_scores_the_chance_as_the_engine_maps_it():
    c = np.array([0.001, 0.2, 0.5, 0.999])
    y = np.array([0.0, 1.0, 0.0, 1.0])
    m = 1.0 / (1.0 + np.exp(-(0.5 * np.log(c / (1 - c)) - 1.0)))
    assert m[2] == pytest.approx(1.0 / (1.0 + np.exp(1.0)))
    assert brier(c, y, 0.5, -1.0) == pytest.approx(float(np.mean((m - y) ** 2)))
    assert brier(c, y, 1.0, 0.0) == pytest.approx(float(np.mean((c - y) ** 2)))
