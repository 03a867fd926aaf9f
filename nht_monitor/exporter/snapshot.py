"""What the exporter reads of one run: returned by ``Monitor.snapshot()`` and the sidecar."""

from __future__ import annotations

from dataclasses import dataclass

from nht_monitor.analysis.assessment import Assessment
from nht_monitor.runlog.schema import RunHeader, Sample


@dataclass(frozen=True)
class RunSnapshot:
    """One run's state at a moment (a thread-safe copy: what a scrape or a console sees)."""

    run_id: str
    header: RunHeader | None
    sample: Sample | None
    assessment: Assessment | None
    samples_total: int
    errors_total: int
    last_sample_time: float | None
