"""The rule engine's result: what regime a run is in and when its transition will come.

These pydantic models are the contract between the analyzer (``nht_monitor.analysis``)
and its consumers (the live monitor, the run log, the Prometheus exporter, the CLI,
the report). Fields may be added; none is renamed or removed without a schema bump.
Pure: no torch import.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Regime = Literal["undetermined", "weak", "intermediate", "strong", "diverged", "clamped"]
"""``weak``: norm keeps growing or stays flat after the fit, the shortcut persists.
``intermediate``: norm peaks then decays (roughly exponentially in τ), a transition comes.
``strong``: norm collapses while training loss stays high, learning is suppressed.
``diverged``: non-finite or exploding norms, or a fit lost (train accuracy fell back
after the fit). ``undetermined``: not enough evidence yet.
``clamped``: the norm is pinned (e.g. by :class:`nht_monitor.NormClamp`), so the
weight-decay regimes do not apply."""

REGIMES: tuple[str, ...] = ("undetermined", "weak", "intermediate", "strong", "diverged", "clamped")

Phase = Literal["fitting", "shortcut", "transitioning", "structured"]
PHASES: tuple[str, ...] = ("fitting", "shortcut", "transitioning", "structured")

TransitionStatus = Literal["pending", "imminent", "done", "not_expected", "unknown"]
TRANSITION_STATUSES: tuple[str, ...] = ("pending", "imminent", "done", "not_expected", "unknown")
"""``pending``/``imminent``: expected (``imminent``: the steps left under
``imminent_fraction`` of the run so far plus those left); ``done``: seen;
``not_expected``: a verdict that it will not come with this λ (``weak``, ``strong``,
``diverged``, ``clamped``); ``unknown``: no verdict yet (``undetermined``: before the fit,
or too little evidence)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Transition(_Model):
    """When the shortcut-to-structure transition completes.

    ``forecast_step`` is an absolute optimizer step; ``interval`` is its 80% interval
    ``[low, high]`` in steps; ``forecast_tau`` is the same moment on the τ clock;
    ``steps_remaining`` is ``forecast_step - step`` at the time of the assessment.
    ``relapse_val_acc`` (once ``done``): the median held-out accuracy of the last
    ``heldout_relapse_evals`` evaluations when it has fallen back below ``done_val_acc``
    since the transition (the structured solution is not holding); ``None`` otherwise.
    ``chance_in_budget``: the probability that the transition completes by the run's last
    budgeted step: the forecast's own (:func:`~nht_monitor.analysis.forecast.chance_by`)
    calibrated on the task families (``AnalyzerSettings.chance_slope``); for a median with
    no step (past where a planned lr's τ clock stops) the law's log-normal against the τ
    the plan still holds (:func:`~nht_monitor.analysis.forecast.chance_past_clock`); 1 once
    ``done``; ``None`` without a budget or a forecast.
    The interval's upper end is ``None`` when the τ clock stops before it (an lr schedule
    annealed to zero, a plan that ends): no step holds the belief's 90 % quantile.
    """

    status: TransitionStatus = "not_expected"
    forecast_step: float | None = None
    interval: tuple[float, float | None] | None = None
    forecast_tau: float | None = None
    steps_remaining: float | None = None
    relapse_val_acc: float | None = None
    chance_in_budget: float | None = None

    @property
    def median_past_clock(self) -> bool:
        """A forecast still expected whose median has a τ but no step: it lies past where
        the τ clock stops (a planned lr that anneals first)."""
        return (self.status in ("pending", "imminent") and self.forecast_step is None
                and self.forecast_tau is not None)

    def holds(self, step: float) -> bool | None:
        """Whether the 80 % interval holds ``step`` (an open upper end holds every step
        from the low end on); ``None`` without an interval."""
        if self.interval is None:
            return None
        low, high = self.interval
        return low <= step and (high is None or step <= high)


class HeadSignal(_Model):
    """The same rules applied to the classification head's norm (the early warning).

    ``lead_steps``: how many steps earlier the head signal reached its current regime
    (or flagged the transition) than the total norm did; ``None`` while not known.
    """

    regime: Regime = "undetermined"
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    transition: Transition = Field(default_factory=Transition)
    flagged_step: int | None = None
    lead_steps: float | None = None
    v_peak: float | None = None
    decay_rate: float | None = None


class CleanNormSeparation(_Model):
    """Clean Norm Separation: are shortcut and structured norms clearly distinct?

    ``v_sc``: shortcut-solution norm estimate (the peak); ``v_st``: structured-solution
    norm estimate; ``ratio`` = v_sc / v_st; ``separation`` a score in [0, 1];
    ``holds`` ``None`` while undecided.
    """

    v_sc: float | None = None
    v_st: float | None = None
    ratio: float | None = None
    separation: float | None = None
    holds: bool | None = None


class Advice(_Model):
    """What to change, with numbers.

    ``action``: ``raise_weight_decay`` | ``lower_weight_decay`` | ``keep`` | ``none``
    (no advice possible); ``suggested_weight_decay`` at the current learning rate;
    ``forecast_steps`` the transition delay expected with the suggestion;
    ``alternatives`` maps a change (``"halve"``, ``"double"``…) to its forecast delay.
    """

    action: Literal["raise_weight_decay", "lower_weight_decay", "keep", "none"] = "none"
    text: str = ""
    suggested_weight_decay: float | None = None
    budget_steps: int | None = None
    forecast_steps: float | None = None
    alternatives: dict[str, float | None] = Field(default_factory=dict)


class Assessment(_Model):
    """The analyzer's verdict at one point of a run.

    ``step``/``tau``/``lr``/``weight_decay``/``norm``/``head_norm`` echo the last sample
    seen; ``v_peak`` is the peak total norm so far, ``decay_rate`` the fitted decay rate
    of the norm per unit τ (positive when decaying). ``rule``: the rule that decided
    (``strong``, ``fitted``, …: :data:`nht_monitor.analysis.rules.RULES`, or
    ``flat_and_unlikely``: rule 7e, read after them); ``findings``: the kinds of finding
    behind ``reasons``, in order — stable names for programs (``too_late``: the forecast
    lies beyond the budget; ``flat_and_unlikely``: its transition unlikely within it while
    held-out accuracy stays flat; ``held_up``, ``decaying``,
    ``settled``, …: :mod:`nht_monitor.analysis.wording`).
    """

    run_id: str | None = None
    n_samples: int = 0
    step: int | None = None
    tau: float | None = None
    lr: float | None = None
    weight_decay: float | None = None
    norm: float | None = None
    head_norm: float | None = None
    regime: Regime = "undetermined"
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    reasons: list[str] = Field(default_factory=list)
    rule: str | None = None
    findings: list[str] = Field(default_factory=list)
    phase: Phase | None = None
    transition: Transition = Field(default_factory=Transition)
    head: HeadSignal | None = None
    cns: CleanNormSeparation = Field(default_factory=CleanNormSeparation)
    v_peak: float | None = None
    decay_rate: float | None = None
    clamped: bool = False
    advice: Advice | None = None
