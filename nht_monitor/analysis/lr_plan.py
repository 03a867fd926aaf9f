"""The learning rate a run planned, as its log header records it (``lr_plan``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from nht_monitor.runlog.schema import MAX_PLAN_KNOTS, RunHeader

PLAN_KNOTS = 512
"""Knots a plan records over its steps (evenly spaced, first and last step included)."""


class PlannedLr:
    """``step -> lr`` along the knots ``[(step, lr), ...]`` of a header's ``lr_plan``:
    linear between knots, the first knot's lr before the first, the last one's after
    the last. Called with one step it returns a float; :meth:`at` takes an array."""

    def __init__(self, knots: list[tuple[int, float]]) -> None:
        self.steps = np.array([k[0] for k in knots], dtype=np.float64)
        self.lrs = np.array([k[1] for k in knots], dtype=np.float64)

    def __call__(self, step: float) -> float:
        return float(np.interp(step, self.steps, self.lrs))

    def at(self, steps: np.ndarray) -> np.ndarray:
        """The planned lr of each of ``steps``."""
        return np.interp(steps, self.steps, self.lrs)

    @property
    def last_step(self) -> int:
        """The last planned step."""
        return int(self.steps[-1])


def planned_lr(header: RunHeader | None) -> PlannedLr | None:
    """The header's planned learning rate (``None``: none recorded)."""
    plan = header.lr_plan if header is not None else None
    return PlannedLr(plan) if plan else None


def plan_steps(budget: int, knots: int = PLAN_KNOTS) -> list[int]:
    """The steps a plan up to ``budget`` records: evenly spaced from 1 to ``budget``, at
    most ``knots`` (and :data:`MAX_PLAN_KNOTS`) of them."""
    n = min(knots, MAX_PLAN_KNOTS, budget)
    return [int(s) for s in np.unique(np.linspace(1, budget, n).round())]


def plan_knots(steps: Sequence[int], lrs: Sequence[float]) -> list[tuple[int, float]]:
    """``[(step, lr), ...]`` for a header's ``lr_plan`` (a one-step plan held from step
    0). Raises ``ValueError`` on a negative or non-finite learning rate."""
    if not all(math.isfinite(lr) and lr >= 0 for lr in lrs):
        raise ValueError("lr_schedule gave a negative or non-finite learning rate")
    if len(steps) == 1:
        return [(0, float(lrs[0])), (int(steps[0]), float(lrs[0]))]
    return [(int(s), float(lr)) for s, lr in zip(steps, lrs)]


def plan_of(schedule: Callable[[int], float], budget: int) -> list[tuple[int, float]]:
    """The plan of a callable ``step -> lr`` up to ``budget`` (``ValueError`` naming the
    step where it fails)."""
    steps = plan_steps(budget)
    return plan_knots(steps, [_called(schedule, s) for s in steps])


def _called(schedule: Callable[[int], float], step: int) -> float:
    try:
        return float(schedule(step))
    except Exception as exc:  # noqa: BLE001 - construction time: say which step failed
        raise ValueError(f"lr_schedule({step}) failed: {type(exc).__name__}: {exc}") from None
