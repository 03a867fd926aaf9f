"""Real RunHeader / Sample / Assessment models for the exporter tests (no monitor needed)."""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timezone

from nht_monitor.analysis.assessment import (
    Advice,
    Assessment,
    CleanNormSeparation,
    HeadSignal,
    Transition,
)
from nht_monitor.exporter import RunSnapshot
from nht_monitor.runlog.schema import ModelInfo, RunHeader, Sample


def make_header(run_id: str = "run-a", layers: list[str] | None = None,
                head: str | None = "head") -> RunHeader:
    layers = layers if layers is not None else ["encoder.0", "encoder.1", "head"]
    return RunHeader(run_id=run_id, started_at=datetime.now(timezone.utc),
                     model=ModelInfo(class_name="TinyNet", n_params=1234),
                     layers=layers, head=head)


def make_sample(layers: list[str], step: int = 40, scale: float = 1.0,
                when: float | None = None) -> Sample:
    norms = {layer: scale * (1.0 + 0.5 * i) for i, layer in enumerate(layers)}
    grads = {layer: scale * 0.01 * (i + 1) for i, layer in enumerate(layers)}
    return Sample(step=step, time=when if when is not None else time.time(),
                  tau=0.004 * step, lr=0.01, weight_decay=0.4,
                  norm=math.sqrt(sum(v * v for v in norms.values())),
                  head_norm=norms.get("head"), layer_norms=norms,
                  grad_norm=math.sqrt(sum(v * v for v in grads.values())),
                  layer_grad_norms=grads, metrics={"train_loss": 0.25, "val_acc": 0.5})


def make_assessment(regime: str = "intermediate", step: int = 40) -> Assessment:
    return Assessment(
        run_id="run-a", n_samples=step, step=step, regime=regime, confidence=0.8,
        phase="shortcut",
        transition=Transition(status="pending", forecast_step=900.0,
                              interval=(700.0, 1200.0), forecast_tau=3.6,
                              steps_remaining=900.0 - step, chance_in_budget=0.7),
        head=HeadSignal(regime="intermediate", confidence=0.7, lead_steps=120.0),
        cns=CleanNormSeparation(v_sc=30.0, v_st=10.0, ratio=3.0, separation=0.9, holds=True),
        v_peak=31.5, decay_rate=0.35,
        advice=Advice(action="keep", suggested_weight_decay=0.4))


def full_snapshot(run_id: str = "run-a", layers: list[str] | None = None,
                  regime: str = "intermediate", step: int = 40) -> RunSnapshot:
    """A snapshot with every optional field set (so every series is exported)."""
    header = make_header(run_id, layers)
    sample = make_sample(header.layers, step=step)
    return RunSnapshot(run_id=run_id, header=header, sample=sample,
                       assessment=make_assessment(regime, step), samples_total=step,
                       errors_total=2, last_sample_time=sample.time)


class SnapshotSource:
    """Stands where the monitor stands: ``.snapshot()`` of a replaceable snapshot."""

    def __init__(self, snapshot: RunSnapshot) -> None:
        self._lock = threading.Lock()
        self._snapshot = snapshot
        self.calls = 0

    def set(self, snapshot: RunSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            self.calls += 1
            return self._snapshot
