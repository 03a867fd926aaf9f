"""Assemble the self-contained HTML page: inline CSS, figures as base64 PNG, no network."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from matplotlib.figure import Figure

from nht_monitor._version import __version__
from nht_monitor.analysis.assessment import Assessment
from nht_monitor.analysis.text import chance_text, head_lead_text, interval_text

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1b1b1b; background: #fafafa; }
header { background: #08306b; color: white; padding: 14px 28px; }
header h1 { margin: 0; font-size: 1.4em; }
header p { margin: 4px 0 0; opacity: .8; font-size: .9em; }
nav { padding: 8px 28px; background: #e8eef6; font-size: .9em; }
nav a { margin-right: 14px; color: #08306b; }
main { padding: 8px 28px 40px; max-width: 1200px; }
section { background: white; border: 1px solid #ddd; border-radius: 6px; padding: 8px 20px 16px;
          margin: 18px 0; }
h2 { font-size: 1.2em; border-bottom: 1px solid #eee; padding-bottom: 4px; }
h3 { font-size: 1.02em; margin-top: 18px; }
table { border-collapse: collapse; font-size: .9em; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 10px; font-weight: 600; }
.regime-undetermined { background: #d9d9d9; } .regime-weak { background: #fdae61; }
.regime-intermediate { background: #a6d96a; } .regime-strong { background: #c2a5cf; }
.regime-diverged { background: #d7191c; color: white; } .regime-clamped { background: #92c5de; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; }
.na { color: #777; }
.advice { border-left: 4px solid #08306b; background: #eef3fa; padding: 6px 12px; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
.muted { color: #666; font-size: .85em; }
"""


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def esc(value: Any) -> str:
    return html.escape(str(value))


def fmt(value: Any, digits: int = 4) -> str:
    """A number for people: ``—`` for missing, compact otherwise."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def badge(regime: str) -> str:
    return f'<span class="badge regime-{esc(regime)}">{esc(regime)}</span>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; cells are inserted as given (escape them first)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kv_table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column key/value table (keys are escaped, values inserted as given)."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def head_html(a: Assessment) -> str:
    """The head signal's regime, flag step and lead in words (``no lead measured``)."""
    h = a.head
    if h is None:
        return (f'<span class="head-lead">'
                f'{esc(head_lead_text(None, a.head_norm is not None))}</span>')
    flagged = ("not flagged" if h.flagged_step is None
               else f"flagged at step {fmt(h.flagged_step)}")
    return (f"{badge(h.regime)} {flagged}; "
            f'<span class="head-lead">{esc(head_lead_text(h))}</span>')


def assessment_html(a: Assessment, source: str) -> str:
    """The verdict: regime, phase, forecast with interval, reasons, advice."""
    t = a.transition
    interval = f"[{interval_text(t.interval, fmt, ', ')}]" if t.interval else "—"
    rows = [
        ("Regime", f"{badge(a.regime)} confidence {fmt(a.confidence, 2)}"),
        ("Phase", esc(a.phase or "—")),
        ("Transition", f"done at step {fmt(t.forecast_step)} (τ {fmt(t.forecast_tau)})"
         if t.status == "done" else
         f"{esc(t.status)}; forecast step {fmt(t.forecast_step)}, "
         f"80% interval {interval} if it comes, steps remaining {fmt(t.steps_remaining)}, "
         f"forecast τ {fmt(t.forecast_tau)}" + ("" if t.chance_in_budget is None else
                                               f"; {chance_text(t.chance_in_budget)}")),
        ("At", f"step {fmt(a.step)}, τ {fmt(a.tau)}, lr {fmt(a.lr)}, "
               f"λ {fmt(a.weight_decay)} ({fmt(a.n_samples)} samples)"),
        ("Norms", f"total {fmt(a.norm)}, head {fmt(a.head_norm)}, peak {fmt(a.v_peak)}, "
                  f"decay rate {fmt(a.decay_rate)} per τ"),
        ("Clean Norm Separation", f"V_sc {fmt(a.cns.v_sc)}, V_st {fmt(a.cns.v_st)}, ratio "
                                  f"{fmt(a.cns.ratio)}, holds {fmt(a.cns.holds)}"),
    ]
    rows.append(("Head signal", head_html(a)))
    if source == "none":
        note = "No assessment: the log has no samples yet."
    else:
        note = f"Source: {source}."
    parts = [kv_table(rows), f'<p class="muted">{esc(note)}</p>']
    if a.reasons:
        parts.append("<h3>Reasons</h3><ul>"
                     + "".join(f"<li>{esc(r)}</li>" for r in a.reasons) + "</ul>")
    if a.advice is not None and (a.advice.text or a.advice.action != "none"):
        adv = a.advice
        details = [f"action <b>{esc(adv.action)}</b>"]
        if adv.suggested_weight_decay is not None:
            details.append(f"suggested λ {fmt(adv.suggested_weight_decay)}")
        if adv.forecast_steps is not None:
            details.append(f"expected delay {fmt(adv.forecast_steps)} steps")
        if adv.budget_steps is not None:
            details.append(f"budget {fmt(adv.budget_steps)} steps")
        alts = ", ".join(f"{esc(k)}: {fmt(v)}" for k, v in adv.alternatives.items())
        parts.append('<h3>Advice</h3><div class="advice">'
                     f"<p>{esc(adv.text) or '—'}</p><p>{'; '.join(details)}</p>"
                     + (f"<p>Alternatives (delay in steps): {alts}</p>" if alts else "")
                     + "</div>")
    return "\n".join(parts)


def page(title: str, subtitle: str, nav: Sequence[tuple[str, str]],
         sections: Sequence[str]) -> str:
    """The whole document."""
    links = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in nav)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"generator\" content=\"nht-monitor {esc(__version__)}\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)} · generated {stamp} by "
            f"nht-monitor {esc(__version__)}</p></header>"
            + (f"<nav>{links}</nav>" if links else "")
            + "<main>" + "\n".join(sections) + "</main></body></html>\n")
