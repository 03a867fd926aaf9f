"""Speed of a batched λ sweep against the same runs one after another.

``python benchmarks/sweep_batched.py [--steps N] [--lambdas K] [--threads T]``
trains K runs of N steps both ways (each with its run log and live assessment) on the
default task and prints both wall times and their ratio, measured side by side.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from nht_monitor.demos.modular_arithmetic.config import ModArithConfig
from nht_monitor.demos.modular_arithmetic.sweep import train_sweep
from nht_monitor.demos.modular_arithmetic.train import train_run


def measure(steps: int, k: int, device: str = "cpu", **overrides) -> dict[str, float]:
    """Wall seconds of the sequential and the batched sweep, and the speed-up."""
    weight_decays = [0.1 * 1.5 ** i for i in range(k)]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ModArithConfig(steps=steps, device=device, log_dir=Path(tmp) / "seq", **overrides)
        train_run(cfg.model_copy(update={"steps": 2, "run_id": "warmup"}))
        started = time.perf_counter()
        for wd in weight_decays:
            train_run(cfg.model_copy(update={"weight_decay": wd}))
        sequential = time.perf_counter() - started
        started = time.perf_counter()
        train_sweep(cfg.model_copy(update={"log_dir": Path(tmp) / "batched"}), weight_decays)
        batched = time.perf_counter() - started
    return {"sequential_s": sequential, "batched_s": batched, "speedup": sequential / batched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lambdas", type=int, default=12)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    defaults = ModArithConfig()
    parser.add_argument("--p", type=int, default=defaults.p)
    parser.add_argument("--width", type=int, default=defaults.width)
    parser.add_argument("--embed-dim", type=int, default=defaults.embed_dim)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    r = measure(args.steps, args.lambdas, args.device, p=args.p, width=args.width,
                embed_dim=args.embed_dim)
    print(f"{args.lambdas} λ × {args.steps} steps, p={args.p}, width={args.width}, "
          f"embed {args.embed_dim}, {torch.get_num_threads()} thread(s), device {args.device}: "
          f"sequential {r['sequential_s']:.1f} s, batched {r['batched_s']:.1f} s, "
          f"speed-up {r['speedup']:.2f}×")


if __name__ == "__main__":
    main()
