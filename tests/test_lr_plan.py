"""watch(lr_schedule=...): the planned learning rate recorded in the header, checked
against stepping the real scheduler, and read back by the engine."""

from __future__ import annotations

import math

import pytest
import torch

import nht_monitor
from nht_monitor.analysis import Analyzer
from nht_monitor.live.lr_plan import MAX_SIMULATED_STEPS, plan_learning_rate
from nht_monitor.runlog import read_run
from tests.conftest import train_steps

S = torch.optim.lr_scheduler
BUDGET = 300


def optimizer_of(model: torch.nn.Module) -> torch.optim.Optimizer:
    params = list(model.parameters())
    return torch.optim.AdamW([{"params": params[:1], "weight_decay": 0.0},
                              {"params": params[1:], "weight_decay": 0.5}], lr=1e-2)


SCHEDULERS = {
    "lambda": lambda o: S.LambdaLR(o, lambda e: min(1.0, (e + 1) / 20)
                                   * 0.5 * (1 + math.cos(math.pi * e / BUDGET))),
    "cosine": lambda o: S.CosineAnnealingLR(o, T_max=BUDGET, eta_min=1e-4),
    "one_cycle": lambda o: S.OneCycleLR(o, max_lr=3e-2, total_steps=BUDGET),
    "sequential": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, 1.0, 30), S.CosineAnnealingLR(o, BUDGET - 30)], milestones=[30]),
    "step": lambda o: S.StepLR(o, 70, 0.3),
    "warm_restarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=50),
}


def stepped_lrs(make, group: int) -> list[float]:
    """The lr each optimizer step 1..BUDGET uses, by stepping a real scheduler."""
    model = torch.nn.Linear(3, 3)
    optimizer = optimizer_of(model)
    scheduler = make(optimizer)
    out = []
    for _ in range(BUDGET):
        out.append(optimizer.param_groups[group]["lr"])
        optimizer.step()
        scheduler.step()
    return out


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_plan_matches_stepping_the_scheduler_and_leaves_it_untouched(name):
    truth = stepped_lrs(SCHEDULERS[name], group=1)
    model = torch.nn.Linear(3, 3)
    optimizer = optimizer_of(model)
    scheduler = SCHEDULERS[name](optimizer)
    before = (scheduler.state_dict(), [g["lr"] for g in optimizer.param_groups])
    plan = plan_learning_rate(scheduler, optimizer, 1, BUDGET)
    assert plan[0][0] == 1 and plan[-1][0] == BUDGET and len(plan) == BUDGET
    for step, lr in plan:
        assert lr == pytest.approx(truth[step - 1], rel=1e-12, abs=1e-15)
    after = (scheduler.state_dict(), [g["lr"] for g in optimizer.param_groups])
    assert repr(after) == repr(before)


def test_a_long_budget_keeps_at_most_the_plan_knots():
    optimizer = optimizer_of(torch.nn.Linear(3, 3))
    plan = plan_learning_rate(lambda s: 1e-3 * 0.5 ** (s / 1e5), optimizer, 1, 10 ** 6)
    assert len(plan) == 512 and plan[0][0] == 1 and plan[-1][0] == 10 ** 6
    assert plan[-1][1] == pytest.approx(1e-3 * 0.5 ** 10)
    with pytest.raises(ValueError, match="at most"):
        plan_learning_rate(S.StepLR(optimizer, 10), optimizer, 1, MAX_SIMULATED_STEPS + 1)


def test_watch_records_the_plan_of_the_clock_group(tiny_net, log_dir):
    decay = [tiny_net.conv.weight, tiny_net.hidden.weight, tiny_net.fc.weight]
    no_decay = [tiny_net.conv.bias, tiny_net.hidden.bias, tiny_net.fc.bias]
    optimizer = torch.optim.SGD([{"params": no_decay, "weight_decay": 0.0, "lr": 0.2},
                                 {"params": decay, "weight_decay": 0.5}], lr=0.05)
    scheduler = S.StepLR(optimizer, step_size=2, gamma=0.5)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="r", assess=False,
                                budget_steps=6, lr_schedule=scheduler)
    train_steps(tiny_net, optimizer, 6, monitor=monitor, scheduler=scheduler)
    monitor.close()
    run = read_run(log_dir / "r.jsonl")
    assert run.header.config["clock_group"] == 1
    assert run.header.lr_plan == [(s.step, pytest.approx(s.lr)) for s in run.samples]
    assert Analyzer(run.header).lr_schedule(4) == pytest.approx(0.025)
    assert Analyzer().analyze(log_dir / "r.jsonl") is not None


