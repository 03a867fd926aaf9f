"""Using the ``wilds`` package's dataset classes with current numpy/pandas and no torch_scatter.

wilds 2.0.0 installs and imports with numpy 2.x / pandas 3.x; only its ``eval()``
needs ``torch_scatter`` (a source build). The demos therefore import the dataset
classes directly (not ``wilds.get_dataset``, which imports every dataset module) and
compute group accuracies with ``Tensor.index_add_``
(:func:`nht_monitor.demos.common.image_train.evaluate`); they never call ``dataset.eval``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def wilds_dataset(name: str, root: Path) -> Any:
    """``WaterbirdsDataset`` or ``CelebADataset`` from ``root`` (``download=False``).

    Raises ``FileNotFoundError`` naming the folder wilds expects
    (``<root>/<name>_v1.0`` with ``RELEASE_v1.0.txt``) when it is not there, and
    ``ImportError`` with the install hint when wilds is missing.
    """
    folder = {"waterbirds": "waterbirds_v1.0", "celebA": "celebA_v1.0"}[name]
    data_dir = Path(root) / folder
    if not (data_dir / "RELEASE_v1.0.txt").is_file():
        raise FileNotFoundError(f"no WILDS {name} dataset at {data_dir} (expected "
                                f"RELEASE_v1.0.txt and the metadata there); --synthetic runs "
                                "the stand-in")
    try:
        if name == "waterbirds":
            from wilds.datasets.waterbirds_dataset import WaterbirdsDataset as cls
        else:
            from wilds.datasets.celebA_dataset import CelebADataset as cls
    except ImportError as exc:
        raise ImportError(f"the wilds package is needed for the WILDS layout "
                          f"(pip install 'nht-monitor[demos]'): {exc}") from exc
    with warnings.catch_warnings():
        # pandas 3 hands wilds read-only arrays; torch warns when wrapping them (harmless)
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return cls(root_dir=str(root), download=False)
