"""One monitored image-classification run, shared by the CIFAR-10, CelebA and Waterbirds demos.

AdamW with a cosine schedule; ``nht_monitor.watch`` on the model; every step logs
``train_loss``/``train_acc`` (0-dim tensors: no host sync per step on CUDA); every
``eval_every`` steps (and at the end) each evaluation set is scored and logged:
``val_acc`` (in-distribution held-out accuracy), ``clean_acc`` (the shortcut removed),
``worst_group_acc`` and ``acc_<group>`` for the groups of the group-evaluation set.
On CUDA: bf16 autocast, ``channels_last``, pinned memory, loader workers.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch.utils.data import DataLoader, Dataset

from nht_monitor.demos.common.device import autocast, resolve_device, seed_everything
from nht_monitor.demos.common.transition import TransitionTracker


class ImageTrainConfig(BaseModel):
    """Optimiser, schedule, evaluation and logging settings of one image run.

    ``epochs`` over the training set with ``batch_size``; AdamW (``lr``,
    ``weight_decay``) with cosine decay to 0 over the run. ``eval_every`` steps
    (``None``: about 25 evaluations per run). ``num_workers`` ``None``: 4 on CUDA, 0 on
    CPU. ``transition_metric``: the accuracy whose rise marks the shortcut→structure
    transition (``"clean_acc"`` or ``"worst_group_acc"``), ``transition_min_gain`` the
    smallest rise that counts (see :class:`nht_monitor.demos.common.transition.TransitionTracker`).
    """

    model_config = ConfigDict(extra="forbid")
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.1, ge=0)
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(128, ge=1)
    seed: int = 0
    device: str = "auto"
    log_dir: Path = Path("runs")
    run_id: str
    prometheus_port: int | None = None
    prometheus_host: str = "127.0.0.1"
    eval_every: int | None = Field(None, ge=1)
    num_workers: int | None = Field(None, ge=0)
    transition_metric: str = "clean_acc"
    transition_min_gain: float = Field(0.1, gt=0, le=1)
    demo_config: dict[str, Any] = Field(default_factory=dict)


class ImageRunResult(BaseModel):
    """Outcome of one image run (one λ).

    ``metrics``: the last evaluation (``val_acc``, ``clean_acc``, ``worst_group_acc``,
    ``acc_<group>``) and the last ``train_loss``/``train_acc``; ``transition_step``
    the actual transition (see :class:`ImageTrainConfig`), ``forecast_step``/
    ``forecast_made_at`` the monitor's last forecast before it; ``cns`` the final
    assessment's Clean Norm Separation; norms as in the modular-arithmetic result.
    """

    model_config = ConfigDict(extra="allow")
    run_id: str
    log_path: Path
    weight_decay: float
    lr: float
    steps: int
    metrics: dict[str, float]
    transition_step: int | None = None
    forecast_step: float | None = None
    forecast_made_at: int | None = None
    final_norm: float
    final_head_norm: float | None = None
    peak_norm: float
    peak_step: int
    regime: str | None = None
    confidence: float | None = None
    cns: dict[str, Any] | None = None
    assessment: dict[str, Any] | None = None
    wall_time_s: float


def group_metric_name(group: str) -> str:
    """``acc_<group>`` with the group name reduced to ``[a-z0-9_]``."""
    return "acc_" + re.sub(r"[^a-z0-9]+", "_", group.lower()).strip("_")


def make_loader(dataset: Dataset, batch_size: int, *, shuffle: bool, device: torch.device,
                num_workers: int | None, seed: int) -> DataLoader:
    """A loader with pinned memory and workers on CUDA, plain on CPU."""
    cuda = device.type == "cuda"
    if num_workers is None:
        num_workers = min(4, os.cpu_count() or 1) if cuda else 0
    workers = num_workers
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                      pin_memory=cuda, persistent_workers=workers > 0, drop_last=False,
                      generator=torch.Generator().manual_seed(seed) if shuffle else None)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device,
             n_groups: int) -> tuple[float, torch.Tensor, torch.Tensor]:
    """``(accuracy, correct per group, count per group)`` of ``model`` on ``loader``.

    Group sums use ``Tensor.index_add_`` (no ``torch_scatter``); one host sync at the end.
    """
    model.eval()
    correct = torch.zeros(n_groups, device=device)
    count = torch.zeros(n_groups, device=device)
    for x, y, g in loader:
        x = x.to(device, non_blocking=True)
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        y, g = y.to(device, non_blocking=True), g.to(device, non_blocking=True)
        with autocast(device):
            pred = model(x).argmax(-1)
        correct.index_add_(0, g, (pred == y).float())
        count.index_add_(0, g, torch.ones_like(g, dtype=torch.float))
    model.train()
    correct, count = correct.cpu(), count.cpu()
    total = float(count.sum())
    return (float(correct.sum()) / total if total else math.nan), correct, count


def eval_metrics(model: nn.Module, loaders: dict[str, DataLoader], group_set: str,
                 group_names: list[str], device: torch.device) -> dict[str, float]:
    """Accuracy ``<name>_acc`` of every loader, and the group metrics of ``group_set``."""
    out: dict[str, float] = {}
    for name, loader in loaders.items():
        acc, correct, count = evaluate(model, loader, device, len(group_names))
        out[f"{name}_acc"] = acc
        if name == group_set:
            accs = []
            for g, gname in enumerate(group_names):
                if count[g] > 0:
                    a = float(correct[g] / count[g])
                    out[group_metric_name(gname)] = a
                    accs.append(a)
            out["worst_group_acc"] = min(accs) if accs else math.nan
            out.setdefault("clean_acc", sum(accs) / len(accs) if accs else math.nan)
    return out


def train_image_run(cfg: ImageTrainConfig, model: nn.Module, head: str, train_set: Dataset,
                    eval_sets: dict[str, Dataset], group_set: str, *,
                    monitor_kwargs: dict[str, Any] | None = None,
                    progress: Callable[[int, int, Any], None] | None = None) -> ImageRunResult:
    """Train ``model`` on ``train_set`` under the monitor; evaluate on ``eval_sets``.

    ``eval_sets`` maps a name to a dataset; its accuracy is logged as ``<name>_acc``
    (use ``"val"`` and ``"clean"``). ``group_set`` names the set whose per-group
    accuracies give ``acc_<group>`` and ``worst_group_acc`` (and ``clean_acc`` as the
    group-balanced accuracy when no ``"clean"`` set is given). ``progress(step, total,
    monitor)`` after each step.
    """
    from nht_monitor import watch

    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    group_names = list(getattr(eval_sets[group_set], "group_names"))
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    train_loader = make_loader(train_set, cfg.batch_size, shuffle=True, device=device,
                               num_workers=cfg.num_workers, seed=cfg.seed)
    eval_loaders = {name: make_loader(ds, max(cfg.batch_size, 256), shuffle=False, device=device,
                                      num_workers=cfg.num_workers, seed=cfg.seed)
                    for name, ds in eval_sets.items()}
    total = cfg.epochs * len(train_loader)
    eval_every = cfg.eval_every or max(1, total // 25)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    kwargs: dict[str, Any] = {"log_dir": cfg.log_dir, "run_id": cfg.run_id, "head": head,
                              "config": {"demo": cfg.demo_config}, "budget_steps": total,
                              "lr_schedule": schedule}
    if cfg.prometheus_port is not None:
        kwargs["prometheus"] = {"host": cfg.prometheus_host, "port": cfg.prometheus_port}
    kwargs.update(monitor_kwargs or {})
    tracker = TransitionTracker(cfg.transition_min_gain, mode="relative")
    last: dict[str, float] = {}
    peak_norm, peak_step = -1.0, 0
    started = time.perf_counter()
    step = 0
    with watch(model, optimizer, **kwargs) as monitor:
        for _epoch in range(cfg.epochs):
            for x, y, _g in train_loader:
                x = x.to(device, non_blocking=True)
                if device.type == "cuda":
                    x = x.contiguous(memory_format=torch.channels_last)
                y = y.to(device, non_blocking=True)
                with autocast(device):
                    logits = model(x)
                    loss = F.cross_entropy(logits.float(), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                step += 1
                metrics: dict[str, Any] = {
                    "train_loss": loss.detach(),
                    "train_acc": (logits.detach().argmax(-1) == y).float().mean()}
                if step % eval_every == 0 or step == total:
                    evals = eval_metrics(model, eval_loaders, group_set, group_names, device)
                    metrics.update(evals)
                    last.update(evals)
                    last["train_loss"] = float(loss.detach())
                    last["train_acc"] = float(metrics["train_acc"])
                    if cfg.transition_metric in evals:
                        tracker.evaluate(step, evals[cfg.transition_metric])
                    norm = monitor.latest_sample.norm if monitor.latest_sample else math.nan
                    if norm > peak_norm:
                        peak_norm, peak_step = norm, step
                monitor.log(**metrics)
                tracker.assessment(step, monitor.latest_assessment)
                if progress is not None:
                    progress(step, total, monitor)
        log_path = monitor.log_path
    wall = time.perf_counter() - started
    assessment = monitor.latest_assessment
    a = assessment.model_dump(mode="json") if assessment is not None else None
    sample = monitor.latest_sample
    final_norm = sample.norm if sample is not None else math.nan
    if final_norm > peak_norm:
        peak_norm, peak_step = final_norm, step
    return ImageRunResult(
        run_id=cfg.run_id, log_path=log_path, weight_decay=cfg.weight_decay, lr=cfg.lr,
        steps=step, metrics=last, transition_step=tracker.actual_step,
        forecast_step=tracker.forecast_step, forecast_made_at=tracker.forecast_made_at,
        final_norm=final_norm, final_head_norm=None if sample is None else sample.head_norm,
        peak_norm=peak_norm, peak_step=peak_step,
        regime=None if a is None else a.get("regime"),
        confidence=None if a is None else a.get("confidence"),
        cns=None if a is None else a.get("cns"), assessment=a, wall_time_s=wall)
