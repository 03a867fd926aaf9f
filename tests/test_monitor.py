"""watch(): the hook, the clock, the log it writes, and its behaviour under failure."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

import nht_monitor
from nht_monitor import read_run
from nht_monitor.live.monitor import _MAX_IN_FLIGHT
from tests.conftest import TinyNet, tiny_batch, train_steps


def params_norm(params) -> float:
    """The float64 L2 norm over ``params``."""
    return math.sqrt(math.fsum(float(torch.linalg.vector_norm(p.detach().double()) ** 2)
                               for p in params))


def ref_norm(model: nn.Module, names=None) -> float:
    """:func:`params_norm` over the modules ``names`` (all: ``None``)."""
    return params_norm(p for name, module in model.named_modules()
                       if names is None or name in names
                       for p in module.parameters(recurse=False))


@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW"])
def test_samples_every_step_with_scheduler_and_two_groups(tiny_net, log_dir, opt_name):
    decay = [tiny_net.conv.weight, tiny_net.hidden.weight, tiny_net.fc.weight]
    no_decay = [tiny_net.conv.bias, tiny_net.hidden.bias, tiny_net.fc.bias]
    cls = getattr(torch.optim, opt_name)
    optimizer = cls([{"params": no_decay, "weight_decay": 0.0},
                     {"params": decay, "weight_decay": 0.5}], lr=0.05)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="r1", assess=False)
    train_steps(tiny_net, optimizer, 6, monitor=monitor, scheduler=scheduler)
    monitor.close()

    run = read_run(log_dir / "r1.jsonl")
    assert [s.step for s in run.samples] == [1, 2, 3, 4, 5, 6]
    # the biases, not decayed, are layers of their own, left out of the norm
    assert run.header.layers == ["conv", "conv.bias", "hidden", "hidden.bias", "fc", "fc.bias"]
    assert run.header.config["norm_scope"] == "decayed"
    assert run.header.config["undecayed_layers"] == ["conv.bias", "hidden.bias", "fc.bias"]
    assert run.header.head == "fc"
    assert run.header.config["clock_group"] == 1  # the decayed group with most elements
    # lr used at steps 1..6 is 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125; λ = 0.5
    lrs = [0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125]
    expected_tau = [sum(lr * 0.5 for lr in lrs[: i + 1]) for i in range(6)]
    assert [s.tau for s in run.samples] == pytest.approx(expected_tau)
    assert [s.lr for s in run.samples] == pytest.approx(lrs)
    assert all(s.weight_decay == 0.5 for s in run.samples)
    groups = run.samples[-1].groups
    assert groups is not None and len(groups) == 2
    assert groups[0].tau == 0.0 and groups[1].tau == pytest.approx(expected_tau[-1])
    last = run.samples[-1]
    assert last.norm == pytest.approx(params_norm(decay), rel=1e-5)
    assert last.head_norm == pytest.approx(params_norm([tiny_net.fc.weight]), rel=1e-5)
    assert last.layer_norms["conv"] == pytest.approx(params_norm([tiny_net.conv.weight]),
                                                     rel=1e-5)
    assert last.layer_norms["fc.bias"] == pytest.approx(params_norm([tiny_net.fc.bias]),
                                                        rel=1e-5)
    assert last.grad_norm is not None and last.grad_norm > 0
    assert set(last.layer_grad_norms) == set(run.header.layers)
    assert all("train_loss" in s.metrics for s in run.samples)


@pytest.mark.parametrize("scope", ["decayed", "all"])
def test_the_norm_is_over_what_weight_decay_acts_on(tiny_net, log_dir, scope):
    """Norm gains and biases in a group without weight decay and a frozen layer (in no
    group) only add a constant: by default the norm leaves them out; ``norm_scope="all"``
    keeps every parameter, one layer per module as before. Every parameter decayed, or
    none: the layers and the norm are the plain ones."""
    tiny_net.hidden.requires_grad_(False)
    optimizer = torch.optim.AdamW(
        [{"params": [tiny_net.conv.weight, tiny_net.fc.weight], "weight_decay": 0.1},
         {"params": [tiny_net.conv.bias, tiny_net.fc.bias], "weight_decay": 0.0}], lr=0.01)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id=scope,
                                assess=False, norm_scope=scope)
    train_steps(tiny_net, optimizer, 3, monitor=monitor)
    monitor.close()
    run = read_run(log_dir / f"{scope}.jsonl")
    last = run.samples[-1]
    if scope == "all":
        assert run.header.layers == ["conv", "hidden", "fc"]
        assert "undecayed_layers" not in run.header.config
        assert last.norm == pytest.approx(ref_norm(tiny_net), rel=1e-5)
        return
    assert run.header.layers == ["conv", "conv.bias", "hidden", "fc", "fc.bias"]
    assert run.header.config["undecayed_layers"] == ["conv.bias", "hidden", "fc.bias"]
    assert last.norm == pytest.approx(
        params_norm([tiny_net.conv.weight, tiny_net.fc.weight]), rel=1e-5)
    assert last.head_norm == pytest.approx(params_norm([tiny_net.fc.weight]), rel=1e-5)
    assert math.fsum(v ** 2 for v in last.layer_norms.values()) == pytest.approx(
        ref_norm(tiny_net) ** 2, rel=1e-5)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_one_decay_for_all_keeps_the_plain_layers(tiny_net, log_dir, weight_decay):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=0.01, weight_decay=weight_decay)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="plain",
                           assess=False) as monitor:
        train_steps(tiny_net, optimizer, 2, monitor=monitor)
    run = read_run(log_dir / "plain.jsonl")
    assert run.header.layers == ["conv", "hidden", "fc"]
    assert run.samples[-1].norm == pytest.approx(ref_norm(tiny_net), rel=1e-5)


def test_metrics_logged_after_a_step_belong_to_that_step(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="m", assess=False) as mon:
        for step in range(1, 5):
            train_steps(tiny_net, optimizer, 1)
            mon.log(step_echo=step, as_tensor=torch.tensor(step * 10.0))
    samples = read_run(log_dir / "m.jsonl").samples
    assert [(s.step, s.metrics["step_echo"], s.metrics["as_tensor"]) for s in samples] == [
        (1, 1, 10), (2, 2, 20), (3, 3, 30), (4, 4, 40)]


def test_samples_are_finalised_in_batches_every_write_interval(tiny_net, log_dir, monkeypatch):
    """Host-side work (log line, rule engine, exporter state) is done in batches: not
    before ``write_interval`` has passed, then for every completed sample at once;
    ``poll()``/``flush()``/``close()`` do it on demand and nothing is lost."""
    clock = {"now": 1000.0}
    monkeypatch.setattr("nht_monitor.live.monitor.time.monotonic", lambda: clock["now"])
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="batch",
                                write_interval=5.0, assess_every=2, assess_interval=0)
    train_steps(tiny_net, optimizer, 4, monitor=monitor)
    assert monitor.samples_total == 0 and monitor.latest_sample is None
    assert len((log_dir / "batch.jsonl").read_text().splitlines()) <= 1  # header at most
    clock["now"] += 5.0
    train_steps(tiny_net, optimizer, 1, monitor=monitor)  # step 5 finalises steps 1-4
    assert monitor.samples_total == 4 and monitor.latest_sample.step == 4
    assert monitor.latest_assessment is not None and monitor.latest_assessment.step == 4
    assert [s.step for s in read_run(log_dir / "batch.jsonl").samples
            if s.assessment is not None] == [2, 4]  # every assess_every samples
    train_steps(tiny_net, optimizer, 2, monitor=monitor)
    assert monitor.samples_total == 4  # the interval has not passed again
    monitor.poll()  # done on demand: sample 6 (7 stays open for metrics of its step)
    assert monitor.samples_total == 6
    monitor.flush()
    assert monitor.samples_total == 7
    monitor.close()
    run = read_run(log_dir / "batch.jsonl")
    assert [s.step for s in run.samples] == list(range(1, 8))
    assert all("train_loss" in s.metrics for s in run.samples)


def test_live_assessment_every_n_samples_but_not_within_assess_interval(
        tiny_net, log_dir, monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr("nht_monitor.live.monitor.time.monotonic", lambda: clock["now"])
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="pace",
                                write_interval=0, assess_every=2, assess_interval=3.0)
    for _ in range(12):  # one second per step
        train_steps(tiny_net, optimizer, 1, monitor=monitor)
        clock["now"] += 1.0
    monitor.close()
    assessed = [s.step for s in read_run(log_dir / "pace.jsonl").samples
                if s.assessment is not None]
    # sample k is finalised at time 1000 + k: due at even k, run when 3 s have passed
    assert assessed == [2, 6, 10, 12]  # and the last one at close()


def test_a_stalled_loop_still_gets_its_samples_written(tiny_net, log_dir, monkeypatch):
    """No optimizer step for a while (a long evaluation): the idle flusher writes the
    samples the loop left in flight, and after STALL_WRITE_SECONDS (30 s; 0.5 s here) the
    current step's too (a kill during the evaluation loses nothing); metrics logged after the evaluation come as a second row
    for that step, which supersedes the first (the engine and the readers keep the last
    row of a step)."""
    from nht_monitor.analysis.series import read_series

    import nht_monitor.live.monitor as live_monitor

    monkeypatch.setattr(live_monitor, "STALL_WRITE_SECONDS", 0.5)
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="stall",
                                write_interval=0.2, assess=False)
    train_steps(tiny_net, optimizer, 5, monitor=monitor)
    deadline = time.monotonic() + 30
    while monitor.samples_total < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert monitor.samples_total == 5
    assert [s.step for s in read_run(log_dir / "stall.jsonl").samples] == [1, 2, 3, 4, 5]
    assert monitor.latest_sample.step == 5  # the exporter's view too
    monitor.log(val_acc=0.5)  # after the evaluation: still sample 5's
    train_steps(tiny_net, optimizer, 1, monitor=monitor)
    monitor.close()
    rows = [json.loads(line) for line in (log_dir / "stall.jsonl").read_text().splitlines()[1:]]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 5, 6]
    assert "val_acc" not in rows[4]["metrics"] and rows[5]["metrics"]["val_acc"] == 0.5
    assert rows[5]["norm"] == rows[4]["norm"] and "val_acc" not in rows[6]["metrics"]
    samples = read_run(log_dir / "stall.jsonl").samples  # the last row of a step wins
    assert [s.step for s in samples] == [1, 2, 3, 4, 5, 6]
    assert samples[4].metrics["val_acc"] == 0.5
    series = read_series(log_dir / "stall.jsonl")
    assert list(series.step) == [1, 2, 3, 4, 5, 6] and series.val[4] == 0.5
    assert monitor.errors_total == 0
    assert not monitor._flusher._thread.is_alive()  # close() stopped it


def test_write_interval_zero_finalises_each_sample_on_the_next_step(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="each",
                                write_interval=0, assess=False)
    for step in range(1, 4):
        train_steps(tiny_net, optimizer, 1, monitor=monitor)
        assert monitor.samples_total == step - 1
    monitor.close()
    assert monitor.samples_total == 3


def test_gradient_accumulation_samples_only_real_steps_and_every(tiny_net, log_dir):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3, weight_decay=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="acc", every=3,
                                assess=False)
    train_steps(tiny_net, optimizer, 10, monitor=monitor, accumulate=4)
    monitor.close()
    run = read_run(log_dir / "acc.jsonl")
    # sampled at 3, 6, 9 and a final sample at close (step 10 was not sampled)
    assert [s.step for s in run.samples] == [3, 6, 9, 10]
    assert monitor.step == 10
    assert run.samples[-1].tau == pytest.approx(10 * 1e-3 * 0.1)
    assert run.samples[-1].norm == pytest.approx(ref_norm(tiny_net), rel=1e-5)


def test_named_head_and_unknown_head_error(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, head="hidden", assess=False)
    train_steps(tiny_net, optimizer, 1)
    monitor.close()
    assert read_run(monitor.log_path).samples[0].head_norm == pytest.approx(
        ref_norm(tiny_net, {"hidden"}), rel=1e-5)
    with pytest.raises(ValueError, match=r"head 'classifier' is not a layer.*conv, hidden, fc"):
        nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, head="classifier")


class Reordered(nn.Module):
    """Two Linears, the head ``out`` registered first and called last."""

    def __init__(self):
        super().__init__()
        self.out = nn.Linear(8, 2)
        self.body = nn.Linear(4, 8)

    def forward(self, x):
        return self.out(torch.relu(self.body(x)))


def test_default_head_is_last_linear_called_not_last_registered(log_dir):
    model = Reordered()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir, assess=False)
    model(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    monitor.close()
    run = read_run(monitor.log_path)
    assert run.header.head == "out"
    assert run.samples[0].head_norm == pytest.approx(ref_norm(model, {"out"}), rel=1e-5)


def test_the_head_is_found_when_the_script_calls_forward_directly(log_dir):
    """LeoDreamer2004/Modular-Addition calls ``model.forward(x)``: the model's own forward
    hook never fires, its layers' do. The head is settled at the first sampled step and
    every hook removed (they had recorded each layer call in a list for the whole run)."""
    model = Reordered()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir, assess=False)
    for _ in range(3):
        optimizer.zero_grad()
        model.forward(torch.randn(2, 4)).sum().backward()
        optimizer.step()
    assert all(not m._forward_hooks for m in model.modules())
    monitor.close()
    run = read_run(monitor.log_path)
    assert run.header.head == "out"
    assert run.samples[-1].head_norm == pytest.approx(ref_norm(model, {"out"}), rel=1e-5)


@pytest.mark.parametrize("bad, message", [
    ({"every": 0}, "every"),
    ({"run_id": "../escape"}, "run_id"),
    ({"assess_every": -1}, "assess_every"),
    ({"bogus_option": 1}, "bogus_option"),
    ({"analysis": {"delay_taux": 1.0}}, "delay_taux"),
    ({"analysis": {"delay_tau": -1.0}}, "delay_tau"),
    ({"analysis": {"annealing_lr_fraction": 1.5}}, "annealing_lr_fraction"),
    ({"analysis": {"annealing_step_trend": "sometimes"}}, "annealing_step_trend"),
    ({"analysis": {"fit_median_evals": 10**6}}, "fit_median_evals"),
    ({"analysis": {"fit_flat_share": 1.0}}, "fit_flat_share"),
    ({"write_interval": -0.5}, "write_interval"),
    ({"write_interval": "soon"}, "write_interval"),
])
def test_construction_errors_are_clear(tiny_net, log_dir, bad, message):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=message):
        nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, **bad)


def test_analysis_settings_reach_the_live_analyzer(tiny_net, log_dir):
    from nht_monitor.analysis import AnalyzerSettings

    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-2, weight_decay=0.1)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="a",
                           analysis={"delay_tau": 0.5, "budget_steps": 123}) as monitor:
        assert monitor._recorder.analyzer.settings.delay_tau == 0.5
        assert monitor._recorder.analyzer.settings.budget_steps == 123
        train_steps(tiny_net, optimizer, 3)
    custom = AnalyzerSettings(delay_tau=None)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="b",
                           analysis=custom) as monitor:
        # the "auto" settings are decided from the header: TinyNet has no normalization
        assert monitor._recorder.analyzer.settings == custom.model_copy(
            update={"budget_law_floor": True, "annealing_step_trend": True})
    header = read_run(log_dir / "a.jsonl").header
    assert header.config["analysis"] == {"delay_tau": 0.5, "budget_steps": 123}
    assert read_run(log_dir / "b.jsonl").header.config["analysis"] == {"delay_tau": None}
    from nht_monitor.analysis.settings import recorded_settings
    assert recorded_settings(header).delay_tau == 0.5
    assert recorded_settings(header, delay_tau=0.7).delay_tau == 0.7


def test_the_header_records_the_models_normalization_layers(tiny_net, log_dir):
    """``ModelInfo.normalization``: the class names of the normalization layers (none for
    TinyNet); the live analyzer's ``budget_law_floor="auto"`` follows it (off with a
    LayerNorm: it weakens the norm's link to the transition), and so does its interval
    scale (``heldout_interval_scale_normalized`` with normalization layers)."""
    class Normed(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 8)
            self.ln = nn.LayerNorm(8)
            self.bn = nn.BatchNorm1d(8)
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.bn(self.ln(self.fc(x))))

    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-2, weight_decay=0.1)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="plain") as monitor:
        assert monitor._recorder.analyzer.settings.budget_law_floor is True
        assert monitor._recorder.analyzer.settings.heldout_interval_scale == 0.3
    assert read_run(log_dir / "plain.jsonl").header.model.normalization == []
    normed = Normed()
    optimizer = torch.optim.AdamW(normed.parameters(), lr=1e-2, weight_decay=0.1)
    with nht_monitor.watch(normed, optimizer, log_dir=log_dir, run_id="normed") as monitor:
        assert monitor._recorder.analyzer.settings.budget_law_floor is False
        assert monitor._recorder.analyzer.settings.heldout_interval_scale == 1.2
        optimizer.zero_grad()
        normed(torch.randn(5, 4)).sum().backward()
        optimizer.step()
    header = read_run(log_dir / "normed.jsonl").header
    assert header.model.normalization == ["BatchNorm1d", "LayerNorm"]


def test_normalization_layers_are_found_by_class_name():
    from nht_monitor.live.layers import normalization_layers

    class LlamaRMSNorm(nn.Module):  # a custom normalization, named as such code names it
        def forward(self, x):
            return x / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()

    model = nn.Sequential(nn.Linear(4, 4), LlamaRMSNorm(), nn.GroupNorm(2, 4), nn.ReLU(),
                          nn.Sequential(nn.InstanceNorm1d(4), nn.Linear(4, 2)))
    assert normalization_layers(model) == ["GroupNorm", "InstanceNorm1d", "LlamaRMSNorm"]
    assert normalization_layers(nn.Linear(2, 2)) == []


def test_construction_errors_for_wrong_types_and_unwritable_dir(tiny_net, tmp_path):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nht_monitor.watch("not a model", optimizer, log_dir=tmp_path)
    with pytest.raises(TypeError, match="Optimizer"):
        nht_monitor.watch(tiny_net, object(), log_dir=tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="log_dir"):
        nht_monitor.watch(tiny_net, optimizer, log_dir=blocker / "sub")


def test_existing_log_needs_resume(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="dup", assess=False).close()
    train_steps(tiny_net, optimizer, 0)
    with pytest.raises(ValueError, match="already exists: pass resume=True"):
        nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="dup", assess=False)


def test_resume_appends_and_continues_step_and_tau(tiny_net, log_dir):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=0.01, weight_decay=0.2)
    first = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="res", assess=False)
    train_steps(tiny_net, optimizer, 4, monitor=first)
    state = first.state_dict()
    first.close()
    # the process "dies" mid-write: a truncated line at the end
    with open(log_dir / "res.jsonl", "a") as handle:
        handle.write('{"step": 5, "tau": 0.0')
    second = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="res",
                               resume=True, assess=False)
    assert second.step == 4 and second.tau == pytest.approx(4 * 0.01 * 0.2)
    train_steps(tiny_net, optimizer, 3, monitor=second)
    second.close()
    run = read_run(log_dir / "res.jsonl")
    assert [s.step for s in run.samples] == [1, 2, 3, 4, 5, 6, 7]
    assert run.samples[-1].tau == pytest.approx(7 * 0.01 * 0.2)
    assert run.skipped_lines == 1  # the repaired partial line, now complete but corrupt
    assert state == {"version": 1, "run_id": "res", "step": 4,
                     "taus": [pytest.approx(0.008)], "samples_total": 4}


def test_load_state_dict_rewinds_to_checkpoint(tiny_net, log_dir):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=0.01, weight_decay=0.2)
    mon = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="ck", assess=False)
    train_steps(tiny_net, optimizer, 2, monitor=mon)
    checkpoint = mon.state_dict()
    train_steps(tiny_net, optimizer, 3, monitor=mon)
    mon.load_state_dict(checkpoint)     # training restarts from the checkpoint
    train_steps(tiny_net, optimizer, 2, monitor=mon)
    mon.close()
    run = read_run(log_dir / "ck.jsonl")
    assert [s.step for s in run.samples] == [1, 2, 3, 4, 5]  # last occurrence of 3, 4 kept
    assert run.samples[-2].tau == pytest.approx(4 * 0.002)
    with pytest.raises(ValueError, match="version"):
        mon.load_state_dict({"version": 99})


def test_error_in_sampler_never_reaches_the_loop(tiny_net, log_dir, monkeypatch, caplog):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="err",
                                assess=False, max_consecutive_errors=3)
    train_steps(tiny_net, optimizer, 2, monitor=monitor)

    def boom():
        raise RuntimeError("injected sampler failure")

    monkeypatch.setattr(monitor.sampler, "launch", boom)
    train_steps(tiny_net, optimizer, 6, monitor=monitor)  # must not raise
    assert monitor.errors_total == 3            # then sampling switched itself off
    assert "injected sampler failure" in caplog.text
    assert "switched off" in caplog.text
    monitor.log(bad="not a number")             # bad metric: counted, not raised
    monitor.close()
    run = read_run(log_dir / "err.jsonl")
    assert [s.step for s in run.samples] == [1, 2]  # what was recorded is kept
    assert monitor.step == 5                    # the hook stopped counting when disabled


def test_transient_errors_are_counted_and_sampling_goes_on(tiny_net, log_dir, monkeypatch):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="flaky", assess=False)
    original = monitor.sampler.launch
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] % 2 == 0:
            raise RuntimeError("every second sample fails")
        return original()

    monkeypatch.setattr(monitor.sampler, "launch", flaky)
    train_steps(tiny_net, optimizer, 8, monitor=monitor)
    monitor.close()
    assert monitor.errors_total == 4
    assert [s.step for s in read_run(log_dir / "flaky.jsonl").samples] == [1, 3, 5, 7, 8]


def test_nonfinite_weights_are_recorded_as_such(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="nan", assess=False)
    train_steps(tiny_net, optimizer, 1, monitor=monitor)
    with torch.no_grad():
        tiny_net.hidden.weight[0, 0] = float("inf")
    train_steps(tiny_net, optimizer, 1, monitor=monitor)
    monitor.close()
    text = (log_dir / "nan.jsonl").read_text()
    for line in text.splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    last = read_run(log_dir / "nan.jsonl").samples[-1]
    assert "hidden" in last.nonfinite and not math.isfinite(last.norm)
    assert monitor.errors_total == 0


def test_torch_compile_model_names_are_clean(log_dir):
    model = TinyNet()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(compiled.parameters(), lr=0.1)
    monitor = nht_monitor.watch(compiled, optimizer, log_dir=log_dir, assess=False)
    train_steps(compiled, optimizer, 2, monitor=monitor)
    monitor.close()
    run = read_run(monitor.log_path)
    assert run.header.layers == ["conv", "hidden", "fc"]
    assert run.header.head == "fc"
    assert run.header.model.class_name == "TinyNet"
    assert run.samples[-1].norm == pytest.approx(ref_norm(model), rel=1e-5)


def test_split_bias_layers(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, split_bias=True, assess=False)
    train_steps(tiny_net, optimizer, 1)
    monitor.close()
    run = read_run(monitor.log_path)
    assert run.header.layers == ["conv.weight", "conv.bias", "hidden.weight", "hidden.bias",
                                 "fc.weight", "fc.bias"]
    assert run.samples[0].head_norm == pytest.approx(ref_norm(tiny_net, {"fc"}), rel=1e-5)


def test_monitor_closes_at_interpreter_exit(tmp_path):
    script = f"""
