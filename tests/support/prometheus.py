"""Start the real Prometheus (and Alertmanager / Pushgateway) servers for tests.

Stable API (other test suites rely on it; add, never rename):

``PrometheusServer(targets=..., rule_files=..., alertmanager=None, workdir=None,
scrape_interval="1s", evaluation_interval="1s", config=None, extra_args=())``
    ``targets``: ``"127.0.0.1:9464"`` strings (one job ``"nht"``) or a mapping
    ``{job_name: [host:port, ...]}``. ``rule_files``: paths of rule files (used as they
    are; copy and edit them first for short ``for:``). ``alertmanager``: ``host:port`` of
    an Alertmanager to send alerts to. ``workdir``: where the config and the private
    ``--storage.tsdb.path`` go (a fresh temporary directory by default, removed on stop).
    ``start()`` binds 127.0.0.1 on a free port and returns once ``/-/ready`` answers
    (raises :class:`ServerError` with the log tail otherwise).
    ``config``: a whole parsed prometheus.yml to run instead of the one built from the
    other arguments (e.g. a documented snippet; relative ``rule_files`` are resolved
    against ``workdir``, where the config is written).
    ``extra_args``: more command-line flags, e.g. ``["--web.enable-remote-write-receiver"]``
    for a central server that edges ``remote_write`` to (``.remote_write_url`` is its
    ``/api/v1/write``).

    ``.url`` (``http://127.0.0.1:PORT``), ``.address`` (``127.0.0.1:PORT``), ``.pid``,
    ``.config_path``, ``.log_text()``.
    ``.query(expr) -> list[dict]``: instant query via ``/api/v1/query``; the ``result``
    list (``[{"metric": {...}, "value": [ts, "1.5"]}, ...]`` for a vector).
    ``.query_values(expr) -> dict[frozenset, float]``: label set -> value.
    ``.query_value(expr) -> float | None``: the single value of a one-series result.
    ``.alerts() -> list[dict]``: ``/api/v1/alerts`` (``labels``, ``annotations``,
    ``state`` in ``pending``/``firing``).
    ``.firing(alertname) -> list[dict]``: the firing alerts of that name.
    ``.rules() -> list[dict]`` (rule groups), ``.targets() -> list[dict]`` (active targets).
    ``.wait_for(predicate, timeout=30.0, interval=0.2, message="") -> value``: call
    ``predicate()`` until it returns something truthy (returned) or the deadline passes
    (:class:`TimeoutError` naming ``message`` and the last value / exception).
    ``.stop()``: terminate by pid (kill after 5 s); idempotent; also run at interpreter
    exit for every server still running (e.g. one a failing test never stopped).
    Context manager: ``with PrometheusServer(...) as prom: ...``.

``AlertmanagerServer(receiver_url=None, workdir=None, config=None)`` - the real Debian
``prometheus-alertmanager`` on a free port routing every alert to a webhook at
``receiver_url``, or running ``config`` (a parsed alertmanager.yml, e.g. the shipped one
with its receiver URLs pointed at a local server); same ``.url``/``.address``/``.stop()``/
context manager, plus ``.alerts()`` (``/api/v2/alerts``) and ``.post_alerts(alerts)``
(``POST /api/v2/alerts``, as Prometheus sends them).

``PushgatewayServer(workdir=None)`` - the real Debian ``prometheus-pushgateway`` (in memory);
``.url``/``.address``/``.stop()``, ``.metrics_text()`` (its ``/metrics``).

``free_port() -> int``; ``binary_available(name) -> bool``.

pytest fixtures (import them into a ``conftest.py`` or a test module):
``prometheus_factory`` - a callable taking ``PrometheusServer`` keyword arguments that
starts one and stops every server it started at teardown (pass or fail).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_LIVE: set[_Server] = set()  # strong refs: a server a failed test forgot still stops at exit


class ServerError(RuntimeError):
    """A server did not start (the message carries its log tail)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binary_available(name: str) -> bool:
    """Whether an executable ``name`` is on ``PATH``."""
    return shutil.which(name) is not None


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.2,
             message: str = "") -> T:
    """Poll ``predicate()`` until truthy (returned) or raise :class:`TimeoutError`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    last_exc: BaseException | None = None
    while True:
        try:
            last = predicate()
            last_exc = None
            if last:
                return last
        except (OSError, ValueError, KeyError, IndexError, urllib.error.URLError) as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f"last exception {last_exc!r}" if last_exc else f"last value {last!r}"
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for "
                               f"{message or predicate!r}; {detail}")
        time.sleep(interval)


def _http_get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode())


def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


atexit.register(_stop_all)


class _Server:
    """A child process listening on 127.0.0.1:<free port>, stopped by pid."""

    binary = ""
    ready_path = "/-/ready"
    start_timeout = 30.0

    def __init__(self, workdir: str | os.PathLike[str] | None = None) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir is not None else None
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    # -- to implement -------------------------------------------------------------
    def _command(self, port: int) -> list[str]:
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------
    @property
    def address(self) -> str:
        if self.port is None:
            raise ServerError(f"{self.binary} is not started")
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def log_text(self) -> str:
        """Everything the server wrote to stdout/stderr so far."""
        if self._log_path and self._log_path.exists():
            return self._log_path.read_text(errors="replace")
        return ""

    def start(self):
        """Start the server on a free port; returns ``self`` once it answers ready."""
        if not binary_available(self.binary):
            raise ServerError(f"{self.binary!r} is not installed (apt-get install it)")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.binary}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probe and bind
            self.port = free_port()
            self._log_path = self.workdir / f"{self.binary}.log"
            with open(self._log_path, "wb") as log:
                self._process = subprocess.Popen(
                    self._command(self.port), stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, cwd=self.workdir, start_new_session=True)
            _LIVE.add(self)
            try:
                self._wait_ready()
                return self
            except ServerError as exc:
                last_error = str(exc)
                self._terminate()
                if "address already in use" not in last_error:
                    break
        self.stop()
        raise ServerError(last_error)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise ServerError(f"{self.binary} exited at start "
                                  f"(code {self._process and self._process.returncode}):\n"
                                  f"{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise ServerError(f"{self.binary} not ready after {self.start_timeout:.0f}s:\n"
                          f"{self.log_text()[-3000:]}")

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Terminate the process by pid (SIGKILL after 5 s) and remove the own workdir."""
        self._terminate()
        _LIVE.discard(self)
        if self._own_workdir and self.workdir is not None and self.workdir.exists():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        if self._process is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 30.0,
                 interval: float = 0.2, message: str = "") -> T:
        """Poll ``predicate()`` until truthy (returned); :class:`TimeoutError` otherwise.

        Fails fast (with the server log) if the server process died meanwhile.
        """
        def checked() -> T:
            if self._process is None or self._process.poll() is not None:
                raise ServerError(f"{self.binary} is not running:\n{self.log_text()[-3000:]}")
            return predicate()
        return wait_for(checked, timeout=timeout, interval=interval, message=message)


