"""Sweep-aware calibration: transitioned runs of a sweep set the law's delay prior for the
others (analysis/sweep.py), offline (``--reference``) and live (``watch(sweep=...)``)."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.series import read_series, series_from_samples
from nht_monitor.analysis.sweep import (
    Reference,
    SweepReferences,
    calibrate,
    observed_delay,
    peak_rate,
    reference_paths,
)
from nht_monitor.cli import main
from nht_monitor.runlog import RunLogWriter
from nht_monitor.runlog.schema import RunHeader
from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

LR = 1e-3
RATE, RATIO = 0.8, 2.0
DELAY = math.log(RATIO) / RATE  # the synthetic law delay from V_sc, the same at every λ


def _header(run_id: str, sweep: str | None = None, **config) -> RunHeader:
    return RunHeader(run_id=run_id, started_at="2026-12-02T00:00:00Z",
                     model={"class_name": "M", "n_params": 1}, layers=["a"], config=config,
                     sweep=sweep)


def _samples(weight_decay: float, steps: int = 3000, regrow: bool = False):
    norm_of, val_of, head_of, tau_t = grokking(rate=RATE, ratio=RATIO, lr=LR,
                                               weight_decay=weight_decay)
    if regrow:  # the norm grows back above V_sc after the transition
        base, later = norm_of, tau_t + 0.05
        norm_of = lambda s, t: base(s, t) if t < later else 100.0 * (1 + t - later)  # noqa: E731
    return make_run(norm_of, steps=steps, lr=LR, weight_decay=weight_decay,
                    acc_of=fit_acc(200), loss_of=fit_loss(200), val_of=val_of,
                    head_of=head_of)


def _write(path, samples, header) -> str:
    writer = RunLogWriter(path, header)
    for s in samples:
        writer.write(s.model_dump(mode="python", exclude_none=True))
    writer.close()
    return str(path)


def _sweep(tmp_path, sweep: str | None = "s1") -> dict[float, str]:
    """A synthetic λ sweep: the larger λ, the earlier the transition (same Δτ)."""
    return {wd: _write(tmp_path / f"wd{wd:g}.jsonl", _samples(wd), _header(f"wd{wd:g}", sweep))
            for wd in (0.5, 1.0, 2.0)}


def _transition_step(samples) -> int:
    return next(s.step for s in samples if s.metrics["val_acc"] >= 0.9)


# ----------------------------------------------------------------- observed delay
def test_observed_delay_is_tau_from_v_sc_to_the_transition():
    samples = _samples(1.0)
    found = observed_delay(series_from_samples(samples, AnalyzerSettings()), AnalyzerSettings())
    step = _transition_step(samples)
    by_step = {s.step: s for s in samples}
    assert found.transition_step == step
    assert found.v_sc_step == 200  # the synthetic peak: the fit step
    assert found.delay_tau == pytest.approx(by_step[step].tau - by_step[200].tau, rel=1e-12)
    assert found.delay_tau == pytest.approx(DELAY, abs=2 * LR)  # one step of τ
    assert found.rate == pytest.approx(LR * 1.0, rel=1e-9)  # ηλ: the clock's rate


def test_observed_delay_ignores_a_norm_that_grows_back_after_the_transition():
    settings = AnalyzerSettings()
    plain = observed_delay(series_from_samples(_samples(1.0), settings), settings)
    regrown = observed_delay(series_from_samples(_samples(1.0, regrow=True), settings), settings)
    assert regrown == plain


def test_observed_delay_is_none_before_the_transition_and_unchanged_after():
    settings = AnalyzerSettings()
    samples = _samples(1.0)
    series = series_from_samples(samples, settings)
    step = _transition_step(samples)
    assert observed_delay(series.until(step - 1), settings) is None
    assert observed_delay(series.until(step), settings) == observed_delay(series, settings)


# ----------------------------------------------------------------- the calibration
def _brute_force_predictive(logs, mu0, sd0, sd_w):
    """Posterior of the sweep mean on a fine grid (float64), then the predictive mean and
    sd of a new run's log Δτ by numerical integration."""
    m = np.linspace(mu0 - 10 * sd0, mu0 + 10 * sd0, 400_001)
    logp = -0.5 * ((m - mu0) / sd0) ** 2
    for x in logs:
        logp += -0.5 * ((x - m) / sd_w) ** 2
    w = np.exp(logp - logp.max())
    w /= w.sum()
    mean = float((w * m).sum())
    var_m = float((w * (m - mean) ** 2).sum())
    return mean, math.sqrt(var_m + sd_w ** 2)


