"""NHTMonitorCallback with the real transformers Trainer on CPU (gradient accumulation)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

pytest.importorskip("transformers")
pytest.importorskip("accelerate")
from transformers import Trainer, TrainerCallback, TrainingArguments  # noqa: E402

from nht_monitor import read_run  # noqa: E402
from nht_monitor.integrations.huggingface import NHTMonitorCallback  # noqa: E402


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x=None, labels=None):
        logits = self.head(torch.relu(self.fc1(x)))
        return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}


class Pairs(torch.utils.data.Dataset):
    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(32, 4, generator=g)
        self.y = torch.randint(0, 2, (32,), generator=g)

    def __len__(self):
        return 32

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


class SeenLogs(TrainerCallback):
    """Registered after the monitor's callback: records the keys of every ``logs``."""

    def __init__(self):
        self.keys: list[set[str]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.keys.append(set(logs or {}))


def test_one_sample_per_optimizer_step_with_accumulation(tmp_path):
    torch.manual_seed(0)
    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id="hf", assess_every=2)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=2,
        gradient_accumulation_steps=3, max_steps=5, learning_rate=1e-2, weight_decay=0.1,
        logging_steps=1, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
        remove_unused_columns=False, dataloader_num_workers=0)
    seen = SeenLogs()
    trainer = Trainer(model=Tiny(), args=args, train_dataset=Pairs(), callbacks=[callback, seen])
    trainer.train()
    assert trainer.state.global_step == 5
    assert callback.monitor is None  # closed on train end
    log = read_run(callback.last_run_path)
    assert [s.step for s in log.samples] == [1, 2, 3, 4, 5]
    # the Trainer decays no bias: the biases are layers of their own, left out of the norm
    assert log.header.layers == ["fc1", "fc1.bias", "head", "head.bias"]
    assert log.header.config["undecayed_layers"] == ["fc1.bias", "head.bias"]
    last = log.samples[-1]
    assert last.norm == pytest.approx(math.hypot(last.layer_norms["fc1"],
                                                 last.layer_norms["head"]), rel=1e-9)
    assert log.samples[-1].weight_decay == pytest.approx(0.1)
    assert sum("train_loss" in s.metrics for s in log.samples) >= 4
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logged) == 5
    assert log.samples[-1].assessment is not None
    assert any({"nht/regime", "nht/norm", "nht/tau"} <= keys for keys in seen.keys)


def _check_regime_series(row: dict, step: float) -> None:
    """Once assessed, a row has every ``nht/regime/<name>`` as 0/1 with exactly one 1,
    the one named by the ``nht/regime`` index, made at a step not after the row's."""
    from nht_monitor.analysis.assessment import REGIMES

    assert row["nht/assessed_step"] <= step
    series = {name: row[f"nht/regime/{name}"] for name in REGIMES}
    assert set(series.values()) <= {0.0, 1.0}
    assert sum(series.values()) == 1.0
    assert series[REGIMES[int(row["nht/regime"])]] == 1.0


