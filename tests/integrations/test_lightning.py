"""NHTMonitorCallback with the real Lightning Trainer on CPU (gradient accumulation)."""

from __future__ import annotations

import csv

import pytest
import torch
from torch import nn

pytest.importorskip("lightning")
import lightning as L  # noqa: E402
from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from nht_monitor import read_run  # noqa: E402
from nht_monitor.integrations.lightning import NHTMonitorCallback  # noqa: E402


class Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.fc1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-2, weight_decay=0.1)


def _loader():
    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(32, 4, generator=g),
                                          torch.randint(0, 2, (32,), generator=g))
    return torch.utils.data.DataLoader(data, batch_size=2)  # 16 batches


def test_one_sample_per_optimizer_step_with_accumulation(tmp_path):
    torch.manual_seed(0)
    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id="lit", assess_every=2)
    csv_logger = CSVLogger(tmp_path / "csv", name="t", version=0)
    trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=1, accumulate_grad_batches=4,
                        callbacks=[callback], logger=csv_logger, log_every_n_steps=1,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(Tiny(), _loader())
    assert trainer.global_step == 4  # 16 batches / 4 accumulated
    assert callback.monitor is None  # closed on train end
    log = read_run(callback.last_run_path)
    assert [s.step for s in log.samples] == [1, 2, 3, 4]
    assert log.header.layers == ["fc1", "head"]
    assert all("train_loss" in s.metrics for s in log.samples)
    assert log.samples[-1].assessment is not None
    csv_logger.save()
    with open(csv_logger.log_dir + "/metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert any(row.get("nht/regime") not in (None, "") for row in rows)
    assert any(row.get("nht/norm") not in (None, "") for row in rows)


def test_bad_watch_options_fail_at_construction(tmp_path):
    with pytest.raises(ValueError):
        NHTMonitorCallback(log_dir=tmp_path, every=0)
    with pytest.raises(ValueError, match="callable step -> lr or a torch LR scheduler, got int"):
        NHTMonitorCallback(log_dir=tmp_path, lr_schedule=3)


def test_ddp_two_processes_only_rank0_writes(tmp_path):
    """Real DDP (gloo, 2 CPU processes): one run log, from global rank 0, one sample per
    optimizer step of the (replicated) model."""
    from nht_monitor import read_run as read

    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id="ddp", assess_every=2)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp_spawn", max_epochs=1,
                        accumulate_grad_batches=2, callbacks=[callback], logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(Tiny(), _loader())  # 16 batches split over 2 ranks = 8 each, /2 accumulated
    files = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert files == ["ddp.jsonl"]
    log = read(tmp_path / "runs" / "ddp.jsonl")
    assert [s.step for s in log.samples] == [1, 2, 3, 4]
    assert log.header.config["world_size"] == 2 and log.header.config["rank"] == 0


def test_every_logged_row_carries_the_latest_sample(tmp_path):
    """200 optimizer steps, logged every 5: each CSV row has the norm and τ of the latest
    finished sample, read back from the run log, so they change from row to row; the
    assessment comes with the step it was made at; the regime series are 0/1 with one 1.
    The row written at the end carries the final sample and the final assessment."""
    from nht_monitor.analysis.assessment import REGIMES

    torch.manual_seed(0)
    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id="lit200")
    csv_logger = CSVLogger(tmp_path / "csv", name="t", version=0)
    g = torch.Generator().manual_seed(1)
    data = torch.utils.data.TensorDataset(torch.randn(400, 4, generator=g),
                                          torch.randint(0, 2, (400,), generator=g))
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=200, callbacks=[callback],
                        logger=csv_logger, log_every_n_steps=5, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Tiny(), torch.utils.data.DataLoader(data, batch_size=2))  # 200 batches
    assert trainer.global_step == 200
    log = read_run(callback.last_run_path)
    by_step = {s.step: s for s in log.samples}
    assert sorted(by_step) == list(range(1, 201))
    csv_logger.save()
    with open(csv_logger.log_dir + "/metrics.csv") as fh:
        rows = [{k: float(v) for k, v in row.items() if v not in (None, "")}
                for row in csv.DictReader(fh)]
    rows = [row for row in rows if "nht/norm" in row]
    assert len(rows) >= 35
    for row in rows:
        sample = by_step[int(row["nht/step"])]
        assert row["nht/step"] <= max(row["step"], 1)
        # log_dict stores float32
        assert row["nht/norm"] == pytest.approx(sample.norm, rel=1e-6)
        assert row["nht/head_norm"] == pytest.approx(sample.head_norm, rel=1e-6)
        assert row["nht/tau"] == pytest.approx(sample.tau, rel=1e-6)
    norms = [row["nht/norm"] for row in rows]
    assert all(a != b for a, b in zip(norms, norms[1:]))
    assessed = [row for row in rows if "nht/assessed_step" in row]
    assert len(assessed) >= len(rows) - 3
    for row in assessed:
        assert row["nht/assessed_step"] <= row["nht/step"] <= max(row["step"], 1)
        series = {name: row[f"nht/regime/{name}"] for name in REGIMES}
        assert set(series.values()) <= {0.0, 1.0}
        assert sum(series.values()) == 1.0
        assert series[REGIMES[int(row["nht/regime"])]] == 1.0
    assert any(row["nht/assessed_step"] < row["nht/step"] for row in assessed)
    final = rows[-1]  # sent at on_train_end, after the final assessment
    assert final["step"] == 200 and final["nht/step"] == 200
    assert final["nht/assessed_step"] == 200