@pytest.mark.parametrize("delays", [[0.5], [0.5, 0.6], [2.0, 3.0, 2.5, 4.0], [9.0] * 8])
def test_calibration_matches_a_brute_force_posterior(delays):
    settings = AnalyzerSettings(delay_tau=1.17, delay_log_sd=0.5, sweep_log_sd=0.3,
                                sweep_scatter_dof=None, sweep_reference_dof=None)
    cal = calibrate([Reference(f"r{i}", d, 100.0) for i, d in enumerate(delays)], settings)
    mean, sd = _brute_force_predictive([math.log(d) for d in delays], math.log(1.17), 0.5, 0.3)
    assert math.log(cal.delay_tau) == pytest.approx(mean, abs=1e-6)
    assert cal.delay_log_sd == pytest.approx(sd, abs=1e-6)
    applied = cal.apply(settings)
    assert (applied.delay_tau, applied.delay_log_sd) == (cal.delay_tau, cal.delay_log_sd)


def _brute_force_line(points, rate, mu0, sd0, sd_b, sd_w):
    """The line log Δτ = a + b·log(rate_ref / rate) on a float64 (a, b) grid: predictive
    mean and sd of this run's log Δτ (a, plus the scatter) and the posterior mean of b."""
    a = np.linspace(mu0 - 8 * sd0, mu0 + 8 * sd0, 1601)[:, None]
    b = np.linspace(-8 * sd_b, 8 * sd_b, 1601)[None, :]
    logp = -0.5 * ((a - mu0) / sd0) ** 2 - 0.5 * (b / sd_b) ** 2
    for r, d in points:
        logp = logp - 0.5 * ((math.log(d) - a - b * math.log(r / rate)) / sd_w) ** 2
    w = np.exp(logp - logp.max())
    w /= w.sum()
    mean_a, mean_b = float((w * a).sum()), float((w * b).sum())
    var_a = float((w * (a - mean_a) ** 2).sum())
    return mean_a, math.sqrt(var_a + sd_w ** 2), mean_b


@pytest.mark.parametrize("points,rate", [
    ([(1e-3, 0.6), (5e-4, 0.8)], 2.5e-4),             # two λ, extrapolated to a smaller one
    ([(4e-3, 2.0), (2e-3, 2.2), (1e-3, 2.9), (1e-3, 2.5)], 2e-3),  # interpolated
    ([(1e-2, 1.0), (1e-3, 1.0)], 1e-4),               # flat: the law
])
def test_the_sweep_line_matches_a_brute_force_posterior(points, rate):
    settings = AnalyzerSettings(delay_tau=2.0, delay_log_sd=0.7, sweep_log_sd=0.15,
                                sweep_slope_sd=0.34, sweep_scatter_dof=None,
                                sweep_reference_dof=None)
    refs = [Reference(f"r{i}", d, 100.0, rate=r) for i, (r, d) in enumerate(points)]
    cal = calibrate(refs, settings, rate)
    mean, sd, slope = _brute_force_line(points, rate, math.log(2.0), 0.7, 0.34, 0.15)
    assert math.log(cal.delay_tau) == pytest.approx(mean, abs=1e-4)
    assert cal.delay_log_sd == pytest.approx(sd, abs=1e-4)
    assert cal.slope == pytest.approx(slope, abs=1e-4)
    assert "trend d log Δτ / d log ηλ" in cal.describe()


def test_the_line_extrapolates_a_trend_the_flat_mean_misses():
    """Δτ growing as ηλ falls (the transformer sweeps): the run at a quarter of the
    references' smaller rate is forecast a longer delay than the references' mean, and
    further from it with more references on the same line."""
    settings = AnalyzerSettings()
    line = [(r, 0.6 * (1e-3 / r) ** 0.35) for r in (1e-3, 5e-4)]
    refs = [Reference(f"r{i}", d, 1.0, rate=r) for i, (r, d) in enumerate(line)]
    flat = calibrate(refs, settings)  # no rate for this run: the flat mean
    sloped = calibrate(refs, settings, 1.25e-4)
    assert flat.slope is None and sloped.slope < 0
    assert sloped.delay_tau > flat.delay_tau
    assert sloped.delay_log_sd > flat.delay_log_sd  # an extrapolation is less certain


def test_references_at_one_rate_or_without_rates_keep_the_flat_mean():
    settings = AnalyzerSettings()
    same = [Reference("a", 1.0, 1.0, rate=1e-3), Reference("b", 1.4, 1.0, rate=1e-3)]
    unknown = [Reference("a", 1.0, 1.0, rate=1e-3), Reference("b", 1.4, 1.0)]
    flat = calibrate(same, settings)
    for refs in (same, unknown):
        cal = calibrate(refs, settings, 2e-4)
        assert cal.slope is None and cal.delay_tau == pytest.approx(flat.delay_tau)
    off = calibrate([Reference("a", 1.0, 1.0, rate=1e-3), Reference("b", 2.0, 1.0, rate=5e-4)],
                    settings.model_copy(update={"sweep_slope_sd": 0.0}), 1e-4)
    assert off.slope is None


@pytest.mark.parametrize("rate, says", [
    (1e-4, "the nearest reference ran at 20× this run's ηλ"),  # the refs at 2e-3 and 5e-3
    (4.5e-4, "the nearest reference ran at 4.44× this run's ηλ"),  # FAR_REFERENCES = 4
    (5.5e-4, None),  # 3.6×
    (1e-3, None),
    (1e-2, None),  # 2× above the nearest
    (2e-2, "the nearest reference ran at 1/4 of this run's ηλ"),
    (None, None)])  # the run's rate unknown: nothing measured
