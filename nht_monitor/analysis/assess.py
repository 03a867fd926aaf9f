"""Assess a saved run log: the one place a log on disk becomes an :class:`Assessment`.

``nht-monitor analyze`` / ``advise`` / ``backtest`` / ``scorecard`` and the HTML report
all do the same thing with a log: take the analyzer settings its live engine used
(:func:`~nht_monitor.analysis.settings.recorded_settings`, from the header), apply the
user's overrides (``--setting KEY=VALUE``), and run the :class:`Analyzer` on the whole
log or on the samples up to a step. :func:`log_settings` is the first half,
:func:`assess_log` both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from nht_monitor.analysis.analyzer import Analyzer
from nht_monitor.analysis.assessment import Assessment
from nht_monitor.analysis.settings import AnalyzerSettings, recorded_settings
from nht_monitor.analysis.sweep import SweepReferences, run_references
from nht_monitor.runlog import RunLog
from nht_monitor.runlog.reader import RunColumns, read_columns


def log_settings(header: Any, overrides: Mapping[str, Any] | None = None, *,
                 lenient: bool = False) -> AnalyzerSettings:
    """The :class:`AnalyzerSettings` for a log with header ``header``: the settings its
    live engine used (``header.config["analysis"]``), updated by ``overrides`` (values
    may be strings, as ``--setting KEY=VALUE`` gives them).

    An unknown key or a bad value is a ``ValueError`` naming it: ``bad --setting: …``
    when an override is at fault, else naming the header's recorded settings.
    ``lenient=True`` (the report): malformed recorded settings are ignored and the
    defaults used instead (bad ``overrides`` still raise).
    """
    overrides = dict(overrides or {})
    try:
        return recorded_settings(header, **overrides)
    except ValidationError as exc:
        errors = exc.errors()
    ours = [e for e in errors if e["loc"] and e["loc"][0] in overrides]
    if ours:
        raise ValueError(f"bad --setting: {_problems(ours)}") from None
    if lenient:
        try:
            return AnalyzerSettings(**overrides)
        except ValidationError as exc:  # an override only wrong together with the others
            raise ValueError(f"bad --setting: {_problems(exc.errors())}") from None
    raise ValueError("bad analyzer settings recorded in the log header "
                     f"(config['analysis']): {_problems(errors)}")


def _problems(errors: list[Any]) -> str:
    return "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in errors)


def assess_log(log: RunLog | RunColumns | str | os.PathLike[str],
               overrides: Mapping[str, Any] | None = None,
               *, until: int | None = None, lenient: bool = False,
               references: Sequence[str | os.PathLike[str]] = (),
               as_live: bool = False) -> Assessment:
    """The analyzer's assessment of a saved run log (a path, read as columns with
    :func:`~nht_monitor.runlog.reader.read_columns` — no object per sample — or a
    :class:`RunLog`/:class:`RunColumns` already read) as of its last sample, or as of
    step ``until``; with the settings of :func:`log_settings` (``overrides``,
    ``lenient`` as there). ``references``: logs (paths or globs) of the same sweep whose
    transitions calibrate the forecast (:class:`~nht_monitor.analysis.sweep.SweepReferences`;
    with ``until``, only those that had transitioned by then count). ``as_live``: instead,
    the references the run read live (:func:`~nht_monitor.analysis.sweep.run_references`:
    its recorded ``reference_runs``, else the other logs of its ``sweep`` beside it).

    Raises ``FileNotFoundError``/``RunLogError`` for an unreadable log and ``ValueError``
    for bad settings; the analysis itself never raises (a failure inside the rules is an
    ``undetermined`` assessment naming it).
    """
    if not isinstance(log, (RunLog, RunColumns)):
        log = read_columns(log)
    settings = log_settings(log.header, overrides, lenient=lenient)
    samples = log if isinstance(log, RunColumns) else log.samples
    refs = None
    if as_live:
        refs = run_references(settings, log.header.run_id, log.path, log.header.sweep,
                              replay=until is not None)
    elif references or settings.reference_runs:
        refs = SweepReferences([*settings.reference_runs, *references], settings,
                               exclude_run_id=log.header.run_id, exclude_path=log.path,
                               replay=until is not None)
    assessment = Analyzer(log.header, settings, references=refs).analyze(samples, until=until)
    if assessment.run_id is None:
        assessment.run_id = log.header.run_id
    return assessment
