"""What to change in weight decay (λ), with numbers, from an :class:`Assessment`.

The Norm-Hierarchy Transition law says the shortcut→structure delay is

    T = τ_delay / (η·λ),   τ_delay = log(V_sc / V_st) / r

steps, where ``η`` is the learning rate, ``λ`` the weight decay, ``V_sc/V_st`` the ratio
of the shortcut and structured norms and ``r`` the norm's contraction rate per unit of
the clock τ = Σ η_t λ_t (the analyzer's fitted ``decay_rate`` when the norm is seen
decaying, else the calibrated prior :data:`DEFAULT_CONTRACTION_RATE`; pure decoupled
decay would be ``r = 1``, AdamW's gradient makes it much slower). Measured on τ, the delay does not depend
on λ, so changing λ rescales the remaining delay in steps by ``λ_old / λ_new``.

``budget_steps`` is the total number of optimizer steps a run may take (this run, or a
fresh run with the suggested λ). In the weak regime the suggested λ puts the forecast
delay at ``target_fraction`` of the budget, leaving the rest for memorisation and the
unknown constant of the Θ law.

Pure: no torch import. :func:`advise` never raises on a well-formed Assessment.
"""

from __future__ import annotations

import math

from nht_monitor.analysis.assessment import Advice, Assessment

DEFAULT_NORM_RATIO = 2.0
"""V_sc / V_st assumed when the run has not shown it yet (weak runs rarely do)."""

DEFAULT_CONTRACTION_RATE = 0.13
"""Norm contraction per unit τ assumed while none is measured (weak runs). Pure
decoupled decay would give 1, but under AdamW the loss gradient holds the norm up: on
modular arithmetic (full-batch AdamW, λ = 1) the τ between memorisation and grokking
was 1.6 and 4.4 (p = 97, lr 1e-3, train fraction 0.5 / 0.4), 9.6 and 11.8 (p = 47,
lr 3e-3 / 1e-2); their geometric mean 5.3 with the ratio prior 2 gives ln 2 / 5.3."""

TARGET_FRACTION = 0.5
"""Share of the step budget the suggested λ aims the forecast delay at."""

FORECAST_MARGIN = 0.8
"""Share of the remaining budget a measured (intermediate) forecast is aimed at."""

MAX_STRONG_FACTOR = 100.0
MIN_STRONG_FACTOR = 2.0


def _finite_positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e4 and float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _steps(value: float | None) -> str:
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return "never"
    return f"{value:,.0f}"


def norm_ratio(assessment: Assessment, default: float = DEFAULT_NORM_RATIO,
               use_peak: bool = True) -> tuple[float, str]:
    """Return ``(V_sc/V_st, where it came from)``.

    Sources, first usable wins: ``cns.ratio``; ``cns.v_sc / cns.v_st``;
    ``v_peak / norm`` (the decay seen so far, when the norm fell by more than 5 %);
    ``default`` (an assumption, said so in the advice text). ``use_peak=False`` skips
    the peak/current source (in the strong regime that ratio is the collapse, not V_sc/V_st).
    """
    cns = assessment.cns
    if _finite_positive(cns.ratio) and cns.ratio > 1.0:
        return float(cns.ratio), "the clean-norm-separation estimate"
    if _finite_positive(cns.v_sc) and _finite_positive(cns.v_st) and cns.v_sc > cns.v_st:
        return cns.v_sc / cns.v_st, "the shortcut/structured norm estimates"
    if (use_peak and _finite_positive(assessment.v_peak) and _finite_positive(assessment.norm)
            and assessment.v_peak > 1.05 * assessment.norm):
        return assessment.v_peak / assessment.norm, "the peak/current norm"
    return float(default), "assumed, not observed yet"


