"""The sidecar's source: every run log of a directory, tailed and analyzed per run.

:class:`RunLogDirectory` scans ``DIR/*.jsonl`` (new files are picked up at each poll),
tails each with :class:`nht_monitor.runlog.RunLogTail` (a partial last line waits until it
is complete) and feeds every new sample to one :class:`nht_monitor.analysis.Analyzer` per
run (runs whose headers share a ``sweep`` calibrate each other's forecast,
:class:`~nht_monitor.analysis.sweep.SweepReferences`). ``snapshots()`` returns one :class:`RunSnapshot` per run, labelled by the header's
``run_id``; it never touches the files, so scrapes stay cheap.

Bad entries cost one warning each: a link resolving outside the directory (unless
``follow_symlinks``), a directory or device named ``*.jsonl``, a file that is not a run
log, corrupt or over-long lines (counted by the tail), a file that cannot be read (then
retried after a growing pause). Each file gets at most one warning per kind of problem
while it stays in the directory.
"""

from __future__ import annotations

import glob
import logging
import stat as stat_module
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nht_monitor.analysis.assessment import Assessment
from nht_monitor.analysis.pacing import Pacing
from nht_monitor.exporter.snapshot import RunSnapshot
from nht_monitor.runlog.schema import RunLogError, Sample

logger = logging.getLogger(__name__)


@dataclass
class _Run:
    path: Path
    tail: Any
    analyzer: Any = None
    sample: Sample | None = None
    assessment: Assessment | None = None
    samples_total: int = 0
    errors_total: int = 0
    pacing: Pacing = field(default_factory=Pacing)  # when the analyzer next assesses
    size: int = 0
    invalid: str | None = None  # why this file is not a run log (then it is skipped)
    failures: int = 0  # consecutive polls that could not read the file
    retry_at: float = 0.0  # after failures: no read before this time

    @property
    def run_id(self) -> str:
        header = self.tail.header
        return header.run_id if header is not None else self.path.stem


