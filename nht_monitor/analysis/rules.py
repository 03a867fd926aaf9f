"""The rules: from a run's series and facts to an :class:`Assessment`.

Order of the rules (first that fires decides the regime):

1. no samples → ``undetermined``;
2. latest norm non-finite, or above ``explode_factor`` × first norm → ``diverged``;
3. λ = 0 everywhere → ``weak`` by construction (the law does not apply);
   lr = 0 everywhere → ``weak`` (the τ clock does not advance);
4. header ``config["norm_clamp"]`` or a pinned norm after the fit → ``clamped``;
5. fewer than ``min_samples`` → ``undetermined``;
6. not fitted (train metrics say so) and norm below ``strong_collapse`` × peak with the
   loss still high → ``strong``; not fitted otherwise → ``undetermined`` (fitting);
7. fitted: transition seen (held-out accuracy) or norm ``decay_min_drop`` below its peak
   and decaying at ≥ ``decay_min_rate`` per τ → ``intermediate`` (with a forecast);
   norm within ``weak_max_drop`` of its peak → ``weak``; else ``undetermined``.

The head signal applies rule 7 to the head norm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nht_monitor.analysis.facts import RunFacts
from nht_monitor.analysis.forecast import DecayFit, ScheduleFn, fit_log_decay, steps_to_tau, tau_per_step
from nht_monitor.analysis.series import Series
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.assessment import Assessment, CleanNormSeparation, HeadSignal, Transition

_SCHEDULE_MAX_STEPS = 10_000_000


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
class Signal:
    """The decay rules on one norm signal (total or head)."""

    regime: str = "undetermined"
    confidence: float = 0.0
    reasons: list[str] = field(default_factory=list)
    fit: DecayFit | None = None
    v_peak: float | None = None
    drop: float | None = None
    transition: Transition = field(default_factory=Transition)
    done_step: float | None = None
    v_st: float | None = None
    v_st_observed: bool = False
    noise: float | None = None


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    return f"{x:.{digits}g}"


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _window_fit(s: Series, values: np.ndarray, start: int, fraction: float) -> DecayFit | None:
    """Decay fit on the last ``fraction`` of the τ span from row ``start`` on."""
    tau = s.tau[start:]
    if tau.shape[0] < 3:
        return None
    t0, t1 = tau[0], tau[-1]
    if not (math.isfinite(t0) and math.isfinite(t1)) or t1 <= t0:
        return None
    lo = t1 - fraction * (t1 - t0)
    i = start + int(np.searchsorted(tau, lo, side="left"))
    if s.tau.shape[0] - i < 3:
        i = max(start, s.tau.shape[0] - 3)
    return fit_log_decay(s.tau[i:], values[i:])


def _to_steps(delta_tau: float, s: Series, ctx: Context, settings: AnalyzerSettings) -> float | None:
    rate = tau_per_step(s.step, s.tau, s.lr, s.wd)
    wd_now = float(s.wd[-1]) if s.wd.shape[0] and math.isfinite(s.wd[-1]) else None
    max_steps = settings.max_forecast_steps
    if ctx.lr_schedule is not None or ctx.wd_schedule is not None:
        max_steps = min(max_steps, _SCHEDULE_MAX_STEPS)
    return steps_to_tau(delta_tau, float(s.step[-1]), rate, ctx.lr_schedule, ctx.wd_schedule,
                        wd_now, max_steps)


def decay_signal(s: Series, values: np.ndarray, fit_step: float | None, peak: float | None,
                 peak_step: float | None, val_step: float | None, has_train_metrics: bool,
                 ctx: Context, settings: AnalyzerSettings, name: str,
                 has_val: bool = False, top: float | None = None) -> Signal:
    """Rule 7 on ``values`` (total or head norm): weak / intermediate / undetermined + forecast.

    ``peak``/``peak_step``: V_sc, the largest value since the fit (the forecast's start);
    ``top``: the largest value of the whole run (the drop is measured from it)."""
    sig = Signal()
    ok = np.isfinite(values) & np.isfinite(s.tau)
    if peak is None or not ok.any():
        sig.reasons.append(f"{name}: no finite values")
        return sig
    last = float(values[ok][-1])
    sig.v_peak = peak
    top = max(top or peak, peak)
    sig.drop = max(0.0, 1.0 - last / top) if top > 0 else 0.0
    ipk = int(np.searchsorted(s.step, peak_step, side="left")) if peak_step is not None else 0
    ipk = min(ipk, len(s) - 1)
    fit = _window_fit(s, values, ipk, settings.fit_window)
    sig.fit = fit
    if fit is not None:
        sig.noise = fit.noise
    rate = fit.rate if fit is not None else 0.0
    step_now = float(s.step[-1])
    tau_now = float(s.tau[ok][-1])
    if fit_step is None and has_train_metrics:
        sig.reasons.append(f"{name}: training set not fitted yet")
        return sig
    i_fit = int(np.searchsorted(s.step, fit_step, side="left")) if fit_step is not None else 0
    n_after = len(s) - i_fit
    tau_after = tau_now - float(s.tau[min(i_fit, len(s) - 1)])
    # transition already seen?
    done_step = val_step
    done_how = "held-out accuracy reached {:.2g}".format(settings.done_val_acc) if val_step else ""
    if done_step is None and not has_val and sig.drop >= settings.decay_min_drop:
        v_st = peak / settings.structured_ratio
        below = np.nonzero(values[ipk:] <= v_st)[0]
        if below.shape[0]:
            done_step = float(s.step[ipk + int(below[0])])
            done_how = f"norm reached V_st = V_sc/{settings.structured_ratio:g} = {_fmt(v_st)}"
    decaying = sig.drop >= settings.decay_min_drop and rate >= settings.decay_min_rate
    if done_step is not None and (decaying or sig.drop >= settings.decay_min_drop or val_step):
        sig.regime = "intermediate"
        sig.done_step = done_step
        i_done = int(np.searchsorted(s.step, done_step, side="left"))
        v_done = values[min(i_done, len(s) - 1)]
        sig.v_st = float(v_done) if math.isfinite(v_done) else last
        sig.v_st_observed = True
        sig.confidence = 0.95 if val_step else 0.7
        sig.reasons.append(f"{name}: transition done at step {int(done_step)} ({done_how}); "
                           f"peak {_fmt(peak)} at step {int(peak_step or 0)}, "
                           f"{_fmt(sig.drop * 100, 2)}% below it now")
        sig.transition = Transition(status="done", forecast_step=float(done_step),
                                    interval=(float(done_step), float(done_step)),
                                    forecast_tau=_finite(float(s.tau[min(i_done, len(s) - 1)])),
                                    steps_remaining=0.0)
        return sig
    if decaying:
        sig.regime = "intermediate"
        r2 = fit.r2 if fit is not None else 0.0
        strength = min(1.0, sig.drop / (3 * settings.decay_min_drop))
        sig.confidence = round(min(0.95, 0.5 + 0.45 * strength * max(r2, 0.3)), 3)
        sig.reasons.append(
            f"{name}: peak {_fmt(peak)} at step {int(peak_step or 0)}, now {_fmt(last)} "
            f"({_fmt(sig.drop * 100, 2)}% below ≥ {settings.decay_min_drop * 100:g}%), decaying at "
            f"{_fmt(rate)}/τ ≥ {settings.decay_min_rate:g} (R² {_fmt(r2, 2)})")
        _forecast(sig, s, values, ipk, last, peak, tau_now, step_now, ctx, settings, name)
        _too_late(sig, step_now, ctx, settings, name)
        return sig
    plateau = _plateau_fit(s, values, i_fit, settings.weak_plateau_tau)
    if plateau is not None and abs(plateau.rate) < settings.decay_min_rate:
        sig.regime = "weak"
        sig.confidence = 0.7
        sig.reasons.append(
            f"{name}: the norm settled at {_fmt(last)} ({_fmt(sig.drop * 100, 2)}% below its peak "
            f"{_fmt(peak)}): rate {_fmt(plateau.rate)}/τ, |rate| < {settings.decay_min_rate:g} over the "
            f"last Δτ {settings.weak_plateau_tau:g}, with no transition: equilibrium above V_st")
        sig.transition = Transition(status="not_expected")
        return sig
    if sig.drop <= settings.weak_max_drop and n_after >= settings.weak_min_samples_after_fit \
            and tau_after >= settings.weak_min_tau_after_fit:
        sig.regime = "weak"
        post_fit = _window_fit(s, values, i_fit, settings.fit_window)
        rate = post_fit.rate if post_fit is not None else rate
        trend = "growing" if rate < 0 else "flat" if rate < settings.decay_min_rate else "barely decaying"
        sig.confidence = round(min(0.9, 0.5 + 0.4 * min(1.0, n_after / (10 * settings.weak_min_samples_after_fit))), 3)
        sig.reasons.append(
            f"{name}: after the fit (step {int(fit_step) if fit_step is not None else 'n/a'}) the norm is "
            f"{trend} ({_fmt(-rate)}/τ), within {_fmt(sig.drop * 100, 2)}% ≤ "
            f"{settings.weak_max_drop * 100:g}% of its peak {_fmt(peak)} over Δτ {_fmt(tau_after)}")
        sig.transition = Transition(status="not_expected")
        return sig
    sig.reasons.append(
        f"{name}: {_fmt(sig.drop * 100, 2)}% below peak, decay rate {_fmt(rate)}/τ: not conclusive yet")
    return sig


def _plateau_fit(s: Series, values: np.ndarray, start: int, span: float) -> DecayFit | None:
    """Log-linear fit over the last ``span`` of τ (from row ``start`` on); ``None`` if the
    rows after ``start`` cover less than ``span``."""
    tau = s.tau[start:]
    if tau.shape[0] < 3 or not tau[-1] - tau[0] >= span:
        return None
    i = start + int(np.searchsorted(tau, tau[-1] - span, side="left"))
    return fit_log_decay(s.tau[i:], values[i:])


def _too_late(sig: Signal, step_now: float, ctx: Context, settings: AnalyzerSettings,
              name: str) -> None:
    """Relabel an intermediate forecast as weak when it falls beyond the budget (the
    run's planned steps) or, without one, beyond ``weak_forecast_factor`` × steps so far."""
    t = sig.transition
    if t.status == "done":
        return
    far = t.forecast_step is None and t.forecast_tau is not None  # clock too slow
    limit = ctx.budget_steps
    if t.forecast_step is not None:
        if limit is not None:
            far = t.forecast_step > limit
        else:
            far = (t.forecast_step - step_now) > settings.weak_forecast_factor * max(step_now, 1.0)
    if not far:
        return
    sig.regime = "weak"
    sig.confidence = round(min(sig.confidence, 0.7), 3)
    where = (f"the budget of {limit:g} steps" if limit is not None else
             f"{settings.weak_forecast_factor:g} × the steps so far")
    sig.reasons.append(f"{name}: decaying too slowly: transition forecast at step "
                       f"{_fmt(t.forecast_step, 6)}, beyond {where}")
    sig.transition = t.model_copy(update={"status": "not_expected"})


def _forecast(sig: Signal, s: Series, values: np.ndarray, start: int, last: float, peak: float,
              tau_now: float, step_now: float, ctx: Context, settings: AnalyzerSettings,
              name: str) -> None:
    """Transition forecast, converted to steps with the τ-per-step schedule.

    Law-based (``settings.delay_tau`` set and still ahead): τ(V_sc) + ``delay_tau``.
    Rate-based (otherwise): τ until the norm decays from ``last`` to V_st = V_sc / ratio
    at the fitted log-linear rate × ``rate_factor``."""
    fit = sig.fit
    v_st = peak / settings.structured_ratio
    sig.v_st = v_st
    tau_sc = float(s.tau[min(start, len(s) - 1)])
    law_tau = tau_sc + settings.delay_tau if settings.delay_tau is not None else None
    if law_tau is not None and math.isfinite(law_tau) and law_tau > tau_now:
        d_tau = law_tau - tau_now
        spread = settings.delay_tau_sd
        how = (f"law: τ(V_sc) {_fmt(tau_sc)} + delay {settings.delay_tau:g} = τ {_fmt(law_tau)}, "
               f"Δτ {_fmt(d_tau)} from now")
    else:
        if fit is None or fit.rate <= 0:
            sig.transition = Transition(status="pending")
            return
        rate = fit.rate * settings.rate_factor
        gap = max(math.log(max(last, 1e-300) / v_st), 0.0)
        d_tau = gap / rate
        # sd of the remaining τ: the ratio prior's spread plus the rate's standard error
        spread = math.hypot(settings.ratio_log_sd / rate, d_tau * fit.rate_se / rate)
        past = (f"past the law's τ {_fmt(law_tau)} without a transition; "
                if law_tau is not None else "")
        how = (f"{past}rate: V_sc {_fmt(peak)} (peak since the fit), V_st = "
               f"V_sc/{settings.structured_ratio:g} = {_fmt(v_st)}; log({_fmt(last)}/{_fmt(v_st)}) / "
               f"({settings.rate_factor:g} × {_fmt(fit.rate)} per τ) = Δτ {_fmt(d_tau)}")
    lo_tau = max(d_tau - settings.interval_z * spread, 0.0)
    hi_tau = d_tau + settings.interval_z * spread
    steps = _to_steps(d_tau, s, ctx, settings)
    if steps is None:
        sig.transition = Transition(status="pending", forecast_tau=tau_now + d_tau)
        sig.reasons.append(f"{name}: {how}; τ clock too slow/stopped for a step forecast")
        return
    lo = _to_steps(lo_tau, s, ctx, settings)
    hi = _to_steps(hi_tau, s, ctx, settings)
    whole = max(step_now + steps - (s.step[0] if len(s) else 0.0), 1.0)
    status = "imminent" if steps <= settings.imminent_fraction * whole else "pending"
    sig.transition = Transition(
        status=status, forecast_step=step_now + steps,
        interval=(step_now + (lo if lo is not None else steps),
                  step_now + (hi if hi is not None else settings.max_forecast_steps)),
        forecast_tau=tau_now + d_tau, steps_remaining=steps)
    sig.reasons.append(
        f"{name}: {how} → step {_fmt(step_now + steps, 6)} "
        f"(80%: {_fmt(sig.transition.interval[0], 6)}–{_fmt(sig.transition.interval[1], 6)})")


def evaluate(s: Series, ctx: Context, settings: AnalyzerSettings) -> Assessment:
    """The assessment of series ``s`` (steps increasing) given the run's facts."""
    f = ctx.facts
    a = Assessment(run_id=ctx.run_id, n_samples=f.n)
    if len(s) == 0 or f.n == 0:
        a.reasons.append("no samples yet")
        return a
    a.step = int(s.step[-1])
    a.tau, a.lr, a.weight_decay = _finite(s.tau[-1]), _finite(s.lr[-1]), _finite(s.wd[-1])
    a.norm, a.head_norm = _finite(s.norm[-1]), _finite(s.head[-1])
    a.v_peak = f.peak
    last_norm = float(s.norm[-1])
    # 2. diverged
    if not math.isfinite(last_norm):
        return _final(a, "diverged", 1.0, [f"norm is {last_norm} at step {a.step}"], None)
    if f.first_norm and f.first_norm > 0 and last_norm > settings.explode_factor * f.first_norm:
        return _final(a, "diverged", 0.95, [
            f"norm {_fmt(last_norm)} exceeds {settings.explode_factor:g} × first norm "
            f"{_fmt(f.first_norm)} (exploding)"], None)
    pre: list[str] = []
    if f.nonfinite:
        pre.append(f"{f.nonfinite} non-finite norm sample(s) ignored (first at step "
                   f"{int(f.first_nonfinite_step or 0)}); latest norm is finite")
    fitted_now = _fitted_now(s, settings)
    phase_fit = "fitting" if (f.fit_step is None and f.has_train_metrics) else "shortcut"
    # 3. no clock
    if not f.any_wd:
        return _final(a, "weak", 1.0, pre + [
            "weight decay λ = 0: the Norm-Hierarchy Transition law does not apply; weak by "
            "construction (no transition expected)"], phase_fit)
    if not f.any_lr:
        return _final(a, "weak", 1.0, pre + [
            "learning rate = 0: the τ clock does not advance; no transition can come"], phase_fit)
    # 4. clamped
    clamp = ctx.config.get("norm_clamp") if isinstance(ctx.config, dict) else None
    if clamp:
        return _final(a, "clamped", 1.0, pre + [
            f"norm is clamped by NormClamp ({_describe(clamp)}): weight-decay regimes do not apply"],
            phase_fit, clamped=True)
    finite_s = s.take(np.isfinite(s.norm) & np.isfinite(s.tau)) if f.nonfinite else s
    if len(finite_s) == 0:
        return _final(a, "undetermined", 0.0, pre + ["no finite norms"], None)
    w = finite_s.norm[-settings.clamp_window:]
    if (f.fit_step is not None or not f.has_train_metrics) and w.shape[0] >= settings.clamp_window:
        mean = float(w.mean())
        rel = float(w.max() - w.min()) / mean if mean > 0 else 0.0
        wt = finite_s.tau[-settings.clamp_window:]
        d_tau = float(wt[-1] - wt[0])  # weight decay alone would move the norm by ~Δτ
        if rel < settings.clamp_rel_range and rel < 0.01 * d_tau:
            return _final(a, "clamped", 0.9, pre + [
                f"norm pinned at {_fmt(mean, 6)}: relative range {rel:.2e} < "
                f"{settings.clamp_rel_range:g} over the last {w.shape[0]} points, although weight "
                f"decay alone would have moved it by ~{d_tau:.2e}"], phase_fit, clamped=True)
    # 5. evidence
    if f.n < settings.min_samples or len(finite_s) < 3:
        return _final(a, "undetermined", 0.0, pre + [
            f"only {f.n} sample(s) (< min_samples {settings.min_samples})"], phase_fit)
    # 6. strong
    if f.has_train_metrics and not fitted_now and f.peak:
        drop = 1.0 - float(finite_s.norm[-1]) / f.peak
        loss_now = _last_finite(finite_s.loss)
        acc_now = _last_finite(finite_s.acc)
        loss_high = (loss_now is not None and f.first_loss is not None
                     and loss_now > settings.strong_min_loss_ratio * f.first_loss)
        acc_low = acc_now is not None and acc_now < settings.strong_max_train_acc
        suppressed = acc_low if acc_now is not None else loss_high
        if drop >= 1.0 - settings.strong_collapse and suppressed:
            what = (f"train accuracy {_fmt(acc_now)} < {settings.strong_max_train_acc:g}"
                    if acc_now is not None else
                    f"training loss {_fmt(loss_now)} > {settings.strong_min_loss_ratio:g} × first "
                    f"{_fmt(f.first_loss)}")
            conf = min(0.95, 0.6 + 0.35 * min(1.0, (drop - (1 - settings.strong_collapse)) / 0.3))
            return _final(a, "strong", conf, pre + [
                f"norm collapsed to {_fmt(100 * (1 - drop), 3)}% of its peak {_fmt(f.peak)} "
                f"(< {settings.strong_collapse * 100:g}%) while {what}: learning is suppressed"],
                "fitting")
    if f.fit_step is None and f.has_train_metrics:
        acc_now = _last_finite(finite_s.acc)
        loss_now = _last_finite(finite_s.loss)
        a.head = _head(finite_s, ctx, settings)
        return _final(a, "undetermined", 0.2, pre + [
            f"still fitting (train acc {_fmt(acc_now)}, loss {_fmt(loss_now)}; fitted at acc ≥ "
            f"{settings.fit_train_acc:g})"], "fitting", keep_head=True)
    # 7. decay rules on the total norm
    sc_peak, sc_step = (f.sc_peak, f.sc_peak_step) if f.sc_peak is not None else (f.peak, f.peak_step)
    sig = decay_signal(finite_s, finite_s.norm, f.fit_step, sc_peak, sc_step, f.val_step,
                       f.has_train_metrics, ctx, settings, "total norm", has_val=f.has_val,
                       top=f.peak)
    a.regime = sig.regime  # type: ignore[assignment]
    a.confidence = float(max(0.0, min(1.0, sig.confidence)))
    a.reasons = pre + sig.reasons
    if not f.has_train_metrics:
        a.reasons.append("no training loss/accuracy logged: the fit and the strong regime "
                         "cannot be observed")
        a.confidence = min(a.confidence, 0.6)
    a.transition = sig.transition
    a.decay_rate = sig.fit.rate if sig.fit is not None else None
    a.phase = _phase(sig, fitted=f.fit_step is not None or not f.has_train_metrics)  # type: ignore[assignment]
    a.cns = _cns(sig, sc_peak, settings)
    a.head = _head(finite_s, ctx, settings)
    return a


def _fitted_now(s: Series, settings: AnalyzerSettings) -> bool:
    acc = _last_finite(s.acc)
    if acc is not None:
        return acc >= settings.fit_train_acc
    loss = _last_finite(s.loss)
    return loss is not None and loss <= settings.fit_train_loss


def _last_finite(x: np.ndarray) -> float | None:
    ok = np.isfinite(x)
    if not ok.any():
        return None
    return float(x[ok][-1])


def _describe(clamp: object) -> str:
    if isinstance(clamp, dict):
        return ", ".join(f"{k}={v}" for k, v in clamp.items()) or "defaults"
    return str(clamp)


def _phase(sig: Signal, fitted: bool) -> str:
    if not fitted:
        return "fitting"
    if sig.transition.status == "done":
        return "structured"
    if sig.regime == "intermediate":
        return "transitioning"
    return "shortcut"


def _cns(sig: Signal, peak: float | None, settings: AnalyzerSettings) -> CleanNormSeparation:
    if peak is None or sig.v_st is None or sig.regime != "intermediate":
        return CleanNormSeparation(v_sc=peak)
    v_sc, v_st = float(peak), float(sig.v_st)
    if v_st <= 0:
        return CleanNormSeparation(v_sc=v_sc)
    ratio = v_sc / v_st
    separation = max(0.0, min(1.0, 1.0 - v_st / v_sc))
    holds = None
    if sig.v_st_observed:
        noise = sig.noise if sig.noise is not None and sig.noise > 0 else 0.0
        z = math.log(ratio) / noise if noise > 0 else math.inf
        holds = bool(separation >= settings.cns_min_separation and z >= settings.cns_min_z)
    return CleanNormSeparation(v_sc=v_sc, v_st=v_st, ratio=ratio, separation=separation,
                               holds=holds)


def _head(s: Series, ctx: Context, settings: AnalyzerSettings) -> HeadSignal | None:
    f = ctx.facts
    if f.head_peak is None or not np.isfinite(s.head).any():
        return None
    hp, hs = ((f.head_sc_peak, f.head_sc_peak_step) if f.head_sc_peak is not None
              else (f.head_peak, f.head_peak_step))
    sig = decay_signal(s, s.head, f.fit_step, hp, hs, f.val_step,
                       f.has_train_metrics, ctx, settings, "head norm", has_val=f.has_val,
                       top=f.head_peak)
    lead = None
    if f.head_flag_step is not None and f.flag_step is not None:
        lead = float(f.flag_step - f.head_flag_step)
    return HeadSignal(regime=sig.regime, confidence=float(max(0.0, min(1.0, sig.confidence))),
                      transition=sig.transition, flagged_step=None if f.head_flag_step is None
                      else int(f.head_flag_step), lead_steps=lead, v_peak=sig.v_peak,
                      decay_rate=sig.fit.rate if sig.fit is not None else None)


def _final(a: Assessment, regime: str, confidence: float, reasons: list[str], phase: str | None,
           clamped: bool = False, keep_head: bool = False) -> Assessment:
    a.regime = regime  # type: ignore[assignment]
    a.confidence = float(max(0.0, min(1.0, confidence)))
    a.reasons = reasons
    a.phase = phase  # type: ignore[assignment]
    a.clamped = clamped
    a.transition = Transition(status="not_expected")
    if not keep_head:
        a.head = None
    return a