def test_every_log_row_carries_the_latest_sample(tmp_path, monkeypatch):
    """60 optimizer steps (under a second; assessments throttled to one per 5 s): each
    logged row has the norm and τ of the latest finished sample, read back from the run
    log, so they change from row to row; TensorBoard (a reporter registered before the
    callback) gets the same values."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path / "tb"))
    torch.manual_seed(0)
    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id="hf60")
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, max_steps=60,
        learning_rate=1e-2, weight_decay=0.1, logging_steps=1, report_to=["tensorboard"],
        save_strategy="no", use_cpu=True,
        disable_tqdm=True, remove_unused_columns=False, dataloader_num_workers=0)
    trainer = Trainer(model=Tiny(), args=args, train_dataset=Pairs(), callbacks=[callback])
    trainer.train()
    log = read_run(callback.last_run_path)
    by_step = {s.step: s for s in log.samples}
    assert sorted(by_step) == list(range(1, 61))

    rows = [r for r in trainer.state.log_history if "loss" in r and "nht/norm" in r]
    assert len(rows) >= 55
    for row in rows:
        sample = by_step[int(row["nht/step"])]
        assert row["nht/step"] <= row["step"]
        assert row["nht/norm"] == pytest.approx(sample.norm, rel=1e-9)
        assert row["nht/head_norm"] == pytest.approx(sample.head_norm, rel=1e-9)
        assert row["nht/tau"] == pytest.approx(sample.tau, rel=1e-9)
        assert row["nht/grad_norm"] == pytest.approx(sample.grad_norm, rel=1e-9)
    norms = [r["nht/norm"] for r in rows]
    taus = [r["nht/tau"] for r in rows]
    assert all(a != b for a, b in zip(norms, norms[1:]))
    assert all(a < b for a, b in zip(taus, taus[1:]))
    assessed = [r for r in rows if "nht/assessed_step" in r]
    assert assessed, "no assessment reached the logs"
    for row in assessed:
        _check_regime_series(row, row["step"])
        assert row["nht/assessed_step"] <= row["nht/step"]
    # the assessment lags the sample (throttled), the sample does not
    assert any(r["nht/assessed_step"] < r["nht/step"] for r in assessed)

    events = EventAccumulator(str(tmp_path / "tb")).Reload()  # the TensorBoard reporter
    tb_norms = {e.step: e.value for e in events.Scalars("train/nht/norm")}
    for row in rows:
        assert tb_norms[row["step"]] == pytest.approx(row["nht/norm"], rel=1e-6)
    assert "train/nht/regime/undetermined" in events.Tags()["scalars"]


def test_the_trainers_budget_and_schedule_are_planned(tmp_path):
    """Without options saying otherwise, the monitor's budget is the Trainer's max_steps
    and its lr_plan the Trainer's warm-up + cosine scheduler: the lr each step used."""
    torch.manual_seed(0)
    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id="hf-plan")
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, max_steps=12,
        learning_rate=1e-2, weight_decay=0.1, lr_scheduler_type="cosine", warmup_steps=3,
        logging_steps=4, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
        remove_unused_columns=False, dataloader_num_workers=0)
    Trainer(model=Tiny(), args=args, train_dataset=Pairs(), callbacks=[callback]).train()
    log = read_run(callback.last_run_path)
    assert log.header.config["budget_steps"] == 12
    assert [s for s, _ in log.header.lr_plan] == list(range(1, 13))
    assert [lr for _, lr in log.header.lr_plan] == pytest.approx([s.lr for s in log.samples])
    assert log.samples[0].lr < log.samples[2].lr > log.samples[-1].lr  # warm-up, cosine


def test_a_bad_lr_schedule_fails_when_the_callback_is_built(tmp_path):
    with pytest.raises(ValueError, match="callable step -> lr or a torch LR scheduler, got str"):
        NHTMonitorCallback(log_dir=tmp_path / "runs", lr_schedule="cosine")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_options_win_over_the_trainers_budget_and_schedule(tmp_path):
    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id="hf-own",
                                  budget_steps=100, lr_schedule=lambda s: 1e-2)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, max_steps=3,
        learning_rate=1e-2, report_to=[], save_strategy="no", use_cpu=True,
        disable_tqdm=True, remove_unused_columns=False, dataloader_num_workers=0)
    Trainer(model=Tiny(), args=args, train_dataset=Pairs(), callbacks=[callback]).train()
    log = read_run(callback.last_run_path)
    assert log.header.config["budget_steps"] == 100
    assert {lr for _, lr in log.header.lr_plan} == {1e-2} and log.header.lr_plan[-1][0] == 100


def test_evaluation_metrics_the_trainer_logs_are_recorded(tmp_path):
    """``metric_names={"eval_accuracy": "val_acc"}``: each evaluation's accuracy (the
    Trainer logs it through ``on_log``) is recorded as ``val_acc`` at the step it was made,
    with the value in ``state.log_history``; ``forward_logged=False`` records the loss only."""
    import numpy as np

    def accuracy(p):
        return {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())}

    runs = {}
    for forward in (True, False):
        torch.manual_seed(0)
        callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id=f"ev{forward}",
                                      metric_names={"eval_accuracy": "val_acc"},
                                      forward_logged=forward)
        args = TrainingArguments(
            output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, max_steps=12,
            learning_rate=1e-2, weight_decay=0.1, logging_steps=1, eval_strategy="steps",
            eval_steps=4, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
            remove_unused_columns=False, dataloader_num_workers=0)
        trainer = Trainer(model=Tiny(), args=args, train_dataset=Pairs(), eval_dataset=Pairs(),
                          compute_metrics=accuracy, callbacks=[callback])
        trainer.train()
        runs[forward] = (read_run(callback.last_run_path), trainer.state.log_history)
    log, history = runs[True]
    evals = {row["step"]: row["eval_accuracy"] for row in history if "eval_accuracy" in row}
    assert sorted(evals) == [4, 8, 12]
    assert {s.step: s.metrics["val_acc"] for s in log.samples if "val_acc" in s.metrics} \
        == pytest.approx(evals)
    losses = {row["step"]: row["loss"] for row in history if "loss" in row}
    summary = next(row["train_loss"] for row in history if "train_loss" in row)  # run mean
    assert log.samples[-1].metrics["train_loss"] == pytest.approx(losses[12])
    assert losses[12] != pytest.approx(summary)
    off, _ = runs[False]
    assert all("val_acc" not in s.metrics for s in off.samples)
