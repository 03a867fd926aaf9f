"""Reading and tailing run logs (``<log_dir>/<run_id>.jsonl``).

The line formats are defined in :mod:`nht_monitor.runlog.schema`. :func:`read_run` gives
one :class:`Sample` per line; :func:`read_columns` reads the same log straight into column
arrays (no per-sample objects), for the offline analysis of long logs.
"""

from __future__ import annotations

import array
import json
import logging
import math
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, ValidationError
from typing_extensions import NotRequired, Required, TypedDict

from nht_monitor._forked import fork_workers, forked_pool
from nht_monitor.runlog.schema import (
    MAX_STEP,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    RunHeader,
    RunLogError,
    Sample,
)

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)


def parse_header(line: str, *, source: str = "run log") -> RunHeader:
    """Validate a header line; :class:`RunLogError` if it is not one we can read."""
    try:
        raw = json.loads(line.removeprefix("\ufeff"))  # a BOM from an editor's save
    except json.JSONDecodeError as exc:
        raise RunLogError(f"{source}: first line is not JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise RunLogError(f"{source}: invalid header: JSON nested too deeply") from exc
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA_NAME:
        found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
        raise RunLogError(f"{source}: not an nht-monitor run log (schema {found!r}, "
                          f"expected {SCHEMA_NAME!r})")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RunLogError(f"{source}: invalid header: version {_short(version)} is not a "
                          f"run-log version (a positive integer; this nht-monitor reads "
                          f"version {SCHEMA_VERSION})")
    if version > SCHEMA_VERSION:
        raise RunLogError(f"{source}: run log version {version} is newer than this "
                          f"nht-monitor reads (version {SCHEMA_VERSION}); upgrade nht-monitor")
    try:
        return RunHeader.model_validate(raw)
    except ValidationError as exc:
        raise RunLogError(f"{source}: invalid header: {validation_summary(exc)}") from exc
    except RecursionError as exc:
        raise RunLogError(f"{source}: invalid header: JSON nested too deeply") from exc


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def validation_summary(exc: ValidationError, limit: int = 3) -> str:
    """A pydantic error as one line naming the fields: ``model.n_params: Field required;
    layers: Input should be a valid list`` (the first ``limit``, then how many more)."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(str(x) for x in e['loc']) or '(line)'}: {e['msg']}"
             for e in errors[:limit]]
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    return " ".join(("; ".join(parts) + more).split())


MAX_LINE_BYTES = 16 * 2 ** 20
"""Default longest line (bytes, without its line break) the readers accept: a longer line
is skipped, whole, with one warning counting such lines (``max_line`` changes it)."""

_READ_CHUNK = 2 ** 20
"""Bytes read at a time while skipping an over-long line, and by :class:`RunLogTail`."""


def check_regular(path: Path, handle: IO[bytes] | None = None) -> None:
    """:class:`RunLogError` unless ``path`` (its open ``handle`` if given) is a regular
    file: a character device (``/dev/zero``), a FIFO, a socket or a directory is not a
    run log, and reading one would never end or block."""
    mode = os.fstat(handle.fileno()).st_mode if handle is not None else os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return
    kind = ("a directory" if stat.S_ISDIR(mode) else "a character device"
            if stat.S_ISCHR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a block device"
            if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    raise RunLogError(f"{path}: not a regular file ({kind}), not a run log")


def _open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for binary reading once it is known to be a regular file (checked
    before opening, so that a FIFO does not block the open, and again on the handle)."""
    check_regular(path)
    handle = open(path, "rb")
    try:
        check_regular(path, handle)
    except BaseException:
        handle.close()
        raise
    return handle


def _bounded_lines(handle: IO[bytes], max_line: int,
                   left: int | None = None) -> Iterator[bytes | None]:
    """The ``\\n``-terminated lines of ``handle`` (the last one maybe unterminated), each
    read with at most ``max_line + 1`` bytes in memory; a longer line is read through in
    chunks and yields ``None``. ``left``: stop once that many bytes were read (at the end
    of the line crossing it)."""
    limit = max_line + 1
    while left is None or left > 0:
        raw = handle.readline(limit)
        if not raw:
            return
        if left is not None:
            left -= len(raw)
        if len(raw) < limit or raw.endswith(b"\n"):
            yield raw
            continue
        while not raw.endswith(b"\n"):  # over-long: read through it, a chunk at a time
            raw = handle.readline(_READ_CHUNK)
            if not raw:
                break
            if left is not None:
                left -= len(raw)
        yield None


def _skip_line(handle: IO[bytes]) -> None:
    """Read ``handle`` up to and including the next ``\\n``, a chunk at a time."""
    while True:
        raw = handle.readline(_READ_CHUNK)
        if not raw or raw.endswith(b"\n"):
            return


def _warn_long(path: Path, long: list[int], max_line: int) -> None:
    shown = ", ".join(map(str, long[:5])) + (" …" if len(long) > 5 else "")
    logger.warning("%s: skipped %d line(s) longer than %s bytes (line %s)", path, len(long),
                   f"{max_line:,}", shown)


def _first_line(handle: IO[bytes], path: Path, max_line: int) -> bytes:
    """The header line of an open log (:class:`RunLogError` if it is over-long)."""
    raw = handle.readline(max_line + 1)
    if len(raw) > max_line and not raw.endswith(b"\n"):
        raise RunLogError(f"{path}: first line longer than {max_line:,} bytes, not a "
                          f"run-log header")
    return raw


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


def read_run(path: str | os.PathLike[str], *, max_line: int = MAX_LINE_BYTES) -> RunLog:
    """Read a whole run log.

    Tolerates a truncated last line (a killed run: ``truncated`` is set); skips
    corrupt lines elsewhere with one warning giving their count (``skipped_lines``), and
    lines longer than ``max_line`` bytes with one warning giving theirs (counted in
    ``skipped_lines`` too). Reads line by line: memory grows with the samples, never
    with one line beyond ``max_line``. A missing file, a file that is not a regular file
    (a device, a FIFO), an empty file, a file of another schema or a newer version
    raises (``FileNotFoundError`` / :class:`RunLogError`).
    """
    path = Path(path)
    with _open_regular(path) as handle:
        prefix = _universal_lines(_first_line(handle, path, max_line))
        if not prefix or not prefix[0][0].decode("utf-8", errors="replace").strip():
            raise RunLogError(f"{path}: empty file, no run-log header")
        header = parse_header(prefix.pop(0)[0].decode("utf-8", errors="replace"),
                              source=str(path))
        run = RunLog(path=path, header=header)
        bad: list[int] = []
        long: list[int] = []
        number = 1

        def take(raw: bytes, terminated: bool) -> None:
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                return
            try:
                run.samples.append(parse_sample(line))
            except ValueError:
                if terminated:
                    bad.append(number)
                else:
                    run.truncated = True

        for raw, terminated in prefix:
            number += 1
            take(raw, terminated)
        for read in _bounded_lines(handle, max_line):
            if read is None:
                number += 1
                long.append(number)
                continue
            for raw, terminated in _universal_lines(read):
                number += 1
                take(raw, terminated)
    if bad:
        _warn_skipped(path, bad)
    if long:
        _warn_long(path, long, max_line)
    run.skipped_lines = len(bad) + len(long)
    run.samples = _dedupe_steps(run.samples)
    return run


def _warn_skipped(path: Path, bad: list[int]) -> None:
    shown = ", ".join(map(str, bad[:5])) + (" …" if len(bad) > 5 else "")
    logger.warning("%s: skipped %d corrupt line(s) (line %s)", path, len(bad), shown)


# -- columnar reading ------------------------------------------------------------------

UNCHECKED_VALUES: tuple[str, ...] = ("layer_norms", "layer_grad_norms")
""":class:`Sample` fields whose values :func:`read_columns` does not validate: it checks
that they are JSON objects (or ``null`` where allowed) but not that every value is a
number. They are most of a line's bytes, the analysis never reads them, and validating
them would build every per-layer float (several times the cost of the rest)."""

_CHUNK = 2048
"""Lines validated before their values are moved into the columns."""



@dataclass
class RunColumns:
    """A run log read as column arrays (:func:`read_columns`): rows in step order, one per
    step (the last occurrence of a repeated step), float64, NaN where a value is missing.

    ``metrics`` holds one column per metric name found in the log and ``metric_present``
    whether each row has that metric (its value may be NaN); :meth:`first_metric` picks,
    row by row, the first present name of several. ``skipped_lines``/``truncated`` as in
    :class:`RunLog`.
    """

    path: Path
    header: RunHeader
    step: np.ndarray
    tau: np.ndarray
    lr: np.ndarray
    weight_decay: np.ndarray
    norm: np.ndarray
    head_norm: np.ndarray
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    metric_present: dict[str, np.ndarray] = field(default_factory=dict)
    skipped_lines: int = 0
    truncated: bool = False

    @property
    def run_id(self) -> str:
        return self.header.run_id

    def __len__(self) -> int:
        return int(self.step.shape[0])

    def first_metric(self, keys: tuple[str, ...] | list[str]) -> np.ndarray:
        """Per row, the value of the first of ``keys`` the row has (NaN if none): what
        reading ``sample.metrics`` key by key gives."""
        import numpy as np

        out = np.full(len(self), math.nan)
        taken = np.zeros(len(self), dtype=bool)
        for key in keys:
            present = self.metric_present.get(key)
            if present is None:
                continue
            fill = present & ~taken
            out[fill] = self.metrics[key][fill]
            taken |= present
        return out


class _AnyObject(TypedDict):
    """A JSON object, contents neither checked nor built."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]


class _AssessmentColumns(TypedDict):
    """An assessment as :func:`read_columns` checks it: an object whose ``regime``, if
    present, is a string (as :class:`~nht_monitor.runlog.schema.Sample` checks it)."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]
    regime: NotRequired[str]


class _GroupColumns(TypedDict):
    """:class:`~nht_monitor.runlog.schema.GroupClock` as :func:`read_columns` checks it."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]
    lr: float
    weight_decay: float
    tau: float


class _SampleColumns(TypedDict):
    """A sample line as :func:`read_columns` validates it: every :class:`Sample` field with
    its type and constraints, into a plain dict. Differences: ``float`` where the model
    has ``LogFloat`` — for JSON input pydantic's float already reads the ``"NaN"``/
    ``"Infinity"`` spellings as ``LogFloat`` does (tests/test_runlog.py checks), without a
    Python call per value; ``step`` at most
    :data:`~nht_monitor.runlog.schema.MAX_STEP`; the values of
    :data:`UNCHECKED_VALUES` are not checked and the objects in ``layer_norms``/
    ``layer_grad_norms`` are not built, of ``assessment`` only its ``regime``."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]
    step: Required[Annotated[int, Field(ge=0, le=MAX_STEP)]]
    time: NotRequired[float | None]
    tau: Required[float]
    lr: Required[float]
    weight_decay: Required[float]
    norm: Required[float]
    head_norm: NotRequired[float | None]
    layer_norms: NotRequired[_AnyObject]
    grad_norm: NotRequired[float | None]
    layer_grad_norms: NotRequired[_AnyObject | None]
    metrics: NotRequired[dict[str, float]]
    groups: NotRequired[list[_GroupColumns] | None]
    nonfinite: NotRequired[list[str]]
    assessment: NotRequired[_AssessmentColumns | None]


_COLUMNS_ADAPTER: Any = None


def _columns_adapter() -> Any:
    """The pydantic ``TypeAdapter`` of :class:`_SampleColumns` (built on first use)."""
    global _COLUMNS_ADAPTER
    if _COLUMNS_ADAPTER is None:
        from pydantic import TypeAdapter

        _COLUMNS_ADAPTER = TypeAdapter(_SampleColumns)
    return _COLUMNS_ADAPTER


def _universal_lines(raw: bytes) -> list[tuple[bytes, bool]]:
    """``raw`` (one ``\\n``-terminated line of a binary read) split where :func:`read_run`'s
    text-mode read splits it (``\\n``, ``\\r\\n``, a lone ``\\r``), each piece with
    whether it ended with a line break."""
    if b"\r" in raw and not (raw.find(b"\r") == len(raw) - 2 and raw.endswith(b"\r\n")):
        pieces = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        last = pieces.pop()
        return [(p + b"\n", True) for p in pieces] + ([(last, False)] if last else [])
    return [(raw, raw.endswith(b"\n"))]


@dataclass
class _Part:
    """The columns of one byte range of a log's sample lines (see :func:`_scan`)."""

    columns: dict[str, np.ndarray]
    metrics: dict[str, tuple[np.ndarray, np.ndarray]]
    rows: int
    lines: int
    bad: list[int]
    truncated: bool
    long: list[int] = field(default_factory=list)


class _ColumnBuilder:
    """Moves validated sample dicts, a chunk at a time, into float columns."""

    SCALARS = ("step", "tau", "lr", "weight_decay", "norm")

    def __init__(self) -> None:
        self.columns = {key: array.array("d") for key in (*self.SCALARS, "head_norm")}
        self.metric_parts: dict[str, list[tuple[int, list[float], list[bool]]]] = {}
        self.rows = 0

    def add(self, chunk: list[dict[str, Any]]) -> None:
        nan = math.nan
        for key in self.SCALARS:
            self.columns[key].extend([d[key] for d in chunk])
        self.columns["head_norm"].extend(
            [nan if (h := d.get("head_norm")) is None else h for d in chunk])
        metrics = [d.get("metrics") or {} for d in chunk]
        for key in set().union(*metrics):
            self.metric_parts.setdefault(key, []).append(
                (self.rows, [m.get(key, nan) for m in metrics], [key in m for m in metrics]))
        self.rows += len(chunk)

    def arrays(self) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """The float columns, and per metric its values (NaN where absent) and presence."""
        import numpy as np

        columns = {k: np.frombuffer(v, dtype=np.float64) for k, v in self.columns.items()}
        metrics = {}
        for key, parts in self.metric_parts.items():
            values = np.full(self.rows, math.nan)
            present = np.zeros(self.rows, dtype=bool)
            for start, vals, mask in parts:
                values[start:start + len(vals)] = vals
                present[start:start + len(mask)] = mask
            metrics[key] = (values, present)
        return columns, metrics


def _scan(path: Path, start: int, end: int, prefix: list[tuple[bytes, bool]],
          max_line: int = MAX_LINE_BYTES) -> _Part:
    """Validate the ``prefix`` lines, then the lines of ``path`` from byte ``start`` (a line
    start) to ``end`` (a line start or the end of the file), into columns; lines longer
    than ``max_line`` bytes are skipped (``long``). Line numbers in ``bad`` and ``long``
    count from 1 at the first line of ``prefix``."""
    validate = _columns_adapter().validator.validate_json
    builder = _ColumnBuilder()
    chunk: list[dict[str, Any]] = []
    bad: list[int] = []
    long: list[int] = []
    truncated = False

    def slow(line: bytes, terminated: bool, number: int) -> None:
        """A line off the hot path: valid, or (decoded as read_run decodes) blank and
        skipped, valid, truncated (the unterminated last line) or corrupt."""
        nonlocal truncated
        try:
            chunk.append(validate(line))
            return
        except ValueError:
            pass
        text = line.decode("utf-8", errors="replace")
        if not text.strip():
            return
        try:
            chunk.append(validate(text))
        except ValueError:
            if terminated:
                bad.append(number)
            else:
                truncated = True

    number = 0
    for line, terminated in prefix:
        number += 1
        slow(line, terminated, number)
    with _open_regular(path) as handle:
        handle.seek(start)
        for raw in _bounded_lines(handle, max_line, end - start):  # the hot loop
            if raw is None:
                number += 1
                long.append(number)
            elif b"\r" in raw:
                for line, terminated in _universal_lines(raw):
                    number += 1
                    slow(line, terminated, number)
            else:
                number += 1
                try:
                    chunk.append(validate(raw))
                except ValueError:
                    slow(raw, raw.endswith(b"\n"), number)
            if len(chunk) >= _CHUNK:
                builder.add(chunk)
                chunk = []
    builder.add(chunk)
    columns, metrics = builder.arrays()
    return _Part(columns, metrics, builder.rows, number, bad, truncated, long)


PARALLEL_BYTES = 32 * 2 ** 20
"""Logs larger than this are read by two processes at once (see :func:`read_columns`)."""


def _scan_in_child(path: Path, start: int, end: int, max_line: int = MAX_LINE_BYTES) -> Any:
    """A forked process scanning ``[start, end)``: its pool and the future of its
    :class:`_Part`."""
    pool = forked_pool(1)
    return pool, pool.submit(_scan, path, start, end, [], max_line)


def _collect(pool: Any, future: Any) -> _Part | None:
    """The child's :class:`_Part` (``None`` if it failed)."""
    try:
        return future.result()
    except Exception:  # the parent reads that half itself
        return None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_columns(path: str | os.PathLike[str], *, workers: int | None = None,
                 max_line: int = MAX_LINE_BYTES) -> RunColumns:
    """Read a whole run log into column arrays, without a :class:`Sample` per line.

    Same outcome as :func:`read_run` followed by taking the columns: the same header
    checks and errors, a truncated last line tolerated (``truncated``), corrupt lines
    skipped with one warning giving their count (``skipped_lines``), the last occurrence
    of a repeated step kept, rows in step order, lines over ``max_line`` bytes skipped
    with one warning and not a non-regular file (as :func:`read_run`). Each sample line is validated as
    :class:`Sample` validates it (same types and constraints: numbers, the ``"NaN"``/
    ``"Infinity"`` spellings, ``step >= 0``, required fields), except the values inside
    :data:`UNCHECKED_VALUES`. Streams the file: memory grows with the number of samples,
    not with the size of their lines.

    ``workers``: 2 reads the second half of the file in a forked process meanwhile (Linux);
    default: 2 for a log over :data:`PARALLEL_BYTES` when at least two CPUs are available
    and the calling process has a single thread (forking a threaded process is unsafe).
    """
    import numpy as np

    path = Path(path)
    with _open_regular(path) as handle:
        prefix = _universal_lines(_first_line(handle, path, max_line))
        first = prefix.pop(0)[0].decode("utf-8", errors="replace") if prefix else ""
        if not first.strip():
            raise RunLogError(f"{path}: empty file, no run-log header")
        header = parse_header(first, source=str(path))
        start = handle.tell()
        size = os.fstat(handle.fileno()).st_size
        middle = size
        if workers is None:
            workers = fork_workers(2, 2) if size - start > PARALLEL_BYTES else 1
        if workers > 1 and size > start:
            handle.seek(start + (size - start) // 2)
            _skip_line(handle)
            middle = handle.tell()
    child = _scan_in_child(path, middle, size, max_line) if middle < size else None
    try:
        parts = [_scan(path, start, middle, prefix, max_line)]
    except BaseException:
        if child is not None:  # do not leave it behind
            child[0].shutdown(wait=False, cancel_futures=True)
        raise
    if child is not None:
        parts.append(_collect(*child) or _scan(path, middle, size, [], max_line))
    bad, long, offset = [], [], 1  # the header is line 1
    for part in parts:
        bad.extend(number + offset for number in part.bad)
        long.extend(number + offset for number in part.long)
        offset += part.lines
    if bad:
        _warn_skipped(path, bad)
    if long:
        _warn_long(path, long, max_line)
    columns = {key: np.concatenate([p.columns[key] for p in parts]) for key in parts[0].columns}
    order = _last_occurrence_order(columns["step"])
    if order is not None:
        columns = {key: column[order] for key, column in columns.items()}
    metrics: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for key in dict.fromkeys(k for p in parts for k in p.metrics):
        values = np.concatenate([p.metrics[key][0] if key in p.metrics
                                 else np.full(p.rows, math.nan) for p in parts])
        mask = np.concatenate([p.metrics[key][1] if key in p.metrics
                               else np.zeros(p.rows, dtype=bool) for p in parts])
        metrics[key] = values if order is None else values[order]
        present[key] = mask if order is None else mask[order]
    return RunColumns(path, header, **columns, metrics=metrics, metric_present=present,
                      skipped_lines=len(bad) + len(long),
                      truncated=any(p.truncated for p in parts))


def _last_occurrence_order(step: np.ndarray) -> np.ndarray | None:
    """Row indices putting rows in step order with one row per step, the last written
    (``None``: steps already strictly increase)."""
    import numpy as np

    if step.shape[0] < 2 or bool(np.all(step[1:] > step[:-1])):
        return None
    order = np.argsort(step, kind="stable")
    ordered = step[order]
    last = np.ones(order.shape[0], dtype=bool)
    last[:-1] = ordered[1:] != ordered[:-1]
    return order[last]


class RunLogTail:
    """Follows a run log as it grows (for the sidecar exporter and live tools).

    ``poll()`` returns the samples completed since the previous call. A partial last
    line is left for the next poll (at most ``max_line`` bytes of it are kept: a longer
    line is skipped); corrupt complete lines (a step beyond int64 included) and over-long lines are skipped and counted in ``skipped_lines``, with one warning per
    kind of problem for the life of the tail. New bytes are read a chunk at a time, at
    most ``max_poll_bytes`` per poll (the rest at the next one). If the file shrinks
    (rewritten), reading starts over.
    """

    def __init__(self, path: str | os.PathLike[str], *, max_line: int = MAX_LINE_BYTES,
                 max_poll_bytes: int = 64 * 2 ** 20) -> None:
        self.path = Path(path)
        self.header: RunHeader | None = None
        self.skipped_lines = 0
        self.max_line = max_line
        self.max_poll_bytes = max_poll_bytes
        self._offset = 0
        self._pending = b""
        self._discarding = False  # inside an over-long line: drop bytes up to its end
        self._warned: set[str] = set()
        self.last_poll_time: float | None = None

    def _skip(self, kind: str, message: str) -> None:
        self.skipped_lines += 1
        if kind not in self._warned:
            self._warned.add(kind)
            logger.warning("%s: %s (warned once; later ones are only counted)",
                           self.path, message)

    def poll(self) -> list[Sample]:
        """New complete samples since the last poll (raises :class:`RunLogError` on a
        file that is not a run log, or not a regular file)."""
        self.last_poll_time = time.time()
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return []
        if not stat.S_ISREG(info.st_mode):
            check_regular(self.path)  # raises, naming what it is
        size = info.st_size
        if size < self._offset:
            self._offset, self._pending, self.header = 0, b"", None
            self._discarding = False
        samples: list[Sample] = []
        if size > self._offset:
            with _open_regular(self.path) as handle:
                handle.seek(self._offset)
                budget = min(size - self._offset, self.max_poll_bytes)
                while budget > 0:
                    chunk = handle.read(min(_READ_CHUNK, budget))
                    if not chunk:
                        break
                    budget -= len(chunk)
                    self._offset += len(chunk)
                    self._feed(chunk, samples)
        return samples

    def _feed(self, chunk: bytes, samples: list[Sample]) -> None:
        if self._discarding:
            end = chunk.find(b"\n")
            if end < 0:
                return
            chunk, self._discarding = chunk[end + 1:], False
        *complete, pending = (self._pending + chunk).split(b"\n")
        self._pending = b""
        for raw in complete:
            if len(raw.rstrip(b"\r")) > self.max_line:
                self._long()
            else:
                self._line(raw, samples)
        if len(pending) > self.max_line:
            self._discarding = True
            self._long()
        else:
            self._pending = pending

    def _long(self) -> None:
        if self.header is None:
            raise RunLogError(f"{self.path}: first line longer than {self.max_line:,} "
                              f"bytes, not a run-log header")
        self._skip("long", f"skipped a line longer than {self.max_line:,} bytes")

    def _line(self, raw: bytes, samples: list[Sample]) -> None:
        line = raw.decode("utf-8", errors="replace")
        if not line.strip():
            return
        if self.header is None:
            self.header = parse_header(line, source=str(self.path))
            return
        try:
            sample = parse_sample(line)
        except ValueError:
            self._skip("corrupt", "skipped a corrupt line")
            return
        samples.append(sample)
