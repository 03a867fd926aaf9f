"""``nht-monitor demo modular-arithmetic`` / ``python -m nht_monitor.demos.modular_arithmetic``.

Without ``--weight-decay``/``--sweep`` it runs the sweep :data:`DEFAULT_SWEEP`
(λ = 0.01, 0.1, 0.15, 0.2, 0.3, 10; one batched model) and ends with the regime table and
the delay-law fit. ``--tune`` runs a λ × lr grid as Ray Tune trials with the
nht-monitor stopper instead (``nht_monitor.demos.modular_arithmetic.tune``).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from nht_monitor.demos.common import cli as common
from nht_monitor.demos.common.summary import fmt, forecast_text, format_table

if TYPE_CHECKING:
    from nht_monitor.demos.modular_arithmetic.config import ModArithConfig
    from nht_monitor.demos.modular_arithmetic.result import RunResult

DESCRIPTION = ("Grokking (a∘b) mod p with an embedding MLP under full-batch AdamW: weak, "
               "intermediate and strong weight-decay regimes, transition forecast, delay law.")
DEFAULT_SWEEP = (0.01, 0.1, 0.15, 0.2, 0.3, 10.0)
"""λ of the default run: weak (0.01), intermediate with delays shrinking as 1/λ
(0.1–0.3), strong (10) at the default lr 1e-2."""
COLUMNS = [("weight_decay", "λ"), ("regime", "regime"), ("confidence", "conf"),
           ("peak", "peak norm @step"), ("final_norm", "final norm"),
           ("final_head_norm", "head norm"), ("final_train_acc", "train acc"),
           ("final_val_acc", "val acc"), ("grok_step", "grok step"),
           ("first_forecast", "first forecast @made (err)"),
           ("forecast", "last forecast @made (err)")]
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Common demo options plus the task/model knobs, defaults from :class:`ModArithConfig`
    (imports no torch)."""
    from nht_monitor.demos.modular_arithmetic.config import OPS, ModArithConfig
    from nht_monitor.demos.modular_arithmetic.tune import (
        DEFAULT_LRS, DEFAULT_WEIGHT_DECAYS, REPORT_EVERY)

    d = {name: field.default for name, field in ModArithConfig.model_fields.items()}
    common.add_common_options(parser, default_weight_decay=d["weight_decay"],
                              default_lr=d["lr"], duration="steps",
                              default_duration=d["steps"], image=False)
    group = parser.add_argument_group("modular arithmetic")
    group.add_argument("--p", type=int, default=d["p"], help="prime modulus")
    group.add_argument("--op", choices=OPS, default=d["op"])
    group.add_argument("--train-fraction", type=float, default=d["train_fraction"])
    group.add_argument("--model", choices=["mlp", "transformer"], default=d["model"])
    group.add_argument("--width", type=int, default=d["width"])
    group.add_argument("--embed-dim", type=int, default=d["embed_dim"])
    group.add_argument("--init-scale", type=float, default=d["init_scale"])
    group.add_argument("--layernorm", action="store_true")
    group.add_argument("--eval-every", type=int, default=d["eval_every"])
    group.add_argument("--sequential", action="store_true",
                       help="run a sweep λ by λ with watch() instead of one batched model "
                            "(implied by --prometheus-port)")
    tune = parser.add_argument_group(
        "Ray Tune (pip install 'nht-monitor[ray]')",
        "--tune runs a λ × lr grid as Ray Tune trials on this machine (2 CPUs), stops "
        "hopeless trials from their live assessment, and reports the compute saved and "
        "whether the best trial's final val acc changed")
    tune.add_argument("--tune", action="store_true",
                      help="run the grid (λ from --sweep or --weight-decay, default "
                           f"{','.join(f'{w:g}' for w in DEFAULT_WEIGHT_DECAYS)}) on Ray "
                           "Tune with the nht-monitor stopper; the budget is --steps")
    tune.add_argument("--tune-lrs", type=common.float_list, default=None, metavar="X,Y",
                      help="learning rates of the grid (default "
                           f"{','.join(f'{x:g}' for x in DEFAULT_LRS)})")
    tune.add_argument("--tune-baseline", action="store_true",
                      help="for the reference, re-run every trial to its budget (default: "
                           "only the stopped ones; the kept ones ran their budget already)")
    tune.add_argument("--tune-report-every", type=int, default=REPORT_EVERY, metavar="N",
                      help=f"steps between two reports of a trial to Tune (default "
                           f"{REPORT_EVERY})")


