"""A small stand-in for the Grafana HTTP API on 127.0.0.1, recording every request.

No Grafana server can be installed on these machines, so the push command is tested
against this server. It implements the endpoints ``grafana-client`` calls with the
response shapes and status codes of Grafana's HTTP API documentation
(docs/sources/developers/http_api/{dashboard,folder,other}.md in grafana/grafana):

- ``GET /api/health`` -> 200 ``{"commit", "database": "ok", "version"}``
- ``GET /api/folders`` -> 200 ``[{"id", "uid", "title"}]``
- ``POST /api/folders`` ``{"title"[, "uid"]}`` -> 200 folder object (409 if the uid exists)
- ``POST /api/dashboards/db`` ``{"dashboard", "folderUid", "overwrite", "message"}`` ->
  200 ``{"id", "uid", "url", "status": "success", "version", "slug"}``; 412
  ``{"message", "status": "version-mismatch" | "name-exists"}`` when a stored dashboard
  conflicts and ``overwrite`` is false (or when ``force_412`` is set)
- any ``/api/`` request without the expected ``Authorization: Bearer <token>`` -> 401
  ``{"extra": null, "message": "Unauthorized", "messageId": "auth.unauthorized",
  "statusCode": 401, "traceID": ""}`` (when a token is configured)
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class GrafanaState:
    """What the stand-in stores and how it should misbehave."""

    token: str | None = None
    force_412: bool = False
    folders: list[dict[str, Any]] = field(default_factory=list)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    next_id: int = 1


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class _Handler(BaseHTTPRequestHandler):
    server_version = "Grafana-standin/1.0"
    state: GrafanaState  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep quiet
        return

    # -- plumbing -----------------------------------------------------------------
    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = Recorded(self.command, self.path, dict(self.headers.items()), body)
        self.state.requests.append(record)
        return record

    def _authorized(self) -> bool:
        if self.state.token is None:
            return True
        return self.headers.get("Authorization") == f"Bearer {self.state.token}"

    def _dispatch(self) -> None:
        record = self._record()
        path = self.path.split("?", 1)[0]
        if not self._authorized():
            self._send(401, {"extra": None, "message": "Unauthorized",
                             "messageId": "auth.unauthorized", "statusCode": 401,
                             "traceID": ""})
            return
        route = (self.command, path)
        if route == ("GET", "/api/health"):
            self._send(200, {"commit": "0123abc", "database": "ok", "version": "12.2.0"})
        elif route == ("GET", "/api/folders"):
            self._send(200, [{"id": f["id"], "uid": f["uid"], "title": f["title"]}
                             for f in self.state.folders])
        elif route == ("POST", "/api/folders"):
            self._create_folder(record.body or {})
        elif route == ("POST", "/api/dashboards/db"):
            self._save_dashboard(record.body or {})
        else:
            self._send(404, {"message": "Not found"})

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch  # noqa: N815

    # -- endpoints ----------------------------------------------------------------
    def _create_folder(self, body: dict[str, Any]) -> None:
        title = body.get("title")
        if not title:
            self._send(400, {"message": "folder title cannot be empty"})
            return
        uid = body.get("uid") or f"f{self.state.next_id:08d}"
        if any(f["uid"] == uid for f in self.state.folders):
            self._send(409, {"message": "a folder with the same uid already exists"})
            return
        folder = {"id": self.state.next_id, "uid": uid, "title": title,
                  "url": f"/dashboards/f/{uid}/{_slug(title)}", "hasAcl": False,
                  "canSave": True, "canEdit": True, "canAdmin": True, "canDelete": True,
                  "createdBy": "admin", "created": "2026-11-23T19:00:00Z",
                  "updatedBy": "admin", "updated": "2026-11-23T19:00:00Z", "version": 1}
        self.state.next_id += 1
        self.state.folders.append(folder)
        self._send(200, folder)

    def _save_dashboard(self, body: dict[str, Any]) -> None:
        board = body.get("dashboard")
        if not isinstance(board, dict) or not board.get("title"):
            self._send(400, {"message": "Dashboard title cannot be empty"})
            return
        if self.state.force_412:
            self._send(412, {"message": "The dashboard has been changed by someone else",
                             "status": "version-mismatch"})
            return
        uid = board.get("uid") or f"d{self.state.next_id:08d}"
        stored = self.state.dashboards.get(uid)
        if stored and not body.get("overwrite"):
            if board.get("version") != stored["version"]:
                self._send(412, {"message": "The dashboard has been changed by someone else",
                                 "status": "version-mismatch"})
                return
        version = stored["version"] + 1 if stored else 1
        dash_id = stored["id"] if stored else self.state.next_id
        if not stored:
            self.state.next_id += 1
        self.state.dashboards[uid] = {"id": dash_id, "version": version, "dashboard": board,
                                      "folderUid": body.get("folderUid")}
        slug = _slug(board["title"])
        self._send(200, {"id": dash_id, "uid": uid, "url": f"/d/{uid}/{slug}",
                         "status": "success", "version": version, "slug": slug})


class GrafanaStandin:
    """The stand-in server on 127.0.0.1:<free port>, in a daemon thread."""

    def __init__(self, token: str | None = None) -> None:
        self.state = GrafanaState(token=token)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[Recorded]:
        return self.state.requests

    def __enter__(self) -> "GrafanaStandin":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
