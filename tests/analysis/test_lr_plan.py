"""The header's planned learning rate (``lr_plan``): interpolation, the τ clock along it
(against a float64 step-by-step sum) and its validation."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as hst
from pydantic import ValidationError
from scipy import stats

from nht_monitor.analysis.forecast import steps_to_tau
from nht_monitor.analysis.lr_plan import (ANNEALED_SHARE, PlannedLr, plan_of, plan_steps,
                                         planned_lr)
from nht_monitor.runlog.schema import MAX_PLAN_KNOTS, RunHeader

KNOTS = [(1, 1e-3), (100, 1e-3), (1000, 1e-4), (2000, 0.0)]


def header(**fields) -> RunHeader:
    return RunHeader(run_id="p", started_at="2026-12-04T00:00:00Z",
                     model={"class_name": "M", "n_params": 1}, layers=["a"], **fields)


def test_planned_lr_is_linear_between_knots_and_held_outside():
    plan = PlannedLr(KNOTS)
    steps = np.array([0, 1, 50, 100, 550, 1000, 1500, 2000, 5000], dtype=float)
    want = [1e-3, 1e-3, 1e-3, 1e-3, 5.5e-4, 1e-4, 5e-5, 0.0, 0.0]
    assert plan.at(steps) == pytest.approx(want)
    assert [plan(s) for s in steps] == pytest.approx(want)
    assert plan.steps[-1] == 2000


HELD = [(1, 2e-3), (300, 5e-4), (900, 2e-4)]  # 2e-4 held after step 900


@pytest.mark.parametrize("knots, start, delta_tau", [
    (KNOTS, 0, 0.05), (KNOTS, 50, 0.3), (KNOTS, 400, 0.2), (KNOTS, 1500, 0.01),
    (HELD, 0, 0.2), (HELD, 0, 1.5), (HELD, 899, 0.3), (HELD, 5000, 0.01)])
def test_tau_along_the_plan_matches_a_step_by_step_sum(knots, start, delta_tau):
    plan, wd, gain = PlannedLr(knots), 0.7, 1.3
    total, step = 0.0, start
    while total < delta_tau and step < 10 ** 5:  # float64 reference, one step at a time
        step += 1
        total += float(np.interp(step, [k[0] for k in knots], [k[1] for k in knots])) * wd * gain
    want = step - start if total >= delta_tau else None
    got = steps_to_tau(delta_tau, start, 1.0, plan, None, wd, max_steps=10 ** 6, gain=gain)
    assert got == want
    # the same plan given as a plain callable (one call per step) agrees
    assert steps_to_tau(delta_tau, start, 1.0, lambda s: plan(s), None, wd,
                        max_steps=10 ** 6, gain=gain) == want


def test_a_plan_that_anneals_to_zero_never_reaches_what_it_cannot():
    # τ left in the plan after step 1500: (5e-5 / 2) × 500 × 0.7 ≈ 0.00875
    assert steps_to_tau(0.05, 1500, 1.0, PlannedLr(KNOTS), None, 0.7, max_steps=10 ** 6) is None


def test_an_annealed_plan_ends_the_clock_a_plan_held_high_does_not():
    annealed = PlannedLr([(1, 1e-3), (1000, 5e-5)])  # a cosine to 5 % of its peak
    assert annealed.annealed
    left = annealed.total(1000) - annealed.total(900)  # Σ lr of steps 901..1000
    assert annealed.steps_until(left, 900) == 100
    assert annealed.steps_until(left * 1.001, 900) is None  # not 10⁴ more steps at 5e-5
    assert annealed.clocked(np.array([999.0, 1000.0, 1001.0])) == pytest.approx(
        [annealed(999), 5e-5, 0.0])
    wd = 0.5  # the step-by-step path (a weight-decay schedule) ends the clock too
    assert steps_to_tau(left * wd * 1.001, 900, 1.0, annealed, lambda s: wd, wd,
                        max_steps=10 ** 6) is None
    assert steps_to_tau(left * wd * 0.999, 900, 1.0, annealed, lambda s: wd, wd,
                        max_steps=10 ** 6) == 100
    held = PlannedLr([(1, 1e-3), (1000, 2e-4)])  # 20 % of its peak: the lr held after
    assert not held.annealed
    assert held.steps_until(held.total(1000) - held.total(900) + 2e-4 * 50, 900) == 150


def test_plan_of_a_callable_and_its_steps():
    assert plan_steps(3) == [1, 2, 3]
    assert len(plan_steps(10 ** 7)) == 512
    assert plan_of(lambda s: 0.5 / s, 2) == [(1, 0.5), (2, 0.25)]
    assert plan_of(lambda s: 0.1, 1) == [(0, 0.1), (1, 0.1)]
    with pytest.raises(ValueError, match=r"lr_schedule\(1\) failed: KeyError"):
        plan_of({}.__getitem__, 5)


def test_the_header_carries_the_plan_to_the_engine():
    assert planned_lr(header()) is None and planned_lr(None) is None
    read = header(lr_plan=[[1, 1e-3], [10, 0.0]]).to_json_dict()
    assert read["lr_plan"] == [[1, 1e-3], [10, 0.0]]
    assert planned_lr(RunHeader.model_validate(read))(5.5) == pytest.approx(5e-4)


@pytest.mark.parametrize("plan, message", [
    ([[1, 1e-3]], "knots"),
    ([[1, 1e-3]] * (MAX_PLAN_KNOTS + 1), "knots"),
    ([[2, 1e-3], [2, 1e-3]], "increasing"),
    ([[-1, 1e-3], [2, 1e-3]], "non-negative"),
    ([[1, 1e-3], [2, -1.0]], "finite"),
    ([[1, 1e-3], [2, math.inf]], "finite"),
])
def test_a_bad_plan_is_refused(plan, message):
    with pytest.raises(ValidationError, match=message):
        header(lr_plan=plan)


def test_the_budget_verdict_reads_the_early_end_even_when_the_median_is_past_the_plan():
    """A plan whose τ runs out between the forecast's early end and its median: no step
    for the median, but the early end fits, so the run stays ``intermediate``; a plan that
    runs out before the early end makes it ``weak`` (``too_late``)."""
    from nht_monitor.analysis import Analyzer, AnalyzerSettings
    from nht_monitor.analysis.forecast import calibrated_chance
    from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

    lr, wd = 1e-3, 1.0
    norm_of, val_of, head_of, _ = grokking(rate=0.8, ratio=2.0, lr=lr, weight_decay=wd)
    run = make_run(norm_of, steps=3000, lr=lr, weight_decay=wd, acc_of=fit_acc(200),
                   loss_of=fit_loss(200), val_of=lambda s, t: 0.0, head_of=head_of)
    seen = [s for s in run if s.step <= 700]
    held = Analyzer(header(config={"budget_steps": 10 ** 6})).analyze(seen)
    assert held.regime == "intermediate" and held.transition.forecast_step is not None
    early = (held.transition.interval[0] - 700) * lr * wd  # τ to the early end (10 %)
    median = (held.transition.forecast_step - 700) * lr * wd
    assert early < median

    def ending_after(tau_left: float) -> RunHeader:
        last = 700 + round(tau_left / (lr * wd))
        return header(config={"budget_steps": 10 ** 6},
                      lr_plan=[(1, lr), (last, lr), (last + 1, 0.0)])

    alone = AnalyzerSettings(weak_max_chance=None)  # the budget verdict without rule 7e
    between = Analyzer(ending_after(math.sqrt(early * median)), alone).analyze(seen)
    assert between.regime == "intermediate" and between.transition.forecast_step is None
    # its chance: the law's log-normal around the median's Δτ, against the τ the plan
    # holds until the budget summed step by step in float64
    last = 700 + round(math.sqrt(early * median) / (lr * wd))
    held = sum(np.interp(s, [1, last, last + 1], [lr, lr, 0.0]) * wd
               for s in range(701, last + 2))
    t = between.transition
    sd = AnalyzerSettings().delay_log_sd
    raw = stats.norm.cdf(math.log(held / (t.forecast_tau - between.tau)) / sd)
    assert t.chance_in_budget == pytest.approx(calibrated_chance(raw, AnalyzerSettings()),
                                               rel=1e-6)
    short = Analyzer(ending_after(0.5 * early)).analyze(seen)
    assert short.regime == "weak" and "too_late" in short.findings
    said = next(r for r in short.reasons if "beyond the budget" in r)
    left = float(re.search(r"the planned learning rate leaves ([0-9.e-]+) τ until the budget",
                           said).group(1))
    assert left == pytest.approx(0.5 * early, rel=0.05) and said.endswith("of 1e+06 steps")


def test_a_plan_that_ends_before_the_high_end_leaves_the_interval_open():
    """A plan whose τ runs out between the forecast's median and its 90 % quantile: the
    median and the low end stand, the high end is ``None`` (said "never", ``null`` in
    JSON, not a billion steps), and the chance spreads above as below."""
    from nht_monitor.analysis import Analyzer, AnalyzerSettings
    from nht_monitor.analysis.assessment import Assessment
    from nht_monitor.analysis.forecast import calibrated_chance
    from nht_monitor.analysis.text import format_assessment
    from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

    lr, wd, now = 1e-3, 1.0, 700
    norm_of, _, head_of, _ = grokking(rate=0.8, ratio=2.0, lr=lr, weight_decay=wd)
    run = make_run(norm_of, steps=3000, lr=lr, weight_decay=wd, acc_of=fit_acc(200),
                   loss_of=fit_loss(200), val_of=lambda s, t: 0.0, head_of=head_of)
    seen = [s for s in run if s.step <= now]
    budget = {"budget_steps": 10 ** 6}
    free = Analyzer(header(config=budget)).analyze(seen).transition
    median, high = ((x - now) * lr * wd for x in (free.forecast_step, free.interval[1]))
    last = now + round(math.sqrt(median * high) / (lr * wd))
    ended = Analyzer(header(config=budget, lr_plan=[(1, lr), (last, lr), (last + 1, 0.0)]))
    a = ended.analyze(seen)
    t = a.transition
    assert a.regime == "intermediate"
    assert t.forecast_step == pytest.approx(free.forecast_step, abs=1)  # whole steps on a plan
    assert t.interval[0] == pytest.approx(free.interval[0], abs=1) and t.interval[1] is None
    said = next(r for r in a.reasons if "80%:" in r)
    assert said.endswith(f"(80%: {t.interval[0]:.0f}–never: the τ clock stops before the "
                         "belief's 90% quantile)")
    assert f"(80% {t.interval[0]:.0f}–never if it comes)" in format_assessment(a)
    # the budget (10⁶ steps) lies far past the median: the low side's log-normal, mirrored
    below = math.log((t.forecast_step - now) / (t.interval[0] - now)) / stats.norm.ppf(0.9)
    raw = stats.norm.cdf(math.log((10 ** 6 - now) / (t.forecast_step - now)) / below)
    assert t.chance_in_budget == pytest.approx(calibrated_chance(raw, AnalyzerSettings()))
    back = Assessment.model_validate_json(a.model_dump_json())
    assert back.transition.interval == (t.interval[0], None) and back == a


@hsettings(max_examples=300, deadline=None)
@given(gaps=hst.lists(hst.integers(1, 40), min_size=1, max_size=6),
       lrs=hst.lists(hst.one_of(hst.just(0.0), hst.just(5e-324), hst.floats(0.0, 1e-2)),
                     min_size=7, max_size=7),
       start=hst.integers(0, 150), amount=hst.floats(1e-6, 0.5))
@example(gaps=[1, 1, 2], lrs=[0.0, 0.0, 0.0078125, 1e-10, 0.0, 0.0, 0.0], start=4,
         amount=1e-05)  # a tie on the horizon's last step (found by CI)
@example(gaps=[32, 1], lrs=[0.0, 1e-06, 0.0, 0.0, 0.0, 0.0, 0.0], start=32,
         amount=1e-06)  # a tie with an annealed plan's whole sum (found by CI)
@example(gaps=[15], lrs=[0.0008751647355648463, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], start=10,
         amount=0.0008751647355648463)  # a tie with the whole sum, past the horizon
@example(gaps=[15, 1, 1, 1, 1, 1],
         lrs=[0.0008751647355648463, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0078125], start=10,
         amount=0.0008751647355648463)  # a tie, then zero lr for 6 steps (found by CI)
def test_sums_along_the_plan_match_a_step_by_step_reference(gaps, lrs, start, amount):
    """``total`` and ``steps_until`` in closed form against a float64 running sum over
    the integer steps (zero and subnormal learning rates included)."""
    steps = np.cumsum([1] + gaps).tolist()
    lrs = lrs[:len(steps)]
    plan = PlannedLr(list(zip(steps, lrs)))
    horizon = 10 ** 5
    per_step = np.interp(np.arange(1, start + horizon + 1), steps, lrs)
    for n in (start, steps[-1], steps[-1] + 7):
        assert plan.total(n) - plan.total(0) == pytest.approx(per_step[:n].sum(), rel=1e-9,
                                                              abs=1e-15)
    assert plan.annealed == (lrs[-1] < ANNEALED_SHARE * max(lrs))
    if plan.annealed:  # its clock ends with it
        per_step[steps[-1]:] = 0.0
    running = np.cumsum(per_step[start:])
    k = int(np.searchsorted(running, amount, side="left"))
    got = plan.steps_until(amount, start, horizon)
    if got != (None if k == horizon else k + 1):
        # only at a tie: a partial sum equal to amount up to rounding, which the closed
        # form and the running sum may round to either side; the sum stands at amount from
        # the earlier of their steps to just before the later (a step apart, or more over
        # steps of zero learning rate)
        near = horizon + 1 if got is None else int(got)  # None: one step past the horizon
        first, later = sorted((near, k + 1))
        assert running[first - 1] == pytest.approx(amount, rel=1e-12)
        assert running[later - 2] == pytest.approx(amount, rel=1e-12)
