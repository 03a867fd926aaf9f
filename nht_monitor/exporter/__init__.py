"""Prometheus exporter of nht-monitor (extra ``[prometheus]``, on ``prometheus-client``).

``start_exporter(source, settings) -> ExporterHandle`` serves ``/metrics`` from a
background thread, rendering ``source.snapshot()`` at scrape time through
:class:`SnapshotCollector`. The series are listed in :data:`SERIES` (and
``docs/METRICS.md``). :class:`RunLogDirectory` is the sidecar's source (every run log of
a directory, tailed and analyzed).
"""

from nht_monitor.exporter.collector import SnapshotCollector
from nht_monitor.exporter.series import OTHER_LAYERS, SERIES, SeriesSpec, markdown_table
from nht_monitor.exporter.server import (
    ExporterError,
    ExporterHandle,
    push_summary,
    start_exporter,
)
from nht_monitor.exporter.sidecar import RunLogDirectory
from nht_monitor.exporter.snapshot import RunSnapshot

__all__ = [
    "OTHER_LAYERS", "SERIES", "ExporterError", "ExporterHandle", "RunLogDirectory",
    "RunSnapshot", "SeriesSpec", "SnapshotCollector", "markdown_table", "push_summary",
    "start_exporter",
]

