"""The run log: round trip, damaged files, other schemas, tailing."""

from __future__ import annotations

import json
import logging
import math

import pytest

from nht_monitor.runlog import RunLogTail, RunLogWriter, read_run
from nht_monitor.runlog.schema import RunHeader, RunLogError, Sample


def header(run_id="r"):
    return RunHeader(run_id=run_id, started_at="2026-11-23T12:00:00Z",
                     model={"class_name": "M", "n_params": 10}, layers=["a", "b"], head="b",
                     config={"every": 1})


def sample(step, norm=1.0, **extra):
    row = {"step": step, "tau": step * 0.01, "lr": 0.1, "weight_decay": 0.1, "norm": norm,
           "head_norm": 0.5, "layer_norms": {"a": 0.8, "b": 0.5}, "grad_norm": None,
           "layer_grad_norms": None, "metrics": {"val_acc": 0.5}}
    row.update(extra)
    return row


def write(path, rows):
    writer = RunLogWriter(path, header())
    for row in rows:
        writer.write(row)
    writer.close()


def test_round_trip_with_nonfinite_values(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, [sample(1), sample(2, norm=math.nan), sample(3, norm=math.inf,
                                                             metrics={"loss": -math.inf})])
    run = read_run(path)
    assert run.header.run_id == "r" and run.header.head == "b"
    assert [s.step for s in run.samples] == [1, 2, 3]
    assert math.isnan(run.samples[1].norm) and run.samples[2].norm == math.inf
    assert run.samples[2].metrics["loss"] == -math.inf
    for line in path.read_text().splitlines():  # standard JSON only
        json.loads(line, parse_constant=lambda c: pytest.fail(c))
    assert run.samples[0] == Sample.model_validate(sample(1))


def test_truncated_last_line_is_tolerated_silently(tmp_path, caplog):
    path = tmp_path / "r.jsonl"
    write(path, [sample(1), sample(2)])
    with open(path, "a") as handle:
        handle.write(json.dumps(sample(3))[:25])
    with caplog.at_level(logging.WARNING):
        run = read_run(path)
    assert [s.step for s in run.samples] == [1, 2]
    assert run.truncated and run.skipped_lines == 0 and "corrupt" not in caplog.text


def test_corrupt_lines_are_skipped_with_a_counted_warning(tmp_path, caplog):
    path = tmp_path / "r.jsonl"
    write(path, [sample(1)])
    with open(path, "a") as handle:
        handle.write("garbage\n")
        handle.write(json.dumps({"step": "two"}) + "\n")
        handle.write(json.dumps(sample(4)) + "\n")
    with caplog.at_level(logging.WARNING):
        run = read_run(path)
    assert [s.step for s in run.samples] == [1, 4]
    assert run.skipped_lines == 2
    assert "skipped 2 corrupt line(s) (line 3, 4)" in caplog.text


def test_repeated_steps_keep_the_last_occurrence(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, [sample(1), sample(2, norm=2.0), sample(3), sample(2, norm=9.0), sample(3, norm=7.0)])
    run = read_run(path)
    assert [(s.step, s.norm) for s in run.samples] == [(1, 1.0), (2, 9.0), (3, 7.0)]


@pytest.mark.parametrize("first_line, message", [
    ('{"schema": "other/thing", "version": 1}', "not an nht-monitor run log"),
    ('{"schema": "nht-monitor/run-log", "version": 7, "run_id": "x"}', "newer than this"),
    ("[1, 2", "first line is not JSON"),
    ('{"schema": "nht-monitor/run-log", "version": 1}', "invalid header"),
])
def test_foreign_or_newer_files_are_clear_errors(tmp_path, first_line, message):
    path = tmp_path / "x.jsonl"
    path.write_text(first_line + "\n")
    with pytest.raises(RunLogError, match=message):
        read_run(path)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "e.jsonl").write_text("")
    with pytest.raises(RunLogError, match="empty"):
        read_run(tmp_path / "e.jsonl")
    with pytest.raises(FileNotFoundError):
        read_run(tmp_path / "missing.jsonl")


def test_header_only_log(tmp_path):
    path = tmp_path / "h.jsonl"
    RunLogWriter(path, header()).close()
    run = read_run(path)
    assert run.samples == [] and run.header.layers == ["a", "b"]


def test_writer_refuses_to_overwrite(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, [sample(1)])
    with pytest.raises(FileExistsError):
        RunLogWriter(path, header())


def test_tail_follows_a_growing_file_with_partial_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    tail = RunLogTail(path)
    assert tail.poll() == [] and tail.header is None   # not there yet
    writer = RunLogWriter(path, header())
    writer.write(sample(1))
    assert [s.step for s in tail.poll()] == [1] and tail.header.run_id == "r"
    line = json.dumps(sample(2))
    with open(path, "a") as handle:
        handle.write(line[:10])
    assert tail.poll() == []                           # partial: wait for the rest
    with open(path, "a") as handle:
        handle.write(line[10:] + "\nnot json\n")
    assert [s.step for s in tail.poll()] == [2]
    assert tail.skipped_lines == 1
    writer.close()
    path.write_text("")                                # rewritten from scratch
    assert tail.poll() == []
    write(path.with_name("t2.jsonl"), [sample(5)])
    path.write_bytes(path.with_name("t2.jsonl").read_bytes())
    assert [s.step for s in tail.poll()] == [5]


def test_tail_rejects_foreign_files(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text('{"schema": "else"}\n')
    with pytest.raises(RunLogError):
        RunLogTail(path).poll()
