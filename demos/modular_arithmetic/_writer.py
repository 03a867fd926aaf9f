"""Adapter to the core's run-log writer and live analyzer for :mod:`.slice_log`.

Lines go through :class:`nht_monitor.runlog.RunLogWriter` (same encoding, same
line-buffering as the monitor). The newest row is held back one step so that the
final assessment made at close lands on the last sample line, as the monitor does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from nht_monitor.runlog import RunLogWriter
from nht_monitor.schema import RunHeader

logger = logging.getLogger(__name__)


class HeldBackWriter:
    """Writes rows one step late; ``annotate_last`` adds an assessment to the held row."""

    def __init__(self, log_dir: Path, header: RunHeader) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.path = log_dir / f"{header.run_id}.jsonl"
        self._writer = RunLogWriter(self.path, header)
        self._pending: dict[str, Any] | None = None

    def _emit(self) -> None:
        if self._pending is not None:
            self._writer.write(self._pending)
            self._pending = None

    def write(self, row: dict[str, Any]) -> None:
        self._emit()
        self._pending = row

    def annotate_last(self, assessment: dict[str, Any]) -> None:
        if self._pending is not None:
            self._pending["assessment"] = assessment

    def close(self) -> None:
        self._emit()
        self._writer.close()


def open_writer(log_dir: Path, header: RunHeader) -> HeldBackWriter:
    """A writer of ``log_dir/<run_id>.jsonl`` (header written with the first row)."""
    return HeldBackWriter(log_dir, header)


def make_analyzer(header: RunHeader) -> Any:
    """The live analyzer for this run, or ``None`` when ``nht_monitor.analysis`` is missing."""
    try:
        from nht_monitor.analysis import Analyzer
    except ImportError:
        logger.warning("nht_monitor.analysis not available: sweep logs carry no assessments")
        return None
    return Analyzer(header=header)
