"""The rules on synthetic curves with known answers: one test per regime and rule."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as hst

from nht_monitor.analysis import Analyzer, AnalyzerSettings, rules, wording
from nht_monitor.analysis.assessment import Transition
from nht_monitor.analysis.backtest import backtest
from nht_monitor.analysis.facts import best_mean, facts_from_series, growing
from nht_monitor.analysis.lr_plan import plan_of
from nht_monitor.analysis.series import series_from_samples
from nht_monitor.analysis.text import format_backtest
from nht_monitor.runlog.schema import RunHeader
from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

LR, WD = 1e-3, 1.0


def header(**config) -> RunHeader:
    return RunHeader(run_id="synthetic", started_at="2026-11-23T00:00:00Z",
                     model={"class_name": "M", "n_params": 1}, layers=["a", "b"], config=config)


def grokking_run(steps: int = 3000, rate: float = 0.8, ratio: float = 2.0):
    norm_of, val_of, head_of, tau_t = grokking(rate=rate, ratio=ratio, lr=LR, weight_decay=WD)
    run = make_run(norm_of, steps=steps, lr=LR, weight_decay=WD, acc_of=fit_acc(200),
                   loss_of=fit_loss(200), val_of=val_of, head_of=head_of)
    actual = next(s.step for s in run if s.metrics["val_acc"] >= 0.9)
    return run, actual, tau_t


def exact(ratio: float = 2.0) -> AnalyzerSettings:
    """Settings matching the synthetic law: V_st = V_sc / ratio exactly (no spread), no
    slowdown of the decay, rate-based forecast only."""
    return AnalyzerSettings(structured_ratio=ratio, ratio_log_sd=0.0, rate_factor=1.0,
                            delay_tau=None)


@pytest.mark.parametrize("ratio", [2.0, 3.0])
def test_exponential_decay_forecast_within_one_percent(ratio):
    run, actual, _ = grokking_run(ratio=ratio)
    half = [s for s in run if s.step <= actual // 2]
    a = Analyzer(header(), exact(ratio)).analyze(half)
    assert a.regime == "intermediate"
    assert a.phase == "transitioning"
    assert a.decay_rate == pytest.approx(0.8, rel=1e-6)
    assert a.transition.status == "pending"
    assert abs(a.transition.forecast_step - actual) / actual < 0.01
    lo, hi = a.transition.interval
    assert lo <= a.transition.forecast_step <= hi
    assert a.transition.steps_remaining == pytest.approx(a.transition.forecast_step - a.step)
    assert a.transition.forecast_tau == pytest.approx(a.tau + math.log(a.norm / (30.0 / ratio)) / 0.8)
    assert any(f"decay to V_st {30 / ratio:g} (V_sc/{ratio:g})" in r for r in a.reasons)
    assert a.cns.v_sc == pytest.approx(30.0) and a.cns.ratio == pytest.approx(ratio)


def test_conditional_quantile_matches_scipy_and_its_tail_approximation():
    """The forecast's building block against scipy's log-normal (float64 reference):
    the q quantile of Δτ given Δτ > elapsed."""
    from scipy import stats

    from nht_monitor.analysis.forecast import conditional_quantile

    for mu, sigma in ((math.log(1.17), 0.5), (0.0, 0.2), (1.0, 1.3)):
        dist = stats.lognorm(s=sigma, scale=math.exp(mu))
        for elapsed in (0.0, 0.3, 1.0, 2.0, math.exp(mu + 4 * sigma)):
            for q in (0.1, 0.5, 0.9):
                want = dist.isf((1 - q) * dist.sf(elapsed)) if elapsed > 0 else dist.ppf(q)
                assert conditional_quantile(mu, sigma, elapsed, q) == pytest.approx(want, rel=1e-6)
        # deep in the tail: still the reference (z 30), then never below what was seen
        for z in (6.5, 9.0, 30.0):
            elapsed = math.exp(mu + z * sigma)
            for q in (0.1, 0.5, 0.9):
                want = math.exp(mu + sigma * stats.norm.isf((1 - q) * stats.norm.sf(z)))
                got = conditional_quantile(mu, sigma, elapsed, q)
                assert got >= elapsed
                assert math.log(got) == pytest.approx(math.log(want), rel=1e-9)
        assert conditional_quantile(mu, sigma, math.exp(mu + 60 * sigma), 0.5) > math.exp(
            mu + 60 * sigma)


def law_quantile_reference(st: AnalyzerSettings, elapsed: float, q: float) -> float:
    """The law prior's ``q`` quantile of Δτ given Δτ > ``elapsed``, brute force in float64:
    scipy's log-normals (``delay_tail_weight`` of the prior at ``delay_tail_log_sd``), the
    mixture's survival solved by ``brentq``."""
    from scipy import optimize, stats

    tail = st.delay_tail_weight or 0.0
    parts = [(1.0 - tail, stats.lognorm(s=st.delay_log_sd, scale=st.delay_tau)),
             (tail, stats.lognorm(s=st.delay_tail_log_sd, scale=st.delay_tau))]

    def sf(x):
        return sum(w * d.sf(x) for w, d in parts)

    target = (1.0 - q) * sf(elapsed)
    return optimize.brentq(lambda x: sf(x) - target, max(elapsed, 1e-9), 1e6, xtol=1e-14,
                           rtol=1e-13)


def _plateau_run(val_of=lambda s, t: 0.05):
    """Fit at step 200 (τ 0.2), the norm 10 % down by τ 0.3, then ~flat; 600 steps;
    held-out accuracy ``val_of`` (flat at 0.05 by default) every step."""
    def norm_of(s, t):
        if s <= 200:
            return 10 + 20 * s / 200
        return 30.0 * max(0.9 * math.exp(-0.01 * (t - 0.3)), 1.0 - (t - 0.2))

    return make_run(norm_of, steps=600, lr=LR, weight_decay=WD, acc_of=fit_acc(200),
                    loss_of=fit_loss(200), val_of=val_of)


def test_law_prior_alone_forecasts_its_median_delay_after_v_sc():
    """A norm that stopped decaying after a post-fit drop (a plateau): no rate to use, the
    forecast is the law's prior, median τ(V_sc) + its conditional median given the τ
    elapsed (one log-normal, and with the default tail part) — given elapsed /
    ``heldout_floor_share`` by default, held-out accuracy being flat on its floor."""
    run = _plateau_run()
    for st in (AnalyzerSettings(delay_tail_weight=None), AnalyzerSettings(),
               AnalyzerSettings(heldout_floor_share=None)):
        a = Analyzer(header(), st).analyze(run)
        assert a.regime == "intermediate" and a.transition.status == "pending", a.reasons
        assert any("a plateau after the decay" in r for r in a.reasons), a.reasons
        elapsed = a.tau - 0.2
        seen = elapsed / (st.heldout_floor_share or 1.0)
        median = law_quantile_reference(st, seen, 0.5)
        assert a.transition.forecast_tau == pytest.approx(0.2 + median, rel=1e-6)
        lo, hi = a.transition.interval
        for end, q in ((lo, 0.1), (hi, 0.9)):
            delay = law_quantile_reference(st, seen, q)
            assert end == pytest.approx(200 + delay / (LR * WD), abs=1.5)


def test_budget_verdict_reads_the_budget_quantile_of_the_forecast():
    """``weak`` from the budget when the forecast's ``budget_quantile`` lies beyond it,
    computed as the law's conditional quantile (scipy, float64): a budget between the
    10 % and the 30 % quantile is ``weak`` at 0.3 and ``intermediate`` at 0.1 (the
    default: the 80 % interval's early end). Held-out accuracy is flat on its floor, so the
    quantiles are given elapsed / ``heldout_floor_share``."""
    st = AnalyzerSettings()
    run = _plateau_run()
    a = Analyzer(header()).analyze(run)
    seen = (a.tau - 0.2) / st.heldout_floor_share
    q10, q30 = (200 + law_quantile_reference(st, seen, q) / (LR * WD) for q in (0.1, 0.3))
    assert a.transition.interval[0] == pytest.approx(q10, abs=1.5)
    assert 600 < q10 < q30 - 20
    budget = round((q10 + q30) / 2)
    late = Analyzer(header(num_steps=budget), AnalyzerSettings(budget_quantile=0.3)
                    ).analyze(run)
    assert late.regime == "weak" and late.transition.status == "not_expected", late.reasons
    said = [re.search(r"forecast's 30% quantile is step ([\d.]+), beyond the budget of "
                      rf"{budget} steps", r) for r in late.reasons]
    assert [float(m.group(1)) for m in said if m] == [pytest.approx(q30, abs=1.5)], late.reasons
    alone = AnalyzerSettings(weak_max_chance=None)  # the budget verdict without rule 7e
    early = Analyzer(header(num_steps=budget), alone).analyze(run)
    assert early.regime == "intermediate", early.reasons
    below = Analyzer(header(num_steps=round(q10) - 20)).analyze(run)
    assert below.regime == "weak" and any("early end (10%) of the law's interval" in r
                                          for r in below.reasons), below.reasons
    inside = Analyzer(header(num_steps=round(q30) + 20),
                      AnalyzerSettings(budget_quantile=0.3, weak_max_chance=None)).analyze(run)
    assert inside.regime == "intermediate", inside.reasons


def test_rule_7e_calls_a_flat_run_weak_when_its_transition_is_unlikely_in_the_budget():
    """Rule 7e (``flat_and_unlikely``): a plateau whose pending transition has less than
    ``weak_max_chance`` of coming by the budget, held-out accuracy flat since the fit, is
    ``weak`` at confidence 1 − chance, its forecast and interval kept; at a budget whose
    chance is above the threshold, with held-out accuracy off its floor, with too few
    held-out evaluations, or with the rule off, it stays ``intermediate``."""
    run = _plateau_run()
    free = Analyzer(header()).analyze(run)
    budget = round(free.transition.interval[0]) + 5  # just past the budget verdict's end
    a = Analyzer(header(num_steps=budget)).analyze(run)
    chance = a.transition.chance_in_budget
    assert chance is not None and chance < AnalyzerSettings().weak_max_chance, a.reasons
    assert (a.regime, a.rule, a.findings[-1]) == ("weak", "flat_and_unlikely",
                                                  "flat_and_unlikely"), a.reasons
    assert a.confidence == pytest.approx(1.0 - chance)
    assert a.transition.status == "pending" and a.phase == "shortcut"
    assert a.transition.interval == free.transition.interval
    fit = next(s.step for s in run if s.metrics["train_acc"] >= AnalyzerSettings().fit_train_acc)
    evals = sum(1 for s in run if s.step >= fit)  # held-out accuracy every step
    assert a.reasons[-1] == (
        f"weak: the transition's chance within the budget of {budget:g} steps is "
        f"{wording.percent_below(chance, 0.1)} < 10%, and held-out accuracy has not come 0.02 "
        "off its floor over "
        f"the {evals} evaluations since the fit: the forecast is not borne out")
    off = Analyzer(header(num_steps=budget), AnalyzerSettings(weak_max_chance=None)
                   ).analyze(run)
    assert off.regime == "intermediate" and off.transition == a.transition
    higher = AnalyzerSettings(weak_max_chance=min(0.99, chance + 0.01))
    assert Analyzer(header(num_steps=budget), higher).analyze(run).regime == "weak"
    lower = AnalyzerSettings(weak_max_chance=chance - 1e-9)
    assert Analyzer(header(num_steps=budget), lower).analyze(run).regime == "intermediate"
    rising = _plateau_run(lambda s, t: 0.05 + (0.03 if s > 500 else 0.0))
    assert Analyzer(header(num_steps=budget)).analyze(rising).regime == "intermediate"
    few = [s for s in run if s.step <= 200 + 10 * 9]  # 9 evaluations since the fit < 10
    assert Analyzer(header(num_steps=budget)).analyze(few).regime != "weak"
    blind = [s.model_copy(update={"metrics": {k: v for k, v in s.metrics.items()
                                              if k != "val_acc"}}) for s in run]
    assert Analyzer(header(num_steps=budget)).analyze(blind).regime == "intermediate"


