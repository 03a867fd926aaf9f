"""deploy/compose/docker-compose.yml and what it mounts, checked without a Docker daemon.

The compose file is parsed; every bind mount must name an existing file or folder
(relative paths are relative to the compose file's folder, as Docker Compose resolves
them); ports, service names and paths must agree between the compose file, the
Prometheus config it mounts, the Alertmanager receivers, the Grafana provisioning and
the commands of the services. The mounted Prometheus and Alertmanager configs (container
paths mapped back to the repository) are checked by the real ``promtool`` and
``amtool``; the image's Dockerfile and the repository's ``.dockerignore`` are checked;
the training container's script really serves ``/metrics`` on 0.0.0.0, and the real
Alertmanager with the shipped config delivers an alert to the alert receiver service.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

yaml = pytest.importorskip("yaml")

from tests.dashboards.dashboard_json import ROOT, committed  # noqa: E402
from tests.support.prometheus import (  # noqa: E402
    AlertmanagerServer,
    binary_available,
    free_port,
    wait_for,
)

COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "docker-compose.yml"
SERVICES = {"trainer", "nht-exporter", "prometheus", "alertmanager", "alert-receiver",
            "grafana"}
RUNS_MOUNT = "${NHT_LOG_DIR:-../../runs}"  # the host's runs/, created by training jobs
IMAGE_ROOT = "/src"  # where the Dockerfile copies the build context
LOOPBACK = {"127.0.0.1", "localhost", "::1", "host.docker.internal", "0.0.0.0"}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _is_bind(source: str) -> bool:
    return source.startswith((".", "/", "$"))


def _binds(service: dict) -> dict[str, str]:
    """``{container path: host path as written}`` of a service's bind mounts."""
    binds = {}
    for volume in service.get("volumes", []):
        parts = volume.split(":")
        if len(parts) >= 2 and _is_bind(parts[0]):
            host, target = (":".join(parts[:-2]), parts[-2]) if parts[-1] in ("ro", "rw") \
                else (":".join(parts[:-1]), parts[-1])
            binds[target] = host
    return binds


def _host_path(host: str) -> Path:
    return (COMPOSE_DIR / host).resolve()


def _container_to_host(service: dict, container_path: str) -> Path:
    """Map a path inside the container back to the repository through the bind mounts."""
    for target, host in sorted(_binds(service).items(), key=lambda kv: -len(kv[0])):
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return _host_path(host) / container_path[len(target):].lstrip("/")
    raise AssertionError(f"{container_path} is not inside any bind mount")


def _published(service: dict) -> dict[int, int]:
    """``{container port: host port}``, checking every port is published on 127.0.0.1."""
    ports = {}
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        assert len(parts) == 3 and parts[0] == "127.0.0.1", f"publish {entry} on 127.0.0.1"
        ports[int(parts[-1])] = int(parts[-2])
    return ports


def _option(argv: list[str], name: str) -> str:
    """The value of ``--name value`` or ``--name=value`` in ``argv``."""
    for i, arg in enumerate(argv):
        if arg == name:
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{name} not in {argv}")


def _served_port(name: str, service: dict) -> int:
    """The port the service listens on inside its container (from its command)."""
    fixed = {"prometheus": 9090, "alertmanager": 9093, "grafana": 3000}
    if name in fixed:
        return fixed[name]
    command = service["command"]
    flag = "--prometheus-port" if "--prometheus-port" in command else "--port"
    return int(_option(command, flag))


def _listen_host(service: dict) -> str:
    command = service["command"]
    return _option(command, "--prometheus-host" if "--prometheus-host" in command else "--host")


def _image_path(container_path: str) -> Path:
    """A path inside the nht-monitor image (``/src/...``) as a path of the repository."""
    assert container_path.startswith(IMAGE_ROOT + "/"), container_path
    return ROOT / container_path[len(IMAGE_ROOT) + 1:]


