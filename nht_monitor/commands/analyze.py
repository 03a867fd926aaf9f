"""``nht-monitor analyze | backtest | scorecard``: the rule engine on saved run logs.

Arguments and printing only: a log is assessed by :mod:`nht_monitor.analysis.assess`
(recorded settings plus ``--setting`` overrides) and printed in the text form of
:mod:`nht_monitor.analysis.text` (or as JSON).
"""

from __future__ import annotations

import argparse
from typing import Any


def _overrides(args: argparse.Namespace, **fixed: Any) -> dict[str, Any]:
    """The repeated ``--setting KEY=VALUE`` options (``none``/``null`` for ``None``), then
    ``fixed``; a malformed item is a ``ValueError`` naming it (a one-line error)."""
    from nht_monitor.analysis.settings import parse_overrides

    values = parse_overrides(getattr(args, "setting", None) or [])
    values.update(fixed)
    return values


def _references(args: argparse.Namespace) -> list[str]:
    """The ``--reference`` patterns; one that names no file is a ``FileNotFoundError``."""
    from nht_monitor.analysis.sweep import reference_paths

    patterns = getattr(args, "reference", None) or []
    for pattern in patterns:
        if not [p for p in reference_paths([pattern]) if p.exists()]:
            raise FileNotFoundError(f"--reference {pattern}: no such run log")
    return patterns


def _analyze(args: argparse.Namespace) -> int:
    from nht_monitor.analysis.assess import assess_log
    from nht_monitor.analysis.text import format_assessment

    fixed = {} if args.budget_steps is None else {"advice_budget_steps": args.budget_steps}
    references = _references(args)  # none given: those the run read live (its sweep's)
    a = assess_log(args.run, _overrides(args, **fixed), until=args.until,
                   references=references, as_live=not (references or args.no_references))
    print(a.model_dump_json() if args.json else format_assessment(a))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from nht_monitor.analysis.assess import log_settings
    from nht_monitor.analysis.backtest import backtest
    from nht_monitor.analysis.text import format_backtest
    from nht_monitor.runlog import read_run

    run = read_run(args.run)
    result = backtest(run.samples, run.header, log_settings(run.header, _overrides(args)),
                      references=_references(args))
    print(result.model_dump_json() if args.json else format_backtest(result))
    return 0


def _scorecard(args: argparse.Namespace) -> int:
    from nht_monitor.analysis.assess import log_settings
    from nht_monitor.analysis.scorecard import scorecard, summarize_run
    from nht_monitor.analysis.text import format_scorecard
    from nht_monitor.runlog import read_run

    overrides = _overrides(args, advice=False)
    runs = []
    for path in args.runs:
        run = read_run(path)
        runs.append(summarize_run(run.samples, run.header, log_settings(run.header, overrides),
                                  references=_references(args)))
    card = scorecard(runs)
    print(card.model_dump_json() if args.json else format_scorecard(card))
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
    _reference_option(p, "with --until, those transitioned by then; none given: those the "
                         "run read live (its recorded reference_runs, else the other logs "
                         "of its sweep beside it), as the report does")
    p.add_argument("--no-references", action="store_true",
                   help="read no reference runs, not even the other logs of the run's sweep")
    p.set_defaults(func=_analyze)

    b = subparsers.add_parser("backtest", help="replay a log and score the live forecasts",
                              description="Replay the log through the live analyzer; report the "
                                          "forecast error at 10/25/50/75 % of the actual "
                                          "transition step (the first held-out evaluation "
                                          ">= 0.9) "
                                          "and the regime labels held, in order.")
    b.add_argument("run", help="path to RUN.jsonl")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    _setting_option(b)
    _reference_option(b, "each replayed assessment uses those transitioned by its step")
    b.set_defaults(func=_backtest)

    s = subparsers.add_parser("scorecard", help="P1–P6 predictions over a λ sweep",
                              description="The paper's predictions P1–P6 and the overall score "
                                          "S over several logs of one task differing in λ.")
    s.add_argument("runs", nargs="+", help="run logs (.jsonl) of the sweep")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    _setting_option(s)
    _reference_option(s, "for each run, those transitioned by its last step; a run is never "
                          "its own reference")
    s.set_defaults(func=_scorecard)


def _reference_option(parser: argparse.ArgumentParser,
                      when: str = "with --until, those transitioned by then") -> None:
    parser.add_argument("--reference", action="append", default=[], metavar="RUN.jsonl",
                        help="a run log (or glob) of the same sweep, repeatable: runs that "
                             f"have transitioned calibrate the forecast ({when})")


def _setting_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="override one AnalyzerSettings field (repeatable), e.g. "
                             "--setting delay_tau=1.0 (docs/FORECAST.md lists them)")
