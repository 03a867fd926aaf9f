"""Validate λ advice on modular arithmetic: weak run → advised λ → fresh run → in budget?

:func:`check_advice` trains a weak-regime run (small λ), asks
:func:`nht_monitor.analysis.advice.advise` for the λ whose transition fits ``budget_steps`` at the
same learning rate, trains a fresh run with that λ for ``budget_steps`` steps and
reports whether it grokked inside the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from nht_monitor.demos.modular_arithmetic import ModArithConfig, train_run
from nht_monitor.analysis.advice import advise
from nht_monitor.analysis.assessment import Advice, Assessment


class AdviceCheckConfig(BaseModel):
    """The weak run (``weak_weight_decay`` for ``weak_steps``) and the budget."""

    model_config = ConfigDict(extra="forbid")
    p: int = 59
    train_fraction: float = 0.5
    width: int = 64
    embed_dim: int = 32
    lr: float = 1e-2
    weak_weight_decay: float = 0.01
    weak_steps: int = 1000
    budget_steps: int = 4000
    eval_every: int = 10
    seed: int = 0
    log_dir: Path = Path("runs/advice_check")
    device: str = "cpu"

    def run(self, weight_decay: float, steps: int, run_id: str) -> ModArithConfig:
        return ModArithConfig(p=self.p, train_fraction=self.train_fraction, width=self.width,
                              embed_dim=self.embed_dim, lr=self.lr, weight_decay=weight_decay,
                              steps=steps, eval_every=self.eval_every, seed=self.seed,
                              log_dir=self.log_dir, run_id=run_id, device=self.device)


class AdviceCheck(BaseModel):
    """Outcome: the weak run's regime, the advice, and the advised run's grokking step."""

    weak_regime: str | None
    weak_grok_step: int | None
    advice: Advice
    advised_weight_decay: float | None
    advised_grok_step: int | None
    advised_regime: str | None
    budget_steps: int
    landed_in_budget: bool
    wall_time_s: float


def check_advice(cfg: AdviceCheckConfig, report: Callable[[str], None] = print) -> AdviceCheck:
    """Run the weak run, advise, run the advised λ; see the module docstring."""
    weak = train_run(cfg.run(cfg.weak_weight_decay, cfg.weak_steps,
                             f"advice-weak-wd{cfg.weak_weight_decay:g}-s{cfg.seed}"))
    report(f"weak run λ = {cfg.weak_weight_decay:g}: regime {weak.regime}, grok step "
           f"{weak.grok_step} ({weak.wall_time_s:.0f} s)")
    if weak.assessment is None:
        raise RuntimeError("the weak run produced no assessment (is nht_monitor.analysis there?)")
    advice = advise(Assessment.model_validate(weak.assessment), budget_steps=cfg.budget_steps)
    report(f"advice: {advice.text}")
    wall = weak.wall_time_s
    lam = advice.suggested_weight_decay
    grok = regime = None
    if lam is not None and advice.action != "none":
        advised = train_run(cfg.run(lam, cfg.budget_steps, f"advice-advised-s{cfg.seed}"))
        grok, regime, wall = advised.grok_step, advised.regime, wall + advised.wall_time_s
        report(f"advised run λ = {lam:.4g}: grok step {grok}, regime {regime} "
               f"({advised.wall_time_s:.0f} s)")
    return AdviceCheck(weak_regime=weak.regime, weak_grok_step=weak.grok_step, advice=advice,
                       advised_weight_decay=lam, advised_grok_step=grok, advised_regime=regime,
                       budget_steps=cfg.budget_steps,
                       landed_in_budget=grok is not None and grok <= cfg.budget_steps,
                       wall_time_s=wall)
