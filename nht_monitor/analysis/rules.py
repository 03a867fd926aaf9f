"""The rules: from a run's series and facts to an :class:`Assessment`.

Each rule is a small function of the :class:`Run` that returns a :class:`Decision` or
``None``; :data:`RULES` holds them in order and the first that fires decides the regime:

1. ``no_samples``: no samples → ``undetermined``;
2. ``diverged``: latest norm non-finite, or above ``explode_factor`` × first norm →
   ``diverged``;
   2b. ``lost_fit``: the training set was fitted, and not one of the last
   ``train_acc_evals`` evaluations of train accuracy is :func:`half_learnt` →
   ``diverged`` (``diverged_lost_fit``: a loss spike undid the fit);
3. ``no_decay_clock``: λ = 0 everywhere → ``weak`` by construction (the law does not
   apply); lr = 0 everywhere → ``weak`` (the τ clock does not advance);
4. ``clamped_by_header``: header ``config["norm_clamp"]`` → ``clamped``;
   ``no_finite_norms``: no row with a finite norm and τ → ``undetermined``;
   ``pinned``: a norm pinned after the fit → ``clamped``;
5. ``too_few_samples``: fewer than ``min_samples`` → ``undetermined``;
   6a. ``strong_waits``: rule 6 would decide before ``strong_min_budget_share`` of the
   budget, the norm never below ``strong_wait_min_of_peak`` of its peak → ``undetermined``
   (fitting), rule 6's reading and the step it waits for said (a slow start near the
   strong boundary reads as a collapse and then learns);
6. ``strong``: never fitted, norm below ``strong_collapse`` × peak, learning suppressed
   (train accuracy low) *and* stalled (no progress over the last ``strong_stall_evals``
   evaluations: a norm shrinking while the model still learns is not strong) or rising
   too slowly to fit within the budget (once the budget ends within the stall window's
   own length; at any distance opt-in, ``strong_too_slow``), or the budget spent with
   train accuracy never :func:`half_learnt` (``spent_short``), or at any accuracy short
   of it, stalled over ``strong_long_stall_tau`` →
   ``strong``;
   6b. ``partial_stall``: the same long stall with half the training set learnt (train
   accuracy :func:`half_learnt`) → ``undetermined`` (fitting), said so:
   something was learnt, and such runs can fit later (as the learning rate anneals);
   6c. ``no_room_after_fit`` (``weak_before_fit``): still fitting, the norm not
   contracted, and even a fit now leaves the budget too little τ for the law's least
   delay (``budget_law_floor``) → ``weak``;
   6d. ``room_after_fit`` (``expect_before_fit``): still fitting, train accuracy's line
   rising and :func:`half_learnt`, and the fit it projects plus
   the law's ``expect_quantile`` of Δτ end within the budget → ``intermediate``
   (fitting, transition ``pending`` without a forecast step);
   6e. ``still_fitting``: not fitted otherwise → ``undetermined`` (fitting);
7. ``fitted``: the decay rules on the total norm, from V_sc (its peak since the fit;
   every drop is measured from V_sc), :data:`SIGNAL_RULES` in order:

   - ``not_fitted``: training set not fitted yet → ``undetermined`` (only the head
     signal meets it: for the total norm, rules 6–6e have decided);
   - 7a. ``transition_done``: transition seen (held-out accuracy reached
     ``done_val_acc``, :mod:`nht_monitor.analysis.transition`; without one, the norm
     reached V_st) → ``intermediate``; the reason says so when held-out accuracy has
     fallen back below ``done_val_acc`` since (median of the last evaluations);
   - 7b. ``decaying``: ``decay_min_drop`` below V_sc and decaying at ≥
     ``decay_min_rate`` per τ → ``intermediate``, forecast from the law and the decay;
   - 7c. ``settled``: came ``decay_min_drop`` below V_sc, no longer decaying (a plateau
     after the decay, which grokking often follows) → ``intermediate``, ``pending``,
     forecast from the law alone (wide);
   - 7d. ``held_up``: not ``decay_min_drop`` below V_sc (growing or flat after the
     fit): below ``weak_min_of_peak`` of its largest value and not growing back, a
     plateau (``contracted``: as 7c, the law's delay counted from the fit); else
     ``weak`` after ``weak_min_tau_after_fit`` of τ, when the norm grows at least
     ``weak_min_growth`` per τ (:func:`~nht_monitor.analysis.facts.growing`), unless
     held-out accuracy is on a rising trend that reaches the transition within the
     budget (``heldout_rising``: then the law + trend forecast) or has come most of the
     way there (``heldout_near_done``); else, with the law's early end within a known
     budget, ``intermediate`` (``room_while_held``: phase ``shortcut``, transition
     ``pending`` without a forecast step; ``expect_while_held``), else "cannot forecast
     yet" (``undetermined``);

   any forecast beyond the budget makes the regime ``weak`` (``too_late``;
   ``budget_law_floor``, by default for models without normalization layers: when the
   decay sped the forecast up, its early end is never before the law's own; rule 7d's
   reads the held-out trend as a line until held-out accuracy has come
   ``held_verdict_bend_progress`` of the way).

After the rules, 7e (:func:`flat_and_unlikely`, ``weak_max_chance``): an ``intermediate``
run whose pending transition has less than that chance within the budget while held-out
accuracy has not come off its floor since the fit → ``weak``, the forecast kept.

The head signal applies rule 7 to the head norm. The rules only measure: what they found
is a list of :class:`~nht_monitor.analysis.wording.Finding` (kind + numbers), which
:mod:`nht_monitor.analysis.wording` turns into ``Assessment.reasons``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from nht_monitor.analysis import wording
from nht_monitor.analysis.assessment import Assessment, CleanNormSeparation, HeadSignal, Transition
from nht_monitor.analysis.facts import RunFacts, best_mean, growing, learnt
from nht_monitor.analysis.forecast import (
    DecayFit,
    Forecast,
    Line,
    ScheduleFn,
    chance_in_budget,
    clock_gain,
    fit_last_fraction,
    fit_line,
    forecast_transition,
    heldout_off_floor,
    heldout_progress,
    heldout_trend,
    law_floor,
    law_quantile,
    logit,
    planned_tau_left,
    steps_ahead,
)
from nht_monitor.analysis.series import Series
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.wording import Finding, found


@dataclass
class Context:
    """What the rules need besides the series: facts, header config, future schedule."""

    facts: RunFacts
    run_id: str | None = None
    config: dict = field(default_factory=dict)
    lr_schedule: ScheduleFn | None = None
    wd_schedule: ScheduleFn | None = None
    budget_steps: float | None = None


@dataclass
class Decision:
    """What a rule decided, and the findings behind it (``rule``: which rule fired)."""

    regime: str
    confidence: float
    findings: list[Finding]
    phase: str | None = None
    clamped: bool = False
    transition: Transition = field(default_factory=lambda: Transition(status="not_expected"))
    head: HeadSignal | None = None
    decay_rate: float | None = None
    cns: CleanNormSeparation = field(default_factory=CleanNormSeparation)
    rule: str = ""


@dataclass
class Run:
    """The series and context the rules read, and what several rules measure on them
    (each computed once, on first use)."""

    s: Series
    ctx: Context
    settings: AnalyzerSettings

    @property
    def facts(self) -> RunFacts:
        return self.ctx.facts

    @property
    def empty(self) -> bool:
        return len(self.s) == 0 or self.facts.n == 0

    @cached_property
    def last_norm(self) -> float:
        return float(self.s.norm[-1])

    @property
    def past_fit(self) -> bool:
        """The fit was seen, or cannot be (no training metrics)."""
        return self.facts.fit_step is not None or not self.facts.has_train_metrics

    @property
    def phase(self) -> str:
        return "shortcut" if self.past_fit else "fitting"

    @cached_property
    def fit_row(self) -> int:
        """The row of :attr:`finite` at the fit step (0 without a fit)."""
        fit = self.facts.fit_step
        return int(np.searchsorted(self.finite.step, fit, side="left")) if fit is not None else 0

    @cached_property
    def notes(self) -> list[Finding]:
        """Said first once the latest norm is known finite: skipped non-finite norms, and
        accuracies logged outside [0, 1] (a percentage, read as a fraction)."""
        f, notes = self.facts, []
        if f.nonfinite:
            notes.append(found("skipped_non_finite", count=f.nonfinite,
                               first_step=f.first_nonfinite_step))
        for name, column in (("train accuracy", self.s.acc), ("held-out accuracy", self.s.val)):
            largest = np.nanmax(column, initial=-math.inf)
            if largest > 1.0:
                notes.append(found("not_a_fraction", metric=name, largest=float(largest)))
        return notes

    @cached_property
    def finite(self) -> Series:
        """The rows with a finite norm and τ (all rows when every norm is finite)."""
        s = self.s
        return s.take(np.isfinite(s.norm) & np.isfinite(s.tau)) if self.facts.nonfinite else s

    @cached_property
    def recent_acc(self) -> float | None:
        """Train accuracy now: the mean of its last ``train_acc_evals`` finite evaluations
        in the history read (one minibatch's accuracy is noisy); ``None`` without one.
        Live, that history is thinned on long runs, so the mean spans more steps than the
        last ``train_acc_evals`` evaluations (docs/FORECAST.md, stop 41)."""
        acc = self.recent_accs
        return float(acc.mean()) if acc.shape[0] else None

    @cached_property
    def recent_accs(self) -> np.ndarray:
        """The last ``train_acc_evals`` finite evaluations of train accuracy in the history
        read (fewer early on): what :attr:`recent_acc` averages and rule 2b reads."""
        acc = self.finite.acc[np.isfinite(self.finite.acc)]
        return acc[-self.settings.train_acc_evals:]

    @property
    def best_acc(self) -> float | None:
        """Train accuracy's best so far: :func:`best_mean` over ``train_acc_evals``
        evaluations — the run's exact fact (:attr:`RunFacts.best_acc`, every evaluation
        observed), not a mean over the decimated history; ``None`` without one."""
        return self.facts.best_acc

    @property
    def budget_spent(self) -> bool:
        """The last step is at or past the budget (``False`` without a budget)."""
        budget = self.ctx.budget_steps
        return budget is not None and float(self.finite.step[-1]) >= budget

    @cached_property
    def strong_reading(self) -> tuple[float, Finding] | None:
        """``(drop, finding)``: the norm's drop from its peak when it collapsed short of
        the fit (:func:`collapsed_short_of_fit`) and rule 6's reading of it
        (:func:`strong_finding`); ``None`` when either is missing. Rules 6a and 6 both
        read it."""
        if (drop := collapsed_short_of_fit(self)) is None:
            return None
        finding = strong_finding(self, drop)
        return None if finding is None else (drop, finding)

    @cached_property
    def warmup_end(self) -> float:
        """The step at which the logged learning rate first reached its largest value so
        far: the end of a warm-up (the first sample for a constant or decaying lr); read
        by both of rule 6's stall windows (:func:`past_warmup`)."""
        s = self.finite
        ok = np.isfinite(s.lr)
        return float(s.step[ok][int(np.argmax(s.lr[ok]))]) if ok.any() else float(s.step[0])

    @cached_property
    def fitted_now(self) -> bool:
        """The latest training accuracy (else loss) says the training set is fitted."""
        acc = _last_finite(self.s.acc)
        if acc is not None:
            return acc >= self.settings.fit_train_acc
        loss = _last_finite(self.s.loss)
        return loss is not None and loss <= self.settings.fit_train_loss


