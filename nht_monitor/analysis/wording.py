"""The wording of ``Assessment.reasons``: one sentence per kind of :class:`Finding`.

The rules (:mod:`nht_monitor.analysis.rules`) measure; they record what they measured as
findings (a kind and its numbers). This module is the one place that turns those numbers
into the sentences of ``reasons``: :func:`reasons`. Each sentence function below is named
after its kind and takes the settings (for the thresholds it quotes) and the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nht_monitor.analysis.facts import growing, learnt_level
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.text import interval_text


@dataclass(frozen=True)
class Finding:
    """What a rule measured: ``kind`` names its sentence, ``numbers`` fill it in."""

    kind: str
    numbers: dict[str, Any] = field(default_factory=dict)


def found(kind: str, **numbers: Any) -> Finding:
    """``Finding(kind, numbers)``."""
    return Finding(kind, numbers)


def reasons(findings: Iterable[Finding], settings: AnalyzerSettings) -> list[str]:
    """The sentences of ``findings``, in order."""
    return [SENTENCES[f.kind](settings, **f.numbers) for f in findings]


def fmt(x: float | None, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits; ``n/a`` when missing."""
    if x is None:
        return "n/a"
    return f"{x:.{digits}g}"


def percent_below(x: float, bound: float) -> str:
    """``x`` as a percentage with the fewest decimals (up to 2) that read apart from
    ``bound`` at as many: 0.098 under 0.1 is "9.8%", not "10%"."""
    digits = 0
    while digits < 2 and f"{x:.{digits}%}" == f"{bound:.{digits}%}":
        digits += 1
    return f"{x:.{digits}%}"


def fmt_step(x: float | None) -> str:
    """A projected step as a whole number (``fmt`` to 6 digits beyond 10⁷); ``n/a`` when
    missing."""
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x) < 1e7 else fmt(x, 6)


def describe_clamp(clamp: object) -> str:
    """The header's ``norm_clamp`` setting as ``key=value, …``."""
    if isinstance(clamp, dict):
        return ", ".join(f"{k}={v}" for k, v in clamp.items()) or "defaults"
    return str(clamp)


# --------------------------------------------------------------- the run's rules (1–6)
def no_samples(st: AnalyzerSettings) -> str:
    return "no samples yet"


def non_finite_norm(st: AnalyzerSettings, norm: float, step: int) -> str:
    return f"norm is {norm} at step {step}"


def exploding(st: AnalyzerSettings, norm: float, first_norm: float) -> str:
    return (f"norm {fmt(norm)} exceeds {st.explode_factor:g} × first norm "
            f"{fmt(first_norm)} (exploding)")


def not_a_fraction(st: AnalyzerSettings, metric: str, largest: float) -> str:
    return (f"{metric} reaches {fmt(largest)}, but accuracies are read as fractions in "
            "[0, 1] (a percentage? log it divided by 100)")


def lost_fit(st: AnalyzerSettings, acc: float, fit_step: float, best: float | None,
             evals: int) -> str:
    return (f"train accuracy at most {fmt(acc)} over the last {evals} evaluations: not half "
            f"learnt any more, though the training set was fitted at step {fmt_step(fit_step)} "
            f"(best {fmt(best)}): the fit was lost (a loss spike or an instability, not a "
            "weight-decay regime)")


def skipped_non_finite(st: AnalyzerSettings, count: int, first_step: float | None) -> str:
    return (f"{count} non-finite norm sample(s) ignored (first at step "
            f"{int(first_step or 0)}); latest norm is finite")


def no_weight_decay(st: AnalyzerSettings) -> str:
    return ("weight decay λ = 0: the Norm-Hierarchy Transition law does not apply; weak by "
            "construction (no transition expected)")


def no_learning_rate(st: AnalyzerSettings) -> str:
    return "learning rate = 0: the τ clock does not advance; no transition can come"


def clamped_by_header(st: AnalyzerSettings, clamp: object) -> str:
    return (f"norm is clamped by NormClamp ({describe_clamp(clamp)}): weight-decay regimes "
            "do not apply")


def no_finite_norms(st: AnalyzerSettings) -> str:
    return "no finite norms"


def pinned(st: AnalyzerSettings, level: float, rel_range: float, points: int,
           d_tau: float) -> str:
    return (f"norm pinned at {fmt(level, 6)}: relative range {rel_range:.2e} < "
            f"{st.clamp_rel_range:g} over the last {points} points, although weight "
            f"decay alone would have moved it by ~{d_tau:.2e}")


