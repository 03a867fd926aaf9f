"""The learning rate a run planned, as its log header records it (``lr_plan``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from nht_monitor.runlog.schema import MAX_PLAN_KNOTS, RunHeader

PLAN_KNOTS = 512
"""Knots a plan records over its steps (evenly spaced, first and last step included)."""

ANNEALED_SHARE = 0.1
"""A plan whose last lr is below this share of its highest is *annealed*: its clock ends
with it (a cosine to 0 does not go on at its last lr, the run ends or restarts)."""


class PlannedLr:
    """``step -> lr`` along the knots ``[(step, lr), ...]`` of a header's ``lr_plan``:
    linear between knots, the first knot's lr before the first, the last one's after
    the last. Called with one step it returns a float; :meth:`at` takes an array;
    ``annealed``: the last lr below :data:`ANNEALED_SHARE` of the highest."""

    def __init__(self, knots: list[tuple[int, float]]) -> None:
        self.steps = np.array([k[0] for k in knots], dtype=np.float64)
        self.lrs = np.array([k[1] for k in knots], dtype=np.float64)
        lengths = np.diff(self.steps)
        self._slopes = np.diff(self.lrs) / lengths
        # Σ lr over the integer steps of each segment (k_i, k_i+1]: an arithmetic series
        seg = lengths * self.lrs[:-1] + self._slopes * lengths * (lengths + 1) / 2
        self._cum = np.concatenate([[self.lrs[0]], self.lrs[0] + np.cumsum(seg)])
        self.annealed = bool(self.lrs[-1] < ANNEALED_SHARE * self.lrs.max())

    def __call__(self, step: float) -> float:
        return float(np.interp(step, self.steps, self.lrs))

    def at(self, steps: np.ndarray) -> np.ndarray:
        """The planned lr of each of ``steps``."""
        return np.interp(steps, self.steps, self.lrs)

    def clocked(self, steps: np.ndarray) -> np.ndarray:
        """The lr each of ``steps`` adds to the τ clock: :meth:`at`, 0 past an annealed
        plan's end."""
        lrs = self.at(steps)
        return np.where(steps > self.steps[-1], 0.0, lrs) if self.annealed else lrs

    def total(self, step: float) -> float:
        """Σ lr over the integer steps from the first knot to ``step`` (negative before
        it: the first lr held), exact along the linear segments."""
        n = math.floor(step)
        k0, k_last = self.steps[0], self.steps[-1]
        if n < k0:
            return float((n - k0 + 1) * self.lrs[0])
        if n >= k_last:
            return float(self._cum[-1] + (n - k_last) * self.lrs[-1])
        i = int(np.searchsorted(self.steps, n, side="right")) - 1
        j = n - self.steps[i]
        return float(self._cum[i] + j * self.lrs[i] + self._slopes[i] * j * (j + 1) / 2)

    def steps_until(self, amount: float, step_now: float, max_steps: float = 1e12
                    ) -> float | None:
        """The fewest steps after ``step_now`` whose lrs sum to at least ``amount``
        (``None``: not within ``max_steps``, or not before an annealed plan's end)."""
        target = self.total(step_now) + amount
        lo = math.floor(step_now)
        if self.annealed and 0.0 < target - self._cum[-1] <= 1e-12 * abs(target):
            target = self._cum[-1]  # the clock's whole sum, up to rounding: it gets there
        if target > self._cum[-1]:  # past the last knot, at its lr
            if self.annealed:
                return None
            y = self.lrs[-1]
            with np.errstate(all="ignore"):
                past = (target - self._cum[-1]) / y if y > 0 else math.inf
            if not self.steps[-1] + past - lo <= max_steps:
                return None
            n = self.steps[-1] + math.ceil(past - 1e-12)
        else:
            i = int(np.searchsorted(self._cum, target, side="left"))
            n = self.steps[0]
            if i > 0:  # within segment i-1: the least j with j·y + d·j(j+1)/2 ≥ rest
                y, d = self.lrs[i - 1], self._slopes[i - 1]
                n = self.steps[i - 1] + max(1, math.ceil(_series_length(
                    y, d, target - self._cum[i - 1]) - 1e-9))
            n = max(n, lo + 1)
        for _ in range(3):  # float rounding: one step either way at most
            if n > lo + 1 and self.total(n - 1) >= target:
                n -= 1
            elif self.total(n) < target:
                n += 1
        return float(n - lo) if n - lo <= max_steps else None


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


def _series_length(y: float, d: float, rest: float) -> float:
    """The real j with j·y + d·j(j+1)/2 = ``rest`` (a segment starting at lr ``y`` and
    changing by ``d`` a step), in the form that does not cancel."""
    b = y + d / 2
    if d == 0:
        return rest / y
    disc = math.sqrt(max(b * b + 2 * d * rest, 0.0))
    return 2 * rest / (b + disc) if b > 0 else (disc - b) / d
