"""Per-step cost of watching a run, nht-monitor and its peers side by side in one process.

Trains one model per table and times, interleaved in rounds (each round runs every
variant once, in a shuffled order, so that machine noise hits every variant alike):

* ``bare``     — the plain training step;
* ``naive``    — the step plus a per-tensor ``p.norm().item()`` loop over weights and
  grads (what people write by hand);
* ``tb``       — the step plus TensorBoard: ``SummaryWriter.add_scalar`` of every
  parameter tensor's weight norm and gradient norm per step (the usual
  ``for name, p in model.named_parameters()`` loop, into a temporary directory);
* ``wandb``    — the step watched by ``wandb.watch(model, log="all", log_freq=1)`` in
  offline mode (``WANDB_MODE=offline``, a temporary directory; histograms of every
  parameter in a forward hook and of every gradient in tensor hooks, committed by one
  ``run.log`` per step);
* ``nht``      — the step watched by ``nht_monitor.watch(every=1)`` (live assessment on);
* ``every=10`` — the same with ``watch(every=10)``;
* ``no grads`` — ``watch(every=1, grads=False)``: weight norms only.

Models: ``mlp`` (0.40 M parameters), ``cnn`` (1.30 M), ``enc12`` and ``enc48``: a
12-layer and a 48-layer ``nn.TransformerEncoder`` (149 and 581 parameter tensors).

Prints per model a table: per variant the median per-step time, its overhead relative
to ``bare`` as the ratio of medians and as the median of the per-round paired ratios
(with their interquartile range), and the time spent inside the optimizer hook per
step, bracketed by two marker hooks registered around the variant's hook (for nht,
naive and tb, whose work is done in an optimizer step post-hook; wandb's is done in
forward and backward hooks, so it has none): the cost added to the loop measured
directly, which shared-machine noise disturbs far less than a difference of two loop
times. Each table says the date, the device, the torch version and the load average
before and after. On CPU and, when present, on CUDA.

Usage: ``python benchmarks/overhead.py [--models cnn,enc12,enc48] [--rounds 15]
[--steps 20] [--variants bare,naive,nht,...]``. The peers are optional packages:
``pip install wandb tensorboard`` (they are skipped with a note when missing).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable

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


VOCAB, SEQ, D_MODEL, HEADS, FF = 64, 16, 64, 4, 128


class Encoder(nn.Module):
    """Token classifier: embedding, ``depth`` encoder layers (12 parameter tensors
    each), final LayerNorm, mean pooling, linear head: ``12 * depth + 5`` tensors."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(D_MODEL),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(D_MODEL, 10)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))


MODELS: dict[str, Callable[[], nn.Module]] = {
    "mlp": mlp, "cnn": cnn, "enc12": lambda: Encoder(12), "enc48": lambda: Encoder(48)}


def make_batch(kind: str, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    if kind == "mlp":
        x = torch.randn(64, 256)
    elif kind == "cnn":
        x = torch.randn(32, 3, 32, 32)
    else:
        x = torch.randint(0, VOCAB, (16, SEQ))
    return x.to(device), torch.randint(0, 10, (x.shape[0],), device=device)


def naive_norms(model: nn.Module) -> list[float]:
    out = [p.norm().item() for p in model.parameters()]
    out += [p.grad.norm().item() for p in model.parameters() if p.grad is not None]
    return out


class Tensorboard:
    """``add_scalar`` of every parameter tensor's weight and gradient norm per step."""

    def __init__(self, model: nn.Module, log_dir: str) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir)
        self.named = list(model.named_parameters())
        self.step = 0

    def on_step(self, *_args) -> None:
        self.step += 1
        for name, param in self.named:
            self.writer.add_scalar(f"weight_norm/{name}", param.norm(), self.step)
            if param.grad is not None:
                self.writer.add_scalar(f"grad_norm/{name}", param.grad.norm(), self.step)

    def close(self) -> None:
        self.writer.close()


class Wandb:
    """``wandb.watch(model, log="all", log_freq=1)`` in offline mode; watched only
    during its own blocks (``idx=0``: the same history keys every time)."""

    def __init__(self, log_dir: str) -> None:
        import wandb

        os.environ["WANDB_MODE"] = "offline"
        os.environ.setdefault("WANDB_SILENT", "true")
        self.wandb = wandb
        self.run = wandb.init(mode="offline", dir=log_dir, project="nht-overhead",
                              settings=wandb.Settings(console="off"))
        self.step = 0

    def watch(self, model: nn.Module) -> None:
        self.wandb.watch(model, log="all", log_freq=1, idx=0)

    def unwatch(self, model: nn.Module) -> None:
        self.wandb.unwatch(model)

    def commit(self, *_args) -> None:
        self.step += 1
        self.run.log({"bench_step": self.step})

    def close(self) -> None:
        self.run.finish()


