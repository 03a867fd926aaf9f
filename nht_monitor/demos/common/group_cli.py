"""CLI pieces shared by the two four-group demos (CelebA, Waterbirds)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from nht_monitor.demos.common.image_cli import ImageTask, add_image_options

if TYPE_CHECKING:  # torch: imported when a demo runs, not by its option definitions
    from torch.utils.data import Dataset

MODELS = ["auto", "cnn6", "cnn6-small", "resnet18", "resnet50"]


def add_group_options(parser: argparse.ArgumentParser, *, default_weight_decay: float,
                      default_epochs: int, default_synthetic: int) -> None:
    add_image_options(parser, default_weight_decay=default_weight_decay,
                      default_epochs=default_epochs, default_model="auto", models=MODELS)
    group = parser.add_argument_group("groups")
    group.add_argument("--image-size", type=int, default=None,
                       help="input side in pixels (default 224 real data, 32 stand-in)")
    group.add_argument("--synthetic-size", type=int, default=default_synthetic,
                       help="stand-in training images")


def group_task(args: argparse.Namespace, name: str,
               real: Callable[[int], dict[str, Dataset]],
               synthetic: Callable[[int, int, int], dict[str, Dataset]],
               settings: dict) -> ImageTask:
    """The :class:`ImageTask`: splits from ``real(size)`` or ``synthetic(n, seed, size)``,
    evaluated on ``val`` and ``test`` (groups from ``test``), transition on worst-group acc."""
    from nht_monitor.demos.common.image_data import subsample

    size = args.image_size or (32 if args.synthetic else 224)
    if args.synthetic:
        splits = synthetic(150 if args.quick else args.synthetic_size, args.seed, size)
    else:
        if args.data_root is None:
            raise ValueError("--data-root DIR or --synthetic is needed")
        splits = real(size)
    max_train = args.max_train or (256 if args.quick else None)
    max_eval = args.max_eval or (128 if args.quick else None)
    train = subsample(splits["train"], max_train, args.seed)
    evals = {k: subsample(splits[k], max_eval, args.seed) for k in ("val", "test")}
    model = args.model
    if model == "auto":
        model = "cnn6-small" if args.quick else ("resnet18" if not args.synthetic and size > 64
                                                 else "cnn6")
    return ImageTask(name=name, train_set=train, eval_sets=evals, group_set="test",
                     n_classes=2, stand_in=args.synthetic, model_name=model,
                     cifar_stem=size <= 64, transition_metric="worst_group_acc",
                     describe=f"{len(train)} train images at {size}px, model {model}",
                     settings={"image_size": size, **settings})
