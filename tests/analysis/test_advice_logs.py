"""``nht-monitor advise`` on run logs built to show each case: a weak run alone (no
number, and what is missing), with a sweep of the task (the calibrated λ), the budget
from the header (``watch(budget_steps=)``), runs of another model left out."""

from __future__ import annotations

import json
import math

import pytest

from nht_monitor.analysis.advice import MIN_MARGIN, advice_budget, calibration_run
from nht_monitor.analysis import Analyzer
from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.cli import main
from nht_monitor.runlog import RunLogWriter
from nht_monitor.runlog.schema import RunHeader
from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

LR = 1e-3


def _header(run_id: str, n_params: int = 1000, **config) -> RunHeader:
    return RunHeader(run_id=run_id, started_at="2026-12-02T00:00:00Z",
                     model={"class_name": "M", "n_params": n_params}, layers=["a", "b"],
                     config=config)


def _write(path, samples, hdr) -> str:
    w = RunLogWriter(path, hdr)
    for s in samples:
        w.write(s.model_dump(mode="python", exclude_none=True))
    w.close()
    return str(path)


def _weak(tmp_path, **config) -> str:
    run = make_run(lambda s, t: 40.0 + 0.002 * s, steps=3000, lr=LR, weight_decay=0.01,
                   acc_of=fit_acc(200), loss_of=fit_loss(200), val_of=lambda s, t: 0.05)
    return _write(tmp_path / "weak.jsonl", run, _header("weak", **config))


@pytest.fixture()
def sweep(tmp_path):
    """λ = 1, 2, 4 transition ln 2 / 0.8 τ after the fit (delay 0.866/(ηλ) steps);
    λ = 50 never fits (strong)."""
    d = tmp_path / "sweep"
    d.mkdir()
    for wd in (1.0, 2.0, 4.0):
        norm_of, val_of, head_of, _ = grokking(ratio=2.0, weight_decay=wd, fit_step=200, lr=LR)
        run = make_run(norm_of, steps=3000, lr=LR, weight_decay=wd, acc_of=fit_acc(200),
                       loss_of=fit_loss(200), val_of=val_of, head_of=head_of)
        _write(d / f"wd{wd:g}.jsonl", run, _header(f"wd{wd:g}"))
    strong = make_run(lambda s, t: 30.0 * math.exp(-t), steps=3000, lr=LR, weight_decay=50.0,
                      acc_of=lambda s, t: 0.02, loss_of=lambda s, t: 4.6,
                      val_of=lambda s, t: 0.01)
    _write(d / "wd50.jsonl", strong, _header("wd50"))
    return d


