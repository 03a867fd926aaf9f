"""The τ clock against the decay torch's optimizers really apply (float64, no loss gradient)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nht_monitor.analysis.forecast import clock_gain, steps_to_tau, tau_per_step
from nht_monitor.live.clock import TauClock, decay_gain


def _decay_only(optimizer_cls, steps: int, **kw) -> tuple[list[float], list[float]]:
    """log‖p‖ and the clock's τ after each step of an optimizer that sees only its own
    weight decay (the loss is 0·Σp: zero gradient)."""
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(64, dtype=torch.float64))
    opt = optimizer_cls([p], **kw)
    clock = TauClock.for_optimizer(opt)
    logs, taus = [], []
    for _ in range(steps):
        opt.zero_grad()
        (0.0 * p.sum()).backward()
        opt.step()
        clock.advance(opt)
        logs.append(math.log(float(p.detach().norm())))
        taus.append(clock.tau)
    return logs, taus


@pytest.mark.parametrize("kw, gain", [
    ({"momentum": 0.0}, 1.0),
    ({"momentum": 0.9}, 10.0),
    ({"momentum": 0.9, "nesterov": True}, 10.0),
    ({"momentum": 0.8, "dampening": 0.5}, 2.5),
])
def test_sgd_clock_counts_the_decay_momentum_builds_up(kw, gain):
    lr, wd = 1e-4, 0.5
    logs, taus = _decay_only(torch.optim.SGD, 3000, lr=lr, weight_decay=wd, **kw)
    assert taus[-1] == pytest.approx(3000 * lr * wd * gain, rel=1e-12)
    # once the momentum buffer has built up, log‖p‖ falls by Δτ, to first order in
    # ηλ·gain/(1 − β) (here 5e-4/(1 − β): a 0.5 % higher-order excess at β = 0.9)
    shrink = logs[200] - logs[-1]
    assert shrink == pytest.approx(taus[-1] - taus[200], rel=1e-2)
    assert shrink != pytest.approx((taus[-1] - taus[200]) / gain, rel=0.1) or gain == 1.0


def test_adamw_clock_is_exact_and_adam_is_nominal():
    logs, taus = _decay_only(torch.optim.AdamW, 300, lr=1e-3, weight_decay=0.5)
    assert logs[0] - logs[-1] == pytest.approx(taus[-1] - taus[0], rel=1e-3)
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3, weight_decay=0.5)
    assert decay_gain(opt, opt.param_groups[0]) == 1.0


def test_the_analysis_reads_the_gain_back_from_the_log():
    step = np.arange(1.0, 101.0)
    lr = np.full(100, 1e-2)
    wd = np.full(100, 1e-3)
    for gain in (1.0, 10.0, 2.5):
        tau = np.cumsum(lr * wd * gain)
        assert clock_gain(step, tau, lr, wd) == pytest.approx(gain, rel=1e-12)
        assert tau_per_step(step, tau, lr, wd) == pytest.approx(1e-5 * gain, rel=1e-12)
    # sampled every 10 steps under a schedule: Δτ/(Δstep·ηλ) is only approximately 1
    lr_sched = 1e-2 * (1 + 0.02 * np.sin(step / 7))
    tau = np.cumsum(lr_sched * wd)
    assert clock_gain(step[9::10], tau[9::10], lr_sched[9::10], wd[9::10]) == 1.0
    # nothing to measure: 1
    assert clock_gain(step[:1], tau[:1], lr[:1], wd[:1]) == 1.0
    assert clock_gain(step, np.full(100, np.nan), lr, wd) == 1.0


def test_steps_follow_the_gain_along_a_schedule():
    # τ per step is lr(s)·λ·gain: with gain 10 the same Δτ takes a tenth of the steps
    lr = lambda s: 1e-2  # noqa: E731
    one = steps_to_tau(1.0, 0.0, 1e-5, lr, None, 1e-3)
    ten = steps_to_tau(1.0, 0.0, 1e-4, lr, None, 1e-3, gain=10.0)
    assert one == pytest.approx(1e5, rel=1e-4) and ten == pytest.approx(1e4, rel=1e-4)
    # a weight-decay schedule only: the lr is the rate's, divided by the gain
    wd = lambda s: 1e-3  # noqa: E731
    assert steps_to_tau(1.0, 0.0, 1e-4, None, wd, 1e-3, gain=10.0) == pytest.approx(1e4, rel=1e-4)
