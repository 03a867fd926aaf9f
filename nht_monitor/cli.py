"""The ``nht-monitor`` console script.

Each subcommand lives in ``nht_monitor/commands/<module>.py`` and exposes
``register(subparsers)``, which adds its parser(s) and sets ``func`` (called with the
parsed namespace, returning the exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from nht_monitor._version import __version__

COMMAND_MODULES: tuple[str, ...] = (
    "show", "analyze", "advise", "exporter", "dashboards", "report", "demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="nht-monitor",
        description="Watch weight norms of a PyTorch run: weight-decay regime and "
                    "Norm-Hierarchy Transition forecast.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"nht_monitor.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:  # clear one-line errors for bad input
        print(f"nht-monitor {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
