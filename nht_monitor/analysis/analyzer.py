"""The :class:`Analyzer`: live (``observe``/``assess``/``update``) and offline (``analyze``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

import numpy as np

from nht_monitor.analysis.advice import advice_budget, advise, calibration_run_of, sizing_lr
from nht_monitor.analysis.facts import FactTracker, RunFacts, facts_from_series
from nht_monitor.analysis.forecast import ScheduleFn
from nht_monitor.analysis.lr_plan import planned_lr
from nht_monitor.analysis.rules import Context, evaluate
from nht_monitor.analysis.series import (
    History,
    Series,
    sample_row,
    series_from_columns,
    series_from_samples,
)
from nht_monitor.analysis.settings import AnalyzerSettings, config_budget
from nht_monitor.analysis.sweep import SweepReferences
from nht_monitor.analysis.assessment import Assessment
from nht_monitor.runlog.reader import RunColumns, read_columns
from nht_monitor.runlog.schema import RunHeader, Sample

log = logging.getLogger(__name__)


def header_budget(header: RunHeader | None) -> float | None:
    """The planned steps recorded in the header's config
    (:func:`~nht_monitor.analysis.settings.config_budget`)."""
    return config_budget(header.config) if header is not None else None


class Analyzer:
    """The rule engine over one run.

    ``header``: the run log header (run id; ``config["norm_clamp"]`` marks a clamped
    run). ``settings``: thresholds (:class:`AnalyzerSettings`). ``lr_schedule`` /
    ``wd_schedule``: optional future schedules ``step -> lr`` / ``step -> weight decay``
    used to turn a τ forecast into steps; by default the header's planned learning rate
    (``lr_plan``, :class:`~nht_monitor.analysis.lr_plan.PlannedLr`), else the current
    η·λ held constant.
    ``references``: runs of the same sweep whose transitions calibrate the law's prior
    (:class:`~nht_monitor.analysis.sweep.SweepReferences`; when a forecast used it, the
    reasons say which).

    Live: :meth:`observe` every sample (O(1) amortised: exact running facts plus a
    decimated history of at most ``settings.history_points`` rows that thins the rows
    carrying metrics among themselves and always holds the latest value of every metric,
    :class:`~nht_monitor.analysis.series.History`), :meth:`assess` when
    an assessment is wanted (cost bounded by the history size), :meth:`update` both.
    Offline: :meth:`analyze` on a whole log (vectorised). None of them raises on bad
    data: a failure inside the rules gives an ``undetermined`` assessment naming it.
    """

    def __init__(self, header: RunHeader | None = None, settings: AnalyzerSettings | None = None,
                 *, lr_schedule: ScheduleFn | None = None,
                 wd_schedule: ScheduleFn | None = None,
                 references: SweepReferences | None = None) -> None:
        if settings is not None and not isinstance(settings, AnalyzerSettings):
            raise TypeError(f"settings must be AnalyzerSettings, got {type(settings).__name__}")
        if lr_schedule is not None and not callable(lr_schedule):
            raise TypeError("lr_schedule must be a callable step -> learning rate")
        if wd_schedule is not None and not callable(wd_schedule):
            raise TypeError("wd_schedule must be a callable step -> weight decay")
        self.header = header
        self.settings = resolve_for_model(settings or AnalyzerSettings(), header)
        self.lr_schedule = lr_schedule or planned_lr(header)
        self.wd_schedule = wd_schedule
        self.references = references
        self._advise = None
        if self.settings.advice:
            self._advise = advise
        self.reset()

    def reset(self) -> None:
        """Forget every observed sample."""
        self._history = History(self.settings.history_points)
        self._tracker = FactTracker(self.settings)
        self._last_step: float | None = None
        self.latest: Assessment | None = None

    # ---------------------------------------------------------------- live
    def observe(self, sample: Sample) -> None:
        """Take one sample into account (cheap; never raises on bad values)."""
        try:
            row = sample_row(sample, self.settings)
        except Exception as exc:  # noqa: BLE001 - never break the training loop
            log.debug("analyzer: unusable sample skipped: %s", exc)
            return
        step = row[0]
        if self._last_step is not None and step <= self._last_step:
            self._rewind(step)
        self._last_step = step
        self._history.append(row)
        self._tracker.add(row)

    def _rewind(self, step: float) -> None:
        """A resumed run went back to ``step``: drop later rows and recompute the facts."""
        self._history.rewind(step)
        n = self._tracker.facts.n  # every sample observed, rewritten ones included
        self._tracker = FactTracker(self.settings)
        for row in self._history.series().rows():
            self._tracker.add(row)
        self._tracker.facts.n = n

    def assess(self, *, lr_schedule: ScheduleFn | None = None,
               wd_schedule: ScheduleFn | None = None) -> Assessment:
        """The assessment of everything observed so far (bounded cost)."""
        series = self._history.series()
        self.latest = self._run(series, self._tracker.facts, lr_schedule, wd_schedule)
        return self.latest

    def update(self, sample: Sample) -> Assessment:
        """:meth:`observe` then :meth:`assess`."""
        self.observe(sample)
        return self.assess()

    # ---------------------------------------------------------------- offline
    def analyze(self, samples: Iterable[Sample] | RunColumns | str | os.PathLike[str], *,
                until: int | None = None, lr_schedule: ScheduleFn | None = None,
                wd_schedule: ScheduleFn | None = None) -> Assessment:
        """Assessment of a whole log (fresh state; ``until``: only samples up to that step).

        ``samples``: the samples (e.g. ``read_run(path).samples``), a log read by
        :func:`~nht_monitor.runlog.reader.read_columns`, or the path of a log, read with
        ``read_columns`` (much faster on long logs: no object per sample; its header is
        used when this analyzer has none). Reading a path raises as ``read_columns``
        does (``FileNotFoundError``, :class:`~nht_monitor.runlog.RunLogError`).
        """
        if isinstance(samples, (str, os.PathLike)):
            samples = read_columns(samples)
            if self.header is None:
                self.header = samples.header
                self.lr_schedule = self.lr_schedule or planned_lr(self.header)
        try:
            if isinstance(samples, RunColumns):
                series = series_from_columns(samples, self.settings)
            else:
                series = series_from_samples(samples, self.settings)
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc)
        return self.analyze_series(series, until=until, lr_schedule=lr_schedule,
                                   wd_schedule=wd_schedule)

    def analyze_series(self, series: Series, *, until: int | None = None,
                       lr_schedule: ScheduleFn | None = None,
                       wd_schedule: ScheduleFn | None = None) -> Assessment:
        """:meth:`analyze` on column arrays already extracted (:class:`Series`)."""
        self.reset()
        if until is not None:
            series = series.until(until)
        facts = facts_from_series(series, self.settings)
        self.latest = self._run(series, facts, lr_schedule, wd_schedule)
        return self.latest

    # ---------------------------------------------------------------- common
    def _run(self, series: Series, facts: RunFacts, lr_schedule: ScheduleFn | None,
             wd_schedule: ScheduleFn | None) -> Assessment:
        ctx = Context(facts=facts, run_id=self.header.run_id if self.header else None,
                      config=dict(self.header.config) if self.header else {},
                      lr_schedule=lr_schedule or self.lr_schedule,
                      wd_schedule=wd_schedule or self.wd_schedule,
                      budget_steps=self.settings.budget_steps or header_budget(self.header))
        settings, calibration, read_references = self.settings, None, False
        if self.references is not None and len(series):
            try:
                calibration = self.references.calibration(
                    float(series.step[-1]), facts.peak_rate)
                read_references = True
            except Exception as exc:  # noqa: BLE001 - never raise into the training loop
                log.warning("analyzer: reference runs unusable: %r", exc)
            if calibration is not None:
                settings = calibration.apply(settings)
        try:
            with np.errstate(all="ignore"):
                assessment = evaluate(series, ctx, settings)
        except Exception as exc:  # noqa: BLE001 - never raise into the training loop
            log.warning("analyzer: rules failed: %r", exc)
            return self._failed(exc)
        if LAW_FINDINGS & set(assessment.findings):  # the law's delay was read
            if calibration is not None:
                assessment.reasons.append(calibration.describe())  # it shaped the forecast
            elif read_references:
                unused = self.references.describe_unused(float(series.step[-1]))
                if unused is not None:
                    assessment.reasons.append(unused)
        if self._advise is not None:
            try:
                done = assessment.transition.status == "done"
                lr = sizing_lr(series, facts.fit_step,
                               assessment.transition.forecast_step if done else None)
                own = (calibration_run_of(self.header, series, self.settings, facts)
                       if read_references and self.header is not None else None)
                sweep = (self.references.advice_calibration(float(series.step[-1]),
                                                            facts.fit_step, own)
                         if read_references else None)
                assessment.advice = self._advise(assessment,
                                                 advice_budget(self.settings, self.header),
                                                 sweep, lr=lr)
            except Exception as exc:  # noqa: BLE001
                log.debug("analyzer: advise failed: %r", exc)
        return assessment

    def _failed(self, exc: BaseException) -> Assessment:
        return Assessment(run_id=self.header.run_id if self.header else None,
                          n_samples=self._tracker.facts.n,
                          reasons=[f"analysis failed: {type(exc).__name__}: {exc}"])


LAW_FINDINGS = frozenset({"forecast", "too_late", "room_while_held", "room_after_fit",
                          "no_room_after_fit"})
"""The findings whose numbers come from the law's delay prior: with references, the line
saying how they calibrated it (:meth:`~nht_monitor.analysis.sweep.SweepCalibration.describe`)
joins the reasons."""


AUTO_WITHOUT_NORMALIZATION: tuple[str, ...] = ("budget_law_floor", "annealing_step_trend")
"""The settings whose ``"auto"`` means on for a model the header records without
normalization layers, off otherwise (:func:`resolve_for_model`)."""


def resolve_for_model(settings: AnalyzerSettings, header: RunHeader | None) -> AnalyzerSettings:
    """``settings`` as they apply to the header's model: the :data:`AUTO_WITHOUT_NORMALIZATION`
    settings left ``"auto"`` on when it records a model without normalization layers, else
    off (unrecorded: off);
    ``heldout_interval_scale`` replaced by ``heldout_interval_scale_normalized`` (when
    set) for a model with some."""
    norms = header.model.normalization if header is not None else None
    update: dict[str, object] = {key: norms == [] for key in AUTO_WITHOUT_NORMALIZATION
                                 if getattr(settings, key) == "auto"}
    if norms and settings.heldout_interval_scale_normalized is not None:
        update["heldout_interval_scale"] = settings.heldout_interval_scale_normalized
    return settings.model_copy(update=update) if update else settings
