"""Hugging Face ``transformers`` callback: watch the Trainer's model and optimizer.

    trainer = Trainer(model=..., args=..., callbacks=[NHTMonitorCallback(log_dir="runs")])

The monitor starts on ``on_train_begin`` (on every process, so sharded norms can be
all-reduced; only global rank 0 writes the run log) and closes on ``on_train_end``.
Unless the options say otherwise, its budget is the Trainer's ``max_steps`` still to
run and its ``lr_schedule`` the Trainer's LR scheduler (stepped once per optimizer step).
The step post-hook sits on the torch optimizer inside accelerate's
``AcceleratedOptimizer``, whose inner ``step()`` runs once per optimizer step, so
gradient accumulation gives one sample per optimizer step. Each ``on_log`` forwards
``logs["loss"]`` as the ``train_loss`` metric, and the other numbers in ``logs`` whose
names the engine reads or ``metric_names`` maps (``forward_logged``: e.g. the
evaluation's ``eval_accuracy`` with ``metric_names={"eval_accuracy": "val_acc"}``), and,
on the world process zero, finishes
the ready samples (``monitor.poll()``) and adds the latest sample and the latest
assessment to ``logs`` and to the row ``Trainer.log`` put in ``state.log_history``
(``nht/...`` keys, see :func:`nht_monitor.integrations._common.logger_metrics`).

``Trainer`` places its reporting callbacks (``report_to``: wandb, TensorBoard, MLflow…)
before the user's, and each sees ``logs`` when its turn comes; so on ``on_train_begin``
the callback moves itself to the front of the trainer's callback list, where every
reporter sees the ``nht/...`` keys.
"""

from __future__ import annotations

import logging
import numbers
import sys
from typing import Any

try:
    from transformers import TrainerCallback
    from transformers.trainer_callback import CallbackHandler
except ImportError as exc:  # pragma: no cover
    raise ImportError("nht_monitor.integrations.huggingface needs transformers: "
                      "pip install 'nht-monitor[huggingface]'") from exc

from nht_monitor.integrations._common import (
    forwarded_names, snapshot_metrics, unwrap_model, unwrap_optimizer, validated_options,
    watch_in_trainer)
from nht_monitor.live.monitor import Monitor

logger = logging.getLogger(__name__)


class NHTMonitorCallback(TrainerCallback):
    """``TrainerCallback`` running :func:`nht_monitor.watch` during ``Trainer.train()``.

    ``watch_options`` go to :func:`nht_monitor.watch` (validated here, at construction).
    ``forward_logged``: record the numbers the Trainer logs (``on_log``, evaluation
    metrics included) whose names the engine reads or ``metric_names`` maps.
    ``monitor`` is the running :class:`~nht_monitor.Monitor` (``None`` outside training);
    ``last_run_path`` the run log of the last training.
    """

    def __init__(self, *, forward_logged: bool = True, **watch_options: Any) -> None:
        settings = validated_options(watch_options)
        # "loss" is recorded as train_loss above; the Trainer's "train_loss" is the whole
        # run's mean, logged once at the end: not a step's loss
        self.forwarded = (forwarded_names(settings) - {"loss", "train_loss"}
                          if forward_logged else frozenset())
        """The logged names recorded besides ``loss`` (empty: ``forward_logged=False``)."""
        self.watch_options = watch_options
        self.monitor: Monitor | None = None
        self.last_run_path = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None,
                       optimizer: Any = None, **kwargs: Any) -> None:
        self._close()
        self._move_to_front()
        if model is None or optimizer is None:
            logger.warning("NHTMonitorCallback: no model or optimizer at on_train_begin; "
                           "not watching")
            return
        remaining = state.max_steps - state.global_step  # a resumed run starts a new log
        if self.watch_options.get("resume"):
            remaining = state.max_steps
        self.monitor = watch_in_trainer(unwrap_model(model), unwrap_optimizer(optimizer),
                                        self.watch_options, remaining or None,
                                        kwargs.get("lr_scheduler"))
        self.last_run_path = self.monitor.log_path

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None,
               **kwargs: Any) -> None:
        monitor = self.monitor
        if monitor is None or logs is None:
            return
        loss = logs.get("loss")
        if _number(loss):
            monitor.log(train_loss=float(loss))
        logged = {k: float(v) for k, v in logs.items() if k in self.forwarded and _number(v)}
        if logged:
            monitor.log(**logged)
        if not state.is_world_process_zero:
            return
        row = state.log_history[-1] if state.log_history else None
        # Trainer.log appended a copy of ``logs`` (plus "step") before calling on_log
        is_row = (row is not None and row is not logs and row.get("step") == state.global_step
                  and all(key in row for key in logs))
        monitor.poll()
        metrics = snapshot_metrics(monitor.snapshot())
        logs.update(metrics)
        if is_row:
            row.update(metrics)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        monitor = self.monitor
        if monitor is None:
            return
        self._close()
        if state.is_world_process_zero and monitor.latest_assessment is not None:
            a = monitor.latest_assessment
            logger.info("nht-monitor %s: regime %s at step %s; run log %s", monitor.run_id,
                        a.regime, a.step, monitor.log_path)

    def _move_to_front(self) -> None:
        """Become the first callback of the ``CallbackHandler`` calling this hook, so the
        reporting callbacks (registered before the user's) see the ``nht/...`` keys."""
        frame = sys._getframe(1)
        for _ in range(4):  # on_train_begin <- CallbackHandler.call_event <- ...
            if frame is None:
                break
            handler = frame.f_locals.get("self")
            if isinstance(handler, CallbackHandler) and any(
                    cb is self for cb in handler.callbacks):
                callbacks = handler.callbacks
                index = next(i for i, cb in enumerate(callbacks) if cb is self)
                if index:
                    # the handler is iterating this list: moving an earlier element's
                    # slot to the front keeps every later callback at its index
                    callbacks.insert(0, callbacks.pop(index))
                return
            frame = frame.f_back
        logger.warning("NHTMonitorCallback: trainer callback list not found; reporting "
                       "callbacks registered before this one will not see the nht/ metrics")

    def _close(self) -> None:
        if self.monitor is not None:
            self.monitor.close()
            self.monitor = None


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