def test_references_far_from_the_run_s_rate_are_said_to_be_extrapolated(rate, says):
    """A run calibrated only on references ≥ 4× away in ηλ says so (a family's transformer
    at λ 0.1 calibrated on two seeds at λ 2 read `intermediate` where its prior read
    `weak`); nearer ones say nothing."""
    refs = [Reference("a", 1.0, 1.0, rate=2e-3), Reference("b", 1.4, 1.0, rate=5e-3)]
    text = calibrate(refs, AnalyzerSettings(), rate).describe()
    far = [part for part in text.split("; ") if "nearest reference" in part]
    if says is None:
        assert not far, text
    else:
        assert far == [f"{says}: extrapolated that far (on transformers the delay in τ grows "
                       "as λ falls)"], text


def test_peak_rate_is_the_clock_s_largest_rate():
    step = np.array([0, 10, 20, 30, 40], dtype=float)
    tau = np.cumsum([0, 1e-3, 3e-3, 2e-3, 0.0])
    assert peak_rate(step, tau) == pytest.approx(3e-4)
    assert math.isnan(peak_rate(step[:1], tau[:1]))


def test_more_references_pull_harder_and_never_below_a_fixed_sweep_scatter():
    settings = AnalyzerSettings(sweep_scatter_dof=None)
    one = calibrate([Reference("a", 5.0, 1.0)], settings)
    many = calibrate([Reference(str(i), 5.0, 1.0) for i in range(20)], settings)
    assert settings.delay_tau < one.delay_tau < many.delay_tau < 5.0
    assert many.delay_log_sd < one.delay_log_sd
    assert many.delay_log_sd >= settings.sweep_log_sd


def _exact_predictive(logs, mu0, sd0, scatter0, dof0):
    """Median and 80 %-interval half-width / z(0.9) of a new run's log Δτ under the flat
    model with an unknown scatter: level ~ N(mu0, sd0²), scatter² ~ scaled-inv-χ²(dof0,
    scatter0²), each log Δτ ~ N(level, scatter²) — the level integrated out in closed
    form, the scatter on a float64 grid."""
    x = np.asarray(logs, dtype=np.float64)
    n, d = x.shape[0], x - mu0
    sig = np.exp(np.linspace(math.log(scatter0) - 4, math.log(scatter0) + 4, 20001))
    s2 = sig ** 2
    logml = -0.5 * ((n - 1) * np.log(s2) + np.log(s2 + n * sd0 ** 2)
                    + (d @ d - sd0 ** 2 * d.sum() ** 2 / (s2 + n * sd0 ** 2)) / s2)
    logw = logml - dof0 * np.log(sig) - dof0 * scatter0 ** 2 / (2 * s2)  # density in log σ
    w = np.exp(logw - logw.max())
    w /= w.sum()
    precision = sd0 ** -2 + n / s2
    mean = (mu0 / sd0 ** 2 + x.sum() / s2) / precision
    sd = np.sqrt(1 / precision + s2)
    from scipy.special import ndtr
    ys = np.linspace(mu0 - 6, mu0 + 6, 2401)
    cdf = np.array([float(w @ ndtr((y - mean) / sd)) for y in ys])
    q = lambda p: float(np.interp(p, cdf, ys))  # noqa: E731
    return q(0.5), (q(0.9) - q(0.1)) / 2 / 1.2815515655446004


@pytest.mark.parametrize("delays", [[1.5], [1.5, 3.5], [2.0, 2.2], [2.0, 3.0, 2.5, 4.0],
                                    [1.4, 6.8, 2.0], [2.0] * 6])
def test_the_sweep_s_own_scatter_matches_the_exact_predictive(delays):
    """With ``sweep_scatter_dof`` the scatter is estimated from the references; the
    belief's median and 80 % interval match the exact Bayesian predictive (scatter
    integrated on a grid) to 0.02 in log and 6 % in width (normal references)."""
    settings = AnalyzerSettings(delay_tau=2.5, delay_log_sd=0.7, sweep_log_sd=0.25,
                                sweep_scatter_dof=4, sweep_reference_dof=None)
    cal = calibrate([Reference(f"r{i}", d, 1.0) for i, d in enumerate(delays)], settings)
    median, half = _exact_predictive([math.log(d) for d in delays], math.log(2.5), 0.7,
                                     0.25, 4)
    assert math.log(cal.delay_tau) == pytest.approx(median, abs=0.02)
    assert cal.delay_log_sd == pytest.approx(half, rel=0.06)


