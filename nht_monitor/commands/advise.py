"""``nht-monitor advise RUN.jsonl [MORE.jsonl | DIR ...] [--budget-steps N] [--json]``.

Assesses RUN (:func:`nht_monitor.analysis.assess.assess_log`, with the settings its live
engine used) and prints the :class:`nht_monitor.analysis.assessment.Advice` for it. Every
log given — RUN itself and the others (a directory stands for its ``*.jsonl``) — is a
run of the same task that calibrates the delay law
(:func:`nht_monitor.analysis.advice.calibrate`); logs of a model of another size are left
out, with a note. The budget is ``--budget-steps``, else the one recorded in RUN's header
(:func:`nht_monitor.analysis.advice.advice_budget`: ``watch(budget_steps=)``, the
config's planned steps). Text: the advice; ``--json``: one object
``{"run_id", "regime", "step", "advice": {...}}``.
Exit code 0, or 2 for an unreadable log or a bad option (one-line error from the CLI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``advise`` subcommand."""
    parser = subparsers.add_parser(
        "advise", help="weight-decay advice for a run log",
        description="Print what to change in weight decay (λ), with numbers measured on "
                    "the run and on other runs of the same task given with it.")
    parser.add_argument("run", help="run log to advise (RUN.jsonl)")
    parser.add_argument("others", nargs="*", metavar="LOG_OR_DIR",
                        help="other runs of the same task (logs, or directories of logs) "
                             "that calibrate the delay law")
    parser.add_argument("--budget-steps", type=int, default=None, metavar="N",
                        help="total optimizer steps a run may take (default: the budget "
                             "recorded in the run's header)")
    parser.add_argument("--json", action="store_true", help="print the advice as JSON")
    parser.set_defaults(func=run)


def calibration_logs(run: str | Path, others: list[str]) -> list[Path]:
    """RUN and the other logs (directories expanded to their ``*.jsonl``), without repeats."""
    paths = [Path(run)]
    for item in others:
        p = Path(item)
        paths.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    seen: dict[Path, Path] = {}
    for p in paths:
        seen.setdefault(p.resolve(), p)
    return list(seen.values())


def run(args: argparse.Namespace) -> int:
    """Print the advice; returns the exit code."""
    from nht_monitor.analysis.advice import (
        NoSamplesError,
        advice_budget,
        advise,
        calibrate,
        calibration_run,
    )
    from nht_monitor.analysis.assess import assess_log, log_settings
    from nht_monitor.analysis.text import advice_json, format_advice
    from nht_monitor.runlog.reader import read_columns

    if args.budget_steps is not None and args.budget_steps <= 0:
        raise ValueError(f"--budget-steps must be a positive integer, got {args.budget_steps}")
    log = read_columns(args.run)
    settings = log_settings(log.header, {"advice": False})
    assessment = assess_log(log, {"advice": False})  # the advice comes next, with the budget
    budget = args.budget_steps or advice_budget(settings, log.header)
    runs, skipped, own_lr = [], [], None
    n_params = log.header.model.n_params
    for i, path in enumerate(calibration_logs(args.run, args.others)):
        try:
            other = calibration_run(log, settings) if i == 0 else calibration_run(path)
        except NoSamplesError:  # a run that has not started yet: nothing to learn from
            if i:
                skipped.append(f"{path} (no samples yet)")
            continue
        if i == 0:  # λ is sized at the lr the calibration reads, not the last one logged
            own_lr = other.lr
        if other.n_params != n_params:
            skipped.append(f"{path} ({other.n_params} parameters, not {n_params})")
        else:
            runs.append(other)
    alone = not runs or (len(runs) == 1 and runs[0].transition_step is None)
    advice = advise(assessment, budget_steps=budget,
                    calibration=None if alone else calibrate(runs), lr=own_lr)
    print(advice_json(assessment, advice) if args.json else format_advice(assessment, advice))
    for note in skipped:
        print(f"left out of the calibration: {note}", file=sys.stderr)
    return 0