class HookClock:
    """Two optimizer post-hooks, one registered before the variant's and one after:
    the time between them is the time spent in the variant's hook."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def start(self, *_args) -> None:
        self._start = time.perf_counter()

    def stop(self, *_args) -> None:
        self.total += time.perf_counter() - self._start


def run_block(model, optimizer, batch, steps: int, device) -> float:
    x, y = batch
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


VARIANTS = ("bare", "naive", "tb", "wandb", "nht", "nht10", "nhtw")
LABELS = {"bare": "bare", "naive": "naive .item()", "tb": "tensorboard", "wandb": "wandb.watch",
          "nht": "nht every=1", "nht10": "nht every=10", "nhtw": "nht no grads"}
HOOKED = {"naive", "tb", "nht", "nht10", "nhtw"}  # their work is in the optimizer hook


def available(variants: list[str]) -> list[str]:
    """``variants`` without the peers whose package is missing (said once)."""
    kept = []
    for variant in variants:
        module = {"tb": "tensorboard", "wandb": "wandb"}.get(variant)
        if module is not None:
            try:
                __import__(module)
            except ImportError:
                print(f"(skipping {variant}: pip install {module})")
                continue
        kept.append(variant)
    return kept


def loadavg() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def measure(kind: str, device: torch.device, rounds: int, steps: int,
            variants: list[str], wandb_run: Wandb | None) -> dict[str, float]:
    """One model and optimizer for every variant (identical copies of a model differ in
    speed by a few % from where their memory happens to lie). Each watched variant has
    its monitor from the start, as in a real run, so its start-up is not timed; its
    hooks are attached only during that variant's blocks. Blocks of ``steps`` steps of
    every variant are interleaved in shuffled order per round."""
    torch.manual_seed(0)
    model = MODELS[kind]().to(device)
    n_params = sum(p.numel() for p in model.parameters())
    n_tensors = sum(1 for _ in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    batch = make_batch(kind, device)
    clock = HookClock()
    times: dict[str, list[float]] = {v: [] for v in variants}
    in_hook: dict[str, list[float]] = {v: [] for v in variants}
    load_before = loadavg()
    with tempfile.TemporaryDirectory() as log_dir:
        monitors = {}
        for variant in variants:
            if variant.startswith("nht"):
                monitor = nht_monitor.watch(
                    model, optimizer, log_dir=log_dir,
                    run_id=f"{kind}-{device.type}-{variant}",
                    every=10 if variant == "nht10" else 1, grads=variant != "nhtw")
                monitor._hook.remove()  # attached below, only during its own blocks
                # its loop "stalls" while other variants run: keep the idle flusher from
                # doing the hook's work then, outside the timed hook
                monitor._flusher.stop()
                monitors[variant] = monitor
        tensorboard = Tensorboard(model, os.path.join(log_dir, "tb")) if "tb" in variants \
            else None
        step_hooks = {"naive": lambda *_: naive_norms(model)}
        step_hooks.update({v: m._on_step for v, m in monitors.items()})
        if tensorboard is not None:
            step_hooks["tb"] = tensorboard.on_step

        def block(variant: str) -> float:
            hooks = [optimizer.register_step_post_hook(clock.start)]
            if variant in step_hooks:
                hooks.append(optimizer.register_step_post_hook(step_hooks[variant]))
            hooks.append(optimizer.register_step_post_hook(clock.stop))
            if variant == "wandb":
                wandb_run.watch(model)
                hooks.append(optimizer.register_step_post_hook(wandb_run.commit))
            clock.total = 0.0
            try:
                return run_block(model, optimizer, batch, steps, device)
            finally:
                for hook in hooks:
                    hook.remove()
                if variant == "wandb":
                    wandb_run.unwatch(model)

        for variant in variants:  # warm-up, and every monitor's first samples
            block(variant)
        shuffle = random.Random(0)
        for _ in range(rounds):
            order = list(variants)
            shuffle.shuffle(order)
            for variant in order:
                times[variant].append(block(variant))
                in_hook[variant].append(clock.total / steps)
        for monitor in monitors.values():
            monitor.close()
        if tensorboard is not None:
            tensorboard.close()
    bare = statistics.median(times["bare"])
    hook_zero = statistics.median(in_hook["bare"])  # the two marker hooks alone
    print(f"\n{kind} on {device.type}: {n_params / 1e6:.2f} M params in {n_tensors} tensors; "
          f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{load_before} before, {loadavg()} after")
    print(f"  {'variant':<14} {'ms/step':>9} {'overhead':>9} {'paired [IQR]':>24} "
          f"{'in hook':>18}")
    for variant in variants:
        med = statistics.median(times[variant])
        line = f"  {LABELS[variant]:<14} {med * 1e3:9.3f}"
        if variant != "bare":
            paired = [100 * (t / b - 1) for t, b in zip(times[variant], times["bare"])]
            q1, _, q3 = statistics.quantiles(paired, n=4) if len(paired) > 1 else paired * 3
            line += (f" {100 * (med / bare - 1):+8.1f}% {statistics.median(paired):+7.1f}% "
                     f"[{q1:+6.1f}, {q3:+6.1f}]")
            if variant in HOOKED:
                hook = statistics.median(in_hook[variant]) - hook_zero
                line += f" {hook * 1e3:8.3f} ms {100 * hook / bare:5.1f}%"
        print(line, flush=True)
    return {variant: statistics.median(values) for variant, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,enc12,enc48",
                        help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, of {', '.join(VARIANTS)} (bare is always run)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = [m for m in args.models.split(",") if m]
    unknown = set(models) - set(MODELS) | set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown models or variants: {', '.join(sorted(unknown))}")
    variants = available(["bare"] + [v for v in args.variants.split(",") if v and v != "bare"])
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, devices "
          f"{', '.join(d.type for d in devices)}; median of {args.rounds} interleaved rounds "
          f"of {args.steps} steps; overhead = ratio of medians; paired = median [IQR] of "
          f"per-round ratios; in hook = time inside the variant's optimizer hook")
    with tempfile.TemporaryDirectory() as wandb_dir:
        wandb_run = Wandb(wandb_dir) if "wandb" in variants else None
        try:
            for device in devices:
                for kind in models:
                    measure(kind, device, args.rounds, args.steps, variants, wandb_run)
        finally:
            if wandb_run is not None:
                wandb_run.close()


if __name__ == "__main__":
    main()