class RunLogDirectory:
    """Tails every run log in ``log_dir`` and keeps each run's latest snapshot.

    ``analyze``: run an :class:`~nht_monitor.analysis.Analyzer` per run (otherwise the
    assessments the monitor wrote into the log are exported). ``assess_every``: assess
    after that many new samples, or once ``assess_interval`` seconds have passed since
    the last assessment while new samples wait (:class:`~nht_monitor.analysis.pacing.Pacing`
    with ``max_wait``).
    ``retire_after``: forget runs whose log was not modified for that many seconds
    (``None``: keep every run). ``follow_symlinks``: also read links that resolve
    outside ``log_dir`` (by default they are skipped with one warning). ``poll()`` reads
    once; ``start(interval)`` polls on a daemon thread until ``close()``.
    """

    MAX_BACKOFF = 60.0
    """Longest pause (seconds) before retrying a file that could not be read."""

    def __init__(self, log_dir: str | Path, *, analyze: bool = True, assess_every: int = 10,
                 assess_interval: float = 2.0, retire_after: float | None = None,
                 pattern: str = "*.jsonl", follow_symlinks: bool = False) -> None:
        from nht_monitor.runlog import RunLogTail

        self.log_dir = Path(log_dir)
        if not self.log_dir.is_dir():
            raise ValueError(f"log dir {str(self.log_dir)!r} is not a directory")
        Pacing(assess_every)  # validates assess_every
        self._tail_class = RunLogTail
        self._analyzer_class = None
        if analyze:
            from nht_monitor.analysis import Analyzer
            self._analyzer_class = Analyzer
        self.assess_every = assess_every
        self.assess_interval = assess_interval
        self.retire_after = retire_after
        self.pattern = pattern
        self.follow_symlinks = follow_symlinks
        self._root = self.log_dir.resolve()
        self._warned: dict[Path, set[str]] = {}  # per file, the kinds of problem warned
        self._runs: dict[Path, _Run] = {}
        self._sweeps: dict[str, Any] = {}  # sweep name -> its shared SweepReferences
        self._snapshots: list[RunSnapshot] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading --------------------------------------------------------------------
    def poll(self) -> int:
        """Read every log once (picking up new files); returns the number of new samples."""
        now = time.time()
        seen: set[Path] = set()
        listed: set[Path] = set()
        new_total = 0
        for path in sorted(self.log_dir.glob(self.pattern)):
            listed.add(path)
            if not self._inside(path):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            if not stat_module.S_ISREG(stat.st_mode):
                self._warn_once(path, "not-regular", "skipping %s: not a regular file",
                                path)
                continue
            if self.retire_after is not None and now - stat.st_mtime > self.retire_after:
                continue
            seen.add(path)
            run = self._runs.get(path)
            if run is None or stat.st_size < run.size:  # new, or rewritten from scratch
                run = self._runs[path] = _Run(path=path, tail=self._tail_class(path),
                                              pacing=self._pacing())
            run.size = stat.st_size
            if run.invalid is None and now >= run.retry_at:
                new_total += self._poll_run(run)
        for path in set(self._runs) - seen:
            del self._runs[path]
        for path in set(self._warned) - listed:  # gone: a new file there warns afresh
            del self._warned[path]
        snapshots: list[RunSnapshot] = []
        used: set[str] = set()
        for run in self._runs.values():
            if run.invalid is None and run.tail.header is not None:
                snapshot = self._snapshot(run)
                if snapshot.run_id in used:  # two logs of one run id (e.g. per-rank logs)
                    snapshot = replace(snapshot, run_id=run.path.stem)
                used.add(snapshot.run_id)
                snapshots.append(snapshot)
        with self._lock:
            self._snapshots = snapshots
        return new_total

    def _references(self, run: _Run) -> Any:
        """Runs of the directory sharing this run's ``sweep`` calibrate its forecast (one
        shared reader per sweep); ``None`` for a run without one."""
        sweep = getattr(run.tail.header, "sweep", None)
        if not sweep:
            return None
        if sweep not in self._sweeps:
            from nht_monitor.analysis import AnalyzerSettings
            from nht_monitor.analysis.sweep import SweepReferences

            pattern = str(Path(glob.escape(str(self.log_dir))) / self.pattern)
            self._sweeps[sweep] = SweepReferences([pattern], AnalyzerSettings(), sweep=sweep,
                                                  accept=self._readable_reference)
        return self._sweeps[sweep].for_run(run.run_id)

    def _readable_reference(self, path: Path) -> bool:
        """A reference log the sidecar reads: a regular file inside the directory (or
        anywhere with ``follow_symlinks``)."""
        return self._inside(path) and path.is_file()

    def _inside(self, path: Path) -> bool:
        """Whether ``path`` may be read: it resolves inside the directory, or links may
        be followed (a link out of it is skipped with one warning)."""
        if self.follow_symlinks:
            return True
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as exc:  # a link loop
            self._warn_once(path, "resolve", "skipping %s: %s", path, exc)
            return False
        if real.is_relative_to(self._root):
            return True
        self._warn_once(path, "outside", "skipping %s: a link to %s, outside %s (pass "
                        "follow_symlinks=True to read it)", path, real, self._root)
        return False

    def _warn_once(self, path: Path, kind: str, message: str, *args: Any) -> None:
        """Log ``message`` unless this kind of problem was already warned for ``path``."""
        kinds = self._warned.setdefault(path, set())
        if kind not in kinds:
            kinds.add(kind)
            logger.warning("nht-monitor sidecar: " + message, *args)

    def _poll_run(self, run: _Run) -> int:
        try:
            samples = run.tail.poll()
        except RunLogError as exc:  # not a run log (or a newer schema): skip the file
            run.invalid = str(exc)
            self._warn_once(run.path, "invalid", "skipping %s: %s", run.path, exc)
            return 0
        except Exception as exc:  # unreadable log: count it, retry later, serve the others
            run.errors_total += 1
            run.failures += 1
            run.retry_at = time.time() + min(self.MAX_BACKOFF, 2.0 ** (run.failures - 1))
            self._warn_once(run.path, f"read:{type(exc).__name__}",
                            "cannot read %s: %s (retrying with back-off)", run.path, exc)
            return 0
        run.failures, run.retry_at = 0, 0.0
        if samples and run.analyzer is None and self._analyzer_class is not None:
            try:
                run.analyzer = self._analyzer_class(header=run.tail.header,
                                                    references=self._references(run))
            except Exception as exc:
                run.errors_total += 1
                self._warn_once(run.path, "analyzer", "no analyzer for %s: %s", run.path,
                                exc)
        observed = 0
        for sample in samples:
            run.sample = sample
            run.samples_total += 1
            if run.analyzer is not None:
                try:
                    run.analyzer.observe(sample)
                    observed += 1
                except Exception as exc:
                    run.errors_total += 1
                    self._warn_once(run.path, "analysis", "analysis of %s failed: %s",
                                    run.path, exc)
            elif sample.assessment is not None:
                try:
                    run.assessment = Assessment.model_validate(sample.assessment)
                except Exception:
                    run.errors_total += 1
        if run.analyzer is not None and run.pacing.tick(observed):
            try:
                run.assessment = run.analyzer.assess()
            except Exception as exc:
                run.errors_total += 1
                self._warn_once(run.path, "assessment", "assessment of %s failed: %s",
                                run.path, exc)
            run.pacing.assessed()
        return len(samples)

    def _pacing(self) -> Pacing:
        """A new run's pacing (see the class docstring)."""
        return Pacing(self.assess_every, max_wait=self.assess_interval)

    @staticmethod
    def _snapshot(run: _Run) -> RunSnapshot:
        skipped = int(getattr(run.tail, "skipped_lines", 0) or 0)
        sample = run.sample
        return RunSnapshot(
            run_id=run.run_id, header=run.tail.header, sample=sample,
            assessment=run.assessment, samples_total=run.samples_total,
            errors_total=run.errors_total + skipped,
            last_sample_time=sample.time if sample is not None else None)

    def snapshots(self) -> list[RunSnapshot]:
        """The latest snapshot of every run (as of the last poll)."""
        with self._lock:
            return list(self._snapshots)

    # -- background polling ---------------------------------------------------------
    def start(self, interval: float = 1.0) -> RunLogDirectory:
        """Poll every ``interval`` seconds on a daemon thread; returns ``self``."""
        if self._thread is not None:
            return self
        self.poll()

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.poll()
                except Exception:
                    logger.exception("nht-monitor sidecar: poll failed")

        self._thread = threading.Thread(target=loop, name="nht-sidecar-poll", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the polling thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
