"""The sweep early-stop decision: each rule, the thresholds, the grace, and the engine's
real assessments (strong, weak beyond the budget, intermediate) read through it."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.integrations.early_stop import (
    BEYOND_BUDGET, RESULT_FIELDS, STATE_FIELDS, StopPolicy, TrialState, decide)
from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run
from tests.analysis.test_rules import grokking_run, header


def state(**fields) -> TrialState:
    """A trial well past any grace, assessed on plenty of samples."""
    base = dict(step=600, budget_steps=1000, n_samples=600, assessed_step=600,
                regime="intermediate", confidence=0.9, transition_status="pending",
                forecast_step=800.0, interval_low=700.0, interval_high=900.0,
                reasons=["total norm: decaying"])
    return TrialState(**{**base, **fields})


def engine_state(run, budget: int | None, until: int | None = None) -> TrialState:
    config = {"num_steps": budget} if budget else {}
    a = Analyzer(header(**config)).analyze(run, until=until)
    return TrialState.from_assessment(a, a.step, budget)


# ------------------------------------------------------------ the engine's real verdicts
def test_engine_strong_is_stopped_with_its_reasons():
    run = make_run(lambda s, t: 10.0 * math.exp(-5 * t), steps=500, lr=1e-2,
                   acc_of=lambda s, t: 0.03, loss_of=lambda s, t: 4.5)
    s = engine_state(run, budget=2000)
    assert s.regime == "strong"
    d = decide(s)
    assert d.stop and d.rule == "strong"
    assert "confidence" in d.reason and d.reasons == s.reasons
    assert any("collapsed" in r for r in d.reasons)
    strict = decide(s, StopPolicy(min_confidence=1.0))
    assert not strict.stop and strict.rule == "low_confidence"


def test_engine_weak_beyond_budget_is_stopped():
    run = make_run(lambda s, t: 10.0 + 0.01 * s, steps=2500, acc_of=fit_acc(200),
                   loss_of=fit_loss(200))
    s = engine_state(run, budget=1500, until=1000)
    assert s.regime == "weak" and s.beyond_budget
    d = decide(s)
    assert d.stop and d.rule == "weak_beyond_budget"
    assert any("beyond the budget of 1500" in r for r in d.reasons)
    assert not decide(s, StopPolicy(stop_beyond_budget=False)).stop
    assert not decide(s, StopPolicy(min_confidence_budget=0.99)).stop


def test_engine_weak_before_the_fit_is_kept_and_said_so():
    """Weak while still fitting (rule 6c: the budget holds less τ than the law's least
    delay): the engine's verdict, but no forecast beyond the budget, so kept."""
    from nht_monitor.runlog.schema import RunHeader

    run = make_run(lambda s, t: 10.0 + s / 100, steps=400, acc_of=fit_acc(10_000),
                   loss_of=lambda s, t: 2.0)
    recorded = RunHeader(run_id="t", started_at="2026-12-05T00:00:00Z",
                         model={"class_name": "M", "n_params": 1, "normalization": []},
                         layers=["a"], config={"num_steps": 1000})
    a = Analyzer(recorded).analyze(run)
    s = TrialState.from_assessment(a, a.step, 1000)
    assert (s.regime, s.phase, s.beyond_budget) == ("weak", "fitting", False)
    d = decide(s)
    assert not d.stop and d.rule == "keep" and d.reason.startswith("weak before the fit")


