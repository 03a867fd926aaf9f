"""Data of the Waterbirds demo: the WILDS layout (via ``wilds``) and the stand-in.

Groups ``g = 2·y + place``: ``landbird_land``, ``landbird_water``, ``waterbird_land``,
``waterbird_water`` (y = 1 waterbird; place = 1 water background).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from nht_monitor.demos.common import shapes
from nht_monitor.demos.common.image_data import MappedGroupDataset, TensorGroupDataset, pil_to_tensor
from nht_monitor.demos.common.wilds_compat import wilds_dataset

GROUPS = ("landbird_land", "landbird_water", "waterbird_land", "waterbird_water")
SPLITS = ("train", "val", "test")


def load_waterbirds(root: Path, size: int) -> dict[str, Dataset]:
    """``{"train", "val", "test"}`` datasets from ``root/waterbirds_v1.0`` (WILDS layout:
    ``metadata.csv`` with ``img_filename,y,split,place`` and the image folders), images
    resized to ``size``×``size``."""
    base = wilds_dataset("waterbirds", root)
    out: dict[str, Dataset] = {}
    for split in SPLITS:
        subset = base.get_subset(split)
        # metadata columns are (background, y)
        place = subset.metadata_array[:, 0].long()
        y = subset.y_array.long()
        groups = 2 * y + place

        def item(i: int, subset=subset, y=y, groups=groups) -> tuple[torch.Tensor, int, int]:
            x, _, _ = subset[i]
            return pil_to_tensor(x, size), int(y[i]), int(groups[i])

        out[split] = MappedGroupDataset(subset, item, len(subset), GROUPS, 2)
    return out


def synthetic_waterbirds(n: int, seed: int, aligned: float, size: int = 32) -> TensorGroupDataset:
    """The STAND-IN: a disc (landbird) or triangle (waterbird) over a land/water scene;
    the background agrees with the bird type with probability ``aligned``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    place = np.where(rng.random(n) < aligned, y, 1 - y)
    images = np.stack([shapes.scene_image("triangle" if yi else "disc",
                                          "water" if pi else "land", size, rng)
                       for yi, pi in zip(y, place)])
    y_t, p_t = torch.from_numpy(y).long(), torch.from_numpy(place).long()
    return TensorGroupDataset(torch.from_numpy(images), y_t, 2 * y_t + p_t, GROUPS, 2)


def synthetic_splits(n_train: int, seed: int, size: int = 32) -> dict[str, Dataset]:
    """Stand-in splits like Waterbirds: train 95% aligned, val/test background independent."""
    n_eval = max(n_train // 4, 80)
    return {"train": synthetic_waterbirds(n_train, seed, 0.95, size),
            "val": synthetic_waterbirds(n_eval, seed + 1, 0.5, size),
            "test": synthetic_waterbirds(n_eval, seed + 2, 0.5, size)}
