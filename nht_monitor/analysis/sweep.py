"""Sweep-aware calibration: runs of the same task that have already transitioned set the
law's delay prior for the others.

On the τ clock (τ = Σ η·λ) the law's delay from V_sc to the transition, Δτ = log(V_sc /
V_st), does not depend on η or λ, so every transitioned run of a sweep measures the same
quantity. It holds on the MLP families of ``benchmarks/families.py`` (log Δτ against log
ηλ: slopes −0.07 to 0.11) but not on the transformers (−0.3 to −0.6: the delay in τ grows
as λ falls), so :func:`calibrate` fits log Δτ as a line in log ηλ (the clock's peak rate)
across the references, the slope held near the law's 0 by a normal prior of sd
``sweep_slope_sd`` and the intercept — the run's own log Δτ — by the cross-task prior
(median ``AnalyzerSettings.delay_tau``, sd ``delay_log_sd``); each reference scatters
around the line with ``sweep_log_sd``. The forecast then uses the predictive belief at
the run's own rate; the rest of the engine is unchanged. References are read up to the
same step as the run (``until``), so a replay sees only what was known then.
"""

from __future__ import annotations

import copy
import glob
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

from typing import NamedTuple

import numpy as np

from nht_monitor.analysis.advice import Calibration, CalibrationRun, calibration_run_of
from nht_monitor.analysis.advice import calibrate as calibrate_runs
from nht_monitor.analysis.facts import facts_from_series, peak_rate
from nht_monitor.analysis.series import Series, series_from_columns
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.transition import first_reached
from nht_monitor.runlog.reader import read_columns

log = logging.getLogger(__name__)

_NORMAL = NormalDist()

_MAX_EM_STEPS = 100
"""At most this many reweighting steps with Student's t references (``sweep_reference_dof``)."""

MAX_REFERENCES = 256
"""At most this many reference logs are read (the first in sorted order)."""

FAR_REFERENCES = 4.0
"""References all this many times or more away from the run's clock rate ηλ (either side)
are said to be extrapolated from (:meth:`SweepCalibration.describe`): a public sparse-parity
run at λ 0.003 calibrated on one at λ 0.02 was forecast sooner than the law's prior and
never transitioned; a family's transformer at λ 0.1 calibrated on two seeds at λ 2 read
`intermediate` where its prior read `weak` (the delay in τ grows as λ falls there)."""

UNFITTED_AFTER = 2.0
"""A reference not fitted after this many times the run's own fit step counts for the
advice as not fitting (the strong side): sooner, it may still be learning."""


@dataclass(frozen=True)
class ObservedDelay:
    """A transitioned run's law delay: ``delay_tau`` = τ(transition) − τ(V_sc), with the
    steps of the transition and of V_sc, and ``ratio`` = V_sc / the norm at the
    transition (V_st)."""

    delay_tau: float
    transition_step: float
    v_sc_step: float
    ratio: float
    rate: float = math.nan


def observed_delay(series: Series, settings: AnalyzerSettings) -> ObservedDelay | None:
    """The law delay of a run that has transitioned: τ from V_sc — the largest total norm
    at or after the fit and *before* the transition (a norm that grows back afterwards is
    not the shortcut's) — to the first evaluation with held-out accuracy ≥
    ``done_val_acc``; ``None`` when the run has not transitioned, or its norm had not come
    down by ``decay_min_drop`` from V_sc by then (no law delay to measure).
    Nothing after the transition matters, so a log cut anywhere after it gives the same."""
    if not len(series) or not np.isfinite(series.val).any():
        return None
    step = first_reached(series.step, series.val, settings.done_val_acc)
    if step is None:
        return None
    j = int(np.searchsorted(series.step, step))
    facts = facts_from_series(series.before(step), settings)
    if facts.sc_peak_step is None:
        return None
    k = min(int(np.searchsorted(series.step, facts.sc_peak_step)), j)
    d = float(series.tau[j] - series.tau[k])
    v_sc, v_st = float(series.norm[k]), float(series.norm[j])
    if not (math.isfinite(d) and d > 0 and v_st <= (1.0 - settings.decay_min_drop) * v_sc):
        return None
    rate = peak_rate(series.step[:j + 1], series.tau[:j + 1])
    return ObservedDelay(d, float(step), float(facts.sc_peak_step), v_sc / v_st, rate)


