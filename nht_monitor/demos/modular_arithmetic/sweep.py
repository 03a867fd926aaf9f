"""A λ sweep trained as one batched model: :func:`train_sweep`.

All λ share data, initialisation (same seed) and learning rate; they are trained at
once by :class:`nht_monitor.demos.modular_arithmetic.batched.BatchedModel`. Since ``watch()`` hooks
one model and one optimizer, each λ's run log is written by the core's
:class:`nht_monitor.live.recorder.RunRecorder` from that λ's slice of the stacked weights —
the same code path that writes ``watch()``'s samples (schema, live analyzer, final
assessment), so every log reads, shows and analyses exactly like one from ``watch()``.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from collections.abc import Callable, Sequence

import torch

from nht_monitor.demos.common.device import resolve_device, seed_everything
from nht_monitor.demos.common.transition import TransitionTracker
from nht_monitor.demos.modular_arithmetic.batched import BatchedModel
from nht_monitor.demos.modular_arithmetic.config import ModArithConfig
from nht_monitor.demos.modular_arithmetic.data import make_data
from nht_monitor.demos.modular_arithmetic.model import build_model
from nht_monitor.demos.modular_arithmetic.result import RunResult
from nht_monitor.demos.modular_arithmetic.train import ADAM_BETAS, run_config
from nht_monitor.live.layers import normalization_layers
from nht_monitor.live.recorder import RunRecorder
from nht_monitor.runlog.schema import ModelInfo, RunHeader

SweepProgress = Callable[[int, list[RunRecorder]], None]


def sweep_run_id(cfg: ModArithConfig, weight_decay: float) -> str:
    """Run id of one λ of a sweep: ``<run_id or default>`` with that λ."""
    one = cfg.model_copy(update={"weight_decay": weight_decay})
    return f"{cfg.run_id}-wd{weight_decay:g}" if cfg.run_id else one.default_run_id()


def train_sweep(cfg: ModArithConfig, weight_decays: Sequence[float], *,
                progress: SweepProgress | None = None,
                assess_every: int = 10) -> list[RunResult]:
    """Train every λ of ``weight_decays`` at once; one run log and :class:`RunResult` per λ.

    Everything but ``cfg.weight_decay`` (ignored) is taken from ``cfg``. Each λ's log
    is ``cfg.log_dir/<sweep_run_id(cfg, λ)>.jsonl``, sampled every step with per-λ
    total, head and per-layer weight and gradient norms, τ = Σ η λ, the metrics
    ``train_loss``/``train_acc`` (every step) and ``val_acc`` (every ``eval_every``),
    and the live analyzer's assessment every ``assess_every`` samples. ``wall_time_s``
    of each result is the whole sweep's time. ``progress(step, logs)`` is called after
    each step.
    """
    weight_decays = [float(w) for w in weight_decays]
    if not weight_decays:
        raise ValueError("weight_decays must not be empty")
    if any(w < 0 or not math.isfinite(w) for w in weight_decays):
        raise ValueError(f"weight decays must be finite and >= 0, got {weight_decays}")
    if cfg.prometheus_port is not None:
        raise ValueError("the batched sweep does not serve Prometheus; run single λ runs "
                         "(--weight-decay) to scrape them live")
    cfg = cfg.resolved()
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    data = make_data(cfg.p, cfg.op, cfg.train_fraction, cfg.seed, device)
    model = build_model(cfg.model, cfg.p, cfg.width, cfg.layernorm, cfg.init_scale,
                        cfg.embed_dim).to(device)
    batched = BatchedModel(model, weight_decays, cfg.lr, betas=ADAM_BETAS)
    layer_of = {name: name.rsplit(".", 1)[0] for name in batched.params}
    layers = list(dict.fromkeys(layer_of.values()))
    n_params = sum(p.numel() for p in model.parameters())
    def header(i: int, w: float) -> RunHeader:
        return RunHeader(
            run_id=sweep_run_id(cfg, w), started_at=datetime.now(timezone.utc),
            model=ModelInfo(class_name=type(model).__name__, n_params=n_params,
                            normalization=normalization_layers(model)),
            layers=layers, head="head",
            config={"every": 1, "split_bias": False, "grads": True, "optimizer": "AdamW",
                    "param_groups": 1, "clock_group": 0, "rank": 0, "world_size": 1,
                    "sharded": False,
                    "demo": run_config(cfg.model_copy(update={"weight_decay": w})),
                    "batched_sweep": {"weight_decays": weight_decays, "index": i}})

    logs = [RunRecorder.open(cfg.log_dir, header(i, w), assess_every=assess_every,
                             hold_last=True) for i, w in enumerate(weight_decays)]
    taus = [0.0] * len(weight_decays)
    trackers = [TransitionTracker() for _ in weight_decays]  # the recorders' settings
    peak = [(-1.0, 0) for _ in weight_decays]
    last: dict[str, list[float]] = {}
    started = time.perf_counter()
    try:
        for step in range(1, cfg.steps + 1):
            loss, acc = batched.step(data.x_train, data.y_train)
            sq = batched.layer_sq_norms(layer_of)
            gsq = batched.grad_sq_norms(layer_of)
            names = list(sq)
            rows = [sq[n] for n in names] + [gsq.get(n, torch.zeros_like(sq[n])) for n in names]
            rows += [loss, acc]
            evaluate = step % cfg.eval_every == 0 or step == cfg.steps
            if evaluate:
                rows.append(batched.accuracy(data.x_val, data.y_val))
            table = torch.stack([r.float() for r in rows]).cpu().tolist()  # one sync per step
            nl = len(names)
            for i, log in enumerate(logs):
                layer_norms = {n: math.sqrt(table[j][i]) for j, n in enumerate(names)}
                grad_norms = {n: math.sqrt(table[nl + j][i]) for j, n in enumerate(names)}
                metrics = {"train_loss": table[2 * nl][i], "train_acc": table[2 * nl + 1][i]}
                if evaluate:
                    metrics["val_acc"] = table[2 * nl + 2][i]
                    trackers[i].evaluate(step, metrics["val_acc"])
                    last["val_acc"] = last.get("val_acc", [math.nan] * len(logs))
                    last["val_acc"][i] = metrics["val_acc"]
                taus[i] += cfg.lr * weight_decays[i]
                sample = log.record(step=step, tau=taus[i], lr=cfg.lr,
                                    weight_decay=weight_decays[i], layer_norms=layer_norms,
                                    layer_grad_norms=grad_norms, metrics=metrics)
                trackers[i].assessment(step, sample.assessment)
                if evaluate and sample.norm > peak[i][0]:
                    peak[i] = (sample.norm, step)
            if progress is not None:
                progress(step, logs)
    finally:
        for log in logs:
            log.close()
    wall = time.perf_counter() - started
    results = []
    for i, (w, log) in enumerate(zip(weight_decays, logs)):
        a = (log.latest_assessment.model_dump(mode="json")
             if log.latest_assessment is not None else None)
        final = log.latest_sample
        results.append(RunResult(
            run_id=log.header.run_id, log_path=log.path, weight_decay=w, lr=cfg.lr, steps=cfg.steps,
            grok_step=trackers[i].actual_step, forecast_step=trackers[i].forecast_step,
            forecast_made_at=trackers[i].forecast_made_at,
            first_forecast_step=trackers[i].first_forecast_step,
            first_forecast_made_at=trackers[i].first_forecast_made_at,
            final_train_loss=final.metrics.get("train_loss", math.nan) if final else math.nan,
            final_train_acc=final.metrics.get("train_acc", math.nan) if final else math.nan,
            final_val_acc=last.get("val_acc", [math.nan] * len(logs))[i],
            final_norm=final.norm if final else math.nan,
            final_head_norm=final.head_norm if final else None,
            peak_norm=peak[i][0], peak_step=peak[i][1],
            regime=None if a is None else a.get("regime"),
            confidence=None if a is None else a.get("confidence"),
            assessment=a, wall_time_s=wall))
    return results
