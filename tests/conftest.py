"""Shared fixtures: small real models and optimizers, a fresh log directory."""

from __future__ import annotations

import pytest
import torch
from torch import nn


class TinyNet(nn.Module):
    """A small classifier: conv body, two linear layers; ``fc`` is the head."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.hidden = nn.Linear(4 * 4 * 4, 16)
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x)).flatten(1)
        return self.fc(torch.relu(self.hidden(x)))


def tiny_batch(n: int = 8, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(n, 1, 6, 6), torch.randint(0, classes, (n,))


def train_steps(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int,
                monitor=None, scheduler=None, accumulate: int = 1) -> None:
    """A plain loop: ``steps`` optimizer steps of ``accumulate`` micro-batches each."""
    for _ in range(steps):
        for _ in range(accumulate):
            x, y = tiny_batch()
            loss = nn.functional.cross_entropy(model(x), y) / accumulate
            loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if scheduler is not None:
            scheduler.step()
        if monitor is not None:
            monitor.log(train_loss=loss)


@pytest.fixture
def tiny_net() -> TinyNet:
    torch.manual_seed(0)
    return TinyNet()


@pytest.fixture
def log_dir(tmp_path):
    path = tmp_path / "runs"
    path.mkdir()
    return path


LAUNCHER_VARIABLES = ("TORCHELASTIC_RUN_ID",  # what nht_monitor.live.launcher reads "SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID",
                      "SLURM_ARRAY_TASK_ID", "RANK", "LOCAL_RANK", "WORLD_SIZE",
                      "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS")


@pytest.fixture
def env(monkeypatch):
    """A clean launcher environment (no launcher variables); ``env(NAME=value, ...)``
    sets some."""
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env
