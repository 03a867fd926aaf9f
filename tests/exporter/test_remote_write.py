"""The shipped remote-write pair end to end with two real Prometheus servers.

The edge runs deploy/prometheus/remote-write.yml, the central one
deploy/prometheus/remote-write-central.yml with ``--web.enable-remote-write-receiver``;
both exactly as shipped (intervals, rules, relabelling, queue) except for the addresses,
which point at local servers. The edge scrapes a real ``watch()``-ed CPU training run
(in-process exporter), the sidecar tailing its log and a Pushgateway; the run diverges
on purpose, so the shipped ``NhtDiverged`` alert (no ``for:``) fires on the central
server's first evaluation of the forwarded series. The central server is queried for
the ``nht_`` series, the edge's recording-rule results and the alert; the Alertmanager
it sends to gets the alert without the ``replica`` label.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

import nht_monitor
from nht_monitor.exporter import RunLogDirectory, start_exporter
from nht_monitor.exporter.settings import PrometheusSettings
from tests.exporter.training import tiny_model
from tests.support.prometheus import (AlertmanagerServer, PrometheusServer,
                                      PushgatewayServer)

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
EDGE_CONFIG = PROMETHEUS_DIR / "remote-write.yml"
CENTRAL_CONFIG = PROMETHEUS_DIR / "remote-write-central.yml"
RULES = PROMETHEUS_DIR / "rules"
RUN = "rw-diverged"
FORWARDED = r"nht_.*|run:nht_.*"   # what the edge's write_relabel_configs keep

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


def shipped_config(path: Path, workdir: Path, addresses: dict[str, str]) -> dict[str, Any]:
    """``path`` parsed with each shipped address replaced, its relative rule files
    (the shipped ones, unchanged) copied into ``workdir`` where the config will run."""
    text = path.read_text()
    for shipped, local in addresses.items():
        assert shipped in text, f"{path.name} no longer has {shipped}: update this test"
        text = text.replace(shipped, local)
    config = yaml.safe_load(text)
    workdir.mkdir(parents=True)
    shutil.copytree(RULES, workdir / "rules", ignore=shutil.ignore_patterns("tests"))
    for rule_file in config["rule_files"]:
        assert (workdir / rule_file).is_file(), rule_file
    return config


class DivergingRun:
    """A tiny MLP under ``nht_monitor.watch`` (exporter on a free port): 20 ordinary SGD
    steps, then every weight ×3 per step for 8 steps (norm ×6561 > explode_factor 1e3:
    ``diverged``), then, on a thread, more steps at lr 0 with the weights left alone
    (still diverged) so that ``nht_step`` keeps rising for the deriv() rules."""

    def __init__(self, log_dir: Path) -> None:
        torch.set_num_threads(1)
        self.model = tiny_model(0)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1, weight_decay=1e-3)
        self.monitor = nht_monitor.watch(
            self.model, self.optimizer, log_dir=log_dir, run_id=RUN, assess_every=10,
            assess_interval=0.0, prometheus=PrometheusSettings(port=0))
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(128, 8, generator=generator)
        self.targets = torch.randint(0, 3, (128,), generator=generator)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def step(self, scale: float = 1.0) -> None:
        self.optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(self.model(self.inputs), self.targets)
        loss.backward()
        self.optimizer.step()
        if scale != 1.0:
            with torch.no_grad():
                for parameter in self.model.parameters():
                    parameter.mul_(scale)
        self.monitor.log(train_loss=loss)

    def diverge(self) -> None:
        for _ in range(20):
            self.step()
        for _ in range(8):
            self.step(scale=3.0)
        for group in self.optimizer.param_groups:
            group["lr"] = 0.0
        self.step()
        self.step()          # step 30: an assess_every multiple, assessed at once
        self.monitor.flush()

    def keep_stepping(self, every: float = 0.25) -> None:
        def loop() -> None:
            try:
                while not self._stop.wait(every):
                    self.step()
            except BaseException as exc:  # surfaced by the test
                self.error = exc
        self._thread = threading.Thread(target=loop, name="diverging-run", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.monitor.close()


def test_edge_remote_writes_to_central_which_records_and_alerts(tmp_path):
    edge_shipped = yaml.safe_load(EDGE_CONFIG.read_text())
    external = edge_shipped["global"]["external_labels"]
    cluster, replica = external["cluster"], external["replica"]
    [remote] = edge_shipped["remote_write"]
    assert [r["regex"] for r in remote["write_relabel_configs"]] == [FORWARDED]

    closeables: list[Any] = []   # stopped in reverse order, pass or fail
    try:
        alertmanager = AlertmanagerServer(workdir=tmp_path / "am").start()
        closeables.append(alertmanager)
        central = PrometheusServer(
            config=shipped_config(CENTRAL_CONFIG, tmp_path / "central",
                                  {"127.0.0.1:9093": alertmanager.address}),
            workdir=tmp_path / "central",
            extra_args=["--web.enable-remote-write-receiver"]).start()
        closeables.append(central)

        run = DivergingRun(tmp_path / "runs")
        closeables.append(run)
        run.diverge()
        assert run.monitor.latest_assessment is not None
        assert run.monitor.latest_assessment.regime == "diverged", run.monitor.latest_assessment
        run.keep_stepping()
        sidecar_source = RunLogDirectory(tmp_path / "runs").start(1.0)
        closeables.append(sidecar_source)
        sidecar = start_exporter(sidecar_source, PrometheusSettings(port=0),
                                 source_kind="sidecar")
        closeables.append(sidecar)
        pushgateway = PushgatewayServer(workdir=tmp_path / "pushgateway").start()
        closeables.append(pushgateway)

        edge = PrometheusServer(
            config=shipped_config(EDGE_CONFIG, tmp_path / "edge", {
                "127.0.0.1:9464": run.monitor.prometheus_url.split("/")[2],
                "127.0.0.1:9465": sidecar.address,
                "127.0.0.1:9091": pushgateway.address,
                "http://prometheus-central.example:9090": central.url}),
            workdir=tmp_path / "edge")
        assert edge.config["remote_write"][0]["url"] == central.remote_write_url
        closeables.append(edge)
        edge.start()

        # the edge scrapes all three targets
        edge.wait_for(lambda: {t["labels"]["job"]: t["health"] for t in edge.targets()} == {
            "nht-monitor": "up", "nht-monitor-sidecar": "up", "nht-monitor-pushgateway": "up"},
            timeout=30, message="the edge's three targets up")

        # the run's series arrive centrally with the edge's external labels
        selector = f'job="nht-monitor",run="{RUN}",cluster="{cluster}",replica="{replica}"'
        diverged = f'nht_regime{{{selector},regime="diverged"}}'
        central.wait_for(lambda: central.query_value(diverged) == 1, timeout=45,
                         message="the diverged regime forwarded to the central store")
        weight_norm = central.query_value(f"nht_weight_norm{{{selector}}}")
        assert weight_norm == pytest.approx(
            edge.query_value(f'nht_weight_norm{{job="nht-monitor",run="{RUN}"}}'), rel=1e-12)
        central.wait_for(lambda: central.query(
            f'nht_regime{{job="nht-monitor-sidecar",run="{RUN}",cluster="{cluster}"}}'),
            timeout=30, message="the sidecar's series forwarded too")
        assert central.query_value(f"nht_step{{{selector}}}") >= 30
        layers = central.query(f"nht_layer_weight_norm{{{selector}}}")
        assert {r["metric"]["layer"] for r in layers} >= {"0", "2", "4"}, layers

        # the recording rules run at the edge, their results arrive centrally (the central
        # server loads only the alert rules)
        central_rules = {r["name"] for g in central.rules() for r in g["rules"]}
        assert central_rules and not any(n.startswith("run:") for n in central_rules)
        rate = central.wait_for(
            lambda: central.query_value(f"run:nht_step:deriv1m{{{selector}}}"),
            timeout=60, message="the edge's steps/s (run:nht_step:deriv1m) > 0, centrally")
        assert 0.5 < rate < 10, rate   # a step every 0.25 s: ~4/s (slower on a busy machine)
        tau_rate = central.query_value(f"run:nht_tau:deriv1m{{{selector}}}")
        assert tau_rate == pytest.approx(0, abs=1e-9)   # lr 0 now: τ stands still
        edge_recorded = {r["metric"]["__name__"] for r in edge.query('{__name__=~"run:.+"}')}
        assert {"run:nht_step:deriv1m", "run:nht_tau:deriv1m"} <= edge_recorded
        recorded_centrally = f'{{__name__=~"run:.+",cluster="{cluster}"}}'
        central.wait_for(lambda: edge_recorded <= {
            r["metric"]["__name__"] for r in central.query(recorded_centrally)},
            timeout=30, message=f"every recorded series of the edge ({sorted(edge_recorded)})")

        # only nht-monitor's series cross: no up, no scrape_* or Pushgateway internals.
        # ALERTS / ALERTS_FOR_STATE carry the cluster label too once the central server's
        # own alert rules fire on the forwarded series; the edge evaluates none, so none
        # of them crossed.
        assert not edge.query("ALERTS") and not edge.query("ALERTS_FOR_STATE")
        forwarded = {r["metric"]["__name__"] for r in
                     central.query(f'count by (__name__) ({{cluster="{cluster}"}})')}
        forwarded -= {"ALERTS", "ALERTS_FOR_STATE"}
        assert forwarded and all(n.startswith(("nht_", "run:nht_")) for n in forwarded), forwarded
        assert edge.query('up{job="nht-monitor"}') and not central.query("up")
        assert edge.query("pushgateway_build_info") and not central.query("pushgateway_build_info")

        # the shipped alert evaluates centrally on the forwarded series ...
        firing = central.wait_for(lambda: [
            a for a in central.firing("NhtDiverged")
            if a["labels"]["job"] == "nht-monitor"], timeout=45,
            message="NhtDiverged firing on the central server")
        alert = firing[0]
        assert alert["labels"]["run"] == RUN
        assert alert["labels"]["cluster"] == cluster
        assert alert["labels"]["severity"] == "critical"
        assert "Suggested action" in alert["annotations"]["description"]
        # the annotation's query() template ran on the central store
        assert "total norm " in alert["annotations"]["description"]
        assert f"{weight_norm:.4g}" in alert["annotations"]["description"]

        # ... and reaches Alertmanager with the cluster, without the replica label
        def in_alertmanager() -> list[dict]:
            return [a for a in alertmanager.alerts()
                    if a["labels"].get("alertname") == "NhtDiverged"
                    and a["labels"].get("job") == "nht-monitor"]
        received = central.wait_for(in_alertmanager, timeout=30,
                                    message="NhtDiverged at the Alertmanager")
        assert received[0]["labels"]["cluster"] == cluster
        assert "replica" not in received[0]["labels"]
        assert run.error is None, run.error
    finally:
        for closeable in reversed(closeables):
            try:
                closeable.stop() if hasattr(closeable, "stop") else closeable.close()
            except Exception:  # noqa: BLE001 - stop the rest regardless
                pass
