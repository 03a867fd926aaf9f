"""``nht-monitor exporter``: the sidecar serving every run log of a directory to Prometheus.

For teams that want no HTTP server inside the training process, and so the series
survive a training restart: it tails ``DIR/*.jsonl`` (new runs are picked up), analyzes
each run and serves them all on one ``/metrics``, each with its own ``run`` label.
A log that is a symbolic link resolving outside the directory is skipped (with a
warning) unless ``--follow-symlinks`` is given. Needs the ``[prometheus]`` extra
(``prometheus-client``); without it the command says so in one line and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from nht_monitor._extras import require_extra

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``exporter`` subcommand."""
    parser = subparsers.add_parser(
        "exporter", help="serve every run log of a directory on /metrics (sidecar)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("--log-dir", required=True, help="directory of <run_id>.jsonl logs")
    parser.add_argument("--port", type=int, default=9465,
                        help="port to serve /metrics on (0: a free one; default 9465)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--layers", choices=("all", "top", "modules"), default="all",
                        help="layer-label cardinality (default all)")
    parser.add_argument("--max-layers", type=int, default=200,
                        help="layers kept by --layers modules (default 200)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between reads of the logs (default 1)")
    parser.add_argument("--retire-after", type=float, default=None, metavar="SECONDS",
                        help="stop exporting runs whose log is unchanged that long")
    parser.add_argument("--follow-symlinks", action="store_true",
                        help="also export logs that are symbolic links resolving outside "
                             "--log-dir (default: skipped with a warning)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="export the assessments written in the logs instead of "
                             "running the analyzer")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop`` is set); returns the exit code."""
    require_extra("prometheus", "prometheus_client")  # a missing one: one line (cli.main)
    from nht_monitor.exporter import RunLogDirectory, start_exporter
    from nht_monitor.exporter.server import ExporterError
    from nht_monitor.exporter.settings import PrometheusSettings

    settings = PrometheusSettings(host=args.host, port=args.port, layers=args.layers,
                                  max_layers=args.max_layers)
    directory = RunLogDirectory(args.log_dir, analyze=not args.no_analyze,
                                retire_after=args.retire_after,
                                follow_symlinks=args.follow_symlinks).start(args.interval)
    try:
        handle = start_exporter(directory, settings, source_kind="sidecar")
    except ExporterError as exc:  # e.g. the port is taken: not the input, exit code 1
        directory.close()
        if getattr(args, "debug", False):
            raise
        print(f"nht-monitor exporter: error: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        directory.close()
        raise
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    print(f"nht-monitor exporter: serving {args.log_dir} at {handle.url}", flush=True)
    try:
        stop.wait()
    finally:
        handle.close()
        directory.close()
    return 0
