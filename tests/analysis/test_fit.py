"""The fit: an absolute one reads the median of ``fit_median_evals`` evaluations (one noisy
row is no fit), a relative one on accuracy needs its best to have held over
``fit_flat_share`` of the steps so far (a steady climb logged every step is no fit).
Checked against a float64 brute force and between the vectorised and the row-by-row
facts; and what the texts say of it."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hst

from nht_monitor.analysis import Analyzer, AnalyzerSettings, wording
from nht_monitor.analysis.backtest import ActualTransition, BacktestResult, backtest
from nht_monitor.analysis.facts import FactTracker, facts_from_series, held_for
from nht_monitor.analysis.series import series_from_samples
from nht_monitor.analysis.text import format_assessment, format_backtest
from nht_monitor.analysis.wording import still_fitting
from nht_monitor.runlog.schema import Sample

OFF = AnalyzerSettings(fit_flat_share=None)
ON = AnalyzerSettings()  # fit_flat_share 0.2


def per_step(acc_of=None, loss_of=None, steps: int = 1200) -> list[Sample]:
    """One sample per step from step 1, a flat norm, train accuracy and/or loss each step."""
    out = []
    for step in range(1, steps + 1):
        metrics = {}
        if acc_of is not None:
            metrics["train_acc"] = acc_of(step)
        if loss_of is not None:
            metrics["train_loss"] = loss_of(step)
        out.append(Sample(step=step, tau=step * 1e-3, lr=1e-3, weight_decay=1.0, norm=30.0,
                          metrics=metrics))
    return out


def fit_step(samples: list[Sample], st: AnalyzerSettings) -> float | None:
    return facts_from_series(series_from_samples(samples, st), st).fit_step


def held_brute(step, x, tol, share):
    """Row by row, from scratch: walk the running best, note each jump (more than ``tol``
    above the best at the previous jump), compare the last jump's step with the share."""
    out = []
    for i in range(len(x)):
        best, base, last = None, None, None
        for j in range(i + 1):
            v = float(x[j])
            if best is None or v > best:
                best = v
                if base is None or best > base + tol:
                    base, last = best, float(step[j])
        out.append(last <= (1 - share) * float(step[i]))
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(hst.lists(hst.floats(0.0, 1.0), min_size=1, max_size=40),
       hst.sampled_from([0.1, 0.2, 0.5]))
def test_held_for_matches_the_brute_force(values, share):
    x = np.asarray(values, dtype=np.float64)
    step = np.arange(1, x.shape[0] + 1, dtype=np.float64) * 3.0
    assert (held_for(step, x, 0.01, share) == held_brute(step, x, 0.01, share)).all()
    assert held_for(step, x, 0.01, None).all()


def test_a_steady_climb_logged_every_step_is_fitted_only_at_099():
    """Train accuracy 0.5 → 0.99 by 0.0005 a step: five evaluations stay within 0.01 of
    the best from accuracy 0.8 on (step 600), but the best rises all the time."""
    def acc(s):
        return min(0.99, 0.5 + 0.0005 * s)

    assert fit_step(per_step(acc), OFF) == 600  # acc 0.8 reached; 5 evaluations near
    assert fit_step(per_step(acc), ON) == 980  # acc 0.99 reached: the absolute fit


def test_a_plateau_below_099_is_fitted_once_it_held_a_fifth_of_the_steps():
    """Accuracy 0.5, then 0.95 from step 100 on (label noise): five evaluations near the
    best by step 104, but the best jumped at 100, so the fit is read at 100 / 0.8."""
    def acc(s):
        return 0.5 if s < 100 else 0.95

    assert fit_step(per_step(acc), OFF) == 104
    assert fit_step(per_step(acc), ON) == 125


def test_a_loss_alone_keeps_its_five_evaluations():
    """Loss only, falling 0.5 % a step to 0.08 and then flat (never ≤ 0.05): fitted once it
    is at ≤ 0.2 × its first value and its last five lie within 10 % of the lowest (step 323),
    held share or not. A cross-entropy keeps falling on a fitted training set: on a public
    transformer's log without accuracy, the held share read the fit at step 4,976 where
    accuracy reached 0.99 at 999."""
    def loss(s):
        return max(0.08, 4.0 * 0.995 ** s)

    assert fit_step(per_step(loss_of=loss), OFF) == fit_step(per_step(loss_of=loss), ON) == 323


