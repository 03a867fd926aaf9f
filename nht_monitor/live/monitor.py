"""The monitor: an optimizer step post-hook that samples norms and writes the run log.

``watch(model, optimizer, log_dir=...)`` is the one line a user adds. After every
``optimizer.step()`` the hook advances the τ clock and (every ``every`` steps) launches
a batched norm sample; samples are finalised on a later step, once their device work
is done, so the loop never waits for the GPU, and in batches at most every
``write_interval`` seconds (the host-side work of a sample — per-layer sums, the rule
engine, the JSON line — costs far less done for many samples at once than one at a
time between the kernels of a training step). Metrics given to :meth:`Monitor.log`
after optimizer step *t* (and before step *t+1*) are recorded with sample *t*; when
step *t* was not sampled they go with the next sample (latest value wins). When the loop
stalls after step *t* (an evaluation, a hang) for longer than ``STALL_WRITE_SECONDS``
(30 s), sample *t* is written, and again with the metrics logged after that: the later
row of a step supersedes the earlier, as a resumed run's rows do.
"""

from __future__ import annotations

import atexit
import logging
import math
import numbers
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError

from nht_monitor.analysis.assessment import Assessment
from nht_monitor.analysis.settings import config_budget
from nht_monitor.analysis.sweep import run_references
from nht_monitor.live.clock import TauClock
from nht_monitor.exporter.snapshot import RunSnapshot
from nht_monitor.live.settings import MonitorSettings
from nht_monitor.live.errors import ErrorGuard
from nht_monitor.live.layers import (
    HeadFinder,
    build_layer_map,
    layers_of_module,
    normalization_layers,
    resolve_head,
    undecayed_params,
)
from nht_monitor.live.launcher import LaunchIdentity
from nht_monitor.live.lr_plan import check_lr_schedule, plan_learning_rate
from nht_monitor.live.recorder import RunRecorder
from nht_monitor.runlog import RunLogWriter, read_run
from nht_monitor.live.sampler import NormSampler, PendingNorms
from nht_monitor.runlog.schema import ModelInfo, RunHeader, RunLogError, Sample
from nht_monitor.live.wrappers import unwrap_optimizer

logger = logging.getLogger("nht_monitor")

_MAX_IN_FLIGHT = 256  # samples awaiting finalisation before the oldest is forced out
STALL_WRITE_SECONDS = 30.0
"""After this long without an optimizer step (an evaluation, a hang), the current step's
sample is written although it is still open for metrics (see :meth:`Monitor.log`)."""


class _IdleFlusher:
    """Finishes a stalled loop's samples: a daemon thread that wakes every
    ``write_interval`` and, when the training loop has not finished a batch itself
    for longer than that (a long evaluation, a hang), writes the samples that are
    ready, so the log and the exporter stay current. It never waits for the
    monitor's lock: if the loop holds it, the loop is not stalled."""

    def __init__(self, monitor: Monitor, interval: float) -> None:
        self._monitor = monitor
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nht-monitor-flush",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._monitor._idle_drain(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@dataclass
class _InFlight:
    step: int
    time: float
    tau: float
    lr: float
    weight_decay: float
    groups: list[dict[str, float]]
    norms: PendingNorms
    metrics: dict[str, Any]
    written: dict[str, Any] | None = None
    """The metrics it was written with while the loop stalled (``None``: not written);
    finalised again only if metrics came after that."""


def _distributed_rank() -> int:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return 0


def _launch_identity(settings: MonitorSettings, world_size: int) -> LaunchIdentity:
    """The launcher's identity of this process: explicit ``PrometheusSettings(launch=,
    rank=)`` first, then the initialised process group, then the environment."""
    grouped = torch.distributed.is_available() and torch.distributed.is_initialized()
    prometheus = settings.prometheus
    return LaunchIdentity.from_env().overridden(
        launch=prometheus.launch if prometheus else None,
        rank=prometheus.rank if prometheus else None,
        group_rank=_distributed_rank() if grouped else None,
        group_world_size=world_size if grouped else None)