def test_a_fast_decay_does_not_bring_the_budget_verdict_before_the_laws_least_delay():
    """A norm decaying fast after the fit shortens the forecast (the belief's early end
    well inside the budget); with ``budget_law_floor`` ``weak`` from the budget
    reads the law's own 10 % quantile of Δτ from V_sc (scipy, float64) when that is
    later: a budget between the two is ``weak`` with the floor, ``intermediate`` without;
    the forecast itself is the same either way, and a budget past the floor is
    ``intermediate``. By default (``"auto"``) the floor is on for a header recording a
    model without normalization layers, off for one with a LayerNorm or none recorded."""
    from scipy import stats

    st = AnalyzerSettings()
    run, _, _ = grokking_run(steps=3000, rate=0.8, ratio=2.0)
    part = [s for s in run if s.step <= 400]
    least = stats.lognorm(s=st.delay_log_sd, scale=st.delay_tau).ppf(st.budget_quantile)
    floor_step = 200 + least / (LR * WD)  # V_sc at the fit, step 200 (τ 0.2)
    free = Analyzer(header(num_steps=1150)).analyze(part)  # auto: no normalization recorded
    assert free.regime == "intermediate" and free.transition.interval[0] < 1150 < floor_step

    plain = Analyzer(_recorded([], num_steps=1150)).analyze(part)
    assert plain.regime == "weak", plain.reasons  # auto: on, no normalization layers
    assert Analyzer(_recorded(["LayerNorm"], num_steps=1150)).analyze(part).regime == \
        "intermediate"
    forced = Analyzer(_recorded(["LayerNorm"], num_steps=1150),
                      AnalyzerSettings(budget_law_floor=True))
    assert forced.analyze(part).regime == "weak"
    floor = AnalyzerSettings(budget_law_floor=True)
    floored = Analyzer(header(num_steps=1150), floor).analyze(part)
    assert floored.regime == "weak" and floored.transition.status == "not_expected"
    assert floored.transition.forecast_step == free.transition.forecast_step
    assert floored.transition.interval == free.transition.interval
    said = [re.search(r"the law's least delay \(10% quantile: ([\d.]+) τ from V_sc\) ends at "
                      r"step ([\d.]+), beyond the budget of 1150 steps", r)
            for r in floored.reasons]
    [m] = [m for m in said if m]
    assert float(m.group(1)) == pytest.approx(least, rel=1e-2)
    assert float(m.group(2)) == pytest.approx(floor_step, abs=1.5)
    past = Analyzer(header(num_steps=round(floor_step) + 20), floor).analyze(part)
    assert past.regime == "intermediate", past.reasons


@given(delay=hst.floats(0.2, 20.0), sd=hst.floats(0.05, 2.0), q=hst.floats(0.01, 0.49),
       share=hst.floats(0.0, 2.0))
@hsettings(max_examples=60, deadline=None)
def test_law_floor_is_the_laws_quantile_minus_the_tau_elapsed(delay, sd, q, share):
    """:func:`law_floor` against scipy's log-normal quantile (float64): the τ still to go
    to the law's ``budget_quantile`` of Δτ from V_sc, ``None`` once past it or when off."""
    from scipy import stats

    from nht_monitor.analysis.forecast import law_floor

    st = AnalyzerSettings(delay_tau=delay, delay_log_sd=sd, budget_quantile=q,
                          budget_law_floor=True)
    least = stats.lognorm(s=sd, scale=delay).ppf(q)
    elapsed = share * least
    got = law_floor(elapsed, st)
    if share < 1.0 - 1e-9:
        assert got == pytest.approx(least - elapsed, rel=1e-9, abs=1e-12)
    elif share > 1.0 + 1e-9:
        assert got is None
    assert law_floor(elapsed, st.model_copy(update={"budget_law_floor": False})) is None
    assert law_floor(elapsed, st.model_copy(update={"delay_tau": None})) is None


def test_forecast_moves_as_evidence_arrives():
    """A transition much later than the law's median (and a V_sc/V_st of 3, far from the
    prior's 1.31): the forecast is revised later as τ passes without one, never lies
    before the current step, and ends closer to the truth than it began."""
    settings = AnalyzerSettings(delay_tau=1.17, delay_log_sd=0.5, structured_ratio=1.31,
                                ratio_log_sd=0.15)
    run, actual, tau_t = grokking_run(steps=4000, rate=0.4, ratio=3.0)
    assert tau_t > 0.2 + 2 * settings.delay_tau
    forecasts = []
    for cut in range(400, actual, 200):
        a = Analyzer(header(), settings).analyze([s for s in run if s.step <= cut])
        assert a.regime == "intermediate", (cut, a.reasons)
        assert a.transition.forecast_step > cut
        forecasts.append((cut, a.transition.forecast_step, a.transition.interval))
    steps = [f for _, f, _ in forecasts]
    assert len(set(round(f) for f in steps)) == len(steps)  # it moves
    assert steps[-1] > steps[0] + 0.5 * (actual - steps[0])
    assert abs(steps[-1] - actual) < 0.5 * abs(steps[0] - actual)
    assert all(lo <= f <= hi for _, f, (lo, hi) in forecasts)


def test_rate_factor_stretches_the_remaining_delay():
    run, actual, _ = grokking_run()
    half = [s for s in run if s.step <= actual // 2]
    full = Analyzer(header(), exact()).analyze(half).transition.steps_remaining
    slow = Analyzer(header(), AnalyzerSettings(structured_ratio=2.0, ratio_log_sd=0.0,
                                               rate_factor=0.5, delay_tau=None)
                    ).analyze(half).transition.steps_remaining
    assert slow == pytest.approx(2 * full)


def test_forecast_follows_a_caller_lr_schedule():
    """A linearly decaying lr: holding the current ηλ forecasts too early; passing the
    schedule (or recording it in the header) gets it within 1%."""
    def lr_of(step: int) -> float:
        return 2e-3 * max(0.05, 1.0 - step / 4000)

    def norm_of(s, t):
        return 30.0 * math.exp(-0.8 * t) if s > 1 else 30.0

    run = make_run(norm_of, steps=3000, lr_of=lr_of, weight_decay=WD, acc_of=lambda s, t: 1.0,
                   loss_of=lambda s, t: 1e-3)
    taus = np.array([s.tau for s in run])
    settings = exact(2.0)
    target_tau = math.log(2.0) / 0.8 + run[0].tau
    actual = run[int(np.searchsorted(taus, target_tau))].step
    seen = [s for s in run if s.step <= actual // 2]
    constant = Analyzer(header(), settings).analyze(seen)
    scheduled = Analyzer(header(), settings, lr_schedule=lr_of).analyze(seen)
    assert abs(scheduled.transition.forecast_step - actual) / actual < 0.01
    assert constant.transition.forecast_step < scheduled.transition.forecast_step
    also = Analyzer(header(), settings).analyze(seen, lr_schedule=lr_of)
    assert also.transition.forecast_step == pytest.approx(scheduled.transition.forecast_step)
    # the same schedule recorded in the header (watch(lr_schedule=...)) is the default
    planned = header().model_copy(update={"lr_plan": plan_of(lr_of, 4000)})
    from_header = Analyzer(planned, settings).analyze(seen)
    assert from_header.transition.forecast_step == pytest.approx(
        scheduled.transition.forecast_step, rel=1e-3)


def test_transition_done_after_validation_jump():
    run, actual, _ = grokking_run()
    a = Analyzer(header()).analyze(run)
    assert a.regime == "intermediate"
    assert a.transition.status == "done"
    assert a.transition.forecast_step == actual
    assert a.phase == "structured"
    assert a.cns.holds is True
    assert a.cns.v_st == pytest.approx(15.0, rel=1e-3)
    from nht_monitor.analysis.text import format_assessment

    line = format_assessment(a).splitlines()[3]  # the step it came, how long ago
    assert line.startswith(f"transition: done at step {actual}, τ ")
    assert line.endswith(f", {a.step - actual} steps ago") and "80%" not in line


def test_a_transition_that_does_not_hold_is_said_so():
    """Held-out accuracy falling back after the transition (teddykoker/grokking at λ 3:
    0.99 → 0.57–0.93) keeps the transition ``done`` but says it is not holding, from the
    median of the last ``heldout_relapse_evals`` evaluations (one dip is not enough), in
    ``Transition.relapse_val_acc`` and the exported ``nht_transition_relapsed``."""
    run, actual, _ = grokking_run()
    holding = Analyzer(header()).analyze(run)
    assert "not holding" not in " ".join(holding.reasons)
    assert holding.transition.relapse_val_acc is None
    k = AnalyzerSettings().heldout_relapse_evals
    evals = [s for s in run if s.step > actual and "val_acc" in s.metrics]
    one_dip = [s.model_copy(update={"metrics": {**s.metrics, "val_acc": 0.4}})
               if s is evals[-1] else s for s in run]
    assert "not holding" not in " ".join(Analyzer(header()).analyze(one_dip).reasons)
    values = dict(zip((id(s) for s in evals[-k:]), np.linspace(0.95, 0.45, k)))
    fallen = [s.model_copy(update={"metrics": {**s.metrics, "val_acc": values[id(s)]}})
              if id(s) in values else s for s in run]
    a = Analyzer(header()).analyze(fallen)
    assert a.transition.status == "done" and a.regime == "intermediate"
    median = float(np.median(list(values.values())))
    assert median < 0.9
    assert f"median {median:.2f} over the last {k} evaluations" in " ".join(a.reasons)
    assert a.transition.relapse_val_acc == pytest.approx(median, rel=1e-12)
    assert _exported_relapse(a) == 1.0 and _exported_relapse(holding) == 0.0
    # the advice keeps λ and says which checkpoint to keep
    assert a.advice.action == "keep" and "fallen back" in a.advice.text
    assert f"checkpoint from the transition (step {actual:,.0f})" in a.advice.text
    assert "fallen back" not in holding.advice.text
    # its own window: 3 evaluations read only the last three (all below 0.9 here)
    three = Analyzer(header(), AnalyzerSettings(heldout_relapse_evals=3)).analyze(fallen)
    assert three.transition.relapse_val_acc == pytest.approx(
        float(np.median(list(values.values())[-3:])), rel=1e-12)


def _exported_relapse(assessment) -> float | None:
    from prometheus_client import CollectorRegistry

    from nht_monitor.exporter import RunSnapshot, SnapshotCollector
    from tests.exporter.snapshots import full_snapshot

    snap = full_snapshot("r")
    snap = RunSnapshot(**{**snap.__dict__, "assessment": assessment})
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: [snap]))
    return registry.get_sample_value("nht_transition_relapsed",
                                     {"run": "r", "launch": "", "rank": "0"})


def test_head_flags_earlier_with_lead_steps():
    run, actual, _ = grokking_run()
    a = Analyzer(header()).analyze([s for s in run if s.step <= actual])
    assert a.head is not None
    assert a.head.flagged_step is not None
    # flag = first step 5% below the running peak (fit at step 200, 1 step = 0.001 τ):
    # total decays at 0.8/τ, head at 1.6/τ
    total = 200 + math.log(1 / 0.95) / 0.8 / 1e-3
    head = 200 + math.log(1 / 0.95) / 1.6 / 1e-3
    assert a.head.flagged_step == pytest.approx(head, abs=1.5)
    assert a.head.lead_steps == pytest.approx(total - head, abs=1.5)


def test_monotone_growth_after_fit_is_weak():
    """Weak once the norm has grown for Δτ ≥ weak_min_tau_after_fit (2) since the fit;
    earlier, weak only when the law's early end (10 %) lies beyond the run's budget."""
    run = make_run(lambda s, t: 10.0 + 0.01 * s, steps=2500, acc_of=fit_acc(200),
                   loss_of=fit_loss(200))
    a = Analyzer(header()).analyze(run)
    assert a.regime == "weak"
    assert a.transition.status == "not_expected"
    assert a.phase == "shortcut"
    assert any("growing" in r for r in a.reasons)
    early = Analyzer(header()).analyze(run, until=1500)
    assert early.regime == "undetermined" and any("cannot forecast" in r for r in early.reasons)
    budget = Analyzer(header(num_steps=1500)).analyze(run, until=1500)
    assert budget.regime == "weak"
    assert any("early end (10%) of the law's interval" in r and "budget of 1500" in r
               for r in budget.reasons), budget.reasons


