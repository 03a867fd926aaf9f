"""Data of the CIFAR-10 demo: the real pickles, the border shortcut, and the stand-in.

Train images get a ``border``-pixel frame whose colour is the label's colour with
probability ρ and a uniformly random colour otherwise (ρ = 0: no shortcut, ρ = 1: a
perfect one). Evaluation sets: ``val`` (test images bordered like training), ``clean``
(no border → ``clean_acc``) and ``random`` (uniformly random borders; groups
``border_aligned``/``border_conflicting`` → ``worst_group_acc``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from nht_monitor.demos.common import shapes

GROUPS = ("border_aligned", "border_conflicting", "no_border")
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")


def load_cifar10(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images uint8 [N, 3, 32, 32], labels [N])`` from ``root/cifar-10-batches-py``.

    Uses torchvision's ``CIFAR10`` reader with the md5 entries set to ``None``, so
    torchvision checks only that each file exists (generated test fixtures have other
    checksums than the real files); the content is then validated here instead: a
    ``data`` uint8 array of N×3072 and N ``labels`` in 0..9 per batch.
    """
    from torchvision.datasets import CIFAR10

    class _CIFAR10Files(CIFAR10):
        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

    root = Path(root)
    folder = root / CIFAR10.base_folder
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no CIFAR-10 at {folder} (expected the standard cifar-10-batches-py layout: "
            "data_batch_1..5, test_batch, batches.meta); --synthetic runs the stand-in")
    try:
        ds = _CIFAR10Files(str(root), train=train, download=False)
    except RuntimeError as exc:
        raise FileNotFoundError(f"incomplete CIFAR-10 at {folder}: {exc}") from None
    data = np.asarray(ds.data)
    labels = np.asarray(ds.targets)
    if data.dtype != np.uint8 or data.shape[1:] != (32, 32, 3) or len(labels) != len(data):
        raise ValueError(f"CIFAR-10 batches at {folder} are not N×3072 uint8 with N labels")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"CIFAR-10 labels at {folder} outside 0..9")
    return torch.from_numpy(data).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels).long()


def synthetic_cifar(n: int, seed: int, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """The STAND-IN: ``n`` images of the ten :data:`nht_monitor.demos.common.shapes.SHAPES` classes."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = np.stack([shapes.core_image(shapes.SHAPES[k], size, rng) for k in labels])
    return torch.from_numpy(images), torch.from_numpy(labels).long()


class BorderedDataset(Dataset):
    """Images with the border shortcut applied on the fly.

    ``mode``: ``"shortcut"`` (label colour with probability ``rho``, else uniform),
    ``"random"`` (uniform colour) or ``"clean"`` (no border). The colour of each index
    is drawn once (seeded). Items are ``(x, y, g)`` with ``g`` indexing :data:`GROUPS`.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mode: str, rho: float,
                 seed: int, width: int = 3) -> None:
        if mode not in ("shortcut", "random", "clean"):
            raise ValueError(f"mode must be shortcut, random or clean, got {mode!r}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"rho must be in [0, 1], got {rho}")
        self.images, self.labels = images, labels
        self.mode, self.width = mode, width
        self.group_names = list(GROUPS)
        self.n_classes = 10
        rng = np.random.default_rng(seed)
        n = len(labels)
        colour = rng.integers(0, 10, n)
        if mode == "shortcut":
            use_label = rng.random(n) < rho
            colour = np.where(use_label, labels.numpy(), colour)
        self.colours = torch.from_numpy(colour)
        if mode == "clean":
            self.groups = torch.full((n,), 2, dtype=torch.long)
        else:
            self.groups = (self.colours != labels).long()
        self._palette = torch.from_numpy(shapes.PALETTE.astype(np.float32) / 255.0)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        x = self.images[i].float() / 255.0
        if self.mode != "clean":
            w = self.width
            c = self._palette[self.colours[i]].view(3, 1, 1)
            x[:, :w, :] = c
            x[:, -w:, :] = c
            x[:, :, :w] = c
            x[:, :, -w:] = c
        return x, int(self.labels[i]), int(self.groups[i])


def make_sets(train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
              rho: float, seed: int) -> tuple[Dataset, dict[str, Dataset]]:
    """Training set (shortcut at ρ) and the ``val``/``clean``/``random`` evaluation sets."""
    train_set = BorderedDataset(*train, mode="shortcut", rho=rho, seed=seed)
    evals = {"val": BorderedDataset(*test, mode="shortcut", rho=rho, seed=seed + 1),
             "clean": BorderedDataset(*test, mode="clean", rho=rho, seed=seed + 2),
             "random": BorderedDataset(*test, mode="random", rho=rho, seed=seed + 3)}
    return train_set, evals


__all__ = ["load_cifar10", "synthetic_cifar", "BorderedDataset",
           "make_sets", "GROUPS", "CLASSES"]
