"""The early-stop decision shared by the sweep integrations (Ray Tune, Optuna).

Pure (pydantic only: no torch, ray or optuna): a trial's state as the monitor sees it
(:class:`TrialState`, built from the live :class:`~nht_monitor.analysis.assessment.Assessment`
or read back from a sweep engine's result fields) plus thresholds (:class:`StopPolicy`)
give a :class:`Decision`: keep or stop, which rule decided, and why.

:func:`decide` tries the rules in :data:`RULES` in order; the first that returns a
decision wins:

1. ``no_assessment``: the live engine has not assessed the trial yet → keep;
2. ``too_few_samples``: fewer than ``min_samples`` samples assessed → keep;
3. ``grace``: before ``max(min_steps, grace_fraction × budget)`` steps → keep;
4. ``undetermined`` → keep (never stopped on missing evidence);
5. ``diverged`` / ``strong`` with confidence ≥ ``min_confidence`` → **stop**;
6. ``transition_done``: the transition came → keep (also when held-out accuracy fell
   back since: the reason then says to keep the transition's checkpoint);
7. ``forecast_beyond_budget``: the 80 % interval's *low* end of the transition forecast
   (the forecast itself when there is no interval) lies beyond ``budget_margin`` ×
   the budget, confidence ≥ ``min_confidence_budget`` → **stop**;
8. ``weak_beyond_budget``: the engine calls the trial ``weak`` *because* its transition
   is beyond the budget (its ``too_late`` finding) and no 80 % interval reaches into the
   budget, confidence ≥ ``min_confidence_budget`` → **stop**; neither budget rule while
   the engine holds its budget verdict back for held-out accuracy (``verdict_held_back``);
9. ``unlikely_in_budget`` (opt-in, ``min_chance``): the forecast gives the transition less
   than ``min_chance`` of coming by the budget (``Transition.chance_in_budget``) → **stop**;
10. ``keep``: anything else (``intermediate`` whose transition fits — also before the
   fit or while the norm holds up after it, with no forecast step yet —, ``weak`` because the
   norm holds up or, before the fit, because too little τ is left for the law's least
   delay, or — rule 7e — because its pending transition is unlikely within the budget
   while held-out accuracy stays flat (stopped only by ``min_chance``), ``clamped``, a
   budget verdict held back, a stop rule below its confidence) → keep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nht_monitor.analysis.assessment import Assessment
from nht_monitor.analysis.wording import fmt_step

FIELD_PREFIX = "nht/"
"""Every result field (Tune) and ``user_attrs["nht"]`` key (Optuna) starts with this."""

REASON_SEPARATOR = " | "
"""Joins the assessment's reasons into the one string field ``nht/reasons``."""

BEYOND_BUDGET = "too_late"
"""The engine's finding (``Assessment.findings``) that the transition lies beyond the
budget: a ``weak`` trial with it is weak *because* of the budget."""

HELD_BACK = frozenset({"awaiting_heldout", "annealing_trend"})
"""The engine's findings that it holds its budget verdict back for held-out accuracy:
too few evaluations since the fit to read its trend (a script that evaluates every 100
steps needs 1,000 after the fit), or a climb on the step clock while the learning rate
anneals. The budget rules wait with it."""


