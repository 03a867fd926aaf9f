"""Exact series names, types, labels and values of the collector on a private registry."""

from __future__ import annotations

import math
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from nht_monitor.analysis.assessment import (
    PHASES,
    REGIMES,
    TRANSITION_STATUSES,
    HeadSignal,
)
from nht_monitor.exporter import (
    OTHER_LAYERS,
    SERIES,
    RunSnapshot,
    SnapshotCollector,
    markdown_table,
)
from nht_monitor.exporter.exposition import TextRenderer
from tests.exporter.snapshots import full_snapshot, make_header, make_sample

ROOT = Path(__file__).resolve().parents[2]
NO_LAUNCH = {"launch": "", "rank": "0"}  # the job labels without a launcher

EXPECTED_NAMES = {
    "nht_layer_weight_norm", "nht_layer_grad_norm", "nht_weight_norm",
    "nht_head_weight_norm", "nht_grad_norm", "nht_weight_norm_peak", "nht_tau",
    "nht_learning_rate", "nht_weight_decay", "nht_step", "nht_logged_value", "nht_regime",
    "nht_regime_confidence", "nht_phase", "nht_head_regime", "nht_head_lead_steps",
    "nht_head_lead_measured",
    "nht_transition_status", "nht_transition_steps_remaining",
    "nht_transition_forecast_step", "nht_transition_forecast_step_low",
    "nht_transition_forecast_step_high", "nht_transition_forecast_tau",
    "nht_transition_chance_in_budget", "nht_transition_relapsed", "nht_decay_rate",
    "nht_cns_ratio", "nht_cns_holds", "nht_suggested_weight_decay", "nht_samples_total",
    "nht_errors_total", "nht_last_sample_timestamp_seconds", "nht_run_info",
}


def registry_for(*snapshots: RunSnapshot, **kwargs) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: snapshots, **kwargs))
    return registry


def exposed(registry: CollectorRegistry) -> dict[str, list]:
    """Sample name -> samples, as Prometheus sees them (parsed from the text format)."""
    by_name: dict[str, list] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            by_name.setdefault(sample.name, []).append(sample)
    return by_name


def test_exposed_names_are_exactly_the_documented_series():
    samples = exposed(registry_for(full_snapshot()))
    assert set(samples) == EXPECTED_NAMES
    assert {spec.name for spec in SERIES} == EXPECTED_NAMES


def test_every_series_carries_the_run_label_and_its_documented_labels():
    samples = exposed(registry_for(full_snapshot("run-a"), full_snapshot("run-b")))
    specs = {spec.name: spec for spec in SERIES}
    for name, series in samples.items():
        assert {s.labels["run"] for s in series} == {"run-a", "run-b"}, name
        for sample in series:
            assert set(sample.labels) == set(specs[name].labels), name


def test_types_follow_prometheus_naming():
    text = generate_latest(registry_for(full_snapshot())).decode()
    types = dict(line.split()[2:4] for line in text.splitlines() if line.startswith("# TYPE"))
    for spec in SERIES:
        expected = "counter" if spec.type == "counter" else "gauge"
        assert types[spec.name] == expected, spec.name
        assert spec.name.startswith("nht_")
        assert spec.name.endswith("_total") == (spec.type == "counter"), spec.name