@dataclass(frozen=True)
class Reference:
    """A transitioned run of the sweep: its id, Δτ from V_sc, transition step,
    V_sc / V_st and the clock's peak rate (:func:`peak_rate`)."""

    run_id: str
    delay_tau: float
    transition_step: float
    ratio: float = math.nan
    rate: float = math.nan


class _Read(NamedTuple):
    """One reference file as last read: its (size, mtime), run id (``None``: another
    sweep's), :class:`Reference` (``None`` until it transitioned with a law delay) and the
    advice's :class:`CalibrationRun`."""

    key: tuple[int, int]
    run_id: str | None = None
    reference: Reference | None = None
    run: CalibrationRun | None = None


@dataclass(frozen=True)
class SweepCalibration:
    """The law's delay belief fitted on ``references``: ``delay_tau`` (median) and
    ``delay_log_sd`` (sd of log Δτ) for the run being forecast; ``slope``: the fitted
    d log Δτ / d log ηλ (``None``: the references' rates were not used); ``scatter``:
    the sweep's scatter of log Δτ around its line (``None``: the fixed prior's);
    ``nearest``: the ηλ of the reference nearest the run's (in log) over the run's
    (``None``: a rate unknown)."""

    references: tuple[Reference, ...]
    delay_tau: float
    delay_log_sd: float
    structured_ratio: float | None = None
    slope: float | None = None
    scatter: float | None = None
    nearest: float | None = None

    def apply(self, settings: AnalyzerSettings) -> AnalyzerSettings:
        """``settings`` with the law's prior replaced by this calibration; the held-out
        trend's log-sd (``heldout_log_sd``) scales with the law's, so the trend keeps the
        weight it has against the uncalibrated prior (:func:`~nht_monitor.analysis.
        forecast.trend_weight`)."""
        trend_sd = settings.heldout_log_sd or settings.delay_log_sd
        update = {"delay_tau": self.delay_tau, "delay_log_sd": self.delay_log_sd,
                  "heldout_log_sd": trend_sd * self.delay_log_sd / settings.delay_log_sd}
        if self.structured_ratio is not None:
            update["structured_ratio"] = self.structured_ratio
        return settings.model_copy(update=update)

    def describe(self) -> str:
        """One line for the assessment's ``reasons``."""
        shown = ", ".join(f"{r.run_id} Δτ {r.delay_tau:.2f}" for r in self.references[:5])
        more = f" and {len(self.references) - 5} more" if len(self.references) > 5 else ""
        return (f"forecast calibrated on {len(self.references)} transitioned reference "
                f"run{'s' if len(self.references) != 1 else ''} ({shown}{more}): "
                f"law delay Δτ {self.delay_tau:.2f} from V_sc, log-sd {self.delay_log_sd:.2f}"
                + ("" if self.slope is None else
                   f" at this run's ηλ (trend d log Δτ / d log ηλ {self.slope:+.2f})")
                + ("" if self.scatter is None else
                   f"; the sweep's scatter {self.scatter:.2f} in log Δτ")
                + self._far())

    def _far(self) -> str:
        """The warning when even the nearest reference is :data:`FAR_REFERENCES` away."""
        x = self.nearest
        if x is None or max(x, 1.0 / x) < FAR_REFERENCES:
            return ""
        where = f"{x:.3g}×" if x > 1 else f"1/{1.0 / x:.3g} of"
        return (f"; the nearest reference ran at {where} this run's ηλ: extrapolated that "
                "far (on transformers the delay in τ grows as λ falls)")


