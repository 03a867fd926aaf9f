"""Issue 17: Pushgateway credentials given in the URL go as HTTP basic auth, checked by
the real ``prometheus-pushgateway`` requiring them, and appear in no message."""

from __future__ import annotations

import base64
import logging
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nht_monitor.exporter import start_exporter
from nht_monitor.exporter.server import redact_url
from nht_monitor.exporter.settings import PrometheusSettings
from tests.exporter.snapshots import SnapshotSource, full_snapshot
from tests.support.prometheus import PushgatewayServer, ServerError, binary_available, free_port

USER, PASSWORD = "pusher", "s3cr3t-p4ss"

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt
    except ImportError:  # Python 3.13 removed it
        crypt = None


def _bcrypt(password: str) -> str | None:
    """A bcrypt hash (what the gateway's web config wants) from the system's libcrypt."""
    if crypt is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        hashed = crypt.crypt(password, "$2b$05$" + "abcdefghijklmnopqrstuu")
    return hashed if hashed and hashed.startswith("$2b$") else None


class AuthPushgateway(PushgatewayServer):
    """The real Pushgateway requiring HTTP basic auth (its ``--web.config.file``)."""

    def _command(self, port: int) -> list[str]:
        config = Path(self.workdir) / "web.yml"
        config.write_text(f'basic_auth_users:\n  {USER}: "{_bcrypt(PASSWORD)}"\n')
        return [*super()._command(port), f"--web.config.file={config}"]

    def _authorized(self, path: str) -> urllib.request.Request:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return urllib.request.Request(self.url + path,
                                      headers={"Authorization": f"Basic {token}"})

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise ServerError(f"{self.binary} exited at start:\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self._authorized(self.ready_path),
                                            timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise ServerError(f"{self.binary} not ready:\n{self.log_text()[-3000:]}")

    def metrics_text(self) -> str:
        with urllib.request.urlopen(self._authorized("/metrics"), timeout=5) as response:
            return response.read().decode()


needs_gateway = pytest.mark.skipif(
    not binary_available("prometheus-pushgateway") or _bcrypt(PASSWORD) is None,
    reason="needs prometheus-pushgateway and a libcrypt with bcrypt")


def _pushed(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@needs_gateway
@pytest.mark.parametrize("with_scheme", [True, False])
def test_credentials_in_the_url_are_sent_as_basic_auth(caplog, with_scheme):
    source = SnapshotSource(full_snapshot("run-auth"))
    with AuthPushgateway() as gateway:
        with pytest.raises(urllib.error.HTTPError, match="401"):  # it does require them
            urllib.request.urlopen(f"{gateway.url}/metrics", timeout=5)
        url = f"{USER}:{PASSWORD}@{gateway.address}"
        handle = start_exporter(source, PrometheusSettings(
            port=0, pushgateway=f"http://{url}" if with_scheme else url))
        with caplog.at_level(logging.DEBUG):
            handle.close()
        assert handle.push_error is None
        pushed = _pushed(gateway.metrics_text())
    group = {"job": "nht_monitor", "run": "run-auth", "launch": "", "rank": "0",
             "instance": ""}
    assert pushed[("nht_weight_norm", frozenset(group.items()))] == source.snapshot().sample.norm
    assert PASSWORD not in caplog.text


@needs_gateway
def test_a_wrong_password_fails_with_a_redacted_warning(caplog, capsys):
    source = SnapshotSource(full_snapshot("run-denied"))
    with AuthPushgateway() as gateway:
        wrong = "not-the-password"
        handle = start_exporter(source, PrometheusSettings(
            port=0, pushgateway=f"http://{USER}:{wrong}@{gateway.address}"))
        with caplog.at_level(logging.WARNING, logger="nht_monitor.exporter.server"):
            handle.close()
        assert "run-denied" not in gateway.metrics_text()
    assert handle.push_error is not None
    assert "401" in str(handle.push_error)
    assert f"http://{USER}:***@{gateway.address}" in caplog.text
    out = capsys.readouterr()
    assert wrong not in caplog.text + out.out + out.err


def test_a_failed_push_never_shows_the_password(caplog, capsys):
    port = free_port()  # nothing listens there
    source = SnapshotSource(full_snapshot("run-x"))
    handle = start_exporter(source, PrometheusSettings(
        port=0, pushgateway=f"{USER}:{PASSWORD}@127.0.0.1:{port}"))
    with caplog.at_level(logging.DEBUG):
        handle.close()
    assert isinstance(handle.push_error, OSError)
    assert f"{USER}:***@127.0.0.1:{port}" in caplog.text
    out = capsys.readouterr()
    assert PASSWORD not in caplog.text + out.out + out.err


@pytest.mark.parametrize("url, shown", [
    ("host:9091", "host:9091"),
    ("http://host:9091/base", "http://host:9091/base"),
    ("user:pw@host:9091", "user:***@host:9091"),
    ("https://user:p%40ss@host:9091/x", "https://user:***@host:9091/x"),
    ("https://token@host", "https://***@host"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_the_settings_repr_leaves_the_gateway_out():
    settings = PrometheusSettings(pushgateway=f"{USER}:{PASSWORD}@host:9091")
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert settings.pushgateway == f"{USER}:{PASSWORD}@host:9091"
