"""``nht-monitor demo modular-arithmetic --tune``: a λ × lr grid as Ray Tune trials, each
watched by the monitor, hopeless ones stopped by
:class:`nht_monitor.integrations.ray_tune.NHTStopper`.

Every trial is :func:`trainable`: the demo's :func:`train_run` for one (λ, lr), which
reports the trial's validation accuracy and the monitor's state
(:func:`~nht_monitor.integrations.ray_tune.report_fields`) every ``report_every`` steps.
After the grid, the trials the stopper stopped are run again to their budget without it
(``--tune-baseline``: every trial), so the best final validation accuracy with the
stopper can be compared with the best when every trial runs its budget: the kept trials
ran to their budget already, and training does not depend on the stopper. Compute is
counted in optimizer steps, read from each trial's run log (its last step).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nht_monitor.demos.common.summary import format_table
from nht_monitor.demos.modular_arithmetic.config import ModArithConfig

DEFAULT_WEIGHT_DECAYS = (1e-3, 1e-2, 1e-1, 1.0, 3.0, 10.0)
"""λ of the default grid: weak (1e-3, 1e-2; 1e-1 at lr 3e-3), intermediate (1e-1 at lr
1e-2, 1, 3) and strong (10) at the default 1,500-step budget."""
DEFAULT_LRS = (3e-3, 1e-2)
REPORT_EVERY = 25
MONITOR_OPTIONS = {"assess_every": 10, "assess_interval": 0.0, "write_interval": 0.0}
"""The live engine assesses every 10 samples, however fast the trial runs; each sample is
written on the next step (so the trial sees every evaluation's val acc)."""

log = logging.getLogger(__name__)


class TrialOutcome(BaseModel):
    """One trial of the grid: its (λ, lr), the steps it ran (its run log's last step)
    of ``budget``, whether the stopper stopped it (``stop_step``, ``stop_rule``,
    ``stop_reason``), its regime and validation accuracy at its last report, its run log,
    and ``seconds``: the time Tune measured in the trial (``time_total_s``)."""

    weight_decay: float
    lr: float
    budget: int
    steps_run: int
    stopped: bool = False
    stop_step: int | None = None
    stop_rule: str | None = None
    stop_reason: str | None = None
    regime: str | None = None
    final_val_acc: float
    log_path: str | None = None
    seconds: float = math.nan


def trainable(config: dict[str, Any]) -> None:
    """One Tune trial: :func:`train_run` of ``config["cfg"]`` (a :class:`ModArithConfig`
    dict) at ``config["weight_decay"]``/``config["lr"]``; reports ``val_acc`` (the
    latest evaluation) and :func:`report_fields`'s fields every ``config["report_every"]``
    steps and at the end."""
    import torch
    from ray import tune

    from nht_monitor.demos.modular_arithmetic.train import train_run
    from nht_monitor.integrations.ray_tune import report_fields, trial_watch_options

    torch.set_num_threads(1)
    cfg = ModArithConfig(**config["cfg"]).model_copy(
        update={"weight_decay": config["weight_decay"], "lr": config["lr"]})
    options = trial_watch_options(config)
    run_id = f"{options.get('sweep', 'tune')}-wd{cfg.weight_decay:g}-lr{cfg.lr:g}"
    every = int(config.get("report_every", REPORT_EVERY))
    seen: dict[str, Any] = {"val_acc": math.nan}

    def progress(step: int, monitor: Any) -> None:
        seen["monitor"] = monitor
        sample = monitor.latest_sample  # written one step later (write_interval 0)
        if sample is not None and "val_acc" in sample.metrics:
            seen["val_acc"] = float(sample.metrics["val_acc"])
        if step % every == 0 and step < cfg.steps:
            tune.report({"val_acc": seen["val_acc"], "log_path": str(monitor.log_path),
                         **report_fields(monitor)})

    result = train_run(cfg.model_copy(update={"run_id": run_id}), progress=progress,
                       monitor_kwargs={**MONITOR_OPTIONS, "budget_steps": cfg.steps,
                                       "sweep": options.get("sweep")})
    final = report_fields(seen["monitor"]) if "monitor" in seen else {}
    tune.report({"val_acc": result.final_val_acc, "log_path": str(result.log_path), **final})


def run_grid(cfg: ModArithConfig, grid: Sequence[tuple[float, float]], *, name: str,
             storage: Path, stopper: Any = None,
             report_every: int = REPORT_EVERY) -> list[TrialOutcome]:
    """Run every (λ, lr) of ``grid`` as a Tune trial of experiment ``name`` (results
    under ``storage``), stopped by ``stopper`` (``None``: every trial runs its budget)."""
    from ray import tune

    space = {"cfg": cfg.model_dump(mode="json"), "report_every": report_every,
             "nht/sweep": name, "pair": tune.grid_search([list(p) for p in grid])}
    tuner = tune.Tuner(
        _with_pair(trainable), param_space=space,
        tune_config=tune.TuneConfig(max_concurrent_trials=2, reuse_actors=True),
        run_config=tune.RunConfig(name=name, storage_path=str(storage), stop=stopper,
                                  verbose=0, log_to_file=False))
    results = tuner.fit()
    return [_outcome(r, cfg.steps) for r in results]


def _with_pair(fn: Any) -> Any:
    def trial(config: dict[str, Any]) -> None:
        wd, lr = config["pair"]
        fn({**config, "weight_decay": float(wd), "lr": float(lr)})

    trial.__name__ = "modarith"
    return trial


def _outcome(result: Any, budget: int) -> TrialOutcome:
    """A trial's :class:`TrialOutcome` from its Tune result and its run log."""
    from nht_monitor.runlog import read_run

    if result.error is not None:
        raise RuntimeError(f"trial {result.config.get('pair')} failed: {result.error}")
    m = result.metrics or {}
    wd, lr = result.config["pair"]
    path = m.get("log_path")
    steps = m.get("nht/step") or 0
    if path and Path(path).exists():
        run = read_run(path)
        steps = run.samples[-1].step if run.samples else 0
    # a stop decided on the last report saves nothing: the trial ran its budget
    stopped = bool(m.get("nht/stop")) and steps < budget
    return TrialOutcome(
        weight_decay=float(wd), lr=float(lr), budget=budget, steps_run=int(steps),
        stopped=stopped, stop_step=m.get("nht/step") if stopped else None,
        stop_rule=m.get("nht/stop_rule") if stopped else None,
        stop_reason=m.get("nht/stop_reason") if stopped else None,
        regime=m.get("nht/regime"), final_val_acc=float(m.get("val_acc", math.nan)),
        log_path=path, seconds=float(m.get("time_total_s", math.nan)))


def best(outcomes: Sequence[TrialOutcome]) -> TrialOutcome:
    """The trial with the highest final validation accuracy (NaN last)."""
    return max(outcomes, key=lambda o: -1.0 if math.isnan(o.final_val_acc)
               else o.final_val_acc)


def saved_fraction(outcomes: Sequence[TrialOutcome]) -> tuple[int, int, float]:
    """``(steps run, steps if every trial ran its budget, fraction saved)``."""
    run = sum(o.steps_run for o in outcomes)
    full = sum(o.budget for o in outcomes)
    return run, full, 1.0 - run / full if full else 0.0


COLUMNS = [("weight_decay", "λ"), ("lr", "lr"), ("regime", "regime"),
           ("ran", "steps run / budget"), ("stop_rule", "stopped by"),
           ("final_val_acc", "val acc"), ("reference_val_acc", "val acc at budget")]


def summary(outcomes: Sequence[TrialOutcome], reference: dict[tuple[float, float], float],
            wall: float, reference_wall: float, reference_what: str,
            reference_seconds: float | None = None) -> str:
    """The trial table, the stop reasons, compute saved, and the best trial both ways."""
    rows = []
    for o in outcomes:
        row = o.model_dump()
        row["ran"] = f"{o.steps_run} / {o.budget}"
        row["reference_val_acc"] = reference.get((o.weight_decay, o.lr))
        rows.append(row)
    lines = [format_table(rows, COLUMNS), ""]
    stopped = [o for o in outcomes if o.stopped]
    lines.append(f"stopped {len(stopped)} of {len(outcomes)} trials:")
    lines += [f"  λ={o.weight_decay:g} lr={o.lr:g}: at step {o.stop_step} of {o.budget} "
              f"({o.stop_rule}): {o.stop_reason}" for o in stopped]
    run, full, saved = saved_fraction(outcomes)
    lines.append(f"compute: {run:,} of {full:,} trial-steps run: {saved:.1%} saved")
    seconds = sum(o.seconds for o in outcomes)
    if reference_seconds:
        lines.append(f"trial time (Tune's time_total_s, summed): {seconds:.0f} s with the "
                     f"stopper, {reference_seconds:.0f} s with every trial to its budget: "
                     f"{1 - seconds / reference_seconds:.1%} saved")
    mine = best(outcomes)
    ref = max(reference.values()) if reference else math.nan
    ref_pair = max(reference, key=reference.get) if reference else None
    same = (not math.isnan(ref)) and math.isclose(mine.final_val_acc, ref, abs_tol=1e-9)
    lines.append(f"best trial with the stopper: λ={mine.weight_decay:g} lr={mine.lr:g}, final "
                 f"val acc {mine.final_val_acc:.4f}; every trial to its budget "
                 f"({reference_what}): "
                 + (f"λ={ref_pair[0]:g} lr={ref_pair[1]:g}, {ref:.4f}" if ref_pair else "n/a")
                 + f" → {'unchanged' if same else 'CHANGED'}")
    lines.append(f"wall time: grid with the stopper {wall:.0f} s, reference {reference_wall:.0f}"
                 f" s; load average {_load()}")
    return "\n".join(lines)


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


class _StopLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith("nht-monitor: stop")


def _show_stops() -> logging.Handler:
    """Print the stopper's stop decisions as they happen."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_StopLines())
    target = logging.getLogger("nht_monitor.integrations.ray_tune")
    target.addHandler(handler)
    target.setLevel(logging.INFO)
    target.propagate = False
    return handler


def _hide_stops(handler: logging.Handler) -> None:
    target = logging.getLogger("nht_monitor.integrations.ray_tune")
    target.removeHandler(handler)
    target.setLevel(logging.NOTSET)
    target.propagate = True


def run_tune_demo(args: argparse.Namespace, cfg: ModArithConfig) -> int:
    """The ``--tune`` demo: the grid with the stopper, the reference, the summary."""
    from nht_monitor._extras import require_extra

    require_extra("ray", "ray")
    import ray

    from nht_monitor.integrations.ray_tune import NHTStopper

    if args.tune_report_every < 1:
        raise ValueError(f"--tune-report-every must be >= 1, got {args.tune_report_every}")
    wds = (list(args.sweep) if args.sweep else [args.weight_decay]
           if args.weight_decay is not None else list(DEFAULT_WEIGHT_DECAYS))
    lrs = list(args.tune_lrs) if args.tune_lrs else list(DEFAULT_LRS)
    grid = [(w, lr) for lr in lrs for w in wds]
    cfg = cfg.resolved().model_copy(update={"log_dir": Path(cfg.log_dir).resolve(),
                                            "device": "cpu"})
    storage = Path(cfg.log_dir) / "ray"
    name = f"modarith-tune-{time.strftime('%Y%m%d-%H%M%S')}"
    print(f"modular arithmetic on Ray Tune: {len(grid)} trials, λ = "
          f"{', '.join(f'{w:g}' for w in wds)} × lr = {', '.join(f'{x:g}' for x in lrs)}, "
          f"budget {cfg.steps} steps each, 2 CPUs; sweep {name}", flush=True)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    handler = _show_stops()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        started = time.perf_counter()
        outcomes = run_grid(cfg, grid, name=name, storage=storage,
                            stopper=NHTStopper(), report_every=args.tune_report_every)
        wall = time.perf_counter() - started
        again = grid if args.tune_baseline else [
            (o.weight_decay, o.lr) for o in outcomes if o.stopped]
        kept = [o for o in outcomes if not o.stopped and not args.tune_baseline]
        reference = {(o.weight_decay, o.lr): o.final_val_acc for o in kept}
        reference_seconds = sum(o.seconds for o in kept)
        started = time.perf_counter()
        if again:
            print(f"reference: running {len(again)} trial(s) to their budget without the "
                  "stopper", flush=True)
            for o in run_grid(cfg, again, name=f"{name}-reference", storage=storage,
                              report_every=args.tune_report_every):
                reference[(o.weight_decay, o.lr)] = o.final_val_acc
                reference_seconds += o.seconds
        reference_wall = time.perf_counter() - started
    finally:
        ray.shutdown()
        _hide_stops(handler)
    what = ("all trials re-run" if args.tune_baseline
            else "kept trials as run, stopped ones re-run")
    print(summary(outcomes, reference, wall, reference_wall, what, reference_seconds))
    print(f"run logs: {cfg.log_dir}; Tune results: {storage}")
    return 0