LEVELS = hst.one_of(hst.floats(0.0, 1.0), hst.sampled_from([0.0, 0.01, 0.05, 0.99, 0.995, 1.0]))


@settings(max_examples=120, deadline=None)
@given(hst.lists(hst.tuples(hst.integers(1, 6), LEVELS, hst.floats(1.0, 100.0),
                           hst.floats(1.0, 50.0), hst.one_of(hst.none(), LEVELS)),
                 min_size=1, max_size=80),
       hst.sampled_from([None, 0.2, 0.5]), hst.integers(1, 4), hst.booleans())
def test_the_row_by_row_facts_are_the_vectorised_facts(rows, share, k, as_loss):
    """Random steps apart, random accuracies (or losses) often at the fit level, random
    norms and head norms, held-out accuracy now and then: every fact agrees, the fit dated
    back by its median and V_sc counted from it up to the transition."""
    st = AnalyzerSettings(fit_flat_share=share, fit_median_evals=k, fit_min_acc=0.3,
                          fit_max_loss_ratio=0.9)
    samples, step = [], 0
    for gap, v, norm, head, val in rows:
        step += gap
        metrics = {"train_loss": v} if as_loss else {"train_acc": v}
        if val is not None:
            metrics["val_acc"] = val
        samples.append(Sample(step=step, tau=step * 1e-3, lr=1e-3, weight_decay=1.0,
                              norm=norm, head_norm=head, metrics=metrics))
    series = series_from_samples(samples, st)
    tracker = FactTracker(st)
    for row in series.rows():
        tracker.add(row)
    assert tracker.facts == facts_from_series(series, st)


def test_the_shortcut_norm_is_the_peak_before_the_transition_not_a_regrowth_after():
    """Fitted at 100, the norm peaks at 40 (step 200), decays to 30 when held-out accuracy
    reaches 0.9 (step 600), then grows back to 45: V_sc stays 40 at step 200, live and
    offline, the head's likewise, and the flag (the norm ``flag_drop`` below V_sc) is
    unmoved."""
    samples = []
    for step in range(1, 1001):
        norm = (20 + step / 10 if step <= 200 else 40 - (step - 200) / 40 if step <= 600
                else 30 + (step - 600) / 400 * 15)
        metrics = {"train_acc": 1.0 if step >= 100 else 0.5,
                   "val_acc": 0.95 if step >= 600 else 0.1}
        samples.append(Sample(step=step, tau=step * 1e-3, lr=1e-3, weight_decay=1.0,
                              norm=norm, head_norm=norm / 4, metrics=metrics))
    series = series_from_samples(samples, ON)
    facts = facts_from_series(series, ON)
    tracker = FactTracker(ON)
    for row in series.rows():
        tracker.add(row)
    assert tracker.facts == facts
    assert facts.val_step == 600
    assert (facts.sc_peak, facts.sc_peak_step) == (40.0, 200)
    assert (facts.head_sc_peak, facts.head_sc_peak_step) == (10.0, 200)
    came_down = next(s.step for s in samples
                     if s.step > 200 and s.norm <= (1 - ON.flag_drop) * 40)
    assert facts.flag_step == facts.head_flag_step == came_down
    final = Analyzer().analyze(samples)
    assert final.cns.v_sc == 40.0 and final.transition.status == "done"
    assert "peak 40 at step 200, 12% above it now (grown back)" in final.reasons[0]


def test_one_lucky_minibatch_is_no_fit():
    """Minibatch accuracy 0.95, but a last short batch at 48/48 once an epoch (every 10th
    step from step 3, as a public script's): the single rows at 1.0 set no fit (nor a
    relative one: 0.95 is not near the best, 1.0); read on the latest alone
    (``fit_median_evals=1``) the first of them did."""
    def acc(s):
        return 1.0 if s % 10 == 3 else 0.95

    samples = per_step(acc, steps=300)
    assert fit_step(samples, AnalyzerSettings(fit_median_evals=1)) == 3
    assert fit_step(samples, ON) is None


