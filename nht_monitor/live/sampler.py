"""Batched, sync-free sampling of per-layer weight and gradient L2 norms.

:meth:`NormSampler.launch` enqueues the work of one sample on the devices and returns
at once: per (device, dtype) bucket one ``torch._foreach_norm`` over its weights and
gradients together and one ``stack`` (:meth:`nht_monitor.live.norms.Bucket.norms`:
accumulated in float32 for 16- and 32-bit parameters, in float64 for float64 ones),
per device one ``cat`` of the buckets' vectors when there are several, and on CUDA
one ``non_blocking`` copy into a pinned host buffer followed by an event.
:meth:`PendingNorms.result` reads the host vectors once the events have completed
(``ready()``), so the training loop never waits for the device, and sums the squares
per layer on the host. No ``.item()`` is ever called.

Sharded parameters (DTensor with ``Shard`` placements, as made by FSDP2
``fully_shard``; FSDP1 flat parameters; see :mod:`nht_monitor.live.norms`) hold a
part of each tensor per rank: their squared norms are summed across the shard group
with one ``all_reduce`` per sample and process group, before the square root.
Replicated parameters (DDP) need none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from nht_monitor.live import norms
from nht_monitor.live.layers import LayerMap
from nht_monitor.live.norms import Bucket


@dataclass(frozen=True)
class NormResult:
    """Norms of one sample, Python floats (float64) on the host.

    ``layer`` and ``grad_layer`` are per-layer norms (``grad_layer`` is NaN for layers
    without any gradient, and ``grad_present`` says which had one); ``total`` and
    ``head`` are the norms over the (head) layers weight decay acts on
    (:attr:`~nht_monitor.live.layers.LayerMap.decayed`: all of them when it acts on
    every one), ``grad_total`` over all layers.
    """

    layer: list[float]
    total: float
    head: float | None
    grad_layer: list[float] | None
    grad_present: list[bool] | None
    grad_total: float | None


@dataclass(frozen=True)
class _DevicePlan:
    """The buckets of one device in the order their norms go into its result vector:
    the unsharded ones, then the sharded ones grouped by process groups (one
    all-reduce per group). :meth:`NormSampler.launch` and the host layout both follow
    it, so the two cannot disagree."""

    device: torch.device
    local: list[Bucket]
    sharded: list[tuple[tuple[object, ...], list[Bucket]]]


_NORM, _SQUARE, _PRESENCE = 0, 1, 2


@dataclass(frozen=True)
class _Layout:
    """Where each entry of one device's result vector goes on the host, in the order
    :meth:`NormSampler.launch` builds it: ``kinds[i]`` says whether entry ``i`` is an
    L2 norm, a squared norm (the all-reduced sharded part) or a grad-presence count;
    ``slots[i]`` is a layer index ``< n`` for weights and ``n + layer`` for gradients
    (the layer index for presence). ``grad_layers``: layers with a local gradient.
    Plain lists: a sample's host work is a few dozen float operations, cheaper in
    Python than through numpy's per-call overhead."""

    slots: list[int]
    kinds: list[int]
    norms_only: bool
    grad_layers: list[int]


