"""Datasets of the image demos: ``(image, label, group)`` triples and their group names.

Every image demo yields items ``(x, y, g)``: ``x`` a float tensor ``[3, H, W]`` in
[0, 1] (before normalisation), ``y`` the class, ``g`` the group index (label ×
spurious attribute, or shortcut-aligned/conflicting); ``group_names[g]`` names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset


class TensorGroupDataset(Dataset):
    """An in-memory dataset: ``images`` uint8 ``[N, 3, H, W]``, ``labels``/``groups`` ``[N]``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, groups: torch.Tensor,
                 group_names: Sequence[str], n_classes: int) -> None:
        if not (len(images) == len(labels) == len(groups)):
            raise ValueError("images, labels and groups must have the same length")
        self.images, self.labels, self.groups = images, labels.long(), groups.long()
        self.group_names = list(group_names)
        self.n_classes = n_classes

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        return self.images[i].float() / 255.0, int(self.labels[i]), int(self.groups[i])


class MappedGroupDataset(Dataset):
    """Wraps a dataset of ``(PIL image, y, g)`` (or any record) via ``to_item(record)``."""

    def __init__(self, base: Any, to_item: Callable[[int], tuple[torch.Tensor, int, int]],
                 length: int, group_names: Sequence[str], n_classes: int) -> None:
        self.base, self._to_item, self._len = base, to_item, length
        self.group_names = list(group_names)
        self.n_classes = n_classes

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        return self._to_item(i)


def pil_to_tensor(image: Any, size: int) -> torch.Tensor:
    """A PIL image as float ``[3, size, size]`` in [0, 1] (bilinear resize, RGB)."""
    from PIL import Image

    image = image.convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR)
    array = np.asarray(image, dtype=np.uint8).copy()
    return torch.from_numpy(array).permute(2, 0, 1).float() / 255.0


def subsample(dataset: Dataset, limit: int | None, seed: int) -> Dataset:
    """At most ``limit`` items of ``dataset`` (a seeded random subset keeping its attributes)."""
    n = len(dataset)  # type: ignore[arg-type]
    if limit is None or limit >= n:
        return dataset
    index = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:limit].tolist()
    subset = torch.utils.data.Subset(dataset, index)
    subset.group_names = dataset.group_names  # type: ignore[attr-defined]
    subset.n_classes = dataset.n_classes  # type: ignore[attr-defined]
    return subset