import torch, nht_monitor
m = torch.nn.Linear(3, 2)
opt = torch.optim.SGD(m.parameters(), lr=0.1)
mon = nht_monitor.watch(m, opt, log_dir={str(tmp_path)!r}, run_id="exit", every=5, assess=False)
for _ in range(3):
    m(torch.randn(4, 3)).sum().backward(); opt.step(); opt.zero_grad()
mon.log(final=1.0)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    run = read_run(tmp_path / "exit.jsonl")
    assert [s.step for s in run.samples] == [3]
    assert run.samples[0].metrics == {"final": 1.0}


def test_close_is_idempotent_and_stops_sampling(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="c", assess=False)
    train_steps(tiny_net, optimizer, 2, monitor=monitor)
    monitor.close()
    monitor.close()
    train_steps(tiny_net, optimizer, 2, monitor=monitor)
    assert len(read_run(log_dir / "c.jsonl").samples) == 2
    snap = monitor.snapshot()
    assert snap.samples_total == 2 and snap.sample.step == 2 and snap.run_id == "c"


def test_core_import_does_not_pull_optional_packages():
    code = ("import sys, nht_monitor; bad = [m for m in ('torchvision', 'wilds', "
            "'grafana_foundation_sdk', 'grafana_client', 'prometheus_client', 'matplotlib', "
            "'lightning', 'transformers') if m in sys.modules]; print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_prometheus_port_without_the_extra_names_it(tmp_path):
    """watch(prometheus_port=...) without prometheus-client fails at construction with the
    pip extra to install, not a raw ModuleNotFoundError."""
    code = ("import sys; sys.modules['prometheus_client'] = None\n"
            "import torch, nht_monitor\n"
            "m = torch.nn.Linear(2, 2)\n"
            "try:\n"
            f"    nht_monitor.watch(m, torch.optim.SGD(m.parameters(), lr=0.1), log_dir={str(tmp_path)!r},"
            " prometheus_port=0)\n"
            "except ImportError as exc:\n"
            "    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    assert out.strip() == ("MissingExtraError prometheus_client is not installed: "
                           "pip install 'nht-monitor[prometheus]'")


def test_accelerate_wrapped_optimizer_is_unwrapped(tiny_net, log_dir):
    """watch() hooks the optimizer inside accelerate's AcceleratedOptimizer (whose own
    post-hooks never run), so a prepared pair is watched as it is."""
    accelerate = pytest.importorskip("accelerate")
    accelerator = accelerate.Accelerator(cpu=True)
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-2, weight_decay=0.1)
    model, prepared = accelerator.prepare(tiny_net, optimizer)
    assert prepared is not optimizer
    with nht_monitor.watch(model, prepared, log_dir=log_dir, run_id="acc") as monitor:
        train_steps(model, prepared, 3)
    log = read_run(monitor.log_path)
    assert [s.step for s in log.samples] == [1, 2, 3]
    assert log.header.config["optimizer"] == "AdamW"


