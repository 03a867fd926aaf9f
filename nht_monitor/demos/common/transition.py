"""What a demo records about the transition: the actual step and the monitor's forecasts."""

from __future__ import annotations

from typing import Any

from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.transition import first_reached


class TransitionTracker:
    """Follows one run's evaluations of a tracked accuracy and the monitor's forecasts.

    ``actual_step`` is the first evaluation step at which the accuracy reaches a level
    (:func:`nht_monitor.analysis.transition.first_reached`, the one definition of
    docs/FORECAST.md; a later dip does not move it). The level depends on ``mode``:

    - ``"threshold"``: ``threshold``, by default ``AnalyzerSettings().done_val_acc``
      (0.9) — the held-out accuracy of modular arithmetic, so the demo's grok step is
      backtest's actual transition on the same log;
    - ``"relative"``: ``first + 0.9·(max - first)`` — 90% of the run's gain — provided
      the gain is at least ``threshold`` (absolute); the image demos' tracked accuracy
      (clean or worst-group accuracy, whose final level is not known in advance).

    ``None`` when it did not happen. ``forecast_step``/``forecast_made_at``: the last
    forecast the monitor issued (status ``pending``/``imminent``) strictly *before*
    the actual step — a genuine forecast, not a postdiction; ``first_*`` the earliest.
    """

    def __init__(self, threshold: float | None = None, mode: str = "threshold") -> None:
        if mode not in ("threshold", "relative"):
            raise ValueError(f"mode must be 'threshold' or 'relative', got {mode!r}")
        if threshold is None:
            if mode == "relative":
                raise ValueError("mode 'relative' needs a threshold (the smallest gain)")
            threshold = AnalyzerSettings().done_val_acc
        self.threshold = threshold
        self.mode = mode
        self.evals: list[tuple[int, float]] = []
        self.forecasts: list[tuple[int, float]] = []
        self._last_assessment_step: int | None = None

    def evaluate(self, step: int, accuracy: float) -> None:
        """Record the tracked accuracy at ``step``."""
        self.evals.append((step, float(accuracy)))

    def assessment(self, step: int, assessment: Any) -> None:
        """Record the monitor's latest assessment (an ``Assessment`` or its dict)."""
        if assessment is None:
            return
        data = assessment if isinstance(assessment, dict) else assessment.model_dump()
        a_step = data.get("step")
        if a_step is not None and a_step == self._last_assessment_step:
            return
        self._last_assessment_step = a_step
        transition = data.get("transition") or {}
        forecast = transition.get("forecast_step")
        if transition.get("status") in ("pending", "imminent") and forecast is not None:
            self.forecasts.append((int(a_step if a_step is not None else step), float(forecast)))

    @property
    def actual_step(self) -> int | None:
        if not self.evals:
            return None
        if self.mode == "threshold":
            level = self.threshold
        else:
            first = self.evals[0][1]
            best = max(a for _, a in self.evals)
            if best - first < self.threshold:
                return None
            level = first + 0.9 * (best - first)
        steps, accs = zip(*self.evals)
        step = first_reached(steps, accs, level)
        return None if step is None else int(step)

    def _before(self) -> list[tuple[int, float]]:
        actual = self.actual_step
        return [f for f in self.forecasts if actual is None or f[0] < actual]

    @property
    def forecast_step(self) -> float | None:
        made = self._before()
        return made[-1][1] if made else None

    @property
    def forecast_made_at(self) -> int | None:
        made = self._before()
        return made[-1][0] if made else None

    @property
    def first_forecast_step(self) -> float | None:
        made = self._before()
        return made[0][1] if made else None

    @property
    def first_forecast_made_at(self) -> int | None:
        made = self._before()
        return made[0][0] if made else None
