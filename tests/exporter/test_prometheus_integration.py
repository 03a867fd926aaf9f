"""End to end with the real servers: a watched CPU training run and the sidecar scraped by
Prometheus (1 s scrape and rule evaluation, rules with short ``for:``), the regime alert
firing and reaching a webhook through the real Alertmanager."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import nht_monitor
from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.exporter import RunLogDirectory, start_exporter
from tests.exporter.training import watched_run
from tests.exporter.webhook import RecordingServer
from tests.support.prometheus import AlertmanagerServer, PrometheusServer

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


def fast_rule_copies(directory: Path) -> list[Path]:
    """The shipped rule files with every ``for:`` at 1 s and 1 s group intervals."""
    copies = []
    for path in sorted(RULES.glob("*.yml")):
        text = re.sub(r"\bfor: \S+", "for: 1s", path.read_text())
        text = re.sub(r"\binterval: \S+", "interval: 1s", text)
        copy = directory / path.name
        copy.write_text(text)
        copies.append(copy)
    return copies


def series_by_layer(prometheus: PrometheusServer, expr: str) -> dict[str, float]:
    return {r["metric"]["layer"]: float(r["value"][1]) for r in prometheus.query(expr)}


def close_enough(got: dict[str, float], expected: dict[str, float]) -> bool:
    return got.keys() == expected.keys() and all(
        math.isclose(got[k], expected[k], rel_tol=1e-12, abs_tol=1e-300) for k in expected)


def test_prometheus_sees_the_run_and_the_strong_regime_alert_fires(tmp_path):
    log_dir = tmp_path / "runs"
    webhook = RecordingServer()
    alertmanager = AlertmanagerServer(receiver_url=webhook.url + "/alerts",
                                      workdir=tmp_path / "am")
    monitor = sidecar_source = sidecar = prometheus = None
    try:
        alertmanager.start()
        # weight decay 5 at lr 0.1: the norm halves every step while the loss stays at
        # chance level, the textbook strong regime
        monitor = watched_run(log_dir, "strong-run", steps=60, lr=0.1, weight_decay=5.0,
                              close=False, assess_every=10,
                              prometheus=PrometheusSettings(port=0))
        sidecar_source = RunLogDirectory(log_dir).start(0.5)
        sidecar = start_exporter(sidecar_source, PrometheusSettings(port=0),
                                 source_kind="sidecar")
        prometheus = PrometheusServer(
            targets={"nht-monitor": [monitor.prometheus_url.split("/")[2]],
                     "nht-monitor-sidecar": [sidecar.address]},
            rule_files=fast_rule_copies(tmp_path), alertmanager=alertmanager.address,
            workdir=tmp_path / "prometheus").start()

        last = nht_monitor.read_run(monitor.log_path).samples[-1]
        assert last.step == 60
        for job in ("nht-monitor", "nht-monitor-sidecar"):
            selector = f'job="{job}",run="strong-run"'
            prometheus.wait_for(
                lambda: close_enough(series_by_layer(
                    prometheus, f"nht_layer_weight_norm{{{selector}}}"), last.layer_norms),
                timeout=30, message=f"per-layer weight norms of {job} = the log's last sample")
            assert close_enough(series_by_layer(
                prometheus, f"nht_layer_grad_norm{{{selector}}}"), last.layer_grad_norms)
            assert prometheus.query_value(f"nht_step{{{selector}}}") == 60
            assert prometheus.query_value(f"nht_tau{{{selector}}}") == pytest.approx(last.tau)
            assert prometheus.query_value(f"nht_weight_norm{{{selector}}}") == \
                pytest.approx(last.norm, rel=1e-12)
            assert prometheus.query_value(f"nht_samples_total{{{selector}}}") == 60

        assert monitor.latest_assessment is not None
        assert monitor.latest_assessment.regime == "strong", monitor.latest_assessment
        firing = prometheus.wait_for(lambda: [
            a for a in prometheus.firing("NhtStrongRegime")
            if a["labels"]["job"] == "nht-monitor"], timeout=30,
            message="NhtStrongRegime firing for the in-process exporter")
        alert = firing[0]
        assert alert["labels"]["run"] == "strong-run"
        assert alert["labels"]["severity"] == "critical"
        assert "lower the weight decay" in alert["annotations"]["description"]
        assert "at weight decay 5" in alert["annotations"]["description"]
        prometheus.wait_for(lambda: prometheus.query_value(
            'nht_regime{job="nht-monitor-sidecar",run="strong-run",regime="strong"}') == 1,
            timeout=30, message="the sidecar's own analysis says strong too")
        # no other regime alert for this run
        assert not prometheus.firing("NhtWeakRegimePersists")
        assert not prometheus.firing("NhtDiverged")

        def delivered():
            return [a for body in webhook.bodies() if isinstance(body, dict)
                    for a in body.get("alerts", [])
                    if a["labels"].get("alertname") == "NhtStrongRegime"]
        received = prometheus.wait_for(delivered, timeout=30,
                                       message="the alert at the Alertmanager webhook")
        assert received[0]["labels"]["run"] == "strong-run"
        assert received[0]["status"] == "firing"
    finally:
        for closeable in (prometheus, sidecar, sidecar_source, monitor):
            if closeable is not None:
                closeable.stop() if closeable is prometheus else closeable.close()
        alertmanager.stop()
        webhook.close()
