"""Turn norms into run-log samples: the one place a sample line is built and written.

:class:`RunRecorder` is what :class:`~nht_monitor.live.monitor.Monitor` uses after its
sampler has produced the norms of a step, and what tools that compute norms
themselves use (e.g. a batched λ sweep that trains many models as one, where
``watch()`` cannot hook each model): give it the layer norms of a step and it fills
in the total and head norms, scans for non-finite values, feeds the live
:class:`~nht_monitor.analysis.Analyzer`, attaches an assessment every
``assess_every`` samples (and on the last one, at :meth:`RunRecorder.close`) and
writes one JSON line with the core's :class:`~nht_monitor.runlog.RunLogWriter`.
No torch import: the inputs are plain floats.
"""

from __future__ import annotations

import logging
import math
import threading
import time as _time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from nht_monitor.analysis.assessment import Assessment
from nht_monitor.analysis.pacing import Pacing
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.sweep import SweepReferences
from nht_monitor.runlog import RunLogWriter
from nht_monitor.runlog.schema import RunHeader, Sample

logger = logging.getLogger("nht_monitor")

ErrorHandler = Callable[[str, BaseException], None]


def _log_error(where: str, exc: BaseException) -> None:
    logger.warning("nht-monitor: %s failed: %s", where, exc)


