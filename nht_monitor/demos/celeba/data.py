"""Data of the CelebA demo: torchvision ``CelebA`` layout, WILDS ``celebA_v1.0`` layout, stand-in.

Target ``Blond_Hair``, spurious attribute ``Male`` (Sagawa et al.); groups
``g = 2·y + male``: ``not_blond_female``, ``not_blond_male``, ``blond_female``,
``blond_male`` (the rare one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from nht_monitor.demos.common import shapes
from nht_monitor.demos.common.image_data import MappedGroupDataset, TensorGroupDataset, pil_to_tensor
from nht_monitor.demos.common.wilds_compat import wilds_dataset

GROUPS = ("not_blond_female", "not_blond_male", "blond_female", "blond_male")
TARGET, SPURIOUS = "Blond_Hair", "Male"
TORCHVISION_FILES = ("list_attr_celeba.txt", "identity_CelebA.txt", "list_bbox_celeba.txt",
                     "list_landmarks_align_celeba.txt", "list_eval_partition.txt")


def detect_layout(root: Path) -> str:
    """``"wilds"`` if ``root/celebA_v1.0`` exists, ``"torchvision"`` if ``root/celeba`` does."""
    if (Path(root) / "celebA_v1.0").is_dir():
        return "wilds"
    if (Path(root) / "celeba").is_dir():
        return "torchvision"
    raise FileNotFoundError(f"no CelebA under {root}: expected celeba/ (torchvision layout) or "
                            "celebA_v1.0/ (WILDS layout); --synthetic runs the stand-in")


def _torchvision_split(root: Path, split: str, size: int) -> Dataset:
    from torchvision.datasets import CelebA

    class _CelebAFiles(CelebA):
        """torchvision's reader; the integrity check only asks that the files exist
        (torchvision checks md5 sums of the real files, which test fixtures cannot match)."""

        def _check_integrity(self) -> bool:
            folder = Path(self.root) / self.base_folder
            return all((folder / f).is_file() for f in TORCHVISION_FILES) and \
                (folder / "img_align_celeba").is_dir()

    tv_split = {"train": "train", "val": "valid", "test": "test"}[split]
    try:
        ds = _CelebAFiles(str(root), split=tv_split, target_type="attr", download=False)
    except RuntimeError as exc:
        needs = ", ".join(TORCHVISION_FILES)
        raise FileNotFoundError(f"incomplete CelebA at {Path(root) / 'celeba'} (needs {needs} "
                                f"and img_align_celeba/): {exc}") from None
    y = ds.attr[:, ds.attr_names.index(TARGET)].long()
    male = ds.attr[:, ds.attr_names.index(SPURIOUS)].long()
    groups = 2 * y + male

    def item(i: int) -> tuple[torch.Tensor, int, int]:
        x, _ = ds[i]
        return pil_to_tensor(x, size), int(y[i]), int(groups[i])

    return MappedGroupDataset(ds, item, len(ds), GROUPS, 2)


def _wilds_splits(root: Path, size: int) -> dict[str, Dataset]:
    base = wilds_dataset("celebA", root)
    out: dict[str, Dataset] = {}
    for split in ("train", "val", "test"):
        subset = base.get_subset(split)
        male = subset.metadata_array[:, 0].long()  # metadata columns: (male, y)
        y = subset.y_array.long()
        groups = 2 * y + male

        def item(i: int, subset=subset, y=y, groups=groups) -> tuple[torch.Tensor, int, int]:
            x, _, _ = subset[i]
            return pil_to_tensor(x, size), int(y[i]), int(groups[i])

        out[split] = MappedGroupDataset(subset, item, len(subset), GROUPS, 2)
    return out


def load_celeba(root: Path, size: int, layout: str = "auto") -> dict[str, Dataset]:
    """``{"train", "val", "test"}`` of CelebA under ``root`` in either layout."""
    layout = detect_layout(root) if layout == "auto" else layout
    if layout == "wilds":
        return _wilds_splits(Path(root), size)
    if layout == "torchvision":
        return {s: _torchvision_split(Path(root), s, size) for s in ("train", "val", "test")}
    raise ValueError(f"layout must be auto, torchvision or wilds, got {layout!r}")


def synthetic_celeba(n: int, seed: int, size: int = 32) -> TensorGroupDataset:
    """The STAND-IN: faces whose hair texture is the target and a beard the attribute.

    30% "blond"; P(male | blond) = 0.06, P(male | not blond) = 0.5 — blond males are the
    rare group, as in CelebA.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    male = (rng.random(n) < np.where(y == 1, 0.06, 0.5)).astype(np.int64)
    images = np.stack([shapes.face_image(bool(b), bool(m), size, rng) for b, m in zip(y, male)])
    y_t, m_t = torch.from_numpy(y), torch.from_numpy(male)
    return TensorGroupDataset(torch.from_numpy(images), y_t, 2 * y_t + m_t, GROUPS, 2)


def synthetic_splits(n_train: int, seed: int, size: int = 32) -> dict[str, Dataset]:
    """Stand-in train/val/test, all with the same correlation (as CelebA's splits)."""
    n_eval = max(n_train // 2, 200)
    return {"train": synthetic_celeba(n_train, seed, size),
            "val": synthetic_celeba(n_eval, seed + 1, size),
            "test": synthetic_celeba(n_eval, seed + 2, size)}
