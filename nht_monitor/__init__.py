"""nht-monitor: watch a PyTorch run's weight norms and forecast its Norm-Hierarchy Transition.

``monitor = nht_monitor.watch(model, optimizer, log_dir="runs/exp1")`` is the one line
to add to a training loop; see :func:`watch`. ``read_run(path)`` reads a run log back.
Importing this package imports torch, numpy and pydantic only (no torchvision, wilds,
Grafana or Prometheus packages).
"""

from __future__ import annotations

from typing import Any

from nht_monitor._version import __version__
from nht_monitor.assessment import Assessment
from nht_monitor.config import MonitorSettings, PrometheusSettings
from nht_monitor.monitor import Monitor, MonitorSnapshot, watch
from nht_monitor.runlog import RunLog, RunLogTail, read_run
from nht_monitor.schema import RunHeader, RunLogError, Sample

__all__ = [
    "Assessment", "Monitor", "MonitorSettings", "MonitorSnapshot", "NormClamp",
    "PrometheusSettings", "RunHeader", "RunLog", "RunLogError", "RunLogTail", "Sample",
    "__version__", "read_run", "watch",
]


def __getattr__(name: str) -> Any:
    if name == "NormClamp":  # lazily, so the core import stays minimal
        from nht_monitor.clamp import NormClamp
        return NormClamp
    raise AttributeError(f"module 'nht_monitor' has no attribute {name!r}")
