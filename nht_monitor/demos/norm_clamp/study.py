"""The clamp study: free run → W_c, clamped runs at ρ·W_c, exponential fit (see package doc)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from nht_monitor.demos.modular_arithmetic import ModArithConfig, RunResult, train_run
from nht_monitor.control.clamp import NormClamp


class ClampStudyConfig(BaseModel):
    """The modular-arithmetic setting and the clamp levels.

    ``rhos``: clamp targets as multiples of ``W_c`` (the plain free run's weight norm at
    its grokking step); the LayerNorm model is clamped at the same absolute norms
    (``layernorm_free_run`` adds its own free run for reference). ``workers``: clamped
    runs in parallel processes; ``threads``: torch threads per run. ``steps``: length of every run (a run that has not grokked by then
    is reported as censored and left out of the fit). ``layernorm``: also run the
    LayerNorm model. Defaults are sized for a 2-core CPU (p = 47, width 64).
    """

    model_config = ConfigDict(extra="forbid")
    p: int = 47
    train_fraction: float = 0.5
    width: int = 64
    embed_dim: int = 32
    lr: float = 1e-2
    weight_decay: float = 1.0
    steps: int = 4000
    eval_every: int = 10
    seed: int = 0
    rhos: tuple[float, ...] = (0.8, 0.9, 1.0, 1.1, 1.2)
    layernorm: bool = True
    log_dir: Path = Path("runs/norm_clamp")
    device: str = "cpu"
    monitor_every: int = Field(1, ge=1)
    layernorm_free_run: bool = False
    clamp_params: Literal["weights"] | list[str] = "weights"
    workers: int = Field(1, ge=1)
    threads: int | None = None

    def base(self, *, layernorm: bool, run_id: str, steps: int | None = None) -> ModArithConfig:
        return ModArithConfig(
            p=self.p, train_fraction=self.train_fraction, width=self.width,
            embed_dim=self.embed_dim, lr=self.lr, weight_decay=self.weight_decay,
            steps=steps or self.steps, eval_every=self.eval_every, seed=self.seed,
            layernorm=layernorm, log_dir=self.log_dir, run_id=run_id, device=self.device)


class ClampPoint(BaseModel):
    """One run: its clamp (``None`` for the free run), grokking step and the monitor's verdict.

    ``grok_step``: :func:`train_run`'s, the transition step of docs/FORECAST.md (the first
    evaluation at which validation accuracy reaches the monitor's ``done_val_acc``)."""

    run_id: str
    log_path: Path
    rho: float | None
    target: float | None
    grok_step: int | None
    weight_norm_at_grok: float | None
    final_val_acc: float
    regime: str | None
    clamped_in_header: bool
    wall_time_s: float


class ExpFit(BaseModel):
    """``log(grok_step) = intercept + slope·ρ`` over the runs that grokked.

    ``slope`` is α per unit ρ; ``slope_per_norm`` = α / W_c (per unit of weight norm);
    ``fold_range``: exp(α·(ρ_max − ρ_min)), the delay ratio the fit spans.
    """

    slope: float
    slope_stderr: float
    intercept: float
    r_squared: float
    slope_per_norm: float
    fold_range: float
    n: int
    censored: list[float]


class SeriesResult(BaseModel):
    """One model's series: free run (if any), clamped runs, fit (x = ρ = target / W_c)."""

    layernorm: bool
    w_c: float | None
    free: ClampPoint | None
    clamped: list[ClampPoint]
    fit: ExpFit | None


class ClampStudy(BaseModel):
    """The whole study (plain MLP, and with LayerNorm when asked)."""

    config: ClampStudyConfig
    plain: SeriesResult
    with_layernorm: SeriesResult | None
    wall_time_s: float

    @property
    def fit(self) -> ExpFit | None:
        return self.plain.fit

    @property
    def layernorm_fit(self) -> ExpFit | None:
        return None if self.with_layernorm is None else self.with_layernorm.fit


def fit_exponential(rhos: Sequence[float], grok_steps: Sequence[int | None],
                    w_c: float = 1.0) -> ExpFit | None:
    """Fit ``log T`` linearly in ρ over the points with a grokking step (``None`` =
    censored); ``None`` with fewer than 3 distinct grokked ρ."""
    points = [(r, math.log(t)) for r, t in zip(rhos, grok_steps) if t is not None and t > 0]
    censored = [r for r, t in zip(rhos, grok_steps) if t is None]
    if len({r for r, _ in points}) < 3:
        return None
    xs, ys = zip(*points)
    fit = stats.linregress(xs, ys)
    return ExpFit(slope=float(fit.slope), slope_stderr=float(fit.stderr),
                  intercept=float(fit.intercept), r_squared=float(fit.rvalue ** 2),
                  slope_per_norm=float(fit.slope) / w_c,
                  fold_range=math.exp(float(fit.slope) * (max(xs) - min(xs))),
                  n=len(points), censored=censored)


class _WeightNormProbe:
    """``on_step`` hook of ``train_run``: the clamp-set weight norm at every evaluation."""

    def __init__(self, every: int, params: Any = "weights") -> None:
        self.every = every
        self.params = params
        self.norms: dict[int, float] = {}
        self._probe: NormClamp | None = None

    def __call__(self, step: int, model: Any, optimizer: Any) -> None:
        if step % self.every:
            return
        if self._probe is None:  # same parameter selection as the clamp, never attached
            self._probe = NormClamp(model, 1.0, params=self.params)
        self.norms[step] = float(self._probe.current_norm())


