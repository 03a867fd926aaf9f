"""``assess_log``/``log_settings``: the one "assess a saved log" function, against the
analyzer run by hand; and the scorecard's line fit and rank correlation against scipy."""

from __future__ import annotations

import itertools
import math
import random
import warnings

import numpy as np
import pytest

from nht_monitor.analysis import Analyzer, AnalyzerSettings
from nht_monitor.analysis.assess import assess_log, log_settings
from nht_monitor.analysis.scorecard import linear_fit, spearman
from nht_monitor.analysis.settings import recorded_settings
from nht_monitor.runlog import RunLogWriter, read_run
from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run
from tests.analysis.test_rules import header


def _write(path, samples, hdr) -> str:
    writer = RunLogWriter(path, hdr)
    for sample in samples:
        writer.write(sample.model_dump(mode="python", exclude_none=True))
    writer.close()
    return str(path)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    d = tmp_path_factory.mktemp("assess")
    norm_of, val_of, head_of, _ = grokking(ratio=1.31)
    run = make_run(norm_of, steps=900, acc_of=fit_acc(200), loss_of=fit_loss(200),
                   val_of=val_of, head_of=head_of)
    return {"plain": _write(d / "plain.jsonl", run, header()),
            "recorded": _write(d / "recorded.jsonl", run, header(analysis={"delay_tau": 0.5}))}


def test_assess_log_is_the_analyzer_on_the_log_with_its_settings(logs):
    """Every (log, overrides, until) of a small grid: the same assessment as reading the
    log and running the Analyzer with the recorded settings updated by the overrides."""
    grid = itertools.product(logs.values(),
                             [{}, {"delay_tau": "0.8"}, {"delay_tau": None},
                              {"advice": False}, {"advice_budget_steps": 3000}],
                             [None, 150, 400, 10_000])
    for path, overrides, until in grid:
        log = read_run(path)
        expected = Analyzer(log.header, recorded_settings(log.header, **overrides)).analyze(
            log.samples, until=until)
        for source in (path, log):  # a path, or a log already read
            got = assess_log(source, overrides, until=until)
            assert got.model_dump() == expected.model_dump(), (path, overrides, until)


def test_recorded_settings_are_used_and_overrides_win(logs):
    assert log_settings(read_run(logs["recorded"]).header).delay_tau == 0.5
    assert log_settings(read_run(logs["recorded"]).header, {"delay_tau": "0.6"}).delay_tau == 0.6
    assert log_settings(read_run(logs["plain"]).header) == AnalyzerSettings()
    a = assess_log(logs["recorded"], until=400)
    assert a.run_id == "synthetic"
    assert any("delay from V_sc median 0.5 τ" in r for r in a.reasons), a.reasons
    default = assess_log(logs["recorded"], {"delay_tau": "1.17"}, until=400)
    assert a.transition.forecast_tau < default.transition.forecast_tau


def test_bad_settings_are_one_line_errors_naming_their_source():
    with pytest.raises(ValueError, match=r"^bad --setting: delay_taux: "):
        log_settings(header(), {"delay_taux": "1"})
    with pytest.raises(ValueError, match=r"^bad --setting: delay_tau: "):
        log_settings(header(), {"delay_tau": "abc"})
    broken = header(analysis={"delay_tau": "abc", "nonsense": 1})
    with pytest.raises(ValueError, match=r"recorded in the log header.*delay_tau.*nonsense"):
        log_settings(broken)
    with pytest.raises(ValueError, match=r"^bad --setting: min_samples: "):
        log_settings(broken, {"min_samples": "1"}, lenient=True)
    # the report: malformed recorded settings give way to the defaults (plus overrides)
    assert log_settings(broken, lenient=True) == AnalyzerSettings()
    assert log_settings(broken, {"advice": False}, lenient=True) == AnalyzerSettings(advice=False)
    # an override fixing the recorded problem is not an error
    assert log_settings(header(analysis={"delay_tau": "abc"}), {"delay_tau": "1"}).delay_tau == 1


def test_a_log_without_samples_and_a_missing_log(tmp_path):
    a = assess_log(_write(tmp_path / "empty.jsonl", [], header()))
    assert a.regime == "undetermined" and a.run_id == "synthetic"
    with pytest.raises(FileNotFoundError):
        assess_log(tmp_path / "missing.jsonl")


def test_linear_fit_and_spearman_match_scipy():
    from scipy import stats

    rng = random.Random(0)
    for _ in range(2000):
        n = rng.randint(2, 8)
        x = [float(rng.choice(range(4))) if rng.random() < 0.5 else rng.gauss(0, 1)
             for _ in range(n)]
        y = [float(rng.choice(range(3))) if rng.random() < 0.3 else rng.gauss(0, 1)
             for _ in range(n)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _same(spearman(x, y), stats.spearmanr(x, y).statistic, (x, y))
            if len(set(x)) < 2:
                with pytest.raises(ValueError):
                    linear_fit(x, y)
                continue
            ref = stats.linregress(x, y)
        fit = linear_fit(x, y)
        _same(fit["slope"], ref.slope, (x, y))
        _same(fit["intercept"], ref.intercept, (x, y))
        _same(fit["r2"], ref.rvalue ** 2, (x, y))
        assert fit["n"] == n


def _same(got: float, want: float, case) -> None:
    want = float(want)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-9,
                                                                          abs=1e-12), case


def test_spearman_of_ties_is_on_average_ranks():
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(
        np.corrcoef([1, 2.5, 2.5, 4], [1, 2, 3, 4])[0, 1])
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))
