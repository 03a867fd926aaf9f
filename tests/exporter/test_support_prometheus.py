"""The reusable real-Prometheus helper (tests/support/prometheus.py) itself."""

from __future__ import annotations

import os

import pytest

from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.exporter import start_exporter
from tests.exporter.snapshots import SnapshotSource, full_snapshot
from tests.support.prometheus import PrometheusServer, ServerError, prometheus_factory, wait_for

__all__ = ["prometheus_factory"]  # the fixture, used below

pytestmark = pytest.mark.prometheus


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_factory_scrapes_a_target_and_stops_by_pid(prometheus_factory):
    handle = start_exporter(SnapshotSource(full_snapshot("run-s")), PrometheusSettings(port=0))
    try:
        prometheus = prometheus_factory(targets={"nht-monitor": [handle.address]})
        assert prometheus.url.startswith("http://127.0.0.1:")
        assert prometheus.wait_for(
            lambda: prometheus.query_value('nht_step{run="run-s"}'), timeout=30,
            message="the first scrape") == 40
        assert prometheus.targets()[0]["health"] == "up"
        assert prometheus.alerts() == []
        assert prometheus.query_values('nht_regime{run="run-s"} == 1') == {
            frozenset({"__name__": "nht_regime", "run": "run-s", "regime": "intermediate",
                       "rank": "0",  # launch="" (no launcher) is stored as no label
                       "job": "nht-monitor", "instance": handle.address}.items()): 1.0}
        pid, workdir = prometheus.pid, prometheus.workdir
        prometheus.stop()
        assert not alive(pid) and not workdir.exists()
        prometheus.stop()  # idempotent
    finally:
        handle.close()


def test_wait_for_has_a_deadline_and_says_what_it_waited_for():
    with pytest.raises(TimeoutError, match="the impossible.*last value 0"):
        wait_for(lambda: 0, timeout=0.3, interval=0.05, message="the impossible")


def test_a_bad_config_is_a_server_error_with_the_log(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: A\n"
                      "        expr: 'up =='\n")
    server = PrometheusServer(rule_files=[broken])
    with pytest.raises(ServerError, match="broken.yml"):
        server.start()
    assert server.pid is None
