"""λ advice: hand-computed expectations of T = log(V_sc/V_st) / (r·η·λ)."""

from __future__ import annotations

import json
import math

import pytest

from nht_monitor.analysis.advice import DEFAULT_CONTRACTION_RATE as R
from nht_monitor.analysis.advice import advise, norm_ratio
from nht_monitor.analysis.assessment import Assessment, CleanNormSeparation, Transition


def _a(**kw) -> Assessment:
    base = dict(run_id="r", n_samples=50, step=1000, tau=1.0, lr=1e-3, weight_decay=0.01,
                norm=10.0, v_peak=10.0)
    base.update(kw)
    return Assessment(**base)


def test_weak_suggests_lambda_that_lands_at_half_the_budget():
    # ratio unknown -> assumed 2; τ_delay = ln 2 / R = 5.332; aim = 0.5 * 10000 = 5000 steps
    assert R == 0.13
    tau = math.log(2) / 0.13
    adv = advise(_a(regime="weak"), budget_steps=10_000)
    assert adv.action == "raise_weight_decay"
    assert adv.suggested_weight_decay == pytest.approx(tau / (1e-3 * 5000))  # 1.066
    assert adv.forecast_steps == pytest.approx(5000)
    assert adv.budget_steps == 10_000
    assert adv.alternatives["keep"] == pytest.approx(tau / (1e-3 * 0.01))  # 533,190
    assert adv.alternatives["double"] == pytest.approx(tau / (1e-3 * 0.02))
    assert adv.alternatives["x10"] == pytest.approx(tau / (1e-3 * 0.1))
    assert "1.07" in adv.text and "10,000" in adv.text and "assumed" in adv.text


def test_weak_uses_observed_ratio_and_zero_weight_decay():
    adv = advise(_a(regime="weak", weight_decay=0.0, cns=CleanNormSeparation(ratio=4.0)),
                 budget_steps=2000)
    # λ = ln 4 / R / (1e-3 * 1000) = 10.66
    assert adv.suggested_weight_decay == pytest.approx(math.log(4) / R / 1.0)
    assert adv.forecast_steps == pytest.approx(1000)
    assert adv.alternatives["keep"] is None  # never, with λ = 0
    json.dumps(adv.model_dump(mode="json"), allow_nan=False)


def test_weak_without_budget_targets_the_steps_taken_so_far():
    adv = advise(_a(regime="weak", step=4000))
    # aim = 0.5 * 4000 = 2000 steps: λ = ln 2 / R / (1e-3 * 2000)
    assert adv.suggested_weight_decay == pytest.approx(math.log(2) / R / 2.0)
    assert adv.budget_steps is None
    assert "no budget given" in adv.text


def test_weak_when_law_says_current_lambda_suffices_doubles_it():
    adv = advise(_a(regime="weak", lr=1e-2, weight_decay=1.0), budget_steps=10_000)
    # law: ln2/R/(0.01*5000) = 0.107 < 1.0 -> at least double
    assert adv.suggested_weight_decay == pytest.approx(2.0)
    assert adv.forecast_steps == pytest.approx(math.log(2) / R / (1e-2 * 2.0))


def test_norm_ratio_sources():
    assert norm_ratio(_a(cns=CleanNormSeparation(ratio=3.0)))[0] == 3.0
    assert norm_ratio(_a(cns=CleanNormSeparation(v_sc=6.0, v_st=2.0)))[0] == pytest.approx(3.0)
    assert norm_ratio(_a(v_peak=30.0, norm=10.0))[0] == pytest.approx(3.0)
    assert norm_ratio(_a(v_peak=10.2, norm=10.0)) == (2.0, "assumed, not observed yet")


def test_strong_lowers_lambda_by_squared_collapse():
    adv = advise(_a(regime="strong", weight_decay=1.0, v_peak=30.0, norm=10.0))
    assert adv.action == "lower_weight_decay"
    assert adv.suggested_weight_decay == pytest.approx(1.0 / 9.0)
    assert "÷9" in adv.text


def test_strong_factor_is_capped_and_budget_floor_applies():
    # collapse 30 -> 1 gives ÷900, capped to ÷100 -> 0.01; no decay rate fitted -> R;
    # budget floor ln2/R/(1e-3*500000) = 0.01066
    adv = advise(_a(regime="strong", weight_decay=1.0, v_peak=30.0, norm=1.0),
                 budget_steps=1_000_000)
    assert adv.suggested_weight_decay == pytest.approx(math.log(2) / R / 500.0)
    assert adv.forecast_steps == pytest.approx(500_000)


def test_strong_with_too_short_budget_says_so():
    adv = advise(_a(regime="strong", weight_decay=1.0, v_peak=30.0, norm=10.0),
                 budget_steps=1000)
    assert adv.suggested_weight_decay == pytest.approx(1.0 / 9.0)
    assert "too short" in adv.text


def test_strong_uses_fitted_decay_rate():
    adv = advise(_a(regime="strong", weight_decay=1.0, v_peak=30.0, norm=10.0, decay_rate=2.0,
                    cns=CleanNormSeparation(ratio=math.e)))
    # τ_delay = ln e / 2 = 0.5; forecast at λ = 1/9: 0.5 / (1e-3/9) = 4500
    assert adv.forecast_steps == pytest.approx(4500)


def _inter(**kw) -> Assessment:
    return _a(regime="intermediate", weight_decay=0.1,
              transition=Transition(status="pending", forecast_step=3000.0,
                                    steps_remaining=2000.0), **kw)


