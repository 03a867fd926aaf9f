"""The learning rate a run plans to use until its budget, as knots for the log header.

``watch(lr_schedule=...)`` takes either a callable ``step -> lr`` (``step`` counting
optimizer steps from 1, as the log does) or the run's torch LR scheduler, stepped once per
optimizer step (also inside accelerate's ``AcceleratedScheduler``, driving the watched
optimizer or a wrapper of it). A scheduler is never touched: a copy of it, bound to a
parameter-less stand-in optimizer, is stepped to the budget (a
:class:`~torch.optim.lr_scheduler.LambdaLR` is read from its lambdas without stepping).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch

from nht_monitor.analysis.lr_plan import plan_knots, plan_of, plan_steps
from nht_monitor.live.wrappers import unwrap_optimizer, unwrap_scheduler

MAX_SIMULATED_STEPS = 1_000_000
"""The longest budget a scheduler other than ``LambdaLR`` is stepped through."""


def check_lr_schedule(schedule: Any, optimizer: torch.optim.Optimizer) -> None:
    """Raise ``ValueError`` unless ``schedule`` is a callable or an LR scheduler of
    ``optimizer`` whose learning rates do not depend on the metrics."""
    schedule = unwrap_scheduler(schedule)
    if isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise ValueError("lr_schedule: ReduceLROnPlateau follows a metric, so its future "
                         "learning rate is unknown; leave lr_schedule out")
    if isinstance(schedule, torch.optim.lr_scheduler.LRScheduler):
        if unwrap_optimizer(schedule.optimizer) is not optimizer:
            raise ValueError("lr_schedule: the scheduler drives another optimizer than "
                             "the watched one")
        return
    if not callable(schedule):
        raise ValueError(f"lr_schedule must be a callable step -> lr or a torch LR scheduler, "
                         f"got {type(schedule).__name__}")


def plan_learning_rate(schedule: Any, optimizer: torch.optim.Optimizer, group: int,
                       budget: int) -> list[tuple[int, float]]:
    """The header's ``lr_plan``: param group ``group``'s learning rate at evenly spaced
    optimizer steps from 1 to ``budget``. Raises ``ValueError`` when the schedule fails,
    gives a negative or non-finite learning rate, or is a scheduler to step through more
    than :data:`MAX_SIMULATED_STEPS`."""
    schedule = unwrap_scheduler(schedule)
    if not isinstance(schedule, torch.optim.lr_scheduler.LRScheduler):
        return plan_of(schedule, budget)
    steps = plan_steps(budget)
    if steps[-1] > MAX_SIMULATED_STEPS and not isinstance(
            schedule, torch.optim.lr_scheduler.LambdaLR):
        raise ValueError(f"lr_schedule: a {type(schedule).__name__} is planned by stepping a "
                         f"copy of it, at most {MAX_SIMULATED_STEPS} steps; pass a callable "
                         "step -> lr for a longer budget")
    try:
        lrs = _scheduler_lrs(schedule, optimizer, group, steps)
    except Exception as exc:  # noqa: BLE001 - construction time: one clear line
        raise ValueError(f"lr_schedule: the {type(schedule).__name__} cannot be planned: "
                         f"{type(exc).__name__}: {exc}") from None
    return plan_knots(steps, lrs)


def _scheduler_lrs(scheduler: torch.optim.lr_scheduler.LRScheduler,
                   optimizer: torch.optim.Optimizer, group: int, steps: list[int]
                   ) -> list[float]:
    """The lr step ``s`` uses: the scheduler's after ``s - 1`` more of its steps."""
    start = scheduler.last_epoch
    if isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR):
        lam = scheduler.lr_lambdas[group]
        base = scheduler.base_lrs[group]
        return [base * float(lam(start + s - 1)) for s in steps]
    stand_in = torch.optim.SGD(
        [{**{k: v for k, v in g.items() if k != "params"}, "params": []}
         for g in optimizer.param_groups], lr=0.0)
    replica = copy.deepcopy(scheduler, memo={id(scheduler.optimizer): stand_in,
                                             id(optimizer): stand_in})
    wanted = set(steps)
    out: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
        for s in range(1, steps[-1] + 1):
            if s > 1:
                replica.step()
            if s in wanted:
                out.append(float(stand_in.param_groups[group]["lr"]))
    return out
