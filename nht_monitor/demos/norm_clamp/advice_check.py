"""Validate λ advice on modular arithmetic: sweep → weak run → advised λ → in budget?

:func:`check_advice` trains a calibration sweep of one task (ηλ over
``calibration_rates``, one batched model), takes its smallest-λ run — weak, or too slow
for the budget — and, for each budget, asks :func:`nht_monitor.analysis.advice.advise`
(calibrated on the whole sweep, as ``nht-monitor advise RUN.jsonl SWEEP_DIR`` does) for
a λ; then trains every advised λ afresh (same task; with ``advised_seeds``, also other
seeds of it) and reports whether each reached the transition
(:func:`nht_monitor.analysis.transition.first_reached`) within its budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nht_monitor.analysis.advice import advise, calibrate, calibration_run
from nht_monitor.analysis.assess import assess_log
from nht_monitor.analysis.series import read_series
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.analysis.transition import first_reached
from nht_monitor.demos.modular_arithmetic import ModArithConfig, sweep_run_id, train_sweep


class AdviceCheckConfig(BaseModel):
    """One task setting, the calibration sweep (η·λ values, steps) and the budgets."""

    model_config = ConfigDict(extra="forbid")
    name: str = "default"
    p: int = 59
    train_fraction: float = 0.8
    width: int = 64
    embed_dim: int = 32
    lr: float = 1e-2
    seed: int = 0
    calibration_rates: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
    """η·λ of the calibration sweep; its smallest is the run advised."""
    calibration_steps: int = 1500
    budgets: tuple[int, ...] = (600, 1200)
    advised_seeds: tuple[int, ...] = ()
    """Seeds the advised λ is trained with besides ``seed`` (a new init and split)."""
    eval_every: int = 10
    log_dir: Path = Path("runs/advice_check")
    device: str = "cpu"

    def task(self, steps: int, seed: int, log_dir: Path, run_id: str) -> ModArithConfig:
        return ModArithConfig(p=self.p, train_fraction=self.train_fraction, width=self.width,
                              embed_dim=self.embed_dim, lr=self.lr, steps=steps,
                              eval_every=self.eval_every, seed=seed, log_dir=log_dir,
                              run_id=run_id, device=self.device)


class AdviceCase(BaseModel):
    """One budget: the weak run, the advice, and each advised run's transition step."""

    setting: str
    budget_steps: int
    target_run: str
    target_regime: str
    target_transition: float | None
    action: str
    basis: str | None
    advice_text: str
    advised_weight_decay: float | None
    forecast_step: float | None
    forecast_bound: float | None
    advised_transition: dict[int, float | None] = Field(default_factory=dict)
    """Seed → transition step of the advised run (``None``: not reached)."""

    def reached(self, seed: int) -> bool | None:
        """Reached the transition within the budget (``None``: no λ was advised)."""
        if self.advised_weight_decay is None or seed not in self.advised_transition:
            return None
        step = self.advised_transition[seed]
        return step is not None and step <= self.budget_steps


class AdviceCheck(BaseModel):
    """The cases of one setting and the training wall time."""

    config: AdviceCheckConfig
    calibration_regimes: dict[float, str]
    cases: list[AdviceCase]
    wall_time_s: float


def transition_step(log_path: Path) -> float | None:
    """The run's transition step (the project's one definition)."""
    s = read_series(log_path)
    return first_reached(s.step, s.val, AnalyzerSettings().done_val_acc)


def _sweep(task: ModArithConfig, weight_decays: list[float], reuse: bool) -> list[Path]:
    """The logs of a batched sweep; with ``reuse``, complete logs already on disk are
    kept instead of training again."""
    paths = [task.log_dir / f"{sweep_run_id(task, w)}.jsonl" for w in weight_decays]
    if reuse and all(p.exists() for p in paths):
        if all(read_series(p).step[-1] >= task.steps for p in paths):
            return paths
    return [r.log_path for r in train_sweep(task, weight_decays)]


def check_advice(cfg: AdviceCheckConfig, report: Callable[[str], None] = print, *,
                 reuse: bool = False) -> AdviceCheck:
    """Calibration sweep, advice per budget, advised runs; see the module docstring.
    ``reuse``: keep complete logs of an earlier check instead of training again."""
    started = time.perf_counter()
    cal_dir = cfg.log_dir / cfg.name / "calibration"
    weight_decays = [float(f"{r / cfg.lr:.12g}") for r in cfg.calibration_rates]
    logs = _sweep(cfg.task(cfg.calibration_steps, cfg.seed, cal_dir, "cal"), weight_decays,
                  reuse)
    regimes = {}
    for w, path in zip(weight_decays, logs):
        regimes[w] = assess_log(path, {"advice": False}).regime
    report(f"[{cfg.name}] calibration sweep: " + ", ".join(
        f"λ={w:g} {g}" for w, g in regimes.items()) + f" ({time.perf_counter() - started:.0f} s)")
    runs = [calibration_run(p) for p in logs]
    calibration = calibrate(runs)
    target = logs[0]
    assessment = assess_log(target, {"advice": False})
    target_tr = transition_step(target)
    cases = []
    for budget in cfg.budgets:
        if target_tr is not None and target_tr <= budget and assessment.regime != "weak":
            continue  # neither weak nor too slow: nothing to advise
        advice = advise(assessment, budget_steps=budget, calibration=calibration,
                        lr=runs[0].lr)  # sized as the calibration reads the target run
        lam = advice.suggested_weight_decay if advice.action == "raise_weight_decay" else None
        cases.append(AdviceCase(
            setting=cfg.name, budget_steps=budget, target_run=assessment.run_id or str(target),
            target_regime=assessment.regime, target_transition=target_tr,
            action=advice.action, basis=getattr(advice, "basis", None), advice_text=advice.text,
            advised_weight_decay=lam, forecast_step=advice.forecast_steps,
            forecast_bound=getattr(advice, "forecast_bound_steps", None)))
        report(f"[{cfg.name}] budget {budget}: {advice.text}")
    lams = sorted({c.advised_weight_decay for c in cases if c.advised_weight_decay})
    if lams:
        steps = max(c.budget_steps for c in cases if c.advised_weight_decay)
        for seed in (cfg.seed, *cfg.advised_seeds):
            out = cfg.log_dir / cfg.name / f"advised-s{seed}"
            paths = _sweep(cfg.task(steps, seed, out, f"advised-s{seed}"), lams, reuse)
            step_of = {w: transition_step(p) for w, p in zip(lams, paths)}
            for c in cases:
                if c.advised_weight_decay:
                    c.advised_transition[seed] = step_of[c.advised_weight_decay]
            report(f"[{cfg.name}] advised runs, seed {seed}: " + ", ".join(
                f"λ={w:.4g} → {t}" for w, t in step_of.items()))
    return AdviceCheck(config=cfg, calibration_regimes=regimes, cases=cases,
                       wall_time_s=time.perf_counter() - started)
