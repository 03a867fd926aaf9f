"""A local HTTP server recording the JSON bodies POSTed/PUT to it (an Alertmanager
webhook receiver for the tests)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RecordingServer:
    """Records ``(method, path, body)`` of every request; ``.url``, ``.requests``, ``.close()``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                with recorder._lock:
                    recorder.requests.append((self.command, self.path, body))
                self.send_response(200)
                self.end_headers()

            do_POST = do_PUT = _record

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def bodies(self) -> list[Any]:
        with self._lock:
            return [body for _, _, body in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RecordingServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
