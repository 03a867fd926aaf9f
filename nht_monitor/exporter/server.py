"""Serve ``/metrics`` from a background thread and push the final summary on close."""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import socket
from urllib.parse import unquote, urlsplit, urlunsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.exposition import (ThreadingWSGIServer, basic_auth_handler,
                                          default_handler)

from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.exporter.collector import SnapshotCollector
from nht_monitor.exporter.exposition import make_metrics_app

logger = logging.getLogger(__name__)


class ExporterError(OSError):
    """The exporter cannot serve (e.g. its port is already in use)."""


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """No access log on stderr."""


def serve_wsgi(app: Callable[..., Any], host: str, port: int
               ) -> tuple[ThreadingWSGIServer, threading.Thread]:
    """Serve ``app`` on ``host:port`` from a daemon thread (IPv4 or IPv6 by ``host``)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]

    class Server(ThreadingWSGIServer):
        address_family = family

    server = make_server(host, port, app, Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="nht-exporter", daemon=True)
    thread.start()
    return server, thread


def _snapshot_function(source: Any) -> Callable[[], Iterable[Any]]:
    if hasattr(source, "snapshots"):
        return source.snapshots
    if hasattr(source, "snapshot"):
        return lambda: (source.snapshot(),)
    raise TypeError(f"source must have .snapshot() or .snapshots(), got {type(source).__name__}")


def _gateway_parts(gateway: str) -> tuple[str, str | None, str | None]:
    """``gateway`` (``host:port`` or URL, maybe with ``user:password@``) as the URL to
    push to without the credentials, and the (percent-decoded) user and password."""
    url = gateway if "://" in gateway else f"http://{gateway}"
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=hostport)), unquote(user), unquote(password)


def redact_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***`` (a
    ``token@`` part as a whole): what every message names the Pushgateway by."""
    scheme, sep, rest = url.rpartition("://")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return url
    user, colon, _password = userinfo.partition(":")
    hidden = f"{user}:***" if colon else "***"  # a lone user part is a token
    return f"{scheme}{sep}{hidden}@{hostport}{slash}{path}"


def _redacted(text: str, gateway: str) -> str:
    """``text`` with any credential of ``gateway`` in it replaced (an exception's message
    may quote the URL)."""
    parts = urlsplit(gateway if "://" in gateway else f"http://{gateway}")
    raw = parts.password if parts.password is not None else parts.username
    text = text.replace(gateway, redact_url(gateway))
    for secret in (raw, unquote(raw) if raw else None):
        if secret:
            text = text.replace(secret, "***")
    return text


class ExporterHandle:
    """A running exporter: ``url`` (of ``/metrics``), ``host``, ``port``, ``address``
    (``host:port``, what a Prometheus target wants), ``registry``; ``close()`` stops it.

    ``identity``: the ``launch``/``rank`` labels (see :class:`SnapshotCollector`); a rank
    other than 0 serves only the health series and pushes nothing."""

    def __init__(self, source: Any, settings: PrometheusSettings, *,
                 source_kind: str = "monitor", identity: Any = None) -> None:
        self.settings = settings
        self._source = source
        self._source_kind = source_kind
        self._identity = identity
        self.registry = CollectorRegistry()
        self.collector = SnapshotCollector(
            _snapshot_function(source), layers=settings.layers,
            max_layers=settings.max_layers, source=source_kind, identity=identity)
        self.registry.register(self.collector)
        try:
            self._server, self._thread = serve_wsgi(
                make_metrics_app(self.registry), settings.host, settings.port)
        except socket.gaierror as exc:
            raise ExporterError(f"Prometheus exporter: cannot resolve host {settings.host!r}: "
                                f"{exc}") from exc
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ExporterError(
                    errno.EADDRINUSE,
                    f"Prometheus exporter: port {settings.port} on {settings.host} is already "
                    f"in use; pass another port (prometheus_port=...) or 0 for a free one"
                ) from exc
            raise ExporterError(
                exc.errno, f"Prometheus exporter cannot listen on {settings.host}:"
                           f"{settings.port}: {exc.strerror or exc}") from exc
        self.host = settings.host
        self.port: int = self._server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.address = f"{host}:{self.port}"
        self.url = f"http://{self.address}/metrics"
        self.push_error: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()
        logger.info("nht-monitor: serving Prometheus metrics at %s", self.url)

    def close(self) -> None:
        """Stop serving; then push the final summary when a Pushgateway is configured.

        Never raises for a failed push: it is logged and kept in ``push_error``.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self.settings.pushgateway and getattr(self._identity, "rank", 0) == 0:
            try:
                push_summary(self._source, self.settings, identity=self._identity)
            except Exception as exc:  # the run is over: report, never raise
                self.push_error = exc
                gateway = self.settings.pushgateway
                logger.warning("nht-monitor: push to Pushgateway %s failed: %s",
                               redact_url(gateway), _redacted(str(exc), gateway))

    def __enter__(self) -> ExporterHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ExporterHandle(url={self.url!r}, closed={self._closed})"


def push_summary(source: Any, settings: PrometheusSettings, timeout: float = 10.0, *,
                 identity: Any = None) -> None:
    """Push the run-level series (no per-layer series) of each run to the Pushgateway.

    One push per run (HTTP PUT, replacing the group) to job ``settings.push_job``
    with grouping key ``run=<run id>``; ``nht_run_info`` says ``source="pushgateway"``.
    Credentials in the URL (``http://user:password@host:9091``) are sent as HTTP basic
    auth, never as part of the URL, and appear in no message. ``identity``: the
    ``launch``/``rank`` labels, as for :class:`ExporterHandle`.
    """
    if not settings.pushgateway:
        raise ValueError("no pushgateway configured")
    gateway, user, password = _gateway_parts(settings.pushgateway)
    handler: Callable[..., Any] = default_handler
    if user is not None:
        def handler(url: str, method: str, timeout: float | None,
                    headers: list[tuple[str, str]], data: bytes) -> Callable[[], None]:
            return basic_auth_handler(url, method, timeout, headers, data, user, password)
    for snapshot in _snapshot_function(source)():
        registry = CollectorRegistry()
        registry.register(SnapshotCollector(lambda s=snapshot: (s,), source="pushgateway",
                                            include_layers=False, identity=identity))
        push_to_gateway(gateway, job=settings.push_job, registry=registry,
                        grouping_key={"run": str(snapshot.run_id)}, timeout=timeout,
                        handler=handler)


def start_exporter(source: Any, settings: PrometheusSettings | None = None, *,
                   source_kind: str = "monitor", identity: Any = None) -> ExporterHandle:
    """Serve ``source``'s snapshots on ``/metrics``; returns the running handle.

    ``source``: an object with ``.snapshot()`` (a :class:`nht_monitor.Monitor`) or
    ``.snapshots()`` (several runs, e.g. the sidecar). ``identity``: the process's
    :class:`~nht_monitor.live.launcher.LaunchIdentity` (labels ``launch``, ``rank``;
    without it, each run's header's). Raises :class:`ExporterError` naming the port
    when it is in use.
    """
    return ExporterHandle(source, settings or PrometheusSettings(), source_kind=source_kind,
                          identity=identity)
