"""nht-monitor: watch a PyTorch run's weight norms and forecast its Norm-Hierarchy Transition.

``monitor = nht_monitor.watch(model, optimizer, log_dir="runs/exp1")`` is the one line
to add to a training loop; see :func:`watch`. ``read_run(path)`` reads a run log back.
Importing this package imports nothing else; each public name is imported on first
use, and torch only with :func:`watch`, :class:`Monitor` or :class:`NormClamp`, so the
offline parts (``read_run``, ``nht_monitor.analysis``, the CLI but ``demo``) work without
it. Never imported by the core: torchvision, wilds, Grafana or Prometheus packages.

The data path, one folder a stage: ``live/`` (hook → sampler → recorder) →
``runlog/`` → ``analysis/`` → ``exporter/`` and ``report/``; ``control/`` acts on the
model, ``integrations/`` plugs into trainers, ``dashboards/`` and ``demos/`` are tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nht_monitor._version import __version__

if TYPE_CHECKING:
    from nht_monitor.analysis.assessment import Assessment
    from nht_monitor.control.clamp import NormClamp
    from nht_monitor.exporter.settings import PrometheusSettings
    from nht_monitor.exporter.snapshot import RunSnapshot
    from nht_monitor.live.monitor import Monitor, watch
    from nht_monitor.live.settings import MonitorSettings
    from nht_monitor.runlog import RunHeader, RunLog, RunLogError, RunLogTail, Sample, read_run

__all__ = [
    "Assessment", "Monitor", "MonitorSettings", "NormClamp",
    "PrometheusSettings", "RunHeader", "RunLog", "RunLogError", "RunLogTail", "RunSnapshot",
    "Sample", "__version__", "read_run", "watch",
]

# Every public name is imported on first use: ``import nht_monitor`` (and so the CLI's
# start) costs nothing, and torch is imported only with ``watch``/``Monitor``/``NormClamp``.
_LAZY = {
    "Assessment": ("nht_monitor.analysis.assessment", "Assessment"),
    "Monitor": ("nht_monitor.live.monitor", "Monitor"),
    "MonitorSettings": ("nht_monitor.live.settings", "MonitorSettings"),
    "NormClamp": ("nht_monitor.control.clamp", "NormClamp"),
    "PrometheusSettings": ("nht_monitor.exporter.settings", "PrometheusSettings"),
    "RunHeader": ("nht_monitor.runlog", "RunHeader"),
    "RunLog": ("nht_monitor.runlog", "RunLog"),
    "RunLogError": ("nht_monitor.runlog", "RunLogError"),
    "RunLogTail": ("nht_monitor.runlog", "RunLogTail"),
    "RunSnapshot": ("nht_monitor.exporter.snapshot", "RunSnapshot"),
    "Sample": ("nht_monitor.runlog", "Sample"),
    "read_run": ("nht_monitor.runlog", "read_run"),
    "watch": ("nht_monitor.live.monitor", "watch"),
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (keeps ``import nht_monitor`` instant)."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nht_monitor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
