"""A real, short CPU training run watched by nht_monitor (used by the report and
dashboard tests).

A small MLP learns a linear rule on random inputs with full-batch AdamW; its weights
start small, so the norm first grows while fitting and weight decay then pulls it
back down. ``train_loss``, ``train_acc`` and (unless ``log_val=False``) ``val_acc`` are
logged each step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn


class SmallMLP(nn.Module):
    """Two hidden layers and a linear head ``head``."""

    def __init__(self, d_in: int = 16, width: int = 32, classes: int = 2) -> None:
        super().__init__()
        self.embed = nn.Linear(d_in, width)
        self.hidden = nn.Linear(width, width)
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.hidden(torch.relu(self.embed(x)))))


def run_training(log_dir: Path, run_id: str, *, weight_decay: float = 1.0, lr: float = 1e-2,
                 steps: int = 150, seed: int = 0, init_scale: float = 0.3,
                 log_val: bool = True,
                 on_step: Callable[[int, Any], None] | None = None,
                 close: bool = True, **watch_options: Any) -> Any:
    """Train and return the monitor (closed unless ``close=False``)."""
    import nht_monitor

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(seed)
        rule = torch.randn(16, generator=generator)
        x = torch.randn(256, 16, generator=generator)
        y = (x @ rule > 0).long()
        x_val = torch.randn(128, 16, generator=generator)
        y_val = (x_val @ rule > 0).long()
        torch.manual_seed(seed)
        model = SmallMLP()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.mul_(init_scale)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir, run_id=run_id,
                                    head="head", **watch_options)
        for step in range(steps):
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                train_acc = (logits.argmax(1) == y).float().mean()
                val_acc = (model(x_val).argmax(1) == y_val).float().mean()
            if log_val:
                monitor.log(train_loss=loss.detach(), train_acc=train_acc, val_acc=val_acc)
            else:
                monitor.log(train_loss=loss.detach(), train_acc=train_acc)
            if on_step is not None:
                on_step(step, monitor)
        if close:
            monitor.close()
        return monitor
    finally:
        torch.set_num_threads(threads)
