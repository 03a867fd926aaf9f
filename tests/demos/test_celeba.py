"""CelebA demo: torchvision and WILDS layouts through the real readers, stand-in, quick runs."""

from __future__ import annotations

import pytest

from nht_monitor.demos.celeba.data import GROUPS, detect_layout, load_celeba, synthetic_celeba
from nht_monitor.cli import main as cli_main
from tests.demos.fixtures import write_celeba_torchvision, write_celeba_wilds
from tests.demos.helpers import assert_assessed_log

METRICS = ("train_loss", "train_acc", "val_acc", "test_acc", "clean_acc", "worst_group_acc",
           "acc_blond_male", "acc_not_blond_female")


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("celeba")
    return {"torchvision": write_celeba_torchvision(base / "tv"),
            "wilds": write_celeba_wilds(base / "wilds")}


@pytest.mark.parametrize("layout", ["torchvision", "wilds"])
def test_both_layouts_give_the_same_groups(roots, layout):
    root = roots[layout]
    assert detect_layout(root) == layout
    splits = load_celeba(root, size=32)
    assert {k: len(v) for k, v in splits.items()} == {"train": 24, "val": 12, "test": 12}
    x, y, g = splits["train"][3]
    assert x.shape == (3, 32, 32) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    # fixture rows: Blond_Hair = (i // 2) % 2, Male = i % 2, group = 2 * blond + male
    assert [splits["train"][i][1:] for i in range(4)] == [(0, 0), (0, 1), (1, 2), (1, 3)]
    assert splits["train"].group_names == list(GROUPS)


def test_unknown_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="celebA_v1.0"):
        load_celeba(tmp_path, size=32)


def test_stand_in_has_a_rare_blond_male_group():
    ds = synthetic_celeba(2000, seed=0)
    counts = [int((ds.groups == g).sum()) for g in range(4)]
    assert counts[3] < counts[2] / 5 and min(counts) > 0


@pytest.mark.parametrize("layout", ["torchvision", "wilds"])
def test_quick_run_on_each_layout(roots, layout, tmp_path, capsys):
    code = cli_main(["demo", "celeba", "--data-root", str(roots[layout]), "--quick",
                     "--image-size", "32", "--no-progress", "--log-dir", str(tmp_path),
                     "--layout", layout])
    assert code == 0
    assert "real data" in capsys.readouterr().out
    assert_assessed_log(tmp_path / "celeba-cnn6-small-wd0.1-s0.jsonl", metrics=METRICS)
