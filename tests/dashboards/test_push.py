"""``nht-monitor dashboards push`` against a local stand-in of the Grafana HTTP API."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

pytest.importorskip("grafana_client")

from nht_monitor.cli import main  # noqa: E402
from tests.dashboards.grafana_standin import GrafanaStandin  # noqa: E402

JSON_DIR = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
TOKEN = "glsa_Secret-Token_4f9a8b7c6d5e"
TOKEN_ENV = "NHT_TEST_GRAFANA_TOKEN"


def _committed() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(JSON_DIR.glob("*.json"))}


def _push(url: str, capfd, caplog, *extra: str) -> tuple[int, str]:
    caplog.set_level(logging.DEBUG)
    code = main(["-v", "dashboards", "push", "--url", url, "--token-env", TOKEN_ENV, *extra])
    out, err = capfd.readouterr()
    text = out + err + caplog.text
    assert TOKEN not in text, "the token leaked into output or logs"
    return code, text


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def test_push_creates_folder_and_every_dashboard(token_env, capfd, caplog):
    boards = _committed()
    assert len(boards) >= 3
    with GrafanaStandin(token=TOKEN) as grafana:
        code, text = _push(grafana.url, capfd, caplog, "--folder", "NHT Monitor")
        assert code == 0, text
        requests = grafana.requests
    routes = [(r.method, r.path.split("?")[0]) for r in requests]
    assert routes[0] == ("GET", "/api/health")
    assert routes[1:3] == [("GET", "/api/folders"), ("POST", "/api/folders")]
    posts = [r for r in requests if r.path == "/api/dashboards/db"]
    assert [r.method for r in posts] == ["POST"] * len(boards)
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in requests)
    folder = grafana.state.folders[0]
    assert requests[2].body == {"title": "NHT Monitor"}
    sent = {}
    for r in posts:
        assert r.body["overwrite"] is True
        assert r.body["folderUid"] == folder["uid"]
        assert r.body["dashboard"]["id"] is None
        sent[r.body["dashboard"]["uid"]] = r.body["dashboard"]
    for board in boards.values():  # uploaded unchanged apart from the id
        assert {k: v for k, v in sent[board["uid"]].items() if k != "id"} == \
            {k: v for k, v in board.items() if k != "id"}
    for board in boards.values():
        assert f"/d/{board['uid']}/" in text


def test_push_reuses_existing_folder_and_overwrites(token_env, capfd, caplog):
    with GrafanaStandin(token=TOKEN) as grafana:
        assert _push(grafana.url, capfd, caplog, "--folder", "nht")[0] == 0
        assert _push(grafana.url, capfd, caplog, "--folder", "nht")[0] == 0
        folder_posts = [r for r in grafana.requests
                        if r.method == "POST" and r.path == "/api/folders"]
        versions = {uid: d["version"] for uid, d in grafana.state.dashboards.items()}
    assert len(folder_posts) == 1  # found by title the second time
    assert set(versions.values()) == {2}  # second push overwrote the first


def test_push_to_root_level_without_folder(token_env, capfd, caplog):
    with GrafanaStandin(token=TOKEN) as grafana:
        assert _push(grafana.url, capfd, caplog, "--folder", "")[0] == 0
        paths = [r.path for r in grafana.requests]
        posts = [r for r in grafana.requests if r.path == "/api/dashboards/db"]
    assert not any(p.startswith("/api/folders") for p in paths)
    assert all("folderUid" not in r.body for r in posts)


def test_wrong_token_gives_one_clear_line(monkeypatch, capfd, caplog):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with GrafanaStandin(token="another-token") as grafana:
        code, text = _push(grafana.url, capfd, caplog)
    assert code == 1
    errors = [line for line in text.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "401 Unauthorized" in errors[0] and "token" in errors[0]
    assert "Traceback" not in text


def test_version_conflict_412_gives_one_clear_line(token_env, capfd, caplog):
    with GrafanaStandin(token=TOKEN) as grafana:
        grafana.state.force_412 = True
        code, text = _push(grafana.url, capfd, caplog)
        uploads = [r for r in grafana.requests if r.path == "/api/dashboards/db"]
    assert code == 1
    errors = [line for line in text.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "412" in errors[0] and "version-mismatch" in errors[0]
    assert "changed by someone else" in errors[0]
    assert len(uploads) == 1  # stops at the first refusal


def test_unreachable_grafana_gives_one_clear_line(token_env, capfd, caplog):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, text = _push(f"http://127.0.0.1:{port}", capfd, caplog)
    assert code == 1
    errors = [line for line in text.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot reach Grafana" in errors[0]
    assert "Traceback" not in text


def test_credentials_in_url_are_not_printed(monkeypatch, capfd, caplog):
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    with GrafanaStandin(token=None) as grafana:
        url = grafana.url.replace("http://", "http://admin:hunter2pass@")
        caplog.set_level(logging.DEBUG)
        code = main(["-v", "dashboards", "push", "--url", url])
        out, err = capfd.readouterr()
        auth = grafana.requests[0].headers.get("Authorization", "")
    assert code == 0
    assert auth.startswith("Basic ")  # the URL's credentials were used…
    assert "hunter2pass" not in out + err + caplog.text  # …and never shown


def test_missing_token_variable_is_an_error(monkeypatch, capfd):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    code = main(["dashboards", "push", "--url", "http://127.0.0.1:9", "--token-env", TOKEN_ENV])
    err = capfd.readouterr().err
    assert code == 1 and f"{TOKEN_ENV}" in err and "not set" in err


def test_a_server_that_is_not_grafana_gives_one_clear_line(tmp_path, token_env, capfd, caplog):
    """A plain web server (HTML 404 pages) instead of Grafana: one line, exit 1."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code, text = _push(f"http://127.0.0.1:{server.server_address[1]}", capfd, caplog)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1
    errors = [line for line in text.splitlines() if "error:" in line]
    assert len(errors) == 1 and "404" in errors[0] and "health check" in errors[0]
    assert "Traceback" not in text


def test_push_renders_in_memory_without_dir(token_env, capfd, caplog, tmp_path, monkeypatch):
    """No --dir: the dashboards are rendered, whatever the current directory holds."""
    monkeypatch.chdir(tmp_path)  # no JSON files here
    with GrafanaStandin(token=TOKEN) as grafana:
        code, text = _push(grafana.url, capfd, caplog)
        stored = {uid: d["dashboard"] for uid, d in grafana.state.dashboards.items()}
    assert code == 0, text
    assert set(stored) == {b["uid"] for b in _committed().values()}


def test_push_reads_the_given_dir(token_env, capfd, caplog, tmp_path):
    board = dict(_committed()["nht-layers.json"], title="Layers (edited copy)")
    (tmp_path / "nht-layers.json").write_text(json.dumps(board))
    with GrafanaStandin(token=TOKEN) as grafana:
        code, text = _push(grafana.url, capfd, caplog, "--dir", str(tmp_path))
        stored = {uid: d["dashboard"] for uid, d in grafana.state.dashboards.items()}
    assert code == 0, text
    assert list(stored) == ["nht-layers"]
    assert stored["nht-layers"]["title"] == "Layers (edited copy)"


def test_push_with_a_missing_dir_gives_one_clear_line(token_env, capfd, tmp_path):
    code = main(["dashboards", "push", "--url", "http://127.0.0.1:9", "--token-env", TOKEN_ENV,
                 "--dir", str(tmp_path / "nowhere")])
    err = capfd.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "does not exist" in err
