"""The Prometheus-side assets pass the real tools: promtool check/test, amtool."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from nht_monitor.exporter import SERIES

ROOT = Path(__file__).resolve().parents[2]
EXPORTERS = ROOT / "exporters"
ALERT_RULES = EXPORTERS / "rules" / "nht-monitor-alerts.yml"
RULE_FILES = sorted((EXPORTERS / "rules").glob("*.yml"))
RULE_TESTS = sorted((EXPORTERS / "rules" / "tests").glob("*.yml"))


def run(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_config_is_clean():
    result = run("promtool", "check", "config", EXPORTERS / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout


def test_promtool_check_rules_is_clean():
    assert len(RULE_FILES) == 2
    result = run("promtool", "check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout
    assert "SUCCESS: 4 rules found" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass():
    result = run("promtool", "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS)


def test_required_alerts_exist_with_severity_and_annotations():
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert set(rules) == {
        "NhtWeakRegimePersists", "NhtStrongRegime", "NhtTransitionImminent",
        "NhtTransitionDone", "NhtDiverged", "NhtMonitorStale", "NhtMonitorAbsent",
        "NhtInternalErrorsRising"}
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
    result = run("amtool", "check-config", EXPORTERS / "alertmanager.yml")
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
