"""One definition of the transition step: the first evaluation at which held-out accuracy
reaches ``done_val_acc``, the same in the rule engine, backtest, scorecard and the demos."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nht_monitor.analysis import AnalyzerSettings
from nht_monitor.analysis.backtest import actual_transition, backtest
from nht_monitor.analysis.facts import facts_from_series
from nht_monitor.analysis.scorecard import RunSummary, scorecard, summarize_run
from nht_monitor.analysis.series import series_from_samples
from nht_monitor.analysis.transition import DEFINITION, first_reached
from nht_monitor.demos.common.transition import TransitionTracker
from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

EVAL_EVERY = 10
FIRST_REACH = 800
"""Held-out accuracy reaches 0.92 here, dips to 0.55 (a loss spike) over 900–1050, then
stays at 1.0 from 1060: the old "stays >= 0.9 to the end" rule said 1060."""


def _val(step: int) -> float:
    if step < FIRST_REACH:
        return 0.05 + 0.8 * step / FIRST_REACH  # below 0.85 until the first reach
    if step < 900:
        return 0.92
    if step <= 1050:
        return 0.55
    return 1.0


def spike_run(steps: int = 1500):
    """A grokking norm curve (fit at step 200) whose held-out accuracy, evaluated every
    ``EVAL_EVERY`` steps, first reaches 0.9 at ``FIRST_REACH``, dips, then recovers."""
    norm_of, _, head_of, _ = grokking(ratio=1.31)
    samples = make_run(norm_of, steps=steps, acc_of=fit_acc(200), loss_of=fit_loss(200),
                       head_of=head_of, val_of=lambda s, t: _val(s))
    for s in samples:
        if s.step % EVAL_EVERY:
            del s.metrics["val_acc"]
    return samples


def test_first_reached_skips_nan_and_says_none_when_never_reached():
    step = np.array([10, 20, 30, 40, 50])
    assert first_reached(step, [0.1, math.nan, 0.95, 0.2, 0.99], 0.9) == 30.0
    assert first_reached(step, [0.1, 0.9, 0.2, 0.2, 0.2], 0.9) == 20.0  # ">=", then a dip
    assert first_reached(step, [math.nan] * 5, 0.9) is None
    assert first_reached(step, [0.1, 0.2, 0.3, 0.4, 0.89], 0.9) is None
    assert "first evaluation" in DEFINITION and "0.9" in DEFINITION


def test_backtest_takes_the_first_reach_not_the_step_after_a_dip():
    samples = spike_run()
    result = backtest(samples, None, assessments=20)
    assert result.actual.step == FIRST_REACH
    assert result.actual.method == "held-out accuracy first reached 0.9"
    series = series_from_samples(samples, AnalyzerSettings())
    assert result.actual.tau == pytest.approx(series.tau[series.step == FIRST_REACH][0])
    # the forecasts are scored at fractions of that step
    assert [p.step for p in result.points] == [80, 200, 400, 600]


def test_the_rule_engine_and_backtest_agree_on_the_step():
    samples = spike_run()
    settings = AnalyzerSettings()
    series = series_from_samples(samples, settings)
    assert facts_from_series(series, settings).val_step == FIRST_REACH
    assert actual_transition(series, settings).step == FIRST_REACH


def test_the_level_is_the_analysis_setting():
    samples = spike_run()
    series = series_from_samples(samples, AnalyzerSettings())
    higher = actual_transition(series, AnalyzerSettings(done_val_acc=0.95))
    assert higher.step == 1060 and higher.method == "held-out accuracy first reached 0.95"
    low = [s.model_copy(update={"metrics": {**s.metrics, "val_acc": 0.5}})
           if "val_acc" in s.metrics else s for s in samples]
    never = actual_transition(series_from_samples(low, AnalyzerSettings()), AnalyzerSettings())
    assert never.step is None and never.method == "held-out accuracy never reached 0.9"


def test_scorecard_delay_counts_to_the_first_reach():
    samples = spike_run()
    settings = AnalyzerSettings()
    summary = summarize_run(samples, None, settings)
    fit_step = facts_from_series(series_from_samples(samples, settings), settings).fit_step
    assert fit_step is not None and fit_step < FIRST_REACH
    assert summary.actual_step == FIRST_REACH
    assert summary.delay == FIRST_REACH - fit_step
    assert summary.v_st == pytest.approx(samples[FIRST_REACH - 1].norm)


def test_demo_tracker_takes_the_first_reach_at_the_analysis_level():
    tracker = TransitionTracker()
    assert tracker.threshold == AnalyzerSettings().done_val_acc
    for s in spike_run():
        if "val_acc" in s.metrics:
            tracker.evaluate(s.step, s.metrics["val_acc"])
    assert tracker.actual_step == FIRST_REACH


def test_demo_tracker_relative_mode_uses_the_same_first_reach_rule():
    rel = TransitionTracker(0.1, mode="relative")
    for step, acc in ((1, 0.1), (2, 0.15), (3, 0.6), (4, 0.3), (5, 0.59)):
        rel.evaluate(step, acc)
    assert rel.actual_step == 3  # 90% of the rise (0.55): 0.595; the dip at 4 is ignored
    with pytest.raises(ValueError, match="threshold"):
        TransitionTracker(mode="relative")


def test_p4_says_no_lead_measured_when_no_run_has_a_lead():
    runs = [RunSummary(run_id=f"r{i}", regime="intermediate", confidence=0.9, lead_steps=None)
            for i in range(3)]
    p4 = next(p for p in scorecard(runs).predictions if p.name == "P4")
    assert p4.status == "n/a" and p4.detail.startswith("no lead measured")
    runs[0].lead_steps = 120.0
    p4 = next(p for p in scorecard(runs).predictions if p.name == "P4")
    assert p4.status == "pass" and "no lead measured" not in p4.detail
