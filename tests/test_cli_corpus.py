"""Issue 17: a corpus of corrupt run logs against every CLI command.

Hand-made files (deeply nested JSON, numbers out of range, wrong types, NUL bytes, a BOM,
CRLF line ends, bytes that are not UTF-8, an empty file, a header alone, a directory, a
FIFO and a link to ``/dev/zero`` named ``*.jsonl``) and hypothesis-generated ones go to
``show``, ``analyze``, ``backtest``, ``scorecard``, ``advise`` and ``report``, in process
and through a real process, and the ``exporter`` serves their directory. Each command
either reads past the corrupt lines (exit code 0) or says what is wrong in one line
(exit code 2): never a traceback, never a hang. Also: ``--debug`` and the one line for an
internal error (cli.main), and the exporter's ``--follow-symlinks``.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nht_monitor.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("show", "analyze", "backtest", "scorecard", "advise", "report")


def header(run_id: str, **fields) -> dict:
    return {"schema": "nht-monitor/run-log", "version": 1, "run_id": run_id,
            "started_at": "2026-01-01T00:00:00Z", "model": {"class_name": "M", "n_params": 10},
            "layers": ["a", "b"], "head": "b", "config": {}, **fields}


def sample(step, **fields) -> dict:
    return {"step": step, "tau": 0.01 * step if isinstance(step, int) else 0.1, "lr": 0.1,
            "weight_decay": 0.1, "norm": 1.0, "head_norm": 0.5,
            "layer_norms": {"a": 0.8, "b": 0.5}, "metrics": {"val_acc": 0.5}, **fields}


def log_text(run_id: str, samples: list | None = None, head: dict | None = None,
             sep: str = "\n") -> str:
    samples = [sample(i) for i in range(1, 31)] if samples is None else samples
    lines = [json.dumps(head or header(run_id))] + [json.dumps(s) for s in samples]
    return sep.join(lines) + sep


DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "1" + "0" * 400


def corpus_bytes() -> dict[str, bytes]:
    """name → the bytes of a corrupt (or oddly written) ``name.jsonl``."""
    ok = log_text
    return {
        "nested_header": (DEEP + "\n").encode(),
        "nested_sample": (ok("nested_sample") + '{"step": 31, "norm": ' + DEEP + "}\n").encode(),
        "huge_float": ok("huge_float", [sample(1), sample(2, norm=1.0), sample(3), sample(4)])
        .replace('"norm": 1.0', '"norm": 1e400', 1).replace('"step": 2,', '"step": 1e400,')
        .encode(),
        "huge_int_step": (ok("huge_int_step", [sample(i) for i in range(1, 5)])
                          + json.dumps(sample(5)).replace('"step": 5', f'"step": {HUGE_INT}')
                          + "\n").encode(),
        "huge_int_header": ok("huge_int_header").replace('"n_params": 10', f'"n_params": '
                                                                          f'{HUGE_INT}').encode(),
        "header_types": ok("x", head=header(5, layers="abc", model="x", version="1")).encode(),
        "header_types_2": ok("x", head=header("header_types_2", layers=[1, 2], head=3,
                                               config=[])).encode(),
        "header_lr_plan": ok("x", head=header("header_lr_plan", lr_plan=[[1, 0.1]] * 5000)
                             ).encode(),
        "header_lr_plan_2": ok("x", head=header("header_lr_plan_2",
                                                 lr_plan=[[2, 0.1], [1, "NaN"]])).encode(),
        "header_not_object": b'["nht-monitor/run-log", 1]\n' + ok("x").encode(),
        "sample_types": ok("sample_types", [
            sample(1), sample("a"), sample(3, norm="x"), sample(4, layer_norms=[1]),
            sample(5, assessment={"regime": 3}), sample(6, metrics=[1]), sample(7, tau=None),
            sample(8, lr={"a": 1}), [1, 2], "text", None, 5, sample(9)]).encode(),
        "nan_inf_negative": ok("nan_inf_negative", [sample(i) for i in range(1, 10)] + [
            sample(10, norm=float("nan")), sample(11, lr=float("inf")), sample(12, tau=-1.0),
            sample(-5), sample(13, weight_decay=-1.0)]).encode(),
        "nul_bytes": (json.dumps(header("nul_bytes")) + "\n").encode() + b"\x00" * 100 + b"\n"
        + json.dumps(sample(1)).encode().replace(b"0.8", b"0.8\x00") + b"\n"
        + json.dumps(sample(2)).encode() + b"\n",
        "nul_header": b"\x00" * 64 + b"\n" + json.dumps(sample(1)).encode() + b"\n",
        "bom": b"\xef\xbb\xbf" + ok("bom").encode(),
        "crlf": ok("crlf", sep="\r\n").encode(),
        "non_utf8": (json.dumps(header("non_utf8")) + "\n").encode() + b"\xff\xfe\x80 x\n"
        + json.dumps(sample(1)).encode().replace(b'"a"', b'"\xe9"') + b"\n"
        + ok("non_utf8").split("\n", 1)[1].encode(),
        "utf16_header": b"\xff\xfe" + json.dumps(header("utf16")).encode("utf-16-le") + b"\n",
        "empty": b"",
        "header_only": (json.dumps(header("header_only")) + "\n").encode(),
        "header_no_newline": json.dumps(header("header_no_newline")).encode(),
        "truncated_last_line": ok("truncated_last_line")[:-20].encode(),
    }


REFUSED = {"x.jsonl": "a directory", "y.jsonl": "a FIFO", "zero.jsonl": "a character device"}
"""The non-regular files of the corpus: every command refuses them in one line, exit 2."""


def write_corpus(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in corpus_bytes().items():
        path = directory / f"{name}.jsonl"
        path.write_bytes(data)
        paths.append(path)
    (directory / "x.jsonl").mkdir()
    os.mkfifo(directory / "y.jsonl")
    (directory / "zero.jsonl").symlink_to("/dev/zero")
    return paths + [directory / name for name in REFUSED]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def argv(command: str, path: Path, out_dir: Path) -> list[str]:
    return [command, str(path), *(["-o", str(out_dir / "r.html")] if command == "report"
                                  else [])]


def run_in_process(capsys, args: list[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err, (args, captured.err)
    return code, captured.err


def assert_clean(code: int, err: str, command: str, args) -> None:
    """Exit code 0 (read past what is corrupt) or 2 with exactly one error line."""
    assert code in (0, 2), (args, code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1, (args, err)
        assert lines[0].startswith(f"nht-monitor {command}: error: "), (args, err)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_on_the_hand_made_corpus(corpus, tmp_path, capsys, command):
    codes = {}
    for path in corpus:
        args = argv(command, path, tmp_path)
        code, err = run_in_process(capsys, args)
        assert_clean(code, err, command, args)
        codes[path.name] = code
        if path.name in REFUSED:
            assert f"not a regular file ({REFUSED[path.name]})" in err, err
    # what cannot be a run log is refused, whatever the command
    for name in ("empty", "nested_header", "header_types", "header_types_2", "nul_header",
                 "utf16_header", "header_not_object", *(n[:-6] for n in REFUSED)):
        assert codes[f"{name}.jsonl"] == 2, (name, codes)
    # a readable log with corrupt lines among good ones is read past them
    for name in ("crlf", "nested_sample", "sample_types", "non_utf8", "nul_bytes"):
        assert codes[f"{name}.jsonl"] == 0, (name, codes)


def test_a_corrupt_log_among_good_ones_is_one_line_for_the_multi_log_commands(
        corpus, tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text(log_text("good"))
    by_name = {p.name: p for p in corpus}
    for command in ("scorecard", "report", "advise"):
        args = argv(command, good, tmp_path)
        args[2:2] = [str(by_name["nested_header.jsonl"])]  # scorecard/report: more runs;
        code, err = run_in_process(capsys, args)             # advise: a calibration log
        assert code == 2 and len(err.strip().splitlines()) == 1, (args, err)
        assert "nested too deeply" in err


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nht_monitor.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.timeout(400)
@pytest.mark.parametrize("command, name, expected", [
    ("show", "nested_header.jsonl", 2), ("analyze", "y.jsonl", 2),
    ("backtest", "zero.jsonl", 2), ("scorecard", "x.jsonl", 2),
    ("advise", "sample_types.jsonl", 0), ("report", "non_utf8.jsonl", 0),
    ("backtest", "huge_int_step.jsonl", None), ("analyze", "bom.jsonl", None)])
def test_a_real_process_exits_cleanly(corpus, tmp_path, command, name, expected):
    path = next(p for p in corpus if p.name == name)
    result = run_cli(*argv(command, path, tmp_path))
    assert "Traceback" not in result.stderr, result.stderr
    assert_clean(result.returncode, result.stderr, command, (command, name))
    if expected is not None:
        assert result.returncode == expected, result.stderr


# -- hypothesis-generated logs -------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)
FIELDS = ("step", "tau", "lr", "weight_decay", "norm", "head_norm", "layer_norms", "metrics",
          "assessment", "grad_norm")
SAMPLE_LINE = st.builds(
    lambda step, broken: json.dumps({**sample(step), **broken}),
    st.integers(min_value=0, max_value=10_000),
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=3))
HEADER_LINE = st.one_of(
    st.just(json.dumps(header("gen"))),
    st.builds(lambda broken: json.dumps({**header("gen"), **broken}),
              st.dictionaries(st.sampled_from(["version", "run_id", "model", "layers", "head",
                                               "config", "schema", "started_at"]), JSON,
                              min_size=1, max_size=2)))
LOG_BYTES = st.one_of(
    st.binary(max_size=300),  # anything at all
    st.builds(lambda head, lines: (head + "\n").encode() + b"\n".join(lines),
              HEADER_LINE, st.lists(st.binary(max_size=80), max_size=6)),
    st.builds(lambda head, lines, cut: ("\n".join([head, *lines]) + "\n").encode()[:cut],
              HEADER_LINE, st.lists(SAMPLE_LINE, min_size=1, max_size=25),
              st.integers(min_value=1, max_value=100_000)))


def _check_all(data: bytes, commands: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gen.jsonl"
        path.write_bytes(data)
        for command in commands:
            args = argv(command, path, Path(tmp))
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(args)
            assert "Traceback" not in out.getvalue() + err.getvalue(), (data, err.getvalue())
            assert_clean(code, err.getvalue(), command, (args, data))


@pytest.mark.timeout(300)
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(LOG_BYTES)
def test_generated_logs_through_the_reading_commands(data):
    _check_all(data, ("show", "analyze", "backtest", "scorecard", "advise"))


@pytest.mark.timeout(300)
@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(LOG_BYTES)
def test_generated_logs_through_report(data):
    _check_all(data, ("report",))


# -- errors: --debug and internal errors ---------------------------------------------------

def test_debug_shows_the_traceback_instead_of_the_line(tmp_path, capsys):
    missing = str(tmp_path / "missing.jsonl")
    assert main(["show", missing]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"nht-monitor show: error: [Errno 2] No such file or directory: {missing!r}"]
    with pytest.raises(FileNotFoundError):
        main(["--debug", "show", missing])
    result = run_cli("--debug", "show", missing)
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert "FileNotFoundError" in result.stderr.splitlines()[-1]


def test_an_internal_error_is_one_line_exit_1_and_debug_shows_it(tmp_path, capsys,
                                                                   monkeypatch):
    from nht_monitor.commands import show

    def broken(path, last=10):  # a bug in a command: not an input error
        return {}["missing key"]

    path = tmp_path / "ok.jsonl"
    path.write_text(log_text("ok"))
    monkeypatch.setattr(show, "render", broken)
    assert main(["show", str(path)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["nht-monitor show: internal error: KeyError: 'missing key'; rerun with "
                     "--debug for the traceback"]
    with pytest.raises(KeyError):
        main(["--debug", "show", str(path)])


def test_a_multi_line_message_becomes_one_line(capsys, monkeypatch, tmp_path):
    from nht_monitor.commands import show

    def broken(path, last=10):
        raise ValueError("first\n  second\n\nthird")

    monkeypatch.setattr(show, "render", broken)
    assert main(["show", str(tmp_path / "r.jsonl")]) == 2
    assert capsys.readouterr().err == "nht-monitor show: error: first; second; third\n"


def test_help_states_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--debug" in out and "exit codes:" in out
    assert re.search(r"^  2 +bad input", out, re.M) and re.search(r"^  1 +not the input", out,
                                                                  re.M)


# -- the exporter --------------------------------------------------------------------------

class Sidecar:
    """``nht-monitor exporter`` on a free port as a real process."""

    def __init__(self, log_dir: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nht_monitor.cli", "exporter", "--log-dir", str(log_dir),
             "--port", "0", "--interval", "0.2", *extra],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else ""
        match = re.search(r"at (http://127\.0\.0\.1:\d+/metrics)", line)
        if not match:
            self.stop()
            raise AssertionError(f"the exporter did not start: {line!r} {self.stderr!r}")
        self.url = match.group(1)
        self.stderr = ""

    def scrape(self) -> str:
        with urllib.request.urlopen(self.url, timeout=30) as response:
            assert response.status == 200
            return response.read().decode()

    def wait_for(self, needle: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.scrape()
            if needle in text or time.monotonic() > deadline:
                return text
            time.sleep(0.2)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, self.stderr = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, self.stderr = self.process.communicate()
        return self.process.returncode


@pytest.mark.timeout(300)
def test_the_exporter_serves_the_corpus_directory(corpus):
    sidecar = Sidecar(corpus[0].parent)
    try:
        text = sidecar.wait_for('run="crlf"')
        assert 'nht_step{launch="",rank="0",run="crlf"} 30.0' in text
        text = sidecar.wait_for('run="sample_types"')
        assert 'run="sample_types"' in text
        sidecar.scrape()  # a second read of the directory, and a scrape after it
    finally:
        code = sidecar.stop()
    assert code == 0, sidecar.stderr
    assert "Traceback" not in sidecar.stderr, sidecar.stderr


@pytest.mark.timeout(300)
def test_exporter_follow_symlinks(tmp_path):
    logs, outside = tmp_path / "logs", tmp_path / "outside"
    logs.mkdir()
    outside.mkdir()
    (logs / "inside.jsonl").write_text(log_text("inside"))
    (outside / "away.jsonl").write_text(log_text("away"))
    (logs / "linked.jsonl").symlink_to(outside / "away.jsonl")
    for extra, followed in (((), False), (("--follow-symlinks",), True)):
        sidecar = Sidecar(logs, "--no-analyze", *extra)
        try:
            text = sidecar.wait_for('run="away"' if followed else 'run="inside"')
            assert 'nht_step{launch="",rank="0",run="inside"} 30.0' in text
            assert ('nht_step{launch="",rank="0",run="away"} 30.0' in text) is followed, text
        finally:
            assert sidecar.stop() == 0, sidecar.stderr
        if not followed:
            assert "linked.jsonl" in sidecar.stderr and "outside" in sidecar.stderr
