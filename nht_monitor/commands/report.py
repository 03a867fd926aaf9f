"""``nht-monitor report RUN.jsonl [more] -o report.html [--png DIR]``: the HTML report."""

from __future__ import annotations

import argparse
from typing import Any


def _report(args: argparse.Namespace) -> int:
    from nht_monitor._extras import require_extra

    require_extra("report", "matplotlib")  # a missing one: one line (cli.main)
    from nht_monitor.report import build_report

    summary = build_report(args.runs, args.output, png_dir=args.png)
    print(f"wrote {summary.html} ({len(summary.runs)} run(s), {summary.figures} figure(s))")
    if summary.png_files:
        print(f"wrote {len(summary.png_files)} PNG file(s) to {args.png}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``report``."""
    parser = subparsers.add_parser(
        "report", help="write a self-contained HTML report of one or more run logs",
        description="One HTML file (figures embedded, opens without network): the "
                    "assessment, norms with regime bands and forecast, per-layer norms, "
                    "metrics and τ for each run; for several runs a sweep page with the "
                    "delay fit and the P1–P6 scorecard.")
    parser.add_argument("runs", nargs="+", metavar="RUN.jsonl", help="run log(s)")
    parser.add_argument("-o", "--output", default="report.html",
                        help="HTML file to write (default report.html)")
    parser.add_argument("--png", metavar="DIR", help="also write every figure as PNG into DIR")
    parser.set_defaults(func=_report)
