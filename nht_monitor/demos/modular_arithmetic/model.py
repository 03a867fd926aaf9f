"""Models for modular arithmetic: embedding + MLP (default) or a 1-layer transformer.

Both take ``[N, 2]`` operand pairs and return ``[N, p]`` logits; the classifier is the
module named ``head``. Written with plain tensor ops so that
``torch.func.functional_call`` + ``vmap`` can run a stack of them (the batched sweep).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def dropped(h: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``h`` under dropout ``p`` in training mode; ``h`` itself at ``p`` 0 (no random op:
    the batched sweep's ``vmap`` runs the models as they were)."""
    return F.dropout(h, p, training) if p else h


class ModArithMLP(nn.Module):
    """Shared token embedding of ``a`` and ``b``, concatenated, one hidden ReLU layer, head.

    Layers (as the monitor names them): ``embed``, ``fc1`` (+ ``norm`` with
    ``layernorm=True``, a LayerNorm after ``fc1``), ``head``. ``dropout``: on the hidden
    layer, in training mode only (0: none).
    """

    def __init__(self, p: int, width: int = 128, embed_dim: int = 32,
                 layernorm: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(p, embed_dim)
        self.fc1 = nn.Linear(2 * embed_dim, width)
        self.norm = nn.LayerNorm(width) if layernorm else None
        self.head = nn.Linear(width, p)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embed(x).flatten(1)
        h = self.fc1(e)
        if self.norm is not None:
            h = self.norm(h)
        return self.head(dropped(torch.relu(h), self.dropout, self.training))


class ModArithTransformer(nn.Module):
    """One pre-norm-free transformer block over the tokens ``[a, b]``; reads out at ``b``.

    Layers: ``embed``, ``pos``, ``attn_in`` (QKV), ``attn_out``, ``mlp_in``, ``mlp_out``,
    ``head`` (+ ``ln1``/``ln2`` LayerNorms with ``layernorm=True``). ``dropout``: on the
    two residual branches, in training mode only (0: none).
    """

    def __init__(self, p: int, width: int = 128, heads: int = 4, layernorm: bool = False,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} must be divisible by heads {heads}")
        self.heads = heads
        self.embed = nn.Embedding(p, width)
        self.pos = nn.Embedding(2, width)
        self.attn_in = nn.Linear(width, 3 * width)
        self.attn_out = nn.Linear(width, width)
        self.mlp_in = nn.Linear(width, 4 * width)
        self.mlp_out = nn.Linear(4 * width, width)
        self.ln1 = nn.LayerNorm(width) if layernorm else None
        self.ln2 = nn.LayerNorm(width) if layernorm else None
        self.head = nn.Linear(width, p)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t = x.shape
        h = self.embed(x) + self.pos.weight[:t]
        q, k, v = self.attn_in(h).chunk(3, dim=-1)
        d = h.shape[-1] // self.heads
        q, k, v = (z.reshape(n, t, self.heads, d).transpose(1, 2) for z in (q, k, v))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        a = (att @ v).transpose(1, 2).reshape(n, t, -1)
        h = h + dropped(self.attn_out(a), self.dropout, self.training)
        if self.ln1 is not None:
            h = self.ln1(h)
        h = h + dropped(self.mlp_out(torch.relu(self.mlp_in(h))), self.dropout, self.training)
        if self.ln2 is not None:
            h = self.ln2(h)
        return self.head(h[:, -1])


def build_model(kind: str, p: int, width: int, layernorm: bool = False,
                init_scale: float = 1.0, embed_dim: int = 32, dropout: float = 0.0) -> nn.Module:
    """A freshly initialised model (torch's default init) with every parameter × ``init_scale``."""
    if kind == "mlp":
        model: nn.Module = ModArithMLP(p, width=width, embed_dim=embed_dim, layernorm=layernorm,
                                       dropout=dropout)
    elif kind == "transformer":
        model = ModArithTransformer(p, width=width, layernorm=layernorm, dropout=dropout)
    else:
        raise ValueError(f"model must be 'mlp' or 'transformer', got {kind!r}")
    if init_scale != 1.0:
        with torch.no_grad():
            for param in model.parameters():
                param.mul_(init_scale)
    return model
