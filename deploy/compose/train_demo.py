"""The compose stack's training container: the modular-arithmetic demo, scraped live.

``nht-monitor demo modular-arithmetic --prometheus-port 9464`` serves ``/metrics`` on
127.0.0.1 (the monitor's default: nothing is exposed unless asked for), which no other
container can reach, and the demo has no option for the address. This script runs the
same demo — its options, its training code (``train_run``), its run logs, progress lines
and summary table — with the in-process exporter bound to ``--prometheus-host``
(``0.0.0.0`` by default), i.e. ``watch(..., prometheus=PrometheusSettings(host=...,
port=...))``, so Prometheus scrapes it by service name (``trainer:9464``). Every λ runs
in turn on the same port (as the demo does whenever it serves Prometheus).

    python deploy/compose/train_demo.py --prometheus-port 9464 [demo options...]
"""

from __future__ import annotations

import sys
import time

from nht_monitor.demos.common import cli as common
from nht_monitor.demos.common.progress import DemoProgress
from nht_monitor.demos.modular_arithmetic import cli as demo
from nht_monitor.demos.modular_arithmetic.train import train_run
from nht_monitor.exporter.settings import PrometheusSettings


def main(argv: list[str] | None = None) -> int:
    parser = common.build_parser("modular-arithmetic", prog="train_demo.py")
    parser.add_argument("--prometheus-host", default="0.0.0.0",
                        help="address the in-process exporter binds (default 0.0.0.0: "
                             "reachable from the other containers)")
    args = parser.parse_args(argv)
    if args.prometheus_port is None:
        parser.error("--prometheus-port is required (the port Prometheus scrapes)")
    settings = PrometheusSettings(host=args.prometheus_host, port=args.prometheus_port)
    common.apply_threads(args)
    weight_decays, sweep = common.weight_decays(args)
    if args.weight_decay is None and not args.sweep:
        weight_decays, sweep = list(demo.DEFAULT_SWEEP), True
    started = time.perf_counter()
    results = []
    for weight_decay in weight_decays:
        # the exporter comes from `settings`, not from the config's 127.0.0.1 port
        cfg = demo.config_from_args(args, weight_decay).model_copy(
            update={"prometheus_port": None})
        bar = DemoProgress(cfg.resolved().steps, f"λ={weight_decay:g}",
                           disable=args.no_progress)
        try:
            def progress(step, monitor, bar=bar):
                bar.announce(monitor)
                bar.update(step, monitor.latest_assessment)

            results.append(train_run(cfg, monitor_kwargs={"prometheus": settings},
                                     progress=progress))
        finally:
            bar.close()
    print(demo.summary(results, time.perf_counter() - started, sweep), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