def contraction_rate(assessment: Assessment) -> float:
    """Norm contraction per unit τ used by the law: the fitted ``decay_rate`` when the
    run is seen decaying (intermediate/strong), else :data:`DEFAULT_CONTRACTION_RATE`."""
    rate = assessment.decay_rate
    if assessment.regime in ("intermediate", "strong") and _finite_positive(rate):
        return float(rate)
    return DEFAULT_CONTRACTION_RATE


def delay_steps(tau_delay: float, lr: float, weight_decay: float) -> float:
    """Steps needed to cover ``tau_delay`` on the τ clock at constant ``lr``·``weight_decay``
    (``inf`` when ``weight_decay`` is 0)."""
    rate = lr * weight_decay
    return math.inf if rate <= 0 else tau_delay / rate


def weight_decay_for(tau_delay: float, lr: float, steps: float) -> float:
    """The λ that covers ``tau_delay`` on the τ clock in ``steps`` steps at ``lr``."""
    return tau_delay / (lr * steps)


def advise(assessment: Assessment, budget_steps: int | None = None) -> Advice:
    """Return the :class:`Advice` for ``assessment`` (action, suggested λ, forecasts, text).

    ``budget_steps``: total optimizer steps the user can afford (``None``: no budget;
    weak-regime advice then targets as many steps as the run has already taken).
    Forecasts that would be infinite (λ = 0) are ``None`` ("never") so the advice
    stays standard JSON; a λ that is not a finite number is dropped (action ``none``).
    """
    try:
        advice = _advise(assessment, budget_steps)
    except (ArithmeticError, ValueError) as exc:  # absurd inputs: no advice, never a crash
        return Advice(action="none", budget_steps=budget_steps,
                      text=f"No advice: the assessment's numbers are out of range ({exc}).")
    advice.forecast_steps = _finite_or_none(advice.forecast_steps)
    advice.suggested_weight_decay = _finite_or_none(advice.suggested_weight_decay)
    if advice.suggested_weight_decay is None and advice.action in (
            "raise_weight_decay", "lower_weight_decay"):
        advice.action = "none"
    advice.alternatives = {k: _finite_or_none(v) for k, v in advice.alternatives.items()}
    return advice


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _advise(assessment: Assessment, budget_steps: int | None) -> Advice:
    if budget_steps is not None and budget_steps <= 0:
        budget_steps = None
    regime = assessment.regime
    if regime == "clamped":
        return _clamped(assessment, budget_steps)
    if regime == "diverged":
        return Advice(
            action="none", budget_steps=budget_steps,
            text=("Training diverged (non-finite or exploding norms): weight-decay advice "
                  f"does not apply. Lower the learning rate (now {_fmt(assessment.lr)}) or "
                  "clip gradients, then re-assess."))
    if regime == "undetermined":
        return Advice(
            action="none", budget_steps=budget_steps,
            text=(f"Not enough evidence yet ({assessment.n_samples} samples, step "
                  f"{_steps(assessment.step)}): no weight-decay advice until the regime "
                  "is determined."))
    lr, wd = assessment.lr, assessment.weight_decay
    if not _finite_positive(lr) or wd is None or not math.isfinite(wd) or wd < 0:
        return Advice(
            action="none", budget_steps=budget_steps,
            text=(f"Regime {regime}, but the learning rate ({_fmt(lr)}) or weight decay "
                  f"({_fmt(wd)}) is unknown or zero-lr: cannot size a λ change."))
    if regime == "weak":
        return _weak(assessment, budget_steps, lr, wd)
    if regime == "strong":
        if wd <= 0:
            return Advice(
                action="none", budget_steps=budget_steps,
                text=("Strong regime reported with weight decay 0: the collapse is not "
                      "weight decay's doing; check the learning rate "
                      f"({_fmt(lr)}) and the loss."))
        return _strong(assessment, budget_steps, lr, wd)
    return _intermediate(assessment, budget_steps, lr, wd)