# --------------------------------------------------------------------------- the rules
def no_samples(run: Run) -> Decision | None:
    if run.empty:
        return Decision("undetermined", 0.0, [found("no_samples")])
    return None


def diverged(run: Run) -> Decision | None:
    f, norm = run.facts, run.last_norm
    if not math.isfinite(norm):
        return Decision("diverged", 1.0,
                        [found("non_finite_norm", norm=norm, step=int(run.s.step[-1]))])
    if f.first_norm and f.first_norm > 0 and norm > run.settings.explode_factor * f.first_norm:
        return Decision("diverged", 0.95, [found("exploding", norm=norm, first_norm=f.first_norm)])
    return None


def lost_fit(run: Run) -> Decision | None:
    """Rule 2b: fitted once, and not one of the last ``train_acc_evals`` evaluations of
    train accuracy :func:`half_learnt` → ``diverged`` (one that is: a spike recovering)."""
    f, st = run.facts, run.settings
    if not st.diverged_lost_fit or f.fit_step is None:
        return None
    acc = run.recent_accs
    if acc.shape[0] < st.train_acc_evals or half_learnt(float(acc.max()), f.first_acc, st):
        return None
    return Decision("diverged", 0.9, run.notes + [
        found("lost_fit", acc=float(acc.max()), fit_step=f.fit_step, best=f.best_acc,
              evals=st.train_acc_evals)])


def no_decay_clock(run: Run) -> Decision | None:
    if not run.facts.any_wd:
        return Decision("weak", 1.0, run.notes + [found("no_weight_decay")], run.phase)
    if not run.facts.any_lr:
        return Decision("weak", 1.0, run.notes + [found("no_learning_rate")], run.phase)
    return None


def clamped_by_header(run: Run) -> Decision | None:
    config = run.ctx.config
    clamp = config.get("norm_clamp") if isinstance(config, dict) else None
    if clamp:
        return Decision("clamped", 1.0, run.notes + [found("clamped_by_header", clamp=clamp)],
                        run.phase, clamped=True)
    return None


def no_finite_norms(run: Run) -> Decision | None:
    if len(run.finite) == 0:
        return Decision("undetermined", 0.0, run.notes + [found("no_finite_norms")])
    return None


def pinned(run: Run) -> Decision | None:
    """After the fit, the norm's relative range over the last ``clamp_window`` points —
    reaching back at least ``clamp_min_tau`` — is below ``clamp_rel_range`` and below 1%
    of the τ elapsed (what weight decay alone would have moved it by). The τ span keeps
    a turning point (a norm flat for a few steps where growth and decay cross) or a norm
    settling from reading as a clamp: their range grows with the window, a clamp's not."""
    st = run.settings
    tau_all = run.finite.tau
    if not run.past_fit or tau_all.shape[0] < st.clamp_window:
        return None
    start = min(tau_all.shape[0] - st.clamp_window,
                int(np.searchsorted(tau_all, tau_all[-1] - st.clamp_min_tau, side="right")) - 1)
    if start < 0:  # the log does not reach back that far yet
        return None
    norm, tau = run.finite.norm[start:], tau_all[start:]
    level = float(norm.mean())
    rel_range = float(norm.max() - norm.min()) / level if level > 0 else 0.0
    d_tau = float(tau[-1] - tau[0])
    if rel_range < st.clamp_rel_range and rel_range < 0.01 * d_tau:
        return Decision("clamped", 0.9, run.notes + [found(
            "pinned", level=level, rel_range=rel_range, points=norm.shape[0], d_tau=d_tau)],
            run.phase, clamped=True)
    return None


def too_few_samples(run: Run) -> Decision | None:
    if run.facts.n < run.settings.min_samples or len(run.finite) < 3:
        return Decision("undetermined", 0.0,
                        run.notes + [found("too_few_samples", count=run.facts.n)], run.phase)
    return None


def strong(run: Run) -> Decision | None:
    """Never fitted (a run that fitted has learnt: a loss spike later is no collapse),
    the norm collapsed below ``strong_collapse`` × its peak, and learning
    suppressed: train accuracy not :func:`half_learnt` and less than
    ``strong_max_gain`` of the way from its first value to 1 (:func:`learnt`; without
    one: the loss above ``strong_min_loss_ratio`` × its first value) and stalled over
    ``strong_stall_tau`` (``collapsed``), or rising so slowly over it that train
    accuracy would reach ``fit_min_acc`` (the least that can count as fitted) only beyond
    the budget (``too_slow``: the budget verdict of ``weak``, for the fit) — once the
    budget ends within the window's own length (:func:`budget_within_window`), or at any
    distance with ``strong_too_slow``; or the budget spent with train accuracy never
    :func:`half_learnt` (``spent_short``); or, at any accuracy short of it, stalled over
    ``strong_long_stall_tau`` (``long_stall``). A peak that is the first norm's
    (``strong_init_peak``) adds ``from_init``: the collapse is the initialization's."""
    if (reading := run.strong_reading) is None:
        return None
    drop, finding = reading
    f = run.facts
    from_init = ([found("from_init", peak=f.peak, first=f.first_norm)]
                 if f.first_norm and f.peak <= run.settings.strong_init_peak * f.first_norm
                 else [])
    return Decision("strong", strong_confidence(drop, run.settings),
                    run.notes + [finding, *from_init], "fitting")


