"""Settings of a modular-arithmetic run (pydantic, validated at construction)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

OPS = ("+", "-", "*", "/")


def is_prime(n: int) -> bool:
    """True for a prime ``n``."""
    return n >= 2 and all(n % k for k in range(2, int(n ** 0.5) + 1))


QUICK_P = 31
QUICK_STEPS = 300
QUICK_WIDTH = 64


class ModArithConfig(BaseModel):
    """One modular-arithmetic run: task, model, optimiser and where the monitor logs.

    Task: ``(a op b) mod p`` over all pairs, ``train_fraction`` of them for training
    (seeded split). Model: ``"mlp"`` (shared embedding of width ``embed_dim`` for both
    operands, concatenated, one hidden ReLU layer of ``width``, head) or
    ``"transformer"`` (one block of model width ``width``); ``layernorm`` adds
    LayerNorm(s); every initial parameter is multiplied by ``init_scale``. Optimiser:
    full-batch AdamW (``lr``, ``weight_decay``, betas 0.9/0.98) for ``steps`` steps.
    ``eval_every``: validation accuracy every N steps; the grok step is the first of
    them at which it reaches the monitor's ``AnalyzerSettings.done_val_acc`` (see
    :class:`RunResult`; there is no demo-specific threshold).
    ``device``: ``"auto"`` picks CUDA when available. ``quick``: a seconds-long smoke
    run — :meth:`resolved` caps ``p`` at 31, ``steps`` at 300 and ``width`` at 64.

    The defaults (p = 59, 80% of pairs for training, width 64, embed 32, lr 1e-2,
    1500 steps) are sized so that the default sweep of the CLI shows all three regimes
    and the delay law in under a minute on two CPU cores (docs/RESULTS.md §1a). The
    larger setting of the earlier runs (p = 97, width 128, embed 64, lr 1e-3, 3000
    steps) is §1b–1c there.
    """

    model_config = ConfigDict(extra="forbid")
    p: int = Field(59, ge=3)
    op: Literal["+", "-", "*", "/"] = "+"
    train_fraction: float = Field(0.8, gt=0.0, lt=1.0)
    model: Literal["mlp", "transformer"] = "mlp"
    width: int = Field(64, ge=4)
    embed_dim: int = Field(32, ge=2)
    layernorm: bool = False
    init_scale: float = Field(2.0, gt=0.0)
    lr: float = Field(1e-2, gt=0.0)
    weight_decay: float = Field(0.2, ge=0.0)
    steps: int = Field(1500, ge=1)
    seed: int = 0
    device: str = "auto"
    log_dir: Path = Path("runs")
    run_id: str | None = None
    eval_every: int = Field(10, ge=1)
    prometheus_port: int | None = Field(None, ge=0, le=65535)
    prometheus_host: str = "127.0.0.1"
    quick: bool = False

    @field_validator("p")
    @classmethod
    def _prime(cls, value: int) -> int:
        if not is_prime(value):
            raise ValueError(f"p must be a prime, got {value}")
        return value

    @field_validator("op")
    @classmethod
    def _op(cls, value: str) -> str:
        if value not in OPS:
            raise ValueError(f"op must be one of {OPS}")
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if value != "auto" and not value.startswith(("cpu", "cuda")):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {value!r}")
        return value

    def resolved(self) -> ModArithConfig:
        """This config with the ``quick`` caps applied (itself when not quick)."""
        if not self.quick:
            return self
        p = self.p if self.p <= QUICK_P else QUICK_P
        return self.model_copy(update={"p": p, "steps": min(self.steps, QUICK_STEPS),
                                       "width": min(self.width, QUICK_WIDTH),
                                       "embed_dim": min(self.embed_dim, 32),
                                       "quick": False})

    def default_run_id(self) -> str:
        """``modarith-<op>-p<p>-wd<λ>-s<seed>`` (``op`` spelled as a word)."""
        word = {"+": "add", "-": "sub", "*": "mul", "/": "div"}[self.op]
        return f"modarith-{word}-p{self.p}-wd{self.weight_decay:g}-s{self.seed}"
