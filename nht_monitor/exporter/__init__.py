"""Prometheus exporter of nht-monitor (extra ``[prometheus]``, on ``prometheus-client``).

``start_exporter(source, settings) -> ExporterHandle`` serves ``/metrics`` from a
background thread, rendering ``source.snapshot()`` (a :class:`RunSnapshot`) at scrape
time through :class:`SnapshotCollector`. The series are specified in
:data:`~nht_monitor.exporter.metrics.SERIES` (rendered into ``docs/METRICS.md``).
:class:`RunLogDirectory` is the sidecar's source (every run log of a directory, tailed
and analyzed). Importing this package imports nothing; a name that needs
``prometheus_client`` raises :class:`~nht_monitor._extras.MissingExtraError` naming the
extra when it is missing.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SnapshotCollector": "nht_monitor.exporter.collector",
    "ExporterError": "nht_monitor.exporter.server",
    "ExporterHandle": "nht_monitor.exporter.server",
    "push_summary": "nht_monitor.exporter.server",
    "start_exporter": "nht_monitor.exporter.server",
    "OTHER_LAYERS": "nht_monitor.exporter.metrics",
    "SERIES": "nht_monitor.exporter.metrics",
    "SeriesSpec": "nht_monitor.exporter.metrics",
    "markdown_table": "nht_monitor.exporter.metrics",
    "PrometheusSettings": "nht_monitor.exporter.settings",
    "RunLogDirectory": "nht_monitor.exporter.sidecar",
    "RunSnapshot": "nht_monitor.exporter.snapshot",
}
_NEEDS_CLIENT = ("nht_monitor.exporter.collector", "nht_monitor.exporter.server")

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Import a public name on first use; name the ``[prometheus]`` extra when it is missing."""
    if name not in _LAZY:
        raise AttributeError(f"module 'nht_monitor.exporter' has no attribute {name!r}")
    module = _LAZY[name]
    if module in _NEEDS_CLIENT:
        from nht_monitor._extras import require_extra

        require_extra("prometheus", "prometheus_client")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