def _prometheus_config() -> dict:
    prometheus = _compose()["services"]["prometheus"]
    return yaml.safe_load(_container_to_host(
        prometheus, "/etc/prometheus/prometheus.yml").read_text())


def _alertmanager_config_path() -> Path:
    alertmanager = _compose()["services"]["alertmanager"]
    config_arg = _option(alertmanager["command"], "--config.file")
    return _container_to_host(alertmanager, config_arg)


def _targets(config: dict) -> dict[str, set[str]]:
    return {job["job_name"]: {t for sc in job["static_configs"] for t in sc["targets"]}
            for job in config["scrape_configs"]}


# -- structure ---------------------------------------------------------------------------

def test_services_and_named_volumes():
    compose = _compose()
    assert set(compose["services"]) == SERVICES
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in compose["services"].items():
        assert service.get("image") or service.get("build"), name
        if "image" in service:
            assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", service["image"]), \
                f"{name}: pin an exact image version"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not _is_bind(source):
                assert source in declared, f"{name}: undeclared volume {source}"
                used.add(source)
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"], f"{name} depends on {dependency}"
    assert used == declared, "declared volumes nobody mounts"


def test_every_bind_mount_exists():
    for name, service in _compose()["services"].items():
        for target, host in _binds(service).items():
            if host == RUNS_MOUNT:
                # the default is the repository's runs/ (created by the training job)
                assert _host_path(host.split(":-", 1)[1].rstrip("}")) == ROOT / "runs"
                continue
            assert _host_path(host).exists(), f"{name}: {host} (for {target}) does not exist"


def test_image_dockerfile_and_dockerignore():
    services = _compose()["services"]
    built = {name: s["build"] for name, s in services.items() if "build" in s}
    assert set(built) == {"trainer", "nht-exporter", "alert-receiver"}
    for name, build in built.items():
        context = _host_path(build["context"])
        assert context == ROOT, f"{name}: the build context is the repository root"
        dockerfile = context / build["dockerfile"]
        assert dockerfile.is_file(), name
    text = dockerfile.read_text()
    # torch pinned, CPU build, installed before the package (no CUDA wheels pulled)
    torch_line = next(line for line in text.splitlines() if "torch" in line and "RUN" in line)
    assert "torch==2.13.0" in torch_line and "download.pytorch.org/whl/cpu" in torch_line
    assert text.index("torch==2.13.0") < text.index("COPY . " + IMAGE_ROOT)
    assert re.search(r'pip install "?/src\[prometheus\]"?', text)
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    for pattern in (".git", ".venv*", "runs", "**/__pycache__", ".pytest_cache",
                    ".hypothesis", ".ruff_cache", "*.egg-info"):
        assert pattern in ignore, f".dockerignore should exclude {pattern}"
    for kept in ("nht_monitor", "deploy", "pyproject.toml", "README.md"):
        assert not any(kept == p or kept.startswith(p.rstrip("*")) and p.endswith("*")
                       for p in ignore), f".dockerignore must keep {kept}"


def test_scripts_the_services_run_exist_in_the_image():
    for name, service in _compose()["services"].items():
        entrypoint = service.get("entrypoint") or []
        for arg in entrypoint:
            if arg.startswith(IMAGE_ROOT + "/"):
                assert _image_path(arg).is_file(), f"{name}: {arg} is not in the repository"


def _compose_cli() -> tuple[list[str], bool] | None:
    """``(command, is_v1)`` of a Docker Compose CLI, if one is installed (``config``
    needs no daemon)."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True,
                               text=True, timeout=60)
        if probe.returncode == 0:
            return ["docker", "compose"], False
    if shutil.which("docker-compose"):
        return ["docker-compose"], True
    return None


def _clean_env() -> dict[str, str]:
    """The environment without the stack's variables, so their defaults are used."""
    return {k: v for k, v in os.environ.items()
            if k not in ("NHT_LOG_DIR", "GRAFANA_ADMIN_PASSWORD")}


