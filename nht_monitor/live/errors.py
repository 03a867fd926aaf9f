"""Keeping the monitor's own failures out of the training loop."""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("nht_monitor")


class ErrorGuard:
    """Counts internal errors; logs each kind once with its traceback.

    After ``max_consecutive`` failures in a row ``disabled`` becomes true (the owner
    stops sampling) and an error is logged saying so. ``errors_total`` counts every
    failure since construction.
    """

    def __init__(self, max_consecutive: int, what: str = "nht-monitor") -> None:
        self.max_consecutive = max_consecutive
        self.what = what
        self.errors_total = 0
        self.consecutive = 0
        self.disabled = False
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def failed(self, where: str, exc: BaseException) -> None:
        """Record a failure of ``where`` (call from an ``except`` block)."""
        with self._lock:
            self.errors_total += 1
            self.consecutive += 1
            key = (where, type(exc).__name__)
            first = key not in self._seen
            self._seen.add(key)
            switch_off = not self.disabled and self.consecutive >= self.max_consecutive
            if switch_off:
                self.disabled = True
        if first:
            logger.error("%s: internal error in %s (training continues; further errors of "
                         "this kind are counted, not logged)", self.what, where, exc_info=exc)
        else:
            logger.debug("%s: internal error in %s: %r", self.what, where, exc)
        if switch_off:
            logger.error("%s: %d consecutive internal errors: sampling is switched off for "
                         "the rest of the run (errors_total=%d)", self.what, self.consecutive,
                         self.errors_total)

    def succeeded(self) -> None:
        self.consecutive = 0