def _point(result: RunResult, probe: _WeightNormProbe, rho: float | None,
           target: float | None) -> ClampPoint:
    from nht_monitor import read_run

    log = read_run(result.log_path)
    header = log.header
    regime = result.regime
    if regime is None:  # live assessment off: analyse the whole log offline
        try:
            from nht_monitor.analysis import Analyzer
            regime = Analyzer(header=header).analyze(log.samples).regime
        except ImportError:
            regime = None
    return ClampPoint(
        run_id=result.run_id, log_path=result.log_path, rho=rho, target=target,
        grok_step=result.grok_step,
        weight_norm_at_grok=(probe.norms.get(result.grok_step)
                             if result.grok_step is not None else None),
        final_val_acc=result.final_val_acc, regime=regime,
        clamped_in_header="norm_clamp" in header.config, wall_time_s=result.wall_time_s)


def _clamped_run(cfg: ClampStudyConfig, layernorm: bool, rho: float, w_c: float) -> ClampPoint:
    """One run holding the weight norm at ``rho · w_c`` from the first step."""
    import torch

    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    tag = "ln" if layernorm else "plain"
    target = rho * w_c
    probe = _WeightNormProbe(cfg.eval_every, cfg.clamp_params)
    run = cfg.base(layernorm=layernorm, run_id=f"clamp-{tag}-rho{rho:g}-s{cfg.seed}")
    result = train_run(run, on_step=probe, monitor_kwargs={
        "every": cfg.monitor_every,
        "norm_clamp": {"target": target, "params": cfg.clamp_params}})
    return _point(result, probe, rho, target)


def _free_run(cfg: ClampStudyConfig, layernorm: bool) -> ClampPoint:
    import torch

    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    tag = "ln" if layernorm else "plain"
    probe = _WeightNormProbe(cfg.eval_every, cfg.clamp_params)
    run = cfg.base(layernorm=layernorm, run_id=f"clamp-{tag}-free-s{cfg.seed}")
    return _point(train_run(run, on_step=probe, monitor_kwargs={"every": cfg.monitor_every}),
                  probe, None, None)


def run_study(cfg: ClampStudyConfig, report: Callable[[str], None] = print) -> ClampStudy:
    """Free plain run → ``W_c``; then every clamped run (plain, and LayerNorm at the same
    absolute norms), ``cfg.workers`` at a time in separate processes."""
    started = time.perf_counter()
    free = _free_run(cfg, False)
    w_c = free.weight_norm_at_grok
    report(f"[plain] free run: grok step {free.grok_step}, W_c = {w_c}, regime "
           f"{free.regime} ({free.wall_time_s:.0f} s)")
    jobs: list[tuple[bool, float | None]] = []
    if w_c is not None:
        jobs += [(False, rho) for rho in cfg.rhos]
        if cfg.layernorm:
            jobs += [(True, rho) for rho in cfg.rhos]
    else:
        report(f"[plain] the free run did not grok in {cfg.steps} steps: no W_c, no clamps")
    if cfg.layernorm and cfg.layernorm_free_run:
        jobs.append((True, None))

    def run(job: tuple[bool, float | None]) -> ClampPoint:
        layernorm, rho = job
        return _free_run(cfg, layernorm) if rho is None else _clamped_run(cfg, layernorm, rho, w_c)

    points: dict[tuple[bool, float | None], ClampPoint] = {}
    if cfg.workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(cfg.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_job, cfg, job, w_c): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                points[job] = future.result()
                _report_point(report, job, points[job])
    else:
        for job in jobs:
            points[job] = run(job)
            _report_point(report, job, points[job])

    def series(layernorm: bool) -> SeriesResult:
        clamped = [points[(layernorm, rho)] for rho in cfg.rhos if (layernorm, rho) in points]
        fit = (fit_exponential([p.rho for p in clamped], [p.grok_step for p in clamped], w_c)
               if w_c is not None else None)
        own_free = free if not layernorm else points.get((True, None))
        return SeriesResult(layernorm=layernorm, w_c=w_c, free=own_free, clamped=clamped, fit=fit)

    return ClampStudy(config=cfg, plain=series(False),
                      with_layernorm=series(True) if cfg.layernorm else None,
                      wall_time_s=time.perf_counter() - started)


def _job(cfg: ClampStudyConfig, job: tuple[bool, float | None], w_c: float | None) -> ClampPoint:
    layernorm, rho = job
    if rho is None or w_c is None:
        return _free_run(cfg, layernorm)
    return _clamped_run(cfg, layernorm, rho, w_c)


def _report_point(report: Callable[[str], None], job: tuple[bool, float | None],
                  point: ClampPoint) -> None:
    tag = "ln" if job[0] else "plain"
    what = "free run" if job[1] is None else f"ρ = {job[1]:g} (norm {point.target:.2f})"
    report(f"[{tag}] {what}: grok step {point.grok_step}, regime {point.regime}, "
           f"header clamp {point.clamped_in_header} ({point.wall_time_s:.0f} s)")