def too_few_samples(st: AnalyzerSettings, count: int) -> str:
    return f"only {count} sample(s) (< min_samples {st.min_samples})"


def _suppressed_acc(st: AnalyzerSettings, acc: float, first_acc: float | None,
                    gain: float | None) -> str:
    """Train accuracy as ``rules.strong`` reads it: ``gain`` of the way from its first
    value to 1 (``rules.learnt``), below ``strong_max_gain``."""
    if first_acc is None or gain is None:
        return f"train accuracy {_mean_of(st)}{fmt(acc)} < {st.strong_max_train_acc:g}"
    return (f"train accuracy {_mean_of(st)}{fmt(acc)} ({fmt(100 * gain, 2)}% of the way from "
            f"its first {fmt(first_acc)} to 1, < {100 * st.strong_max_gain:g}%)")


def _later_weight(st: AnalyzerSettings) -> str:
    """How a held-out trend pointing later than the norm's forecast is weighted."""
    if st.heldout_later_weight is None:
        return "counted as at chance"
    return "down-weighted"


def _best(st: AnalyzerSettings) -> str:
    """What patience compares (``rules.best_gain``): the best mean of that many."""
    return f"best mean of {st.train_acc_evals}" if st.train_acc_evals > 1 else "best"


def _mean_of(st: AnalyzerSettings) -> str:
    """How rule 6 reads train accuracy (``Run.recent_acc``), before the number."""
    return f"(mean of its last {st.train_acc_evals}) " if st.train_acc_evals > 1 else ""


def _half(st: AnalyzerSettings, first_acc: float | None) -> str:
    """``rules.half_learnt``'s bound: ``strong_max_train_acc`` of the way from the first
    train accuracy (chance) to 1, as an accuracy (:func:`learnt_level`)."""
    if first_acc is None or not first_acc < 1.0:
        return f"{st.strong_max_train_acc:g}"
    level = learnt_level(st.strong_max_train_acc, first_acc)
    return (f"{fmt(level)} ({100 * st.strong_max_train_acc:g}% of the way from its first "
            f"{fmt(first_acc)} to 1)")


def collapsed(st: AnalyzerSettings, drop: float, peak: float, acc: float | None,
              loss: float | None, first_loss: float | None, progress: float,
              first_acc: float | None = None, gain: float | None = None) -> str:
    if acc is not None:
        what = (f"{_suppressed_acc(st, acc, first_acc, gain)}, up "
                f"{fmt(progress)} < {st.strong_stall_acc:g} over the last Δτ "
                f"{st.strong_stall_tau:g}")
    else:
        what = (f"training loss {fmt(loss)} > {st.strong_min_loss_ratio:g} × first "
                f"{fmt(first_loss)}, down {fmt(100 * progress, 2)}% < "
                f"{100 * st.strong_stall_loss:g}% over the last Δτ {st.strong_stall_tau:g}")
    return (f"norm collapsed to {fmt(100 * (1 - drop), 3)}% of its peak {fmt(peak)} "
            f"(< {st.strong_collapse * 100:g}%) while {what}: learning is suppressed")


def _budget(st: AnalyzerSettings, budget: float | None) -> str:
    """What "beyond the budget" is measured against (``rules.beyond_budget``)."""
    return (f"the budget of {budget:g} steps" if budget is not None else
            f"{st.weak_forecast_factor:g} × the steps so far")


def too_slow(st: AnalyzerSettings, drop: float, peak: float, acc: float, rate: float,
             fit_step: float | None, budget: float | None,
             first_acc: float | None = None, gain: float | None = None) -> str:
    when = "never" if fit_step is None else f"only at step {fmt_step(fit_step)}"
    return (f"norm collapsed to {fmt(100 * (1 - drop), 3)}% of its peak {fmt(peak)} "
            f"(< {st.strong_collapse * 100:g}%) while "
            f"{_suppressed_acc(st, acc, first_acc, gain)} rises at {fmt(rate)}/τ over the "
            f"last Δτ {st.strong_stall_tau:g}: it would reach {st.fit_min_acc:g} (the least that "
            f"counts as fitted) {when}, beyond {_budget(st, budget)}: learning is suppressed")