def test_engine_intermediate_before_the_fit_is_kept_and_said_so():
    """Intermediate while still fitting (rule 6d: half learnt, the projected fit leaves
    the budget the law's median delay): kept, and the reason says why."""
    run = make_run(lambda s, t: 10.0 + s / 100, steps=800,  # chance 0.02 at the first
                   acc_of=lambda s, t: 0.02 if s == 1 else 0.2 + 0.5 * t,
                   loss_of=lambda s, t: 2.0)
    from nht_monitor.runlog.schema import RunHeader

    recorded = RunHeader(run_id="t", started_at="2026-12-05T00:00:00Z",
                         model={"class_name": "M", "n_params": 1}, layers=["a"],
                         config={"num_steps": 6000})
    a = Analyzer(recorded).analyze(run)
    s = TrialState.from_assessment(a, a.step, 6000)
    assert (s.regime, s.phase, a.rule) == ("intermediate", "fitting", "room_after_fit")
    d = decide(s)
    assert not d.stop and d.rule == "keep"
    assert d.reason.startswith("intermediate before the fit"), d.reason


def test_engine_intermediate_while_the_norm_holds_up_is_kept_and_said_so():
    """Fitted, the norm flat since (no verdict from the time rule), the law's early end
    within the budget (rule 7d, ``room_while_held``): kept, and the reason says why."""
    run = make_run(lambda s, t: 60.0 * (1.0 + 0.02 * t), steps=1500, acc_of=fit_acc(200),
                   loss_of=fit_loss(200))
    s = engine_state(run, budget=5000)
    assert (s.regime, s.phase, s.forecast_step) == ("intermediate", "shortcut", None)
    d = decide(s)
    assert not d.stop and d.rule == "keep"
    assert d.reason.startswith("intermediate, the norm not yet decaying"), d.reason


def test_engine_weak_by_held_up_norm_is_kept():
    """Weak because the norm grew for Δτ ≥ 2 with no budget: not a budget verdict."""
    run = make_run(lambda s, t: 10.0 + 0.01 * s, steps=2500, acc_of=fit_acc(200),
                   loss_of=fit_loss(200))
    s = engine_state(run, budget=None)
    assert s.regime == "weak" and not s.beyond_budget
    d = decide(s.model_copy(update={"budget_steps": 5000}))
    assert not d.stop and d.rule == "keep" and "not because of the budget" in d.reason


def test_engine_intermediate_within_budget_is_kept_and_beyond_is_stopped():
    norm_of, val_of, head_of, _ = grokking(rate=0.8, ratio=2.0, lr=1e-3, weight_decay=1.0)
    run = make_run(norm_of, steps=3000, acc_of=fit_acc(200), loss_of=fit_loss(200),
                   val_of=val_of, head_of=head_of)
    fits = engine_state(run, budget=3000, until=500)
    assert fits.regime == "intermediate" and fits.forecast_step is not None
    kept = decide(fits)
    assert not kept.stop and kept.rule == "keep" and "within the budget" in kept.reason
    late = engine_state(run, budget=550, until=500)  # the same run, a budget it cannot meet
    assert late.regime == "weak" and late.beyond_budget
    stopped = decide(late)
    assert stopped.stop and stopped.rule in ("forecast_beyond_budget", "weak_beyond_budget")


def test_engine_chance_in_budget_is_carried_and_stops_only_when_asked():
    norm_of, val_of, head_of, _ = grokking(rate=0.8, ratio=2.0, lr=1e-3, weight_decay=1.0)
    run = make_run(norm_of, steps=3000, acc_of=fit_acc(200), loss_of=fit_loss(200),
                   val_of=val_of, head_of=head_of)
    fits = engine_state(run, budget=3000, until=500)
    assert fits.forecast_step is not None and 0.5 < fits.chance_in_budget <= 1.0
    assert fits.to_fields()["nht/chance_in_budget"] == fits.chance_in_budget
    tight = engine_state(run, budget=int(fits.forecast_step) - 100, until=500)
    assert tight.chance_in_budget < 0.5
    assert decide(tight.model_copy(update={"regime": "intermediate"})).rule != \
        "unlikely_in_budget"  # off by default
    asked = StopPolicy(min_chance=tight.chance_in_budget + 0.01)
    d = decide(tight.model_copy(update={"regime": "intermediate", "beyond_budget": False}),
               asked)
    assert d.stop and d.rule == "unlikely_in_budget" and "min_chance" in d.reason


