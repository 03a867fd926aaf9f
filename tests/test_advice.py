"""λ advice from one assessment: no number without a measured delay; the run's own
measured forecast rescaled by λ; hand-computed expectations (the sweep calibration:
tests/analysis/test_advice_*.py)."""

from __future__ import annotations

import json
import math

import pytest

from nht_monitor.analysis.advice import advise
from nht_monitor.analysis.assessment import Assessment, CleanNormSeparation, Transition


def _a(**kw) -> Assessment:
    base = dict(run_id="r", n_samples=50, step=1000, tau=1.0, lr=1e-3, weight_decay=0.01,
                norm=10.0, v_peak=10.0)
    base.update(kw)
    return Assessment(**base)


def test_weak_without_evidence_gives_no_number_and_says_what_is_missing():
    # the issue #15 case: a weak run alone used to get "λ ≈ 7.11 (×71) … V_sc/V_st = 2
    # (assumed)"; now no number, and how to get one
    adv = advise(_a(regime="weak", lr=1e-2, weight_decay=0.1), budget_steps=1500)
    assert adv.action == "none" and adv.suggested_weight_decay is None
    assert adv.forecast_steps is None and adv.basis == "none"
    assert "No λ number" in adv.text and "assumed" not in adv.text
    assert "no runs of the same task were given" in adv.text
    assert "λ = 1, 3, 10" in adv.text  # ×10, ×30, ×100 of the current λ, to run
    assert "--budget-steps 1500" in adv.text
    assert adv.budget_steps == 1500


def test_weak_with_zero_weight_decay_and_no_budget_names_the_steps_taken():
    adv = advise(_a(regime="weak", weight_decay=0.0, step=4000))
    assert adv.action == "none" and adv.suggested_weight_decay is None
    assert "λ = 0.01, 0.1, 1" in adv.text and "4,000 steps" in adv.text


@pytest.mark.parametrize("status", ["not_expected", "pending"])
def test_weak_with_a_measured_forecast_beyond_the_budget_rescales_it(status):
    # decaying but too slowly: the engine forecasts step 9000 from the run's own decay and
    # keeps it beside `not_expected` (the shape the engine emits)
    a = _a(regime="weak", weight_decay=0.1,
           transition=Transition(status=status, forecast_step=9000.0,
                                 steps_remaining=8000.0))
    adv = advise(a, budget_steps=3000)
    # 8000 remaining, 2000 left in the budget, aim 0.8·2000: λ = 0.1·8000/1600 = 0.5
    assert adv.action == "raise_weight_decay" and adv.basis == "run"
    assert adv.suggested_weight_decay == pytest.approx(0.5)
    assert adv.forecast_steps == pytest.approx(1600)
    assert "measured decay" in adv.text


@pytest.mark.parametrize("median, within", [(9000.0, False), (2900.0, True)])
def test_weak_by_the_early_end_says_the_median_lies_within_the_budget(median, within):
    # the budget verdict reads the early end (or the law's least delay), so a weak run's
    # median can lie within the budget (a public transformer at λ 0.1: 7,837 of 8,000)
    a = _a(regime="weak", weight_decay=0.1,
           transition=Transition(status="not_expected", forecast_step=median,
                                 steps_remaining=median - 1000.0))
    text = advise(a, budget_steps=3000).text
    assert ("within the 3,000-step budget by its median, but the early end the budget "
            "verdict reads (the reasons say which) lies beyond it" in text) is within
    assert ("beyond the 3,000-step budget;" in text) is not within
    assert "to bring its median to ≈ step" in text


def test_strong_lowers_lambda_by_squared_collapse_without_a_forecast():
    adv = advise(_a(regime="strong", weight_decay=1.0, v_peak=30.0, norm=10.0),
                 budget_steps=1000)
    assert adv.action == "lower_weight_decay"
    assert adv.suggested_weight_decay == pytest.approx(1.0 / 9.0)
    assert "÷9" in adv.text
    assert adv.forecast_steps is None and "No delay forecast" in adv.text


def test_strong_factor_is_capped():
    adv = advise(_a(regime="strong", weight_decay=1.0, v_peak=30.0, norm=1.0))
    assert adv.suggested_weight_decay == pytest.approx(0.01)  # ÷900 capped to ÷100


def test_strong_from_the_initialization_lowers_lambda_an_order_of_magnitude():
    """A norm that never grew above its initialization (finding ``from_init``) collapsed
    from no equilibrium of any λ: ÷10, not the collapse's ÷(30/1)² (capped ÷100), which
    put every strong run of round 94 below the λ of its family that transitioned."""
    adv = advise(_a(regime="strong", weight_decay=1.0, v_peak=30.0, norm=1.0,
                    findings=["collapsed", "from_init"]))
    assert adv.action == "lower_weight_decay"
    assert adv.suggested_weight_decay == pytest.approx(0.1)
    assert ("÷10; the norm fell from its initialization, no equilibrium norm to size λ on: "
            "an order of magnitude") in adv.text


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
    assert adv.basis == "run"