def spent_short(st: AnalyzerSettings, drop: float, peak: float, best: float,
                budget: float, first_acc: float | None = None) -> str:
    over = f" over {st.train_acc_evals} evaluations" if st.train_acc_evals > 1 else ""
    return (f"{_budget(st, budget)} is spent short of the fit: train accuracy's best{over} "
            f"{fmt(best)} never reached {_half(st, first_acc)} and the norm collapsed to "
            f"{fmt(100 * (1 - drop), 3)}% of its peak {fmt(peak)} (< "
            f"{st.strong_collapse * 100:g}%): nothing learnt under this weight decay")


def long_stall(st: AnalyzerSettings, drop: float, peak: float, acc: float | None,
               loss: float | None, progress: float, span: float) -> str:
    if acc is not None:
        what = (f"train accuracy {_mean_of(st)}{fmt(acc)} set no new best over the last Δτ "
                f"{span:g} (its {_best(st)} there minus the one before: {fmt(progress)} < "
                f"{st.strong_stall_acc:g})")
    else:
        what = (f"training loss {fmt(loss)} set no new low over the last Δτ {span:g} "
                f"(the lowest before minus its lowest there: {fmt(100 * progress, 2)}% < "
                f"{100 * st.strong_stall_loss:g}%)")
    return (f"norm collapsed to {fmt(100 * (1 - drop), 3)}% of its peak {fmt(peak)} "
            f"(< {st.strong_collapse * 100:g}%) and {what}, short of the fit: weight decay "
            f"holds learning down")


def partial_stall(st: AnalyzerSettings, drop: float, peak: float, acc: float,
                  progress: float, span: float, first_acc: float | None = None) -> str:
    return (f"norm collapsed to {fmt(100 * (1 - drop), 3)}% of its peak {fmt(peak)} and "
            f"train accuracy {_mean_of(st)}{fmt(acc)} set no new best over the last Δτ "
            f"{span:g} (its {_best(st)} there minus the one before: {fmt(progress)} < "
            f"{st.strong_stall_acc:g}), but "
            f"it is at or above {_half(st, first_acc)}: something was learnt, so not "
            f"strong; still fitting (a fit can still come, e.g. as the learning rate anneals)")


def from_init(st: AnalyzerSettings, peak: float, first: float) -> str:
    return (f"the norm's peak {fmt(peak)} is its initialization's (its first value "
            f"{fmt(first)}; never above {st.strong_init_peak:g}× it): the collapse is from the "
            "initialization, no equilibrium norm to size λ on")


def strong_waits(st: AnalyzerSettings, until: float, share: float, budget: float) -> str:
    return (f"not strong before step {fmt_step(until)} ({share:.0%} of the budget of "
            f"{budget:g} steps) while the norm has not fallen below "
            f"{st.strong_wait_min_of_peak:.0%} of its peak: near the strong boundary a slow "
            "start reads as a collapse and then learns; still fitting")


def no_room_after_fit(st: AnalyzerSettings, least_tau: float, forecast_step: float | None,
                      budget: float, quantile: float, tau_left: float | None = None) -> str:
    when = "never" if forecast_step is None else f"at step {fmt_step(forecast_step)}"
    left = (f" (the planned learning rate leaves {fmt(tau_left)} τ until the budget)"
            if tau_left is not None else "")
    return (f"still fitting, and even from a fit now the law's least delay ({quantile:.0%} "
            f"quantile: {fmt(least_tau)} τ) would end {when}{left}, beyond "
            f"{_budget(st, budget)}: too little τ left for weight decay to bring the "
            "transition")


def room_after_fit(st: AnalyzerSettings, acc: float, fit_tau: float, delay_tau: float,
                   step: float, budget: float, quantile: float) -> str:
    return (f"still fitting, and train accuracy's line (at {fmt(acc)} now) reaches "
            f"{st.fit_train_acc:g} in Δτ {fmt(fit_tau)}; with the law's delay after it "
            f"({quantile:.0%} quantile: {fmt(delay_tau)} τ) that is step {fmt_step(step)}, "
            f"within {_budget(st, budget)}: a transition is expected once it fits")


def still_fitting(st: AnalyzerSettings, acc: float | None, loss: float | None) -> str:
    return (f"still fitting (train acc {fmt(acc)}, loss {fmt(loss)}; fitted at acc ≥ "
            f"{st.fit_train_acc:g}{_median(st)}, or once the last {st.fit_flat_evals} "
            f"evaluations stay near their best{_held(st) if acc is not None else ''}, or "
            f"held-out acc ≥ {st.done_val_acc:g})")


