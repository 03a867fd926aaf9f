"""Modular arithmetic: data, batched == sequential training, monitored runs, delay law, CLI."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nht_monitor.demos.common.transition import TransitionTracker
from nht_monitor.demos.modular_arithmetic import (
    ModArithConfig,
    RunResult,
    fit_delay_law,
    train_run,
    train_sweep,
)
from nht_monitor.demos.modular_arithmetic.data import all_pairs, make_data
from nht_monitor import read_run
from nht_monitor.cli import main as cli_main
from tests.demos.helpers import assert_assessed_log

REPO = Path(__file__).resolve().parents[2]


def tiny(tmp_path: Path, **kw) -> ModArithConfig:
    base = dict(p=23, width=32, embed_dim=16, steps=40, eval_every=5, log_dir=tmp_path)
    base.update(kw)
    return ModArithConfig(**base)


@pytest.mark.parametrize("op,check", [("+", lambda a, b, p: (a + b) % p),
                                      ("-", lambda a, b, p: (a - b) % p),
                                      ("*", lambda a, b, p: (a * b) % p),
                                      ("/", lambda a, b, p: (a * pow(b, p - 2, p)) % p)])
def test_all_pairs_results(op, check):
    x, y = all_pairs(11, op)
    assert len(y) == (110 if op == "/" else 121)
    for (a, b), r in zip(x.tolist(), y.tolist()):
        assert r == check(a, b, 11)
    if op == "/":
        assert all(((r * b) % 11) == a for (a, b), r in zip(x.tolist(), y.tolist()))


def test_split_is_seeded_and_disjoint():
    d1, d2 = make_data(13, "+", 0.4, seed=3), make_data(13, "+", 0.4, seed=3)
    assert torch.equal(d1.x_train, d2.x_train)
    train = {tuple(r) for r in d1.x_train.tolist()}
    val = {tuple(r) for r in d1.x_val.tolist()}
    assert not train & val and len(train) + len(val) == 169
    assert len(train) == round(0.4 * 169)


def test_config_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="prime"):
        ModArithConfig(p=91)
    with pytest.raises(ValueError):
        ModArithConfig(train_fraction=1.5)
    with pytest.raises(ValueError):
        ModArithConfig(model="rnn")
    quick = ModArithConfig(quick=True).resolved()
    assert (quick.p, quick.steps, quick.width) == (31, 300, 64)


def test_batched_sweep_matches_sequential_runs(tmp_path):
    """Each λ slice of the batched sweep is the same run as train_run with that λ."""
    wds = [0.0, 1.0, 10.0]
    swept = train_sweep(tiny(tmp_path / "sweep"), wds)
    for wd, res in zip(wds, swept):
        single = train_run(tiny(tmp_path / "single", weight_decay=wd, run_id=f"single-{wd:g}"))
        a, b = read_run(single.log_path), read_run(res.log_path)
        assert [s.step for s in a.samples] == [s.step for s in b.samples] == list(range(1, 41))
        assert a.header.layers == b.header.layers == ["embed", "fc1", "head"]
        assert b.header.head == "head"
        for sa, sb in zip(a.samples, b.samples):
            assert sb.norm == pytest.approx(sa.norm, rel=1e-4)
            assert sb.head_norm == pytest.approx(sa.head_norm, rel=1e-4)
            assert sb.tau == pytest.approx(sa.tau, rel=1e-9, abs=1e-12)
            for name in sa.layer_norms:
                assert sb.layer_norms[name] == pytest.approx(sa.layer_norms[name], rel=1e-4)
            assert sb.grad_norm == pytest.approx(sa.grad_norm, rel=1e-3)
            assert sb.metrics["train_loss"] == pytest.approx(sa.metrics["train_loss"], rel=1e-4)
            assert set(sb.metrics) == set(sa.metrics)
        assert res.final_norm == pytest.approx(single.final_norm, rel=1e-4)
        assert res.final_val_acc == pytest.approx(single.final_val_acc, abs=1e-6)


def test_train_run_writes_an_assessed_log_and_passes_monitor_kwargs(tmp_path):
    calls = []
    result = train_run(tiny(tmp_path, weight_decay=1.0, steps=30),
                       monitor_kwargs={"assess_every": 5, "assess_interval": 0},
                       on_step=lambda step, model, opt: calls.append(step))
    assert calls == list(range(1, 31))
    assert result.log_path == tmp_path / "modarith-add-p23-wd1-s0.jsonl"
    last = assert_assessed_log(result.log_path, metrics=("train_loss", "train_acc", "val_acc"))
    log = read_run(result.log_path)
    assert sum(s.assessment is not None for s in log.samples) >= 6  # every 5 + at close
    assert log.header.config["demo"]["weight_decay"] == 1.0
    assert result.regime == last.regime
    assert result.final_norm == pytest.approx(log.samples[-1].norm, rel=1e-6)
    assert 0 <= result.final_train_acc <= 1 and 0 <= result.final_val_acc <= 1
    assert result.peak_norm >= result.final_norm - 1e-9
    assert result.wall_time_s > 0


def test_layernorm_and_transformer_variants_train(tmp_path):
    r1 = train_run(tiny(tmp_path, layernorm=True, steps=10, run_id="ln"))
    assert "norm" in read_run(r1.log_path).header.layers
    r2 = train_run(tiny(tmp_path, model="transformer", width=16, steps=10, run_id="tf"))
    assert read_run(r2.log_path).header.head == "head"
    swept = train_sweep(tiny(tmp_path / "tf", model="transformer", width=16, steps=5), [0.1, 1])
    assert len(swept) == 2 and all(math.isfinite(r.final_norm) for r in swept)


def _result(wd: float, grok: int | None) -> RunResult:
    return RunResult(run_id=f"r{wd}", log_path=Path("x"), weight_decay=wd, lr=1e-3, steps=10,
                     grok_step=grok, final_train_loss=0, final_train_acc=1, final_val_acc=1,
                     final_norm=1, peak_norm=1, peak_step=1, wall_time_s=1)


def test_delay_law_fit():
    exact = [_result(w, int(2.0 / (1e-3 * w) + 100)) for w in (0.5, 1, 2, 4)]
    fit = fit_delay_law(exact + [_result(0.1, None)])
    assert fit is not None and fit.n == 4 and fit.excluded == [0.1]
    assert fit.slope == pytest.approx(2.0, rel=1e-3) and fit.r_squared == pytest.approx(1.0)
    noisy = [_result(w, int(2.0 / (1e-3 * w) + d)) for w, d in ((0.5, 900), (1, -700), (2, 600))]
    assert fit_delay_law(noisy).r_squared < 0.99
    assert fit_delay_law(exact[:2]) is None


def test_transition_tracker_takes_the_first_reach_and_only_prior_forecasts():
    t = TransitionTracker(0.95)
    for step, acc in ((10, 0.2), (20, 0.5), (30, 0.96), (40, 0.5), (50, 0.99)):
        t.evaluate(step, acc)
        t.assessment(step, {"step": step, "transition": {"status": "pending",
                                                         "forecast_step": 45.0 + step}})
    assert t.actual_step == 30  # the first reach; the dip at 40 does not move it
    assert (t.forecast_made_at, t.forecast_step) == (20, 65.0)
    assert (t.first_forecast_made_at, t.first_forecast_step) == (10, 55.0)
    rel = TransitionTracker(0.1, mode="relative")
    for step, acc in ((1, 0.1), (2, 0.15), (3, 0.6), (4, 0.58)):
        rel.evaluate(step, acc)
    assert rel.actual_step == 3  # 0.6 >= 0.1 + 0.9 * 0.5
    flat = TransitionTracker(0.1, mode="relative")
    flat.evaluate(1, 0.5)
    flat.evaluate(2, 0.55)
    assert flat.actual_step is None


def test_cli_quick_sweep_prints_the_regime_table(tmp_path, capsys):
    code = cli_main(["demo", "modular-arithmetic", "--quick", "--no-progress",
                     "--sweep", "0.1,1,10", "--log-dir", str(tmp_path), "--steps", "120"])
    assert code == 0
    out = capsys.readouterr().out
    assert "regime" in out and "delay law" in out
    for wd in ("0.1", "1", "10"):
        assert_assessed_log(tmp_path / f"modarith-add-p31-wd{wd}-s0.jsonl",
                            metrics=("train_loss", "train_acc", "val_acc"))


def test_python_m_entry_point_runs_one_lambda(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "nht_monitor.demos.modular_arithmetic", "--quick", "--no-progress",
         "--threads", "1", "--weight-decay", "1", "--steps", "30", "--log-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "grok step" in proc.stdout
    assert_assessed_log(tmp_path / "modarith-add-p31-wd1-s0.jsonl",
                        metrics=("train_loss", "train_acc", "val_acc"))


def test_train_run_serves_live_metrics_when_asked(tmp_path):
    import urllib.request

    bodies = []

    def scrape(step, monitor):
        if step == 15:
            with urllib.request.urlopen(monitor.prometheus_url, timeout=10) as response:
                bodies.append(response.read().decode())

    result = train_run(tiny(tmp_path, steps=20, prometheus_port=0), progress=scrape)
    assert len(bodies) == 1 and result.run_id in bodies[0]


def test_default_job_shows_three_regimes_and_the_delay_law(tmp_path, capsys):
    """The README's main job, at its real defaults (~45 s on 2 cores): weak, intermediate
    and strong across the default λ, every intermediate run grokked, delay law R² ≥ 0.9."""
    from nht_monitor.demos.modular_arithmetic.cli import DEFAULT_SWEEP

    code = cli_main(["demo", "modular-arithmetic", "--no-progress", "--log-dir", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    regimes = {}
    for wd in DEFAULT_SWEEP:
        run = read_run(tmp_path / f"modarith-add-p59-wd{wd:g}-s0.jsonl")
        assert len(run.samples) == ModArithConfig().steps
        regimes[wd] = run.samples[-1].assessment["regime"]
    assert regimes[0.01] == "weak" and regimes[10.0] == "strong"
    assert all(regimes[wd] == "intermediate" for wd in (0.1, 0.15, 0.2, 0.3)), regimes
    r2 = float(out.split("R² = ")[1].split()[0])
    assert r2 >= 0.9, out


def test_demo_log_dir_defaults_to_a_fresh_directory_per_invocation():
    from nht_monitor.demos.common.cli import build_parser

    args = build_parser("modular-arithmetic").parse_args([])
    assert args.log_dir.parent == Path("runs") and args.log_dir.name[:8].isdigit()


def test_rerun_into_the_same_log_dir_is_a_clear_error_that_keeps_the_log(tmp_path, capsys):
    argv = ["demo", "modular-arithmetic", "--quick", "--no-progress", "--weight-decay", "1",
            "--steps", "5", "--log-dir", str(tmp_path)]
    assert cli_main(argv) == 0
    log = tmp_path / "modarith-add-p31-wd1-s0.jsonl"
    before = log.read_bytes()
    assert cli_main(argv) == 2
    assert "already exists" in capsys.readouterr().err
    assert log.read_bytes() == before
