"""``nht-monitor demo waterbirds`` / ``python -m nht_monitor.demos.waterbirds``."""

from __future__ import annotations

import argparse

from nht_monitor.demos.common import cli as common
from nht_monitor.demos.common.group_cli import add_group_options, group_task
from nht_monitor.demos.common.image_cli import run_image_demo

DESCRIPTION = ("Waterbirds (WILDS layout): landbird/waterbird × land/water, worst-group "
               "accuracy — the norm dynamics transfer, Clean Norm Separation does not.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_group_options(parser, default_weight_decay=0.1, default_epochs=30, default_synthetic=3000)


def run(args: argparse.Namespace) -> int:
    from nht_monitor.demos.waterbirds.data import load_waterbirds, synthetic_splits

    common.apply_threads(args)
    if args.quick and args.duration is None:
        args.duration = 2
    task = group_task(args, "waterbirds", lambda size: load_waterbirds(args.data_root, size),
                      synthetic_splits,
                      {"dataset": "synthetic-scenes" if args.synthetic else "waterbirds_v1.0"})
    results = run_image_demo(args, task, "waterbirds-standin" if task.stand_in else "waterbirds")
    verdicts = {r.weight_decay: (r.cns or {}).get("holds") for r in results}
    print("Clean Norm Separation (monitor's CNS check): " + ", ".join(
        f"λ={w:g}: {'holds' if v else 'fails' if v is False else 'undecided'}"
        for w, v in verdicts.items())
        + " — the paper's finding on real Waterbirds: CNS fails, so the transition forecast "
          "does not transfer even though the norm dynamics do.")
    return 0
