"""``nht-monitor demo cifar10`` / ``python -m nht_monitor.demos.cifar10``."""

from __future__ import annotations

import argparse

from nht_monitor.demos.common import cli as common
from nht_monitor.demos.common.image_cli import ImageTask, add_image_options, run_image_demo

DESCRIPTION = ("CIFAR-10 with a spurious coloured border of strength ρ: shortcut → structure "
               "transition under AdamW + cosine; clean accuracy on border-free images.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_image_options(parser, default_weight_decay=0.1, default_epochs=30, default_model="cnn6",
                      models=["cnn6", "cnn6-small", "resnet18"])
    group = parser.add_argument_group("cifar10")
    group.add_argument("--rho", type=float, default=0.9,
                       help="shortcut strength: P(border colour = label colour) beyond chance "
                            "(0 none, 1 perfect; default 0.9)")
    group.add_argument("--synthetic-size", type=int, default=6000,
                       help="stand-in training images (test: a quarter as many)")


def build_task(args: argparse.Namespace) -> ImageTask:
    """Datasets per the options (real pickles under --data-root, or the stand-in)."""
    from nht_monitor.demos.cifar10.data import load_cifar10, make_sets, synthetic_cifar
    from nht_monitor.demos.common.image_data import subsample

    quick = args.quick
    if args.synthetic:
        n = 600 if quick else args.synthetic_size
        train = synthetic_cifar(n, args.seed)
        test = synthetic_cifar(max(n // 4, 50), args.seed + 10_000)
    else:
        if args.data_root is None:
            raise ValueError("--data-root DIR (holding cifar-10-batches-py) or --synthetic "
                             "is needed")
        train, test = load_cifar10(args.data_root, True), load_cifar10(args.data_root, False)
    train_set, evals = make_sets(train, test, args.rho, args.seed)
    max_train = args.max_train or (512 if quick else None)
    max_eval = args.max_eval or (256 if quick else None)
    train_set = subsample(train_set, max_train, args.seed)
    evals = {k: subsample(v, max_eval, args.seed) for k, v in evals.items()}
    model = "cnn6-small" if quick and args.model == "cnn6" else args.model
    return ImageTask(name="cifar10-spurious-border", train_set=train_set, eval_sets=evals,
                     group_set="random", n_classes=10, stand_in=args.synthetic,
                     model_name=model, cifar_stem=True, transition_metric="clean_acc",
                     describe=f"ρ={args.rho:g}, {len(train_set)} train images, model {model}",
                     settings={"rho": args.rho, "dataset": "synthetic-shapes" if args.synthetic
                               else "cifar10"})


def run(args: argparse.Namespace) -> int:
    common.apply_threads(args)
    if args.quick and args.duration is None:
        args.duration = 2
    task = build_task(args)
    run_image_demo(args, task, "cifar10-standin" if task.stand_in else "cifar10")
    return 0