def strong_waits(run: Run) -> Decision | None:
    """6a (read before rule 6). Rule 6 would decide (:func:`strong_finding`) before
    ``strong_min_budget_share`` of the budget has passed (:func:`strong_waits_until`), on
    a norm never below ``strong_wait_min_of_peak`` of its peak since it
    (:func:`lowest_of_peak`) → ``undetermined`` (fitting), with rule 6's reading and the
    step it waits for: near the strong boundary a slow start reads as a collapse and then
    learns; a deeper collapse is no slow start."""
    if ((until := strong_waits_until(run)) is None or (reading := run.strong_reading) is None
            or lowest_of_peak(run) < run.settings.strong_wait_min_of_peak):
        return None
    _, finding = reading
    return Decision("undetermined", 0.2, run.notes + [finding, found(
        "strong_waits", until=until, share=run.settings.strong_min_budget_share,
        budget=run.ctx.budget_steps)], "fitting", head=head_signal(run))


def strong_finding(run: Run, drop: float) -> Finding | None:
    """Which of rule 6's readings holds on a norm collapsed by ``drop`` short of the fit
    (``collapsed``, ``too_slow``, ``spent_short``, ``long_stall``; see :func:`strong`);
    ``None``: none."""
    f, st = run.facts, run.settings
    acc, loss = run.recent_acc, _last_finite(run.finite.loss)
    gain = learnt(acc, f.first_acc) if acc is not None else None
    if acc is not None:
        suppressed = not half_learnt(acc, f.first_acc, st) and gain < st.strong_max_gain
    else:
        suppressed = (loss is not None and f.first_loss is not None
                      and loss > st.strong_min_loss_ratio * f.first_loss)
    stall = st.strong_stall_acc if acc is not None else st.strong_stall_loss
    read = training_line(run, st.strong_stall_tau)
    progress = line_progress(read)
    warmed = read is None or past_warmup(run, read.first_step)
    if suppressed and progress is not None and progress < stall and warmed:
        return found("collapsed", drop=drop, peak=f.peak, acc=acc, loss=loss,
                     first_loss=f.first_loss, progress=progress, first_acc=f.first_acc,
                     gain=gain)
    if (suppressed and acc is not None
            and (st.strong_too_slow or budget_within_window(run, read))
            and (late := fit_too_late(run, acc, read)) is not None):
        rate, fit_step = late
        return found("too_slow", drop=drop, peak=f.peak, acc=acc, rate=rate,
                     fit_step=fit_step, budget=run.ctx.budget_steps, first_acc=f.first_acc,
                     gain=gain)
    if (best := spent_short(run)) is not None:
        return found("spent_short", drop=drop, peak=f.peak, best=best,
                     budget=run.ctx.budget_steps, first_acc=f.first_acc)
    if half_learnt(acc, f.first_acc, st):  # a long stall there is partial_stall's
        return None
    progress = long_stall_progress(run, acc)
    if progress is not None:
        return found("long_stall", drop=drop, peak=f.peak, acc=acc, loss=loss,
                     progress=progress, span=st.strong_long_stall_tau)
    return None


def lowest_of_peak(run: Run) -> float:
    """The norm's lowest value since its peak, as a share of the peak (a collapse once as
    deep as that is not read as shallower when the norm wobbles back up)."""
    s, f = run.finite, run.facts
    return float(np.nanmin(s.norm[int(np.searchsorted(s.step, f.peak_step)):])) / f.peak


def strong_waits_until(run: Run) -> float | None:
    """The step ``strong_min_budget_share`` × the budget while the run is short of it;
    ``None`` once there, without a budget, or with the share 0."""
    budget, share = run.ctx.budget_steps, run.settings.strong_min_budget_share
    if budget is None or not share:
        return None
    until = share * budget
    return until if float(run.finite.step[-1]) < until else None


def past_warmup(run: Run, first_step: float) -> bool:
    """A stall window starting at ``first_step`` starts at or after :attr:`Run.warmup_end`:
    a stall read while the lr was still ramping up measures a model that has hardly begun
    to learn."""
    return first_step >= run.warmup_end


def spent_short(run: Run) -> float | None:
    """The best train accuracy when the budget is spent (the last step at or past it) and
    it never was :func:`half_learnt`: nothing learnt within the budget (the outcome the
    benchmark calls ``strong``, with the collapsed norm); ``None`` otherwise, and without
    a budget or a train accuracy."""
    best = run.best_acc
    if not run.budget_spent or best is None:
        return None
    return None if half_learnt(best, run.facts.first_acc, run.settings) else best


def partial_stall(run: Run) -> Decision | None:
    """6b. Rule 6's long stall (:func:`long_stall_progress`) on a collapsed norm, with
    train accuracy :func:`half_learnt`: half the training set learnt is
    no strong regime (nothing learnt), and such runs can still fit — on the families
    benchmark, transformers stalled at 0.72–0.79 for Δτ 5–12 fitted as their cosine
    annealed, and two of them then transitioned → ``undetermined`` (fitting), said so."""
    st = run.settings
    if (drop := collapsed_short_of_fit(run)) is None:
        return None
    acc, first = run.recent_acc, run.facts.first_acc
    if not half_learnt(acc, first, st) or (progress := long_stall_progress(run, acc)) is None:
        return None
    return Decision("undetermined", 0.2, run.notes + [found(
        "partial_stall", drop=drop, peak=run.facts.peak, acc=acc, progress=progress,
        span=st.strong_long_stall_tau, first_acc=first)], "fitting", head=head_signal(run))


def collapsed_short_of_fit(run: Run) -> float | None:
    """The norm's drop from its peak (1 − last / peak) when the run, with train metrics,
    has never fitted and the norm fell below ``strong_collapse`` × its peak; else
    ``None``."""
    f, st = run.facts, run.settings
    if not (f.has_train_metrics and f.fit_step is None and not run.fitted_now and f.peak):
        return None
    drop = 1.0 - float(run.finite.norm[-1]) / f.peak
    return drop if drop >= 1.0 - st.strong_collapse else None


def long_stall_progress(run: Run, acc: float | None) -> float | None:
    """:func:`best_gain` over ``strong_long_stall_tau`` when below the stall
    (``strong_stall_acc``; for the loss, ``strong_stall_loss``) and the window starts
    after the warm-up (:attr:`Run.warmup_end`), else ``None``."""
    st = run.settings
    read = training_metric(run, st.strong_long_stall_tau)
    if read is None or not past_warmup(run, float(run.finite.step[read[2][0]])):
        return None
    progress = best_gain(read, st.train_acc_evals)
    stall = st.strong_stall_acc if acc is not None else st.strong_stall_loss
    return progress if progress is not None and progress < stall else None


def half_learnt(acc: float | None, first: float | None, st: AnalyzerSettings) -> bool:
    """Train accuracy at least ``strong_max_train_acc`` of the way from its ``first``
    value (chance) to 1 (:func:`~nht_monitor.analysis.facts.learnt`; something learnt):
    on a two-class task, where chance is 0.5, an accuracy of 0.6 is a fifth of the way,
    not half; ``False`` without one."""
    return acc is not None and learnt(acc, first) >= st.strong_max_train_acc


def fit_too_late(run: Run, acc: float, read: TrainingLine | None
                 ) -> tuple[float, float | None] | None:
    """``(rate, step)`` when train accuracy, rising at ``rate`` per τ (``read``: the
    :func:`training_line` of the accuracy over ``strong_stall_tau``), would reach
    ``fit_min_acc`` only at ``step`` beyond the budget (``None``: never); ``None`` while
    it would fit within it or the evaluations do not span that τ yet."""
    st, s = run.settings, run.finite
    if read is None or acc >= st.fit_min_acc:  # the accuracy's line: ``acc`` is logged
        return None
    rate = read.line.slope
    step = step_after(run, (st.fit_min_acc - acc) / rate) if rate > 0 else None
    if not beyond_budget(step, float(s.step[-1]), run.ctx.budget_steps, st):
        return None
    return rate, step


