"""Optuna: a real in-memory study with the NHTPruner — a trial with a huge weight decay is
pruned as strong, a healthy one completes — and the pruner and reporter on their own."""

from __future__ import annotations

import logging

import pytest

optuna = pytest.importorskip("optuna")

import torch  # noqa: E402

import nht_monitor  # noqa: E402
from nht_monitor.integrations.early_stop import STATE_FIELDS, StopPolicy  # noqa: E402
from nht_monitor.integrations.optuna import USER_ATTR, NHTPruner, report_to_trial  # noqa: E402
from nht_monitor.runlog import read_run  # noqa: E402

BUDGET = 400  # λ 2 groks near step 300 (CPU numerics move it by tens of steps)


def objective_factory(log_dir):
    """Modular arithmetic (p = 31) at the trial's λ: 30 collapses (strong), 2 groks."""
    from nht_monitor.demos.modular_arithmetic import ModArithConfig, train_run

    def objective(trial):
        weight_decay = trial.suggest_categorical("weight_decay", [30.0, 2.0])
        cfg = ModArithConfig(p=31, width=64, lr=1e-2, weight_decay=weight_decay,
                             steps=BUDGET, device="cpu", log_dir=log_dir,
                             run_id=f"optuna-{trial.number}", eval_every=10)
        seen = {"val_acc": 0.0}

        def progress(step, monitor):
            sample = monitor.latest_sample
            if sample is not None and "val_acc" in sample.metrics:
                seen["val_acc"] = sample.metrics["val_acc"]
            if step % 20 == 0 and report_to_trial(trial, monitor, value=seen["val_acc"]):
                raise optuna.TrialPruned(trial.user_attrs[USER_ATTR]["nht/stop_reason"])

        result = train_run(cfg, progress=progress, monitor_kwargs={
            "budget_steps": BUDGET, "sweep": "optuna-test", "assess_every": 1,
            "assess_interval": 0.0, "write_interval": 0.0})
        trial.set_user_attr("log_path", str(result.log_path))
        return result.final_val_acc

    return objective


def test_study_prunes_the_strong_trial_and_completes_the_healthy_one(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="nht_monitor.integrations.optuna")
    torch.set_num_threads(1)
    pruner = NHTPruner(grace_fraction=0.1)
    grid = optuna.samplers.GridSampler({"weight_decay": [30.0, 2.0]}, seed=0)
    study = optuna.create_study(direction="maximize", pruner=pruner, sampler=grid)
    study.optimize(objective_factory(tmp_path), n_trials=2)
    by_wd = {t.params["weight_decay"]: t for t in study.trials}

    strong = by_wd[30.0]
    assert strong.state == optuna.trial.TrialState.PRUNED
    attrs = strong.user_attrs[USER_ATTR]
    assert set(STATE_FIELDS) <= set(attrs)
    assert attrs["nht/stop"] is True and attrs["nht/stop_rule"] == "strong"
    assert attrs["nht/regime"] == "strong" and "collapsed" in attrs["nht/reasons"]
    assert BUDGET * 0.1 <= attrs["nht/step"] < BUDGET
    assert max(strong.intermediate_values) == attrs["nht/step"]  # trial.report per step
    assert read_run(tmp_path / f"optuna-{strong.number}.jsonl").samples[-1].step < BUDGET

    healthy = by_wd[2.0]
    assert healthy.state == optuna.trial.TrialState.COMPLETE
    assert healthy.value >= 0.9
    assert healthy.user_attrs[USER_ATTR]["nht/stop"] is False
    assert read_run(healthy.user_attrs["log_path"]).samples[-1].step == BUDGET
    assert study.best_trial.number == healthy.number

    assert pruner.decisions[strong.number].stop
    assert not pruner.decisions[healthy.number].stop
    stops = [m for m in caplog.messages if m.startswith("nht-monitor: stop trial")]
    assert len(stops) == 1 and f"#{strong.number}" in stops[0] and "collapsed" in stops[0]


def frozen(attrs, number):
    """A running trial with ``attrs`` as its stored nht state (``None``: none)."""
    return optuna.trial.FrozenTrial(
        number=number, state=optuna.trial.TrialState.RUNNING, value=None,
        datetime_start=None, datetime_complete=None, params={}, distributions={},
        user_attrs={} if attrs is None else {USER_ATTR: attrs}, system_attrs={},
        intermediate_values={}, trial_id=number)


def fields(**extra):
    return {"nht/step": 500, "nht/budget_steps": 1000, "nht/n_samples": 500,
            "nht/regime": "weak", "nht/confidence": 0.6, "nht/beyond_budget": True,
            "nht/reasons": "total norm: transition forecast at step 5000, beyond the "
                           "budget of 1000 steps", **{f"nht/{k}": v for k, v in extra.items()}}


def test_pruner_on_stored_states(caplog):
    caplog.set_level(logging.INFO, logger="nht_monitor.integrations.optuna")
    study = optuna.create_study()
    pruner = NHTPruner()
    assert pruner.prune(study, frozen(None, 0)) is False  # nothing stored: kept
    assert pruner.prune(study, frozen(fields(), 1)) is True
    assert pruner.decisions[1].rule == "weak_beyond_budget"
    assert any("stop trial #1" in m and "beyond the budget of 1000" in m
               for m in caplog.messages)
    assert pruner.prune(study, frozen(fields(regime="undetermined"), 2)) is False
    assert pruner.prune(study, frozen(fields(step="bad"), 3)) is False  # never raises
    assert NHTPruner(stop_beyond_budget=False).prune(study, frozen(fields(), 4)) is False
    unlikely = fields(regime="intermediate", beyond_budget=False, chance_in_budget=0.06,
                      forecast_step=1400.0, interval_low=950.0)  # the low end within budget
    assert NHTPruner().prune(study, frozen(unlikely, 5)) is False  # min_chance is opt-in
    asked = NHTPruner(min_chance=0.1)
    assert asked.prune(study, frozen(unlikely, 6)) is True
    assert asked.decisions[6].rule == "unlikely_in_budget"
    assert asked.prune(study, frozen({**unlikely, "nht/chance_in_budget": 0.3}, 7)) is False


def test_pruner_policy_is_validated_at_construction():
    assert NHTPruner(StopPolicy(min_confidence=0.9)).policy.min_confidence == 0.9
    with pytest.raises(ValueError, match="invalid early-stop policy: min_samples"):
        NHTPruner(min_samples=0)


def test_report_to_trial_with_another_pruner(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    trial = study.ask()
    with nht_monitor.watch(model, opt, log_dir=tmp_path, budget_steps=20) as monitor:
        for _ in range(5):
            loss = model(torch.randn(8, 4)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert report_to_trial(trial, monitor, value=0.5) is False
        assert report_to_trial(trial, monitor) is False  # no value: nothing reported
    attrs = study.trials[0].user_attrs[USER_ATTR]
    assert attrs["nht/step"] == 5 and attrs["nht/budget_steps"] == 20
    assert "nht/stop" not in attrs  # no NHTPruner: no nht decision
    assert study.trials[0].intermediate_values == {5: 0.5}
    assert report_to_trial(trial, object()) is False  # never raises