def _plateau_after(start: float, fit: int = 200, growth: float = 0.02):
    """The norm falls linearly from ``start`` to 60 by the fit, then holds near 60
    (growing ``growth`` × 60 per τ: by default 2 %, flat but not pinned)."""
    def norm_of(s, t):
        if s <= fit:
            return start - (start - 60.0) * s / fit
        return 60.0 * (1.0 + growth * (t - fit * LR * WD))

    return make_run(norm_of, steps=3000, acc_of=fit_acc(fit), loss_of=fit_loss(fit))


LAST = 60.0 * (1.0 + 0.02 * 2.8)  # the norm at step 3000 (τ 3, fit at τ 0.2)
WMIN = AnalyzerSettings().weak_min_of_peak


@pytest.mark.parametrize("start, contracted", [(100.0, True), (LAST / (WMIN - 0.01), True),
                                               (LAST / (WMIN + 0.01), False), (60.0, False)])
def test_a_plateau_after_a_contraction_before_the_fit_is_not_weak(start, contracted):
    """Held flat for Δτ 2.8 after the fit: below ``weak_min_of_peak`` of its largest
    value, the norm contracted during the fit and sits on a plateau: intermediate,
    pending, a law forecast. Within it, held up: ``weak`` once it has been within it for
    Δτ 2 — from the fit when never below it, else from its last value below (start 74.98:
    below until τ 2.37, so not yet) — and growing (2 % per τ is flat: no verdict yet)."""
    a = Analyzer(header()).analyze(_plateau_after(start))
    if contracted:
        assert a.regime == "intermediate" and a.transition.status == "pending"
        assert a.transition.forecast_step is not None and a.transition.interval is not None
        assert "contracted" in a.findings and a.rule == "fitted"
        assert any("contracted before the fit" in r for r in a.reasons), a.reasons
    else:
        assert "held_up" in a.findings and "contracted" not in a.findings
        assert a.regime == "undetermined", a.reasons


@pytest.mark.parametrize("rate, said", [
    (-0.06, "growing (0.06/τ)"), (-0.054, "flat (0.054/τ)"), (0.01, "flat (-0.01/τ)"),
    (0.608, "decaying (0.608/τ)")])
def test_the_held_up_sentence_gives_the_rate_with_the_sign_of_its_word(rate, said):
    """A norm held within ``decay_min_drop`` of its post-fit peak: growing and flat say
    the growth per τ, decaying says the decay per τ (a public Lightning run read "barely
    decaying (-0.608/τ)" for a norm decaying at 0.608/τ)."""
    st = AnalyzerSettings()
    text = wording.held_up(st, "total norm", 77.0, rate, 0.041, 51.2, 0.0723, False)
    assert text == (f"total norm: after the fit (step 77) the norm is {said}, 4.1% < 5% below "
                    "its post-fit peak 51.2, Δτ 0.0723 since the fit")
    again = wording.held_up(st, "total norm", 77.0, rate, 0.041, 51.2, 0.0723, True)
    assert f"{said.split()[0]} again (it came down once since the fit) (" in again


@pytest.mark.parametrize("growth, min_growth, regime", [
    (0.02, 0.05, "undetermined"), (0.04, 0.05, "undetermined"), (0.08, 0.05, "weak"),
    (0.02, 0.01, "weak"), (0.02, None, "weak")])
def test_the_time_rule_calls_only_a_growing_norm_weak(growth, min_growth, regime):
    """Held near its peak for Δτ 2.8 after the fit, the norm is ``weak`` by the time rule
    only when it grows at least ``weak_min_growth`` per τ (its fitted rate since the fit;
    ``None``: any held-up norm, the rule before stop 48); a flat one waits
    ("cannot forecast"): on the family benchmark, the four runs the time rule called
    ``weak`` that transitioned later grew at 0.020–0.038/τ."""
    st = AnalyzerSettings(weak_min_growth=min_growth)
    a = Analyzer(header(), st).analyze(_plateau_after(60.0, growth=growth))
    assert "held_up" in a.findings and a.regime == regime, a.reasons
    assert ("cannot_forecast" in a.findings) == (regime in ("weak", "undetermined"))
    said = "growing" if regime == "weak" else "flat"
    assert any(f"the norm is {said} (" in r for r in a.reasons), a.reasons
    if regime == "undetermined":
        assert any("cannot forecast" in r and "after Δτ 2 while growing at ≥ 0.05/τ" in r
                   for r in a.reasons), a.reasons


@pytest.mark.parametrize("budget, on, regime", [
    (5000, True, "intermediate"), (5000, False, "undetermined"), (None, True, "undetermined"),
    (3500, True, "weak")])
def test_a_held_up_norm_with_room_in_the_budget_is_expected_to_transition(budget, on, regime):
    """Flat after the fit (2 % per τ: no verdict from the time rule) at step 3000: the law's
    early end (its 10 % quantile, ~1.29 τ after V_sc, the last sample) is step ≈ 4285.
    Within a budget of 5000: ``intermediate``, transition ``pending`` without a forecast
    step, phase ``shortcut``, said so (``room_while_held``); with ``expect_while_held`` off
    or no budget, "cannot forecast" (``undetermined``); past a budget of 3500: ``weak``."""
    st = AnalyzerSettings(expect_while_held=on)
    config = {} if budget is None else {"budget_steps": budget}
    a = Analyzer(header(**config), st).analyze(_plateau_after(60.0))
    assert "held_up" in a.findings and a.regime == regime, a.reasons
    assert ("room_while_held" in a.findings) == (regime == "intermediate")
    assert a.transition.forecast_step is None and a.transition.interval is None
    early = 3000 + law_quantile_reference(st, 0.0, 0.1) / (LR * WD)
    if regime == "intermediate":
        assert a.transition.status == "pending" and a.phase == "shortcut"
        said = [r for r in a.reasons if "a transition is still expected" in r]
        assert len(said) == 1 and "cannot forecast: the norm does not decay" in said[0]
        step = int(re.search(r"ends at step (\d+), within the budget of 5000 steps", said[0])[1])
        assert abs(step - early) <= 2, (step, early)
    elif regime == "undetermined":
        assert "cannot_forecast" in a.findings


def test_growing_is_growth_of_at_least_weak_min_growth():
    """``rate`` is decay per τ (negative while the norm grows)."""
    st = AnalyzerSettings()
    assert st.weak_min_growth == 0.055
    assert growing(-0.055, st) and growing(-1.0, st)
    assert not growing(-0.0549, st) and not growing(0.0, st) and not growing(0.3, st)
    off = AnalyzerSettings(weak_min_growth=None)
    assert growing(-1e-9, off) and not growing(0.0, off)


def test_a_contracted_norm_growing_back_is_not_a_plateau():
    run = make_run(lambda s, t: 100.0 - 40.0 * min(s, 200) / 200 + 20.0 * max(0.0, t - 0.2),
                   steps=3000, acc_of=fit_acc(200), loss_of=fit_loss(200))
    a = Analyzer(header()).analyze(run)
    assert "contracted" not in a.findings and a.regime != "intermediate"


def _contracted_then_regrown(step: float, tau: float) -> float:
    """100 → 60 by the fit (step 200), flat at 60 (a contracted plateau) until τ 2, back
    up at 100/τ to 90, then growing 8 % per τ: last below ``weak_min_of_peak`` × 100 at
    τ 2 + (83.5 − 60)/100."""
    if step <= 200:
        return 100.0 - 40.0 * step / 200
    if tau <= 2.0:
        return 60.0
    if tau <= 2.3:
        return 60.0 + 100.0 * (tau - 2.0)
    return 90.0 * (1.0 + 0.08 * (tau - 2.3))


def test_a_norm_regrown_after_a_contracted_plateau_is_weak_only_after_its_own_wait():
    """The time rule's Δτ ``weak_min_tau_after_fit`` (2) counts from the norm's last value
    below ``weak_min_of_peak`` of its peak, not from the fit: a LayerNorm transformer
    (round 13, λ 1.92) hovering around that line read ``weak`` at each crossing, Δτ 3–4
    after its fit, and transitioned later."""
    run = make_run(_contracted_then_regrown, steps=5000, acc_of=fit_acc(200),
                   loss_of=fit_loss(200))
    last_low = 2.0 + (WMIN * 100.0 - 60.0) / 100.0
    before = Analyzer(header()).analyze(run, until=int((last_low + 1.9) / (LR * WD)))
    assert before.regime != "weak" and "held_up" in before.findings, before.reasons
    after = Analyzer(header()).analyze(run, until=int((last_low + 2.1) / (LR * WD)) + 1)
    assert after.regime == "weak" and "cannot_forecast" in after.findings, after.reasons


def test_collapse_with_high_loss_is_strong():
    run = make_run(lambda s, t: 10.0 * math.exp(-5 * t), steps=500, lr=1e-2,
                   acc_of=lambda s, t: 0.03, loss_of=lambda s, t: 4.5)
    loss_only = [s.model_copy(update={"metrics": {"train_loss": 4.5}}) for s in run]
    assert Analyzer(header()).analyze(loss_only).regime == "strong"
    a = Analyzer(header()).analyze(run)
    assert a.regime == "strong"
    assert a.transition.status == "not_expected"
    assert any("collapsed" in r and "suppressed" in r for r in a.reasons)


def test_strong_waits_for_its_share_of_the_budget():
    """Rule 6a: a stall rule 6 reads at the last step (1,499) on a norm held at 25 % of its
    peak, with a 10,000-step budget, comes before 20 % of it (step 2,000): ``undetermined``
    (fitting), with rule 6's reading and the wait in the reasons. With the last step at the
    share, with the share 0, without a budget, or on a norm collapsed below 10 % of its
    peak (no slow start): ``strong``."""
    run = _stalled_run(0.0, acc0=0.05, steps=1500)
    last = run[-1].step
    a = Analyzer(header(budget_steps=10_000)).analyze(run)
    assert (a.regime, a.rule, a.phase) == ("undetermined", "strong_waits", "fitting")
    assert a.findings[-2:] == ["collapsed", "strong_waits"], a.findings
    assert "suppressed" in a.reasons[-2]
    assert a.reasons[-1] == (
        "not strong before step 2000 (20% of the budget of 10000 steps) while the norm has "
        "not fallen below 10% of its peak: near the strong boundary a slow start reads as a "
        "collapse and then learns; still fitting")
    assert a.confidence == 0.2 and a.transition.forecast_step is None  # as still fitting
    for budget, regime in ((5 * last + 1, "undetermined"), (5 * last, "strong")):
        assert Analyzer(header(budget_steps=budget)).analyze(run).regime == regime, budget
    off = AnalyzerSettings(strong_min_budget_share=0.0)
    assert Analyzer(header(budget_steps=10_000), off).analyze(run).regime == "strong"
    assert Analyzer(header()).analyze(run).regime == "strong"
    # the norm's lowest share of its peak since it against the bound, by hand (the norm
    # wobbles by 1 % around 25 % of its peak: the lowest, not the last, decides)
    peak_at = max(range(len(run)), key=lambda i: run[i].norm)
    low = min(s.norm for s in run[peak_at:]) / run[peak_at].norm
    assert low < run[-1].norm / run[peak_at].norm
    for bound in (0.999 * low, 1.001 * low):
        st = AnalyzerSettings(strong_wait_min_of_peak=bound)
        waits = Analyzer(header(budget_steps=10_000), st).analyze(run).rule == "strong_waits"
        assert waits == (low >= bound), bound
    deep = make_run(lambda s, t: 10.0 * math.exp(-5 * t), steps=500, lr=1e-2,
                    acc_of=lambda s, t: 0.03, loss_of=lambda s, t: 4.5)
    assert Analyzer(header(budget_steps=10_000)).analyze(deep).regime == "strong"
    # nothing for rule 6 to read: rule 6a is silent at any share
    fitting = make_run(lambda s, t: 10.0 + s / 10, steps=100, acc_of=fit_acc(1000))
    assert Analyzer(header(budget_steps=5000)).analyze(fitting).rule == "still_fitting"