def test_a_callable_is_planned_from_step_one(tiny_net, log_dir):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="c", assess=False,
                                config={"max_steps": 4}, lr_schedule=lambda s: 1e-3 / s)
    monitor.close()
    assert read_run(log_dir / "c.jsonl").header.lr_plan == [
        (1, 1e-3), (2, 5e-4), (3, pytest.approx(1e-3 / 3)), (4, 2.5e-4)]


@pytest.mark.parametrize("options, message", [
    ({}, "budget"),
    ({"budget_steps": 10, "lr_schedule": 3}, "callable step -> lr or a torch LR scheduler"),
    ({"budget_steps": 10, "lr_schedule": lambda s: 1 / 0}, r"lr_schedule\(1\) failed"),
    ({"budget_steps": 10, "lr_schedule": lambda s: -1.0}, "negative or non-finite"),
    ({"budget_steps": 10, "lr_schedule": lambda s: math.nan}, "negative or non-finite"),
])
def test_bad_schedules_fail_at_construction(tiny_net, log_dir, options, message):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3)
    options = {"lr_schedule": S.StepLR(optimizer, 2), **options}
    with pytest.raises(ValueError, match=message):
        nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="bad", **options)
    assert not (log_dir / "bad.jsonl").exists()


def test_schedulers_the_plan_cannot_follow_fail_at_construction(tiny_net, log_dir):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3)
    other = torch.optim.AdamW(torch.nn.Linear(2, 2).parameters(), lr=1e-3)
    for scheduler, message in ((S.ReduceLROnPlateau(optimizer), "ReduceLROnPlateau"),
                               (S.StepLR(other, 2), "another optimizer")):
        with pytest.raises(ValueError, match=message):
            nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="bad",
                              budget_steps=10, lr_schedule=scheduler)


def test_a_scheduler_that_cannot_be_planned_fails_at_construction(tiny_net, log_dir):
    import threading

    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3)

    class Locked(S.StepLR):  # holds what deepcopy refuses
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.lock = threading.Lock()

    for scheduler, message in ((Locked(optimizer, 2), "the Locked cannot be planned"),
                               (S.LambdaLR(optimizer, lambda e: 1.0 if e < 3 else 1 / 0),
                                "the LambdaLR cannot be planned: ZeroDivisionError")):
        with pytest.raises(ValueError, match=message):
            nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="bad",
                              budget_steps=10, lr_schedule=scheduler)


def test_resuming_a_log_without_a_plan_follows_the_schedule_given_now(tiny_net, log_dir):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-2, weight_decay=0.5)
    first = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="re", assess=False)
    train_steps(tiny_net, optimizer, 3, monitor=first)
    first.close()
    scheduler = S.StepLR(optimizer, step_size=2, gamma=0.5)
    again = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="re", resume=True,
                              budget_steps=10, lr_schedule=scheduler)
    plan = again.header.lr_plan
    assert [s for s, _ in plan] == list(range(4, 11))  # from the step it resumes at
    assert again._recorder.analyzer.lr_schedule(10) == pytest.approx(1e-2 * 0.5 ** 3)
    train_steps(tiny_net, optimizer, 3, monitor=again, scheduler=scheduler)
    again.close()
    run = read_run(log_dir / "re.jsonl")
    assert [lr for _, lr in plan[:3]] == pytest.approx([s.lr for s in run.samples[3:]])
    assert run.header.lr_plan is None  # the first start's header, as written then


def test_a_run_whose_budget_holds_too_little_tau_reads_weak_before_its_fit(tiny_net, log_dir):
    """End to end through ``watch()``: a model without normalization layers (the header
    records none, so the law's floor is on by default), λ so small that the whole budget
    holds τ 0.02, the training loss far from fitted: the live engine reads ``weak``
    before the fit (rule 6c) along the planned learning rate, and the offline engine
    reads the same from the log; switched off, the run is still fitting."""
    from nht_monitor.analysis import AnalyzerSettings

    on = AnalyzerSettings()
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-2, weight_decay=1e-3)
    scheduler = S.LambdaLR(optimizer, lambda e: 1.0 - e / 2000)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="tiny-wd",
                                budget_steps=2000, lr_schedule=scheduler, assess_every=1,
                                assess_interval=0, analysis=on)
    train_steps(tiny_net, optimizer, 20, monitor=monitor, scheduler=scheduler)
    monitor.flush()
    live = monitor.latest_assessment
    monitor.close()
    assert (live.regime, live.rule, live.phase) == ("weak", "no_room_after_fit", "fitting")
    assert "the planned learning rate leaves" in live.reasons[-1]
    run = read_run(log_dir / "tiny-wd.jsonl")
    assert run.header.model.normalization == []
    offline = Analyzer(run.header, on).analyze(run.samples)
    assert (offline.regime, offline.rule) == ("weak", "no_room_after_fit")
    off = AnalyzerSettings(weak_before_fit=False)
    assert Analyzer(run.header, off).analyze(run.samples).rule == "still_fitting"