def test_intermediate_over_budget_raises_lambda():
    adv = advise(_inter(), budget_steps=2000)
    # 2000 steps remaining, 1000 left in the budget, aim 800: λ = 0.1 * 2000 / 800
    assert adv.action == "raise_weight_decay"
    assert adv.suggested_weight_decay == pytest.approx(0.25)
    assert adv.forecast_steps == pytest.approx(800)


def _runs(*rows):
    from nht_monitor.analysis.advice import CalibrationRun, calibrate
    return calibrate(CalibrationRun(run_id=f"r{i}", lr=1e-3, weight_decay=wd, steps=steps,
                                    fit_step=fit) for i, (wd, fit, steps) in enumerate(rows))


def test_the_runs_forecast_is_not_rescaled_onto_the_strong_side_of_the_runs_given():
    """The run asks for λ 0.25 (as above); the runs given fitted at λ 0.05 and 0.15 and did
    not at 0.2 (as a public sweep's λ 3 beside a run at 0.75 asked to go to 3.6): λ is
    raised only to 0.15, its forecast said past the budget; with nothing fitted above the
    run's own λ, no number. Runs that all fitted leave the advice as it was (none having
    run the budget at or above the λ asked for: see the next test)."""
    capped = advise(_inter(), budget_steps=2000,
                    calibration=_runs((0.05, 300, 2000), (0.15, 400, 2000), (0.2, None, 2000)))
    assert capped.action == "raise_weight_decay"
    assert capped.suggested_weight_decay == pytest.approx(0.15)
    assert capped.forecast_steps == pytest.approx(2000 * 0.1 / 0.15)
    assert "λ = 0.2, where training did not fit" in capped.text
    assert "≈ step 2,333, still past the budget" in capped.text
    none = advise(_inter(), budget_steps=2000,
                  calibration=_runs((0.05, 300, 2000), (0.1, 400, 2000), (0.2, None, 2000)))
    assert none.action == "none" and none.suggested_weight_decay is None
    assert "No λ between 0.1 and it was seen to fit" in none.text
    late = advise(_inter(), budget_steps=1100,  # ×25 now is strong; a fresh run is not
                  calibration=_runs((0.05, 300, 2000), (1.0, None, 2000)))
    assert late.action == "none"
    assert late.text.endswith("advise again; a fresh run would need less: λ ≈ 0.341 (×3.41), "
                              "finishing in ≈ 880 steps.")
    free = advise(_inter(), budget_steps=2000,
                  calibration=_runs((0.05, 300, 2000), (0.5, 400, 1000)))
    assert free.suggested_weight_decay == pytest.approx(0.25)


def test_the_runs_forecast_is_not_rescaled_to_a_lambda_a_run_given_was_too_slow_at():
    """A public LayerNorm transformer at λ 0.5 was told "a fresh run needs λ ≈ 0.964" beside
    a λ 1 run that had not transitioned in the 3,000-step budget (stop 67): a λ seen too
    slow is a floor, 1.25× above it, said — for this run from now and for a fresh run."""
    now = advise(_inter(), budget_steps=2000,  # the run asks for 0.25; λ 0.3 ran 2,000
                 calibration=_runs((0.05, 300, 2000), (0.3, 400, 2000)))
    assert now.suggested_weight_decay == pytest.approx(0.375)
    assert now.forecast_steps == pytest.approx(2000 * 0.1 / 0.375)
    assert now.text.endswith("Raise λ now to ≈ 0.375 (×3.75) to bring its median to ≈ step "
                             "1,533 (a run given at λ = 0.3 ran 2,000 steps without the "
                             "transition).")
    fresh = advise(_inter(), budget_steps=500,  # spent: a fresh run asks for 0.75
                   calibration=_runs((0.05, 300, 2000), (1.0, 400, 2000)))
    assert fresh.suggested_weight_decay == pytest.approx(1.25)
    assert fresh.text.endswith("a fresh run needs λ ≈ 1.25 (×12.5) to finish in ≈ 240 steps "
                               "(a run given at λ = 1 ran 500 steps without the transition).")
    above = advise(_inter(), budget_steps=2000,  # asks for more than the slow λ: as it was
                   calibration=_runs((0.05, 300, 2000), (0.2, 400, 2000)))
    assert above.suggested_weight_decay == pytest.approx(0.25)
    assert "without the transition" not in above.text


