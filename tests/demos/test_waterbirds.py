"""Waterbirds demo: WILDS layout through the wilds package, stand-in, CNS in the summary."""

from __future__ import annotations

import pytest

from nht_monitor.demos.waterbirds.data import GROUPS, load_waterbirds, synthetic_splits
from nht_monitor.cli import main as cli_main
from tests.demos.fixtures import write_waterbirds
from tests.demos.helpers import assert_assessed_log

METRICS = ("train_loss", "train_acc", "val_acc", "test_acc", "clean_acc", "worst_group_acc",
           "acc_landbird_land", "acc_waterbird_land")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_waterbirds(tmp_path_factory.mktemp("wb"))


def test_wilds_layout_groups(root):
    splits = load_waterbirds(root, size=32)
    assert {k: len(v) for k, v in splits.items()} == {"train": 24, "val": 12, "test": 12}
    # fixture rows: y = (i // 2) % 2, place = i % 2, group = 2 * y + place
    assert [splits["train"][i][1:] for i in range(4)] == [(0, 0), (0, 1), (1, 2), (1, 3)]
    assert splits["test"].group_names == list(GROUPS)


def test_missing_release_file_is_a_clear_error(tmp_path):
    (tmp_path / "waterbirds_v1.0").mkdir()
    with pytest.raises(FileNotFoundError, match="RELEASE_v1.0.txt"):
        load_waterbirds(tmp_path, size=32)


def test_stand_in_is_shortcut_aligned_in_train_only():
    splits = synthetic_splits(800, seed=0)
    def aligned(ds):
        g = ds.groups
        return float(((g == 0) | (g == 3)).float().mean())
    assert aligned(splits["train"]) > 0.9
    assert 0.35 < aligned(splits["test"]) < 0.65


@pytest.mark.parametrize("synthetic", [False, True])
def test_quick_run_reports_cns(root, synthetic, tmp_path, capsys):
    args = ["demo", "waterbirds", "--quick", "--no-progress", "--log-dir", str(tmp_path)]
    args += ["--synthetic"] if synthetic else ["--data-root", str(root), "--image-size", "32"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "Clean Norm Separation (monitor's CNS check)" in out
    assert ("STAND-IN" in out) == synthetic
    prefix = "waterbirds-standin" if synthetic else "waterbirds"
    last = assert_assessed_log(tmp_path / f"{prefix}-cnn6-small-wd0.1-s0.jsonl", metrics=METRICS)
    holds = last.cns.holds
    verdict = "holds" if holds else ("fails" if holds is False else "undecided")
    assert f"λ=0.1: {verdict}" in out
