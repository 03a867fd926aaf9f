"""Batched, sync-free sampling of per-layer weight and gradient L2 norms.

:meth:`NormSampler.launch` enqueues the work of one sample on the devices and returns
at once: per (device, dtype) bucket one ``torch._foreach_norm`` (accumulated in
float32 whatever the parameter dtype), the squares summed per layer with one
``index_add_``, and on CUDA one ``non_blocking`` copy into a pinned host buffer
followed by an event. :meth:`PendingNorms.result` reads the host buffers once the
events have completed (``ready()``), so the training loop never waits for the device.
No ``.item()`` is ever called.

Sharded parameters (DTensor with ``Shard`` placements, as made by FSDP2
``fully_shard``; FSDP1 flat parameters) hold a part of each tensor per rank: their
squared norms are summed across the shard group with one ``all_reduce`` per sample
and process group, before the square root. Replicated parameters (DDP) need none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from nht_monitor.layers import LayerMap

try:  # public since torch 2.5
    from torch.distributed.tensor import DTensor
except ImportError:  # pragma: no cover - very old torch or no distributed build
    DTensor = None  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class NormResult:
    """Norms of one sample, float64 on the host.

    ``layer`` and ``grad_layer`` are per-layer norms (``grad_layer`` is NaN for layers
    without any gradient, and ``grad_present`` says which had one); ``total``,
    ``head``, ``grad_total`` are the norms over all (head) layers.
    """

    layer: np.ndarray
    total: float
    head: float | None
    grad_layer: np.ndarray | None
    grad_present: np.ndarray | None
    grad_total: float | None


def _local(tensor: torch.Tensor) -> torch.Tensor:
    if DTensor is not None and isinstance(tensor, DTensor):
        return tensor.to_local()
    return tensor


def _shard_groups(param: torch.Tensor) -> tuple[object, ...]:
    """The process groups across which ``param``'s squared norm must be summed."""
    if DTensor is not None and isinstance(param, DTensor):
        groups = []
        for dim, placement in enumerate(param.placements):
            if placement.is_partial():
                raise ValueError("parameters with a Partial placement cannot be sampled: "
                                 "their local tensors are partial sums")
            if placement.is_shard():
                groups.append(param.device_mesh.get_group(dim))
        return tuple(groups)
    return ()


def _fsdp1_groups(model: torch.nn.Module) -> dict[int, object]:
    """For FSDP1-wrapped models: id(parameter) → the process group of the innermost FSDP
    unit that owns it (flat parameters, and with ``use_orig_params=True`` the original
    parameters, which are views of this rank's shard)."""
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    except ImportError:  # pragma: no cover
        return {}
    found: dict[int, object] = {}
    units = [m for m in model.modules() if isinstance(m, FSDP)]
    for module in reversed(units):  # innermost first: it owns its parameters
        for param in module.parameters():
            found.setdefault(id(param), module.process_group)
        flat = getattr(module, "_flat_param", None)
        if flat is not None:
            found.setdefault(id(flat), module.process_group)
    return found


@dataclass
class _Bucket:
    """Tensors of one (device, dtype, shard-group) kind and the layer of each."""

    device: torch.device
    groups: tuple[object, ...]
    params: list[torch.Tensor]
    layer_index: torch.Tensor  # int64 on device, one entry per tensor
    layer_list: list[int]
    grad_index_cache: dict[bytes, torch.Tensor] = field(default_factory=dict)


@dataclass
class PendingNorms:
    """One launched sample: host buffers that fill asynchronously, and their events."""

    sampler: NormSampler
    host: list[torch.Tensor]
    events: list[object]
    grad_present: np.ndarray | None
    buffers: list[tuple[torch.device, torch.Tensor]]

    def ready(self) -> bool:
        """True when every device has finished writing (never blocks)."""
        return all(event.query() for event in self.events)  # type: ignore[attr-defined]

    def wait(self) -> None:
        for event in self.events:
            event.synchronize()  # type: ignore[attr-defined]

    def result(self) -> NormResult:
        """Norms of this sample (waits for the devices if not ``ready()``)."""
        self.wait()
        n = self.sampler.n_layers
        total = np.zeros(3 * n, dtype=np.float64)
        for host in self.host:
            total += host.numpy().astype(np.float64, copy=False)
        self.sampler._release(self.buffers)
        grad_present = self.grad_present
        if grad_present is not None:  # a shard may hold a layer's grad on another rank
            grad_present = grad_present | (total[2 * n:] > 0)
        return self.sampler._finish(total[:2 * n], grad_present)