def test_a_spent_budget_with_nothing_learnt_on_a_norm_that_held_says_so():
    """Train accuracy at chance for the whole budget while the norm sank to 76 % of its
    peak and stayed (a public script's defaults: a model too small to learn): no strong
    regime (that needs the collapse), ``undetermined`` as before the budget ends, and the
    reason says nothing was learnt, and not for weight decay; with the norm collapsed it
    is rule 6's ``spent_short``."""
    def run(floor):
        return make_run(lambda s, t: 10.0 * max(floor, 1 - s / 500), steps=1000,
                        acc_of=lambda s, t: 0.04, loss_of=lambda s, t: 4.0)

    held = Analyzer(header(budget_steps=1000)).analyze(run(0.76))
    assert (held.regime, held.rule) == ("undetermined", "still_fitting")
    assert held.findings[-1] == "spent_unlearnt"
    assert ("(best mean over 20 evaluations 0.04), but the norm did not collapse (now 76% of "
            "its peak; the strong regime's is below 50%): nothing was learnt, and not for "
            "too much weight decay") in held.reasons[-1]
    assert held.advice.action == "none"
    assert "not a weight-decay problem" in held.advice.text
    early = Analyzer(header(budget_steps=2000)).analyze(run(0.76))
    assert "spent_unlearnt" not in early.findings
    assert early.advice.text.startswith("Not enough evidence yet")
    collapsed = Analyzer(header(budget_steps=1000)).analyze(run(0.3))
    assert collapsed.regime == "strong" and "spent_short" in collapsed.findings


@pytest.mark.parametrize("floor, collapse, kind, says", [
    (0.2, 0.5, "spent_collapsed", "the norm collapsed to 20% of its peak: weight decay may "
                                  "be what holds the fit back, a smaller λ fits sooner"),
    (0.8, 0.5, "spent_unfitted", "the norm at 80% of its peak"),
    (0.4, 0.3, "spent_unfitted", "the norm at 40% of its peak"),
    (0.4, 0.6, "spent_collapsed", "the norm collapsed to 40% of its peak: weight decay may "
                                  "be what holds the fit back, a smaller λ fits sooner")])
def test_a_spent_budget_half_learnt_without_a_fit_says_how_it_ended(floor, collapse, kind,
                                                                     says):
    """Train accuracy climbing from 0.05 to 0.7 (half learnt, no fit) when the budget ends
    (as a public run at λ 3: 0.83 at best, its norm at 19 % of its peak): ``undetermined``,
    the reason says the budget is spent without a fit and where the norm is; on a norm
    collapsed below the run's own ``strong_collapse`` (``spent_collapsed``) the advice
    points at a smaller λ (no number: nothing measured a delay), else not — the reason
    and the advice read the same collapse."""
    run = make_run(lambda s, t: 10.0 * max(floor, 1 - s / 500), steps=1000, weight_decay=3.0,
                   acc_of=lambda s, t: 0.05 + 0.65 * s / 1000, loss_of=lambda s, t: 1.0)
    settings = AnalyzerSettings(strong_collapse=collapse)
    a = Analyzer(header(budget_steps=1000), settings).analyze(run)
    assert (a.regime, a.findings[-1]) == ("undetermined", kind)
    assert a.reasons[-1].startswith("the budget is spent without a fit: train accuracy's "
                                    "best mean over 20 evaluations 0.69")
    assert a.reasons[-1].endswith(says)
    assert a.advice.action == "none"
    assert ("its norm collapsed, so weight decay may be what holds the fit back: try a "
            "smaller λ than 3, or more steps" in a.advice.text) is (kind == "spent_collapsed")


def _collapse_during_warmup(warmup: int):
    """The norm collapsing as e^(−τ) with train accuracy stuck at 0.02; lr warmed up
    linearly to 1e-2 over ``warmup`` steps (0: constant), λ 5."""
    return make_run(lambda s, t: 10.0 * math.exp(-t), steps=600, weight_decay=5.0,
                    lr_of=lambda s: 1e-2 * min(1.0, s / warmup) if warmup else 1e-2,
                    acc_of=lambda s, t: 0.02, loss_of=lambda s, t: 4.5)


@pytest.mark.parametrize("grows", [False, True])
def test_a_collapse_from_the_initialization_is_said_so(grows):
    """A strong run whose norm never grew above its first value (every strong run of
    round 94) adds ``from_init`` after rule 6's reading — the advice then does not size λ
    on the collapse; one that grew first (peak 1.5× its first) does not."""
    run = make_run(lambda s, t: 10.0 * ((1 + 3 * t) if grows else 1.0) * math.exp(-t),
                   steps=600, weight_decay=5.0, lr=1e-2,
                   acc_of=lambda s, t: 0.02, loss_of=lambda s, t: 4.5)
    a = Analyzer(header()).analyze(run)
    assert (a.regime, a.findings[0]) == ("strong", "collapsed")
    assert ("from_init" in a.findings) is not grows
    if not grows:
        assert a.reasons[-1] == (
            f"the norm's peak {wording.fmt(run[0].norm)} is its initialization's (its first "
            f"value {wording.fmt(run[0].norm)}; never above 1.05× it): the collapse is from "
            "the initialization, no equilibrium norm to size λ on")
        assert "÷10; the norm fell from its initialization" in a.advice.text


def test_a_stall_read_through_the_warmup_is_not_collapsed_yet():
    """``collapsed`` needs its stall window (Δτ ``strong_stall_tau``) to start at or after
    the warm-up's end (the lr's first maximum): round 22's transformer was read
    ``strong`` just after a 150-step warm-up and transitioned later. Without a warm-up
    the same stall is ``strong`` at once; with one, once the window clears it."""
    span = AnalyzerSettings().strong_stall_tau
    warm = _collapse_during_warmup(200)
    tau_end = 0.5 * 200 * 1e-2 * 5.0  # τ at the warm-up's end (Σ lr·λ)
    inside = next(s.step for s in warm if s.tau >= tau_end + 0.5 * span)
    early = Analyzer(header()).analyze(warm, until=inside)
    assert early.regime != "strong" and "collapsed" not in early.findings, early.reasons
    cleared = next(s.step for s in warm if s.tau >= tau_end + span + 0.2)
    late = Analyzer(header()).analyze(warm, until=cleared)
    assert late.regime == "strong" and "collapsed" in late.findings, late.reasons
    flat = Analyzer(header()).analyze(_collapse_during_warmup(0), until=60)
    assert flat.regime == "strong" and "collapsed" in flat.findings, flat.reasons


def _late_fit_on_an_annealing_plan(val_end: float, *, anneal: bool = True):
    """Fit at step 1,200 of a 2,000-step budget; the lr falls linearly to 0 at the budget
    (``anneal``; else constant 5e-3); the norm grows after the fit; held-out accuracy's
    logit climbs 0.003 per step to 0.9 at ``val_end``."""
    def val_of(s, t):
        return 1.0 / (1.0 + math.exp(-(math.log(9.0) - (val_end - s) * 0.003)))
    return make_run(lambda s, t: 10.0 + 0.001 * s, steps=2000,
                    lr_of=(lambda s: 1e-2 * (2000 - s) / 2000) if anneal else (lambda s: 5e-3),
                    acc_of=fit_acc(1200), loss_of=fit_loss(1200), val_of=val_of)


def test_a_heldout_climb_on_the_step_clock_holds_back_the_budget_verdict_while_annealing():
    """On an annealing plan the τ clock slows to a stop, so the law's early end lies beyond
    the budget (``too_late``); held-out accuracy's logit, a line against the step over its
    last ``step_trend_evals`` evaluations, reaches 0.9 within it: with the opt-in
    ``annealing_step_trend``, ``intermediate``, ``annealing_trend``, the step as scipy's
    float64 ``linregress`` puts it. Off (the default), or with the climb ending past the
    budget, the verdict stands. Rule 7d's budget verdict reads the held-out trend's line
    (``held_verdict_bend_progress`` ``None``): bent, and through its latest evaluations
    since stop 62, the trend itself says step 2,070 here, 80 % interval 2,022–2,118."""
    from scipy import stats
    on = AnalyzerSettings(annealing_step_trend=True, held_verdict_bend_progress=None)
    run = _late_fit_on_an_annealing_plan(1990)
    a = Analyzer(header(num_steps=2000), on).analyze(run, until=1700)
    assert a.regime == "intermediate" and "annealing_trend" in a.findings, a.reasons
    said = next(r for r in a.reasons if "the learning rate anneals" in r)
    step = float(re.search(r"reaches 0.9 at step ([0-9.]+)", said).group(1))
    last = [x for x in run if x.step <= 1700][-AnalyzerSettings().step_trend_evals:]
    fit = stats.linregress([x.step for x in last],
                           [math.log(x.metrics["val_acc"] / (1 - x.metrics["val_acc"]))
                            for x in last])
    assert step == pytest.approx((math.log(9.0) - fit.intercept) / fit.slope, abs=1.0)
    assert step == pytest.approx(1990, abs=1.0)
    off = on.model_copy(update={"annealing_step_trend": False})
    assert Analyzer(header(num_steps=2000), off).analyze(run, until=1700).regime == "weak"
    late = Analyzer(header(num_steps=2000), on).analyze(_late_fit_on_an_annealing_plan(2100),
                                                        until=1700)
    assert late.regime == "weak" and "annealing_trend" not in late.findings, late.reasons


def test_the_step_clock_trend_is_on_by_default_for_models_without_normalization_layers():
    """``annealing_step_trend="auto"`` (the default) reads the step clock for a header
    recording a model without normalization layers, and not for one with a LayerNorm or
    none recorded (as ``budget_law_floor``) — with rule 7d's budget verdict on the
    held-out trend's line (``held_verdict_bend_progress`` ``None``: held-out accuracy is
    85 % of the way here, and the bent trend has its own test)."""
    run = _late_fit_on_an_annealing_plan(1990)
    line = AnalyzerSettings(held_verdict_bend_progress=None)
    plain = Analyzer(_recorded([], num_steps=2000), line).analyze(run, until=1700)
    assert plain.regime == "intermediate" and "annealing_trend" in plain.findings, plain.reasons
    for h in (_recorded(["LayerNorm"], num_steps=2000), header(num_steps=2000)):
        a = Analyzer(h, line).analyze(run, until=1700)
        assert a.regime == "weak" and "annealing_trend" not in a.findings, a.reasons


@pytest.mark.parametrize("fraction, reads", [(0.1, False), (0.14, False), (0.16, True),
                                             (0.8, True)])
def test_the_step_clock_trend_reads_only_once_the_lr_has_fallen_to_its_fraction_of_peak(
        fraction, reads):
    """``annealing_lr_fraction``: the plan here falls linearly from 1e-2 to 0 over 2,000
    steps, so at step 1700 the last logged lr is 0.15 of its peak (to 0.1 %); the step
    trend reads for a fraction above that and is silent below it (rule 7d's budget verdict
    on the trend's line, as above)."""
    st = AnalyzerSettings(annealing_step_trend=True, annealing_lr_fraction=fraction,
                          held_verdict_bend_progress=None)
    a = Analyzer(header(num_steps=2000), st).analyze(_late_fit_on_an_annealing_plan(1990),
                                                     until=1700)
    assert ("annealing_trend" in a.findings) is reads, a.reasons
    assert a.regime == ("intermediate" if reads else "weak"), a.reasons


def test_the_step_clock_trend_is_silent_on_a_constant_learning_rate():
    """Without annealing (the last lr at its peak) the budget verdict is the τ clock's
    alone, as before: the finding never appears."""
    run = _late_fit_on_an_annealing_plan(1990, anneal=False)
    on = AnalyzerSettings(annealing_step_trend=True)
    for until in (1500, 1700, 1900):
        a = Analyzer(header(num_steps=2000), on).analyze(run, until=until)
        assert "annealing_trend" not in a.findings, a.reasons


def test_nan_norm_is_diverged():
    run = make_run(lambda s, t: 10.0 if s < 300 else math.nan, steps=310,
                   acc_of=fit_acc(100), loss_of=fit_loss(100))
    a = Analyzer(header()).analyze(run)
    assert a.regime == "diverged" and a.confidence == 1.0
    assert "nan" in a.reasons[0]


