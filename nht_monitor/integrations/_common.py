"""What both trainer callbacks share: unwrapping, watching with the trainer's own budget
and schedule, and the run's state as logger metrics."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from nht_monitor.analysis.assessment import PHASES, REGIMES, Assessment
from nht_monitor.live.wrappers import unwrap_model, unwrap_optimizer

if TYPE_CHECKING:
    from nht_monitor.exporter.snapshot import RunSnapshot
    from nht_monitor.live.settings import MonitorSettings
    from nht_monitor.runlog.schema import Sample

__all__ = ["METRIC_PREFIX", "forwarded_names", "logger_metrics", "snapshot_metrics",
           "unwrap_model", "unwrap_optimizer", "validated_options", "watch_in_trainer"]

logger = logging.getLogger(__name__)

METRIC_PREFIX = "nht/"
"""Every metric the callbacks send to a trainer's loggers starts with this."""


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def logger_metrics(sample: Sample | None, assessment: Assessment | None) -> dict[str, float]:
    """The latest sample and the latest assessment as flat float metrics for a trainer
    logger (numbers only: most loggers drop or refuse strings).

    From the latest **sample** (present from the first finished sample on):
    ``nht/step`` (the optimizer step it was taken after), ``nht/norm``,
    ``nht/head_norm``, ``nht/grad_norm``, ``nht/tau``.

    From the latest **assessment** (present once the rule engine has run; it runs every
    ``assess_every`` samples at most once per ``assess_interval``, so it may be older
    than the sample): ``nht/assessed_step`` (the step it was made at),
    ``nht/regime/<name>`` for every name in
    :data:`~nht_monitor.analysis.assessment.REGIMES` (1 for the current regime, 0 for
    the others), ``nht/regime`` (the same regime as an index into ``REGIMES``),
    ``nht/phase/<name>`` for every name in :data:`~nht_monitor.analysis.assessment.PHASES`
    (when a phase is known), ``nht/confidence``, ``nht/forecast_step``,
    ``nht/steps_remaining``, ``nht/suggested_weight_decay``.

    Entries whose value is unknown or non-finite are left out.
    """
    values: dict[str, float | None] = {}
    if sample is not None:
        values.update(step=sample.step, norm=sample.norm, head_norm=sample.head_norm,
                      grad_norm=sample.grad_norm, tau=sample.tau)
    if assessment is not None:
        values["assessed_step"] = assessment.step
        values["regime"] = REGIMES.index(assessment.regime)
        for name in REGIMES:
            values[f"regime/{name}"] = 1.0 if name == assessment.regime else 0.0
        if assessment.phase is not None:
            for name in PHASES:
                values[f"phase/{name}"] = 1.0 if name == assessment.phase else 0.0
        values.update(
            confidence=assessment.confidence,
            forecast_step=assessment.transition.forecast_step,
            steps_remaining=assessment.transition.steps_remaining,
            suggested_weight_decay=(assessment.advice.suggested_weight_decay
                                    if assessment.advice is not None else None))
    out = {}
    for key, value in values.items():
        number = _finite(value)
        if number is not None:
            out[METRIC_PREFIX + key] = number
    return out


def snapshot_metrics(snapshot: RunSnapshot) -> dict[str, float]:
    """:func:`logger_metrics` of a :meth:`nht_monitor.Monitor.snapshot`."""
    return logger_metrics(snapshot.sample, snapshot.assessment)


def validated_options(options: dict[str, Any]) -> MonitorSettings:
    """The settings ``options`` give :func:`nht_monitor.watch` (``prometheus_port`` aside,
    which binds at start): raises ``ValueError`` on bad options when a callback is built,
    not mid-training."""
    from nht_monitor.live.settings import MonitorSettings

    return MonitorSettings(**{k: v for k, v in options.items() if k != "prometheus_port"})


def forwarded_names(settings: MonitorSettings) -> frozenset[str]:
    """The names of the metrics a trainer logs that a callback records: those
    ``metric_names`` maps and those the engine reads."""
    return frozenset((*settings.metric_names, *settings.analysis.metric_keys))


def watch_in_trainer(model: Any, optimizer: Any, options: dict[str, Any],
                     budget: float | None, scheduler: Any) -> Any:
    """:func:`nht_monitor.watch` with the trainer's planned optimizer steps as
    ``budget_steps`` and its per-step LR scheduler as ``lr_schedule``, where the options
    do not give them (``budget``/``scheduler`` ``None``: none known). A schedule that
    cannot be planned is left out with one warning; training goes on either way."""
    from nht_monitor.live.monitor import watch

    found: dict[str, Any] = {}
    if "budget_steps" not in options and budget is not None and math.isfinite(budget) \
            and budget >= 1:
        found["budget_steps"] = int(budget)
    if "lr_schedule" not in options and scheduler is not None and (
            "budget_steps" in options or "budget_steps" in found):
        found["lr_schedule"] = scheduler
    try:
        return watch(model, optimizer, **options, **found)
    except ValueError as exc:
        if "lr_schedule" not in found:
            raise
        logger.warning("nht-monitor: the trainer's LR schedule is not planned (%s); the "
                       "engine holds the current learning rate", exc)
        found.pop("lr_schedule")
        return watch(model, optimizer, **options, **found)
