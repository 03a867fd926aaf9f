"""``nht-monitor analyze | backtest | scorecard`` on real (tiny) training logs and on
synthetic sweeps with known answers."""

from __future__ import annotations

import json
import math

import pytest

from nht_monitor.analysis.assessment import REGIMES, Assessment
from nht_monitor.cli import main
from nht_monitor.runlog import RunLogWriter
from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run
from tests.analysis.test_rules import header

STEPS = 250


def _train(log_dir, weight_decay: float) -> str:
    """A real monitored run: (a + b) mod 11, embedding + MLP, full-batch AdamW, ×3 init."""
    import torch

    from nht_monitor import watch

    torch.manual_seed(0)
    p = 11
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    x = torch.stack([a.flatten(), b.flatten()], 1)
    y = (x[:, 0] + x[:, 1]) % p
    perm = torch.randperm(len(y))
    tr, va = perm[:80], perm[80:]
    model = torch.nn.Sequential(torch.nn.Embedding(p, 16), torch.nn.Flatten(),
                                torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, p))
    with torch.no_grad():
        for q in model.parameters():
            q.mul_(3.0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=weight_decay)
    with watch(model, opt, log_dir=log_dir, run_id=f"tiny-wd{weight_decay:g}") as mon:
        for _ in range(STEPS):
            out = model(x[tr])
            loss = torch.nn.functional.cross_entropy(out, y[tr])
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                acc = (out.argmax(1) == y[tr]).float().mean()
                val = (model(x[va]).argmax(1) == y[va]).float().mean()
            mon.log(train_loss=loss.detach(), train_acc=acc, val_acc=val)
    return str(mon.log_path)


@pytest.fixture(scope="module")
def real_logs(tmp_path_factory):
    import torch

    d = tmp_path_factory.mktemp("real")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one thread is fastest on a shared 2-core box
    try:
        return [_train(d, wd) for wd in (0.01, 1.0, 30.0)]
    finally:
        torch.set_num_threads(threads)


def _write(path, samples, hdr=None) -> str:
    w = RunLogWriter(path, hdr or header())
    for s in samples:
        w.write(s.model_dump(mode="python", exclude_none=True))
    w.close()
    return str(path)


def _json(capsys, argv) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object on one line
    return json.loads(out)


def test_analyze_json_is_one_assessment(real_logs, capsys):
    for path in real_logs:
        data = _json(capsys, ["analyze", path, "--json"])
        a = Assessment.model_validate(data)
        assert a.regime in REGIMES and a.regime != "undetermined"
        assert a.n_samples == STEPS and a.step == STEPS
        assert a.reasons
        assert a.advice is not None  # wired to nht_monitor.analysis.advice


def test_analyze_regimes_follow_weight_decay(real_logs, capsys):
    regimes = [_json(capsys, ["analyze", p, "--json"])["regime"] for p in real_logs]
    assert regimes[2] == "strong"  # λ = 30: collapsed before fitting
    assert regimes[0] != "strong"


def test_analyze_until_and_text(real_logs, capsys):
    data = _json(capsys, ["analyze", real_logs[1], "--json", "--until", "100"])
    assert data["step"] == 100 and data["n_samples"] == 100
    assert main(["analyze", real_logs[1]]) == 0
    text = capsys.readouterr().out
    assert "regime:" in text and "reasons:" in text and "transition:" in text


def test_live_assessments_in_the_log_match_offline(real_logs):
    from nht_monitor.analysis import Analyzer
    from nht_monitor.runlog import read_run

    run = read_run(real_logs[1])
    live = [s.assessment for s in run.samples if s.assessment]
    assert live, "the monitor wrote live assessments"
    last = live[-1]
    offline = Analyzer(run.header).analyze(
        [s for s in run.samples if s.step <= last["step"]])
    assert offline.regime == last["regime"]


def test_backtest_on_synthetic_transition(tmp_path, capsys):
    norm_of, val_of, head_of, _ = grokking(ratio=1.31)
    run = make_run(norm_of, steps=2000, acc_of=fit_acc(200), loss_of=fit_loss(200),
                   val_of=val_of, head_of=head_of)
    path = _write(tmp_path / "synthetic.jsonl", run)
    data = _json(capsys, ["backtest", path, "--json"])
    actual = data["actual"]["step"]
    assert actual == next(s.step for s in run if s.metrics["val_acc"] >= 0.9)
    assert [p["fraction"] for p in data["points"]] == [0.1, 0.25, 0.5, 0.75]
    half = data["points"][2]
    assert half["step"] == int(0.5 * actual)
    assert half["error"] == pytest.approx(abs(half["forecast_step"] - actual) / actual)
    assert "intermediate" in data["regime_first_stable"]
    assert main(["backtest", path]) == 0
    assert "actual transition: step" in capsys.readouterr().out


