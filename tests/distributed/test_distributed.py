"""DDP and sharded (FSDP2 / DTensor) norms equal the unsharded model's; only rank 0 serves.

Two real processes on the gloo backend (CPU), started with ``torch.multiprocessing.spawn``.
"""

from __future__ import annotations

import json
import math
import time

import pytest
import torch
import torch.multiprocessing as mp
from prometheus_client.parser import text_string_to_metric_families

import nht_monitor
from tests.distributed import workers

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or
                                not torch.distributed.is_gloo_available(),
                                reason="torch.distributed with gloo is needed")

WORLD_SIZE = 2
REL = 1e-5
SPAWN_TIMEOUT = 240
NAMES = ("ddp", "fsdp2", "fsdp2-mixed", "dtensor", "fsdp1-orig1", "fsdp1-orig0")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    """Run the 2 workers once; every result file and the reference run log."""
    out = tmp_path_factory.mktemp("distributed")
    torch.set_num_threads(1)
    context = mp.spawn(workers.worker, args=(WORLD_SIZE, str(out / "init"), str(out)),
                       nprocs=WORLD_SIZE, join=False)
    deadline = time.monotonic() + SPAWN_TIMEOUT
    while not context.join(timeout=1):  # re-raises a worker's exception
        if time.monotonic() > deadline:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
            pytest.fail(f"the {WORLD_SIZE} workers did not finish in {SPAWN_TIMEOUT} s")
    found = {}
    for name in NAMES:
        for rank in range(WORLD_SIZE):
            found[name, rank] = json.loads((out / f"{name}.rank{rank}.json").read_text())
    found["reference"] = workers.reference_run(str(out / "reference"), "reference")
    found["reference-mixed"] = workers.reference_run(str(out / "reference"), "reference-mixed",
                                                     workers.Mixed)
    return found


def assert_norms_equal(got: nht_monitor.Sample, expected: nht_monitor.Sample,
                       grads: bool = True) -> None:
    assert got.layer_norms.keys() == expected.layer_norms.keys()
    for layer, value in expected.layer_norms.items():
        assert math.isclose(got.layer_norms[layer], value, rel_tol=REL), (layer, got.step)
    assert math.isclose(got.norm, expected.norm, rel_tol=REL)
    assert math.isclose(got.head_norm, expected.head_norm, rel_tol=REL)
    if grads:
        for layer, value in expected.layer_grad_norms.items():
            assert math.isclose(got.layer_grad_norms[layer], value, rel_tol=REL), (layer, got.step)
        assert math.isclose(got.grad_norm, expected.grad_norm, rel_tol=REL)


@pytest.mark.parametrize("name", ["ddp", "fsdp2"])
def test_trained_norms_equal_the_unsharded_model(results, name):
    log = nht_monitor.read_run(results[name, 0]["log_path"])
    reference = results["reference"]
    assert [s.step for s in log.samples] == [s.step for s in reference.samples] == \
        list(range(1, workers.STEPS + 1))
    for got, expected in zip(log.samples, reference.samples):
        assert_norms_equal(got, expected)


def test_sharded_buckets_of_several_dtypes_equal_the_unsharded_model(results):
    """float32 and float64 layers interleaved: two sharded buckets whose squared norms
    share one all-reduced vector; every layer's weight and grad norm must land right."""
    assert results["fsdp2-mixed", 0]["sharded_buckets"] == 2
    log = nht_monitor.read_run(results["fsdp2-mixed", 0]["log_path"])
    reference = results["reference-mixed"]
    assert log.header.layers == ["a", "b", "c", "d"]
    assert len(log.samples) == len(reference.samples) == workers.STEPS
    for got, expected in zip(log.samples, reference.samples, strict=True):
        assert_norms_equal(got, expected)
    for rank in range(WORLD_SIZE):  # still one all_reduce per sample
        assert results["fsdp2-mixed", rank]["all_reduce_calls"] == workers.STEPS


def test_distribute_tensor_shard0_weight_norms_equal_the_unsharded_model(results):
    log = nht_monitor.read_run(results["dtensor", 0]["log_path"])
    model = workers.tiny_model()
    expected = {name: float(module.weight.detach().square().sum().add(
                    module.bias.detach().square().sum()).sqrt())
                for name, module in model.named_children()
                if isinstance(module, torch.nn.Linear)}
    [sample] = log.samples
    assert sample.layer_norms.keys() == expected.keys()
    for layer, value in expected.items():
        assert math.isclose(sample.layer_norms[layer], value, rel_tol=REL), layer


def test_fsdp1_original_parameters_norms_equal_the_unsharded_model(results):
    log = nht_monitor.read_run(results["fsdp1-orig1", 0]["log_path"])
    for got, expected in zip(log.samples, results["reference"].samples, strict=True):
        assert_norms_equal(got, expected)


def test_fsdp1_flat_parameter_total_norms_equal_the_unsharded_model(results):
    """Flat parameters hide the layers (one ``<root>`` layer); the totals must be right."""
    log = nht_monitor.read_run(results["fsdp1-orig0", 0]["log_path"])
    assert results["fsdp1-orig0", 0]["sharded"] is True
    for got, expected in zip(log.samples, results["reference"].samples, strict=True):
        assert math.isclose(got.norm, expected.norm, rel_tol=REL)
        assert math.isclose(got.grad_norm, expected.grad_norm, rel_tol=REL)


@pytest.mark.parametrize("name", NAMES)
def test_only_rank_0_serves_metrics(results, name):
    rank0, rank1 = results[name, 0], results[name, 1]
    assert rank0["url"] is not None and rank1["url"] is None
    assert rank1["scrape"] is None
    log = nht_monitor.read_run(rank0["log_path"])
    served = {(s.name, s.labels.get("layer")): s.value
              for family in text_string_to_metric_families(rank0["scrape"])
              for s in family.samples if s.labels.get("run") == name}
    for layer, value in log.samples[-1].layer_norms.items():
        assert served["nht_layer_weight_norm", layer] == value
    assert served["nht_samples_total", None] == len(log.samples)


def test_sharded_norms_use_one_all_reduce_per_sample(results):
    for rank in range(WORLD_SIZE):
        assert results["fsdp2", rank]["sharded"] is True
        assert results["fsdp2", rank]["all_reduce_calls"] == workers.STEPS
        assert results["dtensor", rank]["all_reduce_calls"] == 1
        assert results["fsdp1-orig0", rank]["sharded"] is True
        assert results["fsdp1-orig0", rank]["all_reduce_calls"] == workers.STEPS
        # replicated (DDP) parameters are never reduced by the sampler
        assert results["ddp", rank]["sharded"] is False
        assert results["ddp", rank]["all_reduce_calls"] == 0
        assert results["ddp", rank]["samples_total"] == workers.STEPS
