"""benchmarks/signals.py: each signal's forecast against the exact answer on synthetic families."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import signals  # noqa: E402

from tests.benchmarks.test_families import synthetic_family  # noqa: E402


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Three families whose runs all grok at step 250: V_sc at step 50 (τ 0.5), every layer
    decaying as exp(−0.3 τ) afterwards, so each norm signal drops by 0.3 × 2.0 = 0.6."""
    cache = tmp_path_factory.mktemp("signals")
    for name in ("a", "b", "c"):
        synthetic_family(cache, name, [250, 250])
    res, families = signals.study(cache)
    return cache, res, families


def test_log_drops_are_the_exact_decay(study) -> None:
    _, res, _ = study
    assert sum(len(c) for c in res["cases"].values()) == 6
    for name in ("total", "head", "embed", "logit_scale"):
        med, sd, share = res["spread"][name]
        factor = 2.0 if name == "logit_scale" else 1.0  # two layers, each dropping 0.6
        assert med == pytest.approx(0.6 * factor, abs=0.01)
        assert sd == pytest.approx(0.0, abs=1e-9)
        assert share == 1.0
    assert res["spread"]["train_loss"][0] == pytest.approx(0.0)  # flat after the fit


@pytest.mark.parametrize("name", ["total", "head", "embed", "prior", "embed+prior"])
def test_decaying_signals_forecast_the_transition_to_the_step(study, name: str) -> None:
    _, res, families = study
    for fam in families:
        for f in signals.FRACTIONS:
            errs = res["errors"][(fam, name, f)]
            assert len(errs) == 2
            assert max(errs) <= 2 / 250  # within two steps of step 250


def test_a_flat_signal_makes_no_forecast(study) -> None:
    _, res, families = study
    assert all(res["made"][(fam, "train_loss", f)] == 0 for fam in families for f in signals.FRACTIONS)
    assert not any(res["errors"].get((fam, "train_loss", f)) for fam in families
                   for f in signals.FRACTIONS)


def test_render_and_cli(study, tmp_path: Path, capsys) -> None:
    cache, res, families = study
    text = signals.render(res, families, cache)
    assert "| total | 0% (6/6) | 0% (6/6) | 0% (6/6) | 0% |" in text
    assert "| train_loss | – (0/6) | – (0/6) | – (0/6) | – |" in text
    out = tmp_path / "signals.md"
    assert signals.main(["--cache", str(cache), "--out", str(out)]) == 0
    assert out.read_text().startswith("## Signals for the forecast")
    assert signals.main(["--cache", str(tmp_path / "empty")]) == 2
    assert "no delayed runs cached" in capsys.readouterr().err


def test_a_rising_signal_forecasts_forward_in_time() -> None:
    # a signal that grows as +0.3 τ after V_sc (τ 0.5, step 50) up to the transition at
    # step 250 (τ 2.5): its calibrated "drop" is −0.6, and every forecast lies at step 250
    case = object.__new__(signals.Case)
    case.step = np.arange(1.0, 401.0)
    case.tau = case.step / 100
    case.k, case.j = 49, 249
    case.actual, case.fit_step = 250.0, 40.0
    case.cols = {"head": np.where(case.tau < 0.5, 0.0, 0.3 * (case.tau - 0.5))}
    for f in signals.FRACTIONS:
        assert case.forecast("head", f, -0.6, (0.0, 1.0)) == pytest.approx(250.0, abs=2)
    assert case.forecast("head", 0.5, +0.6, (0.0, 1.0)) is None  # moving away from it