class PrometheusServer(_Server):
    """The real ``prometheus`` with a private TSDB, 1 s scrape and rule evaluation."""

    binary = "prometheus"

    def __init__(self, targets: Iterable[str] | Mapping[str, Iterable[str]] = (),
                 rule_files: Iterable[str | os.PathLike[str]] = (),
                 alertmanager: str | None = None,
                 workdir: str | os.PathLike[str] | None = None,
                 scrape_interval: str = "1s", evaluation_interval: str = "1s",
                 config: Mapping[str, Any] | None = None,
                 extra_args: Iterable[str] = ()) -> None:
        super().__init__(workdir)
        self.config = config
        self.extra_args = list(extra_args)
        if isinstance(targets, Mapping):
            self.targets_by_job = {job: list(t) for job, t in targets.items()}
        else:
            self.targets_by_job = {"nht": list(targets)}
        self.rule_files = [str(Path(p).resolve()) for p in rule_files]
        self.alertmanager = alertmanager
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.config_path: Path | None = None

    def config_text(self) -> str:
        """The prometheus.yml this server runs with (JSON is valid YAML)."""
        if self.config is not None:
            return json.dumps(self.config, indent=2)
        config: dict[str, Any] = {
            "global": {"scrape_interval": self.scrape_interval,
                       "scrape_timeout": self.scrape_interval,
                       "evaluation_interval": self.evaluation_interval},
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": targets}]}
                for job, targets in self.targets_by_job.items()],
            "rule_files": self.rule_files,
        }
        if self.alertmanager:
            config["alerting"] = {"alertmanagers": [
                {"static_configs": [{"targets": [self.alertmanager]}]}]}
        return json.dumps(config, indent=2)

    def _command(self, port: int) -> list[str]:
        assert self.workdir is not None
        self.config_path = self.workdir / "prometheus.yml"
        self.config_path.write_text(self.config_text())
        storage = self.workdir / "data"
        return [self.binary, f"--config.file={self.config_path}",
                f"--storage.tsdb.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle", "--log.level=warn", *self.extra_args]

    @property
    def remote_write_url(self) -> str:
        """The remote-write endpoint (served with ``--web.enable-remote-write-receiver``)."""
        return f"{self.url}/api/v1/write"

    def _api(self, path: str, **params: str) -> Any:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        payload = _http_get_json(f"{self.url}/api/v1/{path}{query}")
        if payload.get("status") != "success":
            raise ServerError(f"/api/v1/{path} failed: {payload}")
        return payload["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; the ``result`` list of ``/api/v1/query``."""
        return self._api("query", query=expr)["result"]

    def query_values(self, expr: str) -> dict[frozenset, float]:
        """Instant query as ``{frozenset(labels.items()): value}``."""
        return {frozenset(r["metric"].items()): float(r["value"][1])
                for r in self.query(expr)}

    def query_value(self, expr: str) -> float | None:
        """The value of a one-series result; ``None`` when empty; error when several."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise ValueError(f"{expr!r} returned {len(result)} series")
        return float(result[0]["value"][1])

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (pending and firing) from ``/api/v1/alerts``."""
        return self._api("alerts")["alerts"]

    def firing(self, alertname: str) -> list[dict[str, Any]]:
        """The firing alerts named ``alertname``."""
        return [a for a in self.alerts()
                if a["labels"].get("alertname") == alertname and a["state"] == "firing"]

    def rules(self) -> list[dict[str, Any]]:
        """Loaded rule groups (``/api/v1/rules``)."""
        return self._api("rules")["groups"]

    def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets (``/api/v1/targets``) with ``health`` and ``lastError``."""
        return self._api("targets")["activeTargets"]


class AlertmanagerServer(_Server):
    """The real ``prometheus-alertmanager`` routing every alert to one webhook."""

    binary = "prometheus-alertmanager"

    def __init__(self, receiver_url: str | None = None,
                 workdir: str | os.PathLike[str] | None = None,
                 config: Mapping[str, Any] | None = None) -> None:
        super().__init__(workdir)
        self.receiver_url = receiver_url
        self.config = config
        self.config_path: Path | None = None

    def _command(self, port: int) -> list[str]:
        assert self.workdir is not None
        if self.config is not None:
            config: Mapping[str, Any] = self.config
        else:
            receiver: dict[str, Any] = {"name": "test"}
            if self.receiver_url:
                receiver["webhook_configs"] = [{"url": self.receiver_url,
                                                "send_resolved": True}]
            config = {"route": {"receiver": "test", "group_by": ["alertname", "run"],
                                "group_wait": "0s", "group_interval": "1s",
                                "repeat_interval": "1h"},
                      "receivers": [receiver]}
        self.config_path = self.workdir / "alertmanager.yml"
        self.config_path.write_text(json.dumps(config, indent=2))
        cluster = "--cluster.listen-address="  # no gossip port
        return [self.binary, f"--config.file={self.config_path}",
                f"--storage.path={self.workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{port}", cluster, "--log.level=warn"]

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Alertmanager holds (``/api/v2/alerts``)."""
        return _http_get_json(f"{self.url}/api/v2/alerts")

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Send ``alerts`` (``[{"labels": {...}, "annotations": {...}}]``) as Prometheus does."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts", data=json.dumps(alerts).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status != 200:
                raise ServerError(f"POST /api/v2/alerts answered {response.status}")


class PushgatewayServer(_Server):
    """The real ``prometheus-pushgateway`` (no persistence)."""

    binary = "prometheus-pushgateway"

    def _command(self, port: int) -> list[str]:
        # Debian's default persists to a shared file in /var/lib: keep it in memory
        return [self.binary, f"--web.listen-address=127.0.0.1:{port}",
                "--persistence.file=", "--log.level=warn"]

    def metrics_text(self) -> str:
        """The Pushgateway's own ``/metrics`` (pushed groups included)."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as response:
            return response.read().decode()


try:  # pytest fixtures, when pytest is there
    import pytest

    @pytest.fixture
    def prometheus_factory():
        """Start ``PrometheusServer(**kwargs)``; every one is stopped at teardown."""
        started: list[PrometheusServer] = []

        def start(**kwargs: Any) -> PrometheusServer:
            server = PrometheusServer(**kwargs)
            started.append(server)
            return server.start()

        yield start
        for server in started:
            server.stop()
except ImportError:  # pragma: no cover
    pass