def _new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def _metric_value(name: str, value: Any) -> Any:
    """A float, or a detached 0-dim tensor still to be read; ``TypeError`` otherwise."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"metric {name!r}: a tensor with {value.numel()} elements is not a scalar")
        value = value.detach().reshape(())
        if value.device.type == "cuda":  # read it later without a sync
            host = torch.empty((), dtype=value.dtype, pin_memory=True)
            host.copy_(value, non_blocking=True)
            event = torch.cuda.Event()
            event.record(torch.cuda.current_stream(value.device))
            return (host, event)
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"metric {name!r}: expected a number or a 0-dim tensor, got "
                        f"{type(value).__name__}")
    return float(value)


def _metric_ready(value: Any) -> bool:
    return not isinstance(value, tuple) or value[1].query()


def _metric_float(value: Any) -> float:
    if isinstance(value, tuple):
        value[1].synchronize()
        return float(value[0])
    if isinstance(value, torch.Tensor):
        return float(value)
    return value


class Monitor:
    """Watches one model/optimizer pair; see :func:`watch`.

    Public state: ``run_id``, ``log_path``, ``header``, ``step`` (optimizer steps so
    far), ``tau``, ``latest_sample``, ``latest_assessment``, ``samples_total``,
    ``errors_total``, ``prometheus_url``.
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 settings: MonitorSettings) -> None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"watch(model=...) needs a torch.nn.Module, got {type(model).__name__}")
        optimizer = unwrap_optimizer(optimizer)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError("watch(optimizer=...) needs a torch.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.settings = settings
        self.model = model
        self.optimizer = optimizer
        self.rank = _distributed_rank()
        self.run_id = settings.run_id or _new_run_id()
        self.log_path = Path(settings.log_dir) / f"{self.run_id}.jsonl"
        self._guard = ErrorGuard(settings.max_consecutive_errors)
        self._closed = False
        self._lock = threading.RLock()  # the loop's thread vs the idle flusher
        self._flusher: _IdleFlusher | None = None
        self._in_flight: deque[_InFlight] = deque()
        self._last_drain = self._last_step_time = time.monotonic()
        self._pending_metrics: dict[str, Any] = {}
        self._resumed_count = 0
        self._console_state: tuple[str, str] | None = None
        self.prometheus_url: str | None = None
        self._exporter = None
        self._clamp = None
        self._resumed_samples: list[Sample] = []

        undecayed = (undecayed_params(model, optimizer) if settings.norm_scope == "decayed"
                     else frozenset())
        self.layer_map = build_layer_map(model, split_bias=settings.split_bias,
                                         undecayed=undecayed)
        self._head_finder: HeadFinder | None = None
        head_name: str | None = None
        if settings.head is not None:
            head_layers = resolve_head(self.layer_map, settings.head)
            head_name = settings.head
        else:
            self._head_finder = HeadFinder(model, self.layer_map)
            head_name = self._head_finder.head
            head_layers = layers_of_module(self.layer_map, head_name) if head_name else None
            if head_name is not None:
                self._head_finder = None
        self.sampler = NormSampler(self.layer_map, grads=settings.grads,
                                   head_layers=head_layers, model=model)
        self.clock = TauClock.for_optimizer(optimizer, settings.clock_group)
        self.step = 0

        if settings.norm_clamp is not None:
            from nht_monitor.control.clamp import NormClamp
            self._clamp = NormClamp.from_config(model, dict(settings.norm_clamp))

        config = {"every": settings.every, "split_bias": settings.split_bias,
                  "norm_scope": settings.norm_scope,
                  "grads": settings.grads, "optimizer": type(optimizer).__name__,
                  "param_groups": len(optimizer.param_groups),
                  "clock_group": self.clock.reference, "rank": self.rank,
                  "world_size": (torch.distributed.get_world_size()
                                 if torch.distributed.is_available()
                                 and torch.distributed.is_initialized() else 1),
                  "sharded": self.sampler.sharded, **settings.config}
        if self.layer_map.undecayed:
            config["undecayed_layers"] = [self.layer_map.names[i]
                                          for i in sorted(self.layer_map.undecayed)]
        if self._clamp is not None:
            config["norm_clamp"] = self._clamp.config_dict()
        self._metric_map = dict(settings.metric_names)
        if self._metric_map:
            config["metric_names"] = dict(self._metric_map)
        analysis_settings = settings.analysis
        self._fraction_keys = set(analysis_settings.train_acc_keys + analysis_settings.val_acc_keys)
        self._warned_keys: set[str] = set()
        if settings.budget_steps is not None:  # the explicit option wins over analysis=
            analysis_settings = analysis_settings.model_copy(
                update={"budget_steps": settings.budget_steps})
        budget = analysis_settings.budget_steps or config_budget(settings.config)
        self.budget_steps: int | None = max(1, round(budget)) if budget is not None else None
        """The run's step budget the rule engine uses (``None``: none known)."""
        if self.budget_steps is not None:  # read by the live and the offline engine
            config["budget_steps"] = self.budget_steps
        lr_plan = None
        if settings.lr_schedule is not None:
            check_lr_schedule(settings.lr_schedule, optimizer)
            if self.budget_steps is None:
                raise ValueError("lr_schedule is planned up to the run's budget: pass "
                                 "budget_steps=N (or config with num_steps/max_steps)")
            lr_plan = plan_learning_rate(settings.lr_schedule, optimizer,
                                         self.clock.reference, self.budget_steps)
        analysis = analysis_settings.model_dump(mode="json", exclude_defaults=True,
                                                exclude={"reference_runs"})
        if analysis:  # offline commands start from the settings the live engine used
            config["analysis"] = analysis
        self.launch_identity = _launch_identity(settings, config["world_size"])
        self.header = RunHeader(
            run_id=self.run_id, started_at=datetime.now(timezone.utc),
            model=ModelInfo(class_name=type(getattr(model, "_orig_mod", model)).__name__,
                            n_params=self.layer_map.n_params,
                            normalization=normalization_layers(model)),
            layers=list(self.layer_map.names), head=head_name, config=config,
            sweep=settings.sweep, launch=self.launch_identity.to_header(), lr_plan=lr_plan)

        self._writes = self.rank == 0 or settings.write_all_ranks
        if not self._writes:
            self._writer = None
        else:
            if self.rank != 0:
                self.log_path = self.log_path.with_suffix(f".rank{self.rank}.jsonl")
            self._writer = self._open_log()

        try:  # a run that fails to start leaves no log behind (a retry may reuse run_id)
            self._recorder = RunRecorder(
                self.header, self._writer, assess=settings.assess,
                assess_every=settings.assess_every, assess_interval=settings.assess_interval,
                on_assessment=self._print_assessment,
                on_error=self._guard.failed, resumed=self._resumed_samples,
                settings=analysis_settings,
                references=run_references(analysis_settings, self.run_id, self.log_path,
                                          settings.sweep))
            self._recorder.samples_total = self._resumed_count
            self._resumed_samples = []

            if settings.prometheus is not None and (
                    self.launch_identity.rank == 0 or settings.prometheus.per_rank_health):
                from nht_monitor.exporter import start_exporter

                prometheus = settings.prometheus.model_copy(  # base port + local rank
                    update={"port": self.launch_identity.exporter_port(settings.prometheus.port)})
                self._exporter = start_exporter(self, prometheus, identity=self.launch_identity)
                self.prometheus_url = self._exporter.url
        except BaseException:
            if self._writer is not None:
                try:
                    self._writer.discard()
                except OSError as exc:  # the construction error is the one to raise
                    logger.warning("nht-monitor: cannot remove the unused log %s: %s",
                                   self.log_path, exc)
            raise

        if self._clamp is not None:
            self._clamp.attach(optimizer)
        self._hook = optimizer.register_step_post_hook(self._on_step)
        atexit.register(self.close)
        if settings.write_interval > 0:
            self._flusher = _IdleFlusher(self, settings.write_interval)
        logger.info("nht-monitor: watching run %s, log %s%s", self.run_id,
                    self.log_path if self._writes else "(not written on this rank)",
                    f", metrics {self.prometheus_url}" if self._exporter is not None else "")

    # -- construction helpers ----------------------------------------------------
    def _open_log(self) -> RunLogWriter:
        exists = self.log_path.exists() and self.log_path.stat().st_size > 0
        if exists and not self.settings.resume:
            raise ValueError(f"run log {self.log_path} already exists: pass resume=True to "
                             "continue that run, or another run_id")
        if exists:
            previous = read_run(self.log_path)
            if list(previous.header.layers) != list(self.header.layers):
                logger.warning("resuming %s with different layers than it was started with",
                               self.log_path)
            self.header = previous.header
            if previous.samples:
                last = previous.samples[-1]
                self.step = last.step
                if last.groups and len(last.groups) == len(self.clock.taus):
                    self.clock.taus = [g.tau for g in last.groups]
                else:
                    self.clock.taus = [last.tau] * len(self.clock.taus)
                self._resumed_count = len(previous.samples)
                self._resumed_samples = previous.samples[-10_000:]
            self._resume_plan(previous.header)
            return RunLogWriter(self.log_path, None, append=True, line_buffered=False)
        return RunLogWriter(self.log_path, self.header, line_buffered=False)

    def _resume_plan(self, previous: RunHeader) -> None:
        """A resumed log whose header has no ``lr_plan`` while ``lr_schedule`` is given now:
        the live engine follows the schedule from the step the run resumes at (the
        scheduler's next lr is that step's); the header on disk stays as first written."""
        schedule = self.settings.lr_schedule
        if previous.lr_plan is not None or schedule is None or self.budget_steps is None \
                or self.budget_steps <= self.step:
            return
        plan = plan_learning_rate(schedule, self.optimizer, self.clock.reference,
                                  self.budget_steps - self.step)
        self.header = previous.model_copy(
            update={"lr_plan": [(s + self.step, lr) for s, lr in plan]})
        logger.info("nht-monitor: resuming %s, whose header has no lr_plan: the live engine "
                    "follows the lr_schedule given now; offline commands read the header",
                    self.log_path)

    # -- the hook ----------------------------------------------------------------
    def _on_step(self, optimizer: torch.optim.Optimizer, _args: Any, _kwargs: Any) -> None:
        if self._closed or self._guard.disabled:
            return
        with self._lock:
            try:
                self.step += 1
                self._last_step_time = time.monotonic()
                self.clock.advance(optimizer)
                self._drain(force=False)
                if self.step % self.settings.every == 0:
                    self._launch()
                self._guard.succeeded()
            except Exception as exc:  # never into the training loop
                self._guard.failed("optimizer step hook", exc)

    def _idle_drain(self, interval: float) -> None:
        """Called by the idle flusher's thread (see :class:`_IdleFlusher`)."""
        if self._closed or time.monotonic() - self._last_drain < interval:
            return
        if not self._lock.acquire(blocking=False):
            return
        try:
            if not self._closed:
                self._drain(force=False, due=True)
                self._write_open_sample()
        except Exception as exc:
            self._guard.failed("idle flush", exc)
        finally:
            self._lock.release()

    def _write_open_sample(self) -> None:
        """The loop stalled (no step for ``STALL_WRITE_SECONDS``) with the current step's
        sample still open for its metrics: write it now, so the log and the exporter hold it (and a kill during
        the evaluation loses nothing). Metrics logged after this come as a second row for
        the same step, which supersedes the first (as a resumed run's rows do)."""
        if time.monotonic() - self._last_step_time < STALL_WRITE_SECONDS:
            return
        record = self._in_flight[-1] if len(self._in_flight) == 1 else None
        if (record is None or record.written is not None or record.step != self.step
                or not record.norms.ready()
                or not all(_metric_ready(v) for v in record.metrics.values())):
            return
        self._finalize(record, assess=None)
        record.written = dict(record.metrics)
        self._recorder.flush()

    def _launch(self) -> None:
        if self._head_finder is not None:
            self._head_finder.settle()  # if the model's own forward hook never fired
            head = self._head_finder.head
            self.sampler.set_head(layers_of_module(self.layer_map, head))
            self.header.head = head
            self._head_finder = None
        record = _InFlight(step=self.step, time=time.time(), tau=self.clock.tau,
                           lr=self.clock.lr, weight_decay=self.clock.weight_decay,
                           groups=self.clock.groups(), norms=self.sampler.launch(),
                           metrics=self._pending_metrics)
        self._pending_metrics = {}
        self._in_flight.append(record)
        while len(self._in_flight) > _MAX_IN_FLIGHT:
            self._finalize(self._in_flight.popleft(), assess=None)

    def _drain(self, force: bool, assess_last: bool = False, due: bool = False) -> None:
        """Write every in-flight sample that is complete (all of them when ``force``;
        ``assess_last`` makes the last one carry a fresh assessment). Unforced and not
        ``due``, it does nothing until ``write_interval`` seconds have passed since the
        last time or half of ``_MAX_IN_FLIGHT`` samples wait."""
        if not force:
            now = time.monotonic()
            if not self._in_flight or (
                    not due and now - self._last_drain < self.settings.write_interval
                    and len(self._in_flight) < _MAX_IN_FLIGHT // 2):
                return
            self._last_drain = now
        batch: list[_InFlight] = []
        while self._in_flight:
            record = self._in_flight[0]
            if not force and record.step >= self.step:
                break  # still open for metrics of its own step
            if not force and not (record.norms.ready()
                                  and all(_metric_ready(v) for v in record.metrics.values())):
                break
            batch.append(self._in_flight.popleft())
        if not batch:
            return
        for i, record in enumerate(batch):
            final = assess_last and i == len(batch) - 1 and not self._in_flight
            if record.written is None or record.metrics != record.written or final:
                self._finalize(record, assess=True if final else None)
        self._recorder.flush()

    def _finalize(self, record: _InFlight, assess: bool | None) -> None:
        norms = record.norms.result()
        names = self.layer_map.names
        layer_grads = None
        if norms.grad_layer is not None:
            layer_grads = {n: v for n, v, has in zip(names, norms.grad_layer,
                                                      norms.grad_present) if has}
        self._recorder.record(
            step=record.step, time=record.time, tau=record.tau, lr=record.lr,
            weight_decay=record.weight_decay,
            layer_norms=dict(zip(names, norms.layer)), norm=norms.total,
            head_norm=norms.head, layer_grad_norms=layer_grads, grad_norm=norms.grad_total,
            metrics=self._checked({k: _metric_float(v) for k, v in record.metrics.items()}),
            groups=record.groups, assess=assess)

    def _checked(self, metrics: dict[str, float]) -> dict[str, float]:
        """``metrics``, after a warning (once per name) for an accuracy outside [0, 1]."""
        for name in self._fraction_keys.intersection(metrics).difference(self._warned_keys):
            if not 0.0 <= metrics[name] <= 1.0 and math.isfinite(metrics[name]):
                self._warned_keys.add(name)
                logger.warning("nht-monitor %s: %s=%g is not a fraction in [0, 1]; the engine "
                               "reads accuracies as fractions (log a percentage divided by 100)",
                               self.run_id, name, metrics[name])
        return metrics

    def _print_assessment(self, assessment: Assessment) -> None:
        """Console line when the regime or phase changes (``console=True``)."""
        state = (assessment.regime, assessment.phase)
        if not self.settings.console or state == self._console_state:
            return
        self._console_state = state
        forecast = assessment.transition.forecast_step
        print(f"[nht-monitor {self.run_id}] step {assessment.step}: regime "
              f"{assessment.regime} ({assessment.confidence:.2f}), phase {assessment.phase}"
              + (f", transition forecast at step {forecast:.0f}" if forecast else ""),
              flush=True)

    # -- public API --------------------------------------------------------------
    def log(self, **metrics: Any) -> None:
        """Record extra scalars (floats or 0-dim tensors) with the current sample.

        A name given in ``watch(metric_names={...})`` is recorded under the engine's
        name it maps to. Never raises into the loop: a bad value is counted as an
        internal error.
        """
        if self._closed:
            return
        with self._lock:
            for name, value in metrics.items():
                try:
                    converted = _metric_value(name, value)
                except Exception as exc:
                    self._guard.failed(f"log({name}=...)", exc)
                    continue
                open_record = (self._in_flight[-1] if self._in_flight
                               and self._in_flight[-1].step == self.step else None)
                (open_record.metrics if open_record
                 else self._pending_metrics)[self._metric_map.get(name, name)] = converted

    def poll(self) -> None:
        """Write, now, every sample whose device work is done (never waits); for
        callers about to read ``latest_sample``/``latest_assessment`` (a trainer's
        logging step) who do not want to wait up to ``write_interval``."""
        with self._lock:
            try:
                self._drain(force=False, due=True)
            except Exception as exc:
                self._guard.failed("poll", exc)

    def flush(self) -> None:
        """Write every in-flight sample now (waits for the device) and flush the file
        (``_drain`` flushes after every batch it writes)."""
        with self._lock:
            try:
                self._drain(force=True)
            except Exception as exc:
                self._guard.failed("flush", exc)

    def assess(self) -> Assessment | None:
        """Run the rule engine on everything seen so far (``None`` if assessment is off)."""
        if self._recorder.analyzer is None:
            return None
        self.flush()
        return self._recorder.assess()

    def close(self) -> None:
        """Finish the run: final sample if the last step was not sampled, final
        assessment, flush and close the log, stop the exporter. Idempotent. Never
        raises: a failure (a full disk) is logged and counted in ``errors_total``."""
        if self._closed:
            return
        if self._flusher is not None:
            self._flusher.stop()
        with self._lock:
            if self._closed:
                return
            try:
                if not self._guard.disabled and self.step > 0 and (
                        not self._in_flight or self._in_flight[-1].step != self.step) and (
                        self.latest_sample is None or self.latest_sample.step != self.step):
                    self._launch()
                self._drain(force=True, assess_last=True)
            except Exception as exc:
                self._guard.failed("close", exc)
            self._closed = True
        try:
            self._hook.remove()
            if self._clamp is not None:
                self._clamp.detach()
            if self._head_finder is not None:
                self._head_finder.remove()
        except Exception as exc:
            self._guard.failed("removing the hooks", exc)
        if self._exporter is not None:
            try:
                self._exporter.close()
            except Exception as exc:
                self._guard.failed("exporter close", exc)
        self._close_writer()
        atexit.unregister(self.close)

    def _close_writer(self) -> None:
        """Close the run log; a failure (a full disk) is logged and counted, never
        raised: lines flushed before it stay readable."""
        if getattr(self, "_writer", None) is not None:
            try:
                self._writer.close()
            except Exception as exc:
                self._guard.failed("closing the run log", exc)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def tau(self) -> float:
        return self.clock.tau

    @property
    def errors_total(self) -> int:
        return self._guard.errors_total

    @property
    def latest_sample(self) -> Sample | None:
        return self._recorder.latest_sample

    @property
    def latest_assessment(self) -> Assessment | None:
        return self._recorder.latest_assessment

    @property
    def samples_total(self) -> int:
        return self._recorder.samples_total

    @property
    def last_sample_time(self) -> float | None:
        return self._recorder.last_sample_time

    def snapshot(self) -> RunSnapshot:
        """A consistent view for another thread (the exporter)."""
        recorder = self._recorder
        with recorder.lock:
            return RunSnapshot(self.run_id, self.header, recorder.latest_sample,
                                   recorder.latest_assessment, recorder.samples_total,
                                   self._guard.errors_total, recorder.last_sample_time)

    def state_dict(self) -> dict[str, Any]:
        """Step, τ per group and counters, to checkpoint with the model."""
        self.flush()
        return {"version": 1, "run_id": self.run_id, "step": self.step,
                "taus": list(self.clock.taus), "samples_total": self.samples_total}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint: step and τ as they were when it was saved."""
        if state.get("version") != 1:
            raise ValueError(f"unknown monitor state version {state.get('version')!r}")
        self.flush()
        self.step = int(state["step"])
        self.clock.taus = [float(t) for t in state["taus"]]

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Monitor(run_id={self.run_id!r}, step={self.step}, "
                f"layers={len(self.layer_map.names)}, log={str(self.log_path)!r})")


def watch(model: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
          prometheus_port: int | None = None, **options: Any) -> Monitor:
    """Watch ``model`` trained by ``optimizer``; returns the running :class:`Monitor`.

    Options are the fields of :class:`~nht_monitor.live.settings.MonitorSettings`
    (``log_dir``, ``run_id``, ``every``, ``head``, ``split_bias``, ``grads``,
    ``resume``, ``assess``, ``assess_every``, ``prometheus``, ``norm_clamp``,
    ``config``, ``budget_steps``, ``metric_names``, …);
    ``prometheus_port=N`` is short for ``prometheus=PrometheusSettings(port=N)``.
    Invalid options raise ``ValueError`` here, before training starts.
    """
    if prometheus_port is not None:
        if options.get("prometheus") is not None:
            raise ValueError("give prometheus_port or prometheus=PrometheusSettings(...), not both")
        options["prometheus"] = {"port": prometheus_port}
    try:
        settings = MonitorSettings(**options)
    except ValidationError as exc:
        raise ValueError(f"invalid nht_monitor.watch options: {_problems(exc)}") from None
    return Monitor(model, optimizer, settings)


def _problems(exc: ValidationError) -> str:
    """One line naming each bad option and what is wrong, never the value given (it may
    be a URL with a password)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                     for e in exc.errors(include_url=False, include_input=False,
                                         include_context=False))


__all__ = ["Monitor", "watch", "RunLogError"]
