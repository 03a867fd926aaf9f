"""A run log for one slice of a batched model (one λ of a batched sweep).

``watch()`` hooks one model/optimizer pair, so a batched sweep cannot be watched per λ.
:class:`SliceRunLog` takes the norms the sweep computed for its slice, builds the core
schema's :class:`~nht_monitor.schema.RunHeader`/:class:`~nht_monitor.schema.Sample`
exactly as the monitor does (total norm = √Σ layer², head norm, τ = Σ η λ, one clock
group, written only when there are several), runs the live
:class:`nht_monitor.analysis.Analyzer` on it and writes the lines
with the core's run-log writer.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from demos.modular_arithmetic import _writer
from nht_monitor.schema import ModelInfo, RunHeader, Sample

logger = logging.getLogger(__name__)


class SliceRunLog:
    """Writes ``log_dir/<run_id>.jsonl`` for one slice; ``write(...)`` per sampled step.

    ``latest_assessment`` is the last assessment dict (``None`` before the first);
    ``last_norm``/``last_head_norm``/``last_metrics`` echo the last sample.
    """

    def __init__(self, log_dir: Path, run_id: str, *, model_class: str, n_params: int,
                 layers: list[str], head: str | None, config: dict[str, Any],
                 assess_every: int = 10) -> None:
        self.run_id = run_id
        self.header = RunHeader(run_id=run_id, started_at=datetime.now(timezone.utc),
                                model=ModelInfo(class_name=model_class, n_params=n_params),
                                layers=layers, head=head, config=config)
        self._writer = _writer.open_writer(Path(log_dir), self.header)
        self.path: Path = self._writer.path
        self._analyzer = _writer.make_analyzer(self.header)
        self._assess_every = assess_every
        self._n = 0
        self.tau = 0.0
        self.latest_assessment: dict[str, Any] | None = None
        self.last_norm = math.nan
        self.last_head_norm: float | None = None
        self.last_metrics: dict[str, float] = {}

    def write(self, *, step: int, lr: float, weight_decay: float,
              layer_norms: dict[str, float], layer_grad_norms: dict[str, float] | None,
              metrics: dict[str, float]) -> dict[str, Any] | None:
        """Record the state after optimizer step ``step``; return the assessment made now
        (``None`` if none was due)."""
        self.tau += lr * weight_decay
        norm = math.sqrt(sum(v * v for v in layer_norms.values()))
        grad_norm = (None if layer_grad_norms is None
                     else math.sqrt(sum(v * v for v in layer_grad_norms.values())))
        head = self.header.head
        nonfinite = [n for n, v in layer_norms.items() if not math.isfinite(v)]
        if layer_grad_norms:
            nonfinite += [f"<grad>:{n}" for n, v in layer_grad_norms.items()
                          if not math.isfinite(v)]
        head_norm = layer_norms.get(head) if head else None
        row: dict[str, Any] = {
            "step": step, "time": time.time(), "tau": self.tau, "lr": lr,
            "weight_decay": weight_decay, "norm": norm, "head_norm": head_norm,
            "layer_norms": layer_norms, "grad_norm": grad_norm,
            "layer_grad_norms": layer_grad_norms, "metrics": dict(metrics),
            "nonfinite": nonfinite}
        self._n += 1
        made = None
        if self._analyzer is not None:
            try:
                self._analyzer.observe(Sample.model_validate(row))
                if self._n % self._assess_every == 0:
                    made = self._analyzer.assess().model_dump(mode="json")
                    row["assessment"] = made
                    self.latest_assessment = made
            except Exception as exc:  # noqa: BLE001 - like the monitor: never raise into the loop
                logger.warning("analyzer failed on %s, assessments off: %s", self.run_id, exc)
                self._analyzer = None
        self._writer.write(row)
        self.last_norm, self.last_head_norm = norm, head_norm
        self.last_metrics = dict(metrics)
        return made

    def close(self) -> None:
        """Final assessment (as the monitor does at close) and close the file."""
        if self._analyzer is not None and self._n:
            try:
                self.latest_assessment = self._analyzer.assess().model_dump(mode="json")
                self._writer.annotate_last(self.latest_assessment)
            except Exception:  # noqa: BLE001
                pass
        self._writer.close()
