"""One monitored modular-arithmetic run: :func:`train_run`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nht_monitor.demos.common.device import resolve_device, seed_everything
from nht_monitor.demos.common.transition import TransitionTracker
from nht_monitor.demos.modular_arithmetic.config import ModArithConfig
from nht_monitor.demos.modular_arithmetic.data import make_data
from nht_monitor.demos.modular_arithmetic.model import build_model
from nht_monitor.demos.modular_arithmetic.result import RunResult

OnStep = Callable[[int, nn.Module, torch.optim.Optimizer], None]
ADAM_BETAS = (0.9, 0.98)


def run_config(cfg: ModArithConfig) -> dict[str, Any]:
    """The settings recorded in the run log header's ``config["demo"]``."""
    return {"name": "modular_arithmetic", **cfg.model_dump(mode="json", exclude={"log_dir"})}


def total_norm(model: nn.Module) -> float:
    """L2 norm of all parameters."""
    with torch.no_grad():
        return math.sqrt(sum(float(p.detach().float().pow(2).sum()) for p in model.parameters()))


def train_run(cfg: ModArithConfig, *, monitor_kwargs: dict[str, Any] | None = None,
              on_step: OnStep | None = None,
              progress: Callable[[int, Any], None] | None = None) -> RunResult:
    """Train one run watched by :func:`nht_monitor.watch`; return its :class:`RunResult`.

    The run log is ``cfg.log_dir/<run_id>.jsonl`` (``run_id`` defaults to
    :meth:`ModArithConfig.default_run_id`). Every step logs ``train_loss`` and
    ``train_acc`` (of the batch before the step); every ``eval_every`` steps (and the
    last) ``val_acc``. ``monitor_kwargs`` go to ``watch`` (e.g. ``norm_clamp={...}``,
    ``every=``), overriding the defaults derived from ``cfg``. ``on_step(step, model,
    optimizer)`` is called after each optimizer step; ``progress(step, monitor)`` too
    (the CLI's progress bar).
    """
    from nht_monitor import watch

    cfg = cfg.resolved()
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    data = make_data(cfg.p, cfg.op, cfg.train_fraction, cfg.seed, device)
    model = build_model(cfg.model, cfg.p, cfg.width, cfg.layernorm, cfg.init_scale,
                        cfg.embed_dim).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                  betas=ADAM_BETAS)
    run_id = cfg.run_id or cfg.default_run_id()
    kwargs: dict[str, Any] = {"log_dir": cfg.log_dir, "run_id": run_id, "head": "head",
                              "config": {"demo": run_config(cfg)}}
    if cfg.prometheus_port is not None:
        kwargs["prometheus"] = {"host": cfg.prometheus_host, "port": cfg.prometheus_port}
    kwargs.update(monitor_kwargs or {})
    peak_norm, peak_step = -1.0, 0
    train_loss = train_acc = val_acc = float("nan")
    started = time.perf_counter()
    with watch(model, optimizer, **kwargs) as monitor:
        tracker = TransitionTracker(monitor.settings.analysis.done_val_acc)
        for step in range(1, cfg.steps + 1):
            model.train()
            logits = model(data.x_train)
            loss = F.cross_entropy(logits, data.y_train)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            acc = (logits.detach().argmax(-1) == data.y_train).float().mean()
            metrics: dict[str, Any] = {"train_loss": loss.detach(), "train_acc": acc}
            if step % cfg.eval_every == 0 or step == cfg.steps:
                model.eval()
                with torch.no_grad():
                    val = (model(data.x_val).argmax(-1) == data.y_val).float().mean()
                metrics["val_acc"] = val
                train_loss, train_acc, val_acc = float(loss.detach()), float(acc), float(val)
                tracker.evaluate(step, val_acc)
                norm = total_norm(model)
                if norm > peak_norm:
                    peak_norm, peak_step = norm, step
            monitor.log(**metrics)
            tracker.assessment(step, monitor.latest_assessment)
            if on_step is not None:
                on_step(step, model, optimizer)
            if progress is not None:
                progress(step, monitor)
        log_path = monitor.log_path
    wall = time.perf_counter() - started
    assessment = monitor.latest_assessment
    a = assessment.model_dump(mode="json") if assessment is not None else None
    sample = monitor.latest_sample
    return RunResult(
        run_id=run_id, log_path=log_path, weight_decay=cfg.weight_decay, lr=cfg.lr,
        steps=cfg.steps, grok_step=tracker.actual_step, forecast_step=tracker.forecast_step,
        forecast_made_at=tracker.forecast_made_at,
        first_forecast_step=tracker.first_forecast_step,
        first_forecast_made_at=tracker.first_forecast_made_at,
        final_train_loss=train_loss, final_train_acc=train_acc, final_val_acc=val_acc,
        final_norm=total_norm(model),
        final_head_norm=None if sample is None else sample.head_norm,
        peak_norm=peak_norm, peak_step=peak_step,
        regime=None if a is None else a.get("regime"),
        confidence=None if a is None else a.get("confidence"),
        assessment=a, wall_time_s=wall)
