"""Find the real optimizer and model inside framework wrappers.

``watch()`` hooks the optimizer whose ``step()`` really updates the weights: wrappers such
as accelerate's ``AcceleratedOptimizer`` or Lightning's ``LightningOptimizer`` do not run
the step post-hooks registered on themselves.
"""

from __future__ import annotations

from typing import Any

import torch


def unwrap_optimizer(optimizer: Any) -> torch.optim.Optimizer:
    """The torch optimizer inside wrappers (accelerate's ``AcceleratedOptimizer``,
    Lightning's ``LightningOptimizer``): the one whose ``step()`` really runs."""
    seen = 0
    while not type(optimizer).__module__.startswith("torch.") and seen < 4:
        inner = getattr(optimizer, "optimizer", None) or getattr(optimizer, "_optimizer", None)
        if not isinstance(inner, torch.optim.Optimizer):
            break
        optimizer = inner
        seen += 1
    return optimizer


def unwrap_scheduler(scheduler: Any) -> Any:
    """The torch LR scheduler inside accelerate's ``AcceleratedScheduler`` (else
    ``scheduler`` itself)."""
    inner = getattr(scheduler, "scheduler", None)
    return inner if isinstance(inner, torch.optim.lr_scheduler.LRScheduler) else scheduler


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside DDP/DataParallel wrappers (same parameters)."""
    while isinstance(model, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)):
        model = model.module
    return model