def test_values_come_from_the_snapshot():
    snapshot = full_snapshot("run-a")
    registry = registry_for(snapshot)
    value = registry.get_sample_value
    sample, assessment = snapshot.sample, snapshot.assessment
    assert value("nht_layer_weight_norm", {"run": "run-a", **NO_LAUNCH, "layer": "encoder.1"}) == \
        sample.layer_norms["encoder.1"]
    assert value("nht_layer_grad_norm", {"run": "run-a", **NO_LAUNCH, "layer": "head"}) == \
        sample.layer_grad_norms["head"]
    assert value("nht_weight_norm", {"run": "run-a", **NO_LAUNCH}) == sample.norm
    assert value("nht_head_weight_norm", {"run": "run-a", **NO_LAUNCH}) == sample.head_norm
    assert value("nht_grad_norm", {"run": "run-a", **NO_LAUNCH}) == sample.grad_norm
    assert value("nht_tau", {"run": "run-a", **NO_LAUNCH}) == sample.tau
    assert value("nht_learning_rate", {"run": "run-a", **NO_LAUNCH}) == 0.01
    assert value("nht_weight_decay", {"run": "run-a", **NO_LAUNCH}) == 0.4
    assert value("nht_step", {"run": "run-a", **NO_LAUNCH}) == 40
    assert value("nht_logged_value", {"run": "run-a", **NO_LAUNCH, "metric": "train_loss"}) == 0.25
    assert value("nht_samples_total", {"run": "run-a", **NO_LAUNCH}) == 40
    assert value("nht_errors_total", {"run": "run-a", **NO_LAUNCH}) == 2
    assert value("nht_last_sample_timestamp_seconds", {"run": "run-a", **NO_LAUNCH}) == sample.time
    assert value("nht_transition_steps_remaining", {"run": "run-a", **NO_LAUNCH}) == 860
    assert value("nht_transition_forecast_step", {"run": "run-a", **NO_LAUNCH}) == 900
    assert value("nht_transition_forecast_step_low", {"run": "run-a", **NO_LAUNCH}) == 700
    assert value("nht_transition_forecast_step_high", {"run": "run-a", **NO_LAUNCH}) == 1200
    assert value("nht_transition_forecast_tau", {"run": "run-a", **NO_LAUNCH}) == 3.6
    assert value("nht_transition_chance_in_budget", {"run": "run-a", **NO_LAUNCH}) == 0.7
    assert value("nht_transition_relapsed", {"run": "run-a", **NO_LAUNCH}) == 0.0
    assert value("nht_cns_ratio", {"run": "run-a", **NO_LAUNCH}) == 3.0
    assert value("nht_cns_holds", {"run": "run-a", **NO_LAUNCH}) == 1.0
    assert value("nht_head_lead_steps", {"run": "run-a", **NO_LAUNCH}) == 120
    assert value("nht_head_lead_measured", {"run": "run-a", **NO_LAUNCH}) == 1.0
    assert value("nht_decay_rate", {"run": "run-a", **NO_LAUNCH}) == assessment.decay_rate
    assert value("nht_weight_norm_peak", {"run": "run-a", **NO_LAUNCH}) == 31.5
    assert value("nht_regime_confidence", {"run": "run-a", **NO_LAUNCH}) == 0.8
    assert value("nht_suggested_weight_decay", {"run": "run-a", **NO_LAUNCH}) == 0.4
    assert value("nht_run_info", {"run": "run-a", **NO_LAUNCH, "source": "monitor",
                                  "model": "TinyNet", "head": "head"}) == 1.0


def test_an_open_upper_end_leaves_its_series_absent():
    snapshot = full_snapshot("run-a")
    t = snapshot.assessment.transition.model_copy(update={"interval": (700.0, None)})
    registry = registry_for(replace(snapshot, assessment=snapshot.assessment.model_copy(
        update={"transition": t})))
    value = registry.get_sample_value
    assert value("nht_transition_forecast_step_low", {"run": "run-a", **NO_LAUNCH}) == 700
    assert value("nht_transition_forecast_step_high", {"run": "run-a", **NO_LAUNCH}) is None
    assert value("nht_transition_forecast_step", {"run": "run-a", **NO_LAUNCH}) == 900


@pytest.mark.parametrize("regime", REGIMES)
def test_regime_is_a_state_set_with_one_series_per_regime(regime):
    registry = registry_for(full_snapshot(regime=regime))
    values = {r: registry.get_sample_value("nht_regime", {"run": "run-a", **NO_LAUNCH, "regime": r})
              for r in REGIMES}
    assert values == {r: (1.0 if r == regime else 0.0) for r in REGIMES}


def test_phase_and_transition_status_are_state_sets():
    registry = registry_for(full_snapshot())
    phases = {p: registry.get_sample_value("nht_phase", {"run": "run-a", **NO_LAUNCH, "phase": p})
              for p in PHASES}
    assert phases == {p: float(p == "shortcut") for p in PHASES}
    statuses = {s: registry.get_sample_value("nht_transition_status",
                                             {"run": "run-a", **NO_LAUNCH, "status": s})
                for s in TRANSITION_STATUSES}
    assert statuses == {s: float(s == "pending") for s in TRANSITION_STATUSES}


def test_before_the_first_sample_only_counters_info_and_undetermined_regime():
    snapshot = RunSnapshot(run_id="fresh", header=make_header("fresh"), sample=None,
                           assessment=None, samples_total=0, errors_total=0,
                           last_sample_time=None)
    samples = exposed(registry_for(snapshot))
    assert set(samples) == {"nht_samples_total", "nht_errors_total", "nht_run_info",
                            "nht_regime"}
    assert {s.labels["regime"]: s.value for s in samples["nht_regime"]} == \
        {r: float(r == "undetermined") for r in REGIMES}


@pytest.mark.parametrize("head", [
    HeadSignal(regime="intermediate", confidence=0.7, flagged_step=300, lead_steps=None),
    HeadSignal(regime="undetermined"),
    None,
], ids=["head-flagged-total-not", "neither-flagged", "no-head"])
def test_no_lead_measured_is_a_zero_not_an_absent_series(head):
    snapshot = full_snapshot("run-a")
    assessment = snapshot.assessment.model_copy(update={"head": head})
    samples = exposed(registry_for(replace(snapshot, assessment=assessment)))
    assert "nht_head_lead_steps" not in samples
    assert [(s.labels, s.value) for s in samples["nht_head_lead_measured"]] == \
        [({"run": "run-a", **NO_LAUNCH}, 0.0)]
    assert ("nht_head_regime" in samples) == (head is not None)


