"""Issue 17: bounded reading of run logs, and crafted logs giving one line, not a traceback.

Over-long lines are skipped (the rest is read), non-regular files (devices, FIFOs,
directories) are refused with a one-line error, memory stays bounded on a file with no
line breaks, and crafted lines (a deeply nested header, a step of 10^400, an integer
``regime``) give one line through the CLI.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nht_monitor.cli import main
from nht_monitor.runlog import RunLogTail, read_run
from nht_monitor.runlog.reader import MAX_LINE_BYTES, read_columns
from nht_monitor.runlog.schema import RunHeader, RunLogError

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def header_line(run_id: str = "r") -> str:
    header = RunHeader(run_id=run_id, started_at="2026-11-23T12:00:00Z",
                       model={"class_name": "M", "n_params": 10}, layers=["a", "b"],
                       head="b", config={"every": 1})
    return json.dumps(header.to_json_dict()) + "\n"


def sample(step: int, **extra) -> dict:
    row = {"step": step, "tau": step * 0.01, "lr": 0.1, "weight_decay": 0.1, "norm": 1.0,
           "head_norm": 0.5, "layer_norms": {"a": 0.8, "b": 0.5}, "metrics": {"val_acc": 0.5}}
    row.update(extra)
    return row


def sample_line(step: int, **extra) -> str:
    return json.dumps(sample(step, **extra)) + "\n"


def padded_line(step: int, size: int) -> str:
    """A valid sample line of exactly ``size`` bytes before its line break."""
    base = json.dumps(sample(step, pad=""))
    line = base.replace('"pad": ""', '"pad": "' + "x" * (size - len(base)) + '"')
    assert len(line) == size
    return line + "\n"


# -- over-long lines -------------------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2])
def test_an_over_long_line_is_skipped_and_the_rest_is_read(tmp_path, caplog, workers):
    path = tmp_path / "r.jsonl"
    limit = 1000
    body = [sample_line(s) for s in range(1, 40)]
    body[9] = padded_line(10, limit)          # exactly at the limit: kept
    body[19] = padded_line(20, limit + 1)     # one byte over: skipped
    body[29] = "y" * (50 * limit) + "\n"      # far over, not even JSON: skipped
    path.write_text(header_line() + "".join(body))
    with caplog.at_level(logging.WARNING):
        run = read_run(path, max_line=limit)
    steps = [s for s in range(1, 40) if s not in (20, 30)]
    assert [s.step for s in run.samples] == steps
    assert run.skipped_lines == 2 and not run.truncated
    assert "skipped 2 line(s) longer than 1,000 bytes (line 21, 31)" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        cols = read_columns(path, max_line=limit, workers=workers)
    assert list(cols.step) == [float(s) for s in steps]
    assert cols.skipped_lines == 2
    assert "skipped 2 line(s) longer than 1,000 bytes (line 21, 31)" in caplog.text
    # without the limit nothing is lost: the padded line is a valid sample
    assert [s.step for s in read_run(path).samples] == [s for s in range(1, 40) if s != 30]


def test_over_long_and_corrupt_lines_are_counted_apart(tmp_path, caplog):
    path = tmp_path / "r.jsonl"
    path.write_text(header_line() + sample_line(1) + "garbage\n" + "z" * 1500 + "\n"
                    + sample_line(2) + "w" * 1700)  # an over-long unterminated end
    with caplog.at_level(logging.WARNING):
        run = read_run(path, max_line=1000)
    assert [s.step for s in run.samples] == [1, 2] and run.skipped_lines == 3
    assert "skipped 1 corrupt line(s) (line 3)" in caplog.text
    assert "skipped 2 line(s) longer than 1,000 bytes (line 4, 6)" in caplog.text
    cols = read_columns(path, max_line=1000)
    assert list(cols.step) == [1.0, 2.0] and cols.skipped_lines == 3


def test_an_over_long_header_is_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(header_line().replace('"config"', '"pad": "' + "p" * 400 + '", "config"')
                    + sample_line(1))
    for read in (read_run, read_columns):
        with pytest.raises(RunLogError, match="first line longer than 300 bytes"):
            read(path, max_line=300)
    assert read_run(path).samples[0].step == 1


def test_the_default_limit_is_16_mib():
    assert MAX_LINE_BYTES == 16 * 2 ** 20


def test_tail_keeps_a_bounded_partial_line_and_reads_on(tmp_path, caplog):
    path = tmp_path / "r.jsonl"
    path.write_text(header_line() + sample_line(1))
    tail = RunLogTail(path, max_line=1000)
    assert len(header_line()) < 1000
    assert [s.step for s in tail.poll()] == [1]
    with caplog.at_level(logging.WARNING):
        for _ in range(5):  # a line growing without a break, poll after poll
            with path.open("a") as handle:
                handle.write("q" * 700)
            assert tail.poll() == []
            assert len(tail._pending) <= 1000
        with path.open("a") as handle:
            handle.write("q\n" + sample_line(2) + "r" * 5000 + "\n" + sample_line(3))
        assert [s.step for s in tail.poll()] == [2, 3]
    assert tail.skipped_lines == 2
    warnings = [r.getMessage() for r in caplog.records if "longer than" in r.getMessage()]
    assert len(warnings) == 1  # once per kind of problem, then counted


def test_tail_reads_a_large_append_in_bounded_polls(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(header_line() + "".join(sample_line(s) for s in range(1, 2001)))
    tail = RunLogTail(path, max_poll_bytes=64 * 1024)
    steps: list[int] = []
    while batch := tail.poll():
        steps.extend(s.step for s in batch)
    assert steps == list(range(1, 2001)) and tail.skipped_lines == 0


def test_tail_warns_once_for_many_corrupt_lines(tmp_path, caplog):
    path = tmp_path / "r.jsonl"
    path.write_text(header_line() + "bad\n" * 50 + sample_line(1))
    tail = RunLogTail(path)
    with caplog.at_level(logging.WARNING):
        assert [s.step for s in tail.poll()] == [1]
    assert tail.skipped_lines == 50
    assert len([r for r in caplog.records if "corrupt" in r.getMessage()]) == 1


# -- non-regular files -----------------------------------------------------------------

def test_devices_fifos_and_directories_are_refused(tmp_path):
    zero = tmp_path / "zero.jsonl"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    folder = tmp_path / "dir.jsonl"
    folder.mkdir()
    for path, kind in ((zero, "a character device"), (fifo, "a FIFO"),
                       (folder, "a directory")):
        for read in (read_run, read_columns, lambda p: RunLogTail(p).poll()):
            with pytest.raises(RunLogError, match=f"not a regular file \\({kind}\\)"):
                read(path)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "nht_monitor.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def assert_one_line(result: subprocess.CompletedProcess, command: str, needle: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"nht-monitor {command}: error: ") and needle in lines[0]


def test_show_on_dev_zero_is_one_line():
    assert_one_line(run_cli("show", "/dev/zero"), "show",
                    "/dev/zero: not a regular file (a character device)")


@pytest.mark.parametrize("command", ["analyze", "backtest"])
def test_analyze_and_backtest_refuse_a_link_to_dev_zero(tmp_path, capsys, command):
    link = tmp_path / "r.jsonl"
    link.symlink_to("/dev/zero")
    assert main([command, str(link)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"nht-monitor {command}: error: {link}: not a regular file "
                   f"(a character device), not a run log"]


def test_memory_stays_bounded_on_a_log_without_line_breaks(tmp_path):
    """A header, then 256 MiB of NUL bytes (sparse, no line break): read_run and
    read_columns skip it as one over-long line, holding at most about the limit."""
    path = tmp_path / "sparse.jsonl"
    path.write_text(header_line())
    os.truncate(path, 256 * 2 ** 20)
    code = (
        "import sys\n"
        "from nht_monitor.runlog.reader import read_run, read_columns\n"
        "run = read_run(sys.argv[1]); cols = read_columns(sys.argv[1])\n"
        "assert run.skipped_lines == 1 and cols.skipped_lines == 1, run\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "print(int(status.split()[0]) // 1024)\n")  # ru_maxrss would count the parent's
    result = subprocess.run([PYTHON, "-c", code, str(path)], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    peak_mib = int(result.stdout.split()[-1])
    assert peak_mib < 200, peak_mib  # the file alone is 256 MiB


def test_read_columns_matches_read_run_with_a_small_limit(tmp_path):
    path = tmp_path / "r.jsonl"
    rows = []
    for s in range(1, 300):
        rows.append(padded_line(s, 600 + (s % 7) * 40) if s % 5 else sample_line(s))
    path.write_text(header_line() + "".join(rows))
    run = read_run(path, max_line=760)
    for workers in (1, 2):
        cols = read_columns(path, max_line=760, workers=workers)
        np.testing.assert_array_equal(cols.step, [float(s.step) for s in run.samples])
        assert cols.skipped_lines == run.skipped_lines > 0


# -- crafted logs: one line, not a traceback -------------------------------------------

def crafted(tmp_path: Path, kind: str) -> Path:
    """A log of 29 good samples with one crafted element (see CRAFTED)."""
    path = tmp_path / f"{kind}.jsonl"
    head = header_line()
    good = [sample_line(s) for s in range(1, 30)]
    if kind == "nested":  # a header nested far beyond Python's recursion limit
        head = head.rstrip("\n")[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
        path.write_text(head + "".join(good))
    elif kind == "step":  # 10**400: json reads it as a huge int
        path.write_text(head + "".join(good) + sample_line(1).replace(
            '"step": 1,', '"step": 1' + "0" * 400 + ","))
    elif kind == "step-float":  # 1e400: json reads it as inf
        path.write_text(head + "".join(good) + sample_line(1).replace(
            '"step": 1,', '"step": 1e400,'))
    elif kind == "regime":
        path.write_text(head + "".join(good) + sample_line(30, assessment={"regime": 3}))
    return path


COMMANDS = ["show", "analyze", "backtest", "scorecard", "report"]


def cli_args(command: str, path: Path, tmp_path: Path) -> list[str]:
    return [command, str(path)] + (["-o", str(tmp_path / "r.html")] if command == "report"
                                   else [])


@pytest.mark.parametrize("command", COMMANDS)
def test_a_deeply_nested_header_is_one_line(tmp_path, command):
    result = run_cli(*cli_args(command, crafted(tmp_path, "nested"), tmp_path))
    assert_one_line(result, command, "invalid header: JSON nested too deeply")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["regime", "step-float", "step"])
def test_a_bad_regime_or_an_infinite_step_is_one_skipped_line(tmp_path, command, kind):
    """An integer regime in an assessment, a step of 1e400 or of 10**400 (beyond int64)
    fails the schema: the line is skipped with the one counted warning, the other 29
    samples are read."""
    path = crafted(tmp_path, kind)
    result = run_cli(*cli_args(command, path, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"WARNING nht_monitor.runlog.reader: {path}: skipped 1 corrupt line(s) (line 31)"]
    if command == "show":
        assert "samples 29" in result.stdout


def test_the_schema_rejects_a_regime_that_is_not_a_string(tmp_path):
    from nht_monitor.runlog.schema import Sample

    with pytest.raises(ValueError, match="assessment regime 3 is not a string"):
        Sample.model_validate(sample(1, assessment={"regime": 3}))
    assert Sample.model_validate(sample(1, assessment={"regime": "weak"})).assessment == \
        {"regime": "weak"}
    path = crafted(tmp_path, "regime")
    run, cols = read_run(path), read_columns(path)
    assert len(run.samples) == len(cols) == 29 and run.skipped_lines == cols.skipped_lines == 1
