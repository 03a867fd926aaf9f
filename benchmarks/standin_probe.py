"""Probe: does a smaller CIFAR-10 stand-in show the shortcut → structure transition on CPU?

``python benchmarks/standin_probe.py --size 16 --n 500 --rho 0.9 --lr 3e-3 --steps 1500
--weight-decays 0.01,1 --threads 1`` trains ``cnn6-small`` full-batch with AdamW
(constant lr) on ``n`` stand-in images of ``size``² pixels (the demo's own generator and
border shortcut at strength ρ) and prints, every ``--every`` steps, the weight norm and the
accuracies on the training set (``tr``), border-free test images (``cl``, clean) and
ρ-bordered test images (``va``). No monitor, no run log: it only asks whether the
dynamics exist at this size (docs/RESULTS.md §2, "smaller stand-in probe").
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demos.cifar10.data import BorderedDataset, synthetic_cifar  # noqa: E402
from demos.common.image_models import build_image_model  # noqa: E402


def tensors(dataset: BorderedDataset) -> tuple[torch.Tensor, torch.Tensor]:
    """All items of ``dataset`` as one float image batch and its labels."""
    items = [dataset[i] for i in range(len(dataset))]
    return torch.stack([x for x, _, _ in items]).float(), torch.tensor([int(y) for _, y, _ in items])


def accuracy(model: torch.nn.Module, data: tuple[torch.Tensor, torch.Tensor]) -> float:
    with torch.no_grad():
        return float((model(data[0]).argmax(1) == data[1]).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--n", type=int, default=500, help="training images")
    parser.add_argument("--rho", type=float, default=0.9)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--weight-decays", default="0.01,1")
    parser.add_argument("--every", type=int, default=150)
    parser.add_argument("--border", type=int, default=2, help="border width in pixels")
    parser.add_argument("--init-scale", type=float, default=1.0,
                        help="multiply every initial parameter by this (large init: Omnigrok)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train = tensors(BorderedDataset(*synthetic_cifar(args.n, 0, size=args.size), "shortcut",
                                    args.rho, 0, width=args.border))
    test = synthetic_cifar(500, 10_000, size=args.size)
    clean = tensors(BorderedDataset(*test, "clean", args.rho, 2, width=args.border))
    bordered = tensors(BorderedDataset(*test, "shortcut", args.rho, 1, width=args.border))
    print(f"device cpu, {torch.get_num_threads()} thread(s); {args.n} images {args.size}², "
          f"ρ {args.rho:g}, lr {args.lr:g}, init ×{args.init_scale:g}, full batch")
    for wd in (float(w) for w in args.weight_decays.split(",")):
        torch.manual_seed(0)
        model, _ = build_image_model("cnn6-small", 10, cifar_stem=True)
        with torch.no_grad():
            for param in model.parameters():
                param.mul_(args.init_scale)
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=wd)
        started, points = time.perf_counter(), []
        for step in range(1, args.steps + 1):
            loss = F.cross_entropy(model(train[0]), train[1])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % args.every == 0:
                norm = math.sqrt(sum(float(p.detach().pow(2).sum()) for p in model.parameters()))
                points.append(f"{step}: norm {norm:.1f} tr {accuracy(model, train):.2f} "
                              f"cl {accuracy(model, clean):.2f} va {accuracy(model, bordered):.2f}")
        print(f"λ {wd:g} ({time.perf_counter() - started:.0f} s): " + " | ".join(points), flush=True)


if __name__ == "__main__":
    main()