def test_with_little_budget_left_the_milder_fresh_run_is_said_too():
    """100 steps left of 1,100 for a transition 2,000 steps away: raising λ now takes ×25;
    a fresh run needs λ 0.1·3000/(0.8·1100) ≈ 0.341 (as a public run at λ 0.75 was told
    "raise to ≈ 6.17" with 99 steps left, a fresh run needing ≈ 1.1)."""
    adv = advise(_inter(), budget_steps=1100)
    assert adv.suggested_weight_decay == pytest.approx(2.5)
    assert adv.alternatives["fresh_run"] == pytest.approx(880)
    assert "a fresh run would need less: λ ≈ 0.341 (×3.41), finishing in ≈ 880 steps" \
        in adv.text
    # half the budget left: ×2.5 now against ×1.9 fresh, the run's own λ change alone
    assert "fresh_run" not in advise(_inter(), budget_steps=2000).alternatives


def test_intermediate_budget_already_spent_sizes_a_fresh_run():
    adv = advise(_inter(), budget_steps=500)
    # fresh run: transition at 3000 steps at λ=0.1 -> λ = 0.1*3000/(0.8*500) = 0.75
    assert adv.suggested_weight_decay == pytest.approx(0.75)
    assert adv.forecast_steps == pytest.approx(400)


def test_a_forecast_without_a_step_is_not_converted_at_the_current_rate():
    """The engine gives no step when its clock (a planned lr annealing first) stops before
    the median: the advice gives none either, saying why — not Δτ / (lr λ) steps at the
    current rate, which said "within the budget, keep λ" beside an engine whose plan
    left too little τ (a public warm-up + cosine-to-0 run at λ 0.5)."""
    a = _a(regime="intermediate", weight_decay=0.1, tau=2.0,
           transition=Transition(status="pending", forecast_tau=2.5))
    adv = advise(a, budget_steps=5000)
    assert adv.action == "keep" and adv.forecast_steps is None and adv.basis == "none"
    assert "median lies past where the τ clock stops" in adv.text
    assert "within the 5,000-step budget: keep λ = 0.1 and re-assess" in adv.text
    unbudgeted = advise(a).text  # no budget: no claim about where the early end lies
    assert "so it has no step: keep λ = 0.1 and re-assess" in unbudgeted


@pytest.mark.parametrize("findings,rate,contracting", [
    (["held_up", "room_while_held"], None, False),  # grown since the fit (a public run)
    (["settled", "forecast"], -0.15, False),  # came down, grows again
    (["decaying", "forecast"], 0.4, True)])
def test_intermediate_opening_says_whether_the_norm_contracts(findings, rate, contracting):
    a = _a(regime="intermediate", findings=findings, decay_rate=rate,
           transition=Transition(status="pending"))
    text = advise(a, budget_steps=5000).text
    assert ("the norm is contracting at λ = 0.01" in text) == contracting
    assert ("the norm is not contracting at λ = 0.01 (not since the fit, or no longer), but "
            "a transition is still expected" in text) == (not contracting)


