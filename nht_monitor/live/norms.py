"""Batched L2 norms of many parameter tensors: what the sampler and NormClamp share.

* :func:`buckets` groups parameters by kind — (device, dtype, shard groups) — so that
  each kind takes one batched computation, and finds the process groups across which a
  sharded parameter's squared norm must be summed (DTensor ``Shard`` placements, as
  made by FSDP2 ``fully_shard``; FSDP1 units, :func:`fsdp1_groups`);
* :meth:`Bucket.norms` computes the L2 norms of a bucket's tensors (weights, and the
  gradients a caller adds) as one device vector, without a host sync: one
  ``torch._foreach_norm`` over them all (a fused kernel on CUDA) and one ``stack``,
  accumulated in float32 for 16- and 32-bit tensors and in float64 for float64 ones;
* :func:`all_reduce_sum` sums a vector of squared norms over the shard groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

try:  # public since torch 2.5
    from torch.distributed.tensor import DTensor
except ImportError:  # pragma: no cover - very old torch or no distributed build
    DTensor = None  # type: ignore[assignment,misc]


def is_dtensor(tensor: torch.Tensor) -> bool:
    return DTensor is not None and isinstance(tensor, DTensor)


def local(tensor: torch.Tensor) -> torch.Tensor:
    """This rank's part of a DTensor; any other tensor as it is."""
    return tensor.to_local() if is_dtensor(tensor) else tensor


def shard_groups(param: torch.Tensor) -> tuple[Any, ...]:
    """The process groups across which ``param``'s squared norm must be summed (one per
    ``Shard`` placement of a DTensor; none for a replicated or plain tensor). A
    ``Partial`` placement raises ``ValueError``: its local tensors are partial sums."""
    if not is_dtensor(param):
        return ()
    groups = []
    for dim, placement in enumerate(param.placements):
        if placement.is_partial():
            raise ValueError("parameters with a Partial placement cannot be normed: their "
                             "local tensors are partial sums")
        if placement.is_shard():
            groups.append(param.device_mesh.get_group(dim))
    return tuple(groups)


def fsdp1_groups(model: torch.nn.Module) -> dict[int, Any]:
    """For FSDP1-wrapped models: id(parameter) → the process group of the innermost FSDP
    unit that owns it (flat parameters, and with ``use_orig_params=True`` the original
    parameters, which are views of this rank's shard)."""
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    except ImportError:  # pragma: no cover
        return {}
    found: dict[int, Any] = {}
    units = [m for m in model.modules() if isinstance(m, FSDP)]
    for module in reversed(units):  # innermost first: it owns its parameters
        for param in module.parameters():
            found.setdefault(id(param), module.process_group)
        flat = getattr(module, "_flat_param", None)
        if flat is not None:
            found.setdefault(id(flat), module.process_group)
    return found


def all_reduce_sum(vector: torch.Tensor, groups: Sequence[Any]) -> None:
    """Sum ``vector`` (squared norms) in place across each of ``groups``."""
    import torch.distributed as dist

    for group in groups:
        dist.all_reduce(vector, op=dist.ReduceOp.SUM, group=group)


@dataclass(eq=False)
class Bucket:
    """Parameters of one kind: same device and dtype (of the local tensor), summed
    over the same shard ``groups``; ``index`` are their positions in the list given to
    :func:`buckets`."""

    device: torch.device
    dtype: torch.dtype
    groups: tuple[Any, ...]
    params: list[torch.Tensor]
    index: list[int]
    distributed: bool  # DTensor parameters: read their local shard

    @property
    def accumulate(self) -> torch.dtype:
        """float32 for 16/32-bit floats; float64 stays float64."""
        return torch.float64 if self.dtype == torch.float64 else torch.float32

    def local_params(self) -> list[torch.Tensor]:
        """The parameters as tensors to read or write in place (DTensor: local shard)."""
        with torch.no_grad():
            if self.distributed:
                return [local(p.detach()) for p in self.params]
            return [p.detach() for p in self.params]

    def norms(self, tensors: Sequence[torch.Tensor],
              accumulate: torch.dtype | None = None) -> torch.Tensor:
        """The L2 norm of each of ``tensors`` (on this bucket's device, of its dtype)
        as one vector of the ``accumulate`` dtype (default :attr:`accumulate`)."""
        return torch.stack(torch._foreach_norm(tensors, 2, dtype=accumulate or self.accumulate))


def buckets(params: Sequence[torch.Tensor],
            fsdp1: dict[int, Any] | None = None) -> list[Bucket]:
    """``params`` grouped by (device, dtype, shard groups) of their local tensors, in
    order of first appearance. ``fsdp1``: :func:`fsdp1_groups` of the model, for
    parameters that are not DTensors but shards of an FSDP1 unit."""
    kinds: dict[tuple[torch.device, torch.dtype, tuple[Any, ...]], list[int]] = {}
    for i, param in enumerate(params):
        with torch.no_grad():
            tensor = local(param)
        groups = shard_groups(param)
        if not groups and fsdp1 and id(param) in fsdp1:
            groups = (fsdp1[id(param)],)
        kinds.setdefault((tensor.device, tensor.dtype, groups), []).append(i)
    found = []
    for (device, dtype, groups), members in kinds.items():
        chosen = [params[i] for i in members]
        found.append(Bucket(device=device, dtype=dtype, groups=groups, params=chosen,
                            index=members, distributed=any(is_dtensor(p) for p in chosen)))
    return found