def spent_unlearnt(st: AnalyzerSettings, best: float, first: float | None,
                   of_peak: float) -> str:
    return (f"the budget is spent and train accuracy never got half the way from its first "
            f"{fmt(first)} to 1 (best mean over {st.train_acc_evals} evaluations "
            f"{fmt(best)}), but the norm did not collapse (now "
            f"{of_peak:.0%} of its peak; the strong regime's is below "
            f"{st.strong_collapse:.0%}): nothing was learnt, and not for too much weight "
            "decay — look at the learning rate, the model or the data first")


def spent_unfitted(st: AnalyzerSettings, best: float, first: float | None,
                   of_peak: float) -> str:
    return f"{_spent_without_fit(st, best, first)}; the norm at {of_peak:.0%} of its peak"


def spent_collapsed(st: AnalyzerSettings, best: float, first: float | None,
                    of_peak: float) -> str:
    return (f"{_spent_without_fit(st, best, first)}; the norm collapsed to {of_peak:.0%} of "
            "its peak: weight decay may be what holds the fit back, a smaller λ fits sooner")


def _spent_without_fit(st: AnalyzerSettings, best: float, first: float | None) -> str:
    return (f"the budget is spent without a fit: train accuracy's best mean over "
            f"{st.train_acc_evals} evaluations {fmt(best)} (from {fmt(first)}), something was "
            "learnt, so not the strong regime")


def _median(st: AnalyzerSettings) -> str:
    k = st.fit_median_evals
    return "" if k == 1 else f" (the median of {k} evaluations from there)"


def _held(st: AnalyzerSettings) -> str:
    share = st.fit_flat_share
    return "" if share is None else f" and it has held over {share:.0%} of the steps so far"


def no_train_metrics(st: AnalyzerSettings) -> str:
    return ("no training loss/accuracy logged: the fit and the strong regime cannot be "
            "observed")


# ------------------------------------------------ the decay rules on one norm signal (7)
def no_finite_values(st: AnalyzerSettings, signal: str) -> str:
    return f"{signal}: no finite values"


def not_fitted(st: AnalyzerSettings, signal: str) -> str:
    return f"{signal}: training set not fitted yet"


def transition_done(st: AnalyzerSettings, signal: str, step: float, by: str | None,
                    v_st: float, peak: float, peak_step: float | None, drop: float,
                    relapsed: float | None = None, last: float | None = None) -> str:
    how = {"val_acc": "held-out accuracy reached {:.2g}".format(st.done_val_acc),
           "v_st": f"norm reached V_st = V_sc/{st.structured_ratio:g} = {fmt(v_st)}",
           None: ""}[by]
    held = ("" if relapsed is None else
            f"; but held-out accuracy has fallen back since: median {relapsed:.2f} over the "
            f"last {st.heldout_relapse_evals} evaluations (the structured solution is not holding)")
    now = (f"{fmt((last / peak - 1) * 100, 2)}% above it now (grown back)"
           if last is not None and peak > 0 and last > peak else
           f"{fmt(drop * 100, 2)}% below it now")
    return (f"{signal}: transition done at step {int(step)} ({how}); "
            f"peak {fmt(peak)} at step {int(peak_step or 0)}, {now}{held}")


def decaying(st: AnalyzerSettings, signal: str, peak: float, peak_step: float | None,
             last: float, drop: float, rate: float, r2: float) -> str:
    return (f"{signal}: peak {fmt(peak)} at step {int(peak_step or 0)}, now {fmt(last)} "
            f"({fmt(drop * 100, 2)}% below ≥ {st.decay_min_drop * 100:g}%), decaying at "
            f"{fmt(rate)}/τ ≥ {st.decay_min_rate:g} (R² {fmt(r2, 2)})")


