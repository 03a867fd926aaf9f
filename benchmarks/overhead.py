"""Per-step cost of watching a run, measured side by side in one process.

Trains a small MLP and a small CNN (>= 1M parameters) and times, interleaved in
rounds so that machine noise hits every variant alike:

* ``bare``   — the plain training step;
* ``naive``  — the step plus a per-tensor ``p.norm().item()`` loop over weights and
  grads (what people write by hand);
* ``nht``    — the step watched by ``nht_monitor.watch(every=1)`` (live assessment on);
* ``every=10`` — the same with ``watch(every=10)``.

Prints the median per-step time of each and the overhead relative to ``bare``, on CPU
and, when present, on CUDA. Usage: ``python benchmarks/overhead.py [--rounds 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from torch import nn

import nht_monitor


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(128 * 4 * 4, 512), nn.ReLU(), nn.Linear(512, 10))


def make_batch(kind: str, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(64, 256) if kind == "mlp" else torch.randn(32, 3, 32, 32)
    return x.to(device), torch.randint(0, 10, (x.shape[0],), device=device)


def naive_norms(model: nn.Module) -> list[float]:
    out = [p.norm().item() for p in model.parameters()]
    out += [p.grad.norm().item() for p in model.parameters() if p.grad is not None]
    return out


def run_block(model, optimizer, batch, steps: int, mode: str, device) -> float:
    x, y = batch
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if mode == "naive":
            naive_norms(model)
        optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def measure(kind: str, device: torch.device, rounds: int, steps: int) -> dict[str, float]:
    torch.manual_seed(0)
    model = (mlp() if kind == "mlp" else cnn()).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    batch = make_batch(kind, device)
    times: dict[str, list[float]] = {"bare": [], "naive": [], "nht": [], "nht10": []}
    with tempfile.TemporaryDirectory() as log_dir:
        run_block(model, optimizer, batch, steps, "bare", device)  # warm-up
        for r in range(rounds):
            for mode in ("bare", "naive", "nht", "nht10"):
                monitor = None
                if mode.startswith("nht"):
                    every = 10 if mode == "nht10" else 1
                    monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir,
                                                run_id=f"{kind}-{device.type}-{r}-e{every}",
                                                every=every)
                times[mode].append(run_block(model, optimizer, batch, steps, mode, device))
                if monitor is not None:
                    monitor.close()
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    print(f"{kind:>4} on {device.type:<4} {n_params / 1e6:5.2f}M params  "
          f"bare {medians['bare'] * 1e3:8.3f} ms/step  "
          f"naive {medians['naive'] * 1e3:8.3f} ms ({100 * (medians['naive'] / medians['bare'] - 1):+6.1f}%)  "
          f"nht every=1 {medians['nht'] * 1e3:8.3f} ms ({100 * (medians['nht'] / medians['bare'] - 1):+6.1f}%)  "
          f"every=10 {medians['nht10'] * 1e3:8.3f} ms ({100 * (medians['nht10'] / medians['bare'] - 1):+6.1f}%)",
          flush=True)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=30, help="steps per timed block")
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, devices "
          f"{', '.join(d.type for d in devices)}; median of {args.rounds} interleaved rounds "
          f"of {args.steps} steps")
    for device in devices:
        for kind in ("mlp", "cnn"):
            measure(kind, device, args.rounds, args.steps)


if __name__ == "__main__":
    main()
