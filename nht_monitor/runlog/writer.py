"""Writing run logs (``<log_dir>/<run_id>.jsonl``): one JSON line per header and sample.

The line formats are defined in :mod:`nht_monitor.runlog.schema`.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any


from nht_monitor.runlog.schema import (
    RunHeader,
    encode_float,
)

logger = logging.getLogger(__name__)


def _encode(value: Any) -> Any:
    """Replace non-finite floats (at any depth) by their string spelling."""
    if isinstance(value, float):
        return value if math.isfinite(value) else encode_float(value)
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def dumps_line(record: dict[str, Any], *, all_finite: bool = False) -> str:
    """One log line (standard JSON, newline-terminated). ``all_finite`` skips the scan."""
    if not all_finite:
        record = _encode(record)
    return json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"


class RunLogWriter:
    """Appends header and sample lines to a run log.

    Line-buffered by default: every line reaches the OS as it is written, so a killed
    process loses at most the line being written. ``line_buffered=False`` is for a
    writer that writes lines in batches and calls :meth:`flush` after each (the
    monitor): fewer system calls, and a kill loses at most the unflushed batch. The
    header is written with the first sample (or on close), so that facts learnt at the
    first step (the head found in the first forward pass) are in it; mutate
    ``writer.header`` until then. ``append=True`` continues an existing log (resume) and
    does not write a second header.
    """

    def __init__(self, path: str | os.PathLike[str], header: RunHeader | None, *,
                 append: bool = False, line_buffered: bool = True) -> None:
        self.path = Path(path)
        if not append and self.path.exists() and self.path.stat().st_size > 0:
            raise FileExistsError(
                f"run log {self.path} already exists: pass resume=True to continue it "
                "or choose another run_id")
        self._created = not os.path.lexists(self.path)
        self._file = open(self.path, "a", buffering=1 if line_buffered else -1,  # noqa: SIM115
                          encoding="utf-8")
        if append:
            self._repair_partial_tail()
        self.header = header if not append else None

    def _repair_partial_tail(self) -> None:
        """A killed run may have left a partial last line: end it so ours start clean."""
        size = self.path.stat().st_size
        if size == 0:
            return
        with open(self.path, "rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                self._file.write("\n")

    def _write_header(self) -> None:
        if self.header is not None:
            self._file.write(dumps_line(self.header.to_json_dict()))
            self.header = None

    def write(self, record: dict[str, Any], *, all_finite: bool = False) -> None:
        """Write one sample record (a dict matching :class:`Sample`)."""
        if self.header is not None:
            self._write_header()
        self._file.write(dumps_line(record, all_finite=all_finite))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Write the header if no sample did, flush, fsync and close the file.

        The file is closed even when a write or the flush fails (a full disk): the
        first such ``OSError`` is raised after closing, so a caller can count it; lines
        flushed before stay intact on disk."""
        if self._file.closed:
            return
        error: BaseException | None = None
        try:
            self._write_header()
            self._file.flush()
        except OSError as exc:
            error = exc
        else:
            try:
                os.fsync(self._file.fileno())
            except OSError:  # e.g. pipes, character devices
                pass
        try:
            self._file.close()  # retries a failed flush once, then closes the descriptor
        except OSError as exc:
            error = error or exc
        if error is not None:
            raise error

    def discard(self) -> None:
        """Give the log up before anything was written to it (the run failed to start):
        close without writing the header and remove the file if this writer created
        it, so that a retry with the same ``run_id`` starts afresh. A log with lines
        (one being continued, or one a sample was written to) is closed and kept."""
        if self._file.closed:
            return
        pristine = self.header is not None and self._created
        try:
            self._file.close()
        finally:
            if pristine:
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass

    @property
    def closed(self) -> bool:
        return self._file.closed
