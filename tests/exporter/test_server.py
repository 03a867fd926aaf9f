"""The HTTP exporter: scrape-time reads, binding, port errors, close, Pushgateway push."""

from __future__ import annotations

import logging
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.exporter import ExporterError, start_exporter
from tests.exporter.snapshots import SnapshotSource, full_snapshot, make_sample
from tests.support.prometheus import PushgatewayServer, free_port
NO_LAUNCH = {"launch": "", "rank": "0"}  # the job labels without a launcher


def scrape(url: str, accept: str | None = None) -> tuple[str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode(), response.headers["Content-Type"]


def values(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def source():
    return SnapshotSource(full_snapshot("run-a"))


@pytest.fixture
def exporter(source):
    handle = start_exporter(source, PrometheusSettings(port=0))
    yield handle
    handle.close()


def test_port_zero_serves_on_loopback_and_url_says_where(exporter, source):
    assert exporter.host == "127.0.0.1"
    assert exporter._server.server_address[0] == "127.0.0.1"
    assert exporter.port > 0
    assert exporter.url == f"http://127.0.0.1:{exporter.port}/metrics"
    text, content_type = scrape(exporter.url)
    assert content_type.startswith("text/plain; version=0.0.4")
    got = values(text)
    layer_norms = source.snapshot().sample.layer_norms
    for layer, norm in layer_norms.items():
        labels = {"run": "run-a", **NO_LAUNCH, "layer": layer}
        assert got[("nht_layer_weight_norm", frozenset(labels.items()))] == norm


def test_values_are_read_at_scrape_time(exporter, source):
    before = source.calls
    first = values(scrape(exporter.url)[0])
    assert source.calls == before + 1
    later = full_snapshot("run-a", step=41)
    source.set(replace(later, sample=make_sample(later.header.layers, step=41, scale=2.0)))
    second = values(scrape(exporter.url)[0])
    key = ("nht_layer_weight_norm",
           frozenset({"run": "run-a", **NO_LAUNCH, "layer": "head"}.items()))
    assert second[key] == 2 * first[key]
    assert second[("nht_step", frozenset({"run": "run-a", **NO_LAUNCH}.items()))] == 41


def test_real_scrape_passes_promtool_check_metrics(exporter):
    text, _ = scrape(exporter.url)
    result = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                            capture_output=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_openmetrics_scrapes_get_openmetrics(exporter):
    text, content_type = scrape(exporter.url, accept="application/openmetrics-text;version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert text.rstrip().endswith("# EOF")
    assert "nht_samples_total" in text


def test_port_in_use_fails_at_construction_naming_the_port(source):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ExporterError, match=f"port {port} .*already in use"):
            start_exporter(source, PrometheusSettings(port=port))


def test_unresolvable_host_fails_at_construction(source):
    with pytest.raises(ExporterError, match="no-such-host.invalid"):
        start_exporter(source, PrometheusSettings(host="no-such-host.invalid", port=0))


def test_close_stops_serving_and_is_idempotent(source):
    handle = start_exporter(source, PrometheusSettings(port=0))
    scrape(handle.url)
    handle.close()
    handle.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(handle.url, timeout=5)


def test_close_pushes_the_final_summary_to_a_real_pushgateway(source):
    with PushgatewayServer() as gateway:
        handle = start_exporter(source, PrometheusSettings(
            port=0, pushgateway=gateway.address, push_job="nht_batch"))
        assert "nht_weight_norm" not in gateway.metrics_text()
        handle.close()
        assert handle.push_error is None
        pushed = values(gateway.metrics_text())
    snapshot = source.snapshot()
    # the gateway adds instance
    group = {"job": "nht_batch", "run": "run-a", **NO_LAUNCH, "instance": ""}
    assert pushed[("nht_weight_norm", frozenset(group.items()))] == snapshot.sample.norm
    assert pushed[("nht_samples_total", frozenset(group.items()))] == 40
    assert pushed[("nht_regime", frozenset({**group, "regime": "intermediate"}.items()))] == 1
    assert pushed[("nht_run_info", frozenset({**group, "source": "pushgateway",
                                               "model": "TinyNet", "head": "head"}.items()))] == 1
    assert not any(name.startswith("nht_layer_") for name, _ in pushed)


def test_failed_push_is_logged_not_raised(source, caplog):
    port = free_port()  # nothing listens there
    handle = start_exporter(source, PrometheusSettings(port=0, pushgateway=f"127.0.0.1:{port}"))
    with caplog.at_level(logging.WARNING, logger="nht_monitor.exporter.server"):
        handle.close()
    assert isinstance(handle.push_error, OSError)
    assert f"127.0.0.1:{port}" in caplog.text


def test_watch_serves_the_real_monitor_and_a_taken_port_fails_at_construction(tmp_path):
    from tests.exporter.training import watched_run

    monitor = watched_run(tmp_path, "real-run", steps=3, assess=False, close=False,
                          prometheus_port=0)
    try:
        assert monitor.prometheus_url.startswith("http://127.0.0.1:")
        text, _ = scrape(monitor.prometheus_url)
        got = values(text)
        last = monitor.latest_sample
        for layer, norm in last.layer_norms.items():
            labels = {"run": "real-run", **NO_LAUNCH, "layer": layer}
            assert got[("nht_layer_weight_norm", frozenset(labels.items()))] == norm
        run_labels = frozenset({"run": "real-run", **NO_LAUNCH}.items())
        assert got[("nht_samples_total", run_labels)] == 3
        result = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                                capture_output=True, timeout=60)
        assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
        port = int(monitor.prometheus_url.split(":")[2].split("/")[0])
        with pytest.raises(ExporterError, match=f"port {port} .*already in use"):
            watched_run(tmp_path, "second-run", steps=1, assess=False, prometheus_port=port)
    finally:
        monitor.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(monitor.prometheus_url, timeout=5)