@pytest.mark.parametrize("lead", [-80.0, 0.0, 300.0])
def test_a_measured_lead_of_any_sign_is_exported_with_measured_one(lead):
    snapshot = full_snapshot("run-a")
    head = snapshot.assessment.head.model_copy(update={"lead_steps": lead})
    assessment = snapshot.assessment.model_copy(update={"head": head})
    registry = registry_for(replace(snapshot, assessment=assessment))
    assert registry.get_sample_value("nht_head_lead_steps", {"run": "run-a", **NO_LAUNCH}) == lead
    assert registry.get_sample_value("nht_head_lead_measured", {"run": "run-a", **NO_LAUNCH}) == 1.0


def test_layers_top_groups_by_top_level_module_as_l2_norm():
    layers = ["encoder.0", "encoder.1", "decoder.0", "head"]
    snapshot = full_snapshot(layers=layers)
    registry = registry_for(snapshot, layers="top")
    norms = snapshot.sample.layer_norms
    got = {s.labels["layer"]: s.value for s in exposed(registry)["nht_layer_weight_norm"]}
    assert got.keys() == {"encoder", "decoder", "head"}
    assert got["encoder"] == pytest.approx(math.hypot(norms["encoder.0"], norms["encoder.1"]))
    assert got["decoder"] == pytest.approx(norms["decoder.0"])
    assert got["head"] == pytest.approx(norms["head"])


def test_layers_modules_caps_and_aggregates_the_rest_into_other():
    layers = [f"block{i}.fc" for i in range(10)]
    snapshot = full_snapshot(layers=layers)
    registry = registry_for(snapshot, layers="modules", max_layers=3)
    norms = snapshot.sample.layer_norms
    for name, source in (("nht_layer_weight_norm", norms),
                         ("nht_layer_grad_norm", snapshot.sample.layer_grad_norms)):
        got = {s.labels["layer"]: s.value for s in exposed(registry)[name]}
        assert got.keys() == {"block0.fc", "block1.fc", "block2.fc", OTHER_LAYERS}
        rest = [source[layer] for layer in layers[3:]]
        assert got[OTHER_LAYERS] == pytest.approx(math.sqrt(sum(v * v for v in rest)))
        # the total over exported labels keeps the model's total norm
        assert math.sqrt(sum(v * v for v in got.values())) == pytest.approx(
            math.sqrt(sum(v * v for v in source.values())))


def test_bad_layers_mode_is_rejected_at_construction():
    with pytest.raises(ValueError, match="layers mode"):
        SnapshotCollector(lambda: (), layers="every")


def test_non_finite_norms_are_exported_as_nan_and_inf():
    header = make_header("div")
    sample = make_sample(header.layers).model_copy(update={
        "norm": math.inf, "layer_norms": {"encoder.0": math.nan, "encoder.1": math.inf,
                                          "head": 1.0}})
    snapshot = replace(full_snapshot("div", regime="diverged"), header=header, sample=sample)
    registry = registry_for(snapshot)
    assert registry.get_sample_value("nht_weight_norm", {"run": "div", **NO_LAUNCH}) == math.inf
    assert math.isnan(registry.get_sample_value("nht_layer_weight_norm",
                                                {"run": "div", **NO_LAUNCH, "layer": "encoder.0"}))


def test_fast_renderer_is_byte_identical_to_generate_latest():
    odd = ['enc"oder.0', "back\\slash", "new\nline", "ünïcode.层"]
    snapshots = (full_snapshot("run-a"), full_snapshot("run-b", layers=odd))
    for mode in ("all", "top", "modules"):
        registry = registry_for(*snapshots, layers=mode, max_layers=2)
        renderer = TextRenderer()
        assert renderer.render(registry.collect()) == generate_latest(registry)
        assert renderer.render(registry.collect()) == generate_latest(registry)  # cached


def test_promtool_check_metrics_is_clean_for_the_exposition():
    text = generate_latest(registry_for(full_snapshot("run-a"), full_snapshot("run-b")))
    result = subprocess.run(["promtool", "check", "metrics"], input=text,
                            capture_output=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout == b"" and result.stderr == b""


def test_docs_metrics_table_documents_every_series():
    doc = (ROOT / "docs" / "METRICS.md").read_text()
    assert markdown_table() in doc
    for spec in SERIES:
        assert f"| `{spec.name}` |" in doc