def config_from_args(args: argparse.Namespace, weight_decay: float) -> ModArithConfig:
    """The :class:`ModArithConfig` the options describe, for one λ."""
    from nht_monitor.demos.modular_arithmetic.config import ModArithConfig

    return ModArithConfig(
        p=args.p, op=args.op, train_fraction=args.train_fraction, model=args.model,
        width=args.width, embed_dim=args.embed_dim, init_scale=args.init_scale,
        layernorm=args.layernorm,
        lr=args.lr, weight_decay=weight_decay, steps=common.duration(args), seed=args.seed,
        device=args.device, log_dir=args.log_dir, eval_every=args.eval_every,
        prometheus_port=args.prometheus_port, prometheus_host=args.prometheus_host,
        quick=args.quick)


def result_row(r: RunResult) -> dict:
    """One summary-table row."""
    row = r.model_dump()
    row["peak"] = f"{fmt(r.peak_norm)} @{r.peak_step}"
    row["forecast"] = forecast_text(r.forecast_step, r.forecast_made_at, r.grok_step)
    row["first_forecast"] = forecast_text(r.first_forecast_step, r.first_forecast_made_at,
                                          r.grok_step)
    return row


def summary(results: list[RunResult], wall: float, sweep: bool) -> str:
    """The regime table, and for a sweep the delay-law fit."""
    from nht_monitor.analysis.transition import DEFINITION

    lines = [format_table([result_row(r) for r in results], COLUMNS)]
    lines.append(f"{DEFINITION}, as `nht-monitor backtest` finds it (docs/FORECAST.md); "
                 "forecasts: the monitor's first and last forecast issued before it (step "
                 "it was made at, error vs the grok step).")
    if sweep:
        from nht_monitor.demos.modular_arithmetic.delay_law import fit_delay_law

        fit = fit_delay_law(results)
        if fit is None:
            lines.append("delay law: fewer than 3 λ grokked within the budget — no fit.")
        else:
            lines.append(f"delay law: grok step = {fit.slope:.2f}·1/(ηλ) + {fit.intercept:.0f}"
                         f"  R² = {fit.r_squared:.3f}  (n = {fit.n}"
                         + (f", not grokked: λ = {', '.join(f'{w:g}' for w in fit.excluded)})"
                            if fit.excluded else ")"))
    lines.append(f"wall time {wall:.1f} s; run logs: "
                 + ", ".join(str(r.log_path) for r in results))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Train the run(s), print the summary; exit code 0."""
    from nht_monitor.demos.common.progress import DemoProgress
    from nht_monitor.demos.modular_arithmetic.sweep import train_sweep
    from nht_monitor.demos.modular_arithmetic.train import train_run

    common.apply_threads(args)
    if getattr(args, "tune", False):
        from nht_monitor.demos.modular_arithmetic.tune import run_tune_demo

        return run_tune_demo(args, config_from_args(args, args._default_weight_decay))
    wds, sweep = common.weight_decays(args)
    if args.weight_decay is None and not args.sweep:
        wds, sweep = list(DEFAULT_SWEEP), True
    base = config_from_args(args, wds[0])
    steps = base.resolved().steps
    started = time.perf_counter()
    if sweep and not (args.sequential or args.prometheus_port is not None):
        print(f"modular arithmetic: batched sweep over λ = {', '.join(f'{w:g}' for w in wds)} "
              f"({steps} steps, lr {args.lr:g})", flush=True)
        bar = DemoProgress(steps, "sweep", disable=args.no_progress)
        try:
            results = train_sweep(base, wds, progress=lambda step, logs: bar.update_many(
                step, {f"{w:g}": log.latest_assessment for w, log in zip(wds, logs)}))
        finally:
            bar.close()
    else:
        results = []
        for wd in wds:
            cfg = base.model_copy(update={"weight_decay": wd})
            bar = DemoProgress(steps, f"λ={wd:g}", disable=args.no_progress)
            try:
                def progress(step, mon, bar=bar):
                    bar.announce(mon)
                    bar.update(step, mon.latest_assessment)

                results.append(train_run(cfg, progress=progress))
            finally:
                bar.close()
    print(summary(results, time.perf_counter() - started, sweep))
    return 0