def budget_within_window(run: Run, read: TrainingLine | None) -> bool:
    """The budget ends no further ahead than the window of ``read`` (the
    :func:`training_line` the verdict extends) reaches back, in steps: the line is then
    extended no further than the span it was fitted on."""
    budget = run.ctx.budget_steps
    if budget is None or read is None:
        return False
    now = float(run.finite.step[-1])
    return budget - now <= now - read.first_step


def line_progress(read: TrainingLine | None) -> float | None:
    """Learning progress along a :func:`training_line` ``read``: the rise in accuracy,
    else the relative fall in loss, over its window (a least-squares line: two single
    evaluations, noisy by a few points of accuracy, would decide a stall by chance);
    ``None`` while the evaluations do not span the window yet."""
    if read is None:
        return None
    line = read.line
    first, last = line.intercept, line.intercept + line.slope * read.span_tau
    if not read.as_loss:
        return last - first
    return (first - last) / first if first > 0 else None


class TrainingLine(NamedTuple):
    """A :func:`training_line`: the least-squares ``line`` of train accuracy (else the
    loss: ``as_loss``) over its window, in τ from the window's start; the window's span
    in τ and its first step."""

    line: Line
    as_loss: bool
    span_tau: float
    first_step: float


def training_line(run: Run, span: float) -> TrainingLine | None:
    """The :class:`TrainingLine` of :func:`training_metric` over its window of ``span``;
    ``None`` without one."""
    read = training_metric(run, span)
    if read is None:
        return None
    values, as_loss, window = read
    tau = run.finite.tau[window]
    line = fit_line(tau - tau[0], values[window])
    return None if line is None else TrainingLine(line, as_loss, float(tau[-1] - tau[0]),
                                                  float(run.finite.step[window[0]]))


def best_gain(read: tuple[np.ndarray, bool, np.ndarray] | None, evals: int) -> float | None:
    """On a :func:`training_metric` ``read`` (its window: :func:`training_window`), how far
    the best train accuracy inside the window exceeds the best before it, else the
    relative fall of the lowest loss — patience, as early stopping counts it: an accuracy
    that swings around a plateau sets no new best, one that climbs does; each best a
    :func:`best_mean` over ``evals`` evaluations (one lucky minibatch is no new best);
    ``None`` without a read or while nothing precedes the window."""
    if read is None:
        return None
    values, as_loss, window = read
    before = values[:window[0]]
    before = before[np.isfinite(before)]
    if not before.shape[0]:
        return None
    inside = values[window]
    if not as_loss:
        return best_mean(inside, evals) - best_mean(before, evals)
    best = -best_mean(-before, evals)
    return (best + best_mean(-inside, evals)) / best if best > 0 else None


def training_metric(run: Run, span: float) -> tuple[np.ndarray, bool, np.ndarray] | None:
    """``(values, is_loss, window)``: train accuracy, else the loss (the first the log
    has), with its :func:`training_window` of ``span``; ``None`` without either or while
    the evaluations do not span it yet."""
    s = run.finite
    for values, as_loss in ((s.acc, False), (s.loss, True)):
        if np.isfinite(values).any():
            window = training_window(s.tau, values, span, run.settings.strong_stall_evals)
            return None if window is None else (values, as_loss, window)
    return None


def training_window(tau: np.ndarray, values: np.ndarray, span: float, evals: int
                    ) -> np.ndarray | None:
    """The rows of the finite ``values`` over the last ``span`` of τ: from the evaluation
    at or before its start (so the window spans all of it), widened to at least
    ``evals`` evaluations; ``None`` while the evaluations do not span it yet."""
    rows = np.nonzero(np.isfinite(values))[0]
    if rows.shape[0] < evals:
        return None
    t = tau[rows]
    start = int(np.searchsorted(t, t[-1] - span, side="right")) - 1
    if start < 0:
        return None
    return rows[min(start, rows.shape[0] - evals):]


def no_room_after_fit(run: Run) -> Decision | None:
    """6c. Still fitting, and the law's least delay (its ``budget_quantile`` of Δτ, which
    counts from V_sc, at or after the fit) ends beyond the budget even from a fit now
    (:func:`no_room`) → ``weak``. Off with ``weak_before_fit=False``."""
    if not run.settings.weak_before_fit or run.past_fit or (late := no_room(run)) is None:
        return None
    return Decision("weak", 0.6, run.notes + [late], "fitting", head=head_signal(run))


def no_room(run: Run) -> Finding | None:
    """``no_room_after_fit`` when the law's least delay from now ends beyond the budget:
    the τ the budget still holds (along the planned learning rate, else at the fastest
    η·λ seen: :func:`room_step`) is too little for weight decay to bring the transition.
    Only where the budget verdict reads the law's floor (``budget_law_floor``: by
    default, models without normalization layers), the budget is known and the norm has
    not contracted (:func:`norm_contracted`); else ``None``."""
    st, s = run.settings, run.finite
    budget = run.ctx.budget_steps
    if budget is None or norm_contracted(run) or (least := law_floor(0.0, st)) is None:
        return None
    step = room_step(run, least)
    if not beyond_budget(step, float(s.step[-1]), budget, st):
        return None
    return found("no_room_after_fit", least_tau=least, forecast_step=step, budget=budget,
                 quantile=st.budget_quantile, tau_left=plan_left(run))


def norm_contracted(run: Run) -> bool:
    """The total norm has :func:`contracted` from its largest value so far: weight decay
    has already pulled it down while the model fits, so the law's delay, counted from a
    peak at or after the fit, is no floor (such runs transitioned 160–410 steps after a
    late fit)."""
    return contracted(run.last_norm, run.facts.peak, run.settings)


def contracted(last: float, peak: float | None, st: AnalyzerSettings) -> bool:
    """``last`` is below ``weak_min_of_peak`` of a positive ``peak``."""
    return peak is not None and peak > 0 and last < st.weak_min_of_peak * peak


def room_step(run: Run, delta_tau: float) -> float | None:
    """The step by which ``delta_tau`` more τ has accrued: along the run's schedules when
    given, else at the fastest τ per step the log has seen (a warm-up's rising rate, not
    its first steps; ``None``: the clock never ran)."""
    if run.ctx.lr_schedule is not None or run.ctx.wd_schedule is not None:
        return step_after(run, delta_tau)
    s = run.finite
    rates = s.lr * s.wd * clock_gain(s.step, s.tau, s.lr, s.wd)
    rates = rates[np.isfinite(rates) & (rates > 0)]
    return float(s.step[-1]) + delta_tau / float(rates.max()) if rates.shape[0] else None


def step_after(run: Run, delta_tau: float) -> float | None:
    """The step by which ``delta_tau`` more τ has accrued: along the run's schedules when
    given, else at its current τ per step (:func:`steps_ahead`; ``None``: never)."""
    s = run.finite
    steps = steps_ahead(s, run.settings, run.ctx.lr_schedule, run.ctx.wd_schedule)(delta_tau)
    return None if steps is None else float(s.step[-1]) + steps


def room_after_fit(run: Run) -> Decision | None:
    """6d. Still fitting with half the training set learnt and train accuracy rising (its
    least-squares line over the last half of the τ so far: :func:`fit_projection`, whose
    level, not the noisy last evaluation, must be :func:`half_learnt`), and room
    for the law after the fit that line projects: the fit plus the law's
    ``expect_quantile`` of Δτ (its early end, 0.1, by default: the quantile the budget
    verdict reads after the fit) end within the budget (along the
    planned learning rate, else at the current η·λ) → ``intermediate``, transition
    ``pending`` without a forecast step (the fit comes first). Needs
    ``expect_before_fit``, a law prior and a known budget."""
    st = run.settings
    budget = run.ctx.budget_steps
    if (not st.expect_before_fit or run.past_fit or budget is None or st.delay_tau is None
            or (fit := fit_projection(run)) is None
            or not half_learnt(fit.level, run.facts.first_acc, st)):
        return None
    delay = law_quantile(st.expect_quantile, st)
    step = step_after(run, fit.eta + delay)
    if step is None or step > budget:
        return None
    return Decision("intermediate", 0.4, run.notes + [found(
        "room_after_fit", acc=fit.level, fit_tau=fit.eta, delay_tau=delay, step=step,
        budget=budget, quantile=st.expect_quantile)], "fitting",
        transition=Transition(status="pending"), head=head_signal(run))


