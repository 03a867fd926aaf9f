"""The compose stack's alert receiver: prints every alert Alertmanager sends it.

deploy/alertmanager/alertmanager.yml sends its webhooks to
``http://alert-receiver:5001/nht-monitor/<critical|default>``; this stand-alone receiver
(standard library only) prints one line per alert, so ``docker compose logs -f
alert-receiver`` shows what would page someone::

    [critical] FIRING NhtStrongRegime run=modarith-add-p97-wd10-s0: Run ...: strong weight decay ...

Replace it with your real receiver (Slack, PagerDuty, e-mail: change the ``receivers``
of alertmanager.yml). Usage: ``python alert_receiver.py [--host 0.0.0.0] [--port 5001]``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def alert_lines(path: str, payload: Any) -> list[str]:
    """One line per alert of an Alertmanager webhook payload (version 4)."""
    receiver = path.rstrip("/").rsplit("/", 1)[-1] or "webhook"
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        return [f"[{receiver}] unrecognised payload: {str(payload)[:200]}"]
    lines = []
    for alert in payload["alerts"]:
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        run = f" run={labels['run']}" if "run" in labels else ""
        summary = annotations.get("summary", "")
        lines.append(f"[{receiver}] {str(alert.get('status', '?')).upper()} "
                     f"{labels.get('alertname', '?')}{run}: {summary}")
    return lines


class Handler(BaseHTTPRequestHandler):
    server_version = "nht-alert-receiver/1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = raw.decode(errors="replace")
        for line in alert_lines(self.path, payload):
            print(line, flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - a health check
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - no access log
        return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="print the alerts Alertmanager sends")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=5001)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `docker compose stop`
    print(f"alert receiver listening on {args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