def calibrate(references: Sequence[Reference], settings: AnalyzerSettings,
              rate: float | None = None) -> SweepCalibration | None:
    """The predictive belief about this run's log Δτ; ``None`` without references or
    without a law prior (``delay_tau=None``).

    A Bayesian line log Δτ = a + b·log(rate_ref / rate) through the references (scatter
    ``sweep_log_sd``): ``a`` is this run's mean log Δτ, prior median ``delay_tau`` and sd
    ``delay_log_sd``; ``b`` has prior 0 (the law) and sd ``sweep_slope_sd``. Without
    this run's ``rate``, without references at two different finite rates or with
    ``sweep_slope_sd`` 0 the line is flat: the prior on the sweep's mean updated by each
    reference (a slope from its prior alone only pulled the mean back to the cross-task
    prior: worse on the families). The predictive sd adds the scatter."""
    if not references or settings.delay_tau is None:
        return None
    y = np.log([r.delay_tau for r in references])
    x = np.zeros_like(y)
    rates = np.array([r.rate for r in references], dtype=np.float64)
    sloped = bool(settings.sweep_slope_sd > 0 and rate is not None and math.isfinite(rate)
                  and rate > 0 and (np.isfinite(rates) & (rates > 0)).all()
                  and np.ptp(np.log(rates)) > 0)
    if sloped:
        x = np.log(rates / rate)
    design = np.column_stack([np.ones_like(y), x])
    prior_mean = np.array([math.log(settings.delay_tau), 0.0])
    prior_precision = np.diag([settings.delay_log_sd ** -2,  # flat: x = 0, b is inert
                               settings.sweep_slope_sd ** -2 if sloped else 1.0])
    scatter, dof = settings.sweep_log_sd, math.inf
    nu = settings.sweep_reference_dof
    weights, last = np.ones_like(y), None
    # the line at the prior scatter, then at the sweep's own; with Student's t references,
    # EM (iteratively reweighted) until the line settles
    for _ in range(2 if nu is None else _MAX_EM_STEPS):
        noise = weights * scatter ** -2
        cov = np.linalg.inv(prior_precision + design.T @ (noise[:, None] * design))
        mean = cov @ (prior_precision @ prior_mean + design.T @ (noise * y))
        residuals = y - design @ mean
        if last is not None and np.abs(mean - last).max() < 1e-9:
            break
        last = mean
        if settings.sweep_scatter_dof is None and nu is None:
            break
        if settings.sweep_scatter_dof is not None:
            scatter, dof = sweep_scatter(residuals * np.sqrt(weights), settings.sweep_log_sd,
                                         settings.sweep_scatter_dof)
        if nu is not None:
            weights = (nu + 1.0) / (nu + (residuals / scatter) ** 2)
    sd = math.sqrt(cov[0, 0] + scatter ** 2) * student_factor(dof)
    ratios = [math.log(r.ratio) for r in references if r.ratio > 1.0]
    ratio = math.exp(sum(ratios) / len(ratios)) if ratios else None
    known = rates[np.isfinite(rates) & (rates > 0)]
    nearest = None
    if rate is not None and math.isfinite(rate) and rate > 0 and known.shape[0]:
        logs = np.log(known / rate)
        nearest = math.exp(float(logs[np.argmin(np.abs(logs))]))
    return SweepCalibration(tuple(references), math.exp(float(mean[0])), sd, ratio,
                            float(mean[1]) if sloped else None,
                            None if settings.sweep_scatter_dof is None else scatter, nearest)


def sweep_scatter(residuals: np.ndarray, prior_sd: float, prior_dof: float
                  ) -> tuple[float, float]:
    """``(sd, dof)``: the sweep's scatter of log Δτ around its line, the prior ``prior_sd``
    worth ``prior_dof`` observations pooled with the references' ``residuals`` (one
    degree of freedom spent on the line's level) — a scaled inverse-χ² posterior's
    estimate and degrees of freedom."""
    n = int(residuals.shape[0])
    dof = prior_dof + max(n - 1, 0)
    return math.sqrt((prior_dof * prior_sd ** 2 + float(residuals @ residuals)) / dof), dof


def student_factor(dof: float, q: float = 0.9) -> float:
    """Student's t over the normal at quantile ``q`` with ``dof`` degrees of freedom (1
    for infinite): the widening of an interval whose scale was estimated."""
    if not math.isfinite(dof):
        return 1.0
    from scipy.special import stdtrit  # only with references: scipy is slow to import

    return float(stdtrit(dof, q)) / _NORMAL.inv_cdf(q)