class FitProjection(NamedTuple):
    """Train accuracy's rising least-squares line (:func:`fit_projection`): its ``level``
    at the last evaluation and the Δτ ``eta`` until it reaches ``fit_train_acc``."""

    level: float
    eta: float


def fit_projection(run: Run) -> FitProjection | None:
    """The :class:`FitProjection` of train accuracy's least-squares line over the last half
    of the τ so far (at least ``strong_stall_evals`` evaluations); ``None`` without train
    accuracy or while the line does not rise."""
    s, st = run.finite, run.settings
    if not np.isfinite(s.acc).any():  # the accuracy's line, not the loss's
        return None
    read = training_line(run, 0.5 * float(s.tau[-1] - s.tau[0]))
    if read is None or not read.line.slope > 0:
        return None
    line = read.line
    level = line.intercept + line.slope * read.span_tau
    return FitProjection(level, max(0.0, (st.fit_train_acc - level) / line.slope))


def still_fitting(run: Run) -> Decision | None:
    """6e. Not fitted yet → ``undetermined`` (fitting). With the budget spent the reason
    says how it ended: train accuracy never :func:`half_learnt` on a norm that did not
    collapse (else rule 6's ``spent_short``) — nothing was learnt, and not for too much
    weight decay (``spent_unlearnt``); half learnt but no fit on a norm below
    ``strong_collapse`` of its peak — weight decay may be what held the fit back
    (``spent_collapsed``) — or above it (``spent_unfitted``)."""
    if run.past_fit:
        return None
    acc, loss = _last_finite(run.finite.acc), _last_finite(run.finite.loss)
    findings = run.notes + [found("still_fitting", acc=acc, loss=loss)]
    f = run.facts
    if run.budget_spent and run.best_acc is not None and f.peak:
        of_peak = float(run.finite.norm[-1]) / f.peak
        kind = ("spent_unlearnt" if spent_short(run) is not None else "spent_collapsed"
                if of_peak < run.settings.strong_collapse else "spent_unfitted")
        findings.append(found(kind, best=run.best_acc, first=f.first_acc, of_peak=of_peak))
    return Decision("undetermined", 0.2, findings, "fitting", head=head_signal(run))


def fitted(run: Run) -> Decision:
    """Rule 7 on the total norm, from V_sc (the peak since the fit)."""
    f = run.facts
    v_sc, v_sc_step = ((f.sc_peak, f.sc_peak_step) if f.sc_peak is not None
                       else (f.peak, f.peak_step))
    signal = read_signal(run, run.finite.norm, "total norm", v_sc, v_sc_step, f.flag_step)
    findings = run.notes + signal.findings
    confidence = signal.confidence
    if not f.has_train_metrics:
        findings.append(found("no_train_metrics"))
        confidence = min(_unit(confidence), 0.6)
    return Decision(signal.regime, confidence, findings, _phase(signal),
                    transition=signal.transition, head=head_signal(run),
                    decay_rate=signal.fit.rate if signal.fit is not None else None,
                    cns=clean_norm_separation(signal, v_sc, run.settings))


def flat_and_unlikely(run: Run, d: Decision) -> Decision | None:
    """7e. An ``intermediate`` decision whose pending transition has a chance within the
    budget (``Transition.chance_in_budget``) below ``weak_max_chance`` while held-out
    accuracy, over the evaluations since the fit the budget verdict waits for
    (:func:`awaiting_heldout`; at least ``heldout_min_evals``), has not come off its floor
    (:func:`~nht_monitor.analysis.forecast.heldout_off_floor`), becomes
    ``weak`` at confidence 1 − chance, its forecast kept (``None`` otherwise)."""
    st, t = run.settings, d.transition
    chance = t.chance_in_budget
    if (d.regime != "intermediate" or t.status != "pending" or chance is None
            or st.weak_max_chance is None or chance >= st.weak_max_chance
            or run.facts.fit_step is None):
        return None
    evals, needed = awaiting_heldout(run.finite, run.fit_row, st)
    if (evals < max(needed, st.heldout_min_evals)
            or heldout_off_floor(run.finite, run.fit_row, st)):
        return None
    return replace(d, regime="weak", confidence=1.0 - chance, phase="shortcut",
                   rule="flat_and_unlikely", findings=[*d.findings, found(
                       "flat_and_unlikely", chance=chance, evals=evals,
                       budget=run.ctx.budget_steps)])


RULES: tuple[Callable[[Run], Decision | None], ...] = (
    no_samples, diverged, lost_fit, no_decay_clock, clamped_by_header, no_finite_norms, pinned,
    too_few_samples, strong_waits, strong, partial_stall, no_room_after_fit, room_after_fit,
    still_fitting, fitted)
"""The rules in order; the first that returns a decision decides (``fitted`` always does)."""


def decide(run: Run) -> Decision:
    """The decision of the first rule that fires."""
    for rule in RULES:
        decision = rule(run)
        if decision is not None:
            decision.rule = rule.__name__
            return decision
    raise AssertionError("the last rule always decides")


def unknown_when_undetermined(regime: str, transition: Transition) -> Transition:
    """An ``undetermined`` verdict (the run's or the head's) claims nothing of the
    transition: the default status ``not_expected`` becomes ``unknown`` (a status set by
    its rule is kept)."""
    if regime != "undetermined" or transition.status != "not_expected":
        return transition
    return transition.model_copy(update={"status": "unknown"})


def evaluate(s: Series, ctx: Context, settings: AnalyzerSettings) -> Assessment:
    """The assessment of series ``s`` (steps increasing) given the run's facts."""
    run = Run(s, ctx, settings)
    d = decide(run)
    d = replace(d, transition=unknown_when_undetermined(d.regime, d.transition))
    if not run.empty:  # the plan's τ only where a median has no step (it walks the plan)
        tau_left = plan_left(run) if d.transition.median_past_clock else None
        d = replace(d, transition=d.transition.model_copy(update={
            "chance_in_budget": chance_in_budget(d.transition, float(s.step[-1]),
                                                 ctx.budget_steps, settings,
                                                 _finite(s.tau[-1]), tau_left)}))
        d = flat_and_unlikely(run, d) or d
    a = Assessment(run_id=ctx.run_id, n_samples=ctx.facts.n)
    if not run.empty:  # echo the latest sample
        a.step = int(s.step[-1])
        a.tau, a.lr, a.weight_decay = _finite(s.tau[-1]), _finite(s.lr[-1]), _finite(s.wd[-1])
        a.norm, a.head_norm = _finite(s.norm[-1]), _finite(s.head[-1])
        a.v_peak = ctx.facts.peak
    a.regime = d.regime  # type: ignore[assignment]
    a.confidence = _unit(d.confidence)
    a.reasons = wording.reasons(d.findings, settings)
    a.rule = d.rule
    a.findings = [f.kind for f in d.findings]
    a.phase = d.phase  # type: ignore[assignment]
    a.clamped = d.clamped
    a.transition = d.transition
    a.head = d.head
    a.decay_rate = d.decay_rate
    a.cns = d.cns
    return a


# ---------------------------------------------------------- rule 7 on one norm signal
@dataclass
class Signal:
    """What the decay rules found on one norm signal (total or head)."""

    regime: str = "undetermined"
    confidence: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    transition: Transition = field(default_factory=Transition)
    v_st: float | None = None
    v_st_observed: bool = False
    fit: DecayFit | None = None
    v_peak: float | None = None
    phase: str | None = None
    """The phase when the regime alone does not say it (:func:`_phase`)."""


