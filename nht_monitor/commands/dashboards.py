"""``nht-monitor dashboards generate|push``: render the Grafana dashboards, upload them.

``generate`` renders every dashboard (``nht_monitor.dashboards``, extra ``[dashboards]``)
to ``<uid>.json`` in ``--out`` (default: the current directory); ``--check`` compares
instead (default: the checkout's ``deploy/grafana/dashboards/``, where they are
committed). ``push`` uploads them to a running Grafana through ``grafana-client``:
rendered in memory, or read from ``--dir``. It checks ``/api/health``, finds or creates
the ``--folder`` and posts every dashboard to ``/api/dashboards/db`` with
``overwrite: true`` (create or overwrite). Any failure, a missing extra included, is
one line on stderr and exit code 1; the token is read from an environment variable
and never printed or logged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nht_monitor._extras import MissingExtraError, require_extra

DEFAULT_TOKEN_ENV = "GRAFANA_TOKEN"
DEFAULT_FOLDER = "nht-monitor"
PUSH_MESSAGE = "nht-monitor dashboards push"


class PushError(Exception):
    """A push that cannot go on; the message is the one line shown to the user."""


@dataclass(frozen=True)
class PushResult:
    """One uploaded dashboard: its uid, Grafana's url path and new version."""

    uid: str
    title: str
    url: str
    version: int | None


# -- locating the dashboards -----------------------------------------------------------

def rendered_dashboards() -> list[dict[str, Any]]:
    """Every dashboard rendered in memory by the generator (needs the SDK)."""
    from nht_monitor.dashboards.generate import render_dashboards

    return render_dashboards()


def load_dashboards(directory: Path) -> list[dict[str, Any]]:
    """Every ``*.json`` dashboard in ``directory`` (sorted by file name)."""
    if not directory.is_dir():
        raise PushError(f"dashboard directory {str(directory)!r} does not exist")
    boards = []
    for path in sorted(directory.glob("*.json")):
        try:
            board = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PushError(f"{path}: not a readable dashboard JSON file ({exc})") from None
        if not isinstance(board, dict) or not board.get("uid") or not board.get("title"):
            raise PushError(f"{path}: a dashboard needs a 'uid' and a 'title'")
        boards.append(board)
    if not boards:
        raise PushError(f"no *.json dashboards in {str(directory)!r}")
    return boards


# -- pushing ---------------------------------------------------------------------------

def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part (safe to print)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def connect(url: str, token: str | None, timeout: float = 10.0) -> Any:
    """A ``grafana_client.GrafanaApi`` for ``url`` (token auth when given)."""
    require_extra("dashboards", "grafana_client")
    from grafana_client import GrafanaApi

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PushError(f"--url must be an http(s) URL of Grafana, got {redact_url(url)!r}")
    return GrafanaApi.from_url(url, credential=token or None, timeout=timeout)


