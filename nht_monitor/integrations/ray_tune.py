"""Ray Tune: stop hopeless trials from each trial's live assessment.

In the trainable (a Tune worker), watch the model and report the monitor's state with
your own metrics::

    from ray import tune
    from nht_monitor.integrations.ray_tune import NHTStopper, report_fields, trial_watch_options

    def trainable(config):
        ...
        with nht_monitor.watch(model, optimizer, budget_steps=config["steps"],
                               **trial_watch_options(config)) as monitor:
            for step in range(1, config["steps"] + 1):
                ...  # one optimizer step, monitor.log(train_loss=..., val_acc=...)
                if step % 50 == 0:
                    tune.report({"val_acc": val_acc, **report_fields(monitor)})

    tuner = tune.Tuner(trainable, param_space=...,
                       run_config=tune.RunConfig(stop=NHTStopper(min_confidence=0.7)))

:func:`report_fields` puts the latest assessment into the result (fields
:data:`~nht_monitor.integrations.early_stop.STATE_FIELDS`); :class:`NHTStopper`, in the
driver, decides from them with :func:`nht_monitor.integrations.early_stop.decide`, logs
the decision with the engine's reasons (logger ``nht_monitor.integrations.ray_tune``)
and adds it to the same result (``nht/stop``, ``nht/stop_rule``, ``nht/stop_reason``),
so it is in ``trial.last_result``, the experiment's result files and the
``ResultGrid``. :func:`trial_watch_options` gives every trial of one experiment the same
``sweep`` name (the experiment's) and the trial's name as ``run_id``.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

try:
    from ray.tune.stopper import Stopper
except ImportError as exc:  # pragma: no cover
    raise ImportError("nht_monitor.integrations.ray_tune needs Ray Tune: "
                      "pip install 'nht-monitor[ray]'") from exc

from nht_monitor.integrations.early_stop import (
    Decision, StopPolicy, TrialState, decide)

if TYPE_CHECKING:
    from nht_monitor.live.monitor import Monitor

logger = logging.getLogger(__name__)

SWEEP_CONFIG_KEY = "nht/sweep"
"""The ``param_space`` key :func:`trial_watch_options` reads the sweep name from when
the experiment's name is not available (outside a Tune session)."""

_NAME_BAD = re.compile(r"[^A-Za-z0-9_.\-]+")


def report_fields(monitor: Monitor) -> dict[str, Any]:
    """The monitor's state as Tune result fields (call it right before ``tune.report``).

    Finishes the ready samples first (``monitor.poll()``, never waits). Fields, every
    one always present (``None`` when unknown):

    * ``nht/step``: optimizer steps run so far; ``nht/budget_steps``: the trial's budget
      (``Monitor.budget_steps``);
    * from the latest assessment: ``nht/assessed_step`` (the step it was made at),
      ``nht/n_samples``, ``nht/regime``, ``nht/confidence``, ``nht/phase``,
      ``nht/transition_status``, ``nht/forecast_step``, ``nht/interval_low`` and
      ``nht/interval_high`` (the forecast's 80 % interval), ``nht/chance_in_budget`` (its
      chance that the transition comes by the budget), ``nht/beyond_budget`` (the
      engine says the transition is beyond the budget), ``nht/verdict_held_back`` (it
      holds that verdict back until held-out accuracy can speak), ``nht/relapse_val_acc``
      (the transition came but held-out accuracy fell back since: the median of its last
      evaluations; ``None`` otherwise), ``nht/reasons`` (the engine's reasons joined by
      ``" | "``).

    :class:`NHTStopper` adds ``nht/stop``, ``nht/stop_rule``, ``nht/stop_reason``.
    Never raises: on an internal error it logs it and returns ``{}``.
    """
    try:
        monitor.poll()
        return TrialState.from_assessment(monitor.latest_assessment, monitor.step,
                                          monitor.budget_steps).to_fields()
    except Exception as exc:
        logger.warning("report_fields: cannot read the monitor's state: %s", exc, exc_info=True)
        return {}


def experiment_name(config: Mapping[str, Any] | None = None) -> str | None:
    """The Tune experiment's name (``tune.get_context().get_experiment_name()``), else
    ``config[SWEEP_CONFIG_KEY]``, made a valid run name (letters, digits, ``_.-``)."""
    name = _tune_context_value("get_experiment_name")
    if not name and config is not None:
        name = config.get(SWEEP_CONFIG_KEY)
    return _run_name(name)


def trial_watch_options(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``watch`` options for a trial: ``sweep`` = :func:`experiment_name` and ``run_id``
    = the trial's name (only those known)."""
    options = {"sweep": experiment_name(config),
               "run_id": _run_name(_tune_context_value("get_trial_name"))}
    return {k: v for k, v in options.items() if v}


def _tune_context_value(method: str) -> str | None:
    try:
        from ray import tune

        with warnings.catch_warnings():  # outside a session Ray warns and returns None
            warnings.simplefilter("ignore")
            value = getattr(tune.get_context(), method)()
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


def _run_name(name: Any) -> str | None:
    if not isinstance(name, str):
        return None
    name = _NAME_BAD.sub("-", name).lstrip("_.-")[:128]
    return name or None


class NHTStopper(Stopper):
    """A Tune ``Stopper`` that stops a trial when its reported assessment is hopeless.

    ``policy`` (a :class:`~nht_monitor.integrations.early_stop.StopPolicy`, a dict of
    its fields, or its fields as keyword options; validated here) sets the thresholds.
    Each result carrying :func:`report_fields`'s fields is decided with
    :func:`~nht_monitor.integrations.early_stop.decide`; the decision is added to the
    result (``nht/stop``, ``nht/stop_rule``, ``nht/stop_reason``) and logged: a stop at
    INFO with the engine's reasons, a keep at INFO when the trial's keep rule changes,
    at DEBUG otherwise. Results without them are left alone. ``decisions`` maps each
    trial id to its latest :class:`~nht_monitor.integrations.early_stop.Decision`.
    Never stops the whole experiment (``stop_all`` is ``False``); never raises (an
    internal error is logged and the trial kept).
    """

    def __init__(self, policy: StopPolicy | Mapping[str, Any] | None = None,
                 **options: Any) -> None:
        self.policy = StopPolicy.of(policy, **options)
        self.decisions: dict[str, Decision] = {}

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        """``True`` to stop trial ``trial_id`` after ``result``."""
        try:
            state = TrialState.from_fields(result)
            if state is None:
                return False
            decision = decide(state, self.policy)
            self._log(trial_id, decision)
            self.decisions[trial_id] = decision
            result.update(decision.to_fields())
            return decision.stop
        except Exception as exc:
            logger.warning("NHTStopper: cannot decide on trial %s, keeping it: %s",
                           trial_id, exc, exc_info=True)
            return False

    def stop_all(self) -> bool:
        """Never stops the whole experiment."""
        return False

    def _log(self, trial_id: str, decision: Decision) -> None:
        previous = self.decisions.get(trial_id)
        changed = previous is None or previous.rule != decision.rule
        level = logging.INFO if decision.stop or changed else logging.DEBUG
        logger.log(level, "%s", decision.log_line(trial_id))


__all__ = ["NHTStopper", "SWEEP_CONFIG_KEY", "experiment_name", "report_fields",
           "trial_watch_options"]
