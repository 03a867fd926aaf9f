"""Tiny datasets written in exactly the real on-disk formats, for the demos' loader tests.

CIFAR-10: ``cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}`` pickles
(dict with ``data`` uint8 N×3072 row-major RGB planes and ``labels``). CelebA,
torchvision layout: ``celeba/`` with the five space-separated txt files and
``img_align_celeba/*.jpg`` (178×218). CelebA, WILDS layout: ``celebA_v1.0/`` with
``RELEASE_v1.0.txt``, ``list_attr_celeba.csv``, ``list_eval_partition.csv`` and the
JPEGs. Waterbirds, WILDS layout: ``waterbirds_v1.0/`` with ``RELEASE_v1.0.txt``,
``metadata.csv`` (``img_filename,y,split,place``) and per-species JPEG folders.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

CELEBA_ATTRS = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses "
    "Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache "
    "Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks "
    "Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick "
    "Wearing_Necklace Wearing_Necktie Young").split()


def write_cifar10(root: Path, per_batch: int = 40, n_test: int = 60, seed: int = 0) -> Path:
    """``root/cifar-10-batches-py`` with 5 train batches and a test batch; returns ``root``."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)

    def batch(n: int, name: str) -> dict:
        labels = [int(v) for v in rng.integers(0, 10, n)]
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        # a weak class signal so training has something to find
        for i, lab in enumerate(labels):
            data[i, lab * 300:(lab + 1) * 300] = 255
        return {"batch_label": name, "labels": labels, "data": data,
                "filenames": [f"img_{name}_{i}.png" for i in range(n)]}

    for i in range(1, 6):
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump(batch(per_batch, f"training batch {i} of 5"), f)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump(batch(n_test, "testing batch 1 of 1"), f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"num_cases_per_batch": per_batch,
                     "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                     "frog", "horse", "ship", "truck"], "num_vis": 3072}, f)
    return root


def _jpeg(path: Path, rng: np.random.Generator, size: tuple[int, int], tint: int) -> None:
    w, h = size
    array = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    array[: h // 3, :, tint % 3] = 250
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="JPEG", quality=85)


def _celeba_rows(n: int, seed: int) -> tuple[list[str], np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    attrs = rng.choice([-1, 1], size=(n, len(CELEBA_ATTRS)))
    blond, male = CELEBA_ATTRS.index("Blond_Hair"), CELEBA_ATTRS.index("Male")
    # every group present in every split
    attrs[:, blond] = [1 if (i // 2) % 2 else -1 for i in range(n)]
    attrs[:, male] = [1 if i % 2 else -1 for i in range(n)]
    partition = [0 if i < n // 2 else (1 if i < 3 * n // 4 else 2) for i in range(n)]
    return names, attrs, partition


def write_celeba_torchvision(root: Path, n: int = 48, seed: int = 0) -> Path:
    """``root/celeba`` in torchvision's layout; returns ``root``."""
    names, attrs, partition = _celeba_rows(n, seed)
    folder = root / "celeba"
    rng = np.random.default_rng(seed)
    for i, name in enumerate(names):
        _jpeg(folder / "img_align_celeba" / name, rng, (178, 218), i)
    with open(folder / "list_attr_celeba.txt", "w") as f:
        f.write(f"{n}\n" + " ".join(CELEBA_ATTRS) + " \n")
        for name, row in zip(names, attrs):
            f.write(name + " " + " ".join(f"{v:2d}" for v in row) + "\n")
    with open(folder / "list_eval_partition.txt", "w") as f:
        f.writelines(f"{name} {p}\n" for name, p in zip(names, partition))
    with open(folder / "identity_CelebA.txt", "w") as f:
        f.writelines(f"{name} {i % 7 + 1}\n" for i, name in enumerate(names))
    with open(folder / "list_bbox_celeba.txt", "w") as f:
        f.write(f"{n}\nimage_id x_1 y_1 width height\n")
        f.writelines(f"{name}    95  71 226 313\n" for name in names)
    with open(folder / "list_landmarks_align_celeba.txt", "w") as f:
        f.write(f"{n}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x "
                "leftmouth_y rightmouth_x rightmouth_y\n")
        f.writelines(f"{name}  69  109  106  113   77  142   73  152  108  154\n"
                     for name in names)
    return root


def write_celeba_wilds(root: Path, n: int = 48, seed: int = 0) -> Path:
    """``root/celebA_v1.0`` in the WILDS layout; returns ``root``."""
    names, attrs, partition = _celeba_rows(n, seed)
    folder = root / "celebA_v1.0"
    rng = np.random.default_rng(seed)
    for i, name in enumerate(names):
        _jpeg(folder / "img_align_celeba" / name, rng, (178, 218), i)
    (folder / "RELEASE_v1.0.txt").write_text("v1.0\n")
    with open(folder / "list_attr_celeba.csv", "w") as f:
        f.write("image_id," + ",".join(CELEBA_ATTRS) + "\n")
        for name, row in zip(names, attrs):
            f.write(name + "," + ",".join(str(int(v)) for v in row) + "\n")
    with open(folder / "list_eval_partition.csv", "w") as f:
        f.write("image_id,partition\n")
        f.writelines(f"{name},{p}\n" for name, p in zip(names, partition))
    return root


def write_waterbirds(root: Path, n: int = 48, seed: int = 0) -> Path:
    """``root/waterbirds_v1.0`` in the WILDS layout; returns ``root``."""
    rng = np.random.default_rng(seed)
    folder = root / "waterbirds_v1.0"
    species = {0: "001.Black_footed_Albatross", 1: "045.Northern_Fulmar"}
    rows = ["img_id,img_filename,y,split,place,place_filename"]
    for i in range(n):
        y, place = (i // 2) % 2, i % 2
        split = 0 if i < n // 2 else (1 if i < 3 * n // 4 else 2)
        rel = f"{species[y]}/{species[y].split('.')[1]}_{i:04d}_{i}.jpg"
        _jpeg(folder / rel, rng, (224, 224), y + 2 * place)
        rows.append(f"{i + 1},{rel},{y},{split},{place},/b/bamboo_forest/{i:08d}.jpg")
    (folder / "RELEASE_v1.0.txt").write_text("v1.0\n")
    (folder / "metadata.csv").write_text("\n".join(rows) + "\n")
    return root
