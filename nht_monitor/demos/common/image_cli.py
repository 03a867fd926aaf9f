"""The run-and-summarise part shared by the three image demos' CLIs.

A demo's ``run(args)`` builds its datasets (:class:`ImageTask`) and hands over to
:func:`run_image_demo`, which trains one monitored run per λ, shows the progress bar
and prints the summary table (regime, forecast vs actual transition, accuracies,
norms, the CNS verdict).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nht_monitor.demos.common import cli as common
from nht_monitor.demos.common.summary import fmt, forecast_text, format_table

if TYPE_CHECKING:  # torch: imported by run_image_demo, not by the option definitions
    from torch.utils.data import Dataset

    from nht_monitor.demos.common.image_train import ImageRunResult


@dataclass
class ImageTask:
    """What a demo hands to :func:`run_image_demo`.

    ``stand_in``: True for ``--synthetic`` data (printed in the banner and the table
    title, recorded in the run log header). ``model_name`` for
    :func:`nht_monitor.demos.common.image_models.build_image_model`; ``transition_metric``: the
    accuracy whose rise marks the transition.
    """

    name: str
    train_set: Dataset
    eval_sets: dict[str, Dataset]
    group_set: str
    n_classes: int
    stand_in: bool
    model_name: str
    cifar_stem: bool
    transition_metric: str
    describe: str
    settings: dict = field(default_factory=dict)


def add_image_options(parser: argparse.ArgumentParser, *, default_weight_decay: float,
                      default_epochs: int, default_model: str, models: list[str]) -> None:
    """Common demo options plus model, batch size, evaluation cadence, weights file."""
    common.add_common_options(parser, default_weight_decay=default_weight_decay, default_lr=1e-3,
                              duration="epochs", default_duration=default_epochs, image=True)
    group = parser.add_argument_group("image training")
    group.add_argument("--model", choices=models, default=default_model,
                       help=f"network (default {default_model}; cnn6-small for --quick)")
    group.add_argument("--batch-size", type=int, default=128)
    group.add_argument("--eval-every", type=int, default=None,
                       help="evaluate every N steps (default: ~25 evaluations per run)")
    group.add_argument("--num-workers", type=int, default=None,
                       help="data-loader workers (default 4 on CUDA, 0 on CPU)")
    group.add_argument("--weights", type=Path, default=None,
                       help="local state-dict file to initialise a ResNet from "
                            "(default: random init, weights=None)")
    group.add_argument("--max-train", type=int, default=None,
                       help="use at most N training images (seeded subset)")
    group.add_argument("--max-eval", type=int, default=None,
                       help="use at most N images per evaluation set")


COLUMNS = [("weight_decay", "λ"), ("regime", "regime"), ("confidence", "conf"),
           ("peak", "peak norm @step"), ("final_norm", "final norm"),
           ("final_head_norm", "head norm"), ("train_acc", "train acc"), ("val_acc", "val acc"),
           ("clean_acc", "clean acc"), ("worst_group_acc", "worst grp"),
           ("cns", "CNS holds"), ("transition_step", "transition"),
           ("forecast", "forecast @made (err)")]


def result_row(r: ImageRunResult) -> dict:
    """One summary-table row."""
    row = r.model_dump()
    row.update(r.metrics)
    row["peak"] = f"{fmt(r.peak_norm)} @{r.peak_step}"
    row["forecast"] = forecast_text(r.forecast_step, r.forecast_made_at, r.transition_step)
    cns = r.cns or {}
    row["cns"] = cns.get("holds")
    if row["cns"] is None and cns:
        row["cns"] = "undecided"
    return row


def summary(task: ImageTask, results: list[ImageRunResult], wall: float) -> str:
    """The table, the CNS details and where the logs are."""
    title = f"{task.name} — " + ("STAND-IN data (synthetic, not the real dataset)"
                                  if task.stand_in else "real data")
    lines = [title, format_table([result_row(r) for r in results], COLUMNS)]
    group_keys = sorted({k for r in results for k in r.metrics if k.startswith("acc_")})
    if group_keys:
        lines.append("group accuracies: " + "; ".join(
            f"λ={r.weight_decay:g}: " + ", ".join(f"{k[4:]} {fmt(r.metrics.get(k))}"
                                                  for k in group_keys) for r in results))
    for r in results:
        cns = r.cns or {}
        lines.append(f"CNS λ={r.weight_decay:g}: holds={cns.get('holds')} "
                     f"v_sc={fmt(cns.get('v_sc'))} v_st={fmt(cns.get('v_st'))} "
                     f"ratio={fmt(cns.get('ratio'))} separation={fmt(cns.get('separation'))}")
    lines.append(f"transition: first evaluation at which {task.transition_metric} (the image "
                 "demos' tracked accuracy) reached 90% of its rise (a rise >= 0.1), the "
                 "first-reached rule of docs/FORECAST.md; forecast: the monitor's last "
                 "forecast before it.")
    lines.append(f"wall time {wall:.1f} s; run logs: "
                 + ", ".join(str(r.log_path) for r in results))
    return "\n".join(lines)


def run_image_demo(args: argparse.Namespace, task: ImageTask,
                   run_prefix: str) -> list[ImageRunResult]:
    """Train one monitored run per λ of ``args`` on ``task``; print and return the results."""
    from nht_monitor.demos.common.image_models import build_image_model
    from nht_monitor.demos.common.image_train import ImageTrainConfig, train_image_run
    from nht_monitor.demos.common.progress import DemoProgress

    wds, _sweep = common.weight_decays(args)
    epochs = common.duration(args)
    batch_size = min(args.batch_size, 32) if args.quick else args.batch_size
    print(f"{task.name}: {task.describe}", flush=True)
    if task.stand_in:
        print("  (STAND-IN data: procedurally drawn, not the real dataset)", flush=True)
    started = time.perf_counter()
    results = []
    for wd in wds:
        model, head = build_image_model(task.model_name, task.n_classes,
                                        cifar_stem=task.cifar_stem, weights=args.weights)
        cfg = ImageTrainConfig(
            lr=args.lr, weight_decay=wd, epochs=epochs, batch_size=batch_size,
            seed=args.seed, device=args.device, log_dir=args.log_dir,
            run_id=f"{run_prefix}-{task.model_name}-wd{wd:g}-s{args.seed}",
            prometheus_port=args.prometheus_port, prometheus_host=args.prometheus_host,
            eval_every=args.eval_every,
            num_workers=args.num_workers, transition_metric=task.transition_metric,
            demo_config={"name": task.name, "stand_in": task.stand_in, "model": task.model_name,
                         "epochs": epochs, "batch_size": batch_size, "lr": args.lr,
                         "weight_decay": wd, "seed": args.seed, **task.settings})
        bar = DemoProgress(0, f"λ={wd:g}", disable=args.no_progress)

        def progress(step: int, total: int, monitor, bar=bar) -> None:
            bar.bar.total = total
            bar.announce(monitor)
            bar.update(step, monitor.latest_assessment)

        try:
            results.append(train_image_run(cfg, model, head, task.train_set, task.eval_sets,
                                           task.group_set, progress=progress))
        finally:
            bar.close()
    print(summary(task, results, time.perf_counter() - started))
    return results
