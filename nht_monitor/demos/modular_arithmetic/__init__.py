"""Modular arithmetic ``(a ∘ b) mod p``: grokking as the Norm-Hierarchy Transition.

Python API (used by other parts of the project to generate real runs)::

    from nht_monitor.demos.modular_arithmetic import ModArithConfig, train_run, train_sweep

    cfg = ModArithConfig(weight_decay=1.0, log_dir="runs")
    result = train_run(cfg)                    # one run watched by nht_monitor.watch
    results = train_sweep(cfg, [0.1, 1, 10])   # all λ at once as one batched model

:class:`ModArithConfig` — task, model, optimiser, log settings (pydantic).
:func:`train_run` — one monitored run → :class:`RunResult` (log path, grok step,
forecast, final accuracies and norms, the monitor's final assessment, wall time).
:func:`train_sweep` — a batched λ sweep → one :class:`RunResult` and run log per λ.
:func:`fit_delay_law` — grok step vs 1/(ηλ) over a sweep (slope, R²).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nht_monitor.demos.modular_arithmetic.config import ModArithConfig
    from nht_monitor.demos.modular_arithmetic.delay_law import DelayLawFit, fit_delay_law
    from nht_monitor.demos.modular_arithmetic.result import RunResult
    from nht_monitor.demos.modular_arithmetic.sweep import sweep_run_id, train_sweep
    from nht_monitor.demos.modular_arithmetic.train import train_run

__all__ = ["ModArithConfig", "RunResult", "train_run", "train_sweep", "sweep_run_id",
           "DelayLawFit", "fit_delay_law"]

# Imported on first use, so that the option definitions in ``cli`` (what ``nht-monitor
# demo`` registers) load without torch.
_LAZY = {
    "ModArithConfig": "config", "DelayLawFit": "delay_law", "fit_delay_law": "delay_law",
    "RunResult": "result", "sweep_run_id": "sweep", "train_sweep": "sweep",
    "train_run": "train",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
