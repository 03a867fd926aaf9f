"""The Prometheus-side assets of deploy/ pass the real tools: promtool check/test, amtool."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from nht_monitor.exporter import SERIES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
COMPOSE_PROMETHEUS_CONFIG = DEPLOY / "compose" / "prometheus.yml"
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
RULES = DEPLOY / "prometheus" / "rules"
ALERT_RULES = RULES / "nht-monitor-alerts.yml"
RECORDING_RULES = RULES / "nht-monitor-recording.yml"
RULE_FILES = sorted(RULES.glob("*.yml"))
RULE_TESTS = sorted((RULES / "tests").glob("*.yml"))
DURATION_RE = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
                "y": 31536000}


def seconds(duration: str) -> float:
    """A Prometheus duration (``5s``, ``1m30s``) in seconds."""
    parts = DURATION_RE.findall(duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(int(n) * UNIT_SECONDS[u] for n, u in parts)


def run(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_config_is_clean():
    result = run("promtool", "check", "config", PROMETHEUS_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout


def test_configs_are_complete():
    """Both shipped configs load the rules, send alerts and list the nht-monitor jobs."""
    for path in (PROMETHEUS_CONFIG, COMPOSE_PROMETHEUS_CONFIG):
        config = yaml.safe_load(path.read_text())
        assert config["rule_files"], path
        assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"], path
        jobs = {job["job_name"] for job in config["scrape_configs"]}
        assert {"nht-monitor", "nht-monitor-sidecar"} <= jobs, path


@pytest.mark.parametrize("path", [PROMETHEUS_CONFIG, COMPOSE_PROMETHEUS_CONFIG],
                         ids=["deploy", "compose"])
def test_intervals_are_short_enough_for_the_deriv1m_rules(path):
    """deriv(x[1m]) needs two samples in a minute: Prometheus' default 1m scrape interval
    leaves the recording rules empty, so the configs must set a shorter global one."""
    windows = {seconds(w) for w in re.findall(r"deriv\(\w+\[(\w+)\]\)",
                                              RECORDING_RULES.read_text())}
    assert windows == {60}
    interval = yaml.safe_load(path.read_text())["global"]
    scrape = seconds(interval["scrape_interval"])
    assert scrape * 2 < min(windows), f"{path}: scrape_interval {scrape} s is too long"
    assert seconds(interval["evaluation_interval"]) < min(windows)
    assert seconds(interval["scrape_timeout"]) <= scrape


def test_promtool_check_rules_is_clean():
    assert len(RULE_FILES) == 2
    result = run("promtool", "check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout
    assert "SUCCESS: 4 rules found" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass():
    result = run("promtool", "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS)


def test_required_alerts_exist_with_severity_and_annotations():
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert set(rules) == {
        "NhtWeakRegimePersists", "NhtStrongRegime", "NhtTransitionImminent",
        "NhtTransitionUnlikelyInBudget", "NhtTransitionDone", "NhtTransitionRelapsed",
        "NhtDiverged", "NhtMonitorStale", "NhtMonitorAbsent", "NhtInternalErrorsRising"}
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert {"summary", "description"} <= set(rule["annotations"]), name
        assert "Suggested action" in rule["annotations"]["description"], name
        if name != "NhtMonitorAbsent":
            assert "{{ $labels.run }}" in rule["annotations"]["summary"], name


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert fires == names
    assert quiet == names


def test_amtool_check_config_is_clean():
    result = run("amtool", "check-config", ALERTMANAGER_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_rules_use_only_documented_series(path):
    known = {spec.name for spec in SERIES}
    text = path.read_text()
    used = set(re.findall(r"\bnht_[a-z_]+", text)) - {"nht_monitor"}
    recorded = set(re.findall(r"record: (\S+)", text))
    for name in used:
        assert name in known or any(name in r for r in recorded), name


@pytest.mark.parametrize("status", ["pending", "imminent", "done"])
def test_transition_imminent_alerts_on_the_exported_status(status):
    """NhtTransitionImminent selects the series the collector exports for the assessed
    status (so it fires exactly when the run says ``imminent``), no step count of its own."""
    from dataclasses import replace

    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from nht_monitor.exporter import SnapshotCollector
    from tests.exporter.snapshots import full_snapshot

    rule = next(r for r in alert_rules() if r["alert"] == "NhtTransitionImminent")
    match = re.fullmatch(r'(nht_\w+)\{(\w+)="(\w+)"\} == 1', rule["expr"].strip())
    assert match, rule["expr"]
    name, label, value = match.groups()
    snap = full_snapshot("run-a")
    transition = snap.assessment.transition.model_copy(update={"status": status})
    snap = replace(snap, assessment=snap.assessment.model_copy(update={"transition": transition}))
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: [snap]))
    text = generate_latest(registry).decode()
    selected = [s.value for family in text_string_to_metric_families(text) for s in family.samples
                if s.name == name and s.labels.get(label) == value and s.labels["run"] == "run-a"]
    assert selected == [1.0 if status == "imminent" else 0.0]


@pytest.mark.parametrize("path", sorted((DEPLOY / "prometheus").glob("*.yml")),
                         ids=lambda p: p.name)
def test_every_shipped_prometheus_config_passes_promtool(path):
    """prometheus.yml and the remote-write pair (remote-write.yml at the edge,
    remote-write-central.yml receiving), with the rule files each one loads."""
    result = run("promtool", "check", "config", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {path} is valid prometheus config file syntax" in result.stdout
    assert "rule files found" in result.stdout


def test_remote_write_pair_splits_the_rules_between_edge_and_central():
    """Recording rules at the edge (forwarded with the nht_ series), alerts centrally:
    never both sides evaluating the same rule (it would write the same series twice)."""
    prometheus = DEPLOY / "prometheus"
    edge = yaml.safe_load((prometheus / "remote-write.yml").read_text())
    central = yaml.safe_load((prometheus / "remote-write-central.yml").read_text())
    assert edge["rule_files"] == ["rules/nht-monitor-recording.yml"]
    assert central["rule_files"] == ["rules/nht-monitor-alerts.yml"]
    assert "alerting" not in edge and central["alerting"]["alertmanagers"]
    recorded = set(re.findall(r"record: (\S+)", RECORDING_RULES.read_text()))
    [remote] = edge["remote_write"]
    [keep] = remote["write_relabel_configs"]
    assert keep["action"] == "keep" and keep["source_labels"] == ["__name__"]
    forwarded = re.compile(keep["regex"])
    assert all(forwarded.fullmatch(name) for name in recorded | {s.name for s in SERIES})
    assert not forwarded.fullmatch("up")
    assert {"cluster", "replica"} <= set(edge["global"]["external_labels"])
    assert not central.get("scrape_configs")
