"""Hypothesis: the analyzer never raises, and its rules never fail, whatever the sequence
(finite or not)."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.assessment import REGIMES, Assessment
from nht_monitor.runlog.schema import Sample

anyfloat = st.floats(allow_nan=True, allow_infinity=True, width=64)
positive = st.one_of(st.floats(min_value=0.0, max_value=1e6), st.just(math.nan), st.just(math.inf))
maybe = st.one_of(st.none(), anyfloat)


@st.composite
def samples(draw, max_size=60):
    n = draw(st.integers(min_value=0, max_value=max_size))
    steps = draw(st.lists(st.integers(min_value=0, max_value=200), min_size=n, max_size=n))
    out = []
    for step in steps:
        metrics = {}
        for key in draw(st.sets(st.sampled_from(["train_loss", "train_acc", "val_acc"]))):
            metrics[key] = draw(anyfloat)
        out.append(Sample(step=step, tau=draw(anyfloat), lr=draw(positive),
                          weight_decay=draw(positive), norm=draw(anyfloat),
                          head_norm=draw(maybe), metrics=metrics))
    return out


def _check(a: Assessment) -> None:
    assert isinstance(a, Assessment)
    assert a.regime in REGIMES
    assert 0.0 <= a.confidence <= 1.0
    Assessment.model_validate_json(a.model_dump_json())  # serialisable, round-trips
    # the analyzer turns any exception into the reason "analysis failed: …": not raising
    # is only worth something if the rules did not fail either
    assert not [r for r in a.reasons if r.startswith("analysis failed")], a.reasons


SMALL = AnalyzerSettings(min_samples=3, clamp_window=3, history_points=64)

# held-out accuracy reached before the fit, and a zero norm after it (V_sc = 0): the clean
# norm separation once divided by V_sc
ZERO_NORM_AFTER_FIT = [Sample(step=i, tau=i * 1e-3, lr=1e-3, weight_decay=1.0,
                              norm=5.0 if i < 5 else 0.0,
                              metrics={"train_acc": 0.2 if i < 5 else 1.0, "val_acc": 0.95})
                       for i in range(1, 12)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples())
@example(ZERO_NORM_AFTER_FIT)
def test_analyze_never_raises(run):
    _check(Analyzer(settings=SMALL).analyze(run))
    _check(Analyzer().analyze(run))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples(max_size=80))
@example(ZERO_NORM_AFTER_FIT)
def test_live_updates_never_raise(run):
    live = Analyzer(settings=SMALL)
    for i, s in enumerate(run):
        live.observe(s)
        if i % 4 == 0:
            _check(live.assess())
    _check(live.assess())


finite_norm = st.floats(min_value=1e-6, max_value=1e6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(finite_norm, min_size=1, max_size=150),
       st.floats(min_value=1e-5, max_value=1e-1), st.floats(min_value=0.0, max_value=30.0))
def test_finite_sequences_give_consistent_assessments(norms, lr, wd):
    run = [Sample(step=i + 1, tau=(i + 1) * lr * wd, lr=lr, weight_decay=wd, norm=v,
                  metrics={"train_loss": 0.01, "train_acc": 1.0}) for i, v in enumerate(norms)]
    a = Analyzer().analyze(run)
    _check(a)
    assert a.n_samples == len(norms)
    assert a.v_peak == max(norms)
    if a.transition.forecast_step is not None and a.transition.status != "done":
        lo, hi = a.transition.interval
        assert lo <= a.transition.forecast_step <= hi
        assert a.transition.forecast_step >= a.step


def test_peak_rate_of_a_clock_near_the_float_limit_warns_nothing():
    """Consecutive τ of opposite huge signs overflow their difference: that gap is skipped
    (as a non-finite one), without a RuntimeWarning into the caller's log."""
    import warnings

    import numpy as np

    from nht_monitor.analysis.facts import peak_rate

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert peak_rate(np.array([1.0, 2.0, 3.0]), np.array([-1.7e308, 1.7e308, 1.7e308])) == 0.0
        assert peak_rate(np.array([1.0, 2.0, 4.0]), np.array([0.0, 1.0, 3.0])) == 1.0
