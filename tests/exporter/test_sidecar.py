"""The sidecar: tails every run log of a directory (real logs from real watched runs)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import nht_monitor
from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.exporter import RunLogDirectory, start_exporter
from tests.exporter.training import watched_run
from tests.support.prometheus import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_log(tmp_path_factory) -> Path:
    """A real run log: 12 steps of a tiny MLP watched by nht_monitor (assess off)."""
    log_dir = tmp_path_factory.mktemp("source-runs")
    monitor = watched_run(log_dir, "run-a", steps=12, assess=False)
    return monitor.log_path


def copy_run(source: Path, directory: Path, run_id: str, keep_samples: int | None = None) -> Path:
    """Copy a run log under another run id (header rewritten), optionally truncated."""
    lines = source.read_text().splitlines()
    header = json.loads(lines[0])
    header["run_id"] = run_id
    samples = lines[1:] if keep_samples is None else lines[1:1 + keep_samples]
    path = directory / f"{run_id}.jsonl"
    path.write_text("\n".join([json.dumps(header), *samples]) + "\n")
    return path


def by_run(directory: RunLogDirectory) -> dict:
    return {snapshot.run_id: snapshot for snapshot in directory.snapshots()}


def test_every_log_is_exported_under_its_run_id(run_log, tmp_path):
    expected = nht_monitor.read_run(run_log).samples
    copy_run(run_log, tmp_path, "run-a")
    copy_run(run_log, tmp_path, "run-b", keep_samples=5)
    directory = RunLogDirectory(tmp_path, analyze=False)
    assert directory.poll() == 12 + 5
    runs = by_run(directory)
    assert set(runs) == {"run-a", "run-b"}
    assert runs["run-a"].sample == expected[-1]
    assert runs["run-a"].samples_total == 12
    assert runs["run-a"].last_sample_time == expected[-1].time
    assert runs["run-b"].sample == expected[4]
    assert runs["run-a"].header.layers == nht_monitor.read_run(run_log).header.layers


def test_new_files_partial_lines_and_rewrites_are_followed(run_log, tmp_path):
    samples = run_log.read_text().splitlines()[1:]
    path = copy_run(run_log, tmp_path, "run-a", keep_samples=3)
    directory = RunLogDirectory(tmp_path, analyze=False)
    directory.poll()
    assert by_run(directory)["run-a"].sample.step == 3

    with open(path, "a") as log:  # the writer is in the middle of a line
        log.write(samples[3][:25])
    assert directory.poll() == 0
    assert by_run(directory)["run-a"].sample.step == 3
    with open(path, "a") as log:  # ... and finishes it
        log.write(samples[3][25:] + "\n")
    assert directory.poll() == 1
    assert by_run(directory)["run-a"].sample.step == 4

    copy_run(run_log, tmp_path, "run-new", keep_samples=2)  # a run started later
    directory.poll()
    assert by_run(directory)["run-new"].sample.step == 2

    copy_run(run_log, tmp_path, "run-a", keep_samples=1)  # rewritten from scratch
    directory.poll()
    assert by_run(directory)["run-a"].samples_total == 1


def test_two_logs_of_one_run_id_get_distinct_run_labels(run_log, tmp_path):
    shutil.copy(run_log, tmp_path / "run-a.jsonl")
    shutil.copy(run_log, tmp_path / "run-a.rank1.jsonl")  # header run_id is run-a too
    directory = RunLogDirectory(tmp_path, analyze=False)
    directory.poll()
    assert set(by_run(directory)) == {"run-a", "run-a.rank1"}


def test_other_files_are_skipped_and_old_logs_can_be_retired(run_log, tmp_path):
    (tmp_path / "notes.jsonl").write_text('{"not": "a run log"}\n')
    old = copy_run(run_log, tmp_path, "run-old")
    day_ago = time.time() - 86400
    os.utime(old, (day_ago, day_ago))
    copy_run(run_log, tmp_path, "run-a")
    keeping = RunLogDirectory(tmp_path, analyze=False)
    keeping.poll()
    assert set(by_run(keeping)) == {"run-a", "run-old"}
    retiring = RunLogDirectory(tmp_path, analyze=False, retire_after=3600)
    retiring.poll()
    assert set(by_run(retiring)) == {"run-a"}
    assert by_run(retiring)["run-a"].errors_total == 0


def test_each_run_is_analyzed_like_the_whole_log(run_log, tmp_path):
    from nht_monitor.analysis import Analyzer

    copy_run(run_log, tmp_path, "run-a")
    copy_run(run_log, tmp_path, "run-b", keep_samples=6)
    directory = RunLogDirectory(tmp_path, assess_every=1)
    directory.poll()
    for run_id, count in (("run-a", 12), ("run-b", 6)):
        log = nht_monitor.read_run(tmp_path / f"{run_id}.jsonl")
        expected = Analyzer(header=log.header).analyze(log.samples)
        got = by_run(directory)[run_id].assessment
        assert got is not None
        assert (got.n_samples, got.step, got.regime, got.phase) == \
            (count, count, expected.regime, expected.phase)
        assert got.transition.status == expected.transition.status


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="is not a directory"):
        RunLogDirectory(tmp_path / "nope")


def test_sidecar_serves_all_runs_with_their_run_labels(run_log, tmp_path):
    copy_run(run_log, tmp_path, "run-a")
    copy_run(run_log, tmp_path, "run-b", keep_samples=7)
    directory = RunLogDirectory(tmp_path, analyze=False).start(0.2)
    handle = start_exporter(directory, PrometheusSettings(port=0), source_kind="sidecar")
    try:
        text = urllib.request.urlopen(handle.url, timeout=10).read().decode()
        copy_run(run_log, tmp_path, "run-c", keep_samples=2)
        wait_for(lambda: "run-c" in urllib.request.urlopen(handle.url, timeout=10).read().decode(),
                 timeout=20, message="the new run in the scrape")
    finally:
        handle.close()
        directory.close()
    steps = {s.labels["run"]: s.value for f in text_string_to_metric_families(text)
             for s in f.samples if s.name == "nht_step"}
    assert steps == {"run-a": 12, "run-b": 7}
    info = [s.labels for f in text_string_to_metric_families(text) for s in f.samples
            if s.name == "nht_run_info"]
    assert {labels["source"] for labels in info} == {"sidecar"}


def test_cli_sidecar_serves_until_sigterm(run_log, tmp_path):
    shutil.copy(run_log, tmp_path / run_log.name)
    process = subprocess.Popen(
        [sys.executable, "-m", "nht_monitor.cli", "exporter", "--log-dir", str(tmp_path),
         "--port", "0", "--no-analyze", "--interval", "0.2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # blocks until the server is up (or it exits)
        match = re.search(r"at (http://127\.0\.0\.1:\d+/metrics)", line)
        assert match, line + process.stderr.read()
        text = urllib.request.urlopen(match.group(1), timeout=10).read().decode()
        assert 'nht_step{launch="",rank="0",run="run-a"} 12.0' in text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_sidecar_port_in_use_exits_1_naming_the_port(tmp_path, capsys):
    from nht_monitor.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["exporter", "--log-dir", str(tmp_path), "--port", str(port),
                     "--no-analyze"])
    assert code == 1
    error = capsys.readouterr().err
    assert f"port {port}" in error and "already in use" in error
