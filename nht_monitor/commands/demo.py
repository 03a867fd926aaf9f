"""``nht-monitor demo NAME ...``: run a bundled demo (see ``nht_monitor/demos/``).

Each demo's options live in its own ``demos.<name>.cli`` module; this command only
dispatches. The image demos need the ``[demos]`` extra.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``demo`` with one sub-command per demo."""
    parser = subparsers.add_parser(
        "demo", help="run a bundled demo (modular-arithmetic, cifar10, celeba, waterbirds)",
        description="Train a demo model with the monitor attached and print the regime table.")
    try:
        from nht_monitor.demos.common.cli import DEMOS, demo_module
    except ImportError:  # installed without the demos package
        parser.set_defaults(func=_missing)
        return
    names = parser.add_subparsers(dest="demo", metavar="NAME")
    for name in DEMOS:
        module = demo_module(name)
        sub = names.add_parser(name, help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(func=module.run)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _missing(_args: argparse.Namespace) -> int:
    print("nht-monitor demo: the demos package is not installed (install from a checkout)")
    return 2