def forecast(st: AnalyzerSettings, signal: str, method: str, elapsed: float,
             rate_tau: float | None, d_tau: float, v_st: float, forecast_step: float | None,
             interval: tuple[float, float | None] | None, heldout: Any = None,
             tau_left: float | None = None, floor_tau: float | None = None) -> str:
    parts = []
    if "law" in method:
        tail = (f"; {st.delay_tail_weight * 100:g}% of it at {st.delay_tail_log_sd:g}"
                if st.delay_tail_weight else "")
        parts.append(f"law: delay from V_sc median {st.delay_tau:g} τ (log-sd "
                     f"{st.delay_log_sd:g}{tail})")
    if rate_tau is not None:
        parts.append(f"decay to V_st {fmt(v_st)} (V_sc/{st.structured_ratio:g}) at "
                     f"{st.rate_factor:g} × the fitted rate: {fmt(rate_tau)} τ from V_sc")
    how = " and ".join(parts) + f", given none in the {fmt(elapsed)} τ since V_sc"
    if floor_tau is not None:
        how += (f", and none before Δτ {fmt(floor_tau)} from it (held-out accuracy is still "
                f"on its floor, which it leaves by {st.heldout_floor_share:.0%} of the delay)")
    if heldout is not None:
        mean = "half-way in log between its line and its parabola"
        bend = (f" and bending upwards ({fmt(heldout.curvature)}/τ²"
                + (f"; the line through its last {heldout.recent}, steeper, reaches it sooner "
                   f"than {mean})" if heldout.recent else f": {mean})")
                if heldout.curvature > 0 else
                f" and slowing ({fmt(heldout.curvature)}/τ²: its tangent now, the line's "
                f"Δτ {fmt(heldout.d_line)} the early end)" if heldout.curvature < 0 else "")
        how += (f"; held-out accuracy's logit rising at {fmt(heldout.slope)}/τ{bend} over "
                f"the last {heldout.n} evaluations reaches {st.done_val_acc:g} in Δτ "
                f"{fmt(heldout.d_tau)}, weighted {heldout.weight:.2f} against the norm's "
                f"{1 - heldout.weight:.2f} in log Δτ "
                + (f"(it reaches beyond {st.heldout_max_reach:g} × the Δτ "
                   f"{fmt(heldout.span)} its evaluations cover: no information)"
                   if heldout.far else
                   f"(later than the norm's: {_later_weight(st)}, a line in logit runs "
                   "late while the accuracy creeps before its rise)" if heldout.later else
                   f"(it has climbed {heldout.progress:.0%} of the way from its first "
                   "evaluation)"))
    how += f": Δτ {fmt(d_tau)} from now"
    if forecast_step is None and tau_left is not None:
        return (f"{signal}: {how}; the planned learning rate leaves {fmt(tau_left)} τ until "
                "the budget: no step for it")
    if forecast_step is None:
        return f"{signal}: {how}; τ clock too slow/stopped for a step forecast"
    return (f"{signal}: {how} → step {fmt_step(forecast_step)} "
            f"(80%: {interval_text(interval, fmt_step)}"
            + (")" if interval[1] is not None else
               ": the τ clock stops before the belief's 90% quantile)"))


def too_late(st: AnalyzerSettings, signal: str, forecast_step: float | None,
             budget: float | None, quantile: float, least_tau: float | None = None,
             tau_left: float | None = None) -> str:
    if tau_left is not None:  # the run's planned learning rate decides how much τ is left
        when = ("never" if forecast_step is None else f"step {fmt_step(forecast_step)}") + (
            f" (the planned learning rate leaves {fmt(tau_left)} τ until the budget)")
    else:
        when = ("never (τ clock too slow)" if forecast_step is None
                else f"step {fmt_step(forecast_step)}")
    if least_tau is not None:
        return (f"{signal}: the law's least delay ({quantile:.0%} quantile: {fmt(least_tau)} τ "
                f"from V_sc) ends at {when}, beyond {_budget(st, budget)}; a fast decay "
                "shortens the forecast, not that")
    what = ("even the early end (10%) of the law's interval is" if quantile == 0.1
            else f"even the forecast's {quantile:.0%} quantile is")
    return f"{signal}: {what} {when}, beyond {_budget(st, budget)}"


def flat_and_unlikely(st: AnalyzerSettings, chance: float, evals: int,
                      budget: float | None) -> str:
    return (f"weak: the transition's chance within {_budget(st, budget)} is "
            f"{percent_below(chance, st.weak_max_chance)} < {st.weak_max_chance:.0%}, and "
            f"held-out accuracy has not come {st.heldout_min_gain:g} off its floor over the "
            f"{evals} evaluations since the fit: the forecast is not borne out")


def annealing_trend(st: AnalyzerSettings, signal: str, step: float, budget: float,
                    evals: int) -> str:
    return (f"{signal}: not weak: the learning rate anneals, and held-out accuracy's logit "
            f"(a line against the step over its last {evals} evaluations) reaches "
            f"{st.done_val_acc:g} at step {fmt_step(step)}, within {_budget(st, budget)}: on an "
            "annealing plan the transition can come sooner than the τ clock says")


