"""Sweep-calibrated λ advice on calibrations with known answers (hand-computed)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nht_monitor.analysis.advice import (
    FEW_RUNS_MARGIN,
    MIN_MARGIN,
    SLOW_MARGIN,
    CalibrationRun,
    DelayLaw,
    advise,
    calibrate,
    solve_rate,
)
from nht_monitor.analysis.assessment import Assessment, Transition

LR = 1e-2


def _run(wd: float, *, fit: float | None = 100.0, delay: float | None = None,
         steps: float = 3000.0) -> CalibrationRun:
    return CalibrationRun(run_id=f"wd{wd:g}", lr=LR, weight_decay=wd, steps=steps,
                          fit_step=fit,
                          transition_step=None if delay is None else fit + delay)


def _sweep(strong: bool = True) -> list[CalibrationRun]:
    """Delay exactly 100 + 1/(ηλ) after a fit at step 100; λ = 0.01 never transitions in
    3000 steps; λ = 10 never fits (strong)."""
    runs = [_run(0.01)]
    runs += [_run(wd, delay=100 + 1 / (LR * wd)) for wd in (0.1, 0.3, 1.0, 3.0)]
    if strong:
        runs.append(_run(10.0, fit=None))
    return runs


def _weak(**kw) -> Assessment:
    base = dict(run_id="weak", n_samples=300, step=3000, tau=0.3, lr=LR, weight_decay=0.01,
                norm=100.0, v_peak=100.0, regime="weak")
    base.update(kw)
    return Assessment(**base)


def test_the_law_is_fitted_with_scipy_and_the_range_stops_at_the_strong_side():
    cal = calibrate(_sweep())
    assert cal.law.slope == pytest.approx(1.0) and cal.law.intercept == pytest.approx(100.0)
    assert cal.law.r_squared == pytest.approx(1.0) and cal.law.n == 4
    assert cal.fitted_max_rate == pytest.approx(LR * 3.0)
    assert cal.strong_rate == pytest.approx(LR * 10.0)
    assert len(cal.transitioned) == 4


def test_weak_run_gets_the_smallest_lambda_whose_bound_fits_the_budget():
    # exact line, no residual: bound = (100 + 100 + 1/r)·(1 + MIN_MARGIN) ≤ 1000
    # → 1/r ≤ 1000/1.25 − 200 = 600 → r = 1/600, λ = r/η = 0.1667
    adv = advise(_weak(), budget_steps=1000, calibration=calibrate(_sweep()))
    assert MIN_MARGIN == 0.25
    assert adv.action == "raise_weight_decay" and adv.basis == "sweep"
    assert adv.suggested_weight_decay == pytest.approx(1 / 600 / LR, rel=1e-4)
    assert adv.forecast_steps == pytest.approx(800, rel=1e-4)  # 100 + 100 + 600
    assert adv.forecast_bound_steps == pytest.approx(1000, rel=1e-4)
    assert adv.alternatives["largest_fitted"] == pytest.approx(100 + 100 + 1 / (LR * 3))
    assert adv.calibration["transitioned"] == 4
    assert adv.calibration["max_usable_weight_decay"] == pytest.approx(3.0)
    assert "Calibrated on 6 runs of this task, 4 reached the transition" in adv.text
    assert "λ ≈ 0.167 (×16.7)" in adv.text and "1,000-step budget" in adv.text
    assert "assumed" not in adv.text
    json.dumps(adv.model_dump(mode="json"), allow_nan=False)


def test_never_past_the_largest_lambda_that_fitted():
    # a 300-step budget would need 1/r ≤ 300/1.25 − 200 = 40 → λ = 2.5 < 3: allowed;
    # a 250-step budget needs 1/r ≤ 0 → no λ; the fastest, λ = 3, is reported
    cal = calibrate(_sweep())
    ok = advise(_weak(), budget_steps=300, calibration=cal)
    assert ok.suggested_weight_decay == pytest.approx(2.5, rel=1e-4)
    none = advise(_weak(), budget_steps=250, calibration=cal)
    assert none.action == "none" and none.suggested_weight_decay is None
    assert "No λ inside the range where training was seen to fit" in none.text
    assert "The largest usable λ, 3," in none.text
    # and the strong run's λ caps the range even when a faster fit would help
    assert solve_rate(cal, 250.0, LR * 0.01) is None


def test_a_slow_run_on_the_strong_side_does_not_bar_smaller_lambdas():
    # λ = 3 fitted late and ran 3000 steps without the transition: that is the strong
    # side slowing down, not a sign that λ ≤ 3 is too slow
    runs = [r for r in _sweep() if r.weight_decay != 3.0] + [_run(3.0, fit=400.0)]
    cal = calibrate(runs)
    assert cal.slow_rate(1000.0) == pytest.approx(LR * 0.01)  # only the weak λ = 0.01
    adv = advise(_weak(), budget_steps=1000, calibration=cal)
    assert adv.action == "raise_weight_decay" and adv.suggested_weight_decay < 1.0


def test_past_the_earliest_transition_the_law_and_the_search_stop():
    # near the strong side the fit slows and the transition comes later again: λ = 3
    # fits at step 300 and transitions at 800, later than λ = 1 (at 300)
    runs = [r for r in _sweep() if r.weight_decay != 3.0]
    runs.append(_run(3.0, fit=300.0, delay=500.0))
    cal = calibrate(runs)
    assert cal.fastest_rate == pytest.approx(LR * 1.0)
    assert cal.fitted_max_rate == pytest.approx(LR * 1.0)
    assert cal.law.n == 3 and cal.law.slope == pytest.approx(1.0)  # λ = 3 left out
    assert "the earliest transition at λ = 1, later again at λ = 3" in cal.describe(LR)
    # 1.25·(100 + 100 + 100) = 375 at λ = 1: a 350-step budget is not met, and λ = 3
    # is not tried
    adv = advise(_weak(), budget_steps=350, calibration=cal)
    assert adv.action == "none" and "The largest usable λ, 1," in adv.text


def test_lambdas_seen_too_slow_for_the_budget_are_excluded():
    # a run at λ = 0.1 that ran 5000 steps without the transition contradicts the law
    # there; a 6000-step budget would be met at λ = 0.01 per the law, but not below 0.1
    runs = [r for r in _sweep() if r.weight_decay != 0.1]
    runs.append(_run(0.1, steps=6000.0))
    cal = calibrate(runs)
    assert cal.slow_rate(6000.0) == pytest.approx(LR * 0.1)
    adv = advise(_weak(), budget_steps=6000, calibration=cal)
    assert adv.suggested_weight_decay > 0.1


def test_weak_run_inside_the_law_keeps_lambda():
    # the law says λ = 0.3 reaches the transition by step 100 + 100 + 333 = 533: a short
    # weak-looking run at 0.3 that has not got there yet keeps it
    adv = advise(_weak(weight_decay=0.3, step=300), budget_steps=1000,
                 calibration=calibrate(_sweep()))
    assert adv.action == "keep" and adv.suggested_weight_decay == 0.3
    assert adv.forecast_steps == pytest.approx(100 + 100 + 1 / (LR * 0.3))


def test_strong_run_is_lowered_into_the_fitted_range():
    cal = calibrate(_sweep())
    adv = advise(_weak(regime="strong", weight_decay=10.0, norm=5.0, v_peak=30.0),
                 budget_steps=1000, calibration=cal)
    assert adv.action == "lower_weight_decay" and adv.basis == "sweep"
    assert adv.suggested_weight_decay == pytest.approx(1 / 600 / LR, rel=1e-4)
    assert "Lower weight decay to λ ≈ 0.167" in adv.text


def test_intermediate_over_budget_uses_the_sweep_first():
    a = _weak(regime="intermediate", weight_decay=0.1, step=500,
              transition=Transition(status="pending", forecast_step=1300.0,
                                    steps_remaining=800.0))
    adv = advise(a, budget_steps=1000, calibration=calibrate(_sweep()))
    assert adv.basis == "sweep" and adv.suggested_weight_decay == pytest.approx(0.1667, rel=1e-3)


def test_one_transitioned_run_gives_its_own_delay_through_the_origin():
    # one measured delay: 110 steps after the fit at ηλ = 1e-2 (λ = 1)
    cal = calibrate([_run(1.0, delay=110.0)])
    assert cal.law.r_squared is None and cal.law.slope == pytest.approx(1.1)
    adv = advise(_weak(), budget_steps=2000, calibration=cal)
    # (100 + 1.1/r)·(1 + FEW_RUNS_MARGIN) ≤ 2000 → 1.1/r ≤ 1233.3 → λ = 1.1/1233.3/η
    assert FEW_RUNS_MARGIN == 0.5
    assert adv.suggested_weight_decay == pytest.approx(1.1 / (2000 / 1.5 - 100) / LR, rel=1e-4)
    assert "through the origin" in adv.text
    # above the one λ seen to fit, nothing is known: a budget that would need more gives
    # no number
    short = advise(_weak(), budget_steps=250, calibration=cal)  # 1.5·(100 + 110) > 250
    assert short.action == "none" and "run a larger λ" in short.text


def test_calibration_without_a_transition_gives_no_number():
    cal = calibrate([_run(0.01), _run(0.1), _run(10.0, fit=None)])
    assert cal.law is None
    adv = advise(_weak(), budget_steps=1000, calibration=cal)
    assert adv.action == "none" and adv.suggested_weight_decay is None
    assert "none of the 3 runs given reached the transition" in adv.text
    assert "run the largest λ that fitted, 0.1, for longer than 3,000 steps" in adv.text
    assert "between 0.1 and 10" in adv.text


def test_a_transition_at_the_fit_measures_no_delay_and_stays_out_of_the_law():
    """A public Grokfast sweep: λ 3 transitioned (1,710) before its fit (1,760), λ 1 and
    0.3 fitted and had not by 3,000. The law was "delay ≈ 0·1/(ηλ)" — the transition at
    the fit for every λ — and the advice forecast 1,559 at λ 1.25; now no law, and the
    advice names the λ that transitioned, as it ran."""
    runs = [_run(3.0, fit=1760.0, delay=-50.0), _run(1.0, fit=1520.0),
            _run(0.3, fit=2390.0)]
    cal = calibrate(runs)
    assert cal.law is None and len(cal.transitioned) == 1
    assert cal.fastest_rate == pytest.approx(LR * 3.0)
    weak = _weak(weight_decay=0.3)
    adv = advise(weak, budget_steps=3000, calibration=cal)
    assert adv.action == "raise_weight_decay" and adv.basis == "sweep"
    assert adv.suggested_weight_decay == pytest.approx(3.0)
    assert adv.forecast_steps == pytest.approx(1710.0)
    assert "0·1/(ηλ)" not in adv.text
    assert ("No delay law: 1 of the 3 runs given reached the transition, none after a delay "
            "(at or before the fit). At λ = 3 a run reached it at step 1,710, within the "
            "3,000-step budget: raise weight decay to λ ≈ 3 (×10)") in adv.text
    short = advise(weak, budget_steps=1500, calibration=cal)  # 1,710 is past it
    assert short.action == "none" and short.suggested_weight_decay is None
    assert ("1 of the 3 runs given reached the transition, none after a delay (at or before "
            "the fit)") in short.text
    # a larger λ that transitioned later, after a delay, is past the earliest: said so
    later = calibrate([*runs, _run(5.0, fit=1000.0, delay=900.0)])
    assert later.law is None and len(later.transitioned) == 2
    assert ("No delay law: 2 of the 4 runs given reached the transition, none up to λ = 3 "
            "(the earliest transition) after a delay (at or before the fit)."
            ) in advise(weak, budget_steps=3000, calibration=later).text
    above = advise(_weak(weight_decay=5.0), budget_steps=3000, calibration=cal)
    assert above.suggested_weight_decay != pytest.approx(3.0)  # never lowered onto it
    # beside a run with a delay, the law is that run's alone
    law = calibrate([*runs, _run(2.0, delay=110.0)]).law
    assert law.n == 1 and law.slope == pytest.approx(110.0 * LR * 2.0)


def test_prediction_interval_widens_the_bound():
    # noisy delays: the bound is above the fitted value by more than the margin floor far
    # from the data
    law = DelayLaw.fit([1e-3, 3e-3, 1e-2, 3e-2], [1100.0, 300.0, 160.0, 90.0])
    assert law.resid_sd > 0
    far, near = law.spread(1e-4, 0.9), law.spread(5e-3, 0.9)
    assert far > near > 0


@settings(max_examples=200, deadline=None)
@given(regime=st.sampled_from(["weak", "intermediate", "strong"]),
       wd=st.floats(0, 100), lr=st.floats(1e-6, 1.0),
       budget=st.one_of(st.none(), st.integers(1, 10**7)),
       delays=st.lists(st.floats(0, 1e6), min_size=0, max_size=5))
def test_calibrated_advice_never_raises(regime, wd, lr, budget, delays):
    runs = [CalibrationRun(run_id=str(i), lr=lr, weight_decay=0.1 * 3 ** i, steps=1e4,
                           fit_step=50.0, transition_step=50.0 + d)
            for i, d in enumerate(delays)]
    adv = advise(_weak(regime=regime, weight_decay=wd, lr=lr), budget_steps=budget,
                 calibration=calibrate(runs))
    assert adv.text
    json.dumps(adv.model_dump(mode="json"), allow_nan=False)
    if adv.action != "keep" and adv.basis == "sweep" and adv.suggested_weight_decay:
        assert adv.suggested_weight_decay * lr <= max(r.rate for r in runs) * (1 + 1e-9)


def test_a_lambda_seen_too_slow_is_never_kept():
    # the external check (danielmamay/grokking): λ = 1.5 and 2 transitioned early, λ = 0.8
    # ran the whole 3000-step budget without it; the law (through the two) forecasts
    # λ = 0.8 well inside the budget, but the run contradicts it: raise, by SLOW_MARGIN
    runs = [_run(wd, delay=100 + 1 / (LR * wd)) for wd in (1.5, 2.0)] + [_run(0.8)]
    cal = calibrate(runs)
    assert cal.slow_rate(3000.0) == pytest.approx(LR * 0.8)
    assert float(cal.forecast(LR * 0.8)[1]) < 3000.0  # the law alone would say "keep"
    adv = advise(_weak(weight_decay=0.8, regime="intermediate"), budget_steps=3000,
                 calibration=cal)
    assert adv.action == "raise_weight_decay"
    assert adv.suggested_weight_decay == pytest.approx(0.8 * SLOW_MARGIN, rel=1e-9)
    assert "Runs at λ ≤ 0.8 ran 3,000 steps without the transition" in adv.text
    assert "the law is optimistic here" in adv.text
    assert solve_rate(cal, 3000.0, LR * 0.8) == pytest.approx(LR * 0.8 * SLOW_MARGIN)


def test_a_slow_lambda_the_law_puts_past_its_steps_agrees_with_the_law():
    """A λ that ran its steps without the transition where the law, too, puts it later
    (a public Lightning run at λ 0.1: "although the law puts it at step ≈ 10,731 … the
    law is optimistic here" after 6,000 steps) is said to agree with the law."""
    runs = [_run(wd, delay=100 + 1 / (LR * wd)) for wd in (1.5, 2.0)] + [_run(0.02)]
    cal = calibrate(runs)
    law_now = float(cal.forecast(LR * 0.02)[0])
    assert law_now > 3000.0
    adv = advise(_weak(weight_decay=0.02), budget_steps=3000, calibration=cal)
    assert ("Runs at λ ≤ 0.02 ran 3,000 steps without the transition, as the law expects "
            f"(it puts it at step ≈ {law_now:,.0f} for λ = 0.02)") in adv.text, adv.text
    assert "optimistic" not in adv.text
