"""A real, short CPU training run watched by nht_monitor (for the exporter tests)."""

from __future__ import annotations

from pathlib import Path

import torch

import nht_monitor


def tiny_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                               torch.nn.ReLU(), torch.nn.Linear(32, 3))


def train(monitor: nht_monitor.Monitor, model: torch.nn.Module,
          optimizer: torch.optim.Optimizer, steps: int, seed: int = 0) -> None:
    """``steps`` full-batch SGD steps on a fixed random 3-class problem, logging the loss."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(128, 8, generator=generator)
    targets = torch.randint(0, 3, (128,), generator=generator)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        monitor.log(train_loss=loss)


def watched_run(log_dir: str | Path, run_id: str, steps: int, *, lr: float = 0.1,
                weight_decay: float = 1e-3, close: bool = True, seed: int = 0,
                **watch_options) -> nht_monitor.Monitor:
    """Train a tiny MLP ``steps`` steps under ``nht_monitor.watch``; returns the monitor
    (closed unless ``close=False``; then flushed, its exporter still serving)."""
    torch.set_num_threads(1)  # 2 shared cores: more threads only slow a tiny model down
    model = tiny_model(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir, run_id=run_id,
                                **watch_options)
    try:
        train(monitor, model, optimizer, steps, seed)
        monitor.flush()
    except BaseException:
        monitor.close()
        raise
    if close:
        monitor.close()
    return monitor
