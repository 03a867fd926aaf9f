"""``nht-monitor analyze | backtest | scorecard``: the rule engine on saved run logs."""

from __future__ import annotations

import argparse
import math

from pydantic import ValidationError

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.backtest import backtest, format_backtest
from nht_monitor.analysis.scorecard import format_scorecard, scorecard, summarize_run
from nht_monitor.analysis.settings import parse_overrides, recorded_settings
from nht_monitor.analysis.assessment import Assessment
from nht_monitor.runlog import read_run
from nht_monitor.runlog.schema import RunHeader


def _f(x: float | None, fmt: str = ".6g") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, fmt)


def format_assessment(a: Assessment) -> str:
    """Human-readable assessment (what ``analyze`` prints without ``--json``)."""
    t = a.transition
    lines = [f"run {a.run_id or '?'}: {a.n_samples} samples, step {_f(a.step)}, τ {_f(a.tau)}, "
             f"lr {_f(a.lr)}, weight decay {_f(a.weight_decay)}",
             f"regime: {a.regime} (confidence {a.confidence:.2f}), phase {a.phase or '-'}",
             f"norm {_f(a.norm)} (peak {_f(a.v_peak)}), decay rate {_f(a.decay_rate)}/τ"]
    tline = f"transition: {t.status}"
    if t.forecast_step is not None:
        tline += f" at step {_f(t.forecast_step, '.0f')}"
        if t.interval is not None:
            tline += f" (80% {_f(t.interval[0], '.0f')}–{_f(t.interval[1], '.0f')})"
        tline += f", τ {_f(t.forecast_tau)}"
        if t.steps_remaining is not None:
            tline += f", {_f(t.steps_remaining, '.0f')} steps from now"
    lines.append(tline)
    if a.head is not None:
        h = a.head
        lines.append(f"head: {h.regime} (confidence {h.confidence:.2f}), flagged at step "
                     f"{_f(h.flagged_step)}, lead {_f(h.lead_steps)} steps, forecast "
                     f"{_f(h.transition.forecast_step, '.0f')}")
    c = a.cns
    lines.append(f"CNS: V_sc {_f(c.v_sc)}, V_st {_f(c.v_st)}, ratio {_f(c.ratio)}, "
                 f"separation {_f(c.separation)}, holds {c.holds if c.holds is not None else '-'}")
    lines.append("reasons:")
    lines.extend(f"  - {r}" for r in a.reasons)
    if a.advice is not None and a.advice.text:
        lines.append(f"advice: {a.advice.text}")
    return "\n".join(lines)


def settings_from_args(args: argparse.Namespace, header: RunHeader | None = None,
                       **fixed: object) -> AnalyzerSettings:
    """:class:`AnalyzerSettings` for one log: the settings its live engine used
    (:func:`recorded_settings`), then the repeated ``--setting KEY=VALUE`` options
    (``none``/``null`` for ``None``), then ``fixed``; an unknown key or a bad value is a
    ``ValueError`` naming it (printed as a one-line error)."""
    values = parse_overrides(getattr(args, "setting", None) or [])
    values.update(fixed)
    try:
        return recorded_settings(header, **values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ValueError(f"bad --setting: {problems}") from None


def _analyze(args: argparse.Namespace) -> int:
    run = read_run(args.run)
    analyzer = Analyzer(run.header, settings_from_args(args, run.header,
                                                         advice_budget_steps=args.budget_steps))
    a = analyzer.analyze(run.samples, until=args.until)
    if args.json:
        print(a.model_dump_json())
    else:
        print(format_assessment(a))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    run = read_run(args.run)
    result = backtest(run.samples, run.header, settings_from_args(args, run.header))
    if args.json:
        print(result.model_dump_json())
    else:
        print(format_backtest(result))
    return 0


def _scorecard(args: argparse.Namespace) -> int:
    runs = []
    for path in args.runs:
        run = read_run(path)
        settings = settings_from_args(args, run.header, advice=False)
        runs.append(summarize_run(run.samples, run.header, settings))
    card = scorecard(runs)
    if args.json:
        print(card.model_dump_json())
    else:
        print(format_scorecard(card))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analyze``, ``backtest`` and ``scorecard`` subcommands."""
    p = subparsers.add_parser("analyze", help="regime and transition forecast of a run log",
                              description="Run the rule engine on a whole run log (or up to "
                                          "--until STEP) and print the assessment.")
    p.add_argument("run", help="path to RUN.jsonl")
    p.add_argument("--until", type=int, default=None, metavar="STEP",
                   help="only use samples up to this optimizer step")
    p.add_argument("--budget-steps", type=int, default=None,
                   help="step budget handed to the advice")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object (the Assessment)")
    _setting_option(p)
    p.set_defaults(func=_analyze)

    b = subparsers.add_parser("backtest", help="replay a log and score the live forecasts",
                              description="Replay the log through the live analyzer; report the "
                                          "forecast error at 10/25/50/75%% of the actual "
                                          "transition step (held-out accuracy staying >= 0.9) "
                                          "and when each regime label was reached and held.")
    b.add_argument("run", help="path to RUN.jsonl")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    _setting_option(b)
    b.set_defaults(func=_backtest)

    s = subparsers.add_parser("scorecard", help="P1–P6 predictions over a λ sweep",
                              description="The paper's predictions P1–P6 and the overall score "
                                          "S over several logs of one task differing in λ.")
    s.add_argument("runs", nargs="+", help="run logs (.jsonl) of the sweep")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    _setting_option(s)
    s.set_defaults(func=_scorecard)


def _setting_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="override one AnalyzerSettings field (repeatable), e.g. "
                             "--setting delay_tau=1.0 (docs/FORECAST.md lists them)")
