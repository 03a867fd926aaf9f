"""Column arrays of a run log and the bounded, decimated history kept by the live analyzer."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.runlog.schema import Sample

if TYPE_CHECKING:
    from nht_monitor.runlog.reader import RunColumns

COLUMNS: tuple[str, ...] = ("step", "tau", "lr", "wd", "norm", "head", "loss", "acc", "val")
"""Columns of a :class:`Series`; missing values are NaN."""


@dataclass
class Series:
    """One run as float64 column arrays, steps strictly increasing.

    ``head`` is the head norm, ``loss``/``acc`` training loss/accuracy and ``val``
    held-out accuracy (NaN where not logged).
    """

    step: np.ndarray
    tau: np.ndarray
    lr: np.ndarray
    wd: np.ndarray
    norm: np.ndarray
    head: np.ndarray
    loss: np.ndarray
    acc: np.ndarray
    val: np.ndarray

    def __len__(self) -> int:
        return int(self.step.shape[0])

    def take(self, index: np.ndarray | slice) -> Series:
        """The rows selected by ``index`` (a mask, index array or slice)."""
        return Series(*(getattr(self, c)[index] for c in COLUMNS))

    def rows(self) -> Iterator[tuple[float, ...]]:
        """The rows as :data:`COLUMNS` tuples of floats."""
        return map(tuple, np.column_stack([getattr(self, c) for c in COLUMNS]).tolist())

    def until(self, step: float) -> Series:
        """The rows with ``step <= step``."""
        return self.take(slice(0, int(np.searchsorted(self.step, step, side="right"))))

    def before(self, step: float) -> Series:
        """The rows with ``step < step``."""
        return self.take(slice(0, int(np.searchsorted(self.step, step, side="left"))))

    @classmethod
    def empty(cls) -> Series:
        """A series without rows."""
        return cls(*(np.empty(0) for _ in COLUMNS))


def _pick(metrics: dict, keys: Sequence[str]) -> float:
    for key in keys:
        value = metrics.get(key)
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                return math.nan
    return math.nan


def _num(value: object) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def sample_row(sample: Sample, settings: AnalyzerSettings) -> tuple[float, ...]:
    """The :data:`COLUMNS` values of one sample (NaN for what is missing)."""
    metrics = sample.metrics or {}
    return (float(sample.step), _num(sample.tau), _num(sample.lr), _num(sample.weight_decay),
            _num(sample.norm), _num(sample.head_norm),
            _pick(metrics, settings.train_loss_keys), _pick(metrics, settings.train_acc_keys),
            _pick(metrics, settings.val_acc_keys))


def keep_last_occurrence(step: np.ndarray) -> np.ndarray:
    """Mask of rows to keep so steps increase strictly, keeping the last write of a step.

    A resumed run that rewinds to step s overwrites everything logged at steps >= s
    before the rewind: row i is kept iff its step is below every later row's step.
    """
    if step.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    later_min = np.minimum.accumulate(step[::-1])[::-1]
    mask = np.ones(step.shape[0], dtype=bool)
    mask[:-1] = step[:-1] < later_min[1:]
    return mask


def series_from_samples(samples: Iterable[Sample], settings: AnalyzerSettings) -> Series:
    """Column arrays of ``samples`` (vectorised after one pass over the objects)."""
    samples = list(samples)
    n = len(samples)
    if n == 0:
        return Series.empty()
    cols = {
        "step": np.fromiter((s.step for s in samples), dtype=np.float64, count=n),
        "tau": np.fromiter((s.tau for s in samples), dtype=np.float64, count=n),
        "lr": np.fromiter((s.lr for s in samples), dtype=np.float64, count=n),
        "wd": np.fromiter((s.weight_decay for s in samples), dtype=np.float64, count=n),
        "norm": np.fromiter((s.norm for s in samples), dtype=np.float64, count=n),
        "head": np.fromiter((math.nan if s.head_norm is None else s.head_norm
                             for s in samples), dtype=np.float64, count=n),
    }
    metrics = [s.metrics for s in samples]
    for col, keys in (("loss", settings.train_loss_keys), ("acc", settings.train_acc_keys),
                      ("val", settings.val_acc_keys)):
        present = _present_key(metrics, keys)
        if present is None:
            cols[col] = np.full(n, math.nan)
        else:
            cols[col] = np.fromiter((_pick(m, keys) if m else math.nan for m in metrics),
                                    dtype=np.float64, count=n)
    series = Series(**cols)
    mask = keep_last_occurrence(series.step)
    return series if mask.all() else series.take(mask)


def series_from_columns(columns: RunColumns, settings: AnalyzerSettings) -> Series:
    """The :class:`Series` of a log read by :func:`nht_monitor.runlog.reader.read_columns`:
    equal to :func:`series_from_samples` of the same log's :func:`read_run` samples."""
    return Series(step=columns.step, tau=columns.tau, lr=columns.lr, wd=columns.weight_decay,
                  norm=columns.norm, head=columns.head_norm,
                  loss=columns.first_metric(settings.train_loss_keys),
                  acc=columns.first_metric(settings.train_acc_keys),
                  val=columns.first_metric(settings.val_acc_keys))


