"""Every threshold of the rule engine, in one validated settings model.

The defaults were calibrated on the modular-arithmetic *calibration set* (p = 97,
embedding + MLP, full-batch AdamW, λ × init-scale × seed; see docs/FORECAST.md for the
grid and the procedure) and never tuned on the validation set.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AnalyzerSettings(BaseModel):
    """Named, documented thresholds of :class:`nht_monitor.analysis.Analyzer`.

    Metric names: the analyzer reads the first present key of each ``*_keys`` tuple
    from ``Sample.metrics`` (all of them: :attr:`metric_keys`);
    ``watch(metric_names={...})`` maps a user's own names to these.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- which metrics mean what -------------------------------------------------------
    train_loss_keys: tuple[str, ...] = ("train_loss", "loss")
    """Training-loss metric names, first present wins."""
    train_acc_keys: tuple[str, ...] = ("train_acc", "train_accuracy", "acc", "accuracy")
    """Training-accuracy metric names, first present wins."""
    val_acc_keys: tuple[str, ...] = ("val_acc", "test_acc", "val_accuracy", "test_accuracy",
                                     "worst_group_acc")
    """Held-out accuracy names; used for the *actual* transition (backtest, scorecard)
    and for ``transition.status == "done"``."""

    # --- evidence needed before saying anything ----------------------------------------
    min_samples: int = Field(8, ge=2)
    """Fewer samples than this: ``undetermined``."""

    # --- fit detection (end of the fitting phase) --------------------------------------
    fit_train_acc: float = Field(0.99, gt=0.0, le=1.0)
    """The model has fitted the training set once train accuracy reaches this."""
    fit_train_loss: float = Field(0.05, gt=0.0)
    """…or once the training loss falls to this (used when no accuracy is logged)…"""
    fit_median_evals: int = Field(3, ge=1, le=100)
    """…both read on the median of the last this many evaluations (of all while fewer):
    one noisy row is no fit (a public script's last minibatch of 48 examples, at 48/48 once
    an epoch, set the fit while the whole training set stood at 0.92). 1: the latest; at
    most 100 (the live tracker holds up to this many candidates of this many values)…"""
    fit_flat_evals: int = Field(5, ge=2)
    """…or once the training metric is *relatively* fitted: its last this many
    evaluations all lie near its best so far (dropout, augmentation or label noise can
    hold train accuracy below ``fit_train_acc`` for ever)…"""
    fit_flat_acc: float = Field(0.01, gt=0.0, lt=1.0)
    """…"near" for accuracy: within this (absolute) of the best…"""
    fit_flat_loss: float = Field(0.1, gt=0.0, lt=1.0)
    """…for loss: within this fraction of the lowest…"""
    fit_flat_share: float | None = Field(0.2, gt=0.0, lt=1.0)
    """…and, for accuracy, its best has held: it last rose by more than that "near" (a
    *jump*) at or before (1 − this) × the step, so it has stayed near over this share of
    the steps so far. Five evaluations logged five steps apart on a steadily climbing
    accuracy are no fit: a public transformer's fit was read at step 495 at accuracy 0.80
    where 0.99 came at 999. Not for a loss alone: a cross-entropy keeps falling on a fitted
    training set (the same log without accuracy: fit at 4,976). ``None``: the evaluations
    alone…"""
    fit_min_acc: float = Field(0.8, gt=0.0, le=1.0)
    """…provided the model has learnt: accuracy at least this, or (loss only) the loss at
    most ``fit_max_loss_ratio`` × its first value. Held-out accuracy reaching
    ``done_val_acc`` also counts as fitted: a run that generalises is past its fit."""
    fit_max_loss_ratio: float = Field(0.2, gt=0.0, lt=1.0)

    # --- diverged ----------------------------------------------------------------------
    explode_factor: float = Field(1e3, gt=1.0)
    """Diverged when the norm exceeds this multiple of the first finite norm."""
    diverged_lost_fit: bool = True
    """Diverged also when the training set was fitted and not one of the last
    ``train_acc_evals`` evaluations of train accuracy is half learnt (rule 2b,
    ``lost_fit``; a spike that recovers within them is not): a loss spike undid the fit
    while the norms stayed finite (a public MLP's training loss jumped from 1e-7 to 525
    at step 13,724 and its accuracy stayed at chance; the decay rules went on forecasting
    a transition). Needs train accuracy."""

    # --- clamped -----------------------------------------------------------------------
    clamp_window: int = Field(40, ge=3)
    """Last this many (stored) points are checked for a pinned norm. 20 until stop 60: a
    public run at ηλ 0.045 per step (okitouni/simple-grokking at λ 1.5, fitted at 19,
    transitioned at 118) read ``clamped`` at 3 of 616 assessments around step 560, at the
    flat bottom its norm reached after the transition (range 7e-6 of its level over 20
    points and 0.86 τ; 1.9e-5 over 40). No run of rounds 65–88 and no other of 45 public
    logs read ``clamped`` with either."""
    clamp_min_tau: float = Field(0.3, ge=0.0)
    """The window reaches back at least this much τ (weight decay alone would have moved
    the norm ~26 %), whatever ``clamp_window`` covers: 0.02 until stop 44, when smooth
    full-batch norms turning at their peak or settled after the transition read
    ``clamped`` on 25 runs of rounds 17–42 (6 before their transition; none at 0.3)."""
    clamp_rel_range: float = Field(1e-5, gt=0.0)
    """Clamped when (max - min) / mean of the norm over the window is below this and below
    1% of the τ elapsed over the window (what weight decay alone would change), after the
    fit; or when the header's ``config["norm_clamp"]`` is set."""

    # --- decay detection (intermediate) -------------------------------------------------
    decay_min_drop: float = Field(0.05, gt=0.0, lt=1.0)
    """Intermediate needs the norm at least this fraction below its peak…"""
    decay_min_rate: float = Field(0.05, ge=0.0)
    """…and a fitted decay rate of at least this (per unit τ) over the recent window."""
    flag_drop: float = Field(0.05, gt=0.0, lt=1.0)
    """A signal (total or head norm) *flags* the transition at the first step after the
    fit where it is this fraction below its running peak (used for ``lead_steps``)."""
    fit_window: float = Field(0.5, gt=0.0, le=1.0)
    """The decay rate is fitted on the last this fraction of the post-peak τ span."""

    # --- weak --------------------------------------------------------------------------
    weak_min_tau_after_fit: float = Field(2.0, ge=0.0)
    """Weak when, since the fit, the norm has never come ``flag_drop`` below its running
    post-fit peak over at least this much τ (chosen as about the first calibration
    family's law prior's 90% quantile, 1.17·e^(1.28·0.5) ≈ 2.2; weight decay alone
    shrinks a norm by e^-Δτ, so a norm that has not come down over Δτ = 2 is held up by
    the gradient). Earlier, a norm near its
    post-fit peak is ``weak`` only when the law puts even the early end of the
    transition's interval beyond the budget, else ``undetermined`` ("cannot forecast
    yet"); a norm that came down once and grows again is never weak by this rule. The τ
    counts from the norm's last value below ``weak_min_of_peak`` of its running peak when
    that came after the fit (stop 38): a norm hovering around that line had been read as
    a contracted plateau, then ``weak`` the moment it crossed, Δτ 3–4 after the fit (a
    LayerNorm transformer that transitioned later). Over 1,212 replayed runs of rounds
    4–29 it removed that false alarm and changed 10 late assessments of one ``weak`` run
    (to ``intermediate``), nothing else."""
    weak_min_samples_after_fit: int = Field(5, ge=1)
    """…and at least this many samples since the fit…"""
    weak_min_growth: float | None = Field(0.055, ge=0.0)
    """…and with the norm growing since the fit at least this much per τ (its rate
    over the last ``fit_window`` of the τ since the fit): a norm flat within it neither
    grows nor decays, and waits for the budget verdict or a held-out trend instead.
    ``decay_min_rate``'s value, its mirror image, from stop 48 to 57. On the cached rounds 17–55
    (1,640 runs) the time rule called 10 runs ``weak`` first: the 6 that never
    transitioned grew at 0.049–0.14/τ, the 4 that did at 0.020–0.038/τ. 0.05 until stop
    58: on the 716 runs of rounds 65–81 three runs that transitioned later (at 71–85 % of
    the horizon) were called ``weak`` first by this rule, growing at 0.0508, 0.054 and
    0.0508/τ, each beside a sibling (another seed or λ of its sweep) that never
    transitioned and grew at 0.0523–0.083/τ. Chosen on rounds 65–80 (669 runs): 0.055
    removed both of their false alarms (8 → 6 of 269 transitioned) at no cost in labels
    at 30 % of the horizon (583); 0.06 cost one. One truly weak run (0.0523/τ) is
    ``weak`` from step 2,955 instead of 420 of 3,000. ``None``: a flat norm counts as held
    up, as before."""
    weak_min_of_peak: float = Field(0.84, ge=0.0, le=1.0)
    """…and with the norm still at least this fraction of its largest value so far (pre-fit
    included). A norm already well below its peak has contracted (typically during the
    fit, from a large initialisation) and sits on a plateau that grokking often ends: not
    the weak regime's growing norm. Chosen on the task families of
    ``benchmarks/families.py`` (``choose_weak_min_of_peak``: the threshold that best
    separates runs still to transition from runs that never do, at Δτ 2 after the fit;
    0.835 on the first 13, 0.84 on rounds 17–43 and 65–80 since stop 58, see
    ``delay_tau``); its leave-one-family-out table chooses it without the scored family
    (0.775–0.89)."""

    weak_max_heldout_progress: float | None = Field(0.8, gt=0.0, le=1.0)
    """…and with held-out accuracy (the median of its last ``heldout_min_evals``
    evaluations since the fit) less than this share of the way, in logit, from its first
    evaluation to ``done_val_acc``: a run whose held-out accuracy has come most of the
    way is learning the structured solution whatever its norm does (a transformer at
    0.86–0.88 for 150 steps before reaching 0.9 was called ``weak`` when a dip broke its
    rising trend). ``None``: no such check. 0.6 and 0.8 did the same on the first six
    rounds of task families (one false alarm fewer, nothing else changed)."""

    budget_quantile: float = Field(0.1, gt=0.0, lt=0.5)
    """``weak`` from the budget when this quantile of the transition forecast (given no
    transition yet) lies beyond it; 0.1: the early end of the 80 % interval. 0.3, chosen
    on the first four rounds of task families (``benchmarks/families.py``), gained 2 runs
    at 30 % of the horizon on a sixth round but raised a false alarm there and one on a
    public transformer run right after its fit, so the default stayed 0.1. The
    early-stop integration waits for the whole 80 % interval either way."""
    weak_max_chance: float | None = Field(0.1, gt=0.0, lt=1.0)
    """Rule 7e (``flat_and_unlikely``, stop 57): an ``intermediate`` run whose pending
    transition has a chance within the budget below this, while held-out accuracy has not
    come ``heldout_min_gain`` off its floor over the evaluations since the fit that the
    budget verdict waits for (2 × ``heldout_min_evals``), is ``weak`` (its forecast kept).
    0.1, the threshold of the
    ``NhtTransitionUnlikelyInBudget`` alert: replayed on the 578 labelled runs of rounds
    65–78 of the task families, it changed 29 runs, all truly weak: ``weak`` sooner by a
    median 12.5 % of the horizon (a warm-up + cosine transformer at λ 0.6 from step 876
    instead of 1,596 of 2,500), 4 more right at 30 % of the horizon (486 → 490), no run
    that later transitioned called ``weak``; 0.15 or 0.2 with a gain of 0.01–0.015 raised
    false alarms there. ``None``: off."""
    annealing_step_trend: bool | Literal["auto"] = "auto"
    """While the learning rate anneals (the last logged lr at most
    ``annealing_lr_fraction`` of its peak), the budget verdict's ``weak`` waits while
    held-out accuracy's logit, a least-squares line against the *step* over its last
    ``step_trend_evals`` evaluations, reaches ``done_val_acc`` within the budget
    (``annealing_trend``): on a cosine tail held-out accuracy can climb to the transition
    on the step clock while the τ clock, slowed to a stop by the plan, leaves less than
    the law's early end. ``"auto"`` (the default since stop 50): on when the log's header
    says the model has no normalization layers, as ``budget_law_floor``. Opt-in from stop
    38 to 49: on every annealing family of rounds 17–64 it removed 4 of 8 false alarms
    without normalization layers (1 of 1 with them) and cost 5 (10) runs right at 30 % of
    the horizon; read only at or below 0.8 of the peak lr, it removes the same 4 and
    costs none at 30 % (with LayerNorm it then removes none, hence ``"auto"``); truly
    weak runs read ``weak`` for good later (at the median, 0.46 of the horizon instead
    of 0.37). On teddykoker/grokking (a transformer with LayerNorm, cosine plan) it
    flipped the regime of truly weak runs between ``weak`` and ``intermediate``;
    ``"auto"`` leaves such models alone."""
    annealing_lr_fraction: float = Field(0.8, gt=0.0, lt=1.0)
    """``annealing_step_trend`` reads once the last logged lr is at most this fraction of
    its peak: where the plan has slowed the τ clock by a fifth or more, so the step clock
    says something the τ clock does not (near the peak the two agree)."""
    step_trend_evals: int = Field(10, ge=3)
    """The held-out evaluations ``annealing_step_trend`` fits its line on."""
    budget_law_floor: bool | Literal["auto"] = "auto"
    """When the fitted decay sped the forecast up, the budget verdict's quantile is never
    earlier than the law's own ``budget_quantile`` of Δτ from V_sc (unconditioned:
    ``delay_tau`` × e^(z·``delay_log_sd``), 1.39 τ by default), unless the held-out
    trend reaches the transition sooner (a trend that counts: not one reaching beyond
    ``heldout_max_reach`` × its span, since stop 36): a fast post-fit decay shortens the
    forecast, not the least delay the law allows. ``"auto"`` (the default since stop 34):
    on when the log's header says the model has no normalization layers (``watch()``
    records them), off when it has some or the header does not say. On the eight rounds of task
    families regenerated at stop 32 (no delayed run transitioned sooner than 1.13 τ after
    V_sc; no run whose whole budget was about 1 τ transitioned at all) it moved 10 such
    runs from ``intermediate`` to ``weak`` at 30 % of their horizon (406 → 416 of 450) with
    no false alarm added; on the six minibatch rounds, never used to choose it, 3 (155 →
    158 of 247), none added. It fails on LayerNorm transformers, which transition sooner
    (0.44–0.99 τ after V_sc on Noaillesss/grokking and teddykoker/grokking): with a budget
    ending a little after such a transition it reads ``weak`` for most of the run
    (teddykoker λ 0.2, transition at step 5,160, budget 5,400: `weak` from step 810 on,
    where the belief alone says ``weak`` only at 550–580) — LayerNorm weakens the norm's
    link to the transition, hence ``"auto"``. ``True``/``False`` force it."""
    weak_before_fit: bool = True
    """Where the floor is on, a run still fitting whose budget holds less τ than the floor
    even from a fit now, with its norm not contracted (at least ``weak_min_of_peak`` of
    its largest value), is ``weak`` before its fit (rule 6c, ``no_room_after_fit``), and
    stays so through the fit while held-out accuracy stays on its floor. Opt-in from stop
    36 to 54: on rounds 4–21 of the task families it put 8 more runs right at 30 % of
    their horizon with no false alarm; on three rounds at 60–85 % training fraction, 10
    more but 4 false alarms, on runs that transitioned 0.44–0.89 τ after V_sc. On 312
    runs of rounds 67–73 it put 6 truly weak runs right at 30 % and gave 2 false alarms,
    both on minibatch transformers whose norm had fallen to 0.54–0.61 of its peak while
    they still fitted (they transitioned 160–410 steps after a late fit). With the norm
    required not to have contracted (stop 55), on the 360 runs of rounds 65–73: 7 more
    right at 30 % (278 → 285 of 349), no false alarm, no run more flapping; on round 74,
    scored once afterwards, 2 more (33 → 35 of 41), no false alarm. On by default since
    stop 55."""
    expect_before_fit: bool = True
    """A run still fitting with half the training set learnt, whose train accuracy's line
    projects a fit that leaves the budget at least the law's ``expect_quantile`` of Δτ,
    is ``intermediate`` (transition ``pending``, no forecast step) before its fit (rule
    6d, ``room_after_fit``; stop 37). Replayed on rounds 4–21 of the task families, where
    most misses at 30 % of the horizon were minibatch runs not yet fitted, it put 43 more
    runs right there (minibatch 158 → 200 of 247, full batch 476 → 477 of 506), with the
    false alarms and the end unchanged; on rounds 22–28, never used to choose it, 17 more
    (of 312: round 24 +10, round 27 +6, round 28 +1). ``intermediate`` is no alarm, so a
    run that fits too late to transition reads it until the post-fit rules say
    ``weak``."""
    expect_while_held: bool = True
    """A norm held up after the fit (rule 7d: not yet 5 % below V_sc) that is not ``weak``
    — not held long enough or not growing for the time rule, and the law's early end
    (``budget_quantile`` of Δτ from V_sc) within a known budget — is ``intermediate``,
    transition ``pending`` without a forecast step (the decay comes first), phase
    ``shortcut``: rule 7d's counterpart of 6d (``room_after_fit``; stop 52). Off: such a
    run is ``undetermined`` ("cannot forecast"). Replayed on the cached rounds 17–67 of the
    task families it put 25 more runs without normalization layers right at 30 % of the
    horizon (1,352 → 1,377 of 1,704) and 5 more with LayerNorm (372 → 377 of 476), and
    called 18 + 1 truly weak runs ``intermediate`` there instead of ``undetermined``; the
    end, the false alarms and every forecast unchanged (``intermediate`` is no alarm)."""
    expect_quantile: float = Field(0.1, gt=0.0, lt=1.0)
    """The quantile of the law's delay (from V_sc) rule 6d needs room for after the
    projected fit: 0.1, the early end of the 80 % interval, as ``budget_quantile`` reads
    it after the fit (stop 49; the median until then). Replayed on rounds 17–59 of the
    task families it put 16 more runs without normalization layers right at 30 % of the
    horizon (1,100 → 1,116 of 1,387; mostly warm-up + cosine minibatch runs whose plan
    left too little τ for the median, which transitioned anyway) and called 10 truly weak
    runs and 7 that never fitted ``intermediate`` there instead of ``undetermined``; false
    alarms, forecasts and the end unchanged (``intermediate`` is no alarm)."""
    weak_forecast_factor: float = Field(10.0, gt=0.0)
    """Weak also when the forecast transition lies beyond the budget
    (``budget_steps``, else the header's planned steps) or, without any, more than this
    many times the steps so far in the future."""
    budget_steps: int | None = Field(None, ge=1)
    """The run's step budget (optimizer steps); default: the header config's planned steps
    (:func:`config_budget`: ``budget_steps``, ``num_steps``, ``max_steps``,
    ``total_steps``, ``steps``, or ``epochs`` × ``steps_per_epoch``; also one level down,
    e.g. ``config["demo"]["steps"]``). ``watch(budget_steps=N)`` overrides it."""

    # --- strong ------------------------------------------------------------------------
    strong_collapse: float = Field(0.5, gt=0.0, lt=1.0)
    """Strong when, without having fitted, the norm fell below this fraction of its peak…"""
    strong_init_peak: float = Field(1.05, ge=1.0)
    """A strong run whose peak norm is within this factor of its first (the norm never grew
    above its initialization) collapsed from the initialization (finding ``from_init``):
    the λ advice then lowers λ by an order of magnitude instead of by the collapse's
    (peak / now)², as an initialization is no equilibrium norm of any λ (stop 65: all 101
    strong runs of rounds 89–95 peak at their first norm; of the 95 whose family has λ
    that transitioned, the collapse advised a λ inside that range for 2, ÷10 for 42,
    median distance ×5.0 → ×1.5; a public sparse-parity MLP at λ 0.1 was told ÷100, to a
    λ that stayed weak, where ÷10 transitions)."""
    strong_max_train_acc: float = Field(0.5, gt=0.0, le=1.0)
    """…and train accuracy has come less than this share of the way from its first
    evaluation (chance) to 1 (half learnt, ``rules.half_learnt``: 0.51 on a 50-class task,
    0.75 on a two-class one; until stop 40 an accuracy of 0.5, which a two-class task
    starts at, so a binary run that learnt nothing was never ``strong``)…"""
    train_acc_evals: int = Field(20, ge=1)
    """Rule 6 reads train accuracy as the mean of its last this-many evaluations, and its
    best as the best such mean (``facts.best_mean``, over every evaluation observed:
    ``RunFacts.best_acc``; the benchmark's truth the same):
    one step's accuracy on a minibatch of 32 swings by ±0.09 around 0.6, so a single
    evaluation made a `strong` run flicker and its luckiest minibatch count as learnt
    (stop 40; 1 reads the last evaluation alone, as before)."""
    strong_max_gain: float = Field(0.25, gt=0.0, le=1.0)
    """…and has come less than this share of the way from its first evaluation (chance)
    to 1 (learning suppressed: nothing learnt; a run holding 40 % of the way, as SGD
    λ 0.006 on the families does for Δτ 3 before it fits and transitions, has learnt
    something, and its stall may be a plateau); without a logged accuracy: …"""
    strong_min_loss_ratio: float = Field(0.5, gt=0.0)
    """…the training loss is still above this fraction of its first value; and learning
    has stalled: over the last ``strong_stall_tau`` of τ (weight decay alone shrinks a
    norm by e^-Δτ over it) and at least ``strong_stall_evals`` training evaluations…"""
    strong_stall_tau: float = Field(2.6, gt=0.0)
    """(Δτ 2.6: decay alone would have shrunk the norm to e^-2.6 ≈ 7 % of itself.) Was
    Δτ 1 until stop 34: on minibatches learning can start so slowly (train accuracy up
    ~0.015 per τ for Δτ 2–4 after the init norm's fall) that a span of 1 read the slow
    start as a collapse — six false ``strong`` alarms on the three minibatch rounds 16–18,
    all on runs that fitted and transitioned. Chosen on those three and the nine
    full-batch rounds (a grid of Δτ 1–4; 2.5 and 2.75 alike best: no false alarm on the
    minibatch rounds, one fewer on the full-batch ones, two ``strong`` runs caught after
    30 % of the horizon instead of before; from Δτ 3 full-batch runs are caught later)."""
    strong_stall_evals: int = Field(5, ge=2)
    strong_stall_acc: float = Field(0.02, gt=0.0)
    """…accuracy rose by less than this, or (loss only)…"""
    strong_stall_loss: float = Field(0.05, gt=0.0, lt=1.0)
    """…the loss fell by less than this fraction. A norm that shrinks while the model is
    still learning (an N(0,1) embedding halving during the fit) is not ``strong``."""
    strong_too_slow: bool = False
    """Opt-in: strong also when train accuracy, not stalled, rises so slowly along a
    least-squares line over ``strong_stall_tau`` that it would reach ``fit_min_acc`` only
    beyond the budget (``too_slow``; the budget verdict of ``weak``, for the fit). Without
    it the same verdict is given only once the budget ends no further ahead than the
    window reaches back (the line extended no further than the span it was fitted on;
    stop 34: two never-fitting runs of a minibatch round read "still fitting" at the
    end). Added
    for one run of the first development families; on the eleven rounds of task families
    on this machine it changed no label on the nine full-batch rounds and raised two of
    the six false alarms of the two minibatch rounds, where learning starts slowly and
    then bends up (a line through the slow start reached 0.8 beyond the budget; the two
    runs, an MLP at batch 128, fitted at steps 1,197 and 1,511 and transitioned)."""
    strong_min_budget_share: float = Field(0.2, ge=0.0, lt=1.0)
    """Rule 6a (``strong_waits``, stop 59): rule 6 waits until this share of the budget has
    passed while the norm is at least ``strong_wait_min_of_peak`` of its peak; meanwhile
    the run is ``undetermined`` (fitting), the reasons giving rule 6's reading and the step
    it waits for. Near the strong boundary a slow start reads as a collapse and then
    learns: five minibatch MLPs at λ 1.5–1.8 of rounds 65–83 of the task families were
    ``strong`` at steps 270–540 of 3,000, fitted at 942–1,726 and transitioned. Chosen on
    rounds 65–80 (669 labelled runs): false alarms 6 → 3 at 0.15, 1 at 0.2 and 0.25, every
    label at 30 % of the horizon and at the end the same (rule 6 has read the truly strong
    runs by then). 0: no wait; without a known budget rule 6 never waits."""
    strong_wait_min_of_peak: float = Field(0.1, ge=0.0, lt=1.0)
    """…and rule 6a waits only while the norm has not fallen below this fraction of its
    peak since it (its lowest value, so a norm wobbling around the bound does not flip the
    label): the five slow starts were at 0.155–0.197 of it whenever rule 6 read them, while
    most truly strong runs collapse further. On rounds 65–83 the first ``strong`` of a truly
    strong run came at a median 6.5 % of the budget without the wait, 20 % with it at any
    depth, 6.7 % with this bound (no false alarm back at 0.02–0.15; read on the last norm
    instead of the lowest, 65 truly strong runs flipped in and out of ``strong`` three times
    or more, against 30 without the wait); on a public MLP at λ 20 (its norm at ~1 % of its
    peak) ``strong`` from step 440 of 8,000 instead of 1,600. 0: the wait at any depth."""
    strong_long_stall_tau: float = Field(4.0, gt=0.0)
    """Strong also at any accuracy below ``strong_max_train_acc`` (however far from
    chance), when the norm collapsed and learning has stalled (as above) over this much
    τ: weight decay alone would have shrunk any unrefreshed structure to e^-4 ≈ 2 % of
    itself, so the plateau is held by the decay, not on its way to a fit. At or above
    ``strong_max_train_acc`` the same stall is ``undetermined``, said so
    (``partial_stall``, since stop 36: until then it was strong too, and two stalled
    transformers at 0.72–0.79 fitted and transitioned as their cosine annealed)."""

    # --- transition forecast -----------------------------------------------------------
    delay_tau: float | None = Field(3.11, gt=0.0)
    """The law's delay on the clock: the median τ from the post-fit peak V_sc to the
    transition (T = Θ((ηλ)^-1 log(V_sc/V_st)) with the log-ratio over the decay rate held
    fixed). The defaults of this block are calibrated on the delayed runs of the 143 task
    families of rounds 17–43 and 65–80 of ``benchmarks/families.py`` (254 delays; MLP and
    transformer, AdamW and SGD, four ops, training fraction 0.3–0.8, lr 1e-3–1e-1,
    constant and warm-up + cosine plans; ``python benchmarks/families.py calibrate
    --digest benchmarks/calibration/rounds17-43.json --digest
    benchmarks/calibration/rounds65-80.json`` prints them). Until stop 58 they came from
    the first 13 families (2.52, log-sd 0.71, ratio 1.24 with log-sd 0.10, sweep log-sd
    0.25, slope sd 0.34): the delays measured since are longer (median 3.0 τ on rounds
    17–43, 3.4 on 65–80), the forecasts at ¼ of the delay ran early (the truth above
    the 80 % interval in 56 of 158 on rounds 65–80) and truly weak runs waited long for
    the budget verdict. The measured delay ranges over 0.6–7 τ across families, so a
    sweep's own transitioned runs (``reference_runs``) or a backtest of one finished run
    of the task beat any default. ``None``: forecast from the fitted decay only."""
    delay_log_sd: float = Field(0.63, gt=0.0)
    """The law's delay is a log-normal prior with median ``delay_tau`` and this sd of
    log τ (the families' spread). The forecast is that prior conditioned on "not yet"
    (the τ elapsed since V_sc), combined with the fitted decay when there is one, so it
    moves as the run goes and never says "now" only because the prior says so."""
    delay_tail_weight: float | None = Field(0.1, ge=0.0, lt=1.0)
    """This share of the law prior is a second log-normal of the same median and log-sd
    ``delay_tail_log_sd``: a family far slower (or faster) than those calibrated on. The
    early quantiles barely move, but the longer a run has waited past the median the more
    weight the wide part gets, so the forecast grows with the wait. ``None``/0: one
    log-normal (until stop 55). On the 360 runs of rounds 65–73, against one log-normal:
    one false alarm fewer (4 → 3 of 139 transitioned), one run fewer right at 30 % (a
    LayerNorm run; 285 → 284 of 349), MAPE ¼ / ½ / ¾ 31.3 / 11.6 / 8.3 → 31.2 / 11.5 /
    9.0 %, 80 % intervals holding the step over ¼ ½ ¾ 203 → 210 of 270, one run more
    flapping (32). Of weights 0.05 / 0.1 / 0.2 / 0.3 / 0.5 there, 0.1; more weight helps
    a family that waits five times the median (round 74, replayed afterwards: MAPE at ½
    32.5 / 29.4 / 23.1 / 17.7 % at 0 / 0.1 / 0.3 / 0.5) and costs labels at 30 %,
    forecasts by ½ and MAPE at ¾ on the others (0.3: 285 → 279, 91 → 89, 10.5 %)."""
    delay_tail_log_sd: float = Field(1.5, gt=0.0)
    """The log-sd of the prior's tail part (``delay_tail_weight``)."""
    structured_ratio: float = Field(1.21, gt=1.0)
    """Prior for V_sc / V_st: the shortcut norm (largest norm at or after the fit) over
    the structured norm (the norm at the actual transition). The forecast places
    V_st = V_sc / ratio; the median ratio over the families' delayed runs."""
    rate_factor: float = Field(0.8, gt=0.0, le=1.0)
    """The decay slows as the norm nears V_st: the remaining delay is forecast at this
    fraction of the current log-linear rate (calibrated on the first calibration family:
    median of the mean rate from the forecast to the actual transition over the current
    rate; chosen on the 13 families instead, 0.60–0.68, it forecast worse)."""
    ratio_log_sd: float = Field(0.14, ge=0.0)
    """Spread (sd of log ratio) of that prior over the families; sets the 80% interval."""
    heldout_trend: bool = True
    """With a held-out accuracy in the log, the forecast's Δτ to go is a weighted mean in
    log of the norm's (law + decay) and the held-out accuracy's own trend: its logit as a
    line in τ over the last half of the evaluations since the fit (at least
    ``heldout_min_evals`` of them), extended to
    ``done_val_acc`` (the transition's definition; no task constant). The weights are
    shares of precision: the law prior's 1/``delay_log_sd``², the trend's
    (1 + p)/(1 − p)/``heldout_log_sd``², p the share of the way from the first held-out
    evaluation (chance) to ``done_val_acc`` the line has climbed — the geometric mean
    at chance, all trend near ``done_val_acc``; sweep references narrow both log-sds
    alike, so the trend keeps its weight; a trend pointing later than the norm's forecast
    counts as at chance (p = 0: a line in logit runs late while the accuracy creeps
    before its rise). The interval is the norm forecast's with its
    log-widths × √(1 − trend weight) around the new median, its early end never later
    than the norm's own nor the trend's (so ``weak`` from the budget needs all three
    beyond it)."""
    heldout_curvature: bool = True
    """The held-out trend bends: when a parabola in τ through the same evaluations curves
    upwards (a logit accelerating into the rise) and still climbs now, the trend's Δτ is
    the geometric mean of the line's and the parabola's, each extended to
    ``done_val_acc`` (the line runs late on an accelerating logit, the parabola early far
    ahead of its points; the line's significance still decides whether there is a trend
    at all). Chosen on rounds 1–9 of the family benchmark (docs/FORECAST.md, stop 31).
    Until stop 60 only once the norm had come down from V_sc; since, a norm held up bends
    the forecast it reports too (rule 7d's time rule still reads the line, and so does
    its budget verdict until held-out accuracy has come ``held_verdict_bend_progress`` of
    the way)."""
    heldout_recent_share: float | None = Field(0.25, gt=0.0, lt=1.0)
    """A trend bending upwards reads the line through the last this share of its
    evaluations (at least ``heldout_min_evals``) instead, when that line is steeper and
    reaches ``done_val_acc`` sooner (stop 62): late in a delay the accuracy's climb
    steepens faster than a parabola through the whole window says, and the bent trend
    ran late. Found on public code (progress-measures-paper, λ 1: at 77 % of the delay the
    forecast said step 3,528 for a transition at 2,751, held-out accuracy 0.69 and rising
    0.1 per 200 steps). On the replayed rounds 65–80 of the family benchmark (173 delayed
    runs) the forecast's MAPE at ¾ / 0.9 / 0.95 of the delay went 8.1 / 5.5 / 4.3 % →
    7.6 / 4.3 / 3.0 % (share 0.1: 7.5 / 3.9 / 2.7 %, twice the label changes; ½: 8.1 / 5.2 /
    3.8 %), MAPE at ¼ and ½, the regime at 30 % of the horizon and false alarms unchanged;
    4 truly weak runs read ``intermediate`` for 2 assessments each. ``None``: off."""
    heldout_tangent: bool = True
    """The held-out trend slows: when the parabola through its evaluations curves
    downwards (a logit decelerating) and still climbs now, the trend's Δτ is that of its
    tangent now, from the parabola's value now, to ``done_val_acc`` (the line through the
    same points runs early on it; the parabola itself may never get there). Not in rule
    7d's time rule, as ``heldout_curvature``."""
    heldout_max_reach: float | None = Field(8.0, gt=0.0)
    """The held-out trend gets weight 0 in the forecast's median and interval when its
    Δτ to ``done_val_acc`` is more than this many times the τ its fitted evaluations
    cover (a logit barely off chance, extended 10–20 × its span, pointed far too late);
    it still counts as a trend (rule 7d, the early end). ``None``: any reach. Chosen on
    rounds 1–10 of the family benchmark (docs/FORECAST.md, stop 31)."""
    heldout_interval_scale: float = Field(0.3, gt=0.0, le=2.0)
    """When the held-out trend has a weight w > 0 in the forecast, the combined 80 %
    interval's log-widths around its median are this × √(1 − w) of the norm's own (√(1 − w)
    alone would count the trend as uncertain as the law's prior; its intervals held the
    truth 94 % of the time at half the delay). 1: no narrowing; above 1: wider. Chosen by
    the same rule twice: the value on a grid that brings each round's coverage at ½ the
    delay nearest 80 %, weighted by its delayed runs (least squares) — in stop 47 on the
    cached rounds 17–53 without LayerNorm (grid 0.4–0.75: 0.5; 0.75 from stop 42 until
    then), and in stop 65 on rounds 89–93 regenerated with that stop's engine (58 delayed
    runs; grid 0.2–0.5: 0.3; at 0.5 their intervals held the truth 97 % of the time at ½,
    at 0.3 86 %), then scored on rounds 94–95, not used to choose: at ½ 96 → 84 %, at ¼ and
    ¾ unchanged (85 %, 88 %), no label or forecast changed (the budget verdict reads the
    unnarrowed early end, ``budget_unnarrowed``), the chance's Brier score at 30 / 50 % of
    the horizon 0.102 → 0.095 / 0.104 → 0.089 (docs/FORECAST.md, stop 65). A model with
    normalization layers gets ``heldout_interval_scale_normalized`` instead."""
    heldout_interval_scale_normalized: float | None = Field(1.2, gt=0.0, le=2.0)
    """``heldout_interval_scale`` for a model whose header records normalization layers
    (LayerNorm, RMSNorm…; ``watch()`` records them). Such a model's held-out accuracy slows
    on its way up, its forecasts at ½ the delay run early, and with the plain scale of
    stops 42–46 (0.75) its intervals held the truth 73 % of the time at ½ (91 % without
    normalization layers, rounds 17–48 of the family benchmark). ``None``:
    ``heldout_interval_scale`` for every model. Chosen on the four LayerNorm rounds 44–46
    and 48: the value on a grid of 0.75–2.0 that brings each round's coverage at ½ nearest
    80 % (least squares); 82 % at ½ and 81 % at ¾ pooled then (docs/FORECAST.md, stop 46).
    Rechecked in stop 47 on the six LayerNorm rounds 44–46, 48, 49 and 52 by the plain
    scale's rule (each round weighted by its delayed runs) and kept."""
    budget_unnarrowed: bool = True
    """The budget verdict (``weak`` when even the early end lies beyond the budget, and a
    sweep's early stop) reads the trend-combined interval's early end before
    ``heldout_interval_scale`` narrows it (log-width √(1 − w) of the norm's; the scale's
    when it widens): the narrowing calibrates the interval's coverage, and an alarm should
    not come sooner for it. On the cached rounds 17–43, 47, 50 and 51 without LayerNorm
    (1,200 runs) it removed 2 of 18 false alarms, both minibatch warm-up + cosine MLPs read
    `weak` a few hundred steps before their transition, and cost one truly weak run its
    label at 30 % of the horizon (862 → 861 of 1,102); intervals unchanged; models with
    normalization layers, whose scale widens, unchanged (docs/FORECAST.md, stop 46)."""
    heldout_log_sd: float | None = Field(None, gt=0.0)
    """The held-out trend's log-sd at chance (see ``heldout_trend``); ``None``: the law
    prior's ``delay_log_sd`` (the two count alike). A sweep calibration scales it by the
    calibrated law's log-sd over the prior's."""
    heldout_later_weight: float | None = Field(0.25, ge=0.0, lt=1.0)
    """The held-out trend's weight in log Δτ when it points later than the norm's
    forecast (a line in logit runs late while the accuracy creeps before its rise);
    ``None``: counted as at chance, its progress taken as 0 (½ with the default log-sds;
    stops 25–60). Stop 61, chosen on rounds 65–80 (696 runs; 0 / 0.1 / 0.25 / 0.35 / at
    chance): MAPE at ½ of the delay 11.3 / 11.0 / **10.8** / 11.0 / 11.6 %, at ¾ 7.1 /
    7.5 / 8.1 / 8.7 / 9.8 %; one label of 140 k assessments changed. Two public scripts
    (Sea-Snell/grokking, stop 28; Tsili42/parity-nn, stop 61) had forecasts 38–64 % late
    from such trends."""
    held_verdict_bend_progress: float | None = Field(0.35, ge=0.0, le=1.0)
    """Rule 7d's budget verdict (a norm held up since the fit) reads the held-out trend
    bent, as the forecast it reports does, once held-out accuracy has come this share of
    the way to ``done_val_acc`` (the trend's ``progress``); below it, or with ``None``, the
    trend's line (stop 60: bent from the start, truly weak runs lost their ``weak`` for a
    while). Stop 61: a public transformer (danielmamay/grokking, λ 0.6, fitted at 56 % of
    its budget, its norm still growing) read ``weak`` at steps 4,320–4,710 with held-out
    accuracy 0.13–0.27 and accelerating; the line reached 0.9 after the budget, the bent
    trend before it; it transitioned at 5,301 of 6,000. Rounds 65–80 (0 / 0.2 / 0.35): 9 /
    4 / 1 truly weak runs changed for 84 / 41 / 12 assessments, runs flapping 53 → 57 /
    56 / 53; rounds 81–89: one assessment changed with either 0.2 or 0.35."""
    heldout_min_evals: int = Field(5, ge=4)
    """…fitted on at least this many evaluations: the last half of those since the fit,
    or the last this many while the half holds fewer (since stop 60; until then the trend
    waited for twice as many, and a public script evaluating every 100 steps, whose
    held-out accuracy rose through the fit to the transition 1,000 steps later, had its
    first forecast at 73 % of the delay instead of 46 %; no label changed on the 1,080 runs
    of rounds 65–88)…"""
    heldout_min_t: float = Field(3.0, ge=0.0)
    """…with a slope at least this many standard errors above 0 (a logit barely rising
    off chance extends to any Δτ at all)…"""
    heldout_min_gain: float | None = Field(0.02, ge=0.0, lt=1.0)
    """…and held-out accuracy (the median of its last ``heldout_min_evals`` evaluations)
    at least this much above its lowest evaluation since the trend's start (also for
    ``annealing_step_trend``'s line): near zero a logit moves a long way on one more
    example right. Stop 53: a public MLP (okitouni/simple-grokking, λ 0.003, never
    transitioned) went from 1 to 2 of 1,124 held-out examples right, read as a logit
    climb bending upwards, and was `intermediate` at 30 % of its budget (`weak`
    before and after). Replayed on nine regenerated groups of rounds 65–70 of the family
    benchmark (216 runs): 0.02 changed nothing; 0.05 moved one forecast at ½ on round 69
    (8.6 → 21.7 %).
    ``None``: no such check."""
    imminent_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    """``imminent`` when the remaining delay is below this fraction of the whole delay."""
    max_forecast_steps: float = Field(1e9, gt=0.0)
    """Forecasts further out than this many steps are reported as not expected."""
    heldout_floor_share: float | None = Field(0.8, gt=0.0, le=1.0)
    """While held-out accuracy has not come ``heldout_min_gain`` off its floor since V_sc
    (over at least ``heldout_min_evals`` evaluations), the transition is at least the τ
    elapsed since V_sc / this share away, and the law's belief is conditioned on that
    instead of on the τ elapsed (stop 59). On the 173 delayed runs of rounds 65–80 of the
    task families held-out accuracy came off its floor at a median 37 % of the delay from
    V_sc (90th percentile 58 %; 20 runs not before the transition), and forecasts made
    while it had not ran early: at ½ of the delay by a median 17 % (26 forecasts). Chosen
    there among 0.6, 0.7 and 0.8: MAPE at ¼ / ½ of the delay 26.5 / 13.1 → 24.7 / 11.8 %
    at 0.8 (0.7: 23.2 / 11.6 %, but a false alarm more), 583 → 585 of 669 right at 30 % of
    the horizon, false alarms and the end unchanged. ``None``: off."""
    chance_slope: float = Field(0.65, gt=0.0, allow_inf_nan=False)
    """``Transition.chance_in_budget`` is σ(``chance_slope`` · logit(c) + ``chance_shift``)
    of the forecast's own chance c that the transition comes by the budget
    (:func:`~nht_monitor.analysis.forecast.chance_by`). The forecast is a belief about *when*
    the transition comes, given that it comes; this map (logistic regression of the outcome
    on logit(c)) folds in the runs where it never comes. Fitted on the cached rounds 17–53
    of the task families at 30, 50 and 70 % of the horizon (761 forecasts, the transition
    not yet come; stop 47, for the narrower plain ``heldout_interval_scale``; first fitted
    in stop 39 on rounds 5–29, refitted in stop 42); 1 and 0: c itself."""
    chance_shift: float = Field(-1.69, allow_inf_nan=False)
    """See ``chance_slope``."""
    done_val_acc: float = Field(0.9, gt=0.0, le=1.0)
    """The *actual* transition: first step at which held-out accuracy reaches this."""
    heldout_relapse_evals: int = Field(5, ge=1)
    """After the transition: held-out accuracy has *fallen back* (the structured solution
    is not holding) when the median of its last this many evaluations is below
    ``done_val_acc`` (``Transition.relapse_val_acc``, ``nht_transition_relapsed``)."""

    # --- sweep-aware calibration -------------------------------------------------------
    reference_runs: tuple[str, ...] = ()
    """Run logs (paths or glob patterns) of the same task at other λ, lr or seeds: those
    that have transitioned replace the law's prior by their own Δτ
    (:mod:`nht_monitor.analysis.sweep`). A string is one pattern. Live, the files are
    re-read at most every ``reference_refresh`` seconds. Not recorded in the run log
    header (offline commands take ``--reference``)."""
    sweep_log_sd: float = Field(0.28, gt=0.0)
    """Prior scatter (sd of log Δτ) of the law's delay between runs of one sweep, around
    the sweep's own line: the pooled within-family sd (one degree of freedom per family
    spent on its mean) over the families with ≥ 2 delayed runs of rounds 17–43 and 65–80
    (``delay_tau``; 0.25 until stop 58, from the development and first two held-out
    rounds)."""
    sweep_scatter_dof: float | None = Field(4.0, gt=0.0)
    """The sweep's own scatter: ``sweep_log_sd`` counts as this many observations, pooled
    with the references' residuals around their line (a scaled inverse-χ² posterior), and
    the predictive interval widens by Student's t at the pooled degrees of freedom (the
    result matches the exact Bayesian predictive to a few per cent). ``None``:
    ``sweep_log_sd`` is the scatter of every sweep."""
    sweep_reference_dof: float | None = Field(4.0, gt=0.0)
    """Each reference scatters around the sweep's line as Student's t with this many degrees
    of freedom (the line is the posterior mode, by iteratively reweighted least squares:
    a reference far from the others counts less — one sweep's Δτ 0.26 among 1.8–2.5 had
    widened its belief to log-sd 1.0); ``None``: normal. 4 (2 did about as well) was
    chosen on the first five rounds of task families: the sweep-aware error with ≥ 2
    references at ½ the delay 11.4/15.4/16.3/11.8/15.3 % → 10.9/15.5/16.7/11.3/14.6 %, one
    false alarm fewer (``benchmarks/families.py``)."""
    sweep_slope_sd: float = Field(0.57, ge=0.0)
    """Prior sd of the slope of log Δτ in log ηλ across a sweep's references (the law: 0;
    the families' transformer sweeps: −0.3 to −0.6; the root mean square of the families'
    slopes, ``delay_tau``; 0.34 until stop 58). 0: Δτ is one constant of the sweep."""
    reference_refresh: float = Field(60.0, ge=0.0)
    """Live: seconds between two looks at the reference logs."""

    # --- clean norm separation -----------------------------------------------------------
    cns_min_separation: float = Field(0.2, gt=0.0, lt=1.0)
    """CNS holds when 1 - V_st / V_sc reaches this…"""
    cns_min_z: float = Field(3.0, gt=0.0)
    """…and V_sc - V_st is at least this many noise sds of the norm."""

    # --- live history ------------------------------------------------------------------
    history_points: int = Field(1024, ge=64)
    """The live analyzer keeps at most this many decimated points (bounded cost)."""

    # --- advice ------------------------------------------------------------------------
    advice: bool = True
    """Fill ``Assessment.advice`` with :func:`nht_monitor.analysis.advice.advise` when available."""
    advice_budget_steps: int | None = None
    """Step budget handed to ``advise``."""

    @field_validator("reference_runs", mode="before")
    @classmethod
    def _one_pattern(cls, value: Any) -> Any:
        if isinstance(value, (str, os.PathLike)):
            return (os.fspath(value),)
        if isinstance(value, (list, tuple)):
            return tuple(os.fspath(v) if isinstance(v, os.PathLike) else v for v in value)
        return value

    @property
    def metric_keys(self) -> tuple[str, ...]:
        """Every metric name the engine reads (training loss, training accuracy, held-out
        accuracy keys, in that order, without repeats)."""
        return tuple(dict.fromkeys((*self.train_loss_keys, *self.train_acc_keys,
                                    *self.val_acc_keys)))