def test_exploding_norm_is_diverged():
    run = make_run(lambda s, t: 10.0 * math.exp(s / 20), steps=300)
    a = Analyzer(header()).analyze(run)
    assert a.regime == "diverged"
    assert "exploding" in a.reasons[0]


def _lost_fit_run(collapse: int = 1500, back_to: float = 0.03, steps: int = 3000) -> list:
    """The grokking run's norm, with train accuracy fitted at 200 and, from ``collapse``
    on, back at ``back_to`` (a loss spike that undid the fit; the norm stays finite)."""
    norm_of, *_ = grokking(lr=LR, weight_decay=WD)
    return make_run(norm_of, steps=steps, lr=LR, weight_decay=WD, loss_of=fit_loss(200),
                    acc_of=lambda s, t: back_to if s >= collapse else fit_acc(200)(s, t))


@pytest.mark.parametrize("back_to, on, regime", [
    (0.03, True, "diverged"), (0.03, False, "intermediate"), (0.9, True, "intermediate")])
def test_a_fit_lost_after_the_fit_is_diverged(back_to, on, regime):
    run = _lost_fit_run(back_to=back_to)
    a = Analyzer(header(), AnalyzerSettings(diverged_lost_fit=on)).analyze(run)
    assert a.regime == regime, a.reasons
    assert ("lost_fit" in a.findings) == (regime == "diverged")
    if regime == "diverged":
        assert a.rule == "lost_fit" and a.confidence == pytest.approx(0.9)
        fit = Analyzer(header()).analyze(run, until=1000)  # the fit step, as facts read it
        assert re.search(r"fitted at step (\d+)", a.reasons[0]).group(1) == str(
            int(facts_from_series(series_from_samples(run[:1000], AnalyzerSettings()),
                                  AnalyzerSettings()).fit_step))
        assert fit.regime == "intermediate"
        assert "at most 0.03 over the last 20 evaluations" in a.reasons[0]
    # before the collapse, and until all of the last 20 evaluations are down: as before
    for until in (1505, 1518):
        before = Analyzer(header()).analyze(run, until=until)
        assert before.regime == "intermediate" and "lost_fit" not in before.findings
    last = Analyzer(header(), AnalyzerSettings(diverged_lost_fit=on)).analyze(run, until=1519)
    assert last.regime == regime  # the 20th evaluation down


def test_a_loss_spike_that_recovers_within_the_window_is_no_lost_fit():
    norm_of, *_ = grokking(lr=LR, weight_decay=WD)
    spike = make_run(norm_of, steps=2000, lr=LR, weight_decay=WD, loss_of=fit_loss(200),
                     acc_of=lambda s, t: 0.02 if 1500 <= s < 1519 else fit_acc(200)(s, t))
    for until in range(1500, 1600, 7):
        a = Analyzer(header()).analyze(spike, until=until)
        assert a.regime == "intermediate" and "lost_fit" not in a.findings, (until, a.reasons)


