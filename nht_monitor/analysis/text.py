"""The text form of the analysis results: what ``nht-monitor analyze | advise |
backtest | scorecard`` print without ``--json`` (and ``advise --json``'s one object).

Pure formatting: no analysis happens here, and nothing beyond the standard library and
the result models is imported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the result models, for annotations only
    from nht_monitor.analysis.assessment import Advice, Assessment, HeadSignal
    from nht_monitor.analysis.backtest import BacktestResult, ForecastPoint
    from nht_monitor.analysis.scorecard import Scorecard


def num(x: float | None, fmt: str = ".6g") -> str:
    """A number as ``format(x, fmt)``, ``-`` when missing or not finite."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, fmt)


def interval_text(interval: tuple[float, float | None], show: Callable[[float], str],
                  sep: str = "–") -> str:
    """An 80 % interval as ``low–high`` (each end as ``show`` writes it); an open upper
    end (the τ clock stops before it: ``Transition.interval``) as ``never``."""
    low, high = interval
    return f"{show(low)}{sep}{'never' if high is None else show(high)}"


NO_LEAD = "no lead measured"
"""What every output (text, report, dashboard) says while ``head.lead_steps`` is None."""


def chance_text(chance: float) -> str:
    """The transition's chance within the budget in words (``analyze`` and the report)."""
    return f"{chance:.0%} chance it comes within the budget"


def head_lead_text(head: HeadSignal | None, head_logged: bool = False) -> str:
    """The head lead in words: which norm flagged first and by how many steps, or
    ``no lead measured`` and which norm has not flagged; without a head signal, whether
    the head norm was logged at all (``head_logged``: logged, but the rule that decided
    reads no head signal, as `strong`, `diverged` and `clamped` do not)."""
    if head is None:
        if head_logged:
            return f"{NO_LEAD} (the head norm is logged; this verdict reads no head signal)"
        return f"{NO_LEAD} (no head norm)"
    lead = head.lead_steps
    if lead is None or not math.isfinite(lead):
        if head.flagged_step is None:
            return f"{NO_LEAD} (the head norm has not flagged)"
        return f"{NO_LEAD} (the total norm has not flagged)"
    steps = f"{abs(lead):,.0f} step{'' if abs(lead) == 1 else 's'}"
    total = ("" if head.flagged_step is None
             else f" (which flagged at step {head.flagged_step + lead:,.0f})")
    if lead > 0:
        return f"lead +{steps}: the head norm flagged {steps} before the total norm{total}"
    if lead < 0:
        return f"lead -{steps}: the head norm flagged {steps} after the total norm{total}"
    return "lead 0 steps: the head and the total norm flagged at the same step"


def format_assessment(a: Assessment) -> str:
    """Human-readable assessment (what ``analyze`` prints without ``--json``)."""
    t = a.transition
    lines = [f"run {a.run_id or '?'}: {a.n_samples} samples, step {num(a.step)}, τ {num(a.tau)}, "
             f"lr {num(a.lr)}, weight decay {num(a.weight_decay)}",
             f"regime: {a.regime} (confidence {a.confidence:.2f}), phase {a.phase or '-'}",
             f"norm {num(a.norm)} (largest so far {num(a.v_peak)}), decay rate "
             f"{num(a.decay_rate)}/τ"]
    tline = f"transition: {t.status}"
    if t.forecast_step is not None:  # not_expected: kept beside a `weak` verdict
        tline += (f" at step {num(t.forecast_step, '.0f')}" if t.status != "not_expected" else
                  f", its forecast kept: step {num(t.forecast_step, '.0f')}")
        if t.interval is not None and t.status != "done":  # done: the step it came
            tline += f" (80% {interval_text(t.interval, lambda x: num(x, '.0f'))} if it comes)"
        tline += f", τ {num(t.forecast_tau)}"
        if t.status == "done" and a.step is not None:
            tline += f", {num(a.step - t.forecast_step, '.0f')} steps ago"
        elif t.steps_remaining is not None:
            tline += f", {num(t.steps_remaining, '.0f')} steps from now"
    if t.chance_in_budget is not None and t.status != "done":
        tline += f"; {chance_text(t.chance_in_budget)}"
    lines.append(tline)
    if a.head is not None:
        h = a.head
        flagged = ("not flagged" if h.flagged_step is None
                   else f"flagged at step {num(h.flagged_step)}")
        lines.append(f"head: {h.regime} (confidence {h.confidence:.2f}), {flagged}; "
                     f"{head_lead_text(h)}; forecast "
                     f"{num(h.transition.forecast_step, '.0f')}")
    else:
        lines.append(f"head: -; {head_lead_text(None, a.head_norm is not None)}")
    c = a.cns
    lines.append(f"CNS: V_sc {num(c.v_sc)}, V_st {num(c.v_st)}, ratio {num(c.ratio)}, "
                 f"separation {num(c.separation)}, holds {c.holds if c.holds is not None else '-'}")
    lines.append("reasons:")
    lines.extend(f"  - {r}" for r in a.reasons)
    if a.advice is not None and a.advice.text:
        lines.append(f"advice: {a.advice.text}")
    return "\n".join(lines)


