"""nht-monitor: watch a PyTorch run's weight norms and forecast its Norm-Hierarchy Transition.

``monitor = nht_monitor.watch(model, optimizer, log_dir="runs/exp1")`` is the one line
to add to a training loop; see :func:`watch`. ``read_run(path)`` reads a run log back.
Importing this package imports numpy and pydantic only; torch is imported on first use of
:func:`watch`, :class:`Monitor` or :class:`NormClamp`, so the offline parts (``read_run``,
``nht_monitor.analysis``) work without it. Never imported: torchvision, wilds, Grafana
or Prometheus packages.
"""

from __future__ import annotations

from typing import Any

from nht_monitor._version import __version__
from nht_monitor.assessment import Assessment
from nht_monitor.config import MonitorSettings, PrometheusSettings
from nht_monitor.runlog import RunLog, RunLogTail, read_run
from nht_monitor.schema import RunHeader, RunLogError, Sample

__all__ = [
    "Assessment", "Monitor", "MonitorSettings", "MonitorSnapshot", "NormClamp",
    "PrometheusSettings", "RunHeader", "RunLog", "RunLogError", "RunLogTail", "Sample",
    "__version__", "read_run", "watch",
]


_LAZY = {
    "watch": "nht_monitor.monitor",
    "Monitor": "nht_monitor.monitor",
    "MonitorSnapshot": "nht_monitor.monitor",
    "NormClamp": "nht_monitor.clamp",
}


def __getattr__(name: str) -> Any:
    """Import the torch-dependent names on first use (keeps ``import nht_monitor`` light)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nht_monitor' has no attribute {name!r}")
