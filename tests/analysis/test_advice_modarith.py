"""The advice computed from a real (tiny) modular-arithmetic λ sweep, trained here by the
project's demo code (one batched model, seconds on a CPU)."""

from __future__ import annotations

import json

import pytest

from nht_monitor.analysis.advice import calibrate, calibration_run, solve_rate
from nht_monitor.cli import main

LR = 1e-2
WEIGHT_DECAYS = (0.01, 0.5, 1.0, 1.5, 2.0, 30.0)


@pytest.fixture(scope="module")
def sweep_logs(tmp_path_factory):
    import torch

    from nht_monitor.demos.modular_arithmetic import ModArithConfig, train_sweep

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cfg = ModArithConfig(p=31, train_fraction=0.9, width=64, embed_dim=16, lr=LR,
                             steps=450, device="cpu", run_id="tiny",
                             log_dir=tmp_path_factory.mktemp("modarith"))
        return [r.log_path for r in train_sweep(cfg, WEIGHT_DECAYS)]
    finally:
        torch.set_num_threads(threads)


def test_advice_is_computed_from_the_real_sweep(sweep_logs, capsys):
    runs = [calibration_run(p) for p in sweep_logs]
    cal = calibrate(runs)
    # the small λ memorises without the transition, λ = 30 never fits the training set
    assert runs[0].fitted and runs[0].transition_step is None
    assert not runs[-1].fitted
    assert len(cal.transitioned) >= 3 and cal.law.slope > 0
    assert cal.strong_rate == pytest.approx(LR * 30.0)
    weak, folder = sweep_logs[0], sweep_logs[0].parent
    assert main(["advise", str(weak), str(folder), "--budget-steps", "600", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    adv = out["advice"]
    assert out["regime"] == "weak"
    assert adv["basis"] == "sweep" and adv["action"] == "raise_weight_decay"
    assert adv["calibration"]["runs"] == len(WEIGHT_DECAYS)
    assert adv["calibration"]["transitioned"] == len(cal.transitioned)
    expected = solve_rate(cal, 600.0, LR * 0.01) / LR
    assert adv["suggested_weight_decay"] == pytest.approx(expected, rel=1e-6)
    # inside the λ range where training fitted, and its bound inside the budget
    assert 0.01 < adv["suggested_weight_decay"] <= cal.fitted_max_rate / LR
    assert adv["forecast_steps"] < adv["forecast_bound_steps"] <= 600
