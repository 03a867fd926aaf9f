"""Exact whole-run facts (peaks, fit step, flags) — vectorised offline, O(1) per sample live.

The live analyzer keeps only a decimated history, so anything whose exact value matters
(the peak norm, the step the fit was reached, the step each signal flagged the
transition, non-finite counts, the best mean of train accuracy) is tracked here sample by
sample, with the same definitions as the vectorised computation on a whole log.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from nht_monitor.analysis.series import Series
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.transition import first_reached


@dataclass
class RunFacts:
    """Whole-run facts; ``None`` where not reached yet.

    ``fit_step``: first step the training set counted as fitted. ``peak``/``peak_step``/
    ``peak_tau``: largest finite total norm so far and where. ``head_peak``/``head_peak_step``
    likewise for the head norm. ``flag_step``/``head_flag_step``: first step after the fit
    at which the signal was ``flag_drop`` below its running peak. ``val_step``: first step
    held-out accuracy reached ``done_val_acc``. ``first_norm``: first finite norm.
    ``first_loss``/``first_acc``: first finite training loss / accuracy. ``best_acc``:
    train accuracy's best mean of ``train_acc_evals`` consecutive finite evaluations so
    far (:func:`best_mean`; the mean of all while fewer), over every sample observed.
    ``sc_peak``/``sc_peak_step``: largest finite total norm at or after the fit and up to
    ``val_step`` (the shortcut norm V_sc; the overall peak when no training metrics are
    logged);
    ``head_sc_peak``/``head_sc_peak_step`` likewise. ``nonfinite``/``first_nonfinite_step``:
    count and first step of non-finite total norms. ``peak_rate``: the clock's largest
    rate dτ/dstep between consecutive samples (:func:`peak_rate`; live, over every sample
    observed, not the decimated history). ``n``: samples observed.
    """

    n: int = 0
    fit_step: float | None = None
    peak: float | None = None
    peak_step: float | None = None
    peak_tau: float | None = None
    head_peak: float | None = None
    head_peak_step: float | None = None
    sc_peak: float | None = None
    sc_peak_step: float | None = None
    head_sc_peak: float | None = None
    head_sc_peak_step: float | None = None
    flag_step: float | None = None
    head_flag_step: float | None = None
    val_step: float | None = None
    first_norm: float | None = None
    first_loss: float | None = None
    first_acc: float | None = None
    best_acc: float | None = None
    nonfinite: int = 0
    first_nonfinite_step: float | None = None
    any_wd: bool = False
    any_lr: bool = False
    has_train_metrics: bool = False
    has_val: bool = False
    peak_rate: float = math.nan


def learnt(acc: float, first: float | None) -> float:
    """The share of the way from the first train accuracy (chance) to 1 covered by
    ``acc`` (``acc`` itself without a first one, ≤ 0 at or below chance)."""
    if first is None or not first < 1.0:
        return acc
    return (acc - first) / (1.0 - first)


def learnt_level(share: float, first: float | None) -> float:
    """The train accuracy ``share`` of the way from ``first`` (chance) to 1: the inverse of
    :func:`learnt` (``share`` itself without a first one)."""
    if first is None or not first < 1.0:
        return share
    return first + share * (1.0 - first)


def growing(rate: float, st: AnalyzerSettings) -> bool:
    """A norm's fitted ``rate`` (decay per τ; negative while it grows) is growth of at
    least ``weak_min_growth`` per τ (any growth, without one)."""
    return rate < 0 if st.weak_min_growth is None else rate <= -st.weak_min_growth


def best_mean(values: np.ndarray, evals: int) -> float:
    """The largest mean of ``evals`` consecutive ``values`` (all of them when fewer): the
    best accuracy a run held over that many evaluations, not its luckiest single one."""
    n = min(evals, values.shape[0])
    sums = np.cumsum(np.concatenate(([0.0], values.astype(np.float64))))
    return float((sums[n:] - sums[:-n]).max() / n)


def _first(mask: np.ndarray) -> int | None:
    if mask.shape[0] == 0:
        return None
    i = int(np.argmax(mask))
    return i if mask[i] else None


def fitted_mask(s: Series, settings: AnalyzerSettings) -> np.ndarray:
    """Rows at which the training set counts as fitted: absolutely (the median of the last
    ``fit_median_evals`` accuracies, else losses: :func:`confirmed`), relatively
    (:func:`flat_near_best`, and for accuracy :func:`held_for`), or because held-out
    accuracy reached ``done_val_acc`` (a run that generalises is past its fit)."""
    st = settings
    with np.errstate(invalid="ignore"):
        mask = s.val >= st.done_val_acc
    acc_rows = np.nonzero(np.isfinite(s.acc))[0]
    acc = s.acc[acc_rows]
    mask[acc_rows] |= confirmed(acc, st.fit_median_evals, st.fit_train_acc, True) | (
        flat_near_best(acc, st.fit_flat_evals, st.fit_flat_acc, st.fit_min_acc,
                       higher_is_better=True)
        & held_for(s.step[acc_rows], acc, st.fit_flat_acc, st.fit_flat_share))
    rows = np.nonzero(np.isnan(s.acc) & np.isfinite(s.loss))[0]
    if rows.shape[0]:
        loss = s.loss[rows]
        limit = st.fit_max_loss_ratio * loss[0]
        mask[rows] |= confirmed(loss, st.fit_median_evals, st.fit_train_loss, False) | (
            flat_near_best(
                loss, st.fit_flat_evals, st.fit_flat_loss, limit, higher_is_better=False))
    return mask


def confirmed(x: np.ndarray, k: int, level: float, higher_is_better: bool) -> np.ndarray:
    """Per evaluation: at ``level`` here (accuracy: at or above; loss: at or below), and so
    is the median of this and the next ``k`` − 1 evaluations (false while fewer follow):
    the absolute fit, dated at its first evaluation but known only ``k`` − 1 later, so one
    noisy row is no fit. Same test as :class:`FactTracker`'s candidates (the median as
    :func:`statistics.median` computes it)."""
    def at(v: np.ndarray) -> np.ndarray:
        return v >= level if higher_is_better else v <= level

    out = np.zeros(x.shape[0], dtype=bool)
    if x.shape[0] >= k:
        med = np.median(np.lib.stride_tricks.sliding_window_view(x, k), axis=1)
        out[:med.shape[0]] = at(x[:med.shape[0]]) & at(med)
    return out


@dataclass
class Candidate:
    """An evaluation at the absolute fit level awaiting the median of its ``k``
    evaluations (:func:`confirmed`), with the post-fit facts (:data:`AFTER_FIT`) counted
    from its step in ``facts``."""

    step: float
    values: list[float]
    accuracy: bool
    """Of train accuracy (at ≥ ``fit_train_acc``), else of the loss (≤ ``fit_train_loss``)."""
    facts: RunFacts = field(default_factory=RunFacts)


def count_after_fit(f: RunFacts, step: float, norm: float, head: float, drop: float,
                    transitioned: bool = False) -> None:
    """V_sc, the head's, and each flag with one more row at or after the fit; once
    ``transitioned`` (a row after the one held-out accuracy reached ``done_val_acc``) the
    peaks stay where they were — a norm that grows back is not the shortcut's — and only
    the flags still move."""
    if math.isfinite(norm):
        if f.sc_peak is None or (norm > f.sc_peak and not transitioned):
            f.sc_peak, f.sc_peak_step = norm, step
        if f.flag_step is None and norm <= (1.0 - drop) * f.sc_peak:
            f.flag_step = step
    if math.isfinite(head):
        if f.head_sc_peak is None or (head > f.head_sc_peak and not transitioned):
            f.head_sc_peak, f.head_sc_peak_step = head, step
        if f.head_flag_step is None and head <= (1.0 - drop) * f.head_sc_peak:
            f.head_flag_step = step


AFTER_FIT = ("sc_peak", "sc_peak_step", "head_sc_peak", "head_sc_peak_step", "flag_step",
             "head_flag_step")
"""The :class:`RunFacts` counted from the fit on (:func:`count_after_fit`)."""


def held_for(step: np.ndarray, x: np.ndarray, tol: float, share: float | None) -> np.ndarray:
    """Per evaluation: the best so far last *jumped* — rose more than ``tol`` above where
    it stood at its previous jump — at or before (1 − ``share``) × the step, i.e. it has
    held within ``tol`` over at least ``share`` of the steps so far (all true when
    ``share`` is ``None``). Same test as :class:`FactTracker`."""
    if share is None or x.shape[0] == 0:
        return np.ones(x.shape[0], dtype=bool)
    best = np.maximum.accumulate(x)
    moved = np.flatnonzero(np.concatenate(([True], best[1:] != best[:-1])))
    jumps, base = [], -math.inf
    for i in moved.tolist():  # only where the best moved: few rows
        if best[i] > base + tol:
            base = float(best[i])
            jumps.append(i)
    last = np.asarray(jumps)[np.searchsorted(jumps, np.arange(x.shape[0]), side="right") - 1]
    return step[last] <= (1.0 - share) * step


def flat_near_best(x: np.ndarray, k: int, tol: float, good: float,
                   higher_is_better: bool) -> np.ndarray:
    """Per evaluation: the last ``k`` values all lie near the best so far (accuracy:
    within ``tol`` of the highest; loss: at most (1 + ``tol``) × the lowest) and the
    latest is good enough (accuracy ≥ ``good``; loss ≤ ``good``). Same test as
    :meth:`FactTracker.add`."""
    out = np.zeros(x.shape[0], dtype=bool)
    if x.shape[0] < k:
        return out
    win = np.lib.stride_tricks.sliding_window_view(x, k)
    if higher_is_better:
        best = np.maximum.accumulate(x)[k - 1:]
        out[k - 1:] = (win.min(axis=1) >= best - tol) & (x[k - 1:] >= good)
    else:
        best = np.minimum.accumulate(x)[k - 1:]
        out[k - 1:] = (win.max(axis=1) <= best * (1.0 + tol)) & (x[k - 1:] <= good)
    return out


def _flag(step: np.ndarray, values: np.ndarray, ok: np.ndarray, peaks: np.ndarray,
          drop: float) -> float | None:
    """First row ``ok`` (finite, after the fit) where ``values`` is ``drop`` below its
    running peak over the rows ``peaks`` (after the fit — not since the start: an
    init-scale norm that shrinks during the fit is no flag — and up to the transition)."""
    runmax = np.maximum.accumulate(np.where(peaks, values, -np.inf))
    with np.errstate(invalid="ignore"):
        hit = ok & (values <= (1.0 - drop) * runmax)
    i = _first(hit)
    return None if i is None else float(step[i])


def peak_rate(step: np.ndarray, tau: np.ndarray) -> float:
    """The clock's largest rate dτ/dstep (η·λ·gain at the schedule's peak) between
    consecutive samples; NaN without two samples apart."""
    with np.errstate(over="ignore", invalid="ignore"):  # τ near ±1e308: an inf gap, skipped
        d_step = np.diff(np.asarray(step, dtype=np.float64))
        d_tau = np.diff(np.asarray(tau, dtype=np.float64))
    ok = (d_step > 0) & np.isfinite(d_tau)
    return float(np.max(d_tau[ok] / d_step[ok])) if ok.any() else math.nan


def facts_from_series(s: Series, settings: AnalyzerSettings) -> RunFacts:
    """The facts of a whole series, vectorised (same definitions as :class:`FactTracker`)."""
    f = RunFacts(n=len(s))
    if len(s) == 0:
        return f
    f.peak_rate = peak_rate(s.step, s.tau)
    finite = np.isfinite(s.norm)
    f.nonfinite = int((~finite).sum())
    if f.nonfinite:
        f.first_nonfinite_step = float(s.step[_first(~finite)])
    if finite.any():
        i0 = _first(finite)
        f.first_norm = float(s.norm[i0])
        masked = np.where(finite, s.norm, -np.inf)
        ip = int(np.argmax(masked))
        f.peak, f.peak_step, f.peak_tau = float(s.norm[ip]), float(s.step[ip]), float(s.tau[ip])
    hfinite = np.isfinite(s.head)
    if hfinite.any():
        ih = int(np.argmax(np.where(hfinite, s.head, -np.inf)))
        f.head_peak, f.head_peak_step = float(s.head[ih]), float(s.step[ih])
    loss_ok = np.isfinite(s.loss)
    if loss_ok.any():
        f.first_loss = float(s.loss[_first(loss_ok)])
    acc_ok = np.isfinite(s.acc)
    if acc_ok.any():
        f.first_acc = float(s.acc[_first(acc_ok)])
        f.best_acc = best_mean(s.acc[acc_ok], settings.train_acc_evals)
    f.has_train_metrics = bool(loss_ok.any() or acc_ok.any())
    fitted = fitted_mask(s, settings)
    ifit = _first(fitted)
    after = np.zeros(len(s), dtype=bool)
    if ifit is not None:
        f.fit_step = float(s.step[ifit])
        after[ifit:] = True
    elif not f.has_train_metrics:
        after[:] = True
    f.has_val = bool(np.isfinite(s.val).any())
    f.val_step = first_reached(s.step, s.val, settings.done_val_acc)
    upto = after if f.val_step is None else after & (s.step <= f.val_step)
    for values, attr, flag_attr in ((s.norm, "sc_peak", "flag_step"),
                                    (s.head, "head_sc_peak", "head_flag_step")):
        ok = after & np.isfinite(values)
        if not ok.any():
            continue
        peaks = ok & upto
        if not peaks.any():  # no finite row up to the transition: the first after it
            peaks[_first(ok)] = True
        i = int(np.argmax(np.where(peaks, values, -np.inf)))
        setattr(f, attr, float(values[i]))
        setattr(f, attr + "_step", float(s.step[i]))
        setattr(f, flag_attr, _flag(s.step, values, ok, peaks, settings.flag_drop))
    with np.errstate(invalid="ignore"):
        f.any_wd = bool((np.nan_to_num(s.wd) != 0).any())
        f.any_lr = bool((np.nan_to_num(s.lr) != 0).any())
    return f


class FactTracker:
    """:class:`RunFacts` maintained one row at a time (O(1) per row)."""

    def __init__(self, settings: AnalyzerSettings) -> None:
        self.settings = settings
        self.facts = RunFacts()
        k = settings.fit_flat_evals
        self._accs: deque[float] = deque(maxlen=k)
        self._losses: deque[float] = deque(maxlen=k)
        self._candidates: list[Candidate] = []  # absolute fits awaiting their median
        self._best_acc = -math.inf
        self._best_loss = math.inf
        self._acc_jump = (-math.inf, math.nan)  # (best, step) at the best's last jump
        self._first_fit_loss: float | None = None
        self._acc_sums: deque[float] = deque([0.0], maxlen=settings.train_acc_evals + 1)
        self._prev: tuple[float, float] | None = None  # (step, τ) of the last row

    def _held(self, step: float) -> bool:
        """The best accuracy's last jump came at or before (1 − ``fit_flat_share``) ×
        ``step``."""
        share = self.settings.fit_flat_share
        return share is None or self._acc_jump[1] <= (1.0 - share) * step

    def _candidate(self, step: float, value: float, accuracy: bool, ok: bool) -> None:
        """One more evaluation of train accuracy (else loss) for each candidate of it; a new
        candidate when ``ok`` (at the level) while unfitted."""
        for c in self._candidates:
            if c.accuracy == accuracy:
                c.values.append(value)
        if ok and self.facts.fit_step is None:
            self._candidates.append(Candidate(step, [value], accuracy))

    def _confirm(self) -> bool:
        """Adopt the first candidate whose ``fit_median_evals`` evaluations have a median at
        the level (:func:`confirmed`), dating the fit back to it (its post-fit facts
        included); drop the others that have all theirs, and any not before the fit.
        True when one was adopted."""
        st, f = self.settings, self.facts
        adopted = False
        for c in self._candidates:
            if len(c.values) == st.fit_median_evals and (f.fit_step is None
                                                          or c.step < f.fit_step):
                med = statistics.median(c.values)
                if med >= st.fit_train_acc if c.accuracy else med <= st.fit_train_loss:
                    f.fit_step = c.step
                    for name in AFTER_FIT:
                        setattr(f, name, getattr(c.facts, name))
                    adopted = True
                    break
        self._candidates = [c for c in self._candidates if len(c.values) < st.fit_median_evals
                            and (f.fit_step is None or c.step < f.fit_step)]
        return adopted

    def _fitted(self, step: float, acc: float, loss: float, val: float) -> bool:
        """This row says the training set is fitted at once: held-out accuracy, or the
        relative fit (the absolute fit waits for its median: :meth:`_confirm`; together
        the same test as :func:`fitted_mask`)."""
        return self._fitted_by_train(step, acc, loss) or val >= self.settings.done_val_acc

    def _fitted_by_train(self, step: float, acc: float, loss: float) -> bool:
        """The relative fit on this row's train accuracy (else loss), the row counted for
        the candidates of the absolute fit whatever held-out accuracy says."""
        st = self.settings
        if acc == acc:
            if not math.isfinite(acc):  # as the vectorised test: no accuracy, no loss row
                return False
            self._accs.append(acc)
            self._candidate(step, acc, True, acc >= st.fit_train_acc)
            if acc > self._best_acc:
                self._best_acc = acc
                if acc > self._acc_jump[0] + st.fit_flat_acc:  # as held_for
                    self._acc_jump = (acc, step)
            return (
                len(self._accs) == self._accs.maxlen and acc >= st.fit_min_acc
                and min(self._accs) >= self._best_acc - st.fit_flat_acc
                and self._held(step))
        if loss == loss and math.isfinite(loss):
            if self._first_fit_loss is None:
                self._first_fit_loss = loss
            self._losses.append(loss)
            self._candidate(step, loss, False, loss <= st.fit_train_loss)
            self._best_loss = min(self._best_loss, loss)
            return (
                len(self._losses) == self._losses.maxlen
                and loss <= st.fit_max_loss_ratio * self._first_fit_loss
                and max(self._losses) <= self._best_loss * (1.0 + st.fit_flat_loss))
        return False

    def _add_acc(self, acc: float) -> None:
        """``first_acc`` and ``best_acc`` with one more finite train accuracy, computed as
        :func:`best_mean` computes them (running sums, so both agree to the last bit): the
        mean of all while there are at most ``train_acc_evals``, then the best window."""
        f, sums = self.facts, self._acc_sums
        if f.first_acc is None:
            f.first_acc = acc
        filling = len(sums) < sums.maxlen  # at most train_acc_evals: the one window
        sums.append(sums[-1] + acc)
        mean = (sums[-1] - sums[0]) / (len(sums) - 1)
        if filling or mean > f.best_acc:
            f.best_acc = mean

    def add(self, row: tuple[float, ...]) -> None:
        """Account for one row of :data:`nht_monitor.analysis.series.COLUMNS`."""
        step, tau, lr, wd, norm, head, loss, acc, val = row
        f = self.facts
        st = self.settings
        f.n += 1
        if self._prev is not None and step > self._prev[0]:
            rate = (tau - self._prev[1]) / (step - self._prev[0])
            if math.isfinite(rate) and not rate <= f.peak_rate:  # NaN: none yet
                f.peak_rate = rate
        self._prev = (step, tau)
        if wd == wd and wd != 0:
            f.any_wd = True
        if lr == lr and lr != 0:
            f.any_lr = True
        if (loss == loss or acc == acc) and not f.has_train_metrics:
            f.has_train_metrics = True  # the facts after the fit now wait for it
            for name in AFTER_FIT:
                setattr(f, name, None)
        if loss == loss and f.first_loss is None and math.isfinite(loss):
            f.first_loss = loss
        if acc == acc and math.isfinite(acc):
            self._add_acc(acc)
        now = self._fitted(step, acc, loss, val)
        transitioned = f.val_step is not None  # before this row: its own row still counts
        for c in self._candidates:
            count_after_fit(c.facts, step, norm, head, st.flag_drop, transitioned)
        adopted = self._confirm()  # its facts count this row already
        if now and not adopted and f.fit_step is None:
            f.fit_step = step
            for name in AFTER_FIT:
                setattr(f, name, None)
        if not adopted and (f.fit_step is not None or not f.has_train_metrics):
            count_after_fit(f, step, norm, head, st.flag_drop, transitioned)
        if math.isfinite(norm):
            if f.first_norm is None:
                f.first_norm = norm
            if f.peak is None or norm > f.peak:
                f.peak, f.peak_step, f.peak_tau = norm, step, tau
        else:
            f.nonfinite += 1
            if f.first_nonfinite_step is None:
                f.first_nonfinite_step = step
        if math.isfinite(head) and (f.head_peak is None or head > f.head_peak):
            f.head_peak, f.head_peak_step = head, step
        if val == val:
            f.has_val = True
            if f.val_step is None and val >= st.done_val_acc:
                f.val_step = step
