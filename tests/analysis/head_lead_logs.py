"""Run logs (written by the real RunRecorder, no torch) whose head lead is known to exist
or not: the total norm follows the synthetic grokking curve and the head norm either
contracts faster than it (the head flags first), never drops, or drops while the rest
of the model grows so that the total norm never does."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from nht_monitor.live.recorder import RunRecorder
from nht_monitor.runlog.schema import RunHeader
from tests.analysis.synthetic import grokking

STEPS = 600
FIT_STEP = 200


def _rising(s: int, t: float) -> float:
    """A head norm that grows all run long: it never drops below its running peak."""
    return 1.0 + 9.0 * s / STEPS


def _flat_total(s: int, t: float) -> float:
    """A total norm that grows to the fit and then keeps growing slowly (never flags)."""
    return 10.0 + 20.0 * min(s, FIT_STEP) / FIT_STEP + 0.01 * max(s - FIT_STEP, 0)


def head_lead_log(log_dir: Path, case: str) -> Path:
    """A 600-step log for ``case``: ``head_first`` (the head norm drops before the total
    norm, a lead exists), ``head_never`` (the head norm never drops), ``total_never``
    (the head norm drops, the total norm does not) or ``no_head`` (no head layer)."""
    norm_of, val_of, head_of, _ = grokking(ratio=1.5, fit_step=FIT_STEP)
    curves: dict[str, tuple[Callable[[int, float], float], Callable[[int, float], float]]] = {
        "head_first": (norm_of, head_of),
        "head_never": (norm_of, _rising),
        "total_never": (_flat_total, head_of),
        "no_head": (norm_of, head_of),
    }
    total_of, head_norm_of = curves[case]
    has_head = case != "no_head"
    header = RunHeader(run_id=case, started_at="2026-12-02T00:00:00Z",
                       model={"class_name": "M", "n_params": 2}, layers=["body", "head"],
                       head="head" if has_head else None, config={"steps": STEPS})
    recorder = RunRecorder.open(log_dir, header, assess=False)
    tau = 0.0
    for step in range(1, STEPS + 1):
        tau += 1e-3
        norm, head = total_of(step, tau), head_norm_of(step, tau)
        recorder.record(step=step, tau=tau, lr=1e-3, weight_decay=1.0,
                        layer_norms={"body": math.sqrt(norm ** 2 - head ** 2), "head": head},
                        metrics={"train_acc": min(1.0, step / FIT_STEP),
                                 "train_loss": max(1e-3, 4.6 * (1 - step / FIT_STEP)),
                                 "val_acc": val_of(step, tau)},
                        time=1.8e9 + step)
    recorder.close()
    assert recorder.path is not None
    return recorder.path