def _clamped(a: Assessment, budget: int | None) -> Advice:
    return Advice(
        action="none", budget_steps=budget,
        text=(f"The weight norm is pinned (clamped at about {_fmt(a.norm)}): weight decay "
              "does not set the delay here, the held norm does (the delay grows "
              "exponentially with it). Lower the clamp target to speed the transition up, "
              "or remove the clamp to get weight-decay advice."))


def _weak(a: Assessment, budget: int | None, lr: float, wd: float) -> Advice:
    ratio, source = norm_ratio(a)
    tau_delay = math.log(ratio) / contraction_rate(a)
    current = delay_steps(tau_delay, lr, wd)
    target_steps = budget if budget is not None else max(a.step or 0, 1)
    aim = TARGET_FRACTION * target_steps
    needed = weight_decay_for(tau_delay, lr, aim)
    why = ""
    if needed <= wd:
        # The law says the current λ suffices, yet the norm is not contracting: the
        # estimate is off (the gradient holds the norm up); double λ at least.
        needed = 2.0 * wd
        why = (" The law alone says the current λ would suffice, but the norm is not "
               "contracting, so λ is doubled at least.")
    forecast = delay_steps(tau_delay, lr, needed)
    alternatives = {
        "keep": current,
        "double": delay_steps(tau_delay, lr, 2 * wd),
        "x10": delay_steps(tau_delay, lr, 10 * wd),
        "suggested": forecast,
    }
    scope = (f"a budget of {_steps(budget)} steps" if budget is not None else
             f"the {_steps(target_steps)} steps this run has taken (no budget given)")
    now = (f"{_steps(current)} steps at λ = {_fmt(wd)}" if math.isfinite(current)
           else f"never at λ = {_fmt(wd)}")
    times = f" (×{_fmt(needed / wd)})" if wd > 0 else ""
    text = (f"Weak regime: the norm ({_fmt(a.norm)}) is not contracting, the shortcut "
            f"persists. With V_sc/V_st = {_fmt(ratio)} ({source}) the transition needs "
            f"τ ≈ {_fmt(tau_delay)} of the clock Σηλ: {now}, η = {_fmt(lr)}. Raise weight "
            f"decay to λ ≈ {_fmt(needed)}{times} at the same learning rate: forecast delay "
            f"≈ {_steps(forecast)} steps after memorisation, within {scope}.{why}")
    return Advice(action="raise_weight_decay", text=text, suggested_weight_decay=needed,
                  budget_steps=budget, forecast_steps=forecast, alternatives=alternatives)


def _strong(a: Assessment, budget: int | None, lr: float, wd: float) -> Advice:
    # Under AdamW the equilibrium norm scales like λ^(-1/2): to bring the collapsed norm
    # back to the norm the network needs, divide λ by (needed / current)^2.
    v_needed = max((x for x in (a.v_peak, a.cns.v_st) if _finite_positive(x)), default=0.0)
    if _finite_positive(a.norm) and v_needed > a.norm:
        factor = min(v_needed / a.norm, MAX_STRONG_FACTOR) ** 2
        basis = (f"the norm collapsed from {_fmt(v_needed)} to {_fmt(a.norm)}; the "
                 "equilibrium norm scales like λ^-1/2")
    else:
        factor = 10.0
        basis = "no collapse factor measured, an order of magnitude"
    factor = min(max(factor, MIN_STRONG_FACTOR), MAX_STRONG_FACTOR)
    suggested = wd / factor
    ratio, _ = norm_ratio(a, use_peak=False)
    tau_delay = math.log(ratio) / contraction_rate(a)
    note = ""
    if budget is not None:
        floor = weight_decay_for(tau_delay, lr, TARGET_FRACTION * budget)
        if suggested < floor:
            if floor < wd:
                suggested = floor
                note = (f" λ is kept ≥ {_fmt(floor)} so the forecast transition stays "
                        f"within the {_steps(budget)}-step budget.")
            else:
                note = (f" Note: at this learning rate a {_steps(budget)}-step budget needs "
                        f"λ ≥ {_fmt(floor)}; the budget is likely too short, raise the "
                        "learning rate or the budget.")
    forecast = delay_steps(tau_delay, lr, suggested)
    alternatives = {
        "divide_by_3": delay_steps(tau_delay, lr, wd / 3),
        "divide_by_10": delay_steps(tau_delay, lr, wd / 10),
        "suggested": forecast,
    }
    text = (f"Strong regime: weight decay suppresses learning (norm {_fmt(a.norm)} while "
            f"the loss stays high, τ = {_fmt(a.tau)}). Lower λ from {_fmt(wd)} to "
            f"≈ {_fmt(suggested)} (÷{_fmt(wd / suggested)}; {basis}). Forecast delay at "
            f"that λ: ≈ {_steps(forecast)} steps after memorisation.{note}")
    return Advice(action="lower_weight_decay", text=text, suggested_weight_decay=suggested,
                  budget_steps=budget, forecast_steps=forecast, alternatives=alternatives)