class RunRecorder:
    """Writes the samples of one run and keeps its live assessment.

    ``writer`` is the run log (``None``: assess but write nothing, e.g. non-zero DDP
    ranks); ``assess=False`` turns the rule engine off; it runs every ``assess_every``
    samples, but not again within ``assess_interval`` seconds of its last run
    (:class:`~nht_monitor.analysis.pacing.Pacing` with ``min_interval``).
    ``on_assessment`` is called with every new assessment; ``on_error(where, exc)`` with
    every internal error (the analyzer failing never costs a sample). ``hold_last=True``
    writes each line one sample late, so the final assessment made by :meth:`close` can
    still go on the last line when the caller cannot tell which sample is the last.
    ``settings``: the analyzer's :class:`~nht_monitor.analysis.AnalyzerSettings`
    (default: the calibrated defaults). ``references``: runs of the same sweep that
    calibrate the forecast (:class:`~nht_monitor.analysis.sweep.SweepReferences`).

    Public state (read it under ``lock`` from another thread): ``latest_sample``,
    ``latest_assessment``, ``samples_total``, ``last_sample_time``.
    """

    def __init__(self, header: RunHeader, writer: RunLogWriter | None, *,
                 assess: bool = True, assess_every: int = 10, assess_interval: float = 0.0,
                 hold_last: bool = False,
                 on_assessment: Callable[[Assessment], None] | None = None,
                 on_error: ErrorHandler = _log_error,
                 resumed: Iterable[Sample] = (),
                 settings: AnalyzerSettings | None = None,
                 references: SweepReferences | None = None) -> None:
        self._pacing = Pacing(assess_every, min_interval=assess_interval)
        self.header = header
        self.lock = threading.Lock()
        self._writer = writer
        self._hold_last = hold_last
        self._held: dict[str, Any] | None = None
        self._on_assessment = on_assessment
        self._on_error = on_error
        self.latest_sample: Sample | None = None
        self.latest_assessment: Assessment | None = None
        self.samples_total = 0
        self.last_sample_time: float | None = None
        self._engine_keys = (settings or AnalyzerSettings()).metric_keys
        self._metrics_checked = False  # the first sample with metrics decides: warn or not
        self.analyzer = None
        if assess:
            from nht_monitor.analysis import Analyzer
            self.analyzer = Analyzer(header=header, settings=settings, references=references)
            for sample in resumed:
                self.analyzer.observe(sample)

    @classmethod
    def open(cls, log_dir: str | Path, header: RunHeader, **options: Any) -> RunRecorder:
        """A recorder writing ``log_dir/<run_id>.jsonl`` (refuses an existing log)."""
        path = Path(log_dir)
        path.mkdir(parents=True, exist_ok=True)
        return cls(header, RunLogWriter(path / f"{header.run_id}.jsonl", header), **options)

    @property
    def path(self) -> Path | None:
        return self._writer.path if self._writer is not None else None

    def record(self, *, step: int, tau: float, lr: float, weight_decay: float,
               layer_norms: Mapping[str, float],
               layer_grad_norms: Mapping[str, float] | None = None,
               metrics: Mapping[str, float] | None = None,
               norm: float | None = None, head_norm: float | None = None,
               grad_norm: float | None = None,
               groups: list[dict[str, float]] | None = None,
               time: float | None = None, assess: bool | None = None) -> Sample:
        """Record the state after optimizer step ``step`` and return its :class:`Sample`.

        ``norm``/``grad_norm`` default to √Σ of the layer norms squared and ``head_norm``
        to the header's head layer(s); pass them when computed more precisely.
        ``assess=True`` forces an assessment on this sample, ``False`` skips it, and
        ``None`` assesses every ``assess_every`` samples.
        """
        layer_norms = dict(layer_norms)
        if norm is None:
            norm = math.sqrt(math.fsum(v * v for v in layer_norms.values()))
        if head_norm is None and self.header.head is not None:
            head_layers = [v for n, v in layer_norms.items()
                           if n == self.header.head or n.startswith(self.header.head + ".")]
            head_norm = math.sqrt(math.fsum(v * v for v in head_layers)) if head_layers else None
        grads = dict(layer_grad_norms) if layer_grad_norms is not None else None
        if grads is not None and grad_norm is None:
            grad_norm = math.sqrt(math.fsum(v * v for v in grads.values()))
        metrics = dict(metrics or {})
        if metrics and not self._metrics_checked:
            self._check_metric_names(metrics)
        nonfinite = [n for n, v in layer_norms.items() if not math.isfinite(v)]
        if grads:
            nonfinite += [f"<grad>:{n}" for n, v in grads.items() if not math.isfinite(v)]
        when = _time.time() if time is None else time
        scalars = [tau, lr, weight_decay, norm, head_norm or 0.0, grad_norm or 0.0,
                   *metrics.values()]
        all_finite = not nonfinite and all(math.isfinite(v) for v in scalars)
        groups = groups if groups is not None and len(groups) > 1 else None
        sample = Sample.model_construct(
            step=step, time=when, tau=tau, lr=lr, weight_decay=weight_decay, norm=norm,
            head_norm=head_norm, layer_norms=layer_norms, grad_norm=grad_norm,
            layer_grad_norms=grads, metrics=metrics, groups=groups, nonfinite=nonfinite,
            assessment=None)
        row: dict[str, Any] = {
            "step": step, "time": when, "tau": tau, "lr": lr, "weight_decay": weight_decay,
            "norm": norm, "head_norm": head_norm, "layer_norms": layer_norms,
            "grad_norm": grad_norm, "layer_grad_norms": grads, "metrics": metrics,
            "nonfinite": nonfinite}
        if groups is not None:
            row["groups"] = groups
        if self.analyzer is not None:
            due = self._pacing.tick()  # every sample counts, whatever ``assess`` says
            try:  # a failing rule engine must not cost the sample
                self.analyzer.observe(sample)
                if assess or (assess is None and due):
                    assessment = self._assess_now()
                    row["assessment"] = sample.assessment = assessment.model_dump(mode="json")
                    all_finite = False  # assessments may hold non-finite numbers
            except Exception as exc:
                self._on_error("analyzer", exc)
        self._write(row, all_finite)
        with self.lock:
            self.latest_sample = sample
            self.samples_total += 1
            self.last_sample_time = when
        return sample

    def _check_metric_names(self, metrics: Mapping[str, float]) -> None:
        """Warn (once: on the first sample that carries metrics) when the engine reads
        none of the metric names logged."""
        self._metrics_checked = True
        if any(name in self._engine_keys for name in metrics):
            return
        mapped = self.header.config.get("metric_names") if isinstance(
            self.header.config, dict) else None
        logger.warning(
            "nht-monitor: metrics %s are logged but the rule engine reads none of them, so "
            "it judges the run from the norms alone. It reads: %s. Log under one of those "
            "names, or map yours with watch(metric_names={'training/accuracy': 'train_acc', "
            "'validation/accuracy': 'val_acc', 'training/loss': 'train_loss'})%s.",
            ", ".join(map(repr, metrics)), ", ".join(self._engine_keys),
            f" (metric_names given: {mapped})" if mapped else "")

    def _write(self, row: dict[str, Any], all_finite: bool) -> None:
        if self._writer is None:
            return
        if not self._hold_last:
            self._writer.write(row, all_finite=all_finite)
            return
        if self._held is not None:
            self._writer.write(self._held)
        self._held = row

    def _assess_now(self) -> Assessment:
        assessment = self.analyzer.assess()  # type: ignore[union-attr]
        self._pacing.assessed()
        with self.lock:
            self.latest_assessment = assessment
        if self._on_assessment is not None:
            self._on_assessment(assessment)
        return assessment

    def assess(self) -> Assessment | None:
        """The rule engine's verdict on everything recorded so far (``None`` if off)."""
        if self.analyzer is None or self.samples_total == 0:
            return self.latest_assessment
        try:
            return self._assess_now()
        except Exception as exc:
            self._on_error("assess", exc)
            return None

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Write the held line (with a final assessment if it has none) and close. The
        log is closed even when that write fails (a full disk); the error is raised."""
        try:
            if self._held is not None:
                if "assessment" not in self._held:
                    final = self.assess()
                    if final is not None:
                        self._held["assessment"] = final.model_dump(mode="json")
                        if self.latest_sample is not None:
                            self.latest_sample.assessment = self._held["assessment"]
                held, self._held = self._held, None
                self._writer.write(held)  # type: ignore[union-attr]
        finally:
            if self._writer is not None:
                self._writer.close()