def test_disagreeing_references_widen_the_belief_agreeing_ones_narrow_it():
    settings = AnalyzerSettings(sweep_log_sd=0.25, sweep_scatter_dof=4)
    fixed = settings.model_copy(update={"sweep_scatter_dof": None, "sweep_reference_dof": None})
    agree = [Reference("a", 2.0, 1.0), Reference("b", 2.0, 1.0)]
    disagree = [Reference("a", 1.0, 1.0), Reference("b", 4.0, 1.0)]  # same geometric mean
    assert calibrate(disagree, fixed).delay_log_sd == pytest.approx(
        calibrate(agree, fixed).delay_log_sd)
    assert calibrate(disagree, settings).delay_log_sd > 1.5 * calibrate(agree, settings).delay_log_sd
    many = calibrate([Reference(str(i), 2.0, 1.0) for i in range(20)], settings)
    assert many.delay_log_sd < settings.sweep_log_sd  # the sweep's own scatter: small
    wide, narrow = calibrate(disagree, settings), calibrate(agree, settings)
    assert wide.scatter > settings.sweep_log_sd > narrow.scatter
    assert f"the sweep's scatter {wide.scatter:.2f} in log Δτ" in wide.describe()
    assert calibrate(disagree, fixed).scatter is None
    assert "scatter" not in calibrate(disagree, fixed).describe()



@pytest.mark.parametrize("delays", [[2.0, 2.2, 1.9, 0.3], [0.5, 3.0], [2.0, 2.4, 9.0]])
def test_student_references_find_the_posterior_mode(delays):
    """With Student's t references (``sweep_reference_dof``) at a fixed scatter, the
    reweighted line is the posterior mode of the level: normal prior × Π t_ν, maximised on
    a float64 grid; an outlying reference pulls it less than a normal one does."""
    from scipy import stats

    nu, sd_w, mu0, sd0 = 4.0, 0.25, math.log(1.17), 0.5
    settings = AnalyzerSettings(delay_tau=1.17, delay_log_sd=sd0, sweep_log_sd=sd_w,
                                sweep_scatter_dof=None, sweep_reference_dof=nu)
    refs = [Reference(f"r{i}", d, 100.0) for i, d in enumerate(delays)]
    got = math.log(calibrate(refs, settings).delay_tau)
    a = np.linspace(mu0 - 10 * sd0, mu0 + 10 * sd0, 2_000_001)
    logp = stats.norm.logpdf(a, mu0, sd0)
    for d in delays:
        logp += stats.t.logpdf(math.log(d), nu, loc=a, scale=sd_w)
    assert got == pytest.approx(float(a[np.argmax(logp)]), abs=1e-4)
    if delays[0] == 2.0 and len(delays) == 4:  # three agree, one is far off
        normal = math.log(calibrate(refs, settings.model_copy(
            update={"sweep_reference_dof": None})).delay_tau)
        agreeing = np.mean(np.log(delays[:3]))
        assert abs(got - agreeing) < 0.5 * abs(normal - agreeing)


def test_sweep_scatter_and_student_factor_match_their_definitions():
    from scipy import stats

    from nht_monitor.analysis.sweep import student_factor, sweep_scatter
    r = np.array([0.3, -0.1, -0.2])
    sd, dof = sweep_scatter(r, 0.25, 4.0)
    assert dof == 6.0
    assert sd == pytest.approx(math.sqrt((4 * 0.0625 + 0.09 + 0.01 + 0.04) / 6), rel=1e-12)
    assert sweep_scatter(np.array([0.5]), 0.25, 4.0) == pytest.approx(
        (math.sqrt((0.25 + 0.25) / 4), 4.0))
    for nu in (1.0, 3.0, 7.5, 40.0):
        assert student_factor(nu) == pytest.approx(stats.t.ppf(0.9, nu) / stats.norm.ppf(0.9),
                                                   rel=1e-9)
    assert student_factor(math.inf) == 1.0


def test_no_calibration_without_references_or_without_a_law_prior():
    assert calibrate([], AnalyzerSettings()) is None
    assert calibrate([Reference("a", 1.0, 1.0)], AnalyzerSettings(delay_tau=None)) is None


def test_bad_sweep_settings_fail_at_construction():
    for bad in ({"sweep_log_sd": 0}, {"reference_refresh": -1}, {"reference_runs": 3}):
        with pytest.raises(ValueError):
            AnalyzerSettings(**bad)
    assert AnalyzerSettings(reference_runs="a/*.jsonl").reference_runs == ("a/*.jsonl",)


# ----------------------------------------------------------------- the references
def test_replay_counts_a_reference_from_its_transition_step_on(tmp_path):
    logs = _sweep(tmp_path)
    settings = AnalyzerSettings()
    refs = SweepReferences([str(tmp_path / "*.jsonl")], settings, exclude_run_id="wd0.5",
                           replay=True)
    first = _transition_step(_samples(2.0))
    second = _transition_step(_samples(1.0))
    assert refs.calibration(first - 1) is None
    assert [r.run_id for r in refs.calibration(first).references] == ["wd2"]
    assert sorted(r.run_id for r in refs.calibration(second).references) == ["wd1", "wd2"]
    assert all(r.delay_tau == pytest.approx(DELAY, abs=2 * LR * 2.0)
               for r in refs.calibration(None).references)
    assert len(logs) == 3
    # none transitioned yet: said, not silently dropped (the run itself is not counted)
    assert refs.describe_unused(first - 1) == ("2 reference runs read, none transitioned by "
                                               f"step {first - 1}: the forecast keeps the "
                                               "law's prior")
    no_prior = SweepReferences([str(tmp_path / "*.jsonl")],
                               AnalyzerSettings(delay_tau=None), replay=True)
    no_prior.calibration(first - 1)
    assert no_prior.describe_unused(first - 1) is None


