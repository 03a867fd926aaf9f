"""The modular-arithmetic task: all pairs ``(a, b)`` labelled ``(a ∘ b) mod p``."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nht_monitor.demos.modular_arithmetic.config import OPS, is_prime


@dataclass(frozen=True)
class ModArithData:
    """Train/validation split of one task (tensors on ``device``).

    ``x_*`` are ``[N, 2]`` int64 operand pairs, ``y_*`` ``[N]`` int64 results.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    p: int
    op: str


def all_pairs(p: int, op: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Every operand pair and its result: ``([N, 2], [N])``; ``/`` skips ``b = 0``."""
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    if op == "/":
        keep = b != 0
        a, b = a[keep], b[keep]
    if op == "+":
        y = (a + b) % p
    elif op == "-":
        y = (a - b) % p
    elif op == "*":
        y = (a * b) % p
    else:  # a / b = a * b^(p-2) mod p (Fermat)
        inv = torch.tensor([pow(int(v), p - 2, p) for v in range(p)])
        y = (a * inv[b]) % p
    return torch.stack([a, b], dim=1), y


def make_data(p: int, op: str, train_fraction: float, seed: int,
              device: torch.device | str = "cpu") -> ModArithData:
    """Split all pairs at random (seeded) into a train fraction and the rest for validation."""
    if not is_prime(p):
        raise ValueError(f"p must be a prime, got {p}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    x, y = all_pairs(p, op)
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=gen)
    n_train = max(1, int(round(train_fraction * len(y))))
    tr, va = order[:n_train], order[n_train:]
    return ModArithData(x[tr].to(device), y[tr].to(device), x[va].to(device), y[va].to(device),
                        p, op)
