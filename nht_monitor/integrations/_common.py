"""What both trainer callbacks share: unwrapping, and the assessment as logger metrics."""

from __future__ import annotations

import math
from typing import Any

import torch

from nht_monitor.assessment import REGIMES, Assessment

METRIC_PREFIX = "nht/"
"""Every metric the callbacks send to a trainer's loggers starts with this."""


def unwrap_optimizer(optimizer: Any) -> torch.optim.Optimizer:
    """The torch optimizer inside wrappers (accelerate's ``AcceleratedOptimizer``,
    Lightning's ``LightningOptimizer``): the one whose ``step()`` really runs."""
    seen = 0
    while not type(optimizer).__module__.startswith("torch.") and seen < 4:
        inner = getattr(optimizer, "optimizer", None) or getattr(optimizer, "_optimizer", None)
        if not isinstance(inner, torch.optim.Optimizer):
            break
        optimizer = inner
        seen += 1
    return optimizer


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside DDP/DataParallel wrappers (same parameters)."""
    while isinstance(model, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)):
        model = model.module
    return model


def assessment_metrics(assessment: Assessment | None) -> dict[str, float]:
    """The assessment as flat float metrics for a trainer logger.

    ``nht/regime`` (index into :data:`nht_monitor.assessment.REGIMES`),
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
