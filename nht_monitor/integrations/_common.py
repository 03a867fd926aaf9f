"""What both trainer callbacks share: unwrapping, and the assessment as logger metrics."""

from __future__ import annotations

import math
from typing import Any

from nht_monitor.analysis.assessment import REGIMES, Assessment
from nht_monitor.live.wrappers import unwrap_model, unwrap_optimizer

__all__ = ["METRIC_PREFIX", "assessment_metrics", "unwrap_model", "unwrap_optimizer"]

METRIC_PREFIX = "nht/"
"""Every metric the callbacks send to a trainer's loggers starts with this."""


def assessment_metrics(assessment: Assessment | None) -> dict[str, float]:
    """The assessment as flat float metrics for a trainer logger.

    ``nht/regime`` (index into :data:`nht_monitor.analysis.assessment.REGIMES`),
    ``nht/confidence``, ``nht/norm``, ``nht/head_norm``, ``nht/tau``,
    ``nht/forecast_step``, ``nht/steps_remaining``, ``nht/suggested_weight_decay``;
    entries whose value is unknown or non-finite are left out.
    """
    if assessment is None:
        return {}
    values = {
        "regime": float(REGIMES.index(assessment.regime)),
        "confidence": assessment.confidence,
        "norm": assessment.norm,
        "head_norm": assessment.head_norm,
        "tau": assessment.tau,
        "forecast_step": assessment.transition.forecast_step,
        "steps_remaining": assessment.transition.steps_remaining,
        "suggested_weight_decay": (assessment.advice.suggested_weight_decay
                                   if assessment.advice is not None else None),
    }
    return {METRIC_PREFIX + k: float(v) for k, v in values.items()
            if v is not None and math.isfinite(float(v))}