def awaiting_heldout(st: AnalyzerSettings, signal: str, evals: int, needed: int) -> str:
    return (f"{signal}: not weak yet: held-out accuracy has {evals} of the {needed} "
            "evaluations since the fit needed to read its trend, which can bring the "
            "transition sooner than the norm alone says")


def settled(st: AnalyzerSettings, signal: str, peak: float, peak_step: float | None,
            last: float, drop: float, rate: float) -> str:
    now = (f"now grows again at {fmt(-rate)}/τ: no longer decaying" if rate < 0 else
           f"now decays at {fmt(rate)}/τ < {st.decay_min_rate:g}: a plateau after the decay")
    return (f"{signal}: came down from V_sc {fmt(peak)} (step {int(peak_step or 0)}) to "
            f"{fmt(last)} ({fmt(drop * 100, 2)}% below) and {now}, which a transition often "
            "follows")


def held_up(st: AnalyzerSettings, signal: str, fit_step: float | None, rate: float,
            drop: float, peak: float, tau_after: float, came_down: bool) -> str:
    again = " again (it came down once since the fit)" if came_down else ""
    trend = (f"growing{again} ({fmt(-rate)}/τ)" if growing(rate, st)
             else f"flat{again} ({fmt(-rate)}/τ)" if rate < st.decay_min_rate
             else f"decaying{again} ({fmt(rate)}/τ)")  # but not yet decay_min_drop down
    return (f"{signal}: after the fit (step {int(fit_step) if fit_step is not None else 'n/a'}) "
            f"the norm is {trend}, {fmt(drop * 100, 2)}% < "
            f"{st.decay_min_drop * 100:g}% below its post-fit peak {fmt(peak)}, Δτ "
            f"{fmt(tau_after)} since the fit")


def contracted(st: AnalyzerSettings, signal: str, last: float, peak: float) -> str:
    below = (1.0 - last / peak) * 100 if peak > 0 else 0.0
    return (f"{signal}: {fmt(last)} is {fmt(below, 2)}% below its largest value {fmt(peak)} "
            f"(> {100 - st.weak_min_of_peak * 100:g}%: it contracted before the fit) and holds "
            "since the fit: a plateau, not a growing norm, which a transition often follows")


def cannot_forecast(st: AnalyzerSettings, signal: str, rate: float, came_down: bool) -> str:
    how = "grows" if growing(rate, st) else "does not decay"
    if came_down:
        return (f"{signal}: cannot forecast: the norm {how} again after coming down; a "
                f"forecast comes once it falls {st.decay_min_drop * 100:g}% below its new peak")
    growth = ("" if st.weak_min_growth is None
              else f" while growing at ≥ {st.weak_min_growth:g}/τ")
    return (f"{signal}: cannot forecast: the norm {how} after the fit; a forecast comes once "
            f"it falls {st.decay_min_drop * 100:g}% below its post-fit peak (weak if it has "
            f"not after Δτ {st.weak_min_tau_after_fit:g}{growth})")


def room_while_held(st: AnalyzerSettings, signal: str, rate: float, came_down: bool,
                    step: float, budget: float, quantile: float) -> str:
    return (f"{cannot_forecast(st, signal, rate, came_down)}; the law's delay from V_sc "
            f"({quantile:.0%} quantile) ends at step {fmt_step(step)}, within "
            f"{_budget(st, budget)}: a transition is still expected")


SENTENCES: dict[str, Callable[..., str]] = {f.__name__: f for f in (
    no_samples, non_finite_norm, exploding, lost_fit, skipped_non_finite, not_a_fraction,
    no_weight_decay, no_learning_rate, clamped_by_header, no_finite_norms, pinned,
    too_few_samples, collapsed, too_slow, spent_short, long_stall, from_init, strong_waits,
    partial_stall, no_room_after_fit, room_after_fit, still_fitting, spent_unlearnt,
    spent_unfitted, spent_collapsed, no_train_metrics, no_finite_values, not_fitted,
    transition_done, decaying, forecast, too_late, awaiting_heldout, flat_and_unlikely,
    annealing_trend, settled, held_up, contracted, cannot_forecast, room_while_held)}
"""Kind → sentence."""