BUDGET_KEYS: tuple[str, ...] = ("budget_steps", "num_steps", "max_steps", "total_steps", "steps")
"""Config keys read as the run's planned number of optimizer steps, first present wins."""
EPOCH_KEYS: tuple[str, ...] = ("epochs", "num_epochs", "max_epochs", "num_train_epochs")
"""Config keys read as the planned number of epochs (× ``steps_per_epoch``)."""


def _positive(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 \
            and value == value and value != float("inf"):
        return float(value)
    return None


def config_budget(config: Any) -> float | None:
    """The planned optimizer steps recorded in a run config: the first positive
    :data:`BUDGET_KEYS` value, else ``epochs`` (any of :data:`EPOCH_KEYS`) ×
    ``steps_per_epoch``; looked up at the top level, then one level down (e.g.
    ``config["demo"]["steps"]``). ``None`` when there is none."""
    if not isinstance(config, dict):
        return None
    levels = [config] + [v for v in config.values() if isinstance(v, dict)]
    for level in levels:
        for key in BUDGET_KEYS:
            value = _positive(level.get(key))
            if value is not None:
                return value
        per_epoch = _positive(level.get("steps_per_epoch"))
        if per_epoch is not None:
            for key in EPOCH_KEYS:
                epochs = _positive(level.get(key))
                if epochs is not None:
                    return epochs * per_epoch
    return None


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["delay_tau=1.0", "budget_steps=none"]`` → ``{"delay_tau": "1.0", "budget_steps":
    None}`` (values stay strings for pydantic to validate; ``none``/``null`` mean ``None``).
    A malformed item is a ``ValueError`` naming it."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--setting expects KEY=VALUE, got {item!r}")
        value = value.strip()
        values[key.strip()] = None if value.lower() in ("none", "null") else value
    return values


def recorded_settings(header: Any, **overrides: Any) -> AnalyzerSettings:
    """The settings a run's live engine used — ``header.config["analysis"]``, which
    ``watch(analysis=...)`` records when it differs from the defaults — updated by
    ``overrides``. Raises pydantic's ``ValidationError`` for an unknown field or bad value."""
    config = getattr(header, "config", None)
    recorded = config.get("analysis") if isinstance(config, dict) else None
    values: dict[str, Any] = dict(recorded) if isinstance(recorded, dict) else {}
    values.pop("reference_runs", None)  # a header never makes a command read other files
    values.update(overrides)
    return AnalyzerSettings(**values)