def test_nan_mid_log_is_skipped_with_a_reason():
    run, actual, _ = grokking_run()
    run = run[:actual // 2]
    run[300] = run[300].model_copy(update={"norm": math.nan})
    a = Analyzer(header()).analyze(run)
    assert a.regime == "intermediate"
    assert any("non-finite" in r for r in a.reasons)


def test_pinned_norm_is_clamped():
    run = make_run(lambda s, t: 10.0 + s / 100 if s < 200 else 12.0, steps=600,
                   acc_of=fit_acc(100), loss_of=fit_loss(100))
    a = Analyzer(header()).analyze(run)
    assert a.regime == "clamped" and a.clamped
    assert any("pinned" in r for r in a.reasons)


def test_a_flat_bottom_on_a_fast_clock_is_not_clamped():
    """At ηλ 0.045 per step, 20 steps cover 0.9 τ: a norm at the flat bottom it reaches
    after the transition (a minimum 10 steps before the end, curvature 4e-5 of its level
    per τ²) ranges over 8e-6 of its level across the last 20 points — under
    ``clamp_rel_range`` and the τ rule — but 7e-5 across the last 40 (``clamp_window``):
    not clamped; with the window of 20 it was (okitouni/simple-grokking at λ 1.5). A norm
    held flat for 40 points still is."""
    lr, steps = 0.045, 600
    t_min = lr * (steps - 10)
    bottom = make_run(lambda s, t: 40.0 * (1.0 + 4e-5 * (t - t_min) ** 2), steps=steps,
                      lr=lr, acc_of=fit_acc(100), loss_of=fit_loss(100))
    assert Analyzer(header()).analyze(bottom).regime != "clamped"
    narrow = AnalyzerSettings(clamp_window=20)
    assert Analyzer(header(), narrow).analyze(bottom).regime == "clamped"
    held = make_run(lambda s, t: 40.0 + (steps - 40 - s) / 100 if s < steps - 40 else 40.0,
                    steps=steps, lr=lr, acc_of=fit_acc(100), loss_of=fit_loss(100))
    assert Analyzer(header()).analyze(held).regime == "clamped"


def test_turning_point_is_not_clamped():
    """A norm at the top of a smooth peak (where growth and decay cross) is flat over the
    last 20 steps (range 5e-6 of its level, under ``clamp_rel_range``) but not over the
    ``clamp_min_tau`` (0.3) of τ behind them (range 2e-4): no clamp. Seen at 30 % of a
    transformer run (tf-sub λ 0.1, stop 26) and, while that span was 0.02 τ, on 25
    full-batch runs of rounds 17–42 (round 42's mlp-add-p67 λ 0.5 at step 750: range 4e-6
    over its last 20 steps). A norm held flat for 0.32 τ is clamped; for 0.1 τ, not yet."""
    lr, steps = 2.5e-3, 1200  # 20 steps = Δτ 0.05; τ 3 at the end
    tau_end = lr * steps
    run = make_run(lambda s, t: 75.0 * (1.0 - 2e-3 * (t - tau_end) ** 2), steps=steps, lr=lr,
                   acc_of=fit_acc(100), loss_of=fit_loss(100))
    norm = np.array([x.norm for x in run])
    assert (norm[-20:].max() - norm[-20:].min()) / 75.0 < AnalyzerSettings().clamp_rel_range
    a = Analyzer(header()).analyze(run)
    assert a.regime != "clamped" and not a.clamped
    until_44 = AnalyzerSettings(clamp_min_tau=0.02, clamp_window=20)  # span and window then
    assert Analyzer(header(), until_44).analyze(run).regime == "clamped"

    def held(tau_flat: float) -> list:
        k = steps - round(tau_flat / lr)
        return run[:k] + [x.model_copy(update={"norm": float(norm[k - 1])}) for x in run[k:]]

    assert Analyzer(header()).analyze(held(0.32)).regime == "clamped"
    assert Analyzer(header()).analyze(held(0.1)).regime != "clamped"


def test_header_norm_clamp_is_clamped():
    run, actual, _ = grokking_run()
    a = Analyzer(header(norm_clamp={"target": 12.0})).analyze(run[:actual])
    assert a.regime == "clamped" and a.clamped
    assert any("NormClamp" in r for r in a.reasons)


def test_zero_weight_decay_is_weak_by_construction():
    run = make_run(lambda s, t: 10.0 + 0.01 * s, steps=100, weight_decay=0.0)
    a = Analyzer(header()).analyze(run)
    assert a.regime == "weak" and a.confidence == 1.0
    assert "law does not apply" in a.reasons[0]


def test_zero_lr_is_weak_with_stopped_clock():
    run = make_run(lambda s, t: 10.0, steps=100, lr=0.0)
    a = Analyzer(header()).analyze(run)
    assert a.regime == "weak"
    assert "τ clock does not advance" in a.reasons[0]


def test_empty_and_single_sample_are_undetermined():
    assert Analyzer().analyze([]).regime == "undetermined"
    assert Analyzer().assess().reasons == ["no samples yet"]
    one = make_run(lambda s, t: 10.0, steps=1)
    a = Analyzer().analyze(one)
    assert a.regime == "undetermined"
    assert "only 1 sample" in a.reasons[0]


def test_still_fitting_is_undetermined():
    run = make_run(lambda s, t: 10.0 + s / 10, steps=100, acc_of=fit_acc(1000),
                   loss_of=fit_loss(1000))
    a = Analyzer().analyze(run)
    assert a.regime == "undetermined" and a.phase == "fitting"


def test_non_monotone_steps_keep_last_occurrence():
    """A resumed run rewinds to step 101 and continues with different norms."""
    first = make_run(lambda s, t: 10.0 + 0.01 * s, steps=200, acc_of=fit_acc(50),
                     loss_of=fit_loss(50))
    resumed = make_run(lambda s, t: 30.0 * math.exp(-0.8 * t), steps=700, start=101, lr=1e-2,
                       acc_of=lambda s, t: 1.0, loss_of=lambda s, t: 1e-3)
    log = first + resumed
    offline = Analyzer().analyze(log)
    live = Analyzer()
    for s in log:
        live.observe(s)
    online = live.assess()
    clean = Analyzer().analyze(first[:100] + resumed)
    assert offline.n_samples == 800
    assert offline.regime == clean.regime == online.regime == "intermediate"
    assert offline.transition.forecast_step == pytest.approx(clean.transition.forecast_step)


def test_live_updates_agree_with_offline_analysis():
    run, actual, _ = grokking_run(steps=2500)
    live = Analyzer(header())
    for s in run[:-1]:
        live.observe(s)
    online = live.update(run[-1])
    offline = Analyzer(header()).analyze(run)
    assert online.regime == offline.regime
    assert online.transition.status == offline.transition.status
    assert online.transition.forecast_step == offline.transition.forecast_step
    assert online.v_peak == offline.v_peak
    assert online.head.lead_steps == offline.head.lead_steps


def test_live_history_stays_bounded():
    settings = AnalyzerSettings(history_points=64)
    live = Analyzer(settings=settings)
    run = make_run(lambda s, t: 10.0 + 0.001 * s, steps=5000, acc_of=fit_acc(100))
    for s in run:
        live.observe(s)
    assert len(live._history) <= 64
    assert live.assess().regime == "weak"
    assert live.assess().n_samples == 5000


def test_until_cuts_the_log():
    run, actual, _ = grokking_run()
    a = Analyzer(settings=exact()).analyze(run, until=actual // 2)
    assert a.step == actual // 2
    assert a.transition.status == "pending"


def test_no_train_metrics_still_classifies_with_capped_confidence():
    norm_of, _, _, _ = grokking(lr=LR)
    run = make_run(norm_of, steps=1200)
    a = Analyzer().analyze(run)
    assert a.regime == "intermediate"
    assert a.confidence <= 0.6
    assert any("no training loss" in r for r in a.reasons)


def test_backtest_scores_forecasts_on_synthetic_grokking():
    run, actual, _ = grokking_run()
    r = backtest(run, header(), exact(2.0))
    assert r.actual.step == actual
    half = next(p for p in r.points if p.fraction == 0.5)
    assert half.error < 0.01
    assert r.regime_first_stable["intermediate"] <= actual // 2
    # V_sc at the fit (step 200, τ 0.2); transition at τ 0.2 + log(2)/0.8
    assert r.v_sc_step == 200
    assert r.delay_tau == pytest.approx(math.log(2.0) / 0.8, abs=2e-3)
    # the same forecasts at fractions of the delay: from the fit step to the transition
    assert r.fit_step is not None and r.fit_step < actual
    assert [p.fraction for p in r.delay_points] == [0.25, 0.5, 0.75]
    for p in r.delay_points:
        target = r.fit_step + p.fraction * (actual - r.fit_step)
        assert p.step == max(s.step for s in run if s.step <= target)
        assert p.error == pytest.approx(abs(p.forecast_step - actual) / actual)
        assert p.error < 0.02
    text = format_backtest(r)
    assert f"at fractions of the delay (fit step {r.fit_step:g} → the transition):" in text
    # no transition: no delay points
    none = backtest([s for s in run if s.step < actual - 50], header(), exact(2.0))
    assert none.points == [] and none.delay_points == []


def test_regime_history_keeps_a_return_to_an_earlier_label():
    from nht_monitor.analysis.backtest import regime_spans

    labels = ([(s, "weak") for s in range(0, 60, 10)] + [(60, "intermediate")]
              + [(s, "weak") for s in range(70, 120, 10)]
              + [(s, "intermediate") for s in range(120, 170, 10)]
              + [(s, "weak") for s in range(170, 220, 10)] + [(220, "strong")])
    spans = [(x.regime, x.first_step, x.last_step, x.assessments) for x in regime_spans(labels)]
    # the one-assessment blip at 60 is left out and weak goes on; the last label always counts
    assert spans == [("weak", 0, 110, 11), ("intermediate", 120, 160, 5),
                     ("weak", 170, 210, 5), ("strong", 220, 220, 1)]
    assert regime_spans([]) == []


def test_settings_are_validated():
    with pytest.raises(ValueError):
        AnalyzerSettings(structured_ratio=0.5)
    with pytest.raises(TypeError):
        Analyzer(settings={"min_samples": 3})  # type: ignore[arg-type]


def test_flat_norm_with_a_tiny_clock_is_not_clamped():
    """lr = 1e-9: the norm barely moves (float noise), but nothing pins it: not clamped."""
    run = make_run(lambda s, t: 12.0 + 1e-7 * math.sin(s), steps=600, lr=1e-9, acc_of=fit_acc(100),
                   loss_of=fit_loss(100))
    a = Analyzer(header()).analyze(run)
    assert a.regime != "clamped"


def test_module_docstring_lists_the_rules_in_order():
    doc = rules.__doc__
    for tuple_ in (rules.RULES, rules.SIGNAL_RULES):
        at = [doc.index(f"``{rule.__name__}``") for rule in tuple_]
        assert at == sorted(at), [rule.__name__ for rule in tuple_]


@pytest.mark.parametrize(("run", "rule"), [
    (lambda: [], "no_samples"),
    (lambda: make_run(lambda s, t: 10.0 * math.exp(s / 20), steps=300), "diverged"),
    (lambda: _lost_fit_run(collapse=400, steps=500), "lost_fit"),
    (lambda: make_run(lambda s, t: 10.0, steps=100, lr=0.0), "no_decay_clock"),
    (lambda: make_run(lambda s, t: 10.0 + s / 100 if s < 200 else 12.0, steps=600,
                      acc_of=fit_acc(100), loss_of=fit_loss(100)), "pinned"),
    (lambda: make_run(lambda s, t: 10.0, steps=1), "too_few_samples"),
    (lambda: make_run(lambda s, t: 10.0 * math.exp(-5 * t), steps=500, lr=1e-2,
                      acc_of=lambda s, t: 0.03), "strong"),
    (lambda: make_run(lambda s, t: 10.0 + s / 10, steps=100, acc_of=fit_acc(1000)),
     "still_fitting"),
    (lambda: grokking_run()[0], "fitted"),
])
def test_decide_names_the_rule_that_fired(run, rule):
    settings = AnalyzerSettings()
    s = series_from_samples(run(), settings)
    ctx = rules.Context(facts=facts_from_series(s, settings))
    decision = rules.decide(rules.Run(s, ctx, settings))
    assert decision.rule == rule
    assert len(wording.reasons(decision.findings, settings)) == len(decision.findings) >= 1


def _stalled_run(rise_per_tau: float, acc0: float = 0.4, steps: int = 4000,
                 chance: float | None = 0.02) -> list:
    """The norm collapses to 25 % of its peak within Δτ ≈ 1 (lr 1e-3, λ 4: τ = step/250) and
    wobbles there by 1 % (not pinned), while train accuracy, ``chance`` at the first
    evaluation (else ``acc0``), creeps up by ``rise_per_tau`` per τ from ``acc0`` (never
    fits)."""
    return make_run(lambda s, t: 25.0 * (1 + 0.01 * math.sin(s / 7)) + 75.0 * math.exp(-3 * t),
                    steps=steps, lr=1e-3, weight_decay=4.0,
                    acc_of=lambda s, t: chance if s == 1 and chance is not None
                    else acc0 + rise_per_tau * t,
                    loss_of=lambda s, t: 2.6 - 0.01 * t)


def test_a_long_stall_short_of_the_fit_is_strong():
    # accuracy 0.4-0.45 (below strong_max_train_acc, but 39 % of the way from chance: not
    # suppressed, so neither `collapsed` nor `too_slow`) rising 0.012 over Δτ 4: held down
    st = AnalyzerSettings()
    a = Analyzer(header()).analyze(_stalled_run(0.003))
    assert a.regime == "strong" and a.rule == "strong"
    assert "long_stall" in a.findings and "collapsed" not in a.findings
    assert a.transition.status == "not_expected"
    assert f"set no new best over the last Δτ {st.strong_long_stall_tau:g}" in a.reasons[0]
    assert a.reasons[0].endswith(", short of the fit: weight decay holds learning down")
    # before Δτ 4 of evaluations after the collapse there is no verdict yet
    early = Analyzer(header()).analyze(_stalled_run(0.003)[:800])
    assert early.regime == "undetermined"


def _recorded(norms: list[str], **config) -> RunHeader:
    return RunHeader(run_id="synthetic", started_at="2026-11-23T00:00:00Z",
                     model={"class_name": "M", "n_params": 1, "normalization": norms},
                     layers=["a", "b"], config=config)


def _fitting(steps: int = 400, lr_of=None) -> list:
    """Still fitting (train accuracy 0.01 + step/10⁴), the norm growing, τ = step/1000."""
    return make_run(lambda s, t: 10.0 + s / 100, steps=steps, lr=LR, weight_decay=WD,
                    lr_of=lr_of, acc_of=fit_acc(10_000), loss_of=lambda s, t: 2.0)


@hsettings(max_examples=40, deadline=None)
@given(budget=hst.integers(450, 3000))
def test_no_room_after_fit_is_weak_exactly_when_the_laws_least_delay_ends_past_the_budget(
        budget):
    """Still fitting at step 400 (τ 0.4): even a fit now puts the law's least delay (its
    10 % quantile of Δτ, scipy float64) at step 400 + least / (η·λ); a budget before that
    is ``weak`` (rule 6c), one after it still fitting; a model with a LayerNorm (the
    floor off by default) is still fitting either way."""
    from scipy import stats

    st = AnalyzerSettings()
    least = stats.lognorm(s=st.delay_log_sd, scale=st.delay_tau).ppf(st.budget_quantile)
    ends = 400 + least / (LR * WD)
    assume(abs(budget - ends) > 2)
    # switched off, the run is still fitting whatever its budget
    off = AnalyzerSettings(weak_before_fit=False)
    assert Analyzer(_recorded([], num_steps=budget), off).analyze(_fitting()).rule == "still_fitting"
    a = Analyzer(_recorded([], num_steps=budget), st).analyze(_fitting())
    if budget < ends:
        assert (a.regime, a.rule, a.phase) == ("weak", "no_room_after_fit", "fitting")
        assert a.transition.status == "not_expected"
        m = re.search(r"still fitting, and even from a fit now the law's least delay \(10% "
                      r"quantile: ([\d.]+) τ\) would end at step ([\d.]+), beyond the budget "
                      rf"of {budget} steps", a.reasons[-1])
        assert m and float(m.group(1)) == pytest.approx(least, rel=1e-2), a.reasons
        assert float(m.group(2)) == pytest.approx(ends, abs=1.5)
    else:
        assert (a.regime, a.rule) == ("undetermined", "still_fitting"), a.reasons
    with_norm = Analyzer(_recorded(["LayerNorm"], num_steps=budget), st).analyze(_fitting())
    assert (with_norm.regime, with_norm.rule) == ("undetermined", "still_fitting")
    assert Analyzer(_recorded([]), st).analyze(_fitting()).rule == "still_fitting"  # no budget


@pytest.mark.parametrize("fallen_to", [0.80, 0.83, 0.84, 0.9, 1.0])
def test_no_room_after_fit_waits_while_the_norm_has_fallen_below_weak_min_of_peak(fallen_to):
    """The norm peaks at step 200 and falls linearly to ``fallen_to`` × that peak by step
    400, still fitting, with a budget that holds too little τ: ``weak`` exactly when the
    last norm is at least ``weak_min_of_peak`` (0.835) of its peak — weight decay already
    pulling the norm down while the model fits has served part of the delay."""
    peak = 14.0

    def norm(s, t):
        return 10.0 + s / 50 if s <= 200 else peak * (1 - (1 - fallen_to) * (s - 200) / 200)

    run = make_run(norm, steps=400, lr=LR, weight_decay=WD, acc_of=fit_acc(10_000),
                   loss_of=lambda s, t: 2.0)
    a = Analyzer(_recorded([], num_steps=1200)).analyze(run)
    weak = fallen_to >= AnalyzerSettings().weak_min_of_peak
    assert (a.regime, a.rule) == (("weak", "no_room_after_fit") if weak
                                  else ("undetermined", "still_fitting")), a.reasons


@pytest.mark.parametrize("heldout_climbs", [False, True])
def test_a_weak_said_before_the_fit_stands_through_it_while_heldout_accuracy_is_flat(
        heldout_climbs):
    """``weak`` before the fit (budget 1,200 steps, the law's least delay ends ~1,410):
    right after the fit (step 400) the budget verdict does not go ``undetermined`` for
    10 held-out evaluations when held-out accuracy stays on its floor; it waits, as
    before, when held-out accuracy has come off it since the fit."""
    def val(s, t):
        return 0.01 + (0.01 * (s - 400) if heldout_climbs and s > 400 else 0.0)

    run = make_run(lambda s, t: 10.0 + s / 100, steps=412, lr=LR, weight_decay=WD,
                   acc_of=fit_acc(400), loss_of=lambda s, t: 0.01, val_of=val)
    header = _recorded([], num_steps=1200)
    before = Analyzer(header).analyze(run[:380])
    assert (before.regime, before.rule) == ("weak", "no_room_after_fit")
    if heldout_climbs:  # the held-out trend speaks: law + trend forecast within the budget
        after = Analyzer(header).analyze(run)
        assert after.regime == "intermediate" and "forecast" in after.findings, after.reasons
        return
    just_fitted = run[:398]  # fitted at step 392, 6 held-out evaluations since
    after = Analyzer(header).analyze(just_fitted)
    assert after.rule == "fitted" and "after the fit (step 392)" in after.reasons[0]
    assert (after.regime, after.findings) == ("weak", ["held_up", "too_late"]), after.reasons
    # switched off, the verdict after the fit waits for 10 held-out evaluations
    off = Analyzer(header, AnalyzerSettings(weak_before_fit=False)).analyze(just_fitted)
    assert off.regime == "undetermined" and "awaiting_heldout" in off.findings


def test_no_room_after_fit_reads_the_plan_else_the_fastest_clock_seen():
    """The lr drops 5× at step 200. Without a plan the rule counts at the fastest η·λ the
    log has seen (a warm-up's or a decay's current rate would say weak too early): a fit
    now would still leave room by step 2,000. The planned lr (given here) leaves too
    little."""
    drop = lambda s: LR if s <= 200 else LR / 5  # noqa: E731
    run = _fitting(lr_of=drop)
    on = AnalyzerSettings(weak_before_fit=True)
    assert Analyzer(_recorded([], num_steps=2000), on).analyze(run).rule == "still_fitting"
    planned = Analyzer(_recorded([], num_steps=2000), on, lr_schedule=drop).analyze(run)
    assert (planned.regime, planned.rule) == ("weak", "no_room_after_fit"), planned.reasons
    # the step it names is absolute: now (400) + the least delay at the planned η·λ
    from scipy import stats

    st = AnalyzerSettings()
    least = stats.lognorm(s=st.delay_log_sd, scale=st.delay_tau).ppf(st.budget_quantile)
    m = re.search(r"would end at step ([\d.]+)", planned.reasons[-1])
    assert m and float(m.group(1)) == pytest.approx(400 + least / (LR / 5 * WD), abs=1.5)


def test_a_long_stall_with_half_the_training_set_learnt_is_undetermined_and_said_so():
    # the same stall at 0.55-0.6: something was learnt (the benchmark's true strong needs
    # train accuracy never 0.5), so rule 6b says so and the run is still fitting
    st = AnalyzerSettings()
    a = Analyzer(header()).analyze(_stalled_run(0.003, acc0=0.55))
    assert (a.regime, a.rule, a.phase) == ("undetermined", "partial_stall", "fitting")
    assert a.findings[-1] == "partial_stall" and "long_stall" not in a.findings
    assert (f"train accuracy (mean of its last {st.train_acc_evals}) 0.598 set no new best "
            f"over the last Δτ {st.strong_long_stall_tau:g} (its best mean of "
            f"{st.train_acc_evals} there minus the one before: ") in a.reasons[-1]
    assert ("at or above 0.51 (50% of the way from its first 0.02 to 1): something was "
            "learnt, so not strong") in a.reasons[-1]
    # a climbing partial learner is plainly still fitting
    climbing = Analyzer(header()).analyze(_stalled_run(0.02, acc0=0.55, steps=2500))
    assert (climbing.regime, climbing.rule) == ("undetermined", "still_fitting")


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rise=hst.floats(0.0, 0.012), acc0=hst.floats(0.3, 0.36) | hst.floats(0.51, 0.65))
def test_long_stall_decides_exactly_when_the_rise_over_its_span_is_below_the_stall(rise, acc0):
    # accuracy stays below fit_min_acc (0.8) over the 2,500 steps (τ 10): a flat plateau
    # above it would be a relative fit, not a stall short of the fit; below half the way
    # from chance (0.02) to 1 (0.51) it stays below (≤ 0.48: strong), from there it stays
    # at or above (partial_stall)
    s = AnalyzerSettings()
    half = 0.02 + s.strong_max_train_acc * (1 - 0.02)
    want = rise * s.strong_long_stall_tau  # the accuracy rise over the span, exactly
    assume(abs(want - s.strong_stall_acc) > 0.002)  # away from sampling's edge
    a = Analyzer(header()).analyze(_stalled_run(rise, acc0, steps=2500))
    stalled = want < s.strong_stall_acc
    if acc0 < half:
        assert (a.regime == "strong") == stalled, (a.regime, a.reasons)
    else:
        assert a.regime == "undetermined", (a.regime, a.reasons)
        assert (a.rule == "partial_stall") == stalled, (a.rule, a.reasons)


def test_an_accuracy_swinging_on_a_plateau_sets_no_new_best_and_is_strong():
    """Train accuracy swings 0.37–0.43 with a period of Δτ 8 and ends on an upswing: over
    the last Δτ 4 it climbs 0.06 (a line through it rises too), but its best there stays
    below its best before — a stall, as patience counts it (tf-add λ 10 of the families
    benchmark: 0.33–0.44 for Δτ 80, `undetermined` to the end)."""
    st = AnalyzerSettings()
    run = make_run(lambda s, t: 25.0 * (1 + 0.01 * math.sin(s / 7)) + 75.0 * math.exp(-3 * t),
                   steps=4000, lr=1e-3, weight_decay=4.0,
                   acc_of=lambda s, t: 0.02 if s == 1 else
                   0.40 - 0.03 * math.cos(2 * math.pi * (t - 12.5) / 8.0),
                   loss_of=lambda s, t: 2.6)
    s = series_from_samples(run, st)
    window = s.tau >= s.tau[-1] - st.strong_long_stall_tau
    assert s.acc[-1] - s.acc[window][0] > st.strong_stall_acc  # climbing at the end
    a = Analyzer(header()).analyze(run)
    assert a.regime == "strong" and "long_stall" in a.findings, a.reasons
    assert "set no new best over the last Δτ 4" in a.reasons[0]


def _best_mean_by_hand(xs: list[float], evals: int) -> float:
    n = min(evals, len(xs))
    return max(math.fsum(xs[i:i + n]) / n for i in range(len(xs) - n + 1))


@hsettings(max_examples=60, deadline=None)
@given(values=hst.lists(hst.floats(0.0, 1.0), min_size=1, max_size=80),
       evals=hst.integers(1, 30))
def test_best_mean_against_brute_force(values, evals):
    """The best mean of ``evals`` consecutive values (all of them when fewer), against
    every window summed exactly by hand."""
    got = best_mean(np.array(values, dtype=np.float32), evals)
    assert got == pytest.approx(_best_mean_by_hand(values, evals), abs=1e-6)


def test_recent_and_best_train_accuracy_are_means_of_finite_evaluations():
    """``Run.recent_acc``: the mean of the last ``train_acc_evals`` finite evaluations;
    ``Run.best_acc``: their best consecutive mean — steps without one are skipped."""
    st = AnalyzerSettings(train_acc_evals=3)
    accs = [0.1, None, 0.9, 0.2, None, 0.3, 0.4, None]
    run = [x.model_copy(update={"metrics": {} if a is None else {"train_acc": a}}) for x, a in
           zip(make_run(lambda s, t: 10.0, steps=len(accs), lr=1.0, weight_decay=1.0), accs)]
    s = series_from_samples(run, st)
    r = rules.Run(s, rules.Context(facts_from_series(s, st)), st)
    assert r.recent_acc == pytest.approx((0.2 + 0.3 + 0.4) / 3)
    assert r.best_acc == pytest.approx((0.9 + 0.2 + 0.3) / 3)
    bare = series_from_samples(make_run(lambda s, t: 10.0, steps=3), st)
    none = rules.Run(bare, rules.Context(facts_from_series(bare, st)), st)
    assert none.recent_acc is None and none.best_acc is None


@hsettings(max_examples=40, deadline=None)
@given(values=hst.lists(hst.floats(0.0, 1.0), min_size=1, max_size=300),
       evals=hst.integers(1, 25))
def test_the_live_best_train_accuracy_reads_every_evaluation_not_the_history(values, evals):
    """``Run.best_acc`` is the run's exact fact: live, with a history thinned to 64 rows,
    it equals :func:`~nht_monitor.analysis.facts.best_mean` over every evaluation observed (in float64, to the
    last bit as the offline facts), where a best mean over the thinned history did not
    (stop 41: two strong runs read "still fitting" at the end of their budget)."""
    st = AnalyzerSettings(train_acc_evals=evals, history_points=64)
    samples = make_run(lambda s, t: 10.0, steps=len(values),
                       acc_of=lambda s, t: values[s - 1])
    live = Analyzer(header(), st)
    for sample in samples:
        live.observe(sample)
    want = _best_mean_by_hand(values, evals)
    assert live._tracker.facts.best_acc == pytest.approx(want, abs=1e-12)
    whole = facts_from_series(series_from_samples(samples, st), st)
    assert live._tracker.facts.best_acc == whole.best_acc


@hsettings(max_examples=40, deadline=None)
@given(values=hst.lists(hst.floats(0.0, 1.0), min_size=12, max_size=60),
       span=hst.floats(0.5, 8.0), evals=hst.sampled_from([1, 3, 20]))
def test_best_gain_against_brute_force(values, span, evals):
    """``best_gain`` = best accuracy of the last ``span`` of τ (from the evaluation at or
    before its start) minus the best before, each the best mean of ``evals`` consecutive
    evaluations, in float64 by hand."""
    st = AnalyzerSettings(train_acc_evals=evals)
    n = len(values)
    run = [x.model_copy(update={"metrics": {"train_acc": v}}) for x, v in
           zip(make_run(lambda s, t: 10.0, steps=n, lr=1.0, weight_decay=1.0), values)]
    s = series_from_samples(run, st)
    r = rules.Run(s, rules.Context(facts_from_series(s, st)), st)
    tau = np.arange(1, n + 1, dtype=np.float64)  # τ = step (lr·λ = 1)
    starts = [i for i in range(n) if tau[i] <= tau[-1] - span]
    if not starts:
        assert rules.best_gain(rules.training_metric(r, span), evals) is None
        return
    first = min(starts[-1], n - st.strong_stall_evals)
    want = (_best_mean_by_hand(values[first:], evals) - _best_mean_by_hand(values[:first], evals)
            if first > 0 else None)
    got = rules.best_gain(rules.training_metric(r, span), evals)
    assert (got is None) == (want is None)
    if want is not None:
        assert got == pytest.approx(want, abs=1e-6)


def test_a_collapsed_run_too_slow_to_fit_within_the_budget_is_strong():
    """With ``strong_too_slow`` (opt-in): norm collapsed, train accuracy 0.1 → creeping up
    0.03 per τ (not stalled: above ``strong_stall_acc`` over Δτ 1): at that rate it
    reaches ``fit_min_acc`` 0.8 ≈ 17 τ (4,300 steps) on — beyond a 4,000-step budget,
    within a 20,000-step one. Off (the default) the same run is still learning."""
    st = AnalyzerSettings(strong_too_slow=True)
    run = _stalled_run(0.03, acc0=0.1, chance=None)[:1500]
    off = Analyzer(header(budget_steps=4000)).analyze(run)
    assert off.regime == "undetermined" and "too_slow" not in off.findings, off.reasons
    a = Analyzer(header(budget_steps=4000), st).analyze(run)
    assert a.regime == "strong" and "too_slow" in a.findings and "collapsed" not in a.findings
    # train accuracy as rule 6 reads it: the mean of its last `train_acc_evals` evaluations
    acc = float(np.mean([s.metrics["train_acc"] for s in run[-st.train_acc_evals:]]))
    step = run[-1].step
    fit_step = step + (st.fit_min_acc - acc) / 0.03 * 250  # τ = step / 250
    assert f"rises at {wording.fmt(0.03)}/τ" in a.reasons[0]
    assert f"only at step {wording.fmt_step(fit_step)}, beyond the budget of 4000 steps" \
        in a.reasons[0]
    roomy = Analyzer(header(budget_steps=20_000), st).analyze(run)
    assert roomy.regime == "undetermined" and "too_slow" not in roomy.findings
    # a fast climb toward the fit is no strong verdict (with room after its fit, rule 6d
    # expects the transition)
    fast = Analyzer(header(budget_steps=4000), st).analyze(
        _stalled_run(0.1, acc0=0.1, chance=None)[:1200])
    assert (fast.regime, fast.rule) == ("intermediate", "room_after_fit"), fast.reasons
    # the rate is the least-squares slope over the last Δτ 1, against float64 by hand
    s = series_from_samples(run, st)
    r = rules.Run(s, rules.Context(facts_from_series(s, st), budget_steps=4000.0), st)
    rate, step_fit = rules.fit_too_late(r, acc, rules.training_line(r, st.strong_stall_tau))
    window = s.tau >= s.tau[-1] - st.strong_stall_tau
    x, y = s.tau[window].astype(np.float64), s.acc[window].astype(np.float64)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    assert rate == pytest.approx(slope, rel=1e-9) and rate == pytest.approx(0.03, rel=1e-6)
    assert step_fit == pytest.approx(fit_step, rel=1e-6)


def test_near_the_budgets_end_too_slow_decides_without_the_opt_in():
    """By default ``too_slow`` decides only once the budget ends no further ahead than
    the stall window reaches back (Δτ 2.6 = 650 steps here): the window's line is then
    extended no further than the span it was fitted on. The same run with 600 steps of
    budget left is strong; with 1,000 left it is still fitting."""
    run = _stalled_run(0.03, acc0=0.1, chance=None)[:1500]
    window = AnalyzerSettings().strong_stall_tau * 250  # τ = step / 250
    near = Analyzer(header(budget_steps=1500 + round(window) - 50)).analyze(run)
    assert near.regime == "strong" and "too_slow" in near.findings, near.reasons
    assert f"beyond the budget of {1500 + round(window) - 50} steps" in near.reasons[0]
    far = Analyzer(header(budget_steps=2500)).analyze(run)
    assert far.regime == "undetermined" and "too_slow" not in far.findings, far.reasons
    # the window in steps, against the rows by hand: evaluations back to τ_last − 2.6
    st = AnalyzerSettings()
    s = series_from_samples(run, st)
    for budget, want in ((1500 + window - 1, True), (2500.0, False), (None, False)):
        r = rules.Run(s, rules.Context(facts_from_series(s, st), budget_steps=budget), st)
        logged = np.nonzero(np.isfinite(s.acc))[0]
        start = logged[s.tau[logged] <= s.tau[-1] - st.strong_stall_tau][-1]
        by_hand = budget is not None and budget - s.step[-1] <= s.step[-1] - s.step[start]
        read = rules.training_line(r, st.strong_stall_tau)
        assert rules.budget_within_window(r, read) == by_hand == want


@given(steps=hst.lists(hst.floats(0.0, 0.5), min_size=1, max_size=60),
       logged=hst.lists(hst.booleans(), min_size=60, max_size=60),
       span=hst.floats(0.05, 3.0), evals=hst.integers(2, 8))
@hsettings(max_examples=200, deadline=None)
def test_training_window_against_brute_force(steps, logged, span, evals):
    """Rule 6's window, written out: the logged rows; none while fewer than ``evals`` or
    while none lies at or before τ_last − span; else from the last row at or before that
    τ, moved back so that at least ``evals`` rows are in it."""
    tau = np.cumsum(np.array(steps))
    values = np.array([0.5 if logged[i] else math.nan for i in range(len(tau))])
    got = rules.training_window(tau, values, span, evals)
    rows = [i for i in range(len(tau)) if logged[i]]
    if len(rows) < evals:
        assert got is None
        return
    before = [k for k, i in enumerate(rows) if tau[i] <= tau[rows[-1]] - span]
    if not before:
        assert got is None
        return
    first = min(before[-1], len(rows) - evals)
    assert got is not None and got.tolist() == rows[first:]


def _climbing(steps: int = 800, lr_of=None, rise: float = 0.5) -> list:
    """Still fitting: train accuracy chance (0.02) at the first evaluation, then 0.2 +
    ``rise`` per τ (0.6 at step 800), the norm growing, τ = step/1000."""
    return make_run(lambda s, t: 10.0 + s / 100, steps=steps, lr=LR, weight_decay=WD,
                    lr_of=lr_of, acc_of=lambda s, t: 0.02 if s == 1 else 0.2 + rise * t,
                    loss_of=lambda s, t: 2.0)


@hsettings(max_examples=40, deadline=None)
@given(budget=hst.integers(1000, 8000))
def test_room_after_fit_is_intermediate_exactly_when_the_projected_fit_leaves_the_laws_delay(
        budget):
    """Train accuracy's line (0.5 per τ, 0.6 at step 800) reaches 0.99 in Δτ 0.78; with
    the law's ``expect_quantile`` of the delay after it (scipy float64) that is step 800 +
    (0.78 + quantile) / (η·λ): a budget at or after it is ``intermediate`` before the fit
    (rule 6d, pending, no forecast step), one before it still fitting."""
    from scipy import stats

    st = AnalyzerSettings()
    delay = stats.lognorm(s=st.delay_log_sd, scale=st.delay_tau).ppf(st.expect_quantile)
    eta = (st.fit_train_acc - 0.6) / 0.5
    ends = 800 + (eta + delay) / (LR * WD)
    assume(abs(budget - ends) > 2)
    a = Analyzer(header(num_steps=budget)).analyze(_climbing())
    if budget >= ends:
        assert (a.regime, a.rule, a.phase) == ("intermediate", "room_after_fit", "fitting")
        assert a.transition.status == "pending" and a.transition.forecast_step is None
        m = re.search(r"still fitting, and train accuracy's line \(at 0\.6 now\) reaches 0\.99 in Δτ "
                      r"([\d.]+); with the law's delay after it \(10% quantile: ([\d.]+) τ\) "
                      rf"that is step ([\d.]+), within the budget of {budget} steps",
                      a.reasons[-1])
        assert m, a.reasons
        assert float(m.group(1)) == pytest.approx(eta, rel=1e-2)
        assert float(m.group(2)) == pytest.approx(delay, rel=1e-2)
        assert float(m.group(3)) == pytest.approx(ends, abs=1.5)
    else:
        assert (a.regime, a.rule) == ("undetermined", "still_fitting"), a.reasons


def test_room_after_fit_needs_half_learnt_a_rising_line_a_budget_and_the_setting():
    roomy = header(num_steps=100_000)
    a = Analyzer(roomy).analyze(_climbing())
    assert a.rule == "room_after_fit"
    # the advice says the regime was read before the fit (no contracting norm yet)
    assert a.advice.action == "keep" and a.advice.text.startswith(
        "Intermediate regime, read before the fit: the budget leaves room for the law's "
        "delay after it at λ = 1."), a.advice.text
    # a weak run still fitting for another reason (no weight decay) is not "read before
    # the fit"
    no_wd = make_run(lambda s, t: 10.0 + s / 100, steps=800, lr=LR, weight_decay=0.0,
                     acc_of=lambda s, t: 0.3, loss_of=lambda s, t: 2.0)
    b = Analyzer(roomy).analyze(no_wd)
    assert (b.regime, b.rule, b.phase) == ("weak", "no_decay_clock", "fitting")
    assert "read before the fit" not in b.advice.text, b.advice.text
    below_half = Analyzer(roomy).analyze(_climbing(steps=500))  # acc 0.45
    assert (below_half.regime, below_half.rule) == ("undetermined", "still_fitting")
    falling = make_run(lambda s, t: 10.0 + s / 100, steps=800, lr=LR, weight_decay=WD,
                       acc_of=lambda s, t: 0.7 - 0.1 * t, loss_of=lambda s, t: 2.0)
    assert Analyzer(roomy).analyze(falling).rule == "still_fitting"
    assert Analyzer(header()).analyze(_climbing()).rule == "still_fitting"  # no budget
    off = AnalyzerSettings(expect_before_fit=False)
    assert Analyzer(roomy, off).analyze(_climbing()).rule == "still_fitting"
    no_law = AnalyzerSettings(delay_tau=None)
    assert Analyzer(roomy, no_law).analyze(_climbing()).rule == "still_fitting"


def test_room_after_fit_counts_along_the_planned_learning_rate():
    """At the current η·λ the fit and the median delay end by step 4,100, within 6,000;
    the plan drops the lr 5× after step 800, which leaves too little: still fitting."""
    drop = lambda s: LR if s <= 800 else LR / 5  # noqa: E731
    run = _climbing(lr_of=drop)
    assert Analyzer(header(num_steps=6000)).analyze(run).rule == "room_after_fit"
    planned = Analyzer(header(num_steps=6000), lr_schedule=drop).analyze(run)
    assert (planned.regime, planned.rule) == ("undetermined", "still_fitting"), planned.reasons


def test_fit_projection_against_numpy_on_a_noisy_climb():
    """:func:`rules.fit_projection` is the least-squares line over the last half of the τ
    so far (from the evaluation at or before its start): its level at the last evaluation
    and its Δτ to ``fit_train_acc``, checked against numpy's float64 polyfit on a noisy
    climb."""
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 0.03, 2000)
    run = make_run(lambda s, t: 10.0 + s / 100, steps=900, lr=LR, weight_decay=WD,
                   acc_of=lambda s, t: 0.2 + 0.5 * t + noise[s], loss_of=lambda s, t: 2.0)
    st = AnalyzerSettings()
    s = series_from_samples(run, st)
    r = rules.Run(s, rules.Context(facts_from_series(s, st)), st)
    tau, acc = s.tau, s.acc
    start = int(np.searchsorted(tau, tau[-1] - 0.5 * (tau[-1] - tau[0]), side="right")) - 1
    slope, at_end = np.polyfit(tau[start:] - tau[-1], acc[start:], 1)
    fit = rules.fit_projection(r)
    assert fit.level == pytest.approx(at_end, rel=1e-9)
    assert fit.eta == pytest.approx((st.fit_train_acc - at_end) / slope, rel=1e-9)