def _advice(capsys, argv) -> dict:
    assert main(["advise", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_calibration_runs_read_from_logs(sweep):
    run = calibration_run(sweep / "wd1.jsonl")
    # fit: train acc 0.01 + s/200 reaches 0.99 at s = 196; transition: τ reaches
    # 0.2 + ln2/0.8 at s = 200 + 866.4 → 1067 (first evaluation with val ≥ 0.9)
    assert run.fit_step == 196 and run.transition_step == 1067
    assert run.lr == pytest.approx(LR) and run.weight_decay == 1.0
    strong = calibration_run(sweep / "wd50.jsonl")
    assert strong.fit_step is None and strong.transition_step is None and not strong.fitted


def test_weak_run_alone_gets_no_number_and_the_missing_evidence(tmp_path, capsys):
    out = _advice(capsys, [_weak(tmp_path), "--budget-steps", "2000"])
    assert out["regime"] == "weak"
    adv = out["advice"]
    assert adv["action"] == "none" and adv["suggested_weight_decay"] is None
    assert adv["basis"] == "none"
    assert "No λ number" in adv["text"] and "no runs of the same task were given" in adv["text"]
    assert "run 2–3 larger λ" in adv["text"]


def test_weak_run_with_its_sweep_gets_the_calibrated_lambda(tmp_path, sweep, capsys):
    out = _advice(capsys, [_weak(tmp_path), str(sweep), "--budget-steps", "2000"])
    adv = out["advice"]
    assert adv["action"] == "raise_weight_decay" and adv["basis"] == "sweep"
    # delays 871, 438, 221 at 1/(ηλ) = 1000, 500, 250 → 0.8666·x + 4.5 (scipy);
    # bound 1.25·(196 + 4.5 + 0.8666/r) = 2000 → r = 0.8666/1399.5, λ = r/η
    assert MIN_MARGIN == 0.25
    assert adv["suggested_weight_decay"] == pytest.approx(0.8666 / 1399.5 / LR, rel=0.01)
    assert adv["forecast_bound_steps"] == pytest.approx(2000, rel=1e-3)
    assert adv["calibration"]["runs"] == 5 and adv["calibration"]["transitioned"] == 3
    assert adv["calibration"]["max_usable_weight_decay"] == pytest.approx(4.0)
    assert adv["calibration"]["strong_weight_decay"] == pytest.approx(50.0)
    assert main(["advise", str(tmp_path / "weak.jsonl"), str(sweep), "--budget-steps",
                 "2000"]) == 0
    text = capsys.readouterr().out
    assert "Calibrated on 5 runs of this task, 3 reached the transition" in text
    assert "not fitted at λ = 50" in text and "Raise weight decay to λ ≈ 0.619" in text


def test_a_run_annealed_to_lr_0_is_sized_at_its_lr_since_the_fit(tmp_path, sweep, capsys):
    """A weak run whose lr anneals to 1e-9 over its last 300 steps: λ is sized at the lr the
    calibration reads its runs at (the median since the fit, ``sizing_lr``), so the
    numbers are those of the same run at a constant lr — not its last lr's (the λ of
    stop 43 came out ×10⁶: "training fitted up to λ = 2.2e+05" on public code)."""
    def lr_of(s: int) -> float:
        return LR if s <= 2700 else LR + (1e-9 - LR) * (s - 2700) / 300

    run = make_run(lambda s, t: 40.0 + 0.002 * s, steps=3000, lr_of=lr_of, weight_decay=0.01,
                   acc_of=fit_acc(200), loss_of=fit_loss(200), val_of=lambda s, t: 0.05)
    annealed = _write(tmp_path / "annealed.jsonl", run, _header("annealed"))
    adv = _advice(capsys, [annealed, str(sweep), "--budget-steps", "2000"])["advice"]
    assert adv["suggested_weight_decay"] == pytest.approx(0.8666 / 1399.5 / LR, rel=0.01)
    assert adv["calibration"]["max_usable_weight_decay"] == pytest.approx(4.0)
    alone = _advice(capsys, [annealed, "--budget-steps", "2000"])["advice"]["text"]
    assert "at η = 0.001 " in alone and "e-09" not in alone
    live = Analyzer(_header("annealed"), AnalyzerSettings(advice=True,
                                                          budget_steps=2000)).analyze(run)
    assert live.lr < 1e-8 and "at η = 0.001 " in live.advice.text  # the live path too


def test_budget_comes_from_the_header_when_not_given(tmp_path, sweep, capsys):
    # watch(budget_steps=1000) records config["budget_steps"]; no --budget-steps
    adv = _advice(capsys, [_weak(tmp_path, budget_steps=1000), str(sweep)])["advice"]
    assert adv["budget_steps"] == 1000
    # bound 1.25·(196 + 4.5 + 0.8666/r) = 1000 → 0.8666/r = 599.5
    assert adv["suggested_weight_decay"] == pytest.approx(0.8666 / 599.5 / LR, rel=0.01)
    # --budget-steps wins over the header
    adv = _advice(capsys, [str(tmp_path / "weak.jsonl"), str(sweep),
                           "--budget-steps", "2000"])["advice"]
    assert adv["budget_steps"] == 2000


def test_advice_budget_order():
    hdr = _header("r", demo={"steps": 1500})
    assert advice_budget(AnalyzerSettings(), hdr) == 1500  # the demo's planned steps
    assert advice_budget(AnalyzerSettings(budget_steps=900), hdr) == 900  # watch(budget_steps=)
    assert advice_budget(AnalyzerSettings(budget_steps=900, advice_budget_steps=700), hdr) == 700
    assert advice_budget(AnalyzerSettings(), _header("r")) is None


def test_runs_of_another_model_are_left_out(tmp_path, sweep, capsys):
    other = make_run(lambda s, t: 10.0, steps=300, lr=LR, weight_decay=1.0,
                     acc_of=fit_acc(50), val_of=lambda s, t: 1.0)
    _write(sweep / "other-model.jsonl", other, _header("other", n_params=7))
    assert main(["advise", _weak(tmp_path), str(sweep), "--budget-steps", "2000"]) == 0
    captured = capsys.readouterr()
    assert "Calibrated on 5 runs" in captured.out
    assert "left out of the calibration" in captured.err and "parameters, not" in captured.err
    assert "other-model.jsonl (7 parameters, not 1000)" in captured.err


def test_budget_too_short_for_the_fitted_range_gives_no_number(tmp_path, sweep, capsys):
    # even λ = 4 (the largest that fitted) forecasts 196 + 4.5 + 216.6 ≈ 417: a 400-step
    # budget cannot be met with margin, and λ = 50 did not fit
    adv = _advice(capsys, [_weak(tmp_path), str(sweep), "--budget-steps", "400"])["advice"]
    assert adv["action"] == "none" and adv["suggested_weight_decay"] is None
    assert "No λ inside the range where training was seen to fit" in adv["text"]
    assert adv["alternatives"]["largest_fitted"] == pytest.approx(417, abs=3)


def test_advise_on_a_log_without_samples_answers_like_analyze(tmp_path, capsys):
    """A header-only log (a run that has not stepped yet) is not bad input: exit 0 and
    no advice, as ``analyze`` says undetermined; header-only references are left out."""
    from tests.analysis.test_rules import header

    path = tmp_path / "fresh.jsonl"
    w = RunLogWriter(path, header())
    w.close()
    other = tmp_path / "other.jsonl"
    RunLogWriter(other, header()).close()
    assert main(["advise", str(path), str(other)]) == 0
    captured = capsys.readouterr()
    assert "undetermined (no samples yet)" in captured.out
    assert "no weight-decay advice" in captured.out
    assert "other.jsonl (no samples yet)" in captured.err and "fresh.jsonl" not in captured.err
