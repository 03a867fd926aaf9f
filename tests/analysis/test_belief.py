"""The law prior as a mixture of log-normals (``delay_tail_weight``), against float64
brute force: scipy's distributions, and a fine grid in log τ for the combined belief."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as hst

from nht_monitor.analysis import AnalyzerSettings
from nht_monitor.analysis.forecast import (Belief, combine, conditional_quantile, law_parts,
                                           log_sf, mixture_quantile)

parts_st = hst.lists(hst.tuples(hst.floats(0.05, 1.0), hst.floats(-1.0, 2.0),
                                hst.floats(0.2, 2.0)), min_size=2, max_size=3)


def normalised(parts):
    total = sum(w for w, _, _ in parts)
    return tuple((w / total, mu, sigma) for w, mu, sigma in parts)


def mixture_reference(parts, elapsed: float, q: float) -> float:
    """scipy's log-normals: the x with sf(x) = (1 − q) · sf(elapsed), by ``brentq``."""
    from scipy import optimize, stats

    dists = [(w, stats.lognorm(s=sigma, scale=math.exp(mu))) for w, mu, sigma in parts]

    def sf(x):
        return sum(w * d.sf(x) for w, d in dists)

    target = (1.0 - q) * sf(elapsed)
    return optimize.brentq(lambda x: sf(x) - target, max(elapsed, 1e-12), 1e9, xtol=1e-14,
                           rtol=1e-13)


@hsettings(max_examples=60, deadline=None)
@given(parts=parts_st, elapsed=hst.floats(0.0, 30.0), q=hst.sampled_from([0.1, 0.5, 0.9]))
def test_mixture_quantile_matches_scipy(parts, elapsed, q):
    parts = normalised(parts)
    got = mixture_quantile(parts, elapsed, q)
    assert got >= elapsed
    assert got == pytest.approx(mixture_reference(parts, elapsed, q), rel=1e-7)


def test_mixture_quantile_far_in_the_tail_follows_the_wide_part():
    """Waited 60 log-sd of the narrow part past the median: the narrow part has no weight
    left (its survival underflows without ``log_sf``), so the quantile is the wide one's."""
    parts = ((0.9, 1.0, 0.1), (0.1, 1.0, 1.5))
    elapsed = math.exp(1.0 + 6.0)
    for q in (0.1, 0.5, 0.9):
        assert mixture_quantile(parts, elapsed, q) == pytest.approx(
            conditional_quantile(1.0, 1.5, elapsed, q), rel=1e-9)


def test_one_part_is_the_log_normal_itself():
    belief = Belief(((1.0, 0.9, 0.7),))
    for elapsed in (0.0, 1.0, 5.0):
        for q in (0.1, 0.5, 0.9):
            assert belief.quantile(elapsed, q) == conditional_quantile(0.9, 0.7, elapsed, q)


def test_log_sf_matches_scipy_and_never_underflows():
    from scipy import stats

    for z in (-40.0, -3.0, 0.0, 1.0, 8.0, 29.9, 30.0, 35.0, 100.0):
        assert log_sf(z) == pytest.approx(stats.norm.logsf(z), rel=1e-3 if z >= 30 else 1e-12)
    assert log_sf(-math.inf) == 0.0 and math.isfinite(log_sf(1e6))


@hsettings(max_examples=30, deadline=None)
@given(tail=hst.floats(0.05, 0.5), mu=hst.floats(-1.0, 3.0), sd=hst.floats(0.1, 1.0),
       q=hst.sampled_from([0.1, 0.5, 0.9]))
def test_the_prior_times_the_decays_estimate_matches_a_grid(tail, mu, sd, q):
    """The law prior (a tail part) times the decay's log-normal estimate, by
    :func:`combine`, has the quantiles of the product of the two densities on a fine grid
    of log τ (float64)."""
    st = AnalyzerSettings(delay_tail_weight=tail)
    prior = law_parts(st)
    belief = Belief(combine(prior, mu, sd))
    x = np.linspace(-12.0, 14.0, 400_001)

    def density(m, s):
        return np.exp(-0.5 * ((x - m) / s) ** 2) / s

    post = sum(w * density(m, s) for w, m, s in prior) * density(mu, sd)
    cdf = np.cumsum(post)
    cdf /= cdf[-1]
    want = math.exp(float(np.interp(q, cdf, x)))
    assert belief.quantile(0.0, q) == pytest.approx(want, rel=2e-4)
    assert sum(w for w, _, _ in belief.parts) == pytest.approx(1.0)


def test_the_law_prior_is_one_log_normal_without_a_tail_and_none_without_a_median():
    assert law_parts(AnalyzerSettings(delay_tail_weight=None)) == (
        (1.0, math.log(3.11), 0.63),)
    assert law_parts(AnalyzerSettings(delay_tail_weight=0.1)) == (
        (0.9, math.log(3.11), 0.63), (0.1, math.log(3.11), 1.5))
    assert law_parts(AnalyzerSettings(delay_tau=None)) == ()
    assert combine((), 0.3, 0.2) == ((1.0, 0.3, 0.2),)


def test_a_part_whose_weight_underflows_is_dropped():
    """Evidence far out in the narrow part's tail (log τ 40 against a prior at log 3.11 with
    sd 0.63) leaves it a weight below the smallest float: the combined belief keeps the wide
    part alone, and its quantiles are that part's (found by hypothesis: a log-weight of 0
    failed the quantile with a math domain error)."""
    prior = ((0.9, math.log(3.11), 0.63), (0.1, math.log(3.11), 1.5))
    combined = combine(prior, 40.0, 0.05)
    assert len(combined) == 1 and combined[0][0] == 1.0
    _, mu, sigma = combined[0]
    precision = 1 / 1.5 ** 2 + 1 / 0.05 ** 2
    assert mu == pytest.approx((math.log(3.11) / 1.5 ** 2 + 40.0 / 0.05 ** 2) / precision)
    assert sigma == pytest.approx(precision ** -0.5)
    belief = Belief(combined)
    assert belief.quantile(2.0, 0.5) == pytest.approx(conditional_quantile(mu, sigma, 2.0, 0.5))