def test_setting_overrides_reach_analyze_backtest_and_scorecard(tmp_path, capsys):
    norm_of, val_of, head_of, _ = grokking(ratio=1.31)
    run = make_run(norm_of, steps=2000, acc_of=fit_acc(200), loss_of=fit_loss(200),
                   val_of=val_of, head_of=head_of)
    path = _write(tmp_path / "synthetic.jsonl", run)
    law = _json(capsys, ["analyze", path, "--until", "400", "--json"])
    rate = _json(capsys, ["analyze", path, "--until", "400", "--json", "--setting", "delay_tau=none"])
    assert any("law: delay from V_sc median" in r for r in law["reasons"])
    assert any("decay to V_st" in r and "law" not in r for r in rate["reasons"])
    assert law["transition"]["forecast_step"] != rate["transition"]["forecast_step"]
    shorter = _json(capsys, ["analyze", path, "--until", "400", "--json",
                             "--setting", "delay_tau=0.5"])
    assert any("median 0.5 τ" in r for r in shorter["reasons"])
    assert shorter["transition"]["forecast_tau"] < law["transition"]["forecast_tau"]
    recorded = _write(tmp_path / "recorded.jsonl", run, header(analysis={"delay_tau": 0.5}))
    live_settings = _json(capsys, ["analyze", recorded, "--until", "400", "--json"])
    assert live_settings["transition"]["forecast_tau"] == pytest.approx(
        shorter["transition"]["forecast_tau"])
    overridden = _json(capsys, ["analyze", recorded, "--until", "400", "--json",
                                "--setting", "delay_tau=0.6"])
    assert any("median 0.6 τ" in r for r in overridden["reasons"])
    bt = _json(capsys, ["backtest", path, "--json", "--setting", "delay_tau=none"])
    assert bt["delay_tau"] == pytest.approx(math.log(1.31) / 0.8, abs=2e-3)
    assert main(["scorecard", path, "--setting", "done_val_acc=0.5"]) == 0
    capsys.readouterr()
    for bad, message in (("delay_taux=1", "delay_taux"), ("delay_tau=abc", "delay_tau"),
                         ("novalue", "KEY=VALUE")):
        assert main(["analyze", path, "--setting", bad]) == 2
        assert message in capsys.readouterr().err


def test_backtest_on_real_log(real_logs, capsys):
    data = _json(capsys, ["backtest", real_logs[1], "--json"])
    assert data["n_samples"] == STEPS
    assert data["final"]["regime"] in REGIMES
    assert data["regime_first_stable"]


def test_scorecard_on_synthetic_sweep(tmp_path, capsys):
    """λ sweep with known answers: weak (growth), three intermediate runs whose delay is
    exactly ∝ 1/(ηλ), strong (collapse); final norms fall with λ."""
    paths = []
    weak = make_run(lambda s, t: 40.0 + 0.002 * s, steps=3000, weight_decay=0.01,
                    acc_of=fit_acc(200), loss_of=fit_loss(200), val_of=lambda s, t: 0.05)
    paths.append(_write(tmp_path / "wd0.01.jsonl", weak))
    for wd in (1.0, 2.0, 4.0):
        norm_of, val_of, head_of, _ = grokking(ratio=2.0, weight_decay=wd, fit_step=200)
        run = make_run(norm_of, steps=3000, weight_decay=wd, acc_of=fit_acc(200),
                       loss_of=fit_loss(200), val_of=val_of, head_of=head_of)
        paths.append(_write(tmp_path / f"wd{wd:g}.jsonl", run))
    strong = make_run(lambda s, t: 30.0 * math.exp(-t), steps=3000, weight_decay=50.0,
                      acc_of=lambda s, t: 0.02, loss_of=lambda s, t: 4.6,
                      val_of=lambda s, t: 0.01)
    paths.append(_write(tmp_path / "wd50.jsonl", strong))
    data = _json(capsys, ["scorecard", *paths, "--json"])
    preds = {p["name"]: p for p in data["predictions"]}
    assert list(preds) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert preds["P1"]["status"] == "pass" and preds["P1"]["numbers"]["spearman_rho"] <= -0.8
    assert preds["P2"]["status"] == "pass"
    assert preds["P3"]["status"] == "pass"
    assert preds["P4"]["status"] == "pass"
    assert preds["P5"]["status"] == "pass"
    fit = preds["P6"]["numbers"]["inverse_eta_lambda"]
    assert preds["P6"]["status"] == "pass" and fit["r2"] > 0.999 and fit["n"] == 3
    # delay = ln 2 / 0.8 τ = 866 steps at ηλ = 1e-3: slope ln2/0.8 per unit 1/(ηλ)
    assert fit["slope"] == pytest.approx(math.log(2) / 0.8, rel=0.01)
    assert data["score"] == 1.0
    assert main(["scorecard", *paths]) == 0
    assert "S = 1.00" in capsys.readouterr().out


def test_scorecard_on_real_runs(real_logs, capsys):
    data = _json(capsys, ["scorecard", *real_logs, "--json"])
    statuses = [p["status"] for p in data["predictions"]]
    applicable = [s for s in statuses if s != "n/a"]
    assert data["score"] == (sum(s == "pass" for s in applicable) / len(applicable)
                             if applicable else None)
    assert len(data["runs"]) == 3


def test_bad_input_gives_clear_errors(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["analyze", str(empty), "--json"]) == 2
    assert "error" in capsys.readouterr().err
    only_header = _write(tmp_path / "header.jsonl", [])
    data = _json(capsys, ["analyze", only_header, "--json"])
    assert data["regime"] == "undetermined" and data["reasons"] == ["no samples yet"]


def test_analyze_keeps_the_recorded_advice_budget_unless_given(tmp_path, capsys):
    """``--budget-steps`` overrides the advice budget recorded in the header; without it
    the recorded one is used (it was silently replaced by none)."""
    norm_of, val_of, head_of, _ = grokking()
    run = make_run(norm_of, steps=600, acc_of=fit_acc(200), loss_of=fit_loss(200),
                   val_of=val_of, head_of=head_of)
    path = _write(tmp_path / "budget.jsonl", run, header(analysis={"advice_budget_steps": 3000}))
    recorded = _json(capsys, ["analyze", path, "--json"])
    given = _json(capsys, ["analyze", path, "--json", "--budget-steps", "700"])
    assert recorded["advice"]["budget_steps"] == 3000
    assert given["advice"]["budget_steps"] == 700