@dataclass
class PendingNorms:
    """One launched sample: host vectors that fill asynchronously, and their events."""

    sampler: NormSampler
    host: list[tuple[torch.Tensor, _Layout]]
    events: list[object]
    buffers: list[tuple[tuple[object, ...], torch.Tensor]]  # (pool key, pinned buffer)

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
        sq = [0.0] * (2 * n)
        present = [False] * n if self.sampler.grads else None
        for vector, layout in self.host:
            values = vector.tolist()
            if layout.norms_only:
                for slot, value in zip(layout.slots, values):
                    sq[slot] += value * value
            else:
                for slot, kind, value in zip(layout.slots, layout.kinds, values):
                    if kind == _NORM:
                        sq[slot] += value * value
                    elif kind == _SQUARE:
                        sq[slot] += value
                    elif value > 0 and present is not None:  # a grad on another rank
                        present[slot] = True
            if present is not None:
                for layer in layout.grad_layers:
                    present[layer] = True
        self.sampler._release(self.buffers)
        return self.sampler._finish(sq, present)


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
        self._decayed = layer_map.decayed
        self.head_layers: list[int] | None = None
        self.set_head(head_layers)
        fsdp1 = norms.fsdp1_groups(model) if model is not None else {}
        self._buckets: list[Bucket] = norms.buckets(layer_map.params, fsdp1)
        self._plans: list[_DevicePlan] = []
        for device in sorted({b.device for b in self._buckets}, key=str):
            sharded: dict[tuple[object, ...], list[Bucket]] = {}
            for bucket in self._buckets:
                if bucket.device == device and bucket.groups:
                    sharded.setdefault(bucket.groups, []).append(bucket)
            self._plans.append(_DevicePlan(
                device, [b for b in self._buckets if b.device == device and not b.groups],
                list(sharded.items())))
        self.sharded = any(b.groups for b in self._buckets)
        self._layouts: dict[tuple[torch.device, tuple[bool, ...]], _Layout] = {}
        # grad-presence flags of sharded buckets and the positions of their present
        # grads, on their device (made once per pattern: a host-to-device copy per
        # sample would synchronise the stream)
        self._flags: dict[tuple[int, tuple[bool, ...]],
                          tuple[torch.Tensor, torch.Tensor | None]] = {}
        # pinned host buffers by (device, dtype, length), reused once their sample is read
        self._pool: dict[tuple[object, ...], list[torch.Tensor]] = {}

    def set_head(self, head_layers: Iterable[int] | None) -> None:
        """The head's layers, those weight decay does not act on left out (unless all)."""
        if head_layers is None:
            self.head_layers = None
            return
        layers = sorted(set(head_layers))
        self.head_layers = [i for i in layers if i not in self.layer_map.undecayed] or layers

    # -- device side -------------------------------------------------------------
    def launch(self) -> PendingNorms:
        """Enqueue one sample's norm computation; returns without waiting.

        Per (device, dtype) bucket one vector of the norms of its weights and present
        gradients (:meth:`~nht_monitor.live.norms.Bucket.norms`); per device one
        ``cat`` of those when there are several (and, for sharded buckets, one
        all_reduce of their squared norms per process group); the per-layer sums are
        made on the host by :meth:`PendingNorms.result`.
        """
        host: list[tuple[torch.Tensor, _Layout]] = []
        events: list[object] = []
        buffers: list[tuple[tuple[object, ...], torch.Tensor]] = []
        with torch.no_grad():
            for plan in self._plans:
                device = plan.device
                parts: list[torch.Tensor] = []
                present_all: tuple[bool, ...] = ()
                for bucket in plan.local:
                    values, present = self._bucket_norms(bucket)
                    parts.append(values)
                    present_all += present
                for groups, buckets in plan.sharded:
                    vector = torch.cat([self._sharded_squares(b, *self._bucket_norms(b))
                                        for b in buckets])
                    norms.all_reduce_sum(vector, groups)
                    parts.append(vector)
                vector = parts[0] if len(parts) == 1 else torch.cat(parts)
                layout = self._layout(plan, present_all)
                if device.type == "cpu":
                    host.append((vector, layout))
                    continue
                key = (device, vector.dtype, vector.numel())
                pool = self._pool.setdefault(key, [])
                buffer = pool.pop() if pool else torch.empty(
                    vector.shape, dtype=vector.dtype, pin_memory=torch.cuda.is_available())
                buffer.copy_(vector, non_blocking=True)
                if device.type == "cuda":
                    event = torch.cuda.Event()
                    event.record(torch.cuda.current_stream(device))
                    events.append(event)
                host.append((buffer, layout))
                buffers.append((key, buffer))
        return PendingNorms(self, host, events, buffers)

    def _bucket_norms(self, bucket: Bucket) -> tuple[torch.Tensor, tuple[bool, ...]]:
        """The norms of the bucket's weights then its present grads (one vector), and
        which grads were present."""
        params = bucket.local_params() if bucket.distributed else bucket.params
        if not self.grads:
            return bucket.norms(params), ()
        grads = [p.grad for p in bucket.params]
        present = tuple([g is not None for g in grads])
        found = grads if all(present) else [g for g in grads if g is not None]
        if bucket.distributed:
            found = [norms.local(g) for g in found]
        return bucket.norms(params + found), present

    def _sharded_squares(self, bucket: Bucket, values: torch.Tensor,
                         present: tuple[bool, ...]) -> torch.Tensor:
        """[weight² | grad² (0 where absent) | grad presence] of one sharded bucket:
        a fixed layout, so that every rank all-reduces vectors of the same shape."""
        if not present:
            return values.square()
        k = len(bucket.params)
        key = (id(bucket), present)
        cached = self._flags.get(key)
        if cached is None:
            if len(self._flags) > 64:
                self._flags.clear()
            flags = torch.tensor([float(has) for has in present], dtype=values.dtype,
                                 device=bucket.device)
            where = None if all(present) else torch.tensor(
                [i for i, has in enumerate(present) if has], dtype=torch.long,
                device=bucket.device)
            cached = self._flags[key] = (flags, where)
        flags, where = cached
        if where is not None:  # zeros in place of the absent grads
            grads = torch.zeros(k, dtype=values.dtype, device=bucket.device)
            values = torch.cat([values[:k], grads.index_copy_(0, where, values[k:])])
        return torch.cat([values.square(), flags])

    def _layout(self, plan: _DevicePlan, present: tuple[bool, ...]) -> _Layout:
        key = (plan.device, present)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._build_layout(plan, present)
            if len(self._layouts) > 64:
                self._layouts.clear()
            self._layouts[key] = layout
        return layout

    def _build_layout(self, plan: _DevicePlan, present: tuple[bool, ...]) -> _Layout:
        """The layout of ``launch``'s vector for ``plan``'s device: each unsharded
        bucket's weights, then its present grads; then each sharded bucket's
        [weight² | grad² | presence]."""
        n = self.n_layers
        slots: list[int] = []
        kinds: list[int] = []
        grad_layers: list[int] = []
        offset = 0
        for bucket in plan.local:
            layers = [self.layer_map.layer_of[i] for i in bucket.index]
            has = present[offset:offset + len(layers)]
            offset += len(has)
            with_grad = [layer for layer, found in zip(layers, has) if found]
            slots += layers + [n + layer for layer in with_grad]
            kinds += [_NORM] * (len(layers) + len(with_grad))
            grad_layers += with_grad
        for _groups, buckets in plan.sharded:
            for bucket in buckets:
                layers = [self.layer_map.layer_of[i] for i in bucket.index]
                slots += layers
                kinds += [_SQUARE] * len(layers)
                if self.grads:
                    slots += [n + layer for layer in layers] + layers
                    kinds += [_SQUARE] * len(layers) + [_PRESENCE] * len(layers)
        return _Layout(slots=slots, kinds=kinds, norms_only=all(k == _NORM for k in kinds),
                       grad_layers=grad_layers)

    def _release(self, buffers: list[tuple[tuple[object, ...], torch.Tensor]]) -> None:
        for key, buffer in buffers:
            pool = self._pool.setdefault(key, [])
            if len(pool) < 64:
                pool.append(buffer)
        buffers.clear()

    # -- host side ---------------------------------------------------------------
    def _finish(self, sq: list[float], grad_present: list[bool] | None) -> NormResult:
        n = self.n_layers
        weight_sq, grad_sq = sq[:n], sq[n:]
        decayed = self._decayed
        total = math.fsum(weight_sq if decayed is None else (weight_sq[i] for i in decayed))
        head = None
        if self.head_layers:
            head = math.sqrt(math.fsum(weight_sq[i] for i in self.head_layers))
        grad_layer = grad_total = None
        if grad_present is not None and any(grad_present):
            grad_layer = [math.sqrt(v) if has else math.nan
                          for v, has in zip(grad_sq, grad_present)]
            grad_total = math.sqrt(math.fsum(v for v, has in zip(grad_sq, grad_present) if has))
        return NormResult(layer=[math.sqrt(v) for v in weight_sq],
                          total=math.sqrt(total), head=head,
                          grad_layer=grad_layer,
                          grad_present=grad_present if grad_layer is not None else None,
                          grad_total=grad_total)

    def compute(self) -> NormResult:
        """Launch and wait: the norms right now (for tests, tools and close())."""
        return self.launch().result()