def test_room_after_fit_reads_the_lines_level_not_a_noisy_last_evaluation():
    """Minibatch accuracy swings ±0.06 around a climb through 0.5: rule 6d reads the line's
    level, so one evaluation either side of 0.5 does not flip the regime."""
    swing = lambda s, t: (0.02 if s == 1  # noqa: E731 (chance at the first evaluation)
                          else 0.2 + 0.5 * t + (0.06 if s % 2 else -0.06))
    roomy = header(num_steps=100_000)
    for steps, rule in ((560, "still_fitting"), (561, "still_fitting"),
                        (700, "room_after_fit"), (701, "room_after_fit")):
        run = make_run(lambda s, t: 10.0 + s / 100, steps=steps, lr=LR, weight_decay=WD,
                       acc_of=swing, loss_of=lambda s, t: 2.0)
        assert Analyzer(roomy).analyze(run).rule == rule, (steps, run[-1].metrics)


def test_a_budget_spent_short_of_the_fit_with_nothing_learnt_is_strong():
    """Norm collapsed, train accuracy 0.3 → 0.48 over the run (climbing, so neither
    stalled nor suppressed: 47 % of the way from chance): still fitting until the budget is
    spent, then ``strong`` (``spent_short``); a best at or above 0.5 is no such verdict."""
    run = _stalled_run(0.03, acc0=0.3, steps=1500)
    last = run[-1].step
    best = best_mean(np.array([s.metrics["train_acc"] for s in run]),
                           AnalyzerSettings().train_acc_evals)
    assert best < 0.5
    before = Analyzer(header(budget_steps=last + 1)).analyze(run)
    assert (before.regime, before.rule) == ("undetermined", "still_fitting"), before.reasons
    assert Analyzer(header()).analyze(run).regime == "undetermined"  # no budget
    a = Analyzer(header(budget_steps=last)).analyze(run)
    assert (a.regime, a.rule, a.phase) == ("strong", "strong", "fitting")
    assert a.findings[-2:] == ["spent_short", "from_init"]  # the norm never grew
    norm = run[-1].norm
    peak = max(s.norm for s in run)
    assert a.reasons[-2] == (
        f"the budget of {last} steps is spent short of the fit: train accuracy's best over 20 "
        f"evaluations {wording.fmt(best)} never reached 0.51 (50% of the way from its first 0.02 to 1) "
        f"and the norm collapsed to "
        f"{wording.fmt(100 * norm / peak, 3)}% of its peak {wording.fmt(peak)} (< 50%): "
        "nothing learnt under this weight decay"), a.reasons
    learnt_half = _stalled_run(0.03, acc0=0.45, steps=1500)  # best 0.63
    b = Analyzer(header(budget_steps=last)).analyze(learnt_half)
    assert b.regime != "strong" and "spent_short" not in b.findings, b.reasons


