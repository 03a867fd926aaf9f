"""The options every demo shares and the glue to run a demo from the command line.

Each demo's ``cli`` module defines ``DESCRIPTION``, ``add_arguments(parser)`` (which
calls :func:`add_common_options`) and ``run(args) -> int``. ``nht-monitor demo NAME``
(``nht_monitor.commands.demo``) and ``python -m nht_monitor.demos.NAME`` (:func:`main`) both go
through :data:`DEMOS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import ModuleType

DEMOS: dict[str, str] = {
    "modular-arithmetic": "nht_monitor.demos.modular_arithmetic.cli",
    "cifar10": "nht_monitor.demos.cifar10.cli",
    "celeba": "nht_monitor.demos.celeba.cli",
    "waterbirds": "nht_monitor.demos.waterbirds.cli",
}
"""Demo name on the command line → module with ``DESCRIPTION``/``add_arguments``/``run``."""


def demo_module(name: str) -> ModuleType:
    """The CLI module of demo ``name`` (a key of :data:`DEMOS`)."""
    return importlib.import_module(DEMOS[name])


def default_log_dir() -> Path:
    """``runs/<YYYYmmdd-HHMMSS>`` (local time): a fresh directory per demo invocation."""
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def float_list(text: str) -> list[float]:
    """Parse ``"0.1,1,10"`` into floats (argparse type)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected non-negative numbers, got {text!r}")
    return values


def add_common_options(parser: argparse.ArgumentParser, *, default_weight_decay: float,
                       default_lr: float, duration: str, default_duration: int,
                       image: bool) -> None:
    """Add the options of every demo.

    ``duration`` is ``"steps"`` or ``"epochs"`` (the flag ``--steps``/``--epochs``);
    ``image`` adds ``--data-root`` and ``--synthetic``.
    """
    group = parser.add_argument_group("common demo options")
    wd = group.add_mutually_exclusive_group()
    wd.add_argument("--weight-decay", type=float, default=None, metavar="X",
                    help=f"one run with weight decay λ=X (default {default_weight_decay:g})")
    wd.add_argument("--sweep", type=float_list, default=None, metavar="X,Y,Z",
                    help="one run per λ (same seed and data), then a summary table")
    group.add_argument("--lr", type=float, default=default_lr, help="learning rate η")
    group.add_argument(f"--{duration}", type=int, default=None, dest="duration",
                       help=f"training length in {duration} (default {default_duration})")
    group.add_argument("--seed", type=int, default=0)
    group.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]")
    group.add_argument("--log-dir", type=Path, default=default_log_dir(),
                       help="where the run logs go (default ./runs/<date>-<time>, a new "
                            "directory per invocation; an existing log is never overwritten)")
    group.add_argument("--prometheus-port", type=int, default=None,
                       help="serve live metrics on this port (0 = any free port)")
    group.add_argument("--prometheus-host", default="127.0.0.1",
                       help="address the metrics server binds (default 127.0.0.1; 0.0.0.0 "
                            "to be scraped from another host or container)")
    group.add_argument("--quick", action="store_true",
                       help="a seconds-long smoke run (tiny model, few steps)")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    group.add_argument("--threads", type=int, default=None,
                       help="CPU threads for torch (default: torch's choice; 1 is faster "
                            "on a shared, busy machine)")
    if image:
        group.add_argument("--data-root", type=Path, default=None,
                           help="directory holding the dataset in its standard layout")
        group.add_argument("--synthetic", action="store_true",
                           help="use the procedurally generated STAND-IN dataset instead "
                                "of the real one (results are not real-data results)")
    parser.set_defaults(_default_weight_decay=default_weight_decay,
                        _default_duration=default_duration)


def apply_threads(args: argparse.Namespace) -> None:
    """Apply ``--threads`` (no-op when not given)."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


def weight_decays(args: argparse.Namespace) -> tuple[list[float], bool]:
    """The λ values to run and whether it is a sweep."""
    if args.sweep:
        return list(args.sweep), True
    wd = args.weight_decay if args.weight_decay is not None else args._default_weight_decay
    return [wd], False


def duration(args: argparse.Namespace) -> int:
    """``--steps``/``--epochs`` or the demo's default."""
    return args.duration if args.duration is not None else args._default_duration


def build_parser(name: str, prog: str | None = None) -> argparse.ArgumentParser:
    """A standalone parser for demo ``name`` (``python -m nht_monitor.demos.NAME``)."""
    module = demo_module(name)
    parser = argparse.ArgumentParser(prog=prog or f"python -m {DEMOS[name].rsplit('.', 1)[0]}",
                                     description=module.DESCRIPTION)
    module.add_arguments(parser)
    parser.set_defaults(func=module.run)
    return parser


def main(name: str, argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m nht_monitor.demos.NAME``; returns the exit code."""
    args = build_parser(name).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line and the CLI's exit codes (2: bad input)
        from nht_monitor.cli import error_line

        code, message = error_line(exc)
        print(f"{name}: {message}", file=sys.stderr)
        return code
