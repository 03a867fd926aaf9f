"""Per-step cost of watching a run, measured side by side in one process.

Trains a small MLP and a small CNN (>= 1M parameters) and times, interleaved in
rounds (each round runs every variant once, in a shuffled order, so that machine
noise hits every variant alike):

* ``bare``   — the plain training step;
* ``naive``  — the step plus a per-tensor ``p.norm().item()`` loop over weights and
  grads (what people write by hand);
* ``nht``    — the step watched by ``nht_monitor.watch(every=1)`` (live assessment on);
* ``every=10`` — the same with ``watch(every=10)``;
* ``no grads`` — ``watch(every=1, grads=False)``: weight norms only.

Prints per variant the median per-step time, its overhead relative to ``bare`` as
the ratio of medians and as the median of the per-round paired ratios (with the
interquartile range of those), and for the monitor the time spent inside its
optimizer hook per step (bracketed by two marker hooks registered around it in every
variant): the cost it adds to the loop measured directly, which shared-machine noise
disturbs far less than a difference of two loop times. On CPU and, when present,
on CUDA. Usage: ``python benchmarks/overhead.py [--rounds 15] [--steps 20]``.
"""

from __future__ import annotations

import argparse
import random
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


class HookClock:
    """Two optimizer post-hooks, one registered before the monitor's and one after:
    the time between them is the time spent in the monitor's hook."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def start(self, *_args) -> None:
        self._start = time.perf_counter()

    def stop(self, *_args) -> None:
        self.total += time.perf_counter() - self._start


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


MODES = ("bare", "naive", "nht", "nht10", "nhtw")


def measure(kind: str, device: torch.device, rounds: int, steps: int) -> dict[str, float]:
    """One model and optimizer for every variant (identical copies of a model differ in
    speed by a few % from where their memory happens to lie). Each watched variant has
    its monitor from the start, as in a real run, so its start-up is not timed; its
    hook is attached to the optimizer only during that variant's blocks. Blocks of
    ``steps`` steps of every variant are interleaved in shuffled order per round."""
    torch.manual_seed(0)
    model = (mlp() if kind == "mlp" else cnn()).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    batch = make_batch(kind, device)
    clock = HookClock()
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    in_hook: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as log_dir:
        monitors = {}
        for mode in MODES:
            if mode.startswith("nht"):
                monitor = nht_monitor.watch(
                    model, optimizer, log_dir=log_dir, run_id=f"{kind}-{device.type}-{mode}",
                    every=10 if mode == "nht10" else 1, grads=mode != "nhtw")
                monitor._hook.remove()  # attached below, only during its own blocks
                # its loop "stalls" while other variants run: keep the idle flusher from
                # doing the hook's work then, outside the timed hook
                monitor._flusher.stop()
                monitors[mode] = monitor

        def block(mode: str) -> float:
            hooks = [optimizer.register_step_post_hook(clock.start)]
            if mode in monitors:
                hooks.append(optimizer.register_step_post_hook(monitors[mode]._on_step))
            hooks.append(optimizer.register_step_post_hook(clock.stop))
            clock.total = 0.0
            try:
                return run_block(model, optimizer, batch, steps, mode, device)
            finally:
                for hook in hooks:
                    hook.remove()

        for mode in MODES:  # warm-up, and every monitor's first samples
            block(mode)
        shuffle = random.Random(0)
        for _ in range(rounds):
            order = list(MODES)
            shuffle.shuffle(order)
            for mode in order:
                times[mode].append(block(mode))
                in_hook[mode].append(clock.total / steps)
        for monitor in monitors.values():
            monitor.close()
    bare = statistics.median(times["bare"])
    parts = [f"{kind:>4} on {device.type:<4} {n_params / 1e6:5.2f}M params  bare "
             f"{bare * 1e3:7.3f} ms/step"]
    for mode, label in (("naive", "naive"), ("nht", "nht every=1"), ("nht10", "every=10"),
                        ("nhtw", "no grads")):
        med = statistics.median(times[mode])
        paired = [100 * (t / b - 1) for t, b in zip(times[mode], times["bare"])]
        q1, _, q3 = statistics.quantiles(paired, n=4) if len(paired) > 1 else (paired * 3)
        text = (f"  {label} {med * 1e3:7.3f} ms ({100 * (med / bare - 1):+5.1f}%, paired "
                f"{statistics.median(paired):+5.1f}% [{q1:+.1f}, {q3:+.1f}])")
        if mode.startswith("nht"):
            hook = statistics.median(in_hook[mode]) - statistics.median(in_hook["bare"])
            text += f" in hook {hook * 1e3:.3f} ms = {100 * hook / bare:.1f}%"
        parts.append(text)
    print("\n".join(parts), flush=True)
    return {mode: statistics.median(values) for mode, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, devices "
          f"{', '.join(d.type for d in devices)}; median of {args.rounds} interleaved rounds "
          f"of {args.steps} steps; paired = median [IQR] of per-round ratios")
    for device in devices:
        for kind in ("mlp", "cnn"):
            measure(kind, device, args.rounds, args.steps)


if __name__ == "__main__":
    main()