def test_float64_model_is_sampled(log_dir):
    """float64 parameters accumulate in float64 (asking float32 of them is an error)."""
    torch.manual_seed(0)
    model = TinyNet().double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir, run_id="f64", assess=False)
    for _ in range(3):
        x, y = tiny_batch()
        nn.functional.cross_entropy(model(x.double()), y).backward()
        optimizer.step()
        optimizer.zero_grad()
    monitor.close()
    assert monitor.errors_total == 0
    run = read_run(log_dir / "f64.jsonl")
    assert [s.step for s in run.samples] == [1, 2, 3]
    assert run.samples[-1].norm == pytest.approx(ref_norm(model), rel=1e-12)


def test_a_fast_loop_is_finalised_in_batches_of_bounded_size(tiny_net, log_dir):
    """More samples than the in-flight bound within one write_interval: they are
    finalised in batches when half the bound waits, never one by one, none lost."""
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.01)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="fast",
                                write_interval=60, assess=False)
    sizes = []
    drain = monitor._drain

    def counting(*args, **kwargs):
        before = monitor.samples_total
        drain(*args, **kwargs)
        if monitor.samples_total > before:
            sizes.append(monitor.samples_total - before)

    monitor._drain = counting
    steps = _MAX_IN_FLIGHT + 10
    x, y = tiny_batch()
    for _ in range(steps):
        nn.functional.cross_entropy(tiny_net(x), y).backward()
        optimizer.step()
        optimizer.zero_grad()
        assert len(monitor._in_flight) <= _MAX_IN_FLIGHT // 2
    monitor.close()
    assert sizes[:2] == [_MAX_IN_FLIGHT // 2] * 2
    assert [s.step for s in read_run(log_dir / "fast.jsonl").samples] == list(range(1, steps + 1))


# -- the run's budget and the user's metric names ------------------------------------
def _half_grokked_run():
    """A synthetic run early in a slow decay (actual transition at step ~3670): the
    forecast transition is at step ~1590, its 80 % interval from ~1060 (default settings),
    so a budget of 1000 makes it ``weak``, 5000 does not."""
    from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

    norm_of, val_of, head_of, _ = grokking(rate=0.2)
    run = make_run(norm_of, steps=3000, acc_of=fit_acc(200), loss_of=fit_loss(200),
                   val_of=val_of, head_of=head_of)
    return [s for s in run if s.step <= 530]


@pytest.mark.parametrize("options", [
    {"budget_steps": 1000},
    {"analysis": {"budget_steps": 1000}},
    {"config": {"num_steps": 1000}},
    {"config": {"max_steps": 1000}},
    {"config": {"total_steps": 1000}},
    {"config": {"epochs": 10, "steps_per_epoch": 100}},
    {"config": {"train": {"num_epochs": 4, "steps_per_epoch": 250}}},
    # precedence: explicit option > analysis setting > config keys
    {"budget_steps": 1000, "analysis": {"budget_steps": 5000}, "config": {"num_steps": 5000}},
    {"analysis": {"budget_steps": 1000}, "config": {"num_steps": 5000}},
], ids=["option", "analysis", "num_steps", "max_steps", "total_steps", "epochs",
        "nested-epochs", "option-wins", "analysis-wins"])
def test_the_budget_from_each_source_reaches_the_live_and_offline_engine(
        tiny_net, log_dir, options):
    from nht_monitor.analysis import Analyzer
    from nht_monitor.analysis.settings import recorded_settings

    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-2, weight_decay=0.1)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="b", **options) as mon:
        train_steps(tiny_net, optimizer, 2, monitor=mon)
        live = mon._recorder.analyzer
        assert mon.budget_steps == 1000
    header = read_run(log_dir / "b.jsonl").header
    assert header.config["budget_steps"] == 1000
    half = _half_grokked_run()
    assert Analyzer().analyze(half).regime == "intermediate"  # no budget: in time
    for engine in (live, Analyzer(header, recorded_settings(header))):
        a = engine.analyze(half)
        assert a.regime == "weak", a.reasons
        assert a.transition.forecast_step > 1000
        assert any("budget of 1000 steps" in r for r in a.reasons), a.reasons


