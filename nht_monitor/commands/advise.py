"""``nht-monitor advise RUN.jsonl --budget-steps N [--json]``: what to change in λ.

Analyses the whole run log (``nht_monitor.analysis.Analyzer.analyze``) and prints the
:class:`nht_monitor.analysis.assessment.Advice` for the final assessment: its text, or with
``--json`` one JSON object ``{"run_id", "regime", "step", "advice": {...}}``.
Exit code 0, or 1 for an unreadable log (one-line error from the CLI).
"""

from __future__ import annotations

import argparse
import json

from nht_monitor.analysis.advice import advise
from nht_monitor.analysis.assessment import Assessment


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


def assess_run(path: str) -> Assessment:
    """The analyzer's assessment of the whole run log at ``path`` (with the settings its
    live engine used, if ``watch(analysis=...)`` recorded any)."""
    from nht_monitor.analysis import Analyzer
    from nht_monitor.analysis.settings import recorded_settings
    from nht_monitor.runlog import read_run

    log = read_run(path)
    assessment = Analyzer(log.header, recorded_settings(log.header)).analyze(log.samples)
    if assessment.run_id is None:
        assessment.run_id = log.header.run_id
    return assessment


def run(args: argparse.Namespace) -> int:
    """Print the advice; returns the exit code."""
    if args.budget_steps is not None and args.budget_steps <= 0:
        raise ValueError(f"--budget-steps must be a positive integer, got {args.budget_steps}")
    assessment = assess_run(args.run)
    advice = advise(assessment, budget_steps=args.budget_steps)
    if args.json:
        print(json.dumps({"run_id": assessment.run_id, "regime": assessment.regime,
                          "step": assessment.step, "advice": advice.model_dump(mode="json")},
                         allow_nan=False))
    else:
        print(f"{assessment.run_id}: {assessment.regime} at step {assessment.step}")
        print(advice.text)
    return 0
