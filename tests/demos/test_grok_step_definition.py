"""The modular-arithmetic demo's grok step is backtest's actual transition on the run's
own log (the one definition of docs/FORECAST.md), in the batched sweep and in one run."""

from __future__ import annotations

from nht_monitor import read_run
from nht_monitor.analysis.assess import log_settings
from nht_monitor.analysis.backtest import backtest
from nht_monitor.analysis.transition import DEFINITION
from nht_monitor.demos.modular_arithmetic import ModArithConfig, train_run, train_sweep
from nht_monitor.demos.modular_arithmetic.cli import summary

SMALL = dict(p=31, width=32, embed_dim=16, lr=3e-2, steps=300, eval_every=10)
"""Seconds on a CPU: λ = 0.5, 1, 1.5 grok within 300 steps, 2 does not. λ = 1.5 reaches
0.9 at step 190 and ends at 0.93: its grok step under the old "stayed >= 0.95 to the
end" rule was None."""


def actual_step(path) -> float | None:
    """What ``nht-monitor backtest PATH`` reports as the actual transition step."""
    run = read_run(path)
    return backtest(run.samples, run.header, log_settings(run.header), assessments=5).actual.step


def test_sweep_grok_steps_are_backtests_actual_transitions(tmp_path):
    results = train_sweep(ModArithConfig(log_dir=tmp_path, **SMALL), [0.5, 1, 1.5, 2])
    grok = {r.weight_decay: r.grok_step for r in results}
    assert sum(g is not None for g in grok.values()) >= 2, grok
    assert grok[2.0] is None, grok
    for r in results:
        assert r.grok_step == actual_step(r.log_path), r.weight_decay
    text = summary(results, 1.0, sweep=True)
    assert DEFINITION in text and "stayed" not in text


def test_grok_step_follows_the_monitors_done_val_acc(tmp_path):
    """A run watched with another ``done_val_acc`` reports its grok step at that level,
    and backtest reads the same level from the log's header."""
    cfg = ModArithConfig(log_dir=tmp_path, weight_decay=1.0, **SMALL)
    default = train_run(cfg.model_copy(update={"run_id": "default"}))
    strict = train_run(cfg.model_copy(update={"run_id": "strict"}),
                       monitor_kwargs={"analysis": {"done_val_acc": 0.98}})
    assert default.grok_step is not None and strict.grok_step is not None
    assert strict.grok_step > default.grok_step
    assert default.grok_step == actual_step(default.log_path)
    assert strict.grok_step == actual_step(strict.log_path)
