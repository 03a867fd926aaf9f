"""K copies of one model trained at once, one weight decay per copy (the batched sweep).

The copies share data, initialisation and learning rate and differ only in λ. Their
parameters are stacked (``[K, ...]``) and run through ``torch.func.functional_call``
under ``torch.func.vmap``; the summed loss back-propagates each copy's own gradient
into its slice. Adam is elementwise, so ``torch.optim.Adam`` over the stacked tensors
plus the decoupled decay ``θ_k ← θ_k (1 - η λ_k)`` applied before each step (exactly what
``torch.optim.AdamW`` does) is K independent AdamW runs.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap


class BatchedModel:
    """A stack of ``len(weight_decays)`` identical copies of ``model`` on one device.

    ``params`` maps parameter names to stacked leaf tensors ``[K, ...]``;
    ``optimizer`` is the shared Adam; :meth:`step` takes one full-batch AdamW step of
    every copy and returns per-copy ``(loss, accuracy)`` tensors ``[K]``.
    """

    def __init__(self, model: nn.Module, weight_decays: Sequence[float], lr: float,
                 betas: tuple[float, float] = (0.9, 0.98), eps: float = 1e-8) -> None:
        if not weight_decays:
            raise ValueError("weight_decays must not be empty")
        self.k = len(weight_decays)
        copies = [copy.deepcopy(model) for _ in range(self.k)]
        params, buffers = stack_module_state(copies)
        self.params = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
        self.buffers = buffers
        self.base = copy.deepcopy(model).to("meta")
        self.lr = lr
        device = next(iter(self.params.values())).device
        self.weight_decays = torch.tensor(list(weight_decays), dtype=torch.float32, device=device)
        self.optimizer = torch.optim.Adam(list(self.params.values()), lr=lr, betas=betas, eps=eps,
                                          weight_decay=0.0)
        self._forward = vmap(self._forward_one, in_dims=(0, 0, None))

    def _forward_one(self, params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.base, (params, buffers), (x,))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``[K, N, classes]`` logits of every copy."""
        return self._forward(self.params, self.buffers, x)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One AdamW step of every copy on ``(x, y)``; returns ``(loss [K], acc [K])`` before it."""
        logits = self.logits(x)
        k, n, c = logits.shape
        losses = F.cross_entropy(logits.reshape(k * n, c), y.repeat(k), reduction="none")
        losses = losses.view(k, n).mean(dim=1)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        with torch.no_grad():
            for p in self.params.values():  # decoupled weight decay, per copy
                p.mul_((1.0 - self.lr * self.weight_decays).view(-1, *([1] * (p.dim() - 1))))
        self.optimizer.step()
        acc = (logits.detach().argmax(-1) == y).float().mean(dim=1)
        return losses.detach(), acc

    @torch.no_grad()
    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``[K]`` accuracy of every copy on ``(x, y)``."""
        return (self.logits(x).argmax(-1) == y).float().mean(dim=1)

    @torch.no_grad()
    def layer_sq_norms(self, layer_of: dict[str, str]) -> dict[str, torch.Tensor]:
        """Squared L2 norm ``[K]`` of each layer (``layer_of`` maps param name → layer name)."""
        out: dict[str, torch.Tensor] = {}
        for name, p in self.params.items():
            sq = p.detach().float().pow(2).flatten(1).sum(dim=1)
            layer = layer_of[name]
            out[layer] = out[layer] + sq if layer in out else sq
        return out

    @torch.no_grad()
    def grad_sq_norms(self, layer_of: dict[str, str]) -> dict[str, torch.Tensor]:
        """Squared L2 norm ``[K]`` of each layer's gradient (zero where none)."""
        out: dict[str, torch.Tensor] = {}
        for name, p in self.params.items():
            if p.grad is None:
                continue
            sq = p.grad.float().pow(2).flatten(1).sum(dim=1)
            layer = layer_of[name]
            out[layer] = out[layer] + sq if layer in out else sq
        return out
