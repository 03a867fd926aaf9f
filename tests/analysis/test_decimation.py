"""The live history's decimation never loses a logged metric (issue 15).

Metrics logged every 100 steps at odd steps (101, 201, …) past 1,024 samples used to
vanish once the history kept every second row: the live reasons quoted the step-2 train
accuracy for thousands of steps while offline ``analyze`` of the same log quoted the latest.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.series import History, series_from_samples
from nht_monitor.analysis.wording import fmt
from nht_monitor.runlog.schema import Sample
from tests.analysis.synthetic import grokking

LR, WD = 1e-3, 1.0
STEPS = 6000
METRICS = ("loss", "acc", "val")


def logged_at(step: int) -> bool:
    """Metrics at step 2 and every 100 steps at odd steps: 101, 201, …"""
    return step == 2 or step % 100 == 1 and step > 1


def sparse_run(norm_of, acc_of, val_of=None, steps: int = STEPS) -> list[Sample]:
    out, tau = [], 0.0
    for step in range(1, steps + 1):
        tau += LR * WD
        metrics = {}
        if logged_at(step):
            acc = acc_of(step, tau)
            metrics = {"train_acc": acc, "train_loss": max(1e-3, 4.6 * (1.0 - acc))}
            if val_of is not None:
                metrics["val_acc"] = val_of(step, tau)
        out.append(Sample(step=step, tau=tau, lr=LR, weight_decay=WD, norm=norm_of(step, tau),
                          metrics=metrics))
    return out


def slow_fit_run() -> list[Sample]:
    """Train accuracy rising slowly (0.0101 at step 2, 0.9 at the end): still fitting,
    the norm growing slowly."""
    return sparse_run(lambda s, t: 10.0 + 0.001 * s,
                      lambda s, t: 0.01 + 0.89 * s / STEPS if s > 2 else 0.0101)


def grokking_run() -> list[Sample]:
    """Train accuracy rising to 1 at step 2,500 (fitted at step 2,501: metrics every 100
    steps), then the norm decays to V_st (transition ≈ step 3,200)."""
    norm_of, val_of, _, _ = grokking(fit_step=2500, rate=1.0, ratio=2.0, lr=LR, weight_decay=WD)
    return sparse_run(norm_of, lambda s, t: min(1.0, 0.01 + s / 2500), val_of)


def last_finite(values: np.ndarray) -> float | None:
    ok = np.nonzero(np.isfinite(values))[0]
    return float(values[ok[-1]]) if ok.size else None


def live_then_offline(run: list[Sample], settings: AnalyzerSettings | None = None):
    settings = settings or AnalyzerSettings(advice=False)
    live = Analyzer(settings=settings)
    for s in run:
        live.observe(s)
    return live, live.assess(), Analyzer(settings=settings).analyze(run)


def test_live_reasons_quote_the_latest_train_accuracy():
    run = slow_fit_run()
    live, online, offline = live_then_offline(run)
    assert live._history.stride > 1  # decimated
    latest = run[-100].metrics["train_acc"]  # step 5,901
    assert online.regime == offline.regime == "undetermined"
    assert online.phase == offline.phase == "fitting"
    quoted = [r for r in online.reasons if "train acc" in r]
    assert quoted and any(f"train acc {fmt(latest)}" in r for r in quoted), online.reasons
    assert not any(fmt(0.0101) in r for r in online.reasons)
    assert online.reasons == offline.reasons


def test_every_logged_metric_row_survives_while_there_is_room():
    run = slow_fit_run()
    live, _, _ = live_then_offline(run)
    s = live._history.series()
    logged = [float(x.step) for x in run if x.metrics]
    kept = s.step[np.isfinite(s.acc)].tolist()
    assert kept == logged  # 61 metric rows among > 1,024: none decimated away
    assert len(live._history) <= live._history.capacity
    assert s.step[-1] == run[-1].step
    assert np.all(np.diff(s.step) > 0)


def test_live_and_offline_agree_on_the_latest_metrics_at_every_point():
    run = grokking_run()
    settings = AnalyzerSettings(advice=False)
    live = Analyzer(settings=settings)
    offline = series_from_samples(run, settings)
    for sample in run:
        live.observe(sample)
        if sample.step % 250 == 0 or sample.step == run[-1].step:
            s, o = live._history.series(), offline.until(sample.step)
            for col in METRICS:
                assert last_finite(getattr(s, col)) == last_finite(getattr(o, col)), \
                    (sample.step, col)


def test_grokking_with_sparse_metrics_live_agrees_with_offline():
    run = grokking_run()
    live, online, offline = live_then_offline(run)
    assert live._history.stride > 1
    assert offline.regime == "intermediate" and offline.transition.status == "done"
    facts = live._tracker.facts
    assert facts.fit_step == 2501.0 and facts.val_step is not None
    assert online.regime == offline.regime
    assert online.phase == offline.phase
    assert online.transition.status == offline.transition.status
    assert online.transition.forecast_step == offline.transition.forecast_step
    assert online.v_peak == offline.v_peak
    assert online.cns.v_sc == pytest.approx(offline.cns.v_sc)
    assert online.cns.v_st == pytest.approx(offline.cns.v_st, rel=1e-3)


@pytest.mark.parametrize("cutoff", [2000, 2600, 3000, 5000])
def test_grokking_with_sparse_metrics_midway(cutoff):
    """Fitting, just past the fit (the fit row at step 2,501 is in the live history, so the
    decay is fitted from the same point), decaying, done: live says what offline says."""
    run = [s for s in grokking_run() if s.step <= cutoff]
    live, online, offline = live_then_offline(run)
    assert live._history.stride > 1
    assert online.regime == offline.regime
    assert online.phase == offline.phase
    assert online.transition.status == offline.transition.status
    if offline.transition.forecast_step is None:
        assert online.transition.forecast_step is None
    else:
        assert online.transition.forecast_step == pytest.approx(
            offline.transition.forecast_step, rel=1e-6)
    assert online.reasons == offline.reasons


def test_metrics_at_every_step_still_decimate_within_the_cap():
    settings = AnalyzerSettings(advice=False, history_points=64)
    run = [Sample(step=i, tau=i * LR * WD, lr=LR, weight_decay=WD, norm=10.0 + 0.001 * i,
                  metrics={"train_acc": min(1.0, i / 1000), "val_acc": 0.01 + i / 10_000})
           for i in range(1, 5001)]
    live = Analyzer(settings=settings)
    for i, s in enumerate(run):
        live.observe(s)
        assert len(live._history) <= 64
        if i % 97 == 0:
            assert len(live._history.series()) <= 64 + 4
    h = live._history
    assert h.stride > 1 and h.metric_stride > 1
    s = h.series()
    assert len(s) <= 64 + 4
    assert s.step[-1] == 5000 and s.val[-1] == pytest.approx(0.51)
    assert np.all(np.diff(s.step) > 0)
    # the rows kept are spread over the run, not bunched at one end
    assert s.step[0] < 5000 / 8 and np.max(np.diff(s.step)) <= 5000 / 8
    assert live.assess().n_samples == 5000


def test_many_sparse_metrics_are_thinned_among_themselves():
    """More metric rows than the cap: the metric rows are decimated too, memory stays
    bounded, the latest value of each metric is still there."""
    h = History(64)
    nan = math.nan
    for step in range(1, 30_001):
        loss = 1.0 / step if step % 10 == 3 else nan   # every 10 steps
        val = step / 30_000 if step % 1000 == 7 else nan  # every 1,000 steps
        h.append((float(step), step * 1e-3, LR, WD, 10.0, nan, loss, nan, val))
        assert len(h) <= 64
    s = h.series()
    assert len(s) <= 64 + 4
    assert last_finite(s.loss) == pytest.approx(1.0 / 29_993)
    assert last_finite(s.val) == pytest.approx(29_007 / 30_000)
    assert s.step[-1] == 30_000
    loss_steps = s.step[np.isfinite(s.loss)]
    assert loss_steps.shape[0] >= 8 and loss_steps[0] < 30_000 / 4  # spread over the run
    assert np.all(np.diff(s.step) > 0)


def test_rewind_forgets_the_rewritten_latest_metric():
    run = slow_fit_run()[:3000]
    live = Analyzer(settings=AnalyzerSettings(advice=False))
    for s in run:
        live.observe(s)
    assert last_finite(live._history.series().acc) == run[2900].metrics["train_acc"]  # 2,901
    # resumed from a checkpoint at step 2,500: steps from 2,500 on are rewritten
    live.observe(Sample(step=2500, tau=2.5, lr=LR, weight_decay=WD, norm=12.5, metrics={}))
    s = live._history.series()
    assert s.step[-1] == 2500
    assert last_finite(s.acc) == run[2400].metrics["train_acc"]  # step 2,401


def test_heldout_evaluations_are_not_thinned_by_per_step_training_metrics():
    """Training metrics logged every step and held-out accuracy every 50 steps (the usual
    loop): every held-out evaluation stays while there is room (they are thinned only
    among themselves), so the held-out trend and the held-out gate of rule 7d read the
    same evaluations live as offline. Before, 26 of 400 survived."""
    nan = math.nan
    h = History(1024)
    for step in range(1, 20_001):
        val = step / 20_000 if step % 50 == 0 else nan
        h.append((float(step), step * 1e-3, LR, WD, 10.0, nan, 1.0 / step, 0.5, val))
        assert len(h) <= 1024
    s = h.series()
    assert s.step[np.isfinite(s.val)].tolist() == [float(x) for x in range(50, 20_001, 50)]
    assert h.heldout_stride == 1 and h.metric_stride > 1 and h.stride > 1
    assert last_finite(s.loss) == pytest.approx(1.0 / 20_000)
    # ten times more evaluations than room: thinned among themselves, spread over the run
    h = History(256)
    for step in range(1, 50_001):
        val = 0.5 if step % 5 == 0 else nan
        h.append((float(step), step * 1e-3, LR, WD, 10.0, nan, 1.0, nan, val))
        assert len(h) <= 256
    steps = h.series().step[np.isfinite(h.series().val)]
    assert steps.shape[0] >= 256 // 8 and steps[0] < 50_000 / 8
    assert np.max(np.diff(steps)) <= 50_000 / 8 and steps[-1] == 50_000


def test_each_streams_first_row_survives_any_thinning():
    """The first norm, the first training metrics and the first held-out evaluation (where
    each started: chance) stay however far each stream is thinned — the held-out trend's
    progress and the strong rule read them."""
    nan = math.nan
    h = History(64)
    for step in range(1, 40_001):
        acc = step / 40_000 if step % 3 == 2 else nan      # first at step 2
        val = step / 80_000 if step % 7 == 5 else nan      # first at step 5
        h.append((float(step), step * 1e-3, LR, WD, 10.0 + step, nan, acc, acc, val))
        assert len(h) <= 64
    assert h.stride > 1 and h.metric_stride > 1 and h.heldout_stride > 1
    s = h.series()
    assert s.step[0] == 1.0 and s.norm[0] == 11.0
    assert s.step[np.isfinite(s.acc)][0] == 2.0 and s.acc[np.isfinite(s.acc)][0] == 2 / 40_000
    assert s.step[np.isfinite(s.val)][0] == 5.0 and s.val[np.isfinite(s.val)][0] == 5 / 80_000
    assert np.all(np.diff(s.step) > 0) and len(s) <= 64 + 4


def test_the_smallest_history_still_decimates_and_a_smaller_one_is_refused():
    """With each stream's first row kept for good, a store of 3 could never free a
    quarter: such a capacity is refused at construction (settings start at 64); the
    smallest allowed one thins all three streams and stays within its bound."""
    with pytest.raises(ValueError, match="capacity 3 < 8"):
        History(3)
    nan = math.nan
    h = History(History.MIN_CAPACITY)
    for step in range(1, 5001):
        acc = 0.5 if step % 2 == 0 else nan
        val = 0.5 if step % 3 == 0 else nan
        h.append((float(step), step * 1e-3, LR, WD, 10.0, nan, acc, acc, val))
        assert len(h) <= History.MIN_CAPACITY
    s = h.series()
    assert s.step[0] == 1.0 and s.step[-1] == 5000.0 and np.all(np.diff(s.step) > 0)


def test_the_live_clock_peak_rate_counts_every_sample_not_the_decimated_history():
    """Under a short warm-up and a linear decay (transformers' linear schedule with
    warm-up) the clock's peak rate (what sweep references are matched on) lasts a few
    steps: the live facts read it from every observed sample, equal to a float64 brute
    force and to the offline facts, where the decimated history (rows 128 steps apart,
    each gap an average of the rate) reads it 2 % lower. (Under a cosine the peak is
    flat: 0.1 %.)"""
    from nht_monitor.analysis.facts import facts_from_series, peak_rate

    steps, warm = 6000, 60

    def lr_at(step: int) -> float:
        if step <= warm:
            return LR * step / warm
        return LR * (steps - step) / (steps - warm)

    samples, tau = [], 0.0
    for step in range(1, steps + 1):
        tau += lr_at(step) * WD
        samples.append(Sample(step=step, tau=tau, lr=lr_at(step), weight_decay=WD,
                              norm=10.0 + 0.001 * step, metrics={}))
    st = AnalyzerSettings(history_points=64)
    live = Analyzer(None, st)
    for smp in samples:
        live.observe(smp)
    brute = max((b.tau - a.tau) / (b.step - a.step) for a, b in zip(samples, samples[1:]))
    assert live._tracker.facts.peak_rate == pytest.approx(brute, rel=1e-12)
    assert facts_from_series(series_from_samples(samples, st), st).peak_rate == pytest.approx(
        brute, rel=1e-12)
    history = live._history.series()
    assert len(history) <= 2 * 64 and peak_rate(history.step, history.tau) < 0.985 * brute