@dataclass
class Trace:
    """One norm signal as the decay rules read it.

    ``peak``/``peak_step``: V_sc, the largest value since the fit, at row ``start`` (the
    forecast's start); ``last``: the latest finite value, at τ ``tau_now``; ``drop``: how
    far ``last`` is below V_sc; ``came_down``: since the fit it was once ``flag_drop``
    below its running peak (the signal flagged); ``fit``: the decay fit on
    the last ``fit_window`` of the τ span since V_sc; ``i_fit``: row of the fit.
    """

    run: Run
    name: str
    values: np.ndarray
    peak: float
    peak_step: float | None
    start: int
    last: float
    drop: float
    fit: DecayFit | None
    tau_now: float
    i_fit: int
    came_down: bool = False

    @property
    def rate(self) -> float:
        return self.fit.rate if self.fit is not None else 0.0

    @property
    def n_after(self) -> int:
        """Samples since the fit."""
        return len(self.run.finite) - self.i_fit

    @property
    def tau_after(self) -> float:
        """τ since the fit."""
        tau = self.run.finite.tau
        return self.tau_now - float(tau[min(self.i_fit, tau.shape[0] - 1)])

    @property
    def heldout_from(self) -> int:
        """Row from which the held-out trend reads: the fit (or V_sc, if earlier) — a
        norm that grows again renews V_sc at every step, held-out accuracy does not."""
        return min(self.i_fit, self.start)


def not_fitted(t: Trace) -> Signal | None:
    f = t.run.facts
    if f.fit_step is None and f.has_train_metrics:
        return Signal(findings=[found("not_fitted", signal=t.name)])
    return None


def transition_done(t: Trace) -> Signal | None:
    """Held-out accuracy reached ``done_val_acc``; without a held-out metric, the norm
    came down to V_st = V_sc / ``structured_ratio`` (after dropping ``decay_min_drop``)."""
    s, f, st = t.run.finite, t.run.facts, t.run.settings
    step, by, v_st = f.val_step, "val_acc" if f.val_step else None, t.peak / st.structured_ratio
    if step is None and not f.has_val and t.drop >= st.decay_min_drop:
        below = np.nonzero(t.values[t.start:] <= v_st)[0]
        if below.shape[0]:
            step, by = float(s.step[t.start + int(below[0])]), "v_st"
    if step is None or not (t.drop >= st.decay_min_drop or f.val_step):
        return None
    i = min(int(np.searchsorted(s.step, step, side="left")), len(s) - 1)
    v_done = t.values[i]
    relapsed = relapse(s, step, st)
    return Signal(
        "intermediate", 0.95 if f.val_step else 0.7,
        [found("transition_done", signal=t.name, step=step, by=by, v_st=v_st, peak=t.peak,
               peak_step=t.peak_step, drop=t.drop, relapsed=relapsed, last=t.last)],
        Transition(status="done", forecast_step=float(step), interval=(float(step), float(step)),
                   forecast_tau=_finite(float(s.tau[i])), steps_remaining=0.0,
                   relapse_val_acc=relapsed),
        v_st=float(v_done) if math.isfinite(v_done) else t.last, v_st_observed=True)


def relapse(s: Series, step: float, st: AnalyzerSettings) -> float | None:
    """The median held-out accuracy of the last ``heldout_relapse_evals`` evaluations
    after the transition at ``step`` when it has fallen back below ``done_val_acc`` (the
    structured solution did not hold); ``None`` otherwise."""
    k = st.heldout_relapse_evals
    rows = np.nonzero(np.isfinite(s.val) & (s.step > step))[0]
    if rows.shape[0] < k:
        return None
    median = float(np.median(s.val[rows[-k:]]))
    return median if median < st.done_val_acc else None


def decaying(t: Trace) -> Signal | None:
    """``decay_min_drop`` below V_sc and decaying at ≥ ``decay_min_rate`` per τ: the
    transition is forecast from the law and the decay (``weak`` when beyond the budget)."""
    st = t.run.settings
    if not (t.drop >= st.decay_min_drop and t.rate >= st.decay_min_rate):
        return None
    r2 = t.fit.r2 if t.fit is not None else 0.0
    findings = [found("decaying", signal=t.name, peak=t.peak, peak_step=t.peak_step, last=t.last,
                      drop=t.drop, rate=t.rate, r2=r2)]
    return forecast_signal(t, decay_confidence(t.drop, r2, st), findings, use_rate=True)


def settled(t: Trace) -> Signal | None:
    """Came ``decay_min_drop`` below V_sc and no longer decays fast: a plateau after the
    post-fit decay. The transition is still expected (``pending``), forecast from the
    law's prior given the τ elapsed, with its wide interval."""
    st = t.run.settings
    if not t.drop >= st.decay_min_drop:
        return None
    return plateau_signal(t, [found("settled", signal=t.name, peak=t.peak,
                                    peak_step=t.peak_step, last=t.last, drop=t.drop,
                                    rate=t.rate)])


def plateau_signal(t: Trace, findings: list[Finding], confidence: float = 0.5) -> Signal:
    """A norm on a plateau (after the post-fit decay, or contracted before the fit):
    ``intermediate``, ``pending`` (never ``imminent``: nothing moves), forecast from the
    law's prior alone given the τ elapsed, with its wide interval."""
    signal = forecast_signal(t, confidence, findings, use_rate=False)
    if signal.regime == "intermediate" and signal.transition.status == "imminent":
        signal.transition = signal.transition.model_copy(update={"status": "pending"})
    return signal


def held_up(t: Trace) -> Signal:
    """Not ``decay_min_drop`` below V_sc: the norm grows or stays after the fit.

    A norm below ``weak_min_of_peak`` of its largest value (it contracted before the
    fit) and not growing faster than ``decay_min_rate`` is a plateau:
    :func:`plateau_signal`, as after a post-fit decay. Otherwise ``weak`` when it never
    came down since the fit for ``weak_min_tau_after_fit`` of τ (counted from a
    contracted plateau's end when later: :func:`tau_held`; and
    ``weak_min_samples_after_fit`` samples) and grows
    (:func:`~nht_monitor.analysis.facts.growing`: a flat norm is no verdict), or when the
    law's ``budget_quantile`` lies beyond the budget. Otherwise no forecast, saying what
    would give one (also for a norm that came down once and grows again: not "never
    decays") — ``intermediate`` with the transition ``pending``, no forecast step, when
    the law's early end lies within a known budget (``expect_while_held``). The time
    rule's held-out trend (:func:`heldout_rising`) is a line, and so is the budget
    verdict's (:func:`line_forecast`) until held-out accuracy has come
    ``held_verdict_bend_progress`` of the way (:func:`verdict_bends`): while the norm has
    not come down, an accelerating extrapolation held runs that never transition out of
    ``weak``. The forecast it reports bends as elsewhere (``heldout_curvature``,
    ``heldout_tangent``; since stop 60: the line ran late on runs whose held-out accuracy
    rose while the norm stayed within 5 % of V_sc)."""
    run, st = t.run, t.run.settings
    since_fit = fit_last_fraction(run.finite, t.values, t.i_fit, st.fit_window)
    rate = since_fit.rate if since_fit is not None else t.rate
    held = found("held_up", signal=t.name, fit_step=run.facts.fit_step, rate=rate,
                 drop=t.drop, peak=t.peak, tau_after=t.tau_after, came_down=t.came_down)
    cannot = found("cannot_forecast", signal=t.name, rate=rate, came_down=t.came_down)
    peak = run.facts.peak if t.name == "total norm" else run.facts.head_peak
    if contracted(t.last, peak, st) and rate > -st.decay_min_rate:  # and not growing back
        # the plateau began at the fit: the law's delay runs from there, not from a
        # post-fit peak that a flat, noisy norm keeps renewing
        return plateau_signal(replace(t, start=min(t.i_fit, t.start)), [
            held, found("contracted", signal=t.name, last=t.last, peak=peak)])
    if (not t.came_down and tau_held(t) >= st.weak_min_tau_after_fit
            and t.n_after >= st.weak_min_samples_after_fit
            and (st.weak_min_growth is None or growing(rate, st))
            and not heldout_rising(t) and not heldout_near_done(t)):
        return Signal("weak", weak_confidence(t.n_after, st), [held, cannot],
                      Transition(status="not_expected"))
    forecast = forecast_transition(run.finite, t.start, t.last, t.peak, t.tau_now, None, st,
                                   run.ctx.lr_schedule, run.ctx.wd_schedule, use_rate=False,
                                   trend_start=t.heldout_from)
    transition = forecast.transition
    verdict = forecast if verdict_bends(forecast, st) else line_forecast(t, forecast)
    if verdict.method != "none" and beyond_budget(verdict.budget_step,
                                                  float(run.finite.step[-1]),
                                                  run.ctx.budget_steps, st):
        late = too_late(t, verdict)
        if (waiting := heldout_wait(t)) is not None:  # before held-out accuracy could speak
            return Signal(findings=[held, late, waiting],
                          transition=Transition(status="pending"))
        if (climbing := annealing_trend(t)) is not None:
            return Signal("intermediate", 0.5, [held, late, climbing],
                          Transition(status="pending"))
        return Signal("weak", 0.6, [held, late], Transition(status="not_expected"))
    if forecast.heldout is not None:  # held-out accuracy on its way: the transition comes
        return Signal("intermediate", 0.5, [held, forecast_finding(run, t.name, forecast)],
                      transition, v_st=forecast.v_st)
    # past the budget verdict above, a forecast's early end is a step within the budget
    if st.expect_while_held and forecast.method != "none" and run.ctx.budget_steps is not None:
        room = found("room_while_held", signal=t.name, rate=rate, came_down=t.came_down,
                     step=forecast.budget_step, budget=run.ctx.budget_steps,
                     quantile=st.budget_quantile)
        return Signal("intermediate", 0.4, [held, room], Transition(status="pending"),
                      phase="shortcut")
    return Signal(findings=[held, cannot], transition=Transition(status="pending"))


