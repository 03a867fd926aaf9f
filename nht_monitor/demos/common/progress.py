"""The tqdm progress bar with the monitor's live regime and forecast in its postfix."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm


def _short(assessment: Any) -> tuple[str, str]:
    if assessment is None:
        return "…", "-"
    data = assessment if isinstance(assessment, dict) else assessment.model_dump()
    regime = str(data.get("regime") or "…")
    transition = data.get("transition") or {}
    status, forecast = transition.get("status"), transition.get("forecast_step")
    if status in ("pending", "imminent") and forecast is not None:
        return regime, f"~{forecast:.0f}"
    return regime, status or "-"


ABBREVIATIONS = {"undetermined": "undet", "intermediate": "inter"}
"""Short regime names for the one-line postfix of a sweep (others are short already)."""


def sweep_postfix(labelled: dict[str, Any]) -> str:
    """``λ:regime`` per run, with ``~forecast`` while a transition is pending, e.g.
    ``0.1:inter~1342 10:strong``."""
    parts = []
    for label, assessment in labelled.items():
        regime, forecast = _short(assessment)
        text = f"{label}:{ABBREVIATIONS.get(regime, regime)}"
        if forecast.startswith("~"):
            text += forecast
        parts.append(text)
    return " ".join(parts)


class DemoProgress:
    """A bar over ``total`` steps (or batches); :meth:`update` refreshes the postfix.

    The postfix shows ``regime`` and ``forecast`` (``~step`` while pending/imminent,
    else the transition status) of one run, or :func:`sweep_postfix` for the runs of a
    batched sweep. Refreshing is throttled by tqdm itself; ``disable=True`` prints nothing.
    """

    def __init__(self, total: int, desc: str, disable: bool = False) -> None:
        self.bar = tqdm(total=total, desc=desc, disable=disable, dynamic_ncols=True,
                        mininterval=0.5)
        self._n = 0
        self._announced = False

    def announce(self, monitor: Any) -> None:
        """Print once where the monitor serves Prometheus metrics (if it does)."""
        url = getattr(monitor, "prometheus_url", None)
        if url and not self._announced:
            self._announced = True
            tqdm.write(f"serving live metrics at {url}")

    def update(self, position: int, assessment: Any = None, **extra: Any) -> None:
        """Move to ``position`` and show ``assessment``'s regime/forecast and ``extra``."""
        if position > self._n:
            self.bar.update(position - self._n)
            self._n = position
        regime, forecast = _short(assessment)
        self.bar.set_postfix(regime=regime, forecast=forecast, **extra, refresh=False)

    def update_many(self, position: int, labelled: dict[str, Any]) -> None:
        """Like :meth:`update` for several runs: ``{label: assessment}``."""
        if position > self._n:
            self.bar.update(position - self._n)
            self._n = position
        self.bar.set_postfix_str(sweep_postfix(labelled), refresh=False)

    def close(self) -> None:
        self.bar.close()
