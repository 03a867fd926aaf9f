"""``Transition.chance_in_budget``: :func:`chance_by` against scipy's float64 log-normal CDF,
its properties, the calibration map against a float64 logistic, and the engine's
assessments carrying it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as hst
from scipy import stats

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.assessment import Transition
from nht_monitor.analysis.forecast import calibrated_chance, chance_by, chance_past_clock
from tests.analysis.test_rules import grokking_run, header


def lognormal_transition(mu: float, sigma: float, now: float) -> Transition:
    """A forecast whose steps still to go are log-normal(``mu``, ``sigma``): median and
    80 % interval from scipy's quantiles in float64."""
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    return Transition(status="pending", forecast_step=now + dist.median(),
                      interval=(now + dist.ppf(0.1), now + dist.ppf(0.9)))


@pytest.mark.parametrize("mu, sigma", [(math.log(800.0), 0.4), (math.log(5e4), 1.3),
                                       (math.log(20.0), 0.05)])
def test_a_log_normal_forecast_gives_the_log_normal_cdf(mu, sigma):
    now = 1200.0
    t = lognormal_transition(mu, sigma, now)
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    for q in (0.001, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99):
        budget = now + dist.ppf(q)
        assert chance_by(t, now, budget) == pytest.approx(float(dist.cdf(budget - now)),
                                                          abs=1e-9)


@given(median=hst.floats(10.0, 1e6), below=hst.floats(1.01, 50.0),
       above=hst.floats(1.01, 50.0), budget=hst.floats(-1e3, 1e8))
def test_chance_is_a_cdf_through_the_three_quantiles(median, below, above, budget):
    now = 100.0
    t = Transition(status="pending", forecast_step=now + median,
                   interval=(now + median / below, now + median * above))
    c = chance_by(t, now, budget)
    assert 0.0 <= c <= 1.0
    assert c <= chance_by(t, now, budget + 0.1 * abs(budget) + 1.0)
    if median / below >= 1.0:  # the interval's low end is at least a step away
        assert chance_by(t, now, t.interval[0]) == pytest.approx(0.1, abs=1e-9)
    assert chance_by(t, now, t.forecast_step) == pytest.approx(0.5, abs=1e-12)
    assert chance_by(t, now, t.interval[1]) == pytest.approx(0.9, abs=1e-9)


@pytest.mark.parametrize("mu, sigma", [(math.log(800.0), 0.4), (math.log(5e4), 1.3)])
def test_an_open_upper_end_spreads_as_the_low_end(mu, sigma):
    """No step holds the 90 % quantile (the τ clock stops first): above the median the
    log-normal of the low side, as below it."""
    now = 1200.0
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    t = Transition(status="pending", forecast_step=now + dist.median(),
                   interval=(now + dist.ppf(0.1), None))
    for q in (0.001, 0.1, 0.3, 0.5, 0.7, 0.85, 0.899, 0.95, 0.999):
        budget = now + dist.ppf(q)
        assert chance_by(t, now, budget) == pytest.approx(q, abs=1e-9)
    assert t.holds(now + dist.ppf(0.1)) and t.holds(1e12) and not t.holds(now)
    assert Transition(status="pending").holds(5.0) is None


@pytest.mark.parametrize("median, left", [(2.0, 0.5), (2.0, 1.9), (0.3, 0.01), (5.0, 4.99)])
def test_a_median_past_the_plans_clock_has_the_laws_log_normal_chance(median, left):
    """No step for the median (the plan's clock stops first): the chance that the law's
    log-normal Δτ (median the forecast's, log-sd ``delay_log_sd``) fits in the τ the plan
    still holds, against scipy in float64."""
    st = AnalyzerSettings()
    t = Transition(status="pending", forecast_tau=10.0 + median)
    want = stats.lognorm(s=st.delay_log_sd, scale=median).cdf(left)
    assert chance_past_clock(t, 10.0, left, st) == pytest.approx(want, abs=1e-12)
    assert chance_past_clock(t, 10.0, 0.0, st) == 0.0
    assert chance_past_clock(t, 10.0, None, st) is None  # no plan
    stepped = t.model_copy(update={"forecast_step": 900.0, "interval": (800.0, 1000.0)})
    assert chance_past_clock(stepped, 10.0, left, st) is None  # chance_by's
    assert chance_past_clock(t.model_copy(update={"status": "done"}), 10.0, left, st) is None


def test_the_edges():
    t = Transition(status="pending", forecast_step=2000.0, interval=(1500.0, 3000.0))
    assert chance_by(t, 1000.0, None) is None
    assert chance_by(t, 1000.0, 1000.0) == 0.0  # the budget is spent
    assert chance_by(Transition(status="done"), 5.0, None) == 1.0
    assert chance_by(Transition(status="pending"), 5.0, 100.0) is None  # no forecast step
    assert chance_by(Transition(status="not_expected"), 5.0, 100.0) is None
    overdue = Transition(status="imminent", forecast_step=1000.0, interval=(900.0, 1100.0))
    assert chance_by(overdue, 1000.0, 1001.0) == 1.0
    point = Transition(status="pending", forecast_step=2000.0, interval=(2000.0, 2000.0))
    assert chance_by(point, 1000.0, 1999.0) == 0.0 and chance_by(point, 1000.0, 2000.0) == 1.0


