"""deploy/compose/docker-compose.yml and the Grafana provisioning, checked without a Docker daemon.

The compose file is parsed; every bind mount must name an existing file or folder;
ports, service names and paths must agree between the compose file, the Prometheus
config it mounts, the Grafana provisioning and the sidecar command. The mounted
Prometheus and Alertmanager configs (with their container paths mapped back to the
repository) are checked by the real ``promtool`` and ``amtool``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

from tests.dashboards.dashboard_json import ROOT, committed  # noqa: E402

COMPOSE = ROOT / "deploy/compose/docker-compose.yml"
SERVICES = {"nht-exporter", "prometheus", "alertmanager", "grafana"}
RUNS_MOUNT = "${NHT_LOG_DIR:-./runs}"  # created by the training job, not by the repo


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _binds(service: dict) -> dict[str, str]:
    """``{container path: host path as written}`` of a service's bind mounts."""
    binds = {}
    for volume in service.get("volumes", []):
        parts = volume.split(":")
        if len(parts) >= 2 and (parts[0].startswith((".", "/", "$"))):
            host, target = (":".join(parts[:-2]), parts[-2]) if parts[-1] in ("ro", "rw") \
                else (":".join(parts[:-1]), parts[-1])
            binds[target] = host
    return binds


def _host_path(host: str) -> Path:
    return (COMPOSE.parent / host).resolve()


def _container_to_host(service: dict, container_path: str) -> Path:
    """Map a path inside the container back to the repository through the bind mounts."""
    for target, host in sorted(_binds(service).items(), key=lambda kv: -len(kv[0])):
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return _host_path(host) / container_path[len(target):].lstrip("/")
    raise AssertionError(f"{container_path} is not inside any bind mount")


def _published(service: dict) -> dict[int, int]:
    """``{container port: host port}``."""
    ports = {}
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        ports[int(parts[-1])] = int(parts[-2])
    return ports


def test_services_and_named_volumes():
    compose = _compose()
    assert set(compose["services"]) == SERVICES
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        assert service.get("image") or service.get("build"), name
        if "image" in service:
            assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", service["image"]), \
                f"{name}: pin an exact image version"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/", "$")):
                assert source in declared, f"{name}: undeclared volume {source}"
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"], f"{name} depends on {dependency}"


def test_every_bind_mount_exists():
    for name, service in _compose()["services"].items():
        for target, host in _binds(service).items():
            if host == RUNS_MOUNT:
                continue
            assert _host_path(host).exists(), f"{name}: {host} (for {target}) does not exist"


def test_ports_match_the_configs():
    services = _compose()["services"]
    assert _published(services["prometheus"]) == {9090: 9090}
    assert _published(services["alertmanager"]) == {9093: 9093}
    assert _published(services["grafana"]) == {3000: 3000}
    sidecar = services["nht-exporter"]
    command = sidecar["command"]
    port = int(command[command.index("--port") + 1])
    assert _published(sidecar) == {port: port}
    assert command[command.index("--host") + 1] == "0.0.0.0"  # reachable from prometheus
    assert command[command.index("--log-dir") + 1] in _binds(sidecar)
    build = sidecar["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    prom_config = yaml.safe_load(_container_to_host(
        services["prometheus"], "/etc/prometheus/prometheus.yml").read_text())
    targets = {t for job in prom_config["scrape_configs"]
               for sc in job["static_configs"] for t in sc["targets"]}
    assert f"nht-exporter:{port}" in targets
    alertmanagers = {t for am in prom_config["alerting"]["alertmanagers"]
                     for sc in am["static_configs"] for t in sc["targets"]}
    assert alertmanagers == {"alertmanager:9093"}


def test_prometheus_config_and_rules_pass_promtool(tmp_path):
    """The mounted config with its rule globs mapped to deploy/prometheus/rules passes promtool."""
    if not shutil.which("promtool"):
        pytest.skip("promtool is not installed")
    prometheus = _compose()["services"]["prometheus"]
    config_path = _container_to_host(prometheus, "/etc/prometheus/prometheus.yml")
    config = yaml.safe_load(config_path.read_text())
    rule_files = []
    for pattern in config["rule_files"]:
        directory, glob = pattern.rsplit("/", 1)
        matched = sorted(_container_to_host(prometheus, directory).glob(glob))
        assert matched, f"{pattern} matches no rule file"
        rule_files += [str(p) for p in matched]
    config["rule_files"] = rule_files
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config))
    result = subprocess.run(["promtool", "check", "config", str(local)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_alertmanager_config_passes_amtool():
    if not shutil.which("amtool"):
        pytest.skip("amtool is not installed")
    alertmanager = _compose()["services"]["alertmanager"]
    command = alertmanager["command"]
    config_arg = next(c for c in command if c.startswith("--config.file="))
    path = _container_to_host(alertmanager, config_arg.split("=", 1)[1])
    result = subprocess.run(["amtool", "check-config", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_provisioning_points_at_the_dashboards():
    services = _compose()["services"]
    grafana = services["grafana"]
    datasources = yaml.safe_load(_container_to_host(
        grafana, "/etc/grafana/provisioning/datasources/prometheus.yaml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"] == "http://prometheus:9090"  # compose service name and port
    providers = yaml.safe_load(_container_to_host(
        grafana, "/etc/grafana/provisioning/dashboards/nht.yaml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    folder = _container_to_host(grafana, provider["options"]["path"])
    assert folder == (ROOT / "dashboards" / "json").resolve()
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(committed())
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert _container_to_host(grafana, home).is_file()