def test_without_budget_or_with_a_larger_one_the_forecast_stays_intermediate(tiny_net, log_dir):
    from nht_monitor.analysis import Analyzer
    from nht_monitor.analysis.settings import recorded_settings

    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-2, weight_decay=0.1)
    half = _half_grokked_run()
    for run_id, options, budget in (("none", {"config": {"lr": 1e-2, "num_steps": True}}, None),
                                    ("big", {"config": {"steps_per_epoch": 100, "epochs": 50}},
                                     5000)):
        with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id=run_id,
                               **options) as mon:
            train_steps(tiny_net, optimizer, 2, monitor=mon)
            assert mon.budget_steps == budget
        header = read_run(log_dir / f"{run_id}.jsonl").header
        assert header.config.get("budget_steps") == budget
        for engine in (mon._recorder.analyzer, Analyzer(header, recorded_settings(header))):
            assert engine.analyze(half).regime == "intermediate"


def test_budget_steps_option_is_validated(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    for bad in (0, -5, "soon"):
        with pytest.raises(ValueError, match="budget_steps"):
            nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, budget_steps=bad)


def test_metric_names_map_the_users_names_to_the_engines(tiny_net, log_dir, caplog):
    import logging

    from nht_monitor.analysis.series import series_from_samples
    from nht_monitor.analysis.settings import recorded_settings

    names = {"training/accuracy": "train_acc", "validation/accuracy": "val_acc",
             "training/loss": "train_loss"}
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    caplog.set_level(logging.WARNING, logger="nht_monitor")
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="mn",
                           metric_names=names) as mon:
        for step in range(1, 4):
            train_steps(tiny_net, optimizer, 1)
            mon.log(**{"training/accuracy": 0.5 + step / 10, "validation/accuracy": 0.1 * step,
                       "training/loss": torch.tensor(1.0 / step), "lr": 0.1})
    run = read_run(log_dir / "mn.jsonl")
    assert run.header.config["metric_names"] == names
    assert [sorted(s.metrics) for s in run.samples] == [["lr", "train_acc", "train_loss",
                                                          "val_acc"]] * 3
    assert run.samples[-1].metrics["train_acc"] == pytest.approx(0.8)
    assert run.samples[-1].metrics["val_acc"] == pytest.approx(0.3)
    assert run.samples[-1].metrics["train_loss"] == pytest.approx(1 / 3)
    assert not [r for r in caplog.records if "reads none" in r.getMessage()]
    # the engine reads the mapped values
    series = series_from_samples(run.samples, recorded_settings(run.header))
    assert series.acc[-1] == pytest.approx(0.8) and series.val[-1] == pytest.approx(0.3)
    assert series.loss[-1] == pytest.approx(1 / 3)