def test_a_held_up_norm_that_decays_is_not_said_to_be_still():
    """Held within 5 % of its post-fit peak but decaying (a public Lightning run at λ 4,
    from 49.6 down to 34.6 … then still near its new peak): the opening says the norm has
    not come far below its peak, not that it does not contract; the weak advice without a
    number says V_sc/V_st cannot be measured yet, not that no decay rate is."""
    a = _a(regime="intermediate", findings=["held_up", "room_while_held"], decay_rate=0.76,
           transition=Transition(status="pending"))
    text = advise(a, budget_steps=5000).text
    assert text.startswith("Intermediate regime: at λ = 0.01 the norm has not come far "
                           "below its post-fit peak yet, but a transition is still expected.")
    assert "not contracting" not in text
    weak = advise(_a(regime="weak", findings=["held_up", "too_late"], decay_rate=0.61),
                  budget_steps=6000).text
    assert ("its norm has not come far enough below its post-fit peak to measure V_sc/V_st"
            in weak) and "nor a decay rate is measured" not in weak


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
    """Importing and using the advice (calibration included) loads no torch."""
    import subprocess
    import sys

    code = ("import sys; from nht_monitor.analysis import advice; "
            "from nht_monitor.analysis.assessment import Assessment; "
            "advice.advise(Assessment(regime='weak', lr=0.01, weight_decay=0.1, step=10)); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_advice_fits_in_assessment_and_round_trips():
    a = _inter()
    a.advice = advise(a, budget_steps=2000)
    back = Assessment.model_validate(json.loads(json.dumps(a.model_dump(mode="json"))))
    assert back.advice.suggested_weight_decay == pytest.approx(a.advice.suggested_weight_decay)
    assert back.advice.basis == "run"


def _weak_run_log(tmp_path, **watch_kwargs):
    """A real tiny run with λ = 0 that memorises its data: the norm only grows."""
    import torch
    from torch import nn

    from nht_monitor import watch

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
    with watch(model, opt, log_dir=tmp_path, run_id="weak", assess_every=20,
               **watch_kwargs) as monitor:
        for _ in range(150):
            opt.zero_grad()
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            monitor.log(train_loss=loss.detach(),
                        train_acc=(logits.argmax(1) == y).float().mean())
    return monitor.log_path


def test_advise_command_on_a_real_weak_run_alone_gives_no_number(tmp_path, capsys):
    from nht_monitor.cli import main

    path = _weak_run_log(tmp_path)
    assert main(["advise", str(path), "--budget-steps", "5000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["run_id"] == "weak" and out["regime"] == "weak"
    advice = out["advice"]
    assert advice["action"] == "none" and advice["budget_steps"] == 5000
    assert advice["suggested_weight_decay"] is None and advice["basis"] == "none"
    assert main(["advise", str(path), "--budget-steps", "5000"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("weak: weak at step 150") and "No λ number" in text
    assert main(["advise", str(tmp_path / "missing.jsonl")]) == 2
    assert main(["advise", str(path), "--budget-steps", "0"]) == 2


def test_advise_takes_the_budget_watch_recorded(tmp_path, capsys):
    from nht_monitor.cli import main

    path = _weak_run_log(tmp_path, budget_steps=777)
    assert main(["advise", str(path), "--json"]) == 0
    advice = json.loads(capsys.readouterr().out)["advice"]
    assert advice["budget_steps"] == 777 and "--budget-steps 777" in advice["text"]


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


def _slow_decay(budget: int, **header_fields) -> Assessment:
    """The engine's own assessment at step 700 of a run fitted at 200 whose norm decays
    towards a transition forecast near step 906 (early end ≈ 748)."""
    from nht_monitor.analysis import Analyzer
    from nht_monitor.runlog.schema import RunHeader
    from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

    lr, wd = 1e-3, 1.0
    norm_of, _, head_of, _ = grokking(rate=0.8, ratio=2.0, lr=lr, weight_decay=wd)
    run = make_run(norm_of, steps=700, lr=lr, weight_decay=wd, acc_of=fit_acc(200),
                   loss_of=fit_loss(200), val_of=lambda s, t: 0.0, head_of=head_of)
    header = RunHeader(run_id="w", started_at="2026-12-05T00:00:00Z",
                       model={"class_name": "M", "n_params": 1}, layers=["a"],
                       config={"budget_steps": budget}, **header_fields)
    return Analyzer(header).analyze(run)


def test_the_engines_weak_from_the_budget_is_sized_from_its_forecast():
    """``weak`` because the forecast's early end lies past the budget: the engine keeps the
    forecast beside ``not_expected``, and the advice rescales it by λ (it said "not seen
    decaying" and proposed a blind ×10–×100 grid until stop 43, found on a public run)."""
    a = _slow_decay(720)
    assert a.regime == "weak" and "too_late" in a.findings
    assert a.transition.status == "not_expected" and a.transition.forecast_step > 720
    adv = a.advice
    assert adv.action == "raise_weight_decay" and adv.basis == "run", adv.text
    remaining = a.transition.forecast_step - 700
    assert adv.suggested_weight_decay == pytest.approx(1.0 * remaining / (0.8 * 20))
    assert "not seen decaying" not in adv.text and "measured decay" in adv.text


def test_a_weak_run_whose_forecast_lies_past_the_planned_lr_gets_no_number_and_no_keep():
    """Past the plan's end the forecast has no step: no λ is sized from it, and a ``weak``
    run is never told to keep λ (the current rate would put the transition in the budget)."""
    a = _slow_decay(10 ** 6, lr_plan=[(1, 1e-3), (720, 1e-3), (721, 0.0)])
    assert a.regime == "weak" and a.transition.forecast_step is None
    adv = a.advice
    assert adv.action == "none" and adv.suggested_weight_decay is None, adv.text
    assert "past the end of its planned learning rate" in adv.text


def test_a_weak_run_whose_forecast_is_not_borne_out_gets_no_number_from_it():
    """Rule 7e's ``weak`` (held-out accuracy flat since the fit, the transition's chance
    within the budget below ``weak_max_chance``) keeps the run's forecast, but the advice
    sizes no λ on it: that forecast is what held-out accuracy does not bear out."""
    a = _a(regime="weak", weight_decay=0.1,
           findings=["settled", "forecast", "flat_and_unlikely"],
           transition=Transition(status="pending", forecast_step=2400.0,
                                 interval=(1600.0, 4000.0), chance_in_budget=0.06))
    adv = advise(a, budget_steps=3000)
    assert adv.action == "none" and adv.suggested_weight_decay is None
    assert adv.forecast_steps is None and adv.basis == "none"
    assert adv.text.startswith("Weak regime: held-out accuracy has not moved since the fit "
                               "and the transition is unlikely within the budget (6%).")
    assert "this run's own forecast is not borne out" in adv.text
    assert "2,400" not in adv.text and "keep λ" not in adv.text