def format_advice(a: Assessment, advice: Advice) -> str:
    """What ``advise`` prints: the run's regime and step, then the advice text."""
    where = f" at step {a.step}" if a.step is not None else " (no samples yet)"
    return f"{a.run_id}: {a.regime}{where}\n{advice.text}"


def advice_json(a: Assessment, advice: Advice) -> str:
    """``advise --json``: one object ``{"run_id", "regime", "step", "advice": {...}}``."""
    return json.dumps({"run_id": a.run_id, "regime": a.regime, "step": a.step,
                       "advice": advice.model_dump(mode="json")}, allow_nan=False)


def format_backtest(r: BacktestResult) -> str:
    """Human-readable backtest report."""
    lines = [f"run {r.run_id or '?'}: {r.n_samples} samples"]
    a = r.actual
    if a.step is None:
        lines.append(f"actual transition: not seen ({a.method})")
    else:
        lines.append(f"actual transition: step {a.step:g} (τ {num(a.tau)}; {a.method})")
        if r.delay_tau is not None:
            lines.append(f"delay on the τ clock from V_sc (step {num(r.v_sc_step)}) to the "
                         f"transition: {r.delay_tau:.3f} (AnalyzerSettings.delay_tau for this task)")
        elif r.v_sc_step is None:
            lines.append("no delay on the τ clock: no V_sc (a norm peak after the fit) before "
                         "the transition")
        else:
            lines.append(f"no delay on the τ clock: the norm had not come down from V_sc (step "
                         f"{num(r.v_sc_step)}) by the transition (no law delay to measure)")
        lines.append("  seen    step      regime        status      forecast     80% interval"
                     "             error")
        lines += [_point_line(p) for p in r.points]
        if r.delay_points:
            lines.append(f"at fractions of the delay (fit step {num(r.fit_step)} → the "
                         "transition):")
            lines += [_point_line(p) for p in r.delay_points]
        elif r.fit_step is None:
            lines.append("no points at fractions of the delay: the fit was never read")
        elif r.fit_step >= a.step:
            lines.append(f"no points at fractions of the delay: the fit was read at step "
                         f"{num(r.fit_step)}, not before the transition")
    if r.regime_history:
        lines.append("regime held (5 assessments or more, in order): " + ", ".join(
            f"{span.regime} {span.first_step}–{span.last_step}" for span in r.regime_history))
    if r.final is not None:
        lines.append(f"final: {r.final.regime} (confidence {r.final.confidence:.2f})")
    return "\n".join(lines)


def _point_line(p: ForecastPoint) -> str:
    iv = "" if p.interval is None else f"[{interval_text(p.interval, '{:.0f}'.format, ', ')}]"
    return (f"  {p.fraction:>4.0%}  {num(p.step):>7}  {p.regime or '-':<12}  "
            f"{p.status or '-':<10}  {num(p.forecast_step):>9}  {iv:<22}  "
            f"{'-' if p.error is None else f'{p.error:.1%}'}")


def format_scorecard(card: Scorecard) -> str:
    """Human-readable scorecard."""
    lines = ["run                              λ        regime        conf  final norm  val    delay"]
    for r in sorted(card.runs, key=lambda r: (r.weight_decay is None, r.weight_decay or 0.0)):
        lines.append(f"{(r.run_id or '?')[:32]:<32} {_g(r.weight_decay):>7}  {r.regime:<12}  "
                     f"{r.confidence:.2f}  {_g(r.final_norm):>10}  {_g(r.final_val):>5}  {_g(r.delay):>6}")
    lines.append("")
    for p in card.predictions:
        lines.append(f"{p.name} {p.status.upper():<4} {p.title}: {p.detail}")
    lines.append(f"S = {'n/a' if card.score is None else f'{card.score:.2f}'}"
                 f" ({sum(p.status == 'pass' for p in card.predictions)} pass / "
                 f"{sum(p.status != 'n/a' for p in card.predictions)} applicable)")
    return "\n".join(lines)


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"