def test_min_chance_stops_below_and_keeps_at_or_above():
    policy = StopPolicy(min_chance=0.2)
    low = decide(state(chance_in_budget=0.19), policy)
    assert low.stop and low.rule == "unlikely_in_budget"
    assert "0.19 < min_chance 0.2" in low.reason and "budget of 1000" in low.reason
    assert not decide(state(chance_in_budget=0.2), policy).stop
    assert not decide(state(chance_in_budget=None), policy).stop
    assert not decide(state(chance_in_budget=0.05)).stop  # off by default
    assert not decide(state(chance_in_budget=0.05, step=50), policy).stop  # grace first


def test_rule_7e_weak_is_kept_unless_min_chance_asks():
    """The engine's ``weak`` from rule 7e (a pending transition unlikely within the budget,
    held-out accuracy flat) is kept by default, saying so, and stopped by ``min_chance``."""
    weak = state(regime="weak", transition_status="pending", chance_in_budget=0.06,
                 forecast_step=900.0, interval_low=700.0, interval_high=1500.0)
    kept = decide(weak)
    assert not kept.stop and kept.rule == "keep"
    assert kept.reason == ("weak: the transition's chance within the budget of 1000 steps is "
                           "0.06 with held-out accuracy flat since the fit; not stopped "
                           "(min_chance stops on the chance)")
    stopped = decide(weak, StopPolicy(min_chance=0.1))
    assert stopped.stop and stopped.rule == "unlikely_in_budget"
    unread = decide(weak.model_copy(update={"chance_in_budget": None}))  # no chance read back
    assert not unread.stop and unread.rule == "keep"


def test_beyond_budget_is_the_engines_too_late_finding():
    """The flag comes from the structured ``Assessment.findings``, not from the wording."""
    run = make_run(lambda s, t: 10.0 + 0.01 * s, steps=2500, acc_of=fit_acc(200),
                   loss_of=fit_loss(200))
    a = Analyzer(settings=AnalyzerSettings(budget_steps=1500)).analyze(run, until=1000)
    assert BEYOND_BUDGET in a.findings and a.rule == "fitted"
    reworded = a.model_copy(update={"reasons": ["anything"]})
    assert TrialState.from_assessment(reworded, 1000, 1500).beyond_budget


def test_a_budget_verdict_held_back_for_heldout_accuracy_waits():
    """danielmamay/grokking under Optuna (stop 63): held-out accuracy every 100 steps, a
    late fit, the norm's forecast beyond the budget — the engine says ``intermediate``,
    not weak yet, until it has the evaluations since the fit its trend needs; the budget
    rules wait with it (that trial transitioned 200 steps after it was pruned)."""
    def norm_of(s, t):
        return 10.0 + s / 100.0 if s <= 2000 else 30.0 * math.exp(-0.15 * (t - 2.0))

    run = make_run(norm_of, steps=2400, acc_of=fit_acc(2000), loss_of=fit_loss(2000),
                   val_of=lambda s, t: 0.02)
    for sample in run:
        if sample.step % 100:
            del sample.metrics["val_acc"]
    s = engine_state(run, budget=2600)
    assert {"too_late", "awaiting_heldout"} <= set(
        Analyzer(header(num_steps=2600)).analyze(run).findings)
    assert s.regime == "intermediate" and s.verdict_held_back and s.interval_low > 2600
    d = decide(s)
    assert not d.stop and d.rule == "keep"
    assert d.reason == ("intermediate: the engine holds its budget verdict back until "
                        "held-out accuracy can speak (its reasons say why), so the budget "
                        "rules wait")
    assert any("not weak yet" in r for r in d.reasons)
    told = s.model_copy(update={"verdict_held_back": False})
    assert decide(told).stop and decide(told).rule == "forecast_beyond_budget"
    weak = state(regime="weak", beyond_budget=True, interval_low=5000.0,
                 verdict_held_back=True)
    assert not decide(weak).stop
    assert decide(weak.model_copy(update={"verdict_held_back": False})).stop
    # the opt-in chance rule does not wait: its threshold is the user's trade-off
    assert decide(s, StopPolicy(min_chance=0.5)).rule == "unlikely_in_budget"


