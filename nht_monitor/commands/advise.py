"""``nht-monitor advise RUN.jsonl --budget-steps N [--json]``: what to change in λ.

Assesses the whole run log (:func:`nht_monitor.analysis.assess.assess_log`, with the
settings its live engine used) and prints the
:class:`nht_monitor.analysis.assessment.Advice` for that assessment in the text form of
:mod:`nht_monitor.analysis.text`: its text, or with ``--json`` one JSON object
``{"run_id", "regime", "step", "advice": {...}}``.
Exit code 0, or 1 for an unreadable log (one-line error from the CLI).
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``advise`` subcommand."""
    parser = subparsers.add_parser(
        "advise", help="weight-decay advice for a run log",
        description="Print what to change in weight decay (λ), with numbers, from a run log.")
    parser.add_argument("run", help="run log (RUN.jsonl)")
    parser.add_argument("--budget-steps", type=int, default=None, metavar="N",
                        help="total optimizer steps the run may take")
    parser.add_argument("--json", action="store_true", help="print the advice as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the advice; returns the exit code."""
    from nht_monitor.analysis.advice import advise
    from nht_monitor.analysis.assess import assess_log
    from nht_monitor.analysis.text import advice_json, format_advice

    if args.budget_steps is not None and args.budget_steps <= 0:
        raise ValueError(f"--budget-steps must be a positive integer, got {args.budget_steps}")
    assessment = assess_log(args.run, {"advice": False})  # the advice comes next, with the budget
    advice = advise(assessment, budget_steps=args.budget_steps)
    print(advice_json(assessment, advice) if args.json else format_advice(assessment, advice))
    return 0
