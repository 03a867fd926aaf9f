"""Reading and tailing run logs (``<log_dir>/<run_id>.jsonl``).

The line formats are defined in :mod:`nht_monitor.runlog.schema`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from nht_monitor.runlog.schema import (
    SCHEMA_NAME,
    SCHEMA_VERSION,
    RunHeader,
    RunLogError,
    Sample,
)

logger = logging.getLogger(__name__)


def parse_header(line: str, *, source: str = "run log") -> RunHeader:
    """Validate a header line; :class:`RunLogError` if it is not one we can read."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RunLogError(f"{source}: first line is not JSON ({exc.msg})") from exc
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA_NAME:
        found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
        raise RunLogError(f"{source}: not an nht-monitor run log (schema {found!r}, "
                          f"expected {SCHEMA_NAME!r})")
    version = raw.get("version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise RunLogError(f"{source}: run log version {version!r} is newer than this "
                          f"nht-monitor reads (version {SCHEMA_VERSION}); upgrade nht-monitor")
    try:
        return RunHeader.model_validate(raw)
    except ValidationError as exc:
        raise RunLogError(f"{source}: invalid header: {exc}") from exc


def parse_sample(line: str) -> Sample:
    """Validate one sample line (raises ``ValueError`` on corrupt input)."""
    return Sample.model_validate_json(line)


@dataclass
class RunLog:
    """A run log as read: header, samples in step order, and what was skipped.

    When steps repeat (a resumed run re-sampled steps after its last checkpoint) the
    last occurrence of each step is kept.
    """

    path: Path
    header: RunHeader
    samples: list[Sample] = field(default_factory=list)
    skipped_lines: int = 0
    truncated: bool = False

    @property
    def run_id(self) -> str:
        return self.header.run_id


def _dedupe_steps(samples: list[Sample]) -> list[Sample]:
    if all(a.step < b.step for a, b in zip(samples, samples[1:])):
        return samples
    by_step: dict[int, Sample] = {}
    for sample in samples:
        by_step[sample.step] = sample
    return [by_step[s] for s in sorted(by_step)]


def read_run(path: str | os.PathLike[str]) -> RunLog:
    """Read a whole run log.

    Tolerates a truncated last line (a killed run: ``truncated`` is set); skips
    corrupt lines elsewhere with one warning giving their count (``skipped_lines``).
    A missing file, an empty file, a file of another schema or a newer version raises
    (``FileNotFoundError`` / :class:`RunLogError`).
    """
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    lines = text.split("\n")
    ends_clean = text.endswith("\n")
    if ends_clean:
        lines.pop()
    if not lines or not lines[0].strip():
        raise RunLogError(f"{path}: empty file, no run-log header")
    header = parse_header(lines[0], source=str(path))
    run = RunLog(path=path, header=header)
    bad: list[int] = []
    last = len(lines) - 1
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            run.samples.append(parse_sample(line))
        except ValueError:
            if number - 1 == last and not ends_clean:
                run.truncated = True
            else:
                bad.append(number)
    if bad:
        run.skipped_lines = len(bad)
        shown = ", ".join(map(str, bad[:5])) + (" …" if len(bad) > 5 else "")
        logger.warning("%s: skipped %d corrupt line(s) (line %s)", path, len(bad), shown)
    run.samples = _dedupe_steps(run.samples)
    return run


class RunLogTail:
    """Follows a run log as it grows (for the sidecar exporter and live tools).

    ``poll()`` returns the samples completed since the previous call. A partial last
    line is left for the next poll; corrupt complete lines are skipped and counted in
    ``skipped_lines``. If the file shrinks (rewritten), reading starts over.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.header: RunHeader | None = None
        self.skipped_lines = 0
        self._offset = 0
        self._pending = b""
        self.last_poll_time: float | None = None

    def poll(self) -> list[Sample]:
        """New complete samples since the last poll (raises :class:`RunLogError` on a
        file that is not a run log)."""
        self.last_poll_time = time.time()
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self._offset:
            self._offset, self._pending, self.header = 0, b"", None
        if size == self._offset:
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read(size - self._offset)
        self._offset += len(chunk)
        data = self._pending + chunk
        *complete, self._pending = data.split(b"\n")
        samples: list[Sample] = []
        for raw in complete:
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            if self.header is None:
                self.header = parse_header(line, source=str(self.path))
                continue
            try:
                samples.append(parse_sample(line))
            except ValueError:
                self.skipped_lines += 1
                logger.warning("%s: skipped a corrupt line", self.path)
        return samples