def test_docker_compose_config_resolves_the_file(tmp_path):
    """The real Compose CLI validates the file against its schema and resolves the paths
    (Debian's docker-compose 1.29 predates the top-level ``name``: dropped for it)."""
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no docker compose / docker-compose CLI installed")
    command, is_v1 = cli
    compose = _compose()
    source = COMPOSE
    if is_v1:
        compose.pop("name")
        source = tmp_path / "docker-compose.yml"
        source.write_text(yaml.safe_dump(compose, sort_keys=False))
    result = subprocess.run([*command, "--project-directory", str(COMPOSE_DIR), "-f",
                             str(source), "config"], capture_output=True, text=True,
                            timeout=120, env=_clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == SERVICES
    for name, service in resolved["services"].items():
        if "build" in service:
            assert Path(service["build"]["context"]) == ROOT, name
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):  # v2: long syntax
                kind, host = volume["type"], volume.get("source", "")
            else:
                host = volume.split(":")[0]
                kind = "bind" if host.startswith("/") else "volume"
            if kind == "bind":
                assert host == str(ROOT / "runs") or Path(host).exists(), f"{name}: {host}"


# -- ports and names agree -------------------------------------------------------------

def test_ports_match_the_configs():
    services = _compose()["services"]
    for name, service in services.items():
        published = _published(service)
        if name == "alert-receiver":
            assert not published  # only Alertmanager talks to it
            continue
        port = _served_port(name, service)
        assert published == {port: port}, name
    for name in ("trainer", "nht-exporter", "alert-receiver"):
        assert _listen_host(services[name]) == "0.0.0.0", \
            f"{name} must listen on 0.0.0.0 to be reachable from the other containers"
    sidecar = services["nht-exporter"]
    assert _option(sidecar["command"], "--log-dir") in _binds(sidecar)


def test_prometheus_scrapes_the_trainer_and_the_sidecar_by_service_name():
    services = _compose()["services"]
    config = _prometheus_config()
    targets = _targets(config)
    assert targets == {"nht-monitor": {"trainer:9464"},
                       "nht-monitor-sidecar": {"nht-exporter:9465"}}
    for job_targets in targets.values():
        for target in job_targets:
            host, port = target.rsplit(":", 1)
            assert host not in LOOPBACK and host in services, target
            assert int(port) == _served_port(host, services[host]), target
    alertmanagers = {t for am in config["alerting"]["alertmanagers"]
                     for sc in am["static_configs"] for t in sc["targets"]}
    assert alertmanagers == {"alertmanager:9093"}
    assert set(config["scrape_configs"][0]) >= {"job_name", "static_configs"}


def test_alertmanager_sends_to_the_receiver_service():
    services = _compose()["services"]
    config = yaml.safe_load(_alertmanager_config_path().read_text())
    urls = [hook["url"] for receiver in config["receivers"]
            for hook in receiver.get("webhook_configs", [])]
    assert urls
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname == "alert-receiver", url  # not 127.0.0.1 of its own container
        assert parts.port == _served_port("alert-receiver", services["alert-receiver"]), url


