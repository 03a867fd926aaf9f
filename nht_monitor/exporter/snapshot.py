"""What the exporter reads of one run: the same fields as ``Monitor.snapshot()``."""

from __future__ import annotations

from dataclasses import dataclass

from nht_monitor.assessment import Assessment
from nht_monitor.schema import RunHeader, Sample


@dataclass(frozen=True)
class RunSnapshot:
    """One run's state at a moment (the sidecar's equivalent of ``MonitorSnapshot``)."""

    run_id: str
    header: RunHeader | None
    sample: Sample | None
    assessment: Assessment | None
    samples_total: int
    errors_total: int
    last_sample_time: float | None