def verdict_bends(forecast: Forecast, st: AnalyzerSettings) -> bool:
    """Rule 7d's budget verdict reads the bent trend (``forecast`` as it is, not
    :func:`line_forecast`): held-out accuracy's trend has come at least
    ``held_verdict_bend_progress`` of the way to ``done_val_acc``."""
    p = st.held_verdict_bend_progress
    return p is not None and forecast.heldout is not None and forecast.heldout.progress >= p


def line_forecast(t: Trace, forecast: Forecast) -> Forecast:
    """``forecast`` when its held-out trend did not bend; else the same forecast with the
    trend read as a line — what rule 7d's budget verdict reads: with the bent trend's
    early end, truly weak runs lost their ``weak`` for a while (8 runs of rounds 65–80,
    3 more of them flapping)."""
    if forecast.heldout is None or forecast.heldout.curvature == 0.0:
        return forecast
    run = t.run
    return forecast_transition(run.finite, t.start, t.last, t.peak, t.tau_now, None,
                               run.settings, run.ctx.lr_schedule, run.ctx.wd_schedule,
                               use_rate=False, trend_start=t.heldout_from, bend=False)


def tau_held(t: Trace) -> float:
    """τ the norm has stayed at or above ``weak_min_of_peak`` of its running peak (pre-fit
    values included): since the fit, or since its last value after the fit below that (a
    contracted plateau, read by :func:`plateau_signal`) when later."""
    running = np.fmax.accumulate(t.values)
    low = np.nonzero(t.values[t.i_fit:] < t.run.settings.weak_min_of_peak
                     * running[t.i_fit:])[0]
    if not low.shape[0]:
        return t.tau_after
    return t.tau_now - float(t.run.finite.tau[t.i_fit + int(low[-1])])


def heldout_rising(t: Trace) -> bool:
    """Held-out accuracy since the fit is on a significant rising trend
    (:func:`~nht_monitor.analysis.forecast.heldout_trend`, as a line) whose own line reaches
    ``done_val_acc`` within the budget: the structured solution is being learnt whatever
    the norm does (with a small initialisation the norm can grow through the
    transition), so the time rule does not call the run ``weak``."""
    run, st = t.run, t.run.settings
    if not st.heldout_trend:
        return False
    trend = heldout_trend(run.finite, t.heldout_from, t.tau_now, st, bend=False)
    if trend is None:
        return False
    return not beyond_budget(step_after(run, trend.d_tau), float(run.finite.step[-1]),
                             run.ctx.budget_steps, st)


def heldout_near_done(t: Trace) -> bool:
    """Held-out accuracy since the fit has come at least ``weak_max_heldout_progress`` of
    the way to ``done_val_acc`` (:func:`~nht_monitor.analysis.forecast.heldout_progress`):
    the structured solution is mostly learnt, so the time rule does not call the run
    ``weak`` (a dip in a noisy held-out curve can break its rising trend for a while)."""
    st = t.run.settings
    if st.weak_max_heldout_progress is None:
        return False
    progress = heldout_progress(t.run.finite, t.heldout_from, st)
    return progress is not None and progress >= st.weak_max_heldout_progress


def too_late(t: Trace, forecast: Forecast) -> Finding:
    """The budget verdict's finding: ``forecast``'s ``budget_quantile`` beyond the budget."""
    run, st = t.run, t.run.settings
    return found("too_late", signal=t.name, forecast_step=forecast.budget_step,
                 budget=run.ctx.budget_steps, quantile=st.budget_quantile,
                 least_tau=forecast.least_tau, tau_left=plan_left(run))


def heldout_wait(t: Trace) -> Finding | None:
    """``awaiting_heldout`` while held-out accuracy has fewer evaluations since the fit
    than its trend needs (:func:`awaiting_heldout`): the budget verdict waits for it —
    unless the budget is spent (no evaluation to come can bring the transition within it:
    a run fitted 17 steps before its end stayed ``intermediate`` at the end) or the run
    was ``weak`` before its fit and nothing changed since (:func:`held_since_before_fit`)."""
    run = t.run
    if run.budget_spent:
        return None
    evals, needed = awaiting_heldout(run.finite, t.i_fit, run.settings)
    if evals >= needed or held_since_before_fit(run, t.heldout_from):
        return None
    return found("awaiting_heldout", signal=t.name, evals=evals, needed=needed)


def held_since_before_fit(run: Run, start: int) -> bool:
    """With ``weak_before_fit``: the budget left no room for the law even before the fit
    (:func:`no_room`, read now) and held-out accuracy has not come off its floor since
    row ``start`` (the fit; :func:`~nht_monitor.analysis.forecast.heldout_off_floor`):
    the ``weak`` said while fitting stands, with no wait at the fit."""
    return (run.settings.weak_before_fit and no_room(run) is not None
            and not heldout_off_floor(run.finite, start, run.settings))


def annealing_trend(t: Trace) -> Finding | None:
    """``annealing_trend`` while the learning rate anneals (the last logged lr at most
    ``annealing_lr_fraction`` of its peak) and held-out accuracy's logit, a least-squares
    line against the step over its last ``step_trend_evals`` evaluations since the fit,
    reaches ``done_val_acc`` within the budget; ``None`` otherwise (``annealing_step_trend``
    off, no budget, too few evaluations, held-out accuracy not off its floor, a line not
    rising)."""
    run, st = t.run, t.run.settings
    s, budget = run.finite, run.ctx.budget_steps
    lr = s.lr[np.isfinite(s.lr)]
    if (st.annealing_step_trend is not True or budget is None or not lr.shape[0]
            or lr[-1] > st.annealing_lr_fraction * lr.max()
            or not heldout_off_floor(s, t.heldout_from, st)):
        return None
    val, steps = s.val[t.heldout_from:], s.step[t.heldout_from:]
    ok = np.isfinite(val)
    if ok.sum() < st.step_trend_evals:
        return None
    line = fit_line(steps[ok][-st.step_trend_evals:],
                    np.array([logit(float(v)) for v in val[ok][-st.step_trend_evals:]]))
    if line is None or not line.slope > 0:
        return None
    step = (logit(st.done_val_acc) - line.intercept) / line.slope
    if step > budget:
        return None
    return found("annealing_trend", signal=t.name, step=float(round(step)), budget=budget,
                 evals=st.step_trend_evals)


def awaiting_heldout(s: Series, start: int, st: AnalyzerSettings) -> tuple[int, int]:
    """``(evaluations, needed)``: held-out evaluations logged from row ``start`` (the fit)
    on, and how many the budget verdict waits for (2 × ``heldout_min_evals``: the trend
    fits the last half of them; since stop 60 it can speak from ``heldout_min_evals`` on,
    the wait kept as it was); ``needed`` is 0 without the trend or when the run logs no
    held-out accuracy at all."""
    if not st.heldout_trend or not np.isfinite(s.val).any():
        return 0, 0
    return int(np.isfinite(s.val[start:]).sum()), 2 * st.heldout_min_evals