def relapsed_run():
    """The engine's grokking run whose last ``heldout_relapse_evals`` held-out
    evaluations fall back from 0.95 to 0.45 after the transition (median 0.70)."""
    run, actual, _ = grokking_run()
    k = AnalyzerSettings().heldout_relapse_evals
    last = [s for s in run if s.step > actual and "val_acc" in s.metrics][-k:]
    values = dict(zip((id(s) for s in last), np.linspace(0.95, 0.45, k)))
    fallen = [s.model_copy(update={"metrics": {**s.metrics, "val_acc": values[id(s)]}})
              if id(s) in values else s for s in run]
    return run, fallen, actual, float(np.median(list(values.values())))


def test_engine_relapse_is_carried_and_kept_with_the_transitions_checkpoint():
    """A transition that came and then fell back: ``relapse_val_acc`` from the real
    assessment, still kept (this policy stops no relapsed run), the reason says which
    checkpoint to keep; a holding transition says nothing of it."""
    run, fallen, actual, median = relapsed_run()
    a = Analyzer(header()).analyze(fallen)
    assert a.transition.status == "done" and a.transition.relapse_val_acc is not None
    s = TrialState.from_assessment(a, a.step, 5000)
    assert s.relapse_val_acc == pytest.approx(median, rel=1e-12) == a.transition.relapse_val_acc
    assert s.to_fields()["nht/relapse_val_acc"] == s.relapse_val_acc
    assert TrialState.from_fields(s.to_fields()) == s
    d = decide(s)
    assert not d.stop and d.rule == "transition_done"
    assert d.reason == (f"transition done (step {actual:.0f}), regime intermediate, but "
                        f"held-out accuracy fell back since (median {median:.2f} < "
                        f"done_val_acc): keep the checkpoint from step {actual:.0f} rather "
                        "than the last")
    holding = engine_state(run, budget=5000)
    assert holding.transition_status == "done" and holding.relapse_val_acc is None
    kept = decide(holding)
    assert not kept.stop and kept.rule == "transition_done"
    assert kept.reason == f"transition done (step {actual:.0f}), regime intermediate"
    assert TrialState.from_fields(holding.to_fields()).relapse_val_acc is None


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_relapse_is_none(value):
    run, fallen, _, _ = relapsed_run()
    a = Analyzer(header()).analyze(fallen)
    broken = a.model_copy(update={"transition": a.transition.model_copy(
        update={"relapse_val_acc": value})})
    assert TrialState.from_assessment(broken, a.step, None).relapse_val_acc is None


# ---------------------------------------------------------------------- each rule
def test_no_assessment_is_kept():
    d = decide(TrialState(step=900, budget_steps=1000))
    assert not d.stop and d.rule == "no_assessment"
    assert decide(None).rule == "no_assessment"


@pytest.mark.parametrize("regime", ["strong", "diverged", "weak"])
def test_too_few_samples_are_kept(regime):
    hopeless = state(regime=regime, n_samples=5, beyond_budget=True,
                     transition_status="not_expected", forecast_step=None, interval_low=None)
    d = decide(hopeless)
    assert not d.stop and d.rule == "too_few_samples"
    assert decide(hopeless, StopPolicy(min_samples=5)).stop


def test_grace_fraction_of_the_budget():
    s = state(regime="strong", step=99)
    d = decide(s, StopPolicy(grace_fraction=0.1))
    assert not d.stop and d.rule == "grace" and "100 steps" in d.reason
    assert decide(s.model_copy(update={"step": 100}), StopPolicy(grace_fraction=0.1)).stop
    assert decide(s, StopPolicy(grace_fraction=0.0)).stop