def reference_paths(patterns: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files named by ``patterns`` (paths or glob patterns, ``~`` expanded), sorted,
    without duplicates, at most :data:`MAX_REFERENCES`."""
    found: set[Path] = set()
    for pattern in patterns:
        text = os.path.expanduser(os.fspath(pattern))
        matches = glob.glob(text) if glob.has_magic(text) else [text]
        found.update(Path(m) for m in matches)
    return sorted(found)[:MAX_REFERENCES]


class SweepReferences:
    """The reference runs of one run, read from ``patterns`` (paths or globs) and leaving
    out ``exclude_run_id`` (the run itself), the file ``exclude_path`` (its own log, never
    read: a live run's is still empty when its sweep is first looked at) and, with
    ``sweep``, runs of another sweep. An empty file (a run just starting) is passed over
    until it has a header.

    ``replay=True`` (backtest, ``analyze --until``): :meth:`calibration` counts a reference
    only once its transition step is at or before the step it is asked about (what was
    known then: Δτ depends on nothing after the transition). ``replay=False`` (live): as
    the files are now, looked at again at most every ``refresh`` seconds. A file is read
    again only while it has not transitioned and when its size or mtime changed; an
    unreadable one is skipped with one WARNING. :meth:`for_run` gives another run of the
    same sweep a view sharing the files read (the sidecar: one read per file, not one per
    run). ``accept(path)``: whether a file may be read at all (the sidecar's symlink policy).
    """

    def __init__(self, patterns: Iterable[str | os.PathLike[str]], settings: AnalyzerSettings,
                 *, exclude_run_id: str | None = None,
                 exclude_path: str | os.PathLike[str] | None = None, sweep: str | None = None,
                 replay: bool = False, refresh: float | None = None,
                 accept: Callable[[Path], bool] | None = None) -> None:
        if settings.sweep_scatter_dof is not None:  # scipy's import (≈ 0.3 s) at
            import scipy.special  # noqa: F401 - construction, not in a loop's assess()
        self.patterns = [os.fspath(p) for p in patterns]
        self.accept = accept
        self.settings = settings
        self.exclude_run_id = exclude_run_id
        self.exclude_path = None if exclude_path is None else Path(exclude_path).resolve()
        self.sweep = sweep
        self.replay = replay
        self.refresh = settings.reference_refresh if refresh is None else refresh
        self._found: dict[Path, _Read] = {}
        self._warned: set[Path] = set()
        self._looked_at: list[float] = []  # shared by the views: when the files were read
        self.last: SweepCalibration | None = None
        """The calibration :meth:`calibration` returned last."""

    def for_run(self, run_id: str | None) -> SweepReferences:
        """A view for run ``run_id`` (left out of its own references) sharing this one's
        files, cache and refresh clock."""
        view = copy.copy(self)
        view.exclude_run_id = run_id
        view.last = None
        return view

    def calibration(self, step: float | None = None, rate: float | None = None
                    ) -> SweepCalibration | None:
        """The belief :func:`calibrate` gives from the references that had transitioned by
        ``step`` (replay) or by now (live), at this run's clock ``rate``; ``None`` without
        any."""
        now = time.monotonic()
        if self.replay or not self._looked_at or now - self._looked_at[0] >= self.refresh:
            self._looked_at[:] = [now]
            self._load()
        refs = [ref for read in self._found.values() if (ref := read.reference) is not None
                and ref.run_id != self.exclude_run_id
                and (not self.replay or step is None or ref.transition_step <= step)]
        self.last = calibrate(refs, self.settings, rate)
        return self.last

    def advice_calibration(self, step: float | None = None, fit_step: float | None = None,
                           own: CalibrationRun | None = None) -> Calibration | None:
        """The advice's :class:`~nht_monitor.analysis.advice.Calibration` (λ sized for a
        fresh run) from the references read (other sweeps' left out), each as it stood at
        ``step`` in a replay, with the run itself as ``own`` once it has fitted (as the
        offline ``advise`` counts it: the strong side is a λ that did not fit above one
        that did); a reference whose training set is not fitted counts only once it has
        run :data:`UNFITTED_AFTER` × this run's ``fit_step`` (before that it may still be
        learning, not on the strong side); ``None`` without any reference."""
        if own is not None and not own.fitted:
            own = None  # still learning: no side of anything
        runs = [] if own is None else [own]
        for read in self._found.values():
            run = read.run
            if run is None or read.run_id == self.exclude_run_id:
                continue
            if self.replay and step is not None:
                run = _as_at(run, step)
            if not run.fitted and (fit_step is None or run.steps < UNFITTED_AFTER * fit_step):
                continue
            runs.append(run)
        return calibrate_runs(runs) if len(runs) > (own is not None) else None

    def describe_unused(self, step: float) -> str | None:
        """One line for ``reasons`` when :meth:`calibration` gave nothing although runs
        were read: none of them had transitioned (by ``step``, in a replay), or those that
        had showed no law delay (:func:`observed_delay`); ``None`` when none was read or
        the settings have no law prior to calibrate."""
        runs = [found.run for found in self._found.values()
                if found.run_id not in (None, self.exclude_run_id)]
        if not runs or self.settings.delay_tau is None:
            return None
        when = f"by step {step:.0f}" if self.replay else "yet"
        read = f"{len(runs)} reference run{'s' if len(runs) != 1 else ''} read"
        done = sum(1 for r in runs if r is not None and r.transition_step is not None
                   and (not self.replay or r.transition_step <= step))
        if not done:
            return f"{read}, none transitioned {when}: the forecast keeps the law's prior"
        return (f"{read}, {done} transitioned {when} but none with a law delay to measure "
                "(its norm not yet down from V_sc when held-out accuracy got there): the "
                "forecast keeps the law's prior")

    def _load(self) -> None:
        paths = [p for p in reference_paths(self.patterns)
                 if (self.accept is None or self.accept(p)) and not self._own(p)]
        for path in set(self._found) - set(paths):
            del self._found[path]
        for path in paths:
            known = self._found.get(path)
            if known is not None and known.reference is not None:
                continue  # transitioned: nothing later changes its delay
            try:
                st = path.stat()
                key = (st.st_size, st.st_mtime_ns)
                if (known is not None and known.key == key) or st.st_size == 0:
                    continue
                columns = read_columns(path)
            except (OSError, ValueError) as exc:
                self._found.pop(path, None)
                if path not in self._warned:
                    self._warned.add(path)
                    log.warning("nht-monitor: reference %s skipped: %s", path, exc)
                continue
            header = columns.header
            if self.sweep is not None and getattr(header, "sweep", None) != self.sweep:
                self._found[path] = _Read(key)
                continue
            series = series_from_columns(columns, self.settings)
            found = observed_delay(series, self.settings)
            reference = None if found is None else Reference(
                header.run_id, found.delay_tau, found.transition_step, found.ratio, found.rate)
            self._found[path] = _Read(key, header.run_id, reference,
                                      calibration_run_of(header, series, self.settings))

    def _own(self, path: Path) -> bool:
        return self.exclude_path is not None and path.resolve() == self.exclude_path


def run_references(settings: AnalyzerSettings, run_id: str | None,
                   log_path: str | os.PathLike[str], sweep: str | None, *,
                   replay: bool = False) -> SweepReferences | None:
    """The references a run reads live: ``settings.reference_runs`` when given, else, in a
    ``sweep``, the other logs beside its own at ``log_path`` whose header names that sweep
    (``watch(sweep=...)``); never its own log. ``None``: neither. ``replay``: as
    :class:`SweepReferences`."""
    if settings.reference_runs:
        return SweepReferences(settings.reference_runs, settings, exclude_run_id=run_id,
                               exclude_path=log_path, replay=replay)
    if sweep is not None:
        pattern = os.path.join(glob.escape(os.fspath(Path(log_path).parent)), "*.jsonl")
        return SweepReferences([pattern], settings, exclude_run_id=run_id,
                               exclude_path=log_path, sweep=sweep, replay=replay)
    return None


def _as_at(run: CalibrationRun, step: float) -> CalibrationRun:
    """``run`` as it stood at ``step``: its steps, fit and transition up to there."""
    return run.model_copy(update={
        "steps": min(run.steps, step),
        "fit_step": run.fit_step if run.fit_step is not None and run.fit_step <= step else None,
        "transition_step": (run.transition_step if run.transition_step is not None
                            and run.transition_step <= step else None)})


__all__ = ["FAR_REFERENCES", "MAX_REFERENCES", "UNFITTED_AFTER", "ObservedDelay", "Reference",
           "SweepCalibration", "SweepReferences", "calibrate", "observed_delay", "peak_rate",
           "reference_paths", "run_references", "student_factor", "sweep_scatter"]
