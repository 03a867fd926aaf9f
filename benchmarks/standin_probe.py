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

import numpy as np  # noqa: E402

from nht_monitor.demos.cifar10.data import BorderedDataset, synthetic_cifar  # noqa: E402
from nht_monitor.demos.common import shapes  # noqa: E402
from nht_monitor.demos.common.image_models import build_image_model  # noqa: E402


def easy_set(kinds: list[str], n: int, seed: int, size: int, noise: float, scale: float,
             mode: str, rho: float, border: int, border_seed: int
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images of the classes ``kinds`` (balanced, shuffled), float in [0, 1].

    ``mode`` ``"shortcut"``: a ``border``-pixel frame of the label's
    :data:`shapes.PALETTE` colour with probability ``rho``, else of a colour drawn
    uniformly from the ``len(kinds)`` class colours (so it may match by chance);
    ``"clean"``: no frame. Same image seed → same images in every mode.
    """
    rng = np.random.default_rng(seed)
    k = len(kinds)
    labels = np.arange(n) % k
    rng.shuffle(labels)
    images = np.stack([shapes.core_image(kinds[c], size, rng, noise, scale) for c in labels])
    if mode == "shortcut":
        brng = np.random.default_rng(border_seed)
        colour = np.where(brng.random(n) < rho, labels, brng.integers(0, k, n))
        images = np.stack([shapes.add_border(img, shapes.PALETTE[c], border)
                           for img, c in zip(images, colour)])
    return torch.from_numpy(images).float() / 255.0, torch.from_numpy(labels).long()


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
    parser.add_argument("--classes", default=None,
                        help="comma list of shapes.SHAPES kinds (e.g. disc,square,triangle,"
                             "plus) or a number K (the first K): an easier K-class stand-in "
                             "generated here; default: the demo's 10-class generator")
    parser.add_argument("--noise", type=float, default=20.0,
                        help="pixel noise std (0-255 scale) of the --classes images")
    parser.add_argument("--shape-scale", type=float, default=1.0,
                        help="multiply the shape radius/period of the --classes images")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the training images")
    parser.add_argument("--n-test", type=int, default=500, help="test images per eval set")
    parser.add_argument("--seed", type=int, default=0, help="torch seed of the model init")
    parser.add_argument("--beta2", type=float, default=0.999,
                        help="AdamW β2 (lower, e.g. 0.99, damps full-batch loss spikes)")
    parser.add_argument("--progress", action="store_true",
                        help="also print each point to stderr as soon as it is measured")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.classes is None:
        n_classes = 10
        train = tensors(BorderedDataset(*synthetic_cifar(args.n, args.data_seed, size=args.size),
                                        "shortcut", args.rho, 0, width=args.border))
        test = synthetic_cifar(args.n_test, 10_000, size=args.size)
        clean = tensors(BorderedDataset(*test, "clean", args.rho, 2, width=args.border))
        bordered = tensors(BorderedDataset(*test, "shortcut", args.rho, 1, width=args.border))
        data = "demo 10-class generator"
    else:
        kinds = (list(shapes.SHAPES[:int(args.classes)]) if args.classes.isdigit()
                 else args.classes.split(","))
        n_classes = len(kinds)
        common = dict(size=args.size, noise=args.noise, scale=args.shape_scale,
                      rho=args.rho, border=args.border)
        train = easy_set(kinds, args.n, args.data_seed, mode="shortcut", border_seed=0, **common)
        clean = easy_set(kinds, args.n_test, 10_000, mode="clean", border_seed=2, **common)
        bordered = easy_set(kinds, args.n_test, 10_000, mode="shortcut", border_seed=1, **common)
        data = (f"classes {','.join(kinds)}, noise {args.noise:g}, "
                f"shape ×{args.shape_scale:g}")
    print(f"device cpu, {torch.get_num_threads()} thread(s); {args.n} images {args.size}², "
          f"ρ {args.rho:g}, lr {args.lr:g}, init ×{args.init_scale:g}, full batch; {data}")
    for wd in (float(w) for w in args.weight_decays.split(",")):
        torch.manual_seed(args.seed)
        model, _ = build_image_model("cnn6-small", n_classes, cifar_stem=True)
        with torch.no_grad():
            for param in model.parameters():
                param.mul_(args.init_scale)
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=wd,
                                      betas=(0.9, args.beta2))
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
                if args.progress:
                    print(f"λ {wd:g} {time.perf_counter() - started:.0f} s | {points[-1]}",
                          file=sys.stderr, flush=True)
        print(f"λ {wd:g} ({time.perf_counter() - started:.0f} s): " + " | ".join(points), flush=True)


if __name__ == "__main__":
    main()