@pytest.mark.parametrize("step, text", [(5604.79, "5605"), (4100.0, "4100"), (0.4, "0"),
                                        (12_345_678.9, "1.23457e+07"), (None, "n/a")])
def test_projected_steps_read_as_whole_numbers(step, text):
    """Steps the rules project (a fit, a transition, an interval's ends) are whole numbers
    in the reasons; only beyond 10⁷ do they fall back to 6 significant digits."""
    assert wording.fmt_step(step) == text


def test_room_after_fit_says_a_whole_step():
    a = Analyzer(header(num_steps=100_000)).analyze(_climbing())
    assert a.rule == "room_after_fit"
    assert re.search(r"that is step \d+, within the budget of 100000 steps", a.reasons[-1]), \
        a.reasons


@pytest.mark.parametrize("regime, status, expected", [
    ("undetermined", "not_expected", "unknown"),  # the default: no verdict yet
    ("undetermined", "pending", "pending"),  # a status its rule set is kept
    ("weak", "not_expected", "not_expected"),
    ("strong", "not_expected", "not_expected"),
    ("intermediate", "pending", "pending"),
])
def test_an_undetermined_verdict_claims_nothing_of_the_transition(regime, status, expected):
    transition = rules.unknown_when_undetermined(regime, Transition(status=status))
    assert transition.status == expected


@pytest.mark.parametrize("x, text", [(0.098, "9.8%"), (0.0999, "9.99%"), (0.05, "5%"),
                                     (0.094, "9%"), (0.0, "0%")])
def test_a_chance_below_its_bound_never_reads_as_the_bound(x, text):
    """A public run's rule 7e said "10% < 10%" (its chance was 0.098, stop 67)."""
    assert wording.percent_below(x, 0.1) == text