def read_series(path: str | os.PathLike[str], settings: AnalyzerSettings | None = None, *,
                until: float | None = None) -> Series:
    """The :class:`Series` of the run log at ``path`` (up to step ``until``), read without
    a :class:`Sample` per line (:func:`~nht_monitor.runlog.reader.read_columns`); with
    ``settings`` (default: the settings recorded in the log's header) naming the metrics."""
    from nht_monitor.analysis.settings import recorded_settings
    from nht_monitor.runlog.reader import read_columns

    columns = read_columns(path)
    series = series_from_columns(columns, settings or recorded_settings(columns.header))
    return series if until is None else series.until(until)


def _present_key(metrics: list[dict], keys: Sequence[str]) -> str | None:
    """A key of ``keys`` present in some sample (checked on a few samples spread over the run)."""
    n = len(metrics)
    probe = {0, n - 1, n // 2, n // 4, (3 * n) // 4}
    for i in probe:
        m = metrics[i]
        if m:
            for key in keys:
                if key in m:
                    return key
    # Sparse metrics (logged only every k steps): scan until one is found.
    for m in metrics:
        if m:
            for key in keys:
                if key in m:
                    return key
    return None


METRIC_COLUMNS: tuple[int, ...] = tuple(COLUMNS.index(c) for c in ("loss", "acc", "val"))
"""Indices in :data:`COLUMNS` of the logged metrics (training loss/accuracy, held-out accuracy)."""


class History:
    """Bounded decimated history of a run: O(1) amortised append, at most ``capacity``
    stored rows.

    Three decimated streams share the store: every ``stride``-th observed row (the norm
    stream), every ``metric_stride``-th row that carries a training metric (a finite
    training loss or accuracy) and every ``heldout_stride``-th row that carries a
    held-out accuracy. A row picked by any is stored once. When the store is full, the
    stream holding the most rows drops every other of its rows and doubles its stride
    (the next one too if that freed less than a quarter of the store, and so on), so
    each kind of row is thinned among its own kind: held-out evaluations every 100 steps
    are not thinned by training metrics logged every step, nor metrics by the norm
    stream's stride. The first row of each stream is never dropped (where each started:
    the first norm, the chance-level accuracies). Besides the store, the latest observed
    row and, for each metric, the latest row where it was logged are always kept:
    :meth:`series` ends with the latest sample and holds the latest value of every
    metric (at most ``capacity`` + 4 rows).
    """

    NORM, METRIC, HELDOUT = 0, 1, 2
    MIN_CAPACITY = 8
    """Room for the three streams' first rows (never dropped) with a quarter to free."""

    def __init__(self, capacity: int) -> None:
        if int(capacity) < self.MIN_CAPACITY:
            raise ValueError(f"History capacity {capacity} < {self.MIN_CAPACITY}: the three "
                             "streams' first rows stay, and a quarter must be freeable")
        self.capacity = int(capacity)
        self._data = np.empty((self.capacity, len(COLUMNS)))
        # observation number of a stored row in each stream (-1: not in it)
        self._at = np.full((3, self.capacity), -1, dtype=np.int64)
        self._n = 0
        self._strides = [1, 1, 1]
        self._counts = [0, 0, 0]
        self._last: tuple[float, ...] | None = None
        self._latest: list[tuple[float, ...] | None] = [None] * len(METRIC_COLUMNS)
        """Per metric, the latest row where it was finite."""

    @property
    def stride(self) -> int:
        """Stride of the norm stream."""
        return self._strides[self.NORM]

    @property
    def metric_stride(self) -> int:
        """Stride of the training-metric stream."""
        return self._strides[self.METRIC]

    @property
    def heldout_stride(self) -> int:
        """Stride of the held-out accuracy stream."""
        return self._strides[self.HELDOUT]

    def append(self, row: tuple[float, ...]) -> None:
        """Observe one row (steps are expected to increase; see :meth:`rewind`)."""
        self._last = row
        counts, strides, latest = self._counts, self._strides, self._latest
        counts[0] += 1
        picked = [not counts[0] % strides[0], False, False]
        loss, acc, val = row[6], row[7], row[8]
        if loss == loss or acc == acc:  # a training metric (NaN != NaN)
            if loss == loss:
                latest[0] = row
            if acc == acc:
                latest[1] = row
            counts[1] += 1
            picked[1] = not counts[1] % strides[1]
        if val == val:
            latest[2] = row
            counts[2] += 1
            picked[2] = not counts[2] % strides[2]
        if not (picked[0] or picked[1] or picked[2]):
            return
        if self._n >= self.capacity:
            self._decimate()
        n = self._n
        self._data[n] = row
        for k in range(3):
            self._at[k, n] = counts[k] if picked[k] else -1
        self._n = n + 1

    def _decimate(self) -> None:
        """Free at least a quarter of the store (see the class docstring)."""
        n = self._n
        at = self._at[:, :n]
        target = n - max(1, self.capacity // 4)
        keep = np.ones(n, dtype=bool)
        kept = n
        while kept > target and kept > 0:
            held = (at >= 0).sum(axis=1)
            for k in sorted(range(3), key=lambda k: -int(held[k])):
                if held[k] == 0:
                    continue
                self._strides[k] *= 2
                stream = at[k]  # the stream's first row stays: its start (chance)
                stream[(stream > 1) & (stream % self._strides[k] != 0)] = -1
                keep = (at >= 0).any(axis=0)
                kept = int(keep.sum())
                if kept <= target:
                    break
        self._data[:kept] = self._data[:n][keep]
        self._at[:, :kept] = at[:, keep]
        self._n = kept

    def rewind(self, step: float) -> None:
        """Forget stored rows at or after ``step`` (a resumed run rewrote them)."""
        if self._n:
            self._n = int(np.searchsorted(self._data[:self._n, 0], step, side="left"))
        for k, col in enumerate(METRIC_COLUMNS):
            row = self._latest[k]
            if row is not None and row[0] >= step:
                finite = np.nonzero(~np.isnan(self._data[:self._n, col]))[0]
                self._latest[k] = tuple(self._data[finite[-1]].tolist()) if finite.size else None
        self._last = None

    def last_step(self) -> float | None:
        """Step of the latest observed row, or None."""
        if self._last is not None:
            return self._last[0]
        return float(self._data[self._n - 1, 0]) if self._n else None

    def series(self) -> Series:
        """Stored rows plus the latest observed row and the latest row of each metric,
        as a :class:`Series` (steps increasing)."""
        n = self._n
        block = self._data[:n]
        extra = {}
        for row in (*self._latest, self._last):
            if row is not None:
                extra[row[0]] = row
        if extra:
            steps = block[:, 0]
            rows = [r for s, r in extra.items()
                    if not (n and (i := int(np.searchsorted(steps, s))) < n and steps[i] == s)]
            if rows:
                block = np.concatenate([block, np.array(rows, dtype=np.float64)])
                block = block[np.argsort(block[:, 0], kind="stable")]
        return Series(*(block[:, i].copy() for i in range(len(COLUMNS))))

    def __len__(self) -> int:
        return self._n