def test_min_steps_is_the_grace_without_a_budget():
    s = state(regime="diverged", confidence=1.0, budget_steps=None, step=40)
    assert decide(s, StopPolicy(min_steps=50)).rule == "grace"
    assert decide(s, StopPolicy(min_steps=40)).stop


def test_undetermined_never_stops():
    worst = state(regime="undetermined", confidence=1.0, forecast_step=1e9,
                  interval_low=1e9, beyond_budget=True, step=999)
    for policy in (StopPolicy(), StopPolicy(min_confidence=0.01, min_confidence_budget=0.01,
                                             grace_fraction=0.0, min_samples=1)):
        d = decide(worst, policy)
        assert not d.stop and d.rule == "undetermined"


@pytest.mark.parametrize("regime", ["strong", "diverged"])
def test_collapse_thresholds(regime):
    assert decide(state(regime=regime, confidence=0.6)).stop
    low = decide(state(regime=regime, confidence=0.55))
    assert not low.stop and low.rule == "low_confidence"
    assert decide(state(regime=regime, confidence=0.55), StopPolicy(min_confidence=0.5)).stop
    off = {"strong": {"stop_strong": False}, "diverged": {"stop_diverged": False}}[regime]
    assert not decide(state(regime=regime, confidence=1.0), StopPolicy(**off)).stop


def test_transition_done_is_kept():
    done = state(transition_status="done", forecast_step=400.0, interval_low=400.0)
    d = decide(done)
    assert not d.stop and d.rule == "transition_done"
    assert d.reason == "transition done (step 400), regime intermediate"
    relapsed = decide(done.model_copy(update={"relapse_val_acc": 0.62}))
    assert not relapsed.stop and relapsed.rule == "transition_done"
    assert relapsed.reason == ("transition done (step 400), regime intermediate, but "
                               "held-out accuracy fell back since (median 0.62 < "
                               "done_val_acc): keep the checkpoint from step 400 rather "
                               "than the last")
    # whatever else the state says: a relapsed run is not stopped by this policy
    worst = done.model_copy(update={"relapse_val_acc": 0.05, "confidence": 1.0,
                                    "beyond_budget": True, "interval_low": 5000.0})
    assert not decide(worst, StopPolicy(min_confidence_budget=0.01)).stop


def test_forecast_beyond_budget_uses_the_intervals_low_end():
    beyond = decide(state(forecast_step=2000.0, interval_low=1200.0, interval_high=4000.0))
    assert beyond.stop and beyond.rule == "forecast_beyond_budget"
    assert "1200" in beyond.reason and "budget of 1000" in beyond.reason
    # the forecast is beyond, but the interval reaches into the budget: kept
    straddles = decide(state(forecast_step=2000.0, interval_low=900.0))
    assert not straddles.stop
    # no interval: the forecast itself
    assert decide(state(forecast_step=1500.0, interval_low=None)).stop
    margin = StopPolicy(budget_margin=1.5)
    assert not decide(state(forecast_step=2000.0, interval_low=1200.0), margin).stop
    assert decide(state(forecast_step=2000.0, interval_low=1600.0), margin).stop
    assert not decide(state(forecast_step=2000.0, interval_low=1200.0, confidence=0.4)).stop
    no_budget = decide(state(forecast_step=2000.0, interval_low=1200.0, budget_steps=None,
                             step=600))
    assert not no_budget.stop


def test_intermediate_within_budget_is_kept():
    d = decide(state())
    assert not d.stop and d.rule == "keep"
    assert "800" in d.reason and "budget of 1000" in d.reason


def test_clamped_is_kept():
    assert not decide(state(regime="clamped", confidence=1.0, forecast_step=None,
                            interval_low=None)).stop


