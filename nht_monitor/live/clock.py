"""The effective regularisation clock τ = Σ_t η_t·λ_t (× the optimizer's decay gain),
per optimizer param group.

What counts as decay:

* ``torch.optim.SGD`` (``weight_decay`` = coupled L2): the update is
  ``p ← p − η(g + λp)``, so the weights shrink by ``(1 − ηλ)`` per step: τ is exact.
  With momentum β (and dampening d) the ``λp`` term builds up in the momentum buffer,
  and once it has (after ~1/(1 − β) steps) the weights shrink by ηλ(1 − d)/(1 − β) per
  step, Nesterov or not (to first order in ηλ/(1 − β)): τ counts that
  (:func:`decay_gain`), ten times η·λ at β = 0.9.
  The recorded ``lr`` and ``weight_decay`` stay the group's own; the analysis reads the
  gain back from the log (:func:`nht_monitor.analysis.forecast.clock_gain`).
* ``torch.optim.Adam`` (coupled L2 through the adaptive step): ``λp`` is added to the
  gradient *before* the division by √v, so the real shrink per step depends on v;
  ``η·λ`` is the nominal clock (the paper's convention), not an exact contraction.
* ``torch.optim.AdamW`` (decoupled): ``p ← p·(1 − ηλ)`` each step: τ is exact.

Other optimizers: the clock reads ``lr`` and ``weight_decay`` of each group as they
are; a group without ``weight_decay`` counts as λ = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


def _as_float(value: object) -> float:
    if isinstance(value, torch.Tensor):  # capturable / tensor lr: read it on the host
        if value.device.type != "cpu":
            return float("nan")  # reading it would force a device sync; never here
        return float(value.detach())
    return float(value)  # type: ignore[arg-type]


def decay_gain(optimizer: torch.optim.Optimizer, group: dict) -> float:
    """How much faster than η·λ a step of ``group`` shrinks the weights: (1 − dampening)
    / (1 − momentum) for ``torch.optim.SGD`` with 0 < momentum < 1, else 1."""
    if not isinstance(optimizer, torch.optim.SGD):
        return 1.0
    momentum = _as_float(group.get("momentum", 0.0))
    dampening = _as_float(group.get("dampening", 0.0))
    if not 0.0 < momentum < 1.0 or not 0.0 <= dampening <= 1.0:
        return 1.0
    return (1.0 - dampening) / (1.0 - momentum)


@dataclass
class TauClock:
    """Accumulates τ for every param group of one optimizer.

    ``reference`` is the group whose values are reported as the run's ``lr``,
    ``weight_decay`` and ``tau``: the one given, else the decayed group with the most
    parameter elements, else group 0.
    """

    reference: int = 0
    taus: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    weight_decays: list[float] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)

    @classmethod
    def for_optimizer(cls, optimizer: torch.optim.Optimizer,
                      reference: int | None = None) -> TauClock:
        groups = optimizer.param_groups
        if reference is not None and reference >= len(groups):
            raise ValueError(f"clock_group={reference} but the optimizer has "
                             f"{len(groups)} param group(s)")
        if reference is None:
            sizes = [(sum(p.numel() for p in g["params"]) if _as_float(g.get("weight_decay", 0.0)) > 0
                      else -1) for g in groups]
            reference = max(range(len(groups)), key=lambda i: sizes[i]) if max(sizes) >= 0 else 0
        clock = cls(reference=reference, taus=[0.0] * len(groups))
        clock.read(optimizer)
        return clock

    def read(self, optimizer: torch.optim.Optimizer) -> None:
        """Read every group's current lr and weight decay (without advancing τ)."""
        groups = optimizer.param_groups
        self.lrs = [_as_float(g.get("lr", 0.0)) for g in groups]
        self.weight_decays = [_as_float(g.get("weight_decay", 0.0)) for g in groups]
        self.gains = [decay_gain(optimizer, g) for g in groups]
        if len(self.taus) < len(groups):  # add_param_group after construction
            self.taus.extend([0.0] * (len(groups) - len(self.taus)))

    def advance(self, optimizer: torch.optim.Optimizer) -> None:
        """Account for one optimizer step taken with the groups' current values."""
        self.read(optimizer)
        for i, (lr, wd, gain) in enumerate(zip(self.lrs, self.weight_decays, self.gains)):
            self.taus[i] += lr * wd * gain

    @property
    def tau(self) -> float:
        return self.taus[self.reference]

    @property
    def lr(self) -> float:
        return self.lrs[self.reference]

    @property
    def weight_decay(self) -> float:
        return self.weight_decays[self.reference]

    def groups(self) -> list[dict[str, float]]:
        return [{"lr": lr, "weight_decay": wd, "tau": tau}
                for lr, wd, tau in zip(self.lrs, self.weight_decays, self.taus)]