def test_live_untransitioned_references_are_counted_without_the_run_itself(tmp_path):
    """Live, a run not yet transitioned has no delay to tell its id by; the count of runs
    read still leaves out the run itself and runs of other sweeps (danielmamay/grokking
    under Optuna said "8 reference runs read" of a sweep of 8, itself included)."""
    for wd in (0.5, 1.0, 2.0):
        _write(tmp_path / f"wd{wd:g}.jsonl", _samples(wd, steps=150), _header(f"wd{wd:g}", "s1"))
    _write(tmp_path / "other.jsonl", _samples(1.5, steps=150), _header("other", "s2"))
    refs = SweepReferences([str(tmp_path / "*.jsonl")], AnalyzerSettings(), sweep="s1",
                           exclude_run_id="wd0.5")
    assert refs.calibration() is None
    assert refs.describe_unused(150) == ("2 reference runs read, none transitioned yet: the "
                                         "forecast keeps the law's prior")


def test_sweep_filter_unreadable_files_and_the_live_refresh(tmp_path, caplog):
    _sweep(tmp_path)
    _write(tmp_path / "other.jsonl", _samples(1.5), _header("other", "s2"))
    (tmp_path / "broken.jsonl").write_text("not a log\n")
    settings = AnalyzerSettings()
    with caplog.at_level(logging.WARNING):
        refs = SweepReferences([str(tmp_path / "*.jsonl")], settings, sweep="s1",
                               refresh=3600.0)
        ids = sorted(r.run_id for r in refs.calibration().references)
        refs.calibration()
    assert ids == ["wd0.5", "wd1", "wd2"]
    assert sum("broken.jsonl" in r.message for r in caplog.records) == 1  # once
    _write(tmp_path / "late.jsonl", _samples(3.0), _header("late", "s1"))
    assert len(refs.calibration().references) == 3  # within the refresh interval
    refs.refresh = 0.0
    assert len(refs.calibration().references) == 4


def test_reference_paths_expand_globs_and_keep_plain_paths(tmp_path):
    _sweep(tmp_path)
    found = reference_paths([str(tmp_path / "wd*.jsonl"), str(tmp_path / "wd1.jsonl"),
                             tmp_path / "missing.jsonl"])
    assert [p.name for p in found] == ["missing.jsonl", "wd0.5.jsonl", "wd1.jsonl", "wd2.jsonl"]


# ----------------------------------------------------------------- the forecast moves
def test_references_replace_the_prior_in_the_forecast_and_say_so(tmp_path):
    """A sweep whose delay (6 τ, as slow transformer sweeps) is far from the default prior
    (3.11): the run's forecast at half its delay is much closer with two transitioned
    references."""
    rate = math.log(RATIO) / 6.0

    def run(wd, run_id):
        norm_of, val_of, head_of, _ = grokking(rate=rate, ratio=RATIO, lr=LR, weight_decay=wd)
        samples = make_run(norm_of, steps=20000, lr=LR, weight_decay=wd, acc_of=fit_acc(200),
                           loss_of=fit_loss(200), val_of=val_of, head_of=head_of)
        _write(tmp_path / f"{run_id}.jsonl", samples, _header(run_id, "s"))
        return samples

    first_ref = min(_transition_step(run(wd, f"ref{wd:g}")) for wd in (2.0, 3.0))
    target = run(0.8, "target")
    actual = _transition_step(target)
    until = 200 + (actual - 200) // 2
    path = str(tmp_path / "target.jsonl")
    plain = _json(["analyze", path, "--until", str(until), "--json", "--no-references"])
    referenced = _json(["analyze", path, "--until", str(until), "--json",
                        "--reference", str(tmp_path / "ref*.jsonl")])
    # without either option, the references the run read live: its sweep's logs beside it
    assert _json(["analyze", path, "--until", str(until), "--json"]) == referenced
    err_plain = abs(plain["transition"]["forecast_step"] - actual) / actual
    err_ref = abs(referenced["transition"]["forecast_step"] - actual) / actual
    assert err_ref < 0.5 * err_plain
    assert err_ref < 0.15
    line = [r for r in referenced["reasons"] if r.startswith("forecast calibrated on 2")]
    assert line and "ref2 Δτ 6.00" in line[0] and "ref3 Δτ 6.00" in line[0]
    assert not any("calibrated" in r for r in plain["reasons"])
    early = _json(["analyze", path, "--until", str(first_ref - 1), "--json",
                   "--reference", str(tmp_path / "ref*.jsonl")])  # before any transition
    assert "forecast" in early["findings"]
    assert (f"2 reference runs read, none transitioned by step {first_ref - 1}: the forecast "
            "keeps the law's prior") in early["reasons"]