# ------------------------------------------------------------------ config and fields
@pytest.mark.parametrize("options, field", [
    ({"min_confidence": 1.5}, "min_confidence"),
    ({"min_confidence": 0.0}, "min_confidence"),
    ({"min_confidence_budget": -1}, "min_confidence_budget"),
    ({"grace_fraction": 1.0}, "grace_fraction"),
    ({"min_samples": 0}, "min_samples"),
    ({"min_steps": -5}, "min_steps"),
    ({"budget_margin": 0.5}, "budget_margin"),
    ({"budget_margin": float("inf")}, "budget_margin"),
    ({"grace": 0.2}, "grace"),
    ({"min_chance": 0.0}, "min_chance"),
    ({"min_chance": 1.0}, "min_chance"),
])
def test_bad_policy_raises_value_error_at_construction(options, field):
    with pytest.raises(ValueError, match=rf"invalid early-stop policy: {field}"):
        StopPolicy(**options)


def test_policy_of():
    p = StopPolicy(min_confidence=0.8)
    assert StopPolicy.of(p) is p
    assert StopPolicy.of({"min_confidence": 0.8}, grace_fraction=0.2) == StopPolicy(
        min_confidence=0.8, grace_fraction=0.2)
    with pytest.raises(ValueError, match="not both"):
        StopPolicy.of(p, grace_fraction=0.2)
    with pytest.raises(ValueError, match="min_confidence"):
        StopPolicy.of({"min_confidence": 2})


def test_fields_round_trip():
    s = state(reasons=["a: one", "b: two; three"], beyond_budget=True,
              transition_status="done", relapse_val_acc=0.62)
    fields = s.to_fields()
    assert set(fields) | {"nht/stop", "nht/stop_rule", "nht/stop_reason"} == set(RESULT_FIELDS)
    assert fields["nht/relapse_val_acc"] == 0.62
    assert fields["nht/reasons"] == "a: one | b: two; three"
    assert TrialState.from_fields({**fields, "val_acc": 0.5, "nht/stop": True}) == s
    assert TrialState.from_fields({"val_acc": 0.5}) is None
    holding = state()
    assert holding.to_fields()["nht/relapse_val_acc"] is None
    assert TrialState.from_fields(holding.to_fields()) == holding
    d = decide(s)
    assert set(d.to_fields()) == {"nht/stop", "nht/stop_rule", "nht/stop_reason"}
    line = d.log_line("t1")
    assert line.startswith("nht-monitor: keep trial t1 at step 600") and "b: two" in line


def test_state_fields_are_exactly_these():
    assert STATE_FIELDS == (
        "nht/step", "nht/budget_steps", "nht/assessed_step", "nht/n_samples", "nht/regime",
        "nht/confidence", "nht/phase", "nht/transition_status", "nht/forecast_step",
        "nht/interval_low", "nht/interval_high", "nht/chance_in_budget", "nht/beyond_budget",
        "nht/verdict_held_back", "nht/relapse_val_acc", "nht/reasons")
    assert RESULT_FIELDS == STATE_FIELDS + ("nht/stop", "nht/stop_rule", "nht/stop_reason")


def test_readme_lists_every_reported_field():
    """README's "The reported fields" table names exactly :data:`RESULT_FIELDS`."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("#### The reported fields", 1)[1].split("\n\n")[2]
    named = re.findall(r"`(nht/[a-z_]+)`", "".join(
        line.split(" | ")[0] for line in table.splitlines()))
    assert named == list(RESULT_FIELDS)


def test_weak_with_an_interval_reaching_into_the_budget_is_kept():
    """A median forecast just past the budget is not hopeless while the 80 % interval
    still starts inside it (the engine says weak; the stopper waits)."""
    s = TrialState(step=280, budget_steps=300, n_samples=280, regime="weak", confidence=0.5,
                   transition_status="not_expected", forecast_step=303.0, interval_low=283.0,
                   interval_high=362.0, beyond_budget=True)
    assert not decide(s).stop
    later = s.model_copy(update={"interval_low": 305.0})
    assert decide(later).stop and decide(later).rule == "forecast_beyond_budget"