def _intermediate(a: Assessment, budget: int | None, lr: float, wd: float) -> Advice:
    tr = a.transition
    step = float(a.step or 0)
    if tr.status == "done":
        return Advice(
            action="keep", budget_steps=budget, forecast_steps=0.0,
            text=(f"Intermediate regime: the transition is done (by step "
                  f"{_steps(tr.forecast_step if tr.forecast_step is not None else step)}); "
                  f"keep λ = {_fmt(wd)}."))
    remaining = tr.steps_remaining
    if remaining is None and tr.forecast_step is not None:
        remaining = tr.forecast_step - step
    if remaining is None and tr.forecast_tau is not None and a.tau is not None:
        remaining = delay_steps(max(tr.forecast_tau - a.tau, 0.0), lr, wd)
    if remaining is None or not math.isfinite(remaining) or wd <= 0:
        return Advice(
            action="keep", budget_steps=budget, suggested_weight_decay=wd,
            text=(f"Intermediate regime: the norm is contracting (λ = {_fmt(wd)}) but no "
                  "forecast is available yet; keep λ and re-assess."))
    remaining = max(float(remaining), 0.0)
    alternatives = {"keep": remaining, "halve": 2.0 * remaining, "double": remaining / 2.0}
    at = step + remaining
    base = (f"Intermediate regime: transition forecast at step {_steps(at)} "
            f"({_steps(remaining)} steps from now) at λ = {_fmt(wd)}. Halving λ would move "
            f"it to ≈ {_steps(step + 2 * remaining)} (+{_steps(remaining)}); doubling λ to "
            f"≈ {_steps(step + remaining / 2)} (−{_steps(remaining / 2)}), at the risk of "
            "entering the strong regime.")
    if budget is None or at <= budget:
        within = f" That is within the {_steps(budget)}-step budget." if budget else ""
        return Advice(action="keep", text=f"{base}{within} Keep λ = {_fmt(wd)}.",
                      suggested_weight_decay=wd, budget_steps=budget,
                      forecast_steps=remaining, alternatives=alternatives)
    if budget > step:
        suggested = wd * remaining / (FORECAST_MARGIN * (budget - step))
        forecast = remaining * wd / suggested
        how = (f"raise λ now to ≈ {_fmt(suggested)} to bring it to ≈ step "
               f"{_steps(step + forecast)}")
    else:
        suggested = wd * at / (FORECAST_MARGIN * budget)
        forecast = at * wd / suggested
        how = (f"the budget is spent; a fresh run needs λ ≈ {_fmt(suggested)} to "
               f"finish in ≈ {_steps(forecast)} steps")
    alternatives["suggested"] = forecast
    text = f"{base} That overshoots the {_steps(budget)}-step budget: {how}."
    return Advice(action="raise_weight_decay", text=text, suggested_weight_decay=suggested,
                  budget_steps=budget, forecast_steps=forecast, alternatives=alternatives)