class NormSampler:
    """Computes every layer's weight (and gradient) norm of ``layer_map`` per sample.

    ``head_layers`` are the layer indices of the classification head (may be set
    later with :meth:`set_head`). ``model`` is only used to find FSDP1 process groups.
    """

    def __init__(self, layer_map: LayerMap, *, grads: bool = True,
                 head_layers: Sequence[int] | None = None,
                 model: torch.nn.Module | None = None) -> None:
        self.layer_map = layer_map
        self.n_layers = len(layer_map.names)
        self.grads = grads
        self.head_layers: np.ndarray | None = None
        self.set_head(head_layers)
        fsdp1 = _fsdp1_groups(model) if model is not None else {}
        kinds: dict[tuple[torch.device, torch.dtype, tuple[object, ...]], list[int]] = {}
        for i, param in enumerate(layer_map.params):
            local = _local(param)
            groups = _shard_groups(param)
            if not groups and id(param) in fsdp1:
                groups = (fsdp1[id(param)],)
            kinds.setdefault((local.device, local.dtype, groups), []).append(i)
        self._buckets: list[_Bucket] = []
        for (device, _dtype, groups), members in kinds.items():
            layers = [layer_map.layer_of[i] for i in members]
            self._buckets.append(_Bucket(
                device=device, groups=groups,
                params=[layer_map.params[i] for i in members],
                layer_index=torch.tensor(layers, dtype=torch.long, device=device),
                layer_list=layers))
        self.devices = sorted({b.device for b in self._buckets}, key=str)
        self.sharded = any(b.groups for b in self._buckets)
        self._pool: dict[torch.device, list[torch.Tensor]] = {d: [] for d in self.devices}

    def set_head(self, head_layers: Iterable[int] | None) -> None:
        self.head_layers = (None if head_layers is None
                            else np.asarray(sorted(set(head_layers)), dtype=np.int64))

    # -- device side -------------------------------------------------------------
    def _grad_index(self, bucket: _Bucket, present: list[bool]) -> torch.Tensor:
        key = np.packbits(np.asarray(present, dtype=bool)).tobytes() + bytes([len(present) % 8])
        cached = bucket.grad_index_cache.get(key)
        if cached is None:
            layers = [layer for layer, has in zip(bucket.layer_list, present) if has]
            cached = torch.tensor(layers, dtype=torch.long, device=bucket.device)
            if len(bucket.grad_index_cache) > 64:
                bucket.grad_index_cache.clear()
            bucket.grad_index_cache[key] = cached
        return cached

    def launch(self) -> PendingNorms:
        """Enqueue one sample's norm computation; returns without waiting."""
        n = self.n_layers
        # [weight² per layer | grad² per layer | grad presence per layer (sharded only)]
        accum = {d: torch.zeros(3 * n, dtype=torch.float32, device=d) for d in self.devices}
        sharded: dict[tuple[torch.device, tuple[object, ...]], torch.Tensor] = {}
        grad_present = np.zeros(n, dtype=bool) if self.grads else None
        with torch.no_grad():
            for bucket in self._buckets:
                target = accum[bucket.device]
                if bucket.groups:
                    key = (bucket.device, bucket.groups)
                    if key not in sharded:
                        sharded[key] = torch.zeros(3 * n, dtype=torch.float32,
                                                   device=bucket.device)
                    target = sharded[key]
                locals_ = [_local(p.detach()) for p in bucket.params]
                norms = torch._foreach_norm(locals_, 2, dtype=torch.float32)
                target[:n].index_add_(0, bucket.layer_index, torch.stack(norms).square())
                if self.grads:
                    grads = [p.grad for p in bucket.params]
                    present = [g is not None for g in grads]
                    if any(present):
                        index = (bucket.layer_index if all(present)
                                 else self._grad_index(bucket, present))
                        gnorms = torch._foreach_norm(
                            [_local(g) for g in grads if g is not None], 2, dtype=torch.float32)
                        target[n:2 * n].index_add_(0, index, torch.stack(gnorms).square())
                        if bucket.groups:  # presence is summed across the shard group too
                            target[2 * n:].index_fill_(0, index, 1.0)
                        else:
                            grad_present[[layer for layer, has in zip(bucket.layer_list, present)  # type: ignore[index]
                                          if has]] = True
            if sharded:
                import torch.distributed as dist
                for (device, groups), vector in sharded.items():
                    for group in groups:
                        dist.all_reduce(vector, op=dist.ReduceOp.SUM, group=group)
                    accum[device] += vector
        return self._to_host(accum, grad_present)

    def _to_host(self, accum: dict[torch.device, torch.Tensor],
                 grad_present: np.ndarray | None) -> PendingNorms:
        host: list[torch.Tensor] = []
        events: list[object] = []
        buffers: list[tuple[torch.device, torch.Tensor]] = []
        for device, vector in accum.items():
            if device.type == "cpu":
                host.append(vector)
                continue
            pool = self._pool[device]
            buffer = pool.pop() if pool else torch.empty(
                vector.shape, dtype=vector.dtype, pin_memory=torch.cuda.is_available())
            buffer.copy_(vector, non_blocking=True)
            event = torch.cuda.Event() if device.type == "cuda" else None
            if event is not None:
                event.record(torch.cuda.current_stream(device))
                events.append(event)
            host.append(buffer)
            buffers.append((device, buffer))
        return PendingNorms(self, host, events, grad_present, buffers)

    def _release(self, buffers: list[tuple[torch.device, torch.Tensor]]) -> None:
        for device, buffer in buffers:
            if len(self._pool[device]) < 4:
                self._pool[device].append(buffer)
        buffers.clear()

    # -- host side ---------------------------------------------------------------
    def _finish(self, sq: np.ndarray, grad_present: np.ndarray | None) -> NormResult:
        n = self.n_layers
        weight_sq, grad_sq = sq[:n], sq[n:]
        head = None
        if self.head_layers is not None and self.head_layers.size:
            head = float(np.sqrt(weight_sq[self.head_layers].sum()))
        grad_layer = grad_total = None
        if grad_present is not None and grad_present.any():
            grad_layer = np.where(grad_present, np.sqrt(grad_sq), np.nan)
            grad_total = float(np.sqrt(grad_sq[grad_present].sum()))
        return NormResult(layer=np.sqrt(weight_sq), total=float(np.sqrt(weight_sq.sum())),
                          head=head, grad_layer=grad_layer,
                          grad_present=grad_present if grad_layer is not None else None,
                          grad_total=grad_total)

    def compute(self) -> NormResult:
        """Launch and wait: the norms right now (for tests, tools and close())."""
        return self.launch().result()
