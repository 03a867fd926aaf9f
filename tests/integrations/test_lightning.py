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
