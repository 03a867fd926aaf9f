"""Optuna: prune hopeless trials from each trial's live assessment.

::

    import optuna
    from nht_monitor.integrations.optuna import NHTPruner, report_to_trial

    def objective(trial):
        ...
        with nht_monitor.watch(model, optimizer, budget_steps=steps,
                               sweep=study_name, run_id=f"trial-{trial.number}") as monitor:
            for step in range(1, steps + 1):
                ...  # one optimizer step, monitor.log(train_loss=..., val_acc=...)
                if step % 50 == 0 and report_to_trial(trial, monitor, value=val_acc):
                    raise optuna.TrialPruned(trial.user_attrs["nht"]["nht/stop_reason"])
        return val_acc

    study = optuna.create_study(direction="maximize", pruner=NHTPruner(min_confidence=0.7))

:func:`report_to_trial` stores the monitor's state in ``trial.user_attrs["nht"]`` (the
``nht/*`` fields of :data:`~nht_monitor.integrations.early_stop.STATE_FIELDS`, the same
names as the Ray Tune result fields), reports ``value`` with ``trial.report`` and asks
``trial.should_prune()``. :class:`NHTPruner` decides from ``user_attrs["nht"]`` with
:func:`nht_monitor.integrations.early_stop.decide` and logs the decision with the
engine's reasons (logger ``nht_monitor.integrations.optuna``); the decision
(``nht/stop``, ``nht/stop_rule``, ``nht/stop_reason``) is added to
``user_attrs["nht"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

try:
    import optuna
    from optuna.pruners import BasePruner
except ImportError as exc:  # pragma: no cover
    raise ImportError("nht_monitor.integrations.optuna needs Optuna: "
                      "pip install 'nht-monitor[optuna]'") from exc

from nht_monitor.integrations.early_stop import (
    Decision, StopPolicy, TrialState, decide)

if TYPE_CHECKING:
    from nht_monitor.live.monitor import Monitor

logger = logging.getLogger(__name__)

USER_ATTR = "nht"
"""The ``trial.user_attrs`` key holding the monitor's state and the pruner's decision."""


class NHTPruner(BasePruner):
    """An Optuna pruner deciding from the assessment :func:`report_to_trial` stored.

    ``policy``: a :class:`~nht_monitor.integrations.early_stop.StopPolicy`, a dict of its
    fields, or its fields as keyword options (validated here). ``prune`` returns the
    decision's ``stop``: ``False`` for a trial with no stored state. ``decisions`` maps
    each trial's number to its latest
    :class:`~nht_monitor.integrations.early_stop.Decision`. A prune is logged at INFO
    with the engine's reasons, a keep at INFO when the trial's keep rule changes, at
    DEBUG otherwise. Never raises (an internal error is logged and the trial kept).
    """

    def __init__(self, policy: StopPolicy | Mapping[str, Any] | None = None,
                 **options: Any) -> None:
        self.policy = StopPolicy.of(policy, **options)
        self.decisions: dict[int, Decision] = {}

    def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
        """Whether ``trial`` should be pruned now."""
        try:
            fields = trial.user_attrs.get(USER_ATTR)
            state = TrialState.from_fields(fields) if isinstance(fields, Mapping) else None
            if state is None:
                return False
            decision = decide(state, self.policy)
            self._log(trial.number, decision)
            self.decisions[trial.number] = decision
            return decision.stop
        except Exception as exc:
            logger.warning("NHTPruner: cannot decide on trial %s, keeping it: %s",
                           trial.number, exc, exc_info=True)
            return False

    def _log(self, number: int, decision: Decision) -> None:
        previous = self.decisions.get(number)
        changed = previous is None or previous.rule != decision.rule
        level = logging.INFO if decision.stop or changed else logging.DEBUG
        logger.log(level, "%s", decision.log_line(f"#{number}"))


def report_to_trial(trial: optuna.trial.Trial, monitor: Monitor,
                    value: float | None = None, step: int | None = None) -> bool:
    """Store the monitor's state in ``trial.user_attrs["nht"]``, report ``value`` at
    ``step`` (default ``monitor.step``; nothing reported when ``value`` is ``None``) and
    return ``trial.should_prune()``.

    With an :class:`NHTPruner` as the study's pruner its decision (``nht/stop``,
    ``nht/stop_rule``, ``nht/stop_reason``) is added to ``user_attrs["nht"]``. Raise
    ``optuna.TrialPruned`` yourself when it returns ``True``. Never raises: on an
    internal error it logs it and returns ``False``.
    """
    try:
        monitor.poll()
        fields = TrialState.from_assessment(monitor.latest_assessment, monitor.step,
                                            monitor.budget_steps).to_fields()
        trial.set_user_attr(USER_ATTR, fields)
        if value is not None:
            trial.report(float(value), int(monitor.step if step is None else step))
        prune = trial.should_prune()
        pruner = trial.study.pruner
        decision = (pruner.decisions.get(trial.number) if isinstance(pruner, NHTPruner)
                    else None)
        if decision is not None:
            trial.set_user_attr(USER_ATTR, {**fields, **decision.to_fields()})
        return bool(prune)
    except Exception as exc:
        logger.warning("report_to_trial: trial %s: %s", getattr(trial, "number", "?"), exc,
                       exc_info=True)
        return False


__all__ = ["NHTPruner", "USER_ATTR", "report_to_trial"]