def test_metrics_the_engine_does_not_read_are_warned_about_once(tiny_net, log_dir, caplog):
    import logging

    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    caplog.set_level(logging.WARNING, logger="nht_monitor")
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="w") as mon:
        for _ in range(5):
            train_steps(tiny_net, optimizer, 1)
            mon.log(**{"training/accuracy": 0.5, "validation/accuracy": 0.2})
    (record,) = [r for r in caplog.records if "reads none" in r.getMessage()]
    message = record.getMessage()
    assert record.levelno == logging.WARNING and record.name == "nht_monitor"
    assert "'training/accuracy'" in message and "'validation/accuracy'" in message
    assert "train_acc" in message and "val_acc" in message and "metric_names" in message
    # the metrics are still recorded under the user's names
    assert read_run(log_dir / "w.jsonl").samples[-1].metrics == {
        "training/accuracy": 0.5, "validation/accuracy": 0.2}
    caplog.clear()
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="ok") as mon:
        train_steps(tiny_net, optimizer, 3, monitor=mon)  # logs train_loss: read
    assert not [r for r in caplog.records if "reads none" in r.getMessage()]


@pytest.mark.parametrize("names, message", [
    ({"training/accuracy": "training_acc"}, "'training_acc', which the rule engine does not read"),
    ({"training/accuracy": "val_accuracy_top5"}, "train_acc"),
    ({"": "train_acc"}, "empty metric name"),
    ({"training/accuracy": 3}, "metric_names"),
    ("train_acc", "metric_names"),
])
def test_a_bad_metric_names_map_is_rejected_at_construction(tiny_net, log_dir, names, message):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=message):
        nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, metric_names=names)
    assert not list(log_dir.iterdir())  # nothing started


