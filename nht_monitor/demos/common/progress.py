"""The demos' progress display with the monitor's live regime and forecast.

On a terminal it is a tqdm bar (redrawn in place with carriage returns). When the
output is not a terminal — a log file, ``docker compose logs``, CI — a redrawn bar would
write one ``\\r``-separated frame per refresh into the log, so :class:`PlainProgress`
prints a plain line instead, every ``every_percent`` % of the total or every
``every_seconds`` seconds, whichever comes first, and a last line at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

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


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class PlainProgress:
    """A progress line writer for logs: the part of tqdm's interface the demos use.

    Prints ``desc: n/total (p%) elapsed, rate, postfix`` when ``n`` crosses another
    ``every_percent`` % of ``total`` or ``every_seconds`` have passed since the last
    line (and ``n`` moved), and once more at :meth:`close` unless the last line already
    showed the final position. No carriage returns, one ``\\n`` per line.
    """

    def __init__(self, total: int, desc: str, file: TextIO, every_percent: float = 10.0,
                 every_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic,
                 disable: bool = False) -> None:
        self.total = total
        self.desc = desc
        self.n = 0
        self.postfix = ""
        self.disable = disable
        self._file = file
        self._every_percent = every_percent
        self._every_seconds = every_seconds
        self._clock = clock
        self._started = clock()
        self._last_time = self._started
        self._last_bucket = 0
        self._last_n: int | None = None
        self._closed = False

    # -- the tqdm surface --------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        self.n += n
        self._maybe_print()

    def set_postfix(self, ordered_dict: dict[str, Any] | None = None, refresh: bool = True,
                    **kwargs: Any) -> None:
        items = {**(ordered_dict or {}), **kwargs}
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = str(s)

    def refresh(self) -> None:
        """Print the current line now."""
        self._print()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._last_n != self.n:
                self._print()

    # -- internals ---------------------------------------------------------------------
    def _bucket(self) -> int:
        if self.total <= 0 or self._every_percent <= 0:
            return 0
        return int(100.0 * min(self.n, self.total) / self.total // self._every_percent)

    def _maybe_print(self) -> None:
        now = self._clock()
        bucket = self._bucket()
        if bucket > self._last_bucket or now - self._last_time >= self._every_seconds:
            self._print(now)

    def _print(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        self._last_time, self._last_bucket, self._last_n = now, self._bucket(), self.n
        if self.disable:
            return
        elapsed = now - self._started
        position = f"{self.n}/{self.total}" if self.total > 0 else str(self.n)
        if self.total > 0:
            position += f" ({100.0 * self.n / self.total:.0f}%)"
        rate = f", {self.n / elapsed:.1f} it/s" if elapsed > 0 and self.n else ""
        postfix = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {position} {elapsed:.0f} s{rate}{postfix}", file=self._file,
              flush=True)


class DemoProgress:
    """A progress display over ``total`` steps (or batches); :meth:`update` refreshes the
    postfix.

    The postfix shows ``regime`` and ``forecast`` (``~step`` while pending/imminent,
    else the transition status) of one run, or :func:`sweep_postfix` for the runs of a
    batched sweep. On a terminal (``file``, default ``sys.stderr``) it is a tqdm bar
    whose refreshing tqdm throttles; otherwise a :class:`PlainProgress` writing a line
    every ``every_percent`` % or ``every_seconds`` s. ``disable=True`` prints nothing.
    ``.bar`` is the tqdm bar or the plain writer (both have ``total``, ``refresh()``).
    """

    def __init__(self, total: int, desc: str, disable: bool = False,
                 file: TextIO | None = None, every_percent: float = 10.0,
                 every_seconds: float = 30.0) -> None:
        self.file = file if file is not None else sys.stderr
        self.interactive = is_terminal(self.file)
        if self.interactive:
            self.bar: Any = tqdm(total=total, desc=desc, disable=disable, file=self.file,
                                 dynamic_ncols=True, mininterval=0.5)
        else:
            self.bar = PlainProgress(total, desc, self.file, every_percent=every_percent,
                                     every_seconds=every_seconds, disable=disable)
        self.disable = disable
        self._n = 0
        self._announced = False

    def announce(self, monitor: Any) -> None:
        """Print once where the monitor serves Prometheus metrics (if it does)."""
        url = getattr(monitor, "prometheus_url", None)
        if url and not self._announced:
            self._announced = True
            message = f"serving live metrics at {url}"
            if self.interactive:
                tqdm.write(message)
            else:
                print(message, flush=True)

    def update(self, position: int, assessment: Any = None, **extra: Any) -> None:
        """Move to ``position`` and show ``assessment``'s regime/forecast and ``extra``."""
        regime, forecast = _short(assessment)
        self.bar.set_postfix(regime=regime, forecast=forecast, **extra, refresh=False)
        self._advance(position)

    def update_many(self, position: int, labelled: dict[str, Any]) -> None:
        """Like :meth:`update` for several runs: ``{label: assessment}``."""
        self.bar.set_postfix_str(sweep_postfix(labelled), refresh=False)
        self._advance(position)

    def _advance(self, position: int) -> None:
        if position > self._n:
            self.bar.update(position - self._n)
            self._n = position

    def close(self) -> None:
        self.bar.close()