def _one_line(text: object, limit: int = 160) -> str:
    """``text`` on one line, shortened (HTML error pages can be long)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _explain(exc: BaseException, what: str, url: str) -> str:
    """One line describing a failed Grafana call (never contains the token)."""
    from grafana_client.client import (
        GrafanaClientError,
        GrafanaException,
        GrafanaServerError,
        GrafanaTimeoutError,
        GrafanaUnauthorizedError,
    )
    where = redact_url(url)
    if isinstance(exc, GrafanaUnauthorizedError):
        return (f"{what}: Grafana at {where} answered 401 Unauthorized: check the API token "
                "(a service-account token with the Editor role)")
    if isinstance(exc, GrafanaTimeoutError):
        return f"{what}: Grafana at {where} did not answer in time"
    if isinstance(exc, GrafanaClientError):
        if not isinstance(exc.response, dict):  # an HTML error page, a proxy…
            return (f"{what}: {where} answered {exc.status_code} without a Grafana API "
                    "response: is --url the Grafana base URL?")
        body = exc.response
        detail = _one_line(body.get("message") or exc.message)
        status = body.get("status")
        if exc.status_code == 412:
            return (f"{what}: Grafana refused with 412 Precondition Failed"
                    f"{f' ({status})' if status else ''}: {detail}")
        if exc.status_code == 403:
            return f"{what}: Grafana answered 403 Access denied: {detail}"
        return f"{what}: Grafana answered {exc.status_code}: {detail}"
    if isinstance(exc, GrafanaServerError):
        return f"{what}: Grafana at {where} failed with a server error ({exc.status_code})"
    if isinstance(exc, GrafanaException):
        return f"{what}: cannot reach Grafana at {where}"
    # connection refused, DNS failure, TLS errors (niquests exceptions)
    return f"{what}: cannot reach Grafana at {where} ({type(exc).__name__})"


def _call(what: str, url: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except PushError:
        raise
    except Exception as exc:  # every client/transport error becomes one clear line
        raise PushError(_explain(exc, what, url)) from None


def ensure_folder(api: Any, url: str, title: str) -> str:
    """The uid of the folder titled ``title``, created when missing."""
    folders = _call("listing folders", url, api.folder.get_all_folders)
    if not isinstance(folders, list):
        raise PushError(f"listing folders: {redact_url(url)} did not answer like Grafana "
                        "(is --url the Grafana base URL?)")
    for folder in folders:
        if isinstance(folder, dict) and folder.get("title") == title:
            return str(folder["uid"])
    created = _call(f"creating folder {title!r}", url, api.folder.create_folder, title)
    if not isinstance(created, dict) or "uid" not in created:
        raise PushError(f"creating folder {title!r}: unexpected answer from {redact_url(url)}")
    return str(created["uid"])


def push_dashboards(api: Any, url: str, boards: list[dict[str, Any]],
                    folder: str | None) -> list[PushResult]:
    """Check health, resolve the folder, create-or-overwrite every dashboard."""
    health = _call("health check", url, api.client.GET, "/health")
    if isinstance(health, dict) and health.get("database") not in (None, "ok"):
        raise PushError(f"health check: Grafana at {redact_url(url)} reports database "
                        f"{health.get('database')!r}")
    folder_uid = ensure_folder(api, url, folder) if folder else None
    results = []
    for board in boards:
        payload: dict[str, Any] = {"dashboard": {**board, "id": None},
                                   "overwrite": True, "message": PUSH_MESSAGE}
        if folder_uid:
            payload["folderUid"] = folder_uid
        answer = _call(f"uploading {board['uid']!r}", url,
                       api.dashboard.update_dashboard, payload)
        if not isinstance(answer, dict):
            raise PushError(f"uploading {board['uid']!r}: {redact_url(url)} did not answer "
                            "like Grafana (is --url the Grafana base URL?)")
        results.append(PushResult(uid=answer.get("uid", board["uid"]), title=board["title"],
                                  url=answer.get("url", ""), version=answer.get("version")))
    return results


# -- CLI -------------------------------------------------------------------------------

def _generate(args: argparse.Namespace) -> int:
    from nht_monitor.dashboards.generate import run

    return run(Path(args.out) if args.out else None, args.check,
               "nht-monitor dashboards generate")


def _push(args: argparse.Namespace) -> int:
    token = os.environ.get(args.token_env) if args.token_env else None
    try:
        if args.token_env != DEFAULT_TOKEN_ENV and not token:
            raise PushError(f"environment variable {args.token_env} (--token-env) is not set")
        require_extra("dashboards", "grafana_client")
        boards = load_dashboards(Path(args.dir)) if args.dir else rendered_dashboards()
        api = connect(args.url, token, timeout=args.timeout)
        results = push_dashboards(api, args.url, boards, args.folder or None)
    except (PushError, MissingExtraError) as exc:
        print(f"nht-monitor dashboards push: error: {exc}", file=sys.stderr)
        return 1
    base = redact_url(args.url).rstrip("/")
    for result in results:
        version = f" (version {result.version})" if result.version is not None else ""
        print(f"pushed {result.title!r} -> {base}{result.url}{version}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``dashboards generate`` and ``dashboards push``."""
    parser = subparsers.add_parser(
        "dashboards", help="generate the Grafana dashboards or push them to Grafana",
        description="Grafana dashboards as code (see docs/DASHBOARDS.md).")
    sub = parser.add_subparsers(dest="dashboards_command", metavar="ACTION", required=True)

    gen = sub.add_parser("generate", help="render every dashboard to <uid>.json")
    gen.add_argument("--out", help="output directory (default: the current directory; "
                                   "with --check: the checkout's deploy/grafana/dashboards)")
    gen.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 if a file in the directory is stale")
    gen.set_defaults(func=_generate)

    push = sub.add_parser("push", help="upload (create or overwrite) every dashboard")
    push.add_argument("--url", required=True, help="Grafana base URL, e.g. http://localhost:3000")
    push.add_argument("--token-env", default=DEFAULT_TOKEN_ENV, metavar="VAR",
                      help="environment variable holding the API token "
                           f"(default {DEFAULT_TOKEN_ENV}; unset = no token)")
    push.add_argument("--folder", default=DEFAULT_FOLDER, metavar="NAME",
                      help=f"folder to put them in, created if missing (default "
                           f"{DEFAULT_FOLDER!r}; '' = the root level)")
    push.add_argument("--dir", help="directory of dashboard JSON files to upload (default: "
                                    "render the dashboards in memory)")
    push.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    push.set_defaults(func=_push)