class StopPolicy(BaseModel):
    """Thresholds of :func:`decide`; invalid values raise ``ValueError`` at construction.

    ``min_confidence``: stop a ``strong`` or ``diverged`` trial only at or above this
    confidence. ``min_confidence_budget``: the same for the two budget rules.
    ``grace_fraction``: never stop before this fraction of the trial's budget
    (``Monitor.budget_steps``); ``min_steps``: nor before this many steps (the grace
    without a budget). ``min_samples``: nor while the assessment has read fewer samples.
    ``budget_margin``: the forecast's low end must lie beyond ``budget_margin`` ×
    budget (1.0: just beyond). ``stop_strong``/``stop_diverged``/``stop_beyond_budget``
    switch the stop rules off one by one. ``min_chance`` (``None``: off): also stop a
    trial whose forecast gives its transition less than this chance of coming by the
    budget.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    min_confidence: float = Field(0.6, gt=0.0, le=1.0)
    min_confidence_budget: float = Field(0.5, gt=0.0, le=1.0)
    grace_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    min_steps: int = Field(0, ge=0)
    min_samples: int = Field(20, ge=1)
    budget_margin: float = Field(1.0, ge=1.0, allow_inf_nan=False)
    stop_strong: bool = True
    stop_diverged: bool = True
    stop_beyond_budget: bool = True
    min_chance: float | None = Field(None, gt=0.0, lt=1.0)

    def __init__(self, **options: Any) -> None:
        try:
            super().__init__(**options)
        except ValidationError as exc:
            raise ValueError(f"invalid early-stop policy: {_problems(exc)}") from None

    @classmethod
    def of(cls, policy: StopPolicy | Mapping[str, Any] | None = None,
           **options: Any) -> StopPolicy:
        """``policy`` itself, or one built from a dict and/or keyword options."""
        if isinstance(policy, StopPolicy):
            if options:
                raise ValueError("give a StopPolicy or its options, not both")
            return policy
        return cls(**{**dict(policy or {}), **options})


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}"
                     for e in exc.errors(include_url=False, include_context=False))


class TrialState(BaseModel):
    """What the decision reads about one trial; also the ``nht/*`` result fields.

    ``step``: optimizer steps run so far. ``budget_steps``: the trial's planned steps
    (``Monitor.budget_steps``; ``None``: unknown). The rest is the latest assessment
    (``None``/defaults before the first): ``assessed_step`` (the step it was made at),
    ``n_samples``, ``regime``, ``confidence``, ``phase``, ``transition_status``,
    ``forecast_step``, ``interval_low``/``interval_high`` (the forecast's 80 %
    interval), ``chance_in_budget`` (the chance of the transition by the budget, as
    ``Transition.chance_in_budget``), ``beyond_budget`` (the engine found the transition
    beyond the budget: its ``too_late`` finding), ``verdict_held_back`` (the engine holds
    that verdict back for held-out accuracy: :data:`HELD_BACK`), ``relapse_val_acc`` (the
    transition came but held-out accuracy fell back since: the median of its last
    ``heldout_relapse_evals`` evaluations, below ``done_val_acc``; ``None`` otherwise, as
    ``Transition.relapse_val_acc``), ``reasons`` (the engine's, in order).
    """

    model_config = ConfigDict(extra="ignore")
    step: int = 0
    budget_steps: int | None = None
    assessed_step: int | None = None
    n_samples: int = 0
    regime: str | None = None
    confidence: float = 0.0
    phase: str | None = None
    transition_status: str | None = None
    forecast_step: float | None = None
    interval_low: float | None = None
    interval_high: float | None = None
    chance_in_budget: float | None = None
    beyond_budget: bool = False
    verdict_held_back: bool = False
    relapse_val_acc: float | None = None
    reasons: list[str] = Field(default_factory=list)

    @classmethod
    def from_assessment(cls, assessment: Assessment | None, step: int,
                        budget_steps: int | None) -> TrialState:
        """The state of a trial at ``step`` whose latest assessment is ``assessment``."""
        if assessment is None:
            return cls(step=step, budget_steps=budget_steps)
        t = assessment.transition
        low, high = t.interval if t.interval is not None else (None, None)
        return cls(step=step, budget_steps=budget_steps, assessed_step=assessment.step,
                   n_samples=assessment.n_samples, regime=assessment.regime,
                   confidence=assessment.confidence, phase=assessment.phase,
                   transition_status=t.status, forecast_step=_finite(t.forecast_step),
                   interval_low=_finite(low), interval_high=_finite(high),
                   chance_in_budget=_finite(t.chance_in_budget),
                   beyond_budget=BEYOND_BUDGET in assessment.findings,
                   verdict_held_back=bool(HELD_BACK & set(assessment.findings)),
                   relapse_val_acc=_finite(t.relapse_val_acc),
                   reasons=list(assessment.reasons))

    def to_fields(self) -> dict[str, Any]:
        """Flat ``nht/*`` fields (numbers, strings, ``None``); ``reasons`` joined into
        one string ``nht/reasons``."""
        fields = self.model_dump()
        fields["reasons"] = REASON_SEPARATOR.join(self.reasons)
        return {FIELD_PREFIX + k: v for k, v in fields.items()}

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> TrialState | None:
        """The state :meth:`to_fields` wrote (``None`` when ``fields`` hold none)."""
        if FIELD_PREFIX + "step" not in fields:
            return None
        values = {k[len(FIELD_PREFIX):]: v for k, v in fields.items()
                  if isinstance(k, str) and k.startswith(FIELD_PREFIX)}
        text = values.get("reasons") or ""
        values["reasons"] = text.split(REASON_SEPARATOR) if text else []
        return cls.model_validate(values)


class Decision(BaseModel):
    """Keep or stop one trial: ``stop``, the ``rule`` that decided (see :data:`RULES`),
    ``reason`` (one sentence with the numbers) and the assessment's ``reasons``."""

    stop: bool
    rule: str
    reason: str
    step: int = 0
    regime: str | None = None
    confidence: float = 0.0
    reasons: list[str] = Field(default_factory=list)

    def to_fields(self) -> dict[str, Any]:
        """``nht/stop`` (bool), ``nht/stop_rule``, ``nht/stop_reason``."""
        return {FIELD_PREFIX + "stop": self.stop, FIELD_PREFIX + "stop_rule": self.rule,
                FIELD_PREFIX + "stop_reason": self.reason}

    def log_line(self, trial: str) -> str:
        """One log line: verdict, rule, reason and the engine's reasons."""
        verdict = "stop" if self.stop else "keep"
        reasons = "; ".join(self.reasons) if self.reasons else "none"
        return (f"nht-monitor: {verdict} trial {trial} at step {self.step} ({self.rule}): "
                f"{self.reason}. Engine reasons: {reasons}")


DECISION_FIELDS: tuple[str, ...] = tuple(Decision(stop=False, rule="", reason="").to_fields())
STATE_FIELDS: tuple[str, ...] = tuple(TrialState().to_fields())
RESULT_FIELDS: tuple[str, ...] = STATE_FIELDS + DECISION_FIELDS
"""Every ``nht/*`` field name the integrations report."""


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _of(state: TrialState, stop: bool, rule: str, reason: str) -> Decision:
    return Decision(stop=stop, rule=rule, reason=reason, step=state.step,
                    regime=state.regime, confidence=state.confidence,
                    reasons=list(state.reasons))


def _budget(state: TrialState) -> str:
    return f"the budget of {state.budget_steps} steps" if state.budget_steps else "no budget"


# ------------------------------------------------------------------------- the rules
Rule = Callable[[TrialState, StopPolicy], "Decision | None"]


def no_assessment(s: TrialState, p: StopPolicy) -> Decision | None:
    """Keep a trial not yet assessed."""
    if s.regime is None:
        return _of(s, False, "no_assessment", "not assessed yet")
    return None


def too_few_samples(s: TrialState, p: StopPolicy) -> Decision | None:
    """Keep a trial assessed on fewer than ``min_samples`` samples."""
    if s.n_samples < p.min_samples:
        return _of(s, False, "too_few_samples",
                   f"{s.n_samples} samples assessed < min_samples {p.min_samples}")
    return None


def grace(s: TrialState, p: StopPolicy) -> Decision | None:
    """Keep a trial before ``max(min_steps, grace_fraction × budget)`` steps."""
    until = max(p.min_steps, math.ceil(p.grace_fraction * (s.budget_steps or 0)))
    if s.step < until:
        return _of(s, False, "grace", f"step {s.step} < grace of {until} steps "
                   f"({p.grace_fraction:g} × {_budget(s)}, at least {p.min_steps})")
    return None


def undetermined(s: TrialState, p: StopPolicy) -> Decision | None:
    """Keep an ``undetermined`` trial: missing evidence never stops one."""
    if s.regime == "undetermined":
        return _of(s, False, "undetermined", "regime undetermined: not enough evidence")
    return None


def collapsed(s: TrialState, p: StopPolicy) -> Decision | None:
    """Stop a ``diverged`` or ``strong`` trial at ``min_confidence`` or above."""
    enabled = {"diverged": p.stop_diverged, "strong": p.stop_strong}
    if s.regime not in enabled or not enabled[s.regime]:
        return None
    if s.confidence >= p.min_confidence:
        what = ("the norm is non-finite or exploding, or the fit was lost"
                if s.regime == "diverged"
                else "the norm collapsed and learning is suppressed")
        return _of(s, True, s.regime, f"regime {s.regime} with confidence "
                   f"{s.confidence:.2f} ≥ {p.min_confidence:g}: {what}")
    return _of(s, False, "low_confidence", f"regime {s.regime} but confidence "
               f"{s.confidence:.2f} < min_confidence {p.min_confidence:g}")


def transition_done(s: TrialState, p: StopPolicy) -> Decision | None:
    """Keep a trial whose transition came, also one whose held-out accuracy fell back
    since (``relapse_val_acc``): this policy does not stop a relapsed run, its reason
    says to keep the checkpoint from the transition's step rather than the last."""
    if s.transition_status != "done":
        return None
    reason = f"transition done (step {fmt_step(s.forecast_step)}), regime {s.regime}"
    if s.relapse_val_acc is not None:
        reason += (f", but held-out accuracy fell back since (median "
                   f"{s.relapse_val_acc:.2f} < done_val_acc): keep the checkpoint from "
                   f"step {fmt_step(s.forecast_step)} rather than the last")
    return _of(s, False, "transition_done", reason)


def forecast_beyond_budget(s: TrialState, p: StopPolicy) -> Decision | None:
    """Stop a trial whose forecast's low end lies beyond ``budget_margin`` × budget, unless
    the engine holds its budget verdict back (``verdict_held_back``)."""
    low = s.interval_low if s.interval_low is not None else s.forecast_step
    if not (p.stop_beyond_budget and s.budget_steps and low is not None
            and not s.verdict_held_back
            and low > p.budget_margin * s.budget_steps
            and s.confidence >= p.min_confidence_budget):
        return None
    return _of(s, True, "forecast_beyond_budget",
               f"transition forecast at step {fmt_step(s.forecast_step)}, 80% interval from "
               f"step {fmt_step(low)}: beyond {_margin(p)}{_budget(s)} (regime {s.regime}, "
               f"confidence {s.confidence:.2f} ≥ {p.min_confidence_budget:g})")


def weak_beyond_budget(s: TrialState, p: StopPolicy) -> Decision | None:
    """Stop a trial the engine calls ``weak`` because its transition is beyond the budget,
    unless its 80 % interval still reaches into ``budget_margin`` × budget (a median just
    past the budget is not hopeless: :func:`forecast_beyond_budget` waits for the low end)."""
    if not (p.stop_beyond_budget and s.regime == "weak" and s.beyond_budget
            and not s.verdict_held_back and s.budget_steps
            and s.confidence >= p.min_confidence_budget):
        return None
    if s.interval_low is not None and s.interval_low <= p.budget_margin * s.budget_steps:
        return None
    return _of(s, True, "weak_beyond_budget",
               f"regime weak with confidence {s.confidence:.2f} ≥ "
               f"{p.min_confidence_budget:g}: the engine puts the transition beyond "
               f"{_budget(s)}")


def unlikely_in_budget(s: TrialState, p: StopPolicy) -> Decision | None:
    """Stop a trial whose forecast gives its transition less than ``min_chance`` of coming
    by the budget (opt-in)."""
    if p.min_chance is None or s.chance_in_budget is None or s.chance_in_budget >= p.min_chance:
        return None
    return _of(s, True, "unlikely_in_budget",
               f"transition forecast at step {fmt_step(s.forecast_step)}: a chance of "
               f"{s.chance_in_budget:.2f} < min_chance {p.min_chance:g} that it comes "
               f"within {_budget(s)} (regime {s.regime})")


def keep(s: TrialState, p: StopPolicy) -> Decision:
    """Keep anything else, saying what the trial is."""
    if s.verdict_held_back and (s.beyond_budget or s.interval_low is not None):
        reason = (f"{s.regime}: the engine holds its budget verdict back until held-out "
                  "accuracy can speak (its reasons say why), so the budget rules wait")
    elif s.regime == "intermediate" and s.forecast_step is not None:
        reason = (f"intermediate, transition forecast at step {fmt_step(s.forecast_step)} "
                  f"(80% from {fmt_step(s.interval_low)}) within {_budget(s)}")
    elif s.regime in ("weak", "intermediate") and s.confidence < p.min_confidence_budget and (
            s.beyond_budget or s.interval_low is not None):
        reason = (f"regime {s.regime} but confidence {s.confidence:.2f} < "
                  f"min_confidence_budget {p.min_confidence_budget:g}")
    elif s.regime == "intermediate" and s.phase == "fitting":
        reason = ("intermediate before the fit (its projected fit leaves the budget room for "
                  "the law's delay): kept")
    elif s.regime == "intermediate" and s.phase == "shortcut":
        reason = ("intermediate, the norm not yet decaying after the fit (the law's delay "
                  "from it still fits the budget): kept")
    elif s.regime == "weak" and s.phase == "fitting":
        reason = ("weak before the fit (too little τ left in the budget for the law's least "
                  "delay): no forecast to hold against the budget, so not stopped")
    elif (s.regime == "weak" and s.transition_status == "pending"
          and s.chance_in_budget is not None):  # rule 7e's weak
        reason = (f"weak: the transition's chance within {_budget(s)} is "
                  f"{s.chance_in_budget:.2f} with held-out accuracy flat since the fit; "
                  "not stopped (min_chance stops on the chance)")
    elif s.regime == "weak":
        reason = "weak, but not because of the budget (the norm holds up after the fit)"
    else:
        reason = f"regime {s.regime}: no stop rule applies"
    return _of(s, False, "keep", reason)


def _margin(p: StopPolicy) -> str:
    return "" if p.budget_margin == 1.0 else f"{p.budget_margin:g} × "


RULES: tuple[Rule, ...] = (no_assessment, too_few_samples, grace, undetermined, collapsed,
                           transition_done, forecast_beyond_budget, weak_beyond_budget,
                           unlikely_in_budget, keep)
"""The rules of :func:`decide`, in order (``keep`` always decides)."""


def decide(state: TrialState | None, policy: StopPolicy | None = None) -> Decision:
    """Keep or stop the trial in ``state`` under ``policy`` (defaults: ``StopPolicy()``)."""
    policy = policy or StopPolicy()
    state = state or TrialState()
    return next(d for rule in RULES if (d := rule(state, policy)) is not None)


__all__ = ["BEYOND_BUDGET", "HELD_BACK", "Decision", "DECISION_FIELDS", "RESULT_FIELDS", "RULES",
           "STATE_FIELDS", "StopPolicy", "TrialState", "decide"]
