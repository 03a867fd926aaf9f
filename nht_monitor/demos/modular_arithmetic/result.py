"""What one modular-arithmetic run returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict


class RunResult(BaseModel):
    """Outcome of one run (one λ).

    ``grok_step``: the transition step as docs/FORECAST.md defines it — the first
    evaluation at which validation accuracy reaches the monitor's
    ``AnalyzerSettings.done_val_acc`` (0.9), the step ``nht-monitor backtest`` reports
    as the actual transition of the run's log; ``None`` if it never happened.
    ``forecast_step``/``forecast_made_at``: the monitor's last transition forecast
    issued before ``grok_step`` and when (``None`` if it issued none).
    ``regime``/``confidence``/``assessment``: the monitor's final assessment (the dict of
    :class:`nht_monitor.analysis.assessment.Assessment`). Norms are total L2 weight norms:
    ``final_norm`` at the end, ``peak_norm`` the largest seen (at ``peak_step``).
    ``wall_time_s``: training wall time (for a batched sweep: the whole sweep's).
    """

    model_config = ConfigDict(extra="allow")
    run_id: str
    log_path: Path
    weight_decay: float
    lr: float
    steps: int
    grok_step: int | None = None
    forecast_step: float | None = None
    forecast_made_at: int | None = None
    first_forecast_step: float | None = None
    first_forecast_made_at: int | None = None
    final_train_loss: float
    final_train_acc: float
    final_val_acc: float
    final_norm: float
    final_head_norm: float | None = None
    peak_norm: float
    peak_step: int
    regime: str | None = None
    confidence: float | None = None
    assessment: dict[str, Any] | None = None
    wall_time_s: float

    @property
    def grokked(self) -> bool:
        return self.grok_step is not None
