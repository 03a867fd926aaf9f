"""The ``nht-monitor`` console script.

Each subcommand lives in ``nht_monitor/commands/<module>.py`` and exposes
``register(subparsers)``, which adds its parser(s) and sets ``func`` (called with the
parsed namespace, returning the exit code).

Start-up is cheap: :func:`main` imports only the module of the command being run
(:data:`COMMANDS` maps each command to its module); ``nht-monitor --help`` and errors
before a command lists them from :data:`COMMANDS` without importing any. Command
modules import their heavy dependencies (pydantic models, numpy, the analysis,
matplotlib, torch) inside the functions that run the command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from nht_monitor._extras import MissingExtraError
from nht_monitor._version import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "show": ("show", "print the last samples of a run log"),
    "analyze": ("analyze", "regime and transition forecast of a run log"),
    "backtest": ("analyze", "replay a log and score the live forecasts"),
    "scorecard": ("analyze", "P1–P6 predictions over a λ sweep"),
    "advise": ("advise", "weight-decay advice for a run log"),
    "exporter": ("exporter", "serve every run log of a directory on /metrics (sidecar)"),
    "dashboards": ("dashboards", "generate the Grafana dashboards or push them to Grafana"),
    "report": ("report", "write a self-contained HTML report of one or more run logs"),
    "demo": ("demo", "run a bundled demo (modular-arithmetic, cifar10, celeba, waterbirds)"),
}
"""Command → (the module of ``nht_monitor/commands/`` registering it, its one-line help as
the module registers it; tests/test_cli.py checks the two agree)."""

COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


EXIT_CODES = """exit codes:
  0    done
  2    bad input, one line on stderr: a usage error, or a path, file or option value
       the command cannot use (a missing, unreadable, corrupt or non-regular run log,
       an out-of-range number, a bad --setting, an output file that cannot be written)
  1    not the input, one line on stderr: a missing optional extra (naming the pip
       install), a port the exporter cannot serve on, a failed check or remote service
       (dashboards generate --check, dashboards push), or an internal error (a bug)
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (e.g. `| head`): the rest is not printed
--debug (before the command) re-raises the error: Python prints the traceback, exit 1."""


def _top_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = argparse.ArgumentParser(
        prog="nht-monitor",
        description="Watch weight norms of a PyTorch run: weight-decay regime and "
                    "Norm-Hierarchy Transition forecast.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the traceback instead of one line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser, subparsers


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered (``command`` None: imports
    every command module), or only the module of ``command`` registered and the other
    commands listed from :data:`COMMANDS` (what :func:`main` uses)."""
    return _build(set(COMMAND_MODULES) if command is None else {COMMANDS[command][0]})


def _index_parser() -> argparse.ArgumentParser:
    """The top-level parser listing every command from :data:`COMMANDS` (for ``--help``,
    ``--version`` and errors before a command) without importing a command module."""
    return _build(set())


def _build(modules: set[str]) -> argparse.ArgumentParser:
    parser, subparsers = _top_parser()
    registered: set[str] = set()
    for name, (module, help_text) in COMMANDS.items():
        if module not in modules:  # listed (help, choices), never run
            subparsers.add_parser(name, help=help_text, add_help=False)
        elif module not in registered:
            importlib.import_module(f"nht_monitor.commands.{module}").register(subparsers)
            registered.add(module)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``: its first word that is not an option (the top-level
    options take no value), if it is one of :data:`COMMANDS`."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command(argv)
    parser = build_parser(command) if command else _index_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here when the output fitted its buffer
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _discard_stdout()
        return 141
    except Exception as exc:
        if args.debug:
            raise
        code, message = error_line(exc)
        print(f"nht-monitor {args.command}: {message}", file=sys.stderr)
        return code


def _discard_stdout() -> None:
    """Point stdout at the null device: the reader of the pipe is gone, and the
    interpreter's own flush at exit would fail on it again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout
        pass


def error_line(exc: Exception) -> tuple[int, str]:
    """The exit code and the one line (without the ``nht-monitor COMMAND: `` prefix) for an
    exception a command raised: 2 for bad input, 1 for a missing extra or a bug (see
    :data:`EXIT_CODES`)."""
    if isinstance(exc, MissingExtraError):  # not the input: the installation
        return 1, f"error: {_one_line(exc)}"
    if isinstance(exc, OverflowError):  # e.g. a step of 10**400 in a crafted log
        return 2, f"error: a number in the input is out of range ({_one_line(exc)})"
    if isinstance(exc, RecursionError):  # e.g. a header of 100k nested JSON arrays
        return 2, "error: the input is nested too deeply"
    if isinstance(exc, (OSError, ValueError)):  # RunLogError, pydantic's errors: ValueErrors
        return 2, f"error: {_validation_line(exc) or _one_line(exc)}"
    return 1, (f"internal error: {type(exc).__name__}: {_one_line(exc)}; "
               f"rerun with --debug for the traceback")


def _validation_line(exc: BaseException) -> str | None:
    """A pydantic ``ValidationError`` as ``field: problem; …`` (no input values, no
    documentation links); ``None`` for any other exception. Duck-typed: the CLI does
    not import pydantic to start."""
    errors = getattr(exc, "errors", None)
    if type(exc).__name__ != "ValidationError" or not callable(errors):
        return None
    try:
        found = errors(include_url=False, include_input=False, include_context=False)
    except TypeError:
        return None
    title = getattr(exc, "title", "")
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                         for e in found)
    return _one_line(ValueError(f"invalid {title}: {problems}" if title else problems))


def _one_line(exc: BaseException, limit: int = 500) -> str:
    """``str(exc)`` on one line (a multi-line message, e.g. a pydantic dump, joined with
    "; "), cut at ``limit`` characters."""
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    text = text or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
