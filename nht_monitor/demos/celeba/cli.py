"""``nht-monitor demo celeba`` / ``python -m nht_monitor.demos.celeba``."""

from __future__ import annotations

import argparse

from nht_monitor.demos.common import cli as common
from nht_monitor.demos.common.group_cli import add_group_options, group_task
from nht_monitor.demos.common.image_cli import run_image_demo

DESCRIPTION = ("CelebA: Blond_Hair with spurious Male (torchvision or WILDS layout), "
               "four groups, worst-group accuracy.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_group_options(parser, default_weight_decay=0.1, default_epochs=10, default_synthetic=3000)
    parser.add_argument("--layout", choices=["auto", "torchvision", "wilds"], default="auto",
                        help="on-disk layout under --data-root (auto: detect)")


def run(args: argparse.Namespace) -> int:
    from nht_monitor.demos.celeba.data import load_celeba, synthetic_splits

    common.apply_threads(args)
    if args.quick and args.duration is None:
        args.duration = 2
    task = group_task(args, "celeba", lambda size: load_celeba(args.data_root, size, args.layout),
                      synthetic_splits,
                      {"dataset": "synthetic-faces" if args.synthetic else "celeba",
                       "target": "Blond_Hair", "spurious": "Male"})
    run_image_demo(args, task, "celeba-standin" if task.stand_in else "celeba")
    return 0