def test_metric_names_may_target_keys_added_to_the_analysis_settings(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="k",
                           analysis={"val_acc_keys": ["heldout"]},
                           metric_names={"eval/acc": "heldout"}) as mon:
        train_steps(tiny_net, optimizer, 1)
        mon.log(**{"eval/acc": 0.4})
    assert read_run(log_dir / "k.jsonl").samples[-1].metrics == {"heldout": 0.4}
    with pytest.raises(ValueError, match="val_acc"):  # default keys no longer read
        nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir,
                          analysis={"val_acc_keys": ["heldout"]},
                          metric_names={"eval/acc": "val_acc"})


def test_an_accuracy_logged_as_a_percentage_is_warned_about_once_and_kept(
        tiny_net, log_dir, caplog):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3, weight_decay=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="pct", assess=False,
                                metric_names={"test_accuracy_pct": "val_acc"})
    for step in range(3):
        train_steps(tiny_net, optimizer, 1, monitor=monitor)
        monitor.log(train_acc=0.5, test_accuracy_pct=40.0 + step)  # a fraction, a percentage
    monitor.close()
    warned = [r.getMessage() for r in caplog.records if "not a fraction" in r.getMessage()]
    assert warned == ["nht-monitor pct: val_acc=40 is not a fraction in [0, 1]; the engine "
                      "reads accuracies as fractions (log a percentage divided by 100)"]
    run = read_run(log_dir / "pct.jsonl")  # recorded as given: nothing is lost
    assert [s.metrics["val_acc"] for s in run.samples] == [40.0, 41.0, 42.0]
    a = nht_monitor.analysis.Analyzer(run.header).analyze(run.samples)
    assert any(r.startswith("held-out accuracy reaches 42, but accuracies are read as "
                            "fractions") for r in a.reasons)
    assert not any(r.startswith("train accuracy reaches") for r in a.reasons)
