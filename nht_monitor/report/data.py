"""What a report shows of one run: its log, its assessment and its regime history."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nht_monitor.analysis import Analyzer
from nht_monitor.analysis.assess import assess_log, log_settings
from nht_monitor.analysis.assessment import Assessment
from nht_monitor.analysis.sweep import run_references
from nht_monitor.runlog import RunLog, read_run

logger = logging.getLogger(__name__)

MAX_REPLAYED_ASSESSMENTS = 60
"""When a log holds too few live assessments (:data:`MIN_LIVE_ASSESSMENTS`), the regime
history is rebuilt from at most this many offline assessments spread over the run."""

MIN_LIVE_ASSESSMENTS = 20
"""Fewer live assessments than this draw no regime history of their own: a short run
assessed every few seconds leaves a handful (a public 16-s run: 4, its bands
"undetermined" up to step 4,100 where a replay says `intermediate` from step 336)."""


@dataclass
class RegimeSpan:
    """Steps ``[start, end]`` during which the assessed regime was ``regime``."""

    regime: str
    start: float
    end: float


@dataclass
class ReportRun:
    """One run as the report draws it."""

    log: RunLog
    assessment: Assessment
    assessment_source: str  # "offline analysis" | "last live assessment" | "none"
    history: list[RegimeSpan] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.log.header.run_id

    @property
    def samples(self) -> list[Any]:
        return self.log.samples

    @property
    def weight_decay(self) -> float | None:
        """λ of the run (last sample), for colouring sweeps."""
        return self.samples[-1].weight_decay if self.samples else None

    @property
    def lr(self) -> float | None:
        return self.samples[-1].lr if self.samples else None


def _last_logged(log: RunLog) -> Assessment | None:
    for sample in reversed(log.samples):
        if sample.assessment:
            try:
                return Assessment.model_validate(sample.assessment)
            except ValueError:
                logger.warning("%s: unreadable assessment at step %d", log.path, sample.step)
    return None


def assess(log: RunLog) -> tuple[Assessment, str]:
    """The run's assessment: offline analysis of the whole log
    (:func:`~nht_monitor.analysis.assess.assess_log`; malformed recorded settings give
    way to the defaults) with the references the run read live (the other logs of its
    sweep beside it: a public sweep's report forecast 15,532 where its live run said
    16,773), else the last live one."""
    if log.samples:
        try:
            return assess_log(log, lenient=True, as_live=True), "offline analysis"
        except Exception as exc:  # a report is still useful with the logged verdict
            logger.warning("%s: offline analysis failed (%s); using the logged assessment",
                           log.path, exc)
    logged = _last_logged(log)
    if logged is not None:
        return logged, "last live assessment"
    return Assessment(run_id=log.header.run_id, n_samples=len(log.samples)), "none"


def _spans(points: list[tuple[float, str]], last_step: float) -> list[RegimeSpan]:
    spans: list[RegimeSpan] = []
    for step, regime in points:
        if spans and spans[-1].regime == regime:
            continue
        if spans:
            spans[-1].end = step
        spans.append(RegimeSpan(regime, step, step))
    if spans:
        spans[-1].end = last_step
    return spans


def regime_history(log: RunLog) -> list[RegimeSpan]:
    """Regime over the run: from the live assessments in the log, else (fewer than
    :data:`MIN_LIVE_ASSESSMENTS`) replayed offline."""
    if not log.samples:
        return []
    first, last = float(log.samples[0].step), float(log.samples[-1].step)
    points = [(float(s.step), str(s.assessment.get("regime", "undetermined")))
              for s in log.samples if s.assessment]
    if len(points) < MIN_LIVE_ASSESSMENTS:
        points = _replay(log) or points
    if points and points[0][0] > first:
        points.insert(0, (first, "undetermined"))
    return _spans(points, last)


def _replay(log: RunLog) -> list[tuple[float, str]]:
    """The regime at most :data:`MAX_REPLAYED_ASSESSMENTS` times over the run, replayed with
    the references the run read live, each as it stood then (as :func:`assess` reads
    them); ``[]`` (a warning logged) when the log cannot be replayed."""
    try:
        settings = log_settings(log.header, {"advice": False}, lenient=True)
        references = run_references(settings, log.header.run_id, log.path, log.header.sweep,
                                    replay=True)
        analyzer = Analyzer(log.header, settings, references=references)
    except Exception as exc:
        logger.warning("%s: cannot replay the regime history (%s)", log.path, exc)
        return []
    every = max(1, math.ceil(len(log.samples) / MAX_REPLAYED_ASSESSMENTS))
    points = []
    try:
        for index, sample in enumerate(log.samples, start=1):
            analyzer.observe(sample)
            if index % every == 0 or index == len(log.samples):
                points.append((float(sample.step), analyzer.assess().regime))
    except Exception as exc:
        logger.warning("%s: cannot replay the regime history (%s)", log.path, exc)
        return []
    return points


def load_run(path: str | os.PathLike[str]) -> ReportRun:
    """Read ``path`` and assess it (raises ``RunLogError``/``OSError`` for a bad file)."""
    log = read_run(Path(path))
    assessment, source = assess(log)
    return ReportRun(log=log, assessment=assessment, assessment_source=source,
                     history=regime_history(log))