def test_intermediate_reports_halving_and_doubling():
    adv = advise(_inter(), budget_steps=5000)
    assert adv.action == "keep"
    assert adv.suggested_weight_decay == 0.1
    assert adv.forecast_steps == 2000
    assert adv.alternatives == {"keep": 2000, "halve": 4000, "double": 1000}
    assert "3,000" in adv.text and "5,000" in adv.text  # step 1000 + 4000 = 5,000 when halved


def test_intermediate_over_budget_raises_lambda():
    adv = advise(_inter(), budget_steps=2000)
    # 2000 steps remaining, 1000 left in the budget, aim 800: λ = 0.1 * 2000 / 800
    assert adv.action == "raise_weight_decay"
    assert adv.suggested_weight_decay == pytest.approx(0.25)
    assert adv.forecast_steps == pytest.approx(800)


def test_intermediate_budget_already_spent_sizes_a_fresh_run():
    adv = advise(_inter(), budget_steps=500)
    # fresh run: transition at 3000 steps at λ=0.1 -> λ = 0.1*3000/(0.8*500) = 0.75
    assert adv.suggested_weight_decay == pytest.approx(0.75)
    assert adv.forecast_steps == pytest.approx(400)


def test_intermediate_forecast_from_tau_only():
    a = _a(regime="intermediate", weight_decay=0.1, tau=2.0,
           transition=Transition(status="pending", forecast_tau=2.5))
    adv = advise(a)
    assert adv.forecast_steps == pytest.approx(0.5 / (1e-3 * 0.1))


def test_intermediate_done():
    adv = advise(_a(regime="intermediate", transition=Transition(status="done")))
    assert adv.action == "keep" and "done" in adv.text


@pytest.mark.parametrize("regime,word", [("clamped", "pinned"), ("diverged", "diverged"),
                                         ("undetermined", "Not enough evidence")])
def test_non_decay_regimes_give_no_lambda(regime, word):
    adv = advise(_a(regime=regime), budget_steps=1000)
    assert adv.action == "none" and adv.suggested_weight_decay is None
    assert word in adv.text


def test_missing_lr_gives_no_advice():
    adv = advise(_a(regime="weak", lr=None))
    assert adv.action == "none"


def test_advice_module_does_not_import_torch():
    """advice.py (and the assessment models it uses) import no torch: only stdlib,
    pydantic and nht_monitor.analysis.assessment (the package __init__ itself imports torch)."""
    import ast
    from pathlib import Path

    import nht_monitor.analysis.advice
    import nht_monitor.analysis.assessment

    for module in (nht_monitor.analysis.advice, nht_monitor.analysis.assessment):
        tree = ast.parse(Path(module.__file__).read_text())
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert names <= {"__future__", "math", "typing", "pydantic", "nht_monitor.analysis.assessment"}, names


def test_advice_fits_in_assessment_and_round_trips():
    a = _a(regime="weak")
    a.advice = advise(a, budget_steps=10_000)
    back = Assessment.model_validate(json.loads(json.dumps(a.model_dump(mode="json"))))
    assert back.advice.suggested_weight_decay == pytest.approx(a.advice.suggested_weight_decay)


def _weak_run_log(tmp_path):
    """A real tiny run with λ = 0 that memorises its data: the norm only grows."""
    import torch
    from torch import nn

    from nht_monitor import watch

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
    with watch(model, opt, log_dir=tmp_path, run_id="weak", assess_every=20) as monitor:
        for _ in range(150):
            opt.zero_grad()
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            monitor.log(train_loss=loss.detach(),
                        train_acc=(logits.argmax(1) == y).float().mean())
    return monitor.log_path


def test_advise_command_on_a_real_weak_run(tmp_path, capsys):
    from nht_monitor.cli import main

    path = _weak_run_log(tmp_path)
    assert main(["advise", str(path), "--budget-steps", "5000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["run_id"] == "weak" and out["regime"] == "weak"
    advice = out["advice"]
    assert advice["action"] == "raise_weight_decay" and advice["budget_steps"] == 5000
    assert advice["suggested_weight_decay"] > 0
    assert advice["forecast_steps"] <= 5000
    assert main(["advise", str(path), "--budget-steps", "5000"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("weak: weak at step 150") and "Raise weight decay" in text
    assert main(["advise", str(tmp_path / "missing.jsonl")]) == 1
    assert main(["advise", str(path), "--budget-steps", "0"]) == 1


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_maybe = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=300, deadline=None)
@given(regime=st.sampled_from(["undetermined", "weak", "intermediate", "strong", "diverged",
                               "clamped"]),
       lr=_maybe, wd=_maybe, norm=_maybe, v_peak=_maybe, decay=_maybe, ratio=_maybe,
       step=st.one_of(st.none(), st.integers(0, 10**7)),
       remaining=_maybe, budget=st.one_of(st.none(), st.integers(-5, 10**7)))
def test_advise_never_raises_and_stays_json(regime, lr, wd, norm, v_peak, decay, ratio, step,
                                            remaining, budget):
    a = Assessment(regime=regime, lr=lr, weight_decay=wd, norm=norm, v_peak=v_peak,
                   decay_rate=decay, step=step, cns=CleanNormSeparation(ratio=ratio),
                   transition=Transition(status="pending", steps_remaining=remaining))
    adv = advise(a, budget_steps=budget)
    assert adv.text
    json.dumps(adv.model_dump(mode="json"), allow_nan=False)