def test_the_calibration_map_is_a_logistic_in_the_logit():
    st = AnalyzerSettings(chance_slope=0.5, chance_shift=-1.0)
    for c in (0.02, 0.3, 0.5, 0.9, 0.998):
        z = 0.5 * math.log(c / (1.0 - c)) - 1.0
        assert calibrated_chance(c, st) == pytest.approx(1.0 / (1.0 + math.exp(-z)), rel=1e-12)
    assert calibrated_chance(1.0, st) == calibrated_chance(1 - 1e-6, st)  # CHANCE_CLIP
    assert calibrated_chance(0.0, st) == calibrated_chance(1e-6, st)
    near = AnalyzerSettings()  # the default map can say more than 0.943 (stop 57)
    assert calibrated_chance(1.0, near) > calibrated_chance(0.999, near) > 0.94
    raw = AnalyzerSettings(chance_slope=1.0, chance_shift=0.0)
    assert calibrated_chance(0.37, raw) == pytest.approx(0.37, rel=1e-12)
    for bad in ({"chance_slope": 0.0}, {"chance_slope": float("nan")},
                {"chance_shift": float("inf")}):
        with pytest.raises(ValueError):
            AnalyzerSettings(**bad)


def test_the_engine_reports_the_chance_of_its_own_forecast():
    run, actual, _ = grokking_run()
    budget = 3000
    live = Analyzer(header(num_steps=budget)).analyze(run, until=actual // 2)
    t = live.transition
    assert live.regime == "intermediate" and t.forecast_step is not None
    st = AnalyzerSettings()
    own = chance_by(t, float(live.step), float(budget))
    assert t.chance_in_budget == calibrated_chance(own, st)
    assert 0.5 < t.chance_in_budget < own <= 1.0  # the map folds in runs that never come
    raw = AnalyzerSettings(chance_slope=1.0, chance_shift=0.0)
    tight = Analyzer(header(num_steps=int(t.interval[0])), raw).analyze(run, until=actual // 2)
    assert tight.transition.chance_in_budget == pytest.approx(0.1, abs=0.02)
    no_budget = Analyzer(header()).analyze(run, until=actual // 2)
    assert no_budget.transition.chance_in_budget is None
    done = Analyzer(header(num_steps=budget)).analyze(run)
    assert done.transition.status == "done" and done.transition.chance_in_budget == 1.0
    spent = Analyzer(header(num_steps=actual // 2)).analyze(run, until=actual // 2)
    assert spent.transition.forecast_step is not None
    assert spent.transition.chance_in_budget == 0.0  # not the map's floor: certain


def test_analyze_text_says_the_chance_while_the_transition_is_pending():
    from nht_monitor.analysis.text import format_assessment

    run, actual, _ = grokking_run()
    pending = Analyzer(header(num_steps=3000)).analyze(run, until=actual // 2)
    line = next(x for x in format_assessment(pending).splitlines()
                if x.startswith("transition:"))
    assert line.endswith(f"; {pending.transition.chance_in_budget:.0%} chance it comes "
                         "within the budget")
    done = format_assessment(Analyzer(header(num_steps=3000)).analyze(run))
    assert "chance" not in done
    assert "chance" not in format_assessment(Analyzer(header()).analyze(run, until=actual // 2))


def test_analyze_text_writes_a_kept_forecast_beside_not_expected_as_kept():
    """A `weak` budget verdict keeps its forecast: "not_expected at step 3265" read as a
    transition expected there (a public Grokfast run); now "its forecast kept", and the
    interval "if it comes"."""
    from nht_monitor.analysis.assessment import Assessment, Transition
    from nht_monitor.analysis.text import format_assessment

    kept = Assessment(regime="weak", step=3000, transition=Transition(
        status="not_expected", forecast_step=3265.0, interval=(3118.0, 3471.0),
        steps_remaining=265.0, chance_in_budget=0.0))
    line = next(x for x in format_assessment(kept).splitlines() if x.startswith("transition:"))
    assert line.startswith("transition: not_expected, its forecast kept: step 3265 "
                           "(80% 3118–3471 if it comes)")
    pending = kept.model_copy(update={"transition": kept.transition.model_copy(
        update={"status": "pending"})})
    assert "transition: pending at step 3265 (80% 3118–3471 if it comes)" in format_assessment(
        pending)
    assert format_assessment(kept.model_copy(update={"transition": Transition(
        status="not_expected")})).count("transition: not_expected\n") == 1