def test_prometheus_config_and_rules_pass_promtool(tmp_path):
    """The mounted config with its rule globs mapped to deploy/prometheus/rules passes promtool."""
    if not shutil.which("promtool"):
        pytest.skip("promtool is not installed")
    prometheus = _compose()["services"]["prometheus"]
    config = _prometheus_config()
    rule_files = []
    for pattern in config["rule_files"]:
        directory, glob = pattern.rsplit("/", 1)
        matched = sorted(_container_to_host(prometheus, directory).glob(glob))
        assert matched, f"{pattern} matches no rule file"
        rule_files += [str(p) for p in matched]
    assert {Path(p).name for p in rule_files} == \
        {"nht-monitor-recording.yml", "nht-monitor-alerts.yml"}
    config["rule_files"] = rule_files
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config))
    result = subprocess.run(["promtool", "check", "config", str(local)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout + result.stderr


def test_alertmanager_config_passes_amtool():
    if not shutil.which("amtool"):
        pytest.skip("amtool is not installed")
    result = subprocess.run(["amtool", "check-config", str(_alertmanager_config_path())],
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
    interval = _prometheus_config()["global"]["scrape_interval"]
    assert source["jsonData"]["timeInterval"] == interval
    providers = yaml.safe_load(_container_to_host(
        grafana, "/etc/grafana/provisioning/dashboards/nht.yaml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    folder = _container_to_host(grafana, provider["options"]["path"])
    assert folder == (ROOT / "deploy" / "grafana" / "dashboards").resolve()
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(committed())
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert _container_to_host(grafana, home).is_file()


# -- the services' own programs ------------------------------------------------------------

def test_trainer_serves_metrics_on_all_interfaces(tmp_path):
    """The training container's command (the demo with the exporter on --prometheus-host)
    announces 0.0.0.0 and answers a scrape while it trains; stopped after the scrape."""
    trainer = _compose()["services"]["trainer"]
    assert "entrypoint" not in trainer  # the image's: nht-monitor
    argv = [a for a in trainer["command"]]
    argv[argv.index("--prometheus-port") + 1] = "0"  # a free port here
    process = subprocess.Popen(
        [sys.executable, "-m", "nht_monitor.cli", *argv, "--quick", "--weight-decay", "1",
         "--log-dir", str(tmp_path), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        url = None
        seen = []
        for line in process.stdout:  # the process ends (EOF) if it fails
            seen.append(line)
            match = re.search(r"serving live metrics at (http://\S+)", line)
            if match:
                url = match.group(1)
                break
        assert url is not None, "".join(seen)
        parts = urlsplit(url)
        assert parts.hostname == "0.0.0.0"
        with urllib.request.urlopen(f"http://127.0.0.1:{parts.port}/metrics",
                                    timeout=10) as response:
            text = response.read().decode()
        # the run is exported from the start (its samples follow within write_interval)
        assert re.search(r'nht_run_info\{[^}]*run="modarith-[^"]*",source="monitor"\} 1', text), \
            text
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()


@pytest.mark.skipif(not binary_available("prometheus-alertmanager"),
                    reason="prometheus-alertmanager not installed")
def test_the_shipped_alertmanager_config_reaches_the_alert_receiver(tmp_path):
    """The real Alertmanager with deploy/alertmanager/alertmanager.yml (receiver host
    alert-receiver pointed at a local alert_receiver.py) delivers a critical alert."""
    receiver = _compose()["services"]["alert-receiver"]
    script = _image_path(receiver["entrypoint"][-1])
    port = free_port()
    config = yaml.safe_load(_alertmanager_config_path().read_text())
    for route in config["receivers"]:
        for hook in route.get("webhook_configs", []):
            hook["url"] = hook["url"].replace("alert-receiver:5001", f"127.0.0.1:{port}")
    log_path = tmp_path / "receiver.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, str(script), "--host", "127.0.0.1",
                                    "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "listening" in log_path.read_text(), timeout=30,
                 message="alert receiver start")
        with AlertmanagerServer(workdir=tmp_path / "am", config=config) as alertmanager:
            alertmanager.post_alerts([{
                "labels": {"alertname": "NhtDiverged", "severity": "critical",
                           "run": "compose-test", "job": "nht-monitor"},
                "annotations": {"summary": "Run compose-test: the weight norm diverged"}}])
            line = wait_for(
                lambda: next((ln for ln in log_path.read_text().splitlines()
                              if "NhtDiverged" in ln), None),
                timeout=60, message="the alert at the receiver")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert line == ("[critical] FIRING NhtDiverged run=compose-test: "
                    "Run compose-test: the weight norm diverged")
