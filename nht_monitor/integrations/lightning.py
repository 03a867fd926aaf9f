"""PyTorch Lightning callback: watch the LightningModule and its first optimizer.

    trainer = lightning.Trainer(callbacks=[NHTMonitorCallback(log_dir="runs")])

The monitor starts on ``on_train_start`` (on every rank, so sharded norms can be
all-reduced; only global rank 0 writes the run log) and closes on ``on_train_end`` or
``on_exception``. The step post-hook sits on ``trainer.optimizers[0]``, so gradient
accumulation gives one sample per optimizer step. Unless the options say otherwise, the
budget is the optimizer steps still to run (``trainer.estimated_stepping_batches`` less
those taken) and ``lr_schedule`` that optimizer's scheduler when it steps every
optimizer step (``interval="step"``, ``frequency=1``). The training loss (``outputs["loss"]``)
is recorded as the ``train_loss`` metric, and the metrics the module logs with
``self.log`` whose names the engine reads, or ``metric_names`` maps, are recorded as they
are logged (``forward_logged``). On global rank 0, at every batch whose
metrics Lightning sends to its loggers (``log_every_n_steps``), the callback finishes
the ready samples (``monitor.poll()``) and logs the latest sample and the latest
assessment through ``pl_module.log_dict`` (one row with the module's own metrics; names
in :func:`nht_monitor.integrations._common.logger_metrics`); at ``on_train_end``, after
the final assessment, it sends them once more to ``trainer.loggers``.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # pragma: no cover - the old package name
    try:
        from pytorch_lightning.callbacks import Callback  # type: ignore[no-redef]
    except ImportError as exc:
        raise ImportError("nht_monitor.integrations.lightning needs Lightning: "
                          "pip install 'nht-monitor[lightning]'") from exc

from nht_monitor.integrations._common import (
    forwarded_names, snapshot_metrics, unwrap_optimizer, validated_options, watch_in_trainer)
from nht_monitor.live.monitor import Monitor

logger = logging.getLogger(__name__)


class NHTMonitorCallback(Callback):
    """Lightning ``Callback`` running :func:`nht_monitor.watch` during ``fit``.

    ``watch_options`` are passed to :func:`nht_monitor.watch` (``log_dir``, ``run_id``,
    ``every``, ``prometheus_port``, ``norm_clamp``, ``metric_names``…); they are validated
    here, at construction. ``log_loss``: record ``outputs["loss"]`` as ``train_loss``.
    ``forward_logged``: record the metrics the module logs (``self.log``, read from
    ``trainer.callback_metrics``) whose names the engine reads (``val_acc``,
    ``train_acc``…) or ``metric_names`` maps — training ones at the batch that logs them,
    held-out ones at the end of each validation — each value once, as a tensor (no sync).
    ``log_to_loggers``: send the ``nht/...`` metrics to the trainer's loggers.
    ``monitor`` is the running :class:`~nht_monitor.Monitor` (``None`` outside ``fit``).
    """

    def __init__(self, *, log_loss: bool = True, forward_logged: bool = True,
                 log_to_loggers: bool = True, **watch_options: Any) -> None:
        super().__init__()
        settings = validated_options(watch_options)
        self.watch_options = watch_options
        self.log_loss = log_loss
        forwarded = forwarded_names(settings) if forward_logged else frozenset()
        held_out = settings.analysis.val_acc_keys
        self.forwarded_held_out = frozenset(
            n for n in forwarded if settings.metric_names.get(n, n) in held_out)
        """The logged held-out metrics the callback records at each validation's end."""
        self.forwarded_training = forwarded - self.forwarded_held_out
        """The other logged metrics it records at each training batch's end."""
        self._last_forwarded: dict[str, Any] = {}
        self.log_to_loggers = log_to_loggers
        self.monitor: Monitor | None = None
        self.last_run_path = None

    def on_train_start(self, trainer: Any, pl_module: torch.nn.Module) -> None:
        self._close()
        if not trainer.optimizers:
            logger.warning("NHTMonitorCallback: the trainer has no optimizer; not watching")
            return
        optimizer = unwrap_optimizer(trainer.optimizers[0])
        self.monitor = watch_in_trainer(pl_module, optimizer, self.watch_options,
                                        _planned_steps(trainer),
                                        _step_scheduler(trainer, optimizer))
        self.last_run_path = self.monitor.log_path

    def on_train_batch_end(self, trainer: Any, pl_module: torch.nn.Module, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        monitor = self.monitor
        if monitor is None:
            return
        if self.log_loss:
            loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
            if isinstance(loss, torch.Tensor) and loss.numel() == 1:
                monitor.log(train_loss=loss.detach())
        self._forward_logged(trainer, monitor, self.forwarded_training)
        if (self.log_to_loggers and trainer.loggers and trainer.global_rank == 0
                and _logging_now(trainer)):
            monitor.poll()
            metrics = snapshot_metrics(monitor.snapshot())
            if metrics:
                # on_step only; rank_zero_only: no collective, the other ranks do not log
                pl_module.log_dict(metrics, on_step=True, on_epoch=False, prog_bar=False,
                                   logger=True, batch_size=1, rank_zero_only=True)

    def on_validation_end(self, trainer: Any, pl_module: torch.nn.Module) -> None:
        if self.monitor is not None and not getattr(trainer, "sanity_checking", False):
            self._forward_logged(trainer, self.monitor, self.forwarded_held_out)

    def _forward_logged(self, trainer: Any, monitor: Monitor, names: frozenset[str]) -> None:
        """Record the metrics of ``names`` Lightning holds a new tensor of since the last
        call. Held-out ones are read only at a validation's end: read at every batch's end
        too, the public TomFrederik/grokking script's came twice per validation."""
        if not names:
            return
        logged = getattr(trainer, "callback_metrics", None) or {}
        fresh = {name: value for name, value in logged.items() if name in names
                 and value is not self._last_forwarded.get(name)}
        if fresh:
            self._last_forwarded.update(fresh)
            monitor.log(**fresh)

    def on_train_end(self, trainer: Any, pl_module: torch.nn.Module) -> None:
        monitor = self.monitor
        if monitor is None:
            return
        self._close()  # flushes every sample and makes the final assessment
        if self.log_to_loggers and trainer.global_rank == 0:
            metrics = snapshot_metrics(monitor.snapshot())
            for trainer_logger in trainer.loggers if metrics else ():
                try:
                    trainer_logger.log_metrics(metrics, step=trainer.global_step)
                except Exception as exc:  # a logger failing must not stop training
                    logger.warning("NHTMonitorCallback: %s.log_metrics failed: %s",
                                   type(trainer_logger).__name__, exc)
        if trainer.global_rank == 0 and monitor.latest_assessment is not None:
            a = monitor.latest_assessment
            logger.info("nht-monitor %s: regime %s at step %s; run log %s", monitor.run_id,
                        a.regime, a.step, monitor.log_path)

    def on_exception(self, trainer: Any, pl_module: torch.nn.Module,
                     exception: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self.monitor is not None:
            self.monitor.close()
            self.monitor = None
        self._last_forwarded = {}


def _logging_now(trainer: Any) -> bool:
    """Whether Lightning sends this batch's step metrics to its loggers (its
    ``log_every_n_steps`` rule); ``True`` where that cannot be read, so nothing is lost."""
    if getattr(trainer, "fast_dev_run", False):
        return True
    connector = getattr(trainer, "_logger_connector", None)
    try:
        flag = connector.should_update_logs
    except Exception:
        return True
    return flag if isinstance(flag, bool) else True


def _planned_steps(trainer: Any) -> float | None:
    """Optimizer steps still to run (``None``: unknown, e.g. an unbounded ``fit``)."""
    try:
        total = float(trainer.estimated_stepping_batches)
    except Exception:  # noqa: BLE001 - no dataloader length: no budget
        return None
    return total - trainer.global_step if total != float("inf") else None


def _step_scheduler(trainer: Any, optimizer: torch.optim.Optimizer) -> Any:
    """The LR scheduler of ``optimizer`` stepped once per optimizer step, if any."""
    for config in getattr(trainer, "lr_scheduler_configs", ()):
        scheduler = config.scheduler
        if (config.interval == "step" and config.frequency == 1
                and getattr(scheduler, "optimizer", None) is optimizer):
            return scheduler
    return None