@pytest.mark.parametrize("sweep", ["s", None])
def test_the_report_reads_the_references_the_run_read_live(tmp_path, sweep):
    """The report's offline assessment of a run of a sweep reads, as the live run did, the
    other logs of its sweep beside it (a public sweep's report forecast 15,532 where its
    live run said 16,773, calibrated on the sweep); a log of another sweep, or a run in no
    sweep, reads none."""
    from nht_monitor.report.data import assess
    from nht_monitor.runlog import read_run

    rate = math.log(RATIO) / 6.0

    def run(wd, run_id, run_sweep, steps=20000):
        norm_of, val_of, head_of, _ = grokking(rate=rate, ratio=RATIO, lr=LR, weight_decay=wd)
        samples = make_run(norm_of, steps=steps, lr=LR, weight_decay=wd, acc_of=fit_acc(200),
                           loss_of=fit_loss(200), val_of=val_of, head_of=head_of)
        return _write(tmp_path / f"{run_id}.jsonl", samples, _header(run_id, run_sweep))

    for wd in (2.0, 3.0):
        run(wd, f"ref{wd:g}", "s")
    run(2.5, "stranger", "other")
    target = read_run(run(0.8, "target", sweep, steps=6000))
    assessment, source = assess(target)
    calibrated = [r for r in assessment.reasons if r.startswith("forecast calibrated on")]
    assert source == "offline analysis"
    if sweep is None:
        assert not calibrated
    else:
        assert calibrated and calibrated[0].startswith("forecast calibrated on 2 ")
        assert "ref2 Δτ" in calibrated[0] and "stranger" not in calibrated[0]


def test_the_reports_replayed_bands_read_the_references_as_they_stood(tmp_path):
    """A run in a sweep with too few live assessments for bands of its own: its replayed
    regime bands read the sweep's references as the run did live, each from its own
    transition on — `weak` once the first reference (Δτ 6.9, beyond the 5.8 of τ the
    budget leaves) has transitioned, not before; without the sweep, `intermediate` to the
    end (the law's prior fits the budget)."""
    from nht_monitor.report.data import regime_history
    from nht_monitor.runlog import read_run

    slow = 0.1  # Δτ = log 2 / 0.1 ≈ 6.9

    def run(wd, run_id, run_sweep, steps, **config):
        norm_of, val_of, head_of, _ = grokking(rate=slow, ratio=2.0, lr=LR, weight_decay=wd)
        samples = make_run(norm_of, steps=steps, lr=LR, weight_decay=wd, acc_of=fit_acc(200),
                           loss_of=fit_loss(200), val_of=val_of, head_of=head_of)
        return samples, _write(tmp_path / f"{run_id}.jsonl", samples,
                               _header(run_id, run_sweep, **config))

    first = min(_transition_step(run(wd, f"ref{wd:g}", "s", 20000)[0]) for wd in (4.0, 6.0))
    bands = {sweep: [(b.regime, b.start) for b in regime_history(read_run(
        run(1.0, f"target-{sweep}", sweep, 2000, budget_steps=6000)[1]))]
             for sweep in ("s", None)}
    assert [r for r, _ in bands[None]] == ["undetermined", "intermediate"]
    assert [r for r, _ in bands["s"]] == ["undetermined", "intermediate", "weak"]
    assert first <= bands["s"][-1][1] <= first + 2000 / 60  # the next replayed assessment


def _json(argv) -> dict:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(argv) == 0
    return json.loads(buf.getvalue())


def test_backtest_and_scorecard_take_references(tmp_path):
    logs = _sweep(tmp_path)
    glob_all = str(tmp_path / "*.jsonl")
    plain = _json(["backtest", logs[0.5], "--json"])
    bt = _json(["backtest", logs[0.5], "--json", "--reference", glob_all])
    assert bt["delay_tau"] == pytest.approx(DELAY, abs=LR)
    half = {p["fraction"]: p for p in bt["points"]}[0.5]
    half_plain = {p["fraction"]: p for p in plain["points"]}[0.5]
    # wd2 had transitioned by then: the backtest's forecast there is analyze's with the
    # same references read up to that step, not the plain one
    there = _json(["analyze", logs[0.5], "--until", str(half["step"]), "--json",
                   "--reference", glob_all])["transition"]
    assert half["forecast_step"] == pytest.approx(there["forecast_step"])
    assert half["forecast_step"] != pytest.approx(half_plain["forecast_step"], rel=0.01)
    assert half["covered"]
    card = _json(["scorecard", *logs.values(), "--json", "--reference", glob_all])
    assert card["runs"] and len(card["runs"]) == 3