def test_the_absolute_fit_is_dated_at_its_first_evaluation_and_known_two_later():
    """A clean climb evaluated every 100 steps, 0.99 first at step 500: no fit read at 500
    or 600; at 700 the median of 500–700 confirms it, dated 500, and V_sc counted from
    500 (the norm peaks at 550 and falls after)."""
    samples = []
    for step in range(1, 1001):
        metrics = {"train_acc": min(1.0, step / 500 * 0.99)} if step % 100 == 0 else {}
        samples.append(Sample(step=step, tau=step * 1e-3, lr=1e-3, weight_decay=1.0,
                              norm=50.0 - abs(step - 550) / 20, metrics=metrics))
    for until, fit in ((500, None), (699, None), (700, 500)):
        seen = [s for s in samples if s.step <= until]
        facts = facts_from_series(series_from_samples(seen, ON), ON)
        assert facts.fit_step == fit, until
        tracker = FactTracker(ON)
        for row in series_from_samples(seen, ON).rows():
            tracker.add(row)
        assert tracker.facts == facts
    assert facts.sc_peak_step == 550 and facts.sc_peak == 50.0


def test_still_fitting_says_the_share_the_best_must_hold():
    text = still_fitting(ON, 0.85, 0.4)
    assert "last 5 evaluations stay near their best and it has held over 20% of the " \
        "steps so far" in text
    assert "held over" not in still_fitting(OFF, 0.85, 0.4)
    assert "held over" not in still_fitting(ON, None, 0.4)  # a loss alone: no held share
    climbing = Analyzer().analyze(per_step(lambda s: 0.5 + 0.0004 * s, steps=900))
    assert climbing.phase == "fitting"
    assert any("held over 20% of the steps so far" in r for r in climbing.reasons)


def test_backtest_says_why_it_has_no_point_at_fractions_of_the_delay():
    """A run that generalised while still fitting (a public minibatch script's: the fit
    read at the transition, step 2,801) and one never fitted: the report says so."""
    actual = ActualTransition(step=2801, tau=2.8, method="held-out accuracy first reached 0.9")
    text = format_backtest(BacktestResult(run_id="a", actual=actual, fit_step=2801))
    assert ("no points at fractions of the delay: the fit was read at step 2801, not before "
            "the transition") in text
    assert "the fit was never read" in format_backtest(BacktestResult(actual=actual))
    assert "no points" not in format_backtest(BacktestResult(actual=ActualTransition()))


def test_a_norm_growing_again_after_the_decay_is_not_said_to_decay():
    grows = wording.settled(ON, "total norm", 50.0, 400, 40.0, 0.2, -0.151)
    assert "now grows again at 0.151/τ: no longer decaying, which a transition often " \
        "follows" in grows and "decays at" not in grows
    flat = wording.settled(ON, "total norm", 50.0, 400, 40.0, 0.2, 0.01)
    assert "now decays at 0.01/τ < 0.05: a plateau after the decay" in flat


def test_the_header_calls_the_overall_peak_the_largest_so_far():
    """The norm's largest value (at initialisation, say) is not V_sc, the post-fit peak."""
    a = Analyzer().analyze(per_step(lambda s: min(0.99, 0.5 + 0.001 * s), steps=600))
    assert "norm 30 (largest so far 30), decay rate" in format_assessment(a)


def test_backtest_reads_v_sc_before_the_transition_and_says_why_there_is_no_delay():
    """The norm grows through the transition (a public minibatch run's peak came 360 steps
    after it): V_sc is the largest norm between the fit and the transition, and no law
    delay is measured, which the report says."""
    samples = [Sample(step=s, tau=s * 1e-3, lr=1e-3, weight_decay=1.0, norm=20.0 + s / 100,
                      metrics={"train_acc": min(1.0, s / 100),
                               "val_acc": 0.95 if s >= 300 else 0.1})
               for s in range(1, 601)]
    r = backtest(samples)
    assert r.fit_step == 99 and r.actual.step == 300  # 0.99 at 99, confirmed at 101
    assert r.v_sc_step == 299 and r.delay_tau is None
    assert ("no delay on the τ clock: the norm had not come down from V_sc (step 299) by the "
            "transition") in format_backtest(r)
