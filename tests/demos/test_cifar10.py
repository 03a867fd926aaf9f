"""CIFAR-10 demo: the real pickle layout (md5 not blocking), the border shortcut, quick runs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from nht_monitor.demos.cifar10.data import BorderedDataset, load_cifar10, synthetic_cifar
from nht_monitor.demos.common import shapes
from nht_monitor.cli import main as cli_main
from tests.demos.fixtures import write_cifar10
from tests.demos.helpers import assert_assessed_log

METRICS = ("train_loss", "train_acc", "val_acc", "clean_acc", "random_acc", "worst_group_acc",
           "acc_border_aligned", "acc_border_conflicting")


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory):
    return write_cifar10(tmp_path_factory.mktemp("cifar"))


def test_reads_the_standard_pickles_without_md5(cifar_root):
    x, y = load_cifar10(cifar_root, train=True)
    assert x.shape == (200, 3, 32, 32) and x.dtype == torch.uint8 and y.shape == (200,)
    with open(cifar_root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        raw = pickle.load(f, encoding="latin1")
    first = torch.from_numpy(np.asarray(raw["data"][0]).reshape(3, 32, 32))
    assert torch.equal(x[0], first) and y[:40].tolist() == raw["labels"]
    xt, yt = load_cifar10(cifar_root, train=False)
    assert xt.shape[0] == 60


def test_missing_or_incomplete_data_is_a_clear_error(tmp_path, cifar_root):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        load_cifar10(tmp_path, train=True)
    broken = tmp_path / "b"
    (broken / "cifar-10-batches-py").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="incomplete"):
        load_cifar10(broken, train=True)


def test_border_shortcut_strength():
    x, y = synthetic_cifar(400, seed=0)
    perfect = BorderedDataset(x, y, "shortcut", rho=1.0, seed=1)
    assert bool((perfect.colours == y).all()) and set(perfect.groups.tolist()) == {0}
    none = BorderedDataset(x, y, "shortcut", rho=0.0, seed=1)
    agree = float((none.colours == y).float().mean())
    assert 0.03 < agree < 0.2  # chance level 1/10
    img, label, group = perfect[5]
    colour = torch.from_numpy(shapes.PALETTE[label].astype(np.float32) / 255)
    assert torch.allclose(img[:, 0, 0], colour) and torch.allclose(img[:, -1, 10], colour)
    clean = BorderedDataset(x, y, "clean", rho=1.0, seed=1)
    cimg, _, cgroup = clean[5]
    assert cgroup == 2 and torch.equal(cimg, x[5].float() / 255)
    with pytest.raises(ValueError):
        BorderedDataset(x, y, "shortcut", rho=1.5, seed=0)


def test_quick_run_on_the_real_layout(cifar_root, tmp_path, capsys):
    code = cli_main(["demo", "cifar10", "--data-root", str(cifar_root), "--quick",
                     "--no-progress", "--log-dir", str(tmp_path), "--weight-decay", "0.05"])
    assert code == 0
    out = capsys.readouterr().out
    assert "real data" in out and "STAND-IN" not in out
    assert_assessed_log(tmp_path / "cifar10-cnn6-small-wd0.05-s0.jsonl", metrics=METRICS)


def test_quick_run_on_the_stand_in_says_so(tmp_path, capsys):
    code = cli_main(["demo", "cifar10", "--synthetic", "--quick", "--no-progress",
                     "--log-dir", str(tmp_path), "--epochs", "1"])
    assert code == 0
    assert "STAND-IN" in capsys.readouterr().out
    path = tmp_path / "cifar10-standin-cnn6-small-wd0.1-s0.jsonl"
    assert_assessed_log(path, metrics=METRICS)


def test_without_data_root_or_synthetic_the_cli_fails_cleanly(tmp_path, capsys):
    assert cli_main(["demo", "cifar10", "--quick", "--log-dir", str(tmp_path)]) == 2
    assert "--data-root" in capsys.readouterr().err


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_quick_run_on_cuda_uses_the_gpu_path(cifar_root, tmp_path):
    code = cli_main(["demo", "cifar10", "--data-root", str(cifar_root), "--quick", "--device",
                     "cuda", "--no-progress", "--log-dir", str(tmp_path), "--model", "resnet18"])
    assert code == 0
    assert_assessed_log(tmp_path / "cifar10-resnet18-wd0.1-s0.jsonl", metrics=METRICS)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_asking_for_cuda_without_one_is_a_clear_error(cifar_root, tmp_path, capsys):
    code = cli_main(["demo", "cifar10", "--data-root", str(cifar_root), "--quick", "--device",
                     "cuda", "--no-progress", "--log-dir", str(tmp_path)])
    assert code == 2 and "CUDA" in capsys.readouterr().err
