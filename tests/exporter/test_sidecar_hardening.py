"""Issue 17: the sidecar on hostile directories — crafted logs, links out of the
directory, directories and devices named ``*.jsonl``: one warning per file and kind of
problem, never a traceback, the good runs still served."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nht_monitor.exporter import RunLogDirectory
from tests.support.prometheus import wait_for
from tests.test_hardening_reads import header_line, sample_line

ROOT = Path(__file__).resolve().parents[2]

NESTED = "[" * 100_000 + "]" * 100_000
HUGE_STEP = sample_line(1).replace('"step": 1,', '"step": 1' + "0" * 400 + ",")


def log(path: Path, run_id: str, steps: range, extra: str = "") -> Path:
    path.write_text(header_line(run_id) + "".join(sample_line(s) for s in steps) + extra)
    return path


def values(text: str, name: str) -> dict[str, float]:
    return {s.labels["run"]: s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == name}


def test_cli_sidecar_on_crafted_logs_warns_once_each_and_never_a_traceback(tmp_path):
    good = log(tmp_path / "good.jsonl", "good", range(1, 30))
    nested = tmp_path / "nested.jsonl"
    nested.write_text(header_line("nested").rstrip("\n")[:-1] + f', "deep": {NESTED}}}\n'
                      + sample_line(1))
    step = log(tmp_path / "step.jsonl", "step", range(1, 30), HUGE_STEP)
    regime = log(tmp_path / "regime.jsonl", "regime", range(1, 30),
                 sample_line(30, assessment={"regime": 3}))
    process = subprocess.Popen(
        [sys.executable, "-m", "nht_monitor.cli", "exporter", "--log-dir", str(tmp_path),
         "--port", "0", "--interval", "0.1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/metrics)", line)
        assert match, line + process.stderr.read()
        url = match.group(1)
        first = urllib.request.urlopen(url, timeout=10).read().decode()
        # more of the same in every crafted log; the good log's new step shows the
        # sidecar has polled since
        with step.open("a") as handle:
            handle.write(HUGE_STEP + sample_line(30))
        with regime.open("a") as handle:
            handle.write(sample_line(31, assessment={"regime": 4}))
        with good.open("a") as handle:
            handle.write(sample_line(30))

        def scrape() -> str:
            return urllib.request.urlopen(url, timeout=10).read().decode()

        wait_for(lambda: values(scrape(), "nht_step").get("good") == 30
                 and values(scrape(), "nht_step").get("step") == 30, timeout=30,
                 message="the sidecar polled the appended lines")
        second = scrape()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read()
    assert "Traceback" not in stderr and "OverflowError" not in stderr, stderr
    warnings = [x for x in stderr.splitlines() if x.startswith("WARNING")]
    for path, needle in ((nested, "JSON nested too deeply"), (step, "skipped a corrupt line"),
                         (regime, "skipped a corrupt line")):
        mine = [x for x in warnings if str(path) in x]
        assert len(mine) == 1 and needle in mine[0], warnings
    assert not [x for x in warnings if str(good) in x]
    assert set(values(first, "nht_step")) == {"good", "step", "regime"}
    assert values(second, "nht_step") == {"good": 30, "step": 30, "regime": 29}
    errors = values(second, "nht_errors_total")
    assert errors["step"] == 2 and errors["regime"] == 2 and errors["good"] == 0


@pytest.fixture
def hostile(tmp_path):
    """A log directory holding a good log, links to logs inside and outside it, a link to
    /dev/zero, a directory named ``x.jsonl`` and a dangling link."""
    logs = tmp_path / "logs"
    logs.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    log(logs / "inside.jsonl", "inside", range(1, 6))
    log(outside / "secret.jsonl", "secret", range(1, 4))
    (logs / "out.jsonl").symlink_to(outside / "secret.jsonl")
    (logs / "relative.jsonl").symlink_to(Path("..") / "outside" / "secret.jsonl")
    (logs / "link-in.jsonl").symlink_to(logs / "inside.jsonl")
    (logs / "zero.jsonl").symlink_to("/dev/zero")
    (logs / "x.jsonl").mkdir()
    (logs / "dangling.jsonl").symlink_to(logs / "gone")
    return logs


def test_links_out_of_the_directory_are_not_followed(hostile, caplog):
    directory = RunLogDirectory(hostile, analyze=False)
    with caplog.at_level(logging.WARNING):
        for _ in range(4):
            directory.poll()
    steps = {s.run_id: s.sample.step for s in directory.snapshots()}
    assert steps == {"inside": 5, "link-in": 5}  # one run id twice: the stem labels
    messages = [r.getMessage() for r in caplog.records]
    for name, needle in (("out", "outside"), ("relative", "outside"), ("zero", "/dev/zero"),
                         ("x", "not a regular file")):
        mine = [m for m in messages if f"{hostile / name}.jsonl" in m]
        assert len(mine) == 1 and needle in mine[0], messages
    assert len(messages) == 4, messages  # inside, link-in and the dangling link: silent
    assert not any("secret" in m and "skipping" not in m for m in messages)


def test_follow_symlinks_reads_links_out_of_the_directory(hostile, caplog):
    directory = RunLogDirectory(hostile, analyze=False, follow_symlinks=True)
    with caplog.at_level(logging.WARNING):
        directory.poll()
        directory.poll()
    steps = {s.run_id: s.sample.step for s in directory.snapshots()}
    assert steps["secret"] == 3 and steps["inside"] == 5 and len(steps) == 4
    messages = [r.getMessage() for r in caplog.records]
    # still refused, once each: the device and the directory
    assert len([m for m in messages if "zero.jsonl" in m]) == 1
    assert len([m for m in messages if "x.jsonl" in m]) == 1
    assert len(messages) == 2, messages


def test_a_problem_warns_again_once_the_file_was_replaced(hostile, caplog):
    directory = RunLogDirectory(hostile, analyze=False)
    with caplog.at_level(logging.WARNING):
        directory.poll()
        (hostile / "x.jsonl").rmdir()
        directory.poll()
        (hostile / "x.jsonl").mkdir()
        directory.poll()
        directory.poll()
    assert len([r for r in caplog.records if "x.jsonl" in r.getMessage()]) == 2


def test_an_unreadable_log_is_retried_with_back_off(tmp_path, caplog, monkeypatch):
    from nht_monitor.exporter import sidecar
    from nht_monitor.runlog import RunLogTail

    class Clock:  # the sidecar's clock, moved by hand
        now = 1_000_000.0

        @classmethod
        def time(cls) -> float:
            return cls.now

    monkeypatch.setattr(sidecar, "time", Clock)
    path = log(tmp_path / "r.jsonl", "r", range(1, 4))
    directory = RunLogDirectory(tmp_path, analyze=False)
    calls = []

    def failing(self):
        calls.append(Clock.now)
        raise PermissionError(13, "Permission denied")

    original = RunLogTail.poll
    monkeypatch.setattr(RunLogTail, "poll", failing)
    with caplog.at_level(logging.WARNING):
        start = Clock.now
        for tenth in range(200):  # 20 s of polls every 0.1 s
            Clock.now = start + tenth / 10
            directory.poll()
    offsets = [round(t - start, 1) for t in calls]
    assert offsets == [0.0, 1.0, 3.0, 7.0, 15.0]  # pauses of 1, 2, 4, 8 s (then 16)
    assert len([r for r in caplog.records if "cannot read" in r.getMessage()]) == 1
    run = directory._runs[path]
    assert run.failures == 5 and run.errors_total == 5
    monkeypatch.setattr(RunLogTail, "poll", original)
    Clock.now = run.retry_at
    directory.poll()
    assert directory.snapshots()[0].sample.step == 3 and run.failures == 0
