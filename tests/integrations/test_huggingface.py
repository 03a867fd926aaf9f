"""NHTMonitorCallback with the real transformers Trainer on CPU (gradient accumulation)."""

from __future__ import annotations

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
    assert log.header.layers == ["fc1", "head"]
    assert log.samples[-1].weight_decay == pytest.approx(0.1)
    assert sum("train_loss" in s.metrics for s in log.samples) >= 4
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logged) == 5
    assert log.samples[-1].assessment is not None
    assert any({"nht/regime", "nht/norm", "nht/tau"} <= keys for keys in seen.keys)