def test_a_missing_reference_is_one_line_and_exit_2(tmp_path, capsys):
    logs = _sweep(tmp_path)
    for command in ("analyze", "backtest"):
        assert main([command, logs[1.0], "--reference", str(tmp_path / "nope*.jsonl")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no such run log" in err


def test_a_header_cannot_make_a_command_read_other_files(tmp_path):
    """``reference_runs`` recorded in a (crafted) header is ignored: only --reference reads."""
    _sweep(tmp_path)
    samples = _samples(0.5)
    crafted = _header("crafted", analysis={"reference_runs": [str(tmp_path / "*.jsonl")]})
    path = _write(tmp_path / "crafted.jsonl", samples, crafted)
    out = _json(["analyze", path, "--json"])
    assert not any("calibrated" in r for r in out["reasons"])


def test_analyzer_survives_a_failing_reference_source():
    class Broken:
        def calibration(self, step):
            raise RuntimeError("disk gone")

    samples = _samples(1.0)
    a = Analyzer(_header("x"), references=Broken()).analyze(samples)
    assert a.regime == "intermediate"


# ----------------------------------------------------------------- live
def test_watch_sweep_calibrates_on_the_sweep_logs_in_log_dir(tmp_path, caplog):
    """The sweep's logs in ``log_dir`` calibrate the run, never its own log (a public
    sweep warned "reference …/wd0.1.jsonl skipped: … empty file, no run-log header" of its
    own, still empty log on every run) nor a run just starting (an empty file: read once it
    has a header, without a warning)."""
    torch = pytest.importorskip("torch")
    from nht_monitor import watch

    _sweep(tmp_path, sweep="s1")
    _write(tmp_path / "stranger.jsonl", _samples(1.5), _header("stranger", None))
    (tmp_path / "starting.jsonl").write_bytes(b"")
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    with caplog.at_level(logging.WARNING, logger="nht_monitor"), watch(
            model, opt, log_dir=tmp_path, run_id="live", sweep="s1", assess_every=1,
            assess_interval=0.0, write_interval=0.0) as mon:
        mon._recorder.analyzer.references.refresh = 0.0
        for i in range(12):
            opt.zero_grad()
            model(torch.randn(8, 4)).sum().backward()
            opt.step()
            mon.log(train_loss=1.0, train_acc=0.5)
            if i == 5:
                _write(tmp_path / "starting.jsonl", _samples(3.0), _header("starting", "s1"))
    assert not [r.message for r in caplog.records if "skipped" in r.message]
    used = mon._recorder.analyzer.references.last  # a linear model: no forecast to word
    assert sorted(r.run_id for r in used.references) == ["starting", "wd0.5", "wd1", "wd2"]
    assert not any("calibrated" in r for r in mon.latest_assessment.reasons)
    header = json.loads((tmp_path / "live.jsonl").read_text().splitlines()[0])
    assert header["sweep"] == "s1"


def test_watch_reference_runs_are_used_but_not_recorded(tmp_path):
    torch = pytest.importorskip("torch")
    from nht_monitor import watch

    refs = tmp_path / "refs"
    refs.mkdir()
    _sweep(refs, sweep=None)
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    with watch(model, opt, log_dir=tmp_path / "runs", run_id="live", assess_every=1,
               assess_interval=0.0, write_interval=0.0,
               analysis={"reference_runs": str(refs / "*.jsonl")}) as mon:
        for _ in range(12):
            opt.zero_grad()
            model(torch.randn(8, 4)).sum().backward()
            opt.step()
    assert len(mon._recorder.analyzer.references.last.references) == 3
    header = json.loads((tmp_path / "runs" / "live.jsonl").read_text().splitlines()[0])
    assert "reference_runs" not in json.dumps(header)
    series = read_series(tmp_path / "runs" / "live.jsonl")
    assert len(series) == 12


def test_sidecar_runs_of_one_sweep_calibrate_each_other(tmp_path):
    pytest.importorskip("prometheus_client")
    from nht_monitor.exporter.sidecar import RunLogDirectory

    logs = tmp_path / "logs"
    logs.mkdir()
    _sweep(logs, sweep="s1")
    outside = tmp_path / "outside.jsonl"  # a transitioned run of s1, outside the directory
    _write(outside, _samples(4.0), _header("outside", "s1"))
    (logs / "link.jsonl").symlink_to(outside)
    _write(logs / "target.jsonl", _samples(0.25, steps=600), _header("target", "s1"))
    _write(logs / "loner.jsonl", _samples(0.25, steps=600), _header("loner", None))
    directory = RunLogDirectory(logs, assess_every=1)
    directory.poll()
    analyzers = {run.run_id: run.analyzer for run in directory._runs.values()}
    used = analyzers["target"].references.last
    assert sorted(r.run_id for r in used.references) == ["wd0.5", "wd1", "wd2"]  # not outside
    assert analyzers["loner"].references is None
    assert sorted(r.run_id for r in analyzers["wd1"].references.last.references) == ["wd0.5",
                                                                                    "wd2"]
    assert len(directory._sweeps) == 1  # one shared reader for the sweep


def _assess(tmp_path, header, samples, references: bool):
    """The run ``target`` assessed alone or with the logs in ``tmp_path`` as references."""
    settings = AnalyzerSettings()
    refs = (SweepReferences([str(tmp_path / "*.jsonl")], settings, exclude_run_id="target")
            if references else None)
    return Analyzer(header, settings, references=refs).analyze(samples)


def test_a_law_verdict_without_a_forecast_says_its_references_and_the_advice_uses_them(
        tmp_path):
    """Still fitting, half learnt and rising, room for the law after the fit (rule 6d): no
    forecast step, but the law's delay read was the references' — the reasons say so, and
    the advice sizes λ on them instead of saying that none were given."""
    _sweep(tmp_path)
    samples = make_run(lambda s, t: 10.0 + s / 100.0, steps=1500, lr=LR, weight_decay=1.0,
                       acc_of=fit_acc(2500), loss_of=fit_loss(2500),
                       val_of=lambda s, t: 0.01)
    header = _header("target", "s1", budget_steps=20000)
    with_refs, without = (_assess(tmp_path, header, samples, refs) for refs in (True, False))
    assert with_refs.rule == without.rule == "room_after_fit"
    line = [r for r in with_refs.reasons if r.startswith("forecast calibrated on 3 transitioned")]
    assert len(line) == 1 and "wd0.5 Δτ" in line[0]
    assert not any("calibrated" in r for r in without.reasons)
    assert with_refs.advice.basis == "sweep"
    assert "Calibrated on 3 runs of this task, 3 reached the transition" in with_refs.advice.text
    assert "no runs of this task that reached the transition were given" in without.advice.text


def test_the_advice_sees_the_strong_side_of_the_references(tmp_path):
    """A run at λ 0.25 whose decay forecasts the transition past its 4,000-step budget
    asked to go to λ ≈ 0.95; a reference at λ 0.8 never fitted in 3,000 steps and one at
    0.5 fitted (not transitioned): λ is raised only to 0.5, and the text says why; with
    the λ 0.8 run the only reference, no number (the run itself fitted below it). Read
    in a replay at step 300, the λ 0.8 run has not yet run twice this run's fit step: it
    may still be learning and bounds nothing."""
    strong = make_run(lambda s, t: 10.0 * 0.999 ** s, steps=3000, lr=LR, weight_decay=0.8,
                      acc_of=lambda s, t: 0.02, loss_of=lambda s, t: 4.0,
                      val_of=lambda s, t: 0.01)
    _write(tmp_path / "wd0.8.jsonl", strong, _header("wd0.8", "s1"))
    _write(tmp_path / "wd0.5.jsonl", _samples(0.5, steps=1200), _header("wd0.5", "s1"))
    seen = _samples(0.25, steps=3500)
    header = _header("target", "s1", budget_steps=4000)
    alone, with_refs = (_assess(tmp_path, header, seen, refs).advice for refs in (False, True))
    assert alone.suggested_weight_decay == pytest.approx(0.949, abs=1e-3)
    assert with_refs.action == "raise_weight_decay"
    assert with_refs.suggested_weight_decay == pytest.approx(0.5)
    assert "would reach λ = 0.8, where training did not fit" in with_refs.text
    alone_dir = tmp_path / "only-strong"  # the run itself is what fitted below it
    alone_dir.mkdir()
    _write(alone_dir / "wd0.8.jsonl", strong, _header("wd0.8", "s1"))
    only = _assess(alone_dir, header, seen, True).advice
    assert only.action == "none" and only.suggested_weight_decay is None
    assert "No λ between 0.25 and it was seen to fit" in only.text
    replay = SweepReferences([str(tmp_path / "*.jsonl")], AnalyzerSettings(), replay=True)
    assert replay.calibration(300.0) is None
    early = replay.advice_calibration(300.0, fit_step=200.0)
    assert [r.run_id for r in early.runs] == ["wd0.5"] and early.strong_rate is None
    late = replay.advice_calibration(3000.0, fit_step=200.0)
    assert late.strong_rate == pytest.approx(0.8 * LR)


def test_a_reference_that_transitioned_without_a_law_delay_is_said_so(tmp_path):
    """A reference whose held-out accuracy reached 0.9 while its norm never came down
    (no law delay: as a public sweep's λ 1, whose fit and transition coincided) is not
    "none transitioned": the line counts it, and still keeps the prior."""
    flat = make_run(lambda s, t: 20.0, steps=1200, lr=LR, weight_decay=1.0,
                    acc_of=fit_acc(200), loss_of=fit_loss(200),
                    val_of=lambda s, t: 0.95 if s >= 400 else 0.1)
    _write(tmp_path / "flat.jsonl", flat, _header("flat"))
    refs = SweepReferences([str(tmp_path / "*.jsonl")], AnalyzerSettings(), replay=True)
    assert refs.calibration(1000.0) is None
    assert refs.describe_unused(300.0) == ("1 reference run read, none transitioned by step "
                                           "300: the forecast keeps the law's prior")
    assert refs.describe_unused(1000.0).startswith(
        "1 reference run read, 1 transitioned by step 1000 but none with a law delay")
