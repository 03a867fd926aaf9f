"""Exact whole-run facts (peaks, fit step, flags) — vectorised offline, O(1) per sample live.

The live analyzer keeps only a decimated history, so anything whose exact value matters
(the peak norm, the step the fit was reached, the step each signal flagged the
transition, non-finite counts) is tracked here sample by sample, with the same
definitions as the vectorised computation on a whole log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nht_monitor.analysis.series import Series
from nht_monitor.analysis.settings import AnalyzerSettings


@dataclass
class RunFacts:
    """Whole-run facts; ``None`` where not reached yet.

    ``fit_step``: first step the training set counted as fitted. ``peak``/``peak_step``/
    ``peak_tau``: largest finite total norm so far and where. ``head_peak``/``head_peak_step``
    likewise for the head norm. ``flag_step``/``head_flag_step``: first step after the fit
    at which the signal was ``flag_drop`` below its running peak. ``val_step``: first step
    held-out accuracy reached ``done_val_acc``. ``first_norm``: first finite norm.
    ``first_loss``: first finite training loss. ``sc_peak``/``sc_peak_step``: largest
    finite total norm at or after the fit (the shortcut norm V_sc; the overall peak when
    no training metrics are logged); ``head_sc_peak``/``head_sc_peak_step`` likewise. ``nonfinite``/``first_nonfinite_step``:
    count and first step of non-finite total norms. ``n``: samples observed.
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
    nonfinite: int = 0
    first_nonfinite_step: float | None = None
    any_wd: bool = False
    any_lr: bool = False
    has_train_metrics: bool = False
    has_val: bool = False


def _first(mask: np.ndarray) -> int | None:
    if mask.shape[0] == 0:
        return None
    i = int(np.argmax(mask))
    return i if mask[i] else None


def fitted_mask(s: Series, settings: AnalyzerSettings) -> np.ndarray:
    """Rows at which the training set counts as fitted (accuracy, else loss)."""
    with np.errstate(invalid="ignore"):
        by_acc = s.acc >= settings.fit_train_acc
        by_loss = np.isnan(s.acc) & (s.loss <= settings.fit_train_loss)
    return by_acc | by_loss


def _flag(step: np.ndarray, values: np.ndarray, after: np.ndarray, drop: float) -> float | None:
    finite = np.isfinite(values)
    if not finite.any():
        return None
    v = np.where(finite, values, -np.inf)
    runmax = np.maximum.accumulate(v)
    with np.errstate(invalid="ignore"):
        hit = after & finite & (values <= (1.0 - drop) * runmax)
    i = _first(hit)
    return None if i is None else float(step[i])


def facts_from_series(s: Series, settings: AnalyzerSettings) -> RunFacts:
    """The facts of a whole series, vectorised (same definitions as :class:`FactTracker`)."""
    f = RunFacts(n=len(s))
    if len(s) == 0:
        return f
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
    f.has_train_metrics = bool(loss_ok.any() or np.isfinite(s.acc).any())
    fitted = fitted_mask(s, settings)
    ifit = _first(fitted)
    after = np.zeros(len(s), dtype=bool)
    if ifit is not None:
        f.fit_step = float(s.step[ifit])
        after[ifit:] = True
    elif not f.has_train_metrics:
        after[:] = True
    for values, attr in ((s.norm, "sc_peak"), (s.head, "head_sc_peak")):
        ok = after & np.isfinite(values)
        if ok.any():
            i = int(np.argmax(np.where(ok, values, -np.inf)))
            setattr(f, attr, float(values[i]))
            setattr(f, attr + "_step", float(s.step[i]))
    f.flag_step = _flag(s.step, s.norm, after, settings.flag_drop)
    f.head_flag_step = _flag(s.step, s.head, after, settings.flag_drop)
    val_ok = np.isfinite(s.val)
    f.has_val = bool(val_ok.any())
    if f.has_val:
        with np.errstate(invalid="ignore"):
            iv = _first(s.val >= settings.done_val_acc)
        if iv is not None:
            f.val_step = float(s.step[iv])
    with np.errstate(invalid="ignore"):
        f.any_wd = bool((np.nan_to_num(s.wd) != 0).any())
        f.any_lr = bool((np.nan_to_num(s.lr) != 0).any())
    return f


class FactTracker:
    """:class:`RunFacts` maintained one row at a time (O(1) per row)."""

    def __init__(self, settings: AnalyzerSettings) -> None:
        self.settings = settings
        self.facts = RunFacts()
        self._runmax = -math.inf
        self._head_runmax = -math.inf

    def reset(self, facts: RunFacts, runmax: float, head_runmax: float) -> None:
        """Restart from ``facts`` (after a rewind recomputed them)."""
        self.facts = facts
        self._runmax = runmax
        self._head_runmax = head_runmax

    def add(self, row: tuple[float, ...]) -> None:
        """Account for one row of :data:`nht_monitor.analysis.series.COLUMNS`."""
        step, tau, lr, wd, norm, head, loss, acc, val = row
        f = self.facts
        st = self.settings
        f.n += 1
        if wd == wd and wd != 0:
            f.any_wd = True
        if lr == lr and lr != 0:
            f.any_lr = True
        if loss == loss:
            if f.first_loss is None and math.isfinite(loss):
                f.first_loss = loss
            f.has_train_metrics = True
        if acc == acc:
            f.has_train_metrics = True
        if f.fit_step is None and ((acc >= st.fit_train_acc) or (acc != acc and loss <= st.fit_train_loss)):
            f.fit_step = step
            f.sc_peak = f.sc_peak_step = f.head_sc_peak = f.head_sc_peak_step = None
        after = f.fit_step is not None or not f.has_train_metrics
        if math.isfinite(norm):
            if f.first_norm is None:
                f.first_norm = norm
            if norm > self._runmax:
                self._runmax = norm
                f.peak, f.peak_step, f.peak_tau = norm, step, tau
            if after and f.flag_step is None and norm <= (1.0 - st.flag_drop) * self._runmax:
                f.flag_step = step
            if after and (f.sc_peak is None or norm > f.sc_peak):
                f.sc_peak, f.sc_peak_step = norm, step
        else:
            f.nonfinite += 1
            if f.first_nonfinite_step is None:
                f.first_nonfinite_step = step
        if math.isfinite(head):
            if head > self._head_runmax:
                self._head_runmax = head
                f.head_peak, f.head_peak_step = head, step
            if after and f.head_flag_step is None and head <= (1.0 - st.flag_drop) * self._head_runmax:
                f.head_flag_step = step
            if after and (f.head_sc_peak is None or head > f.head_sc_peak):
                f.head_sc_peak, f.head_sc_peak_step = head, step
        if val == val:
            f.has_val = True
            if f.val_step is None and val >= st.done_val_acc:
                f.val_step = step