SIGNAL_RULES: tuple[Callable[[Trace], Signal | None], ...] = (
    not_fitted, transition_done, decaying, settled, held_up)
"""Rule 7 in order; the first that returns a signal decides (``held_up`` always does)."""


def forecast_signal(t: Trace, confidence: float, findings: list[Finding], *,
                    use_rate: bool) -> Signal:
    """``intermediate`` with the forecast (``findings`` + the forecast's); ``weak`` when
    its ``budget_quantile`` (0.1: the early end of its 80 % interval) lies beyond the
    budget (a median just past the budget, with the interval reaching into it, stays
    ``intermediate``; with the held-out trend that quantile is never later than the
    norm's own) — once held-out accuracy has the evaluations since the fit its trend
    needs (:func:`heldout_wait`, as in :func:`held_up`; until then ``intermediate``,
    saying so)."""
    run, st = t.run, t.run.settings
    forecast = forecast_transition(run.finite, t.start, t.last, t.peak, t.tau_now, t.fit, st,
                                   run.ctx.lr_schedule, run.ctx.wd_schedule,
                                   use_rate=use_rate, trend_start=t.heldout_from)
    transition = forecast.transition
    if forecast.method != "none":
        findings.append(forecast_finding(run, t.name, forecast))
    budget = run.ctx.budget_steps
    if forecast.method != "none" and beyond_budget(forecast.budget_step,
                                                   float(run.finite.step[-1]), budget, st):
        findings.append(too_late(t, forecast))
        if (waiting := heldout_wait(t)) is not None:  # the forecast stands meanwhile
            return Signal("intermediate", confidence, findings + [waiting], transition,
                          v_st=forecast.v_st)
        if (climbing := annealing_trend(t)) is not None:
            return Signal("intermediate", confidence, findings + [climbing], transition,
                          v_st=forecast.v_st)
        return Signal("weak", round(min(confidence, 0.7), 3), findings,
                      transition.model_copy(update={"status": "not_expected"}),
                      v_st=forecast.v_st)
    return Signal("intermediate", confidence, findings, transition, v_st=forecast.v_st)


def forecast_finding(run: Run, name: str, forecast: Forecast) -> Finding:
    """The ``forecast`` finding of ``forecast`` on the signal ``name``."""
    transition = forecast.transition
    return found("forecast", signal=name, method=forecast.method, elapsed=forecast.elapsed,
                 rate_tau=forecast.rate_tau, d_tau=forecast.d_tau, v_st=forecast.v_st,
                 forecast_step=transition.forecast_step, interval=transition.interval,
                 heldout=forecast.heldout, tau_left=plan_left(run),
                 floor_tau=forecast.floor_tau)


def plan_left(run: Run) -> float | None:
    """The τ the run's planned learning rate still holds until its budget (``None``:
    no plan or no budget), for the reasons."""
    return planned_tau_left(run.finite, run.ctx.lr_schedule, run.ctx.budget_steps)


def read_signal(run: Run, values: np.ndarray, name: str, peak: float | None,
                peak_step: float | None, flag_step: float | None) -> Signal:
    """Rule 7 on ``values`` (a column of ``run.finite``): V_sc = ``peak`` at ``peak_step``,
    every drop measured from it; ``flag_step``: where the signal first came down."""
    s, st = run.finite, run.settings
    ok = np.isfinite(values) & np.isfinite(s.tau)
    if peak is None or not ok.any():
        return Signal(findings=[found("no_finite_values", signal=name)])
    last = float(values[ok][-1])
    start = int(np.searchsorted(s.step, peak_step, side="left")) if peak_step is not None else 0
    start = min(start, len(s) - 1)
    t = Trace(run, name, values, peak, peak_step, start, last,
              drop=max(0.0, 1.0 - last / peak) if peak > 0 else 0.0,
              fit=fit_last_fraction(s, values, start, st.fit_window),
              tau_now=float(s.tau[ok][-1]),
              i_fit=run.fit_row,
              came_down=flag_step is not None)
    signal = next(sig for rule in SIGNAL_RULES if (sig := rule(t)) is not None)
    signal.fit, signal.v_peak = t.fit, peak
    return signal


def head_signal(run: Run) -> HeadSignal | None:
    """Rule 7 on the head norm, with the steps at which head and total norm flagged."""
    f = run.facts
    if f.head_peak is None or not np.isfinite(run.finite.head).any():
        return None
    peak, peak_step = ((f.head_sc_peak, f.head_sc_peak_step) if f.head_sc_peak is not None
                       else (f.head_peak, f.head_peak_step))
    signal = read_signal(run, run.finite.head, "head norm", peak, peak_step, f.head_flag_step)
    lead = None
    if f.head_flag_step is not None and f.flag_step is not None:
        lead = float(f.flag_step - f.head_flag_step)
    return HeadSignal(regime=signal.regime, confidence=_unit(signal.confidence),
                      transition=unknown_when_undetermined(signal.regime, signal.transition),
                      flagged_step=None if f.head_flag_step is None else int(f.head_flag_step),
                      lead_steps=lead, v_peak=signal.v_peak,
                      decay_rate=signal.fit.rate if signal.fit is not None else None)


# ------------------------------------------------------------------------ the numbers
def strong_confidence(drop: float, st: AnalyzerSettings) -> float:
    """0.6 at the collapse threshold, up to 0.95 for 30 points further."""
    return min(0.95, 0.6 + 0.35 * min(1.0, (drop - (1 - st.strong_collapse)) / 0.3))


def decay_confidence(drop: float, r2: float, st: AnalyzerSettings) -> float:
    """0.5–0.95, growing with the drop (full at 3 × ``decay_min_drop``) and the fit's R²."""
    strength = min(1.0, drop / (3 * st.decay_min_drop))
    return round(min(0.95, 0.5 + 0.45 * strength * max(r2, 0.3)), 3)


def weak_confidence(n_after: int, st: AnalyzerSettings) -> float:
    """0.5–0.9, growing with the samples since the fit."""
    return round(min(0.9, 0.5 + 0.4 * min(1.0, n_after / (10 * st.weak_min_samples_after_fit))), 3)


def beyond_budget(forecast_step: float | None, step_now: float, budget: float | None,
                  st: AnalyzerSettings) -> bool:
    """``forecast_step`` lies beyond the budget (the run's planned steps) or, without one,
    beyond ``weak_forecast_factor`` × the steps so far; ``None`` (the τ clock is too
    slow to get there at all) is beyond."""
    if forecast_step is None:
        return True
    if budget is not None:
        return forecast_step > budget
    return (forecast_step - step_now) > st.weak_forecast_factor * max(step_now, 1.0)


def clean_norm_separation(signal: Signal, v_sc: float | None,
                          st: AnalyzerSettings) -> CleanNormSeparation:
    """V_sc against V_st (forecast, or observed once the transition is done); ``holds``
    decided only once V_st is observed."""
    if v_sc is None or signal.v_st is None or signal.regime != "intermediate":
        return CleanNormSeparation(v_sc=v_sc)
    v_sc, v_st = float(v_sc), float(signal.v_st)
    if v_sc <= 0 or v_st <= 0:
        return CleanNormSeparation(v_sc=v_sc)
    ratio = v_sc / v_st
    separation = max(0.0, min(1.0, 1.0 - v_st / v_sc))
    holds = None
    if signal.v_st_observed:
        fit = signal.fit
        noise = fit.noise if fit is not None and fit.noise > 0 else 0.0
        z = math.log(ratio) / noise if noise > 0 else math.inf
        holds = bool(separation >= st.cns_min_separation and z >= st.cns_min_z)
    return CleanNormSeparation(v_sc=v_sc, v_st=v_st, ratio=ratio, separation=separation,
                               holds=holds)


def _phase(signal: Signal) -> str:
    if signal.phase is not None:
        return signal.phase
    if signal.transition.status == "done":
        return "structured"
    if signal.regime == "intermediate":
        return "transitioning"
    return "shortcut"


def _last_finite(x: np.ndarray) -> float | None:
    ok = np.isfinite(x)
    if not ok.any():
        return None
    return float(x[ok][-1])


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _unit(x: float) -> float:
    return float(max(0.0, min(1.0, x)))
