"""Norms against a float64 brute-force reference (torch.linalg.vector_norm on .double())."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nht_monitor.live import norms
from nht_monitor.live.layers import build_layer_map, layers_of_module
from nht_monitor.live.sampler import NormSampler

REL = 1e-5


def reference(layer_map, grads=False):
    per_layer = {}
    for param, layer in zip(layer_map.params, layer_map.layer_of):
        tensor = param.grad if grads else param
        if tensor is None:
            continue
        sq = torch.linalg.vector_norm(tensor.detach().double()) ** 2
        per_layer[layer] = per_layer.get(layer, 0.0) + float(sq)
    return {k: math.sqrt(v) for k, v in per_layer.items()}


class Odd(nn.Module):
    """Parameters of awkward shapes: empty, 0-dim, large, and a plain Linear."""

    def __init__(self, dtype):
        super().__init__()
        self.empty = nn.Parameter(torch.empty(0, 5, dtype=dtype))
        self.scalar = nn.Parameter(torch.tensor(-3.5, dtype=dtype))
        self.big = nn.Parameter(torch.randn(300, 200, dtype=dtype) * 7)
        self.fc = nn.Linear(10, 4).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_weight_norms_match_float64_reference(dtype):
    torch.manual_seed(1)
    model = Odd(dtype)
    layer_map = build_layer_map(model, split_bias=True)
    sampler = NormSampler(layer_map, grads=False,
                          head_layers=layers_of_module(layer_map, "fc"))
    result = sampler.compute()
    ref = reference(layer_map)
    for i, name in enumerate(layer_map.names):
        assert result.layer[i] == pytest.approx(ref[i], rel=REL, abs=1e-12), name
    total = math.sqrt(sum(v * v for v in ref.values()))
    assert result.total == pytest.approx(total, rel=REL)
    head = math.sqrt(sum(ref[i] ** 2 for i in layers_of_module(layer_map, "fc")))
    assert result.head == pytest.approx(head, rel=REL)
    assert layer_map.names == ("empty", "scalar", "big", "fc.weight", "fc.bias")
    assert result.layer[0] == 0.0 and result.layer[1] == pytest.approx(3.5)


def test_grouping_by_module_puts_weight_and_bias_together():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    layer_map = build_layer_map(model)
    assert layer_map.names == ("0", "2")
    result = NormSampler(layer_map, grads=False).compute()
    ref = reference(layer_map)
    assert result.layer == pytest.approx([ref[0], ref[1]], rel=REL)


def test_grad_norms_and_missing_grads():
    torch.manual_seed(2)
    model = nn.ModuleDict({"a": nn.Linear(5, 5), "b": nn.Linear(5, 5), "unused": nn.Linear(5, 1)})
    layer_map = build_layer_map(model)
    sampler = NormSampler(layer_map, grads=True)
    assert sampler.compute().grad_total is None  # no backward yet
    out = model["b"](model["a"](torch.randn(7, 5))).pow(2).sum()
    out.backward()
    result = sampler.compute()
    ref = reference(layer_map, grads=True)
    names = list(layer_map.names)
    for name in ("a", "b"):
        i = names.index(name)
        assert result.grad_layer[i] == pytest.approx(ref[i], rel=REL)
        assert result.grad_present[i]
    unused = names.index("unused")
    assert not result.grad_present[unused] and math.isnan(result.grad_layer[unused])
    assert result.grad_total == pytest.approx(math.sqrt(sum(v * v for v in ref.values())), rel=REL)


def test_nonfinite_norms_are_reported_not_raised():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
        model[1].bias[0] = float("inf")
    result = NormSampler(build_layer_map(model), grads=False).compute()
    assert math.isnan(result.layer[0]) and math.isinf(result.layer[1])
    assert not math.isfinite(result.total)


def test_launch_does_not_read_values_until_result(monkeypatch):
    """The sampling path never calls .item() (one host read at result time on CPU)."""
    model = nn.Sequential(*[nn.Linear(8, 8) for _ in range(20)])
    sampler = NormSampler(build_layer_map(model), grads=False)
    calls = []
    original = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda self: calls.append(1) or original(self))
    pending = sampler.launch()
    assert calls == []
    assert pending.ready()
    pending.result()
    assert calls == []


def test_many_layers_use_few_foreach_calls(monkeypatch):
    """All weights and present grads of one device and dtype go through one
    _foreach_norm call."""
    model = nn.Sequential(*[nn.Linear(4, 4) for _ in range(50)])
    calls = []
    original = torch._foreach_norm
    monkeypatch.setattr(torch, "_foreach_norm",
                        lambda tensors, *a, **k: calls.append(len(tensors)) or original(tensors, *a, **k))
    sampler = NormSampler(build_layer_map(model), grads=True)
    sampler.compute()
    assert calls == [100]  # no grads yet
    model(torch.randn(2, 4)).sum().backward()
    sampler.compute()
    assert calls == [100, 200]


def test_mixed_dtypes_and_partial_grads_match_reference():
    """Several (dtype) buckets, split bias, grads present on some tensors only, and
    the presence pattern changing from one sample to the next."""
    torch.manual_seed(3)
    model = nn.ModuleDict({"a": nn.Linear(6, 5), "b": nn.Linear(5, 4).to(torch.bfloat16),
                           "c": nn.Linear(4, 3).double(), "d": nn.Linear(3, 2).to(torch.float16)})
    layer_map = build_layer_map(model, split_bias=True)
    sampler = NormSampler(layer_map, grads=True)
    names = list(layer_map.names)
    for used in (("a", "c"), ("a", "b", "c", "d"), ("b",)):
        for p in model.parameters():
            p.grad = None
        for name in used:
            layer = model[name]
            out = layer(torch.randn(3, layer.in_features, dtype=layer.weight.dtype))
            out.float().pow(2).sum().backward()
        result = sampler.compute()
        ref_w, ref_g = reference(layer_map), reference(layer_map, grads=True)
        for i, name in enumerate(names):
            assert result.layer[i] == pytest.approx(ref_w[i], rel=REL), name
            if i in ref_g:
                assert result.grad_present[i]
                assert result.grad_layer[i] == pytest.approx(ref_g[i], rel=REL), name
            else:
                assert not result.grad_present[i] and math.isnan(result.grad_layer[i])
        assert result.grad_total == pytest.approx(
            math.sqrt(sum(v * v for v in ref_g.values())), rel=REL)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_sampling_is_sync_free():
    model = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 10)).cuda()
    model(torch.randn(4, 64, device="cuda")).sum().backward()
    sampler = NormSampler(build_layer_map(model), grads=True)
    sampler.compute()  # warm up allocations and index caches
    torch.cuda.set_sync_debug_mode("error")
    try:
        pending = sampler.launch()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    result = pending.result()
    ref = reference(sampler.layer_map)
    assert result.layer == pytest.approx([ref[0], ref[1]], rel=REL)
    assert np.isfinite(result.grad_layer).all()


def test_buckets_group_by_device_and_dtype_and_norm_against_the_reference():
    """The one norms module: parameters grouped by (device, dtype, shard groups) in
    order of first appearance; each bucket's vector of norms equals float64 norms."""
    torch.manual_seed(4)
    params = [torch.randn(30, 7), torch.randn(5, dtype=torch.float64),
              torch.randn(300).to(torch.bfloat16), torch.randn(2, 3, 4), torch.tensor(2.0)]
    found = norms.buckets(params)
    assert [(b.dtype, b.index) for b in found] == [
        (torch.float32, [0, 3, 4]), (torch.float64, [1]), (torch.bfloat16, [2])]
    assert [b.accumulate for b in found] == [torch.float32, torch.float64, torch.float32]
    assert all(b.groups == () and not b.distributed for b in found)
    for bucket in found:
        vector = bucket.norms(bucket.params)
        assert vector.dtype == bucket.accumulate
        expected = [float(torch.linalg.vector_norm(p.double())) for p in bucket.params]
        assert vector.tolist() == pytest.approx(expected, rel=REL)
    assert norms.shard_groups(params[0]) == () and norms.local(params[0]) is params[0]


def test_sharded_squares_put_zeros_where_grads_are_absent():
    """A sharded bucket's all-reduced vector is [weight² | grad² (0 where this rank has
    no grad) | presence], the same shape on every rank whatever grads it holds."""
    model = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(2, 2)})
    sampler = NormSampler(build_layer_map(model), grads=True)
    [bucket] = sampler._buckets
    weights = [float(p.detach().double().square().sum()) for p in bucket.params]
    values, present = sampler._bucket_norms(bucket)  # no grads yet
    assert present == (False,) * 4
    assert sampler._sharded_squares(bucket, values, present).tolist() == pytest.approx(
        weights + [0.0] * 8, rel=REL)
    model["b"](torch.randn(4, 2)).sum().backward()  # grads on b only
    for _ in range(2):  # made, then from the cache
        values, present = sampler._bucket_norms(bucket)
        assert present == (False, False, True, True)
        vector = sampler._sharded_squares(bucket, values, present).tolist()
        grads = [0.0, 0.0] + [float(p.grad.double().square().sum()) for p in bucket.params[2:]]
        assert vector == pytest.approx(weights + grads + [0.0, 0.0, 1.0, 1.0], rel=REL)
