"""The relative fit: a metric's best must have held over ``fit_flat_share`` of the steps so
far, not only over its last ``fit_flat_evals`` evaluations (a steady climb logged every
step is no fit). Checked against a float64 brute force and between the vectorised and the
row-by-row facts."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hst

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.facts import FactTracker, facts_from_series, held_for
from nht_monitor.analysis.series import series_from_samples
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


def held_brute(step, x, tol, share, higher):
    """Row by row, from scratch: walk the running best, note each jump (more than ``tol``
    past the best at the previous jump), compare the last jump's step with the share."""
    out = []
    for i in range(len(x)):
        best, base, last = None, None, None
        for j in range(i + 1):
            v = float(x[j])
            if best is None or (v > best if higher else v < best):
                best = v
                if base is None or (best > base + tol if higher else best < base / (1 + tol)):
                    base, last = best, float(step[j])
        out.append(last <= (1 - share) * float(step[i]))
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(hst.lists(hst.floats(0.0, 1.0), min_size=1, max_size=40),
       hst.sampled_from([0.1, 0.2, 0.5]), hst.booleans())
def test_held_for_matches_the_brute_force(values, share, higher):
    x = np.asarray(values, dtype=np.float64) + (0.0 if higher else 1e-3)  # a loss is > 0
    step = np.arange(1, x.shape[0] + 1, dtype=np.float64) * 3.0
    tol = 0.01 if higher else 0.1
    assert (held_for(step, x, tol, share, higher)
            == held_brute(step, x, tol, share, higher)).all()
    assert held_for(step, x, tol, None, higher).all()


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


def test_a_falling_loss_without_accuracy_needs_its_lowest_to_hold():
    """Loss only, falling 0.5 % a step to 0.08 and then flat (never ≤ 0.05): the last five
    stay within 10 % of the lowest from the start, but the lowest keeps falling."""
    def loss(s):
        return max(0.08, 4.0 * 0.995 ** s)

    off, on = fit_step(per_step(loss_of=loss), OFF), fit_step(per_step(loss_of=loss), ON)
    assert off == 323  # the first step at ≤ 0.2 × the first loss (3.98 at step 1)
    flat_from = math.ceil(math.log(0.08 / 4.0) / math.log(0.995))  # 781: 0.08 from here
    assert flat_from < on <= math.ceil(flat_from / 0.8)


@settings(max_examples=60, deadline=None)
@given(hst.lists(hst.tuples(hst.integers(1, 6), hst.floats(0.0, 1.0)), min_size=1,
                 max_size=80), hst.sampled_from([None, 0.2, 0.5]), hst.booleans())
def test_the_row_by_row_fit_is_the_vectorised_fit(rows, share, as_loss):
    """Random steps apart and random accuracies (or losses): both fit steps agree."""
    st = AnalyzerSettings(fit_flat_share=share, fit_min_acc=0.3, fit_max_loss_ratio=0.9)
    samples, step = [], 0
    for gap, v in rows:
        step += gap
        metrics = {"train_loss": 1.0 + v} if as_loss else {"train_acc": v}
        samples.append(Sample(step=step, tau=step * 1e-3, lr=1e-3, weight_decay=1.0,
                              norm=30.0, metrics=metrics))
    series = series_from_samples(samples, st)
    tracker = FactTracker(st)
    for row in series.rows():
        tracker.add(row)
    assert tracker.facts.fit_step == facts_from_series(series, st).fit_step


def test_still_fitting_says_the_share_the_best_must_hold():
    text = still_fitting(ON, 0.85, 0.4)
    assert "last 5 evaluations stay near their best and it has held over 20% of the " \
        "steps so far" in text
    assert "held over" not in still_fitting(OFF, 0.85, 0.4)
    climbing = Analyzer().analyze(per_step(lambda s: 0.5 + 0.0004 * s, steps=900))
    assert climbing.phase == "fitting"
    assert any("held over 20% of the steps so far" in r for r in climbing.reasons)