class Scheduled(Tiny):
    def __init__(self, interval: str):
        super().__init__()
        self.interval = interval

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-2, weight_decay=0.1)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": self.interval}}


@pytest.mark.parametrize("interval", ["step", "epoch"])
def test_the_trainers_budget_and_per_step_schedule_are_planned(tmp_path, interval):
    torch.manual_seed(0)
    callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id=f"lit-{interval}")
    trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=2, accumulate_grad_batches=4,
                        callbacks=[callback], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Scheduled(interval), _loader())
    log = read_run(callback.last_run_path)
    assert trainer.global_step == 8
    assert log.header.config["budget_steps"] == 8
    if interval == "step":  # the lr each of the 8 steps used
        assert [lr for _, lr in log.header.lr_plan] == pytest.approx([s.lr for s in log.samples])
    else:  # stepped per epoch: not a plan the monitor can follow
        assert log.header.lr_plan is None


class Logging(Tiny):
    """Logs as the public TomFrederik/grokking script does: its own names, training
    accuracy every step, validation accuracy once per validation (epoch-level)."""

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("Training/Accuracy", (logits.argmax(-1) == y).float().mean(), on_step=True)
        self.log("note", 1.0)  # neither read by the engine nor mapped: not recorded
        return nn.functional.cross_entropy(logits, y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("Validation/Accuracy", (self(x).argmax(-1) == y).float().mean(),
                 on_epoch=True)


def test_metrics_the_module_logs_are_recorded_once_each(tmp_path):
    """``metric_names`` maps the module's own names: training accuracy is recorded at every
    step that logs it, validation accuracy once per validation (every 4 epochs of 4 steps:
    at steps 16 and 32, not at the sanity check), each with the value Lightning logged;
    with ``forward_logged=False`` only the loss. (Read at every batch's end too, the
    public TomFrederik/grokking script's held-out accuracy came twice per validation,
    at the validation's end and again at the next batch: held-out metrics are read only
    at a validation's end.)"""
    torch.manual_seed(0)
    names = {"Training/Accuracy": "train_acc", "Validation/Accuracy": "val_acc"}
    runs = {}
    for forward in (True, False):
        callback = NHTMonitorCallback(log_dir=tmp_path / "runs", run_id=f"fw{forward}",
                                      metric_names=names, forward_logged=forward)
        logger = CSVLogger(tmp_path / "csv", name=f"fw{forward}", version=0)
        trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=8, log_every_n_steps=1,
                            check_val_every_n_epoch=4, callbacks=[callback], logger=logger,
                            enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False, num_sanity_val_steps=2)
        g = torch.Generator().manual_seed(0)
        data = torch.utils.data.TensorDataset(torch.randn(16, 4, generator=g),
                                              torch.randint(0, 2, (16,), generator=g))
        loader = torch.utils.data.DataLoader(data, batch_size=4)  # 4 steps an epoch
        trainer.fit(Logging(), loader, loader)
        runs[forward] = (read_run(callback.last_run_path), trainer)
    log, trainer = runs[True]
    assert [s.step for s in log.samples] == list(range(1, 33))
    assert all("train_acc" in s.metrics and "train_loss" in s.metrics for s in log.samples)
    assert [s.step for s in log.samples if "val_acc" in s.metrics] == [16, 32]
    assert log.samples[-1].metrics["val_acc"] == pytest.approx(
        float(trainer.callback_metrics["Validation/Accuracy"]))
    assert all("note" not in s.metrics for s in log.samples)
    off, _ = runs[False]
    assert all(set(s.metrics) == {"train_loss"} for s in off.samples)
