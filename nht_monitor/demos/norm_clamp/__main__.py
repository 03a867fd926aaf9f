"""``python -m nht_monitor.demos.norm_clamp [study options]`` or ``python -m nht_monitor.demos.norm_clamp advice``.

Study: prints one line per run and the fits (log grok step vs ρ, with and without
LayerNorm); ``--json FILE`` writes the whole :class:`ClampStudy`.
Advice: the sweep → weak run → advised-λ → fresh-run check
(:mod:`nht_monitor.demos.norm_clamp.advice_check`).
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

import torch


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x.strip())


def _machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch "
            f"threads, torch {torch.__version__}")


def _study(args: argparse.Namespace) -> int:
    from nht_monitor.demos.norm_clamp.study import ClampStudyConfig, run_study

    cfg = ClampStudyConfig(p=args.p, steps=args.steps, rhos=args.rhos, seed=args.seed,
                           lr=args.lr, weight_decay=args.weight_decay,
                           layernorm=not args.no_layernorm, log_dir=args.log_dir,
                           width=args.width, embed_dim=args.embed_dim,
                           train_fraction=args.train_fraction, eval_every=args.eval_every,
                           workers=args.workers, threads=args.threads,
                           layernorm_free_run=args.layernorm_free_run,
                           clamp_params=("weights" if args.clamp_params == "weights"
                                         else args.clamp_params.split(",")))
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    study = run_study(cfg)
    print(f"\nnorm-clamp study, {_machine()}, {study.wall_time_s:.0f} s")
    print(f"{'model':10} {'rho':>5} {'target':>8} {'grok step':>10} {'regime':>10} "
          f"{'header':>7}")
    for series in (study.plain, study.with_layernorm):
        if series is None:
            continue
        name = "layernorm" if series.layernorm else "plain"
        if series.free is not None:
            print(f"{name:10} {'free':>5} {'-':>8} {str(series.free.grok_step):>10} "
                  f"{str(series.free.regime):>10} {'-':>7}   W_c = {series.w_c}")
        for p in series.clamped:
            print(f"{name:10} {p.rho:5.2f} {p.target:8.2f} {str(p.grok_step):>10} "
                  f"{str(p.regime):>10} {str(p.clamped_in_header):>7}")
        fit = series.fit
        if fit is None:
            print(f"{name}: fewer than 3 clamped runs grokked, no fit")
        else:
            print(f"{name}: log T = {fit.intercept:.3f} + {fit.slope:.3f}·ρ "
                  f"(±{fit.slope_stderr:.3f}), R² = {fit.r_squared:.3f}, n = {fit.n}, "
                  f"delay ×{fit.fold_range:.2f} over the ρ range, censored {fit.censored}")
    if args.json:
        Path(args.json).write_text(study.model_dump_json(indent=2))
    return 0


def _advice(args: argparse.Namespace) -> int:
    from nht_monitor.demos.norm_clamp.advice_check import AdviceCheckConfig, check_advice

    cfg = AdviceCheckConfig(p=args.p, lr=args.lr, train_fraction=args.train_fraction,
                            calibration_steps=args.calibration_steps,
                            budgets=args.budget_steps, seed=args.seed, log_dir=args.log_dir)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    check = check_advice(cfg)
    print(f"\nadvice check, {_machine()}, {check.wall_time_s:.0f} s:")
    for case in check.cases:
        reached = case.reached(cfg.seed)
        verdict = ("no λ advised" if reached is None else
                   "inside the budget" if reached else "NOT inside the budget")
        print(f"budget {case.budget_steps}: {case.target_regime} run → λ "
              f"{case.advised_weight_decay} → transition "
              f"{case.advised_transition.get(cfg.seed)}: {verdict}")
    if args.json:
        Path(args.json).write_text(check.model_dump_json(indent=2))
    return 0 if all(c.reached(cfg.seed) for c in check.cases) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nht_monitor.demos.norm_clamp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what")
    study = sub.add_parser("study", help="clamp sweep and exponential fit (default)")
    advice = sub.add_parser("advice", help="validate the λ advice on a weak run")
    for p in (parser, study):
        p.add_argument("--rhos", type=_floats, default=(0.8, 0.9, 1.0, 1.1, 1.2),
                       help="clamp targets as multiples of W_c (comma list)")
        p.add_argument("--steps", type=int, default=4000)
        p.add_argument("--workers", type=int, default=1, help="clamped runs in parallel")
        p.add_argument("--clamp-params", default="weights",
                       help="'weights' or comma list of names the clamp holds, e.g. embed,fc1.weight")
        p.add_argument("--layernorm-free-run", action="store_true",
                       help="also a free (unclamped) LayerNorm run")
        p.add_argument("--weight-decay", type=float, default=1.0)
        p.add_argument("--no-layernorm", action="store_true", help="skip the LayerNorm series")
        p.add_argument("--width", type=int, default=64)
        p.add_argument("--embed-dim", type=int, default=32)
        p.add_argument("--train-fraction", type=float, default=0.5)
        p.add_argument("--eval-every", type=int, default=10)
    for p in (parser, study, advice):
        p.add_argument("--p", type=int, default=47)
        p.add_argument("--lr", type=float, default=1e-2)
        p.add_argument("--threads", type=int, default=None, help="torch threads per run")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--json", default=None, help="write the result as JSON here")
    for p in (parser, study):
        p.add_argument("--log-dir", type=Path, default=Path("runs/norm_clamp"))
    advice.add_argument("--log-dir", type=Path, default=Path("runs/advice_check"))
    advice.add_argument("--train-fraction", type=float, default=0.8)
    advice.add_argument("--calibration-steps", type=int, default=1500,
                        help="steps of the calibration sweep (ηλ 1e-4 … 1e-1)")
    advice.add_argument("--budget-steps", type=lambda t: tuple(int(x) for x in t.split(",")),
                        default=(600, 1200), help="budgets to advise for (comma list)")
    advice.set_defaults(p=59)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return _advice(args) if args.what == "advice" else _study(args)


if __name__ == "__main__":
    sys.exit(main())
