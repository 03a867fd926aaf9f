"""The run log: round trip, damaged files, other schemas, tailing."""

from __future__ import annotations

import json
import logging
import math
import random

import numpy as np
import pytest

from nht_monitor.runlog import RunLogTail, RunLogWriter, read_run
from nht_monitor.runlog.reader import UNCHECKED_VALUES, _SampleColumns, read_columns
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


# -- read_columns: the columnar fast path must agree with read_run --------------------

def header_line(run_id="r"):
    return json.dumps(header(run_id).to_json_dict()) + "\n"


def read_both(path, caplog):
    """read_run and read_columns of ``path``, with the warnings each logged."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        run = read_run(path)
    slow_log = [r.getMessage() for r in caplog.records]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        cols = read_columns(path)
    fast_log = [r.getMessage() for r in caplog.records]
    return run, cols, slow_log, fast_log


def assert_same(path, caplog):
    """read_columns(path) holds exactly what read_run(path) holds, column by column, read
    by one process or two (the second half of the file in a forked one)."""
    run, cols, slow_log, fast_log = read_both(path, caplog)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        split = read_columns(path, workers=2)
    assert [r.getMessage() for r in caplog.records] == fast_log
    assert (split.header, split.skipped_lines, split.truncated) == \
        (cols.header, cols.skipped_lines, cols.truncated)
    for name in ("step", "tau", "lr", "weight_decay", "norm", "head_norm"):
        np.testing.assert_array_equal(getattr(split, name), getattr(cols, name))
    assert set(split.metrics) == set(cols.metrics)
    for key in cols.metrics:
        np.testing.assert_array_equal(split.metrics[key], cols.metrics[key])
        np.testing.assert_array_equal(split.metric_present[key], cols.metric_present[key])
    assert cols.header == run.header
    assert (cols.skipped_lines, cols.truncated) == (run.skipped_lines, run.truncated)
    assert fast_log == slow_log
    samples = run.samples

    def column(values):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=float)

    for name, values in [("step", [s.step for s in samples]),
                         ("tau", [s.tau for s in samples]),
                         ("lr", [s.lr for s in samples]),
                         ("weight_decay", [s.weight_decay for s in samples]),
                         ("norm", [s.norm for s in samples]),
                         ("head_norm", [s.head_norm for s in samples])]:
        np.testing.assert_array_equal(getattr(cols, name), column(values), err_msg=name)
    names = {k for s in samples for k in s.metrics}
    assert set(cols.metrics) == names
    for key in names:
        np.testing.assert_array_equal(cols.metric_present[key],
                                      [key in s.metrics for s in samples], err_msg=key)
        np.testing.assert_array_equal(cols.metrics[key],
                                      column([s.metrics.get(key) for s in samples]), err_msg=key)
    # and the analyzer's columns (first present metric of each key list)
    from nht_monitor.analysis import AnalyzerSettings, series_from_samples
    from nht_monitor.analysis.series import COLUMNS, series_from_columns

    settings = AnalyzerSettings(train_loss_keys=("train_loss", "loss"))
    slow, fast = series_from_samples(samples, settings), series_from_columns(cols, settings)
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    return run, cols


# Lines read_run skips as corrupt (and read_columns must too), each after a good line.
CORRUPT_LINES = [
    "garbage",
    '{"step": 5, "tau": 0.1',                       # cut short mid-file
    json.dumps({"step": "two", "tau": 1, "lr": 1, "weight_decay": 1, "norm": 1}),
    json.dumps({"step": -1, "tau": 1, "lr": 1, "weight_decay": 1, "norm": 1}),
    json.dumps({"step": 1.5, "tau": 1, "lr": 1, "weight_decay": 1, "norm": 1}),
    json.dumps({"step": 7, "lr": 1, "weight_decay": 1, "norm": 1}),          # no tau
    json.dumps(sample(7, norm="abc")),
    json.dumps(sample(7, norm=None)),
    json.dumps(sample(7, norm=[1])),
    json.dumps(sample(7, head_norm="x")),
    json.dumps(sample(7, metrics={"val_acc": None})),
    json.dumps(sample(7, metrics={"val_acc": "high"})),
    json.dumps(sample(7, metrics=[1, 2])),
    json.dumps(sample(7, layer_norms=[1, 2])),
    json.dumps(sample(7, layer_norms=None)),
    json.dumps(sample(7, layer_grad_norms="x")),
    json.dumps(sample(7, assessment="intermediate")),
    json.dumps(sample(7, assessment=[])),
    json.dumps(sample(7, groups=[{"lr": 1}])),
    json.dumps(sample(7, groups={"lr": 1})),
    json.dumps(sample(7, nonfinite="a")),
    json.dumps(sample(7, nonfinite=[1])),
    json.dumps(sample(7, time="now")),
    json.dumps(sample(7, grad_norm="x")),
    json.dumps(sample(7)) + " trailing",
    "[1, 2, 3]",
    "null",
    '"a string"',
]

# Lines both keep (odd but valid for the Sample model).
ODD_GOOD_LINES = [
    json.dumps(sample(8, norm="NaN", head_norm="Infinity", metrics={"val_acc": "-Infinity"})),
    json.dumps(sample(9, norm="nan", head_norm="-inf", metrics={"loss": "inf", "acc": "1.5"})),
    json.dumps(sample(10, norm="1e400", tau="0.5", lr=True)),
    json.dumps(sample(11, head_norm=None, metrics={})),
    json.dumps({"step": 12, "tau": 1, "lr": 1, "weight_decay": 1, "norm": 1}),  # minimal
    json.dumps(sample(13, extra_field={"x": [1, 2]}, assessment={"regime": "weak"},
                      groups=[{"lr": 1, "weight_decay": "NaN", "tau": 2, "more": 1}],
                      nonfinite=["a"], time=1.5)),
    '{"step": 14, "step": 15, "tau": 1, "lr": 1, "weight_decay": 1, "norm": 1}',  # dup key
    "  " + json.dumps(sample(16)) + "  \t",
    json.dumps(sample(17, layer_norms={"a\u00e9\u2028": 1.0}, metrics={"\u00fc": 2.0})),
]


@pytest.mark.parametrize("line", CORRUPT_LINES + ODD_GOOD_LINES)
def test_read_columns_agrees_with_read_run_line_by_line(tmp_path, caplog, line):
    path = tmp_path / "r.jsonl"
    path.write_text(header_line() + json.dumps(sample(1)) + "\n" + line + "\n"
                    + json.dumps(sample(100)) + "\n")
    run, _cols = assert_same(path, caplog)
    assert run.skipped_lines == (1 if line in CORRUPT_LINES else 0)


@pytest.mark.parametrize("tail", [
    '{"step": 3, "tau"',                  # killed mid-line: truncated, silent
    json.dumps(sample(3)),                # complete but unterminated: kept
    "   ",                                # whitespace only
    "",
])
def test_read_columns_agrees_on_the_last_line(tmp_path, caplog, tail):
    path = tmp_path / "r.jsonl"
    path.write_text(header_line() + json.dumps(sample(1)) + "\n" + json.dumps(sample(2)) + "\n"
                    + tail)
    assert_same(path, caplog)


@pytest.mark.parametrize("body", [
    b"",                                                     # header only
    b"\n\n   \n",                                            # blank lines
    b"\r\n".join(json.dumps(sample(i)).encode() for i in range(1, 4)) + b"\r\n",  # CRLF
    json.dumps(sample(1)).encode() + b"\r" + json.dumps(sample(2)).encode() + b"\n",  # lone CR
    b'{"step": 1,\r"tau": 1, "lr": 1, "weight_decay": 1, "norm": 1}\n',   # CR inside JSON
    json.dumps(sample(1)).encode() + b"\r",                  # ends with a lone CR
    json.dumps(sample(1, layer_norms={"a\xff": 1.0})).encode().replace(b"a\\u00ff", b"a\xff")
    + b"\n",                                                 # invalid UTF-8 inside a string
    b"\xff\xfe garbage \x00\n" + json.dumps(sample(2)).encode() + b"\n",
    json.dumps(sample(1, metrics={"\x1c": 1.0})).encode() + b"\n\x1c\x1d\n",
])
def test_read_columns_agrees_on_odd_bytes(tmp_path, caplog, body):
    path = tmp_path / "r.jsonl"
    path.write_bytes(header_line().encode() + body)
    assert_same(path, caplog)


def test_read_columns_agrees_on_generated_logs(tmp_path, caplog):
    """Random logs: NaN/infinite values, sparse and fallback metrics, rewinds (repeated
    steps), corrupt lines, a truncated end; analysed the same way too."""
    from nht_monitor.analysis import Analyzer
    from nht_monitor.runlog.writer import dumps_line

    rng = random.Random(14)
    for trial in range(6):
        lines, step = [], 0
        for _ in range(400):
            step = max(0, step - rng.randint(1, 30)) if rng.random() < 0.02 else step + 1
            value = rng.choice([rng.uniform(0, 50)] * 8 + [math.nan, math.inf, -math.inf])
            metrics = {}
            if rng.random() < 0.7:
                metrics["train_loss" if rng.random() < 0.8 else "loss"] = rng.choice(
                    [rng.random(), math.nan])
            if rng.random() < 0.5:
                metrics["train_acc"] = min(1.0, step / 200)
            if step % 10 == 0:
                metrics["val_acc"] = float(step > 250)
            row = sample(step, norm=value, tau=step * 0.01, metrics=metrics,
                         head_norm=rng.choice([None, value / 3]),
                         assessment={"regime": "weak"} if step % 10 == 0 else None)
            lines.append(dumps_line(row))
            if rng.random() < 0.02:
                lines.append(rng.choice(CORRUPT_LINES) + "\n")
        text = header_line(f"g{trial}") + "".join(lines)
        if trial % 2:
            text = text[:-rng.randint(2, 40)]              # a killed run's last line
        path = tmp_path / f"g{trial}.jsonl"
        path.write_text(text)
        run, cols = assert_same(path, caplog)
        assert len(cols) == len(run.samples) > 100
        slow = Analyzer(run.header).analyze(run.samples)
        assert Analyzer().analyze(path) == slow            # the path: read_columns
        assert Analyzer(run.header).analyze(cols, until=200) == \
            Analyzer(run.header).analyze(run.samples, until=200)


@pytest.mark.parametrize("first_line, message", [
    ('{"schema": "other/thing", "version": 1}', "not an nht-monitor run log"),
    ('{"schema": "nht-monitor/run-log", "version": 7, "run_id": "x"}', "newer than this"),
    ("[1, 2", "first line is not JSON"),
    ('{"schema": "nht-monitor/run-log", "version": 1}', "invalid header"),
    ("", "empty"),
    ("   ", "empty"),
])
def test_read_columns_errors_like_read_run(tmp_path, first_line, message):
    path = tmp_path / "x.jsonl"
    path.write_text(first_line + "\n" + json.dumps(sample(1)) + "\n")
    with pytest.raises(RunLogError, match=message) as slow:
        read_run(path)
    with pytest.raises(RunLogError, match=message) as fast:
        read_columns(path)
    assert str(fast.value) == str(slow.value)
    (tmp_path / "e.jsonl").write_text("")
    with pytest.raises(RunLogError, match="empty"):
        read_columns(tmp_path / "e.jsonl")
    with pytest.raises(FileNotFoundError):
        read_columns(tmp_path / "missing.jsonl")


def test_read_columns_checks_every_sample_field():
    """The fast schema covers every field of Sample (a new field must be added there)."""
    assert set(_SampleColumns.__annotations__) == set(Sample.model_fields)
    assert set(UNCHECKED_VALUES) <= set(Sample.model_fields)


def test_plain_float_reads_the_nonfinite_spellings_like_logfloat():
    """read_columns validates LogFloat fields as plain floats: for JSON input pydantic's
    float reads every spelling exactly as LogFloat's before-validator does."""
    from pydantic import TypeAdapter

    from nht_monitor.runlog.schema import LogFloat

    log_float, plain = TypeAdapter(LogFloat), TypeAdapter(float)
    for text in ['"NaN"', '"nan"', '"Infinity"', '"-Infinity"', '"inf"', '"-inf"', '"INF"',
                 '"+inf"', '"infinity"', '"1.5"', '" 2 "', '"1e400"', "1e400", "-1e400", "true",
                 "false", "null", '""', '"abc"', "[]", "{}", "1", "-0.0", '"NAN"', '"-nan"',
                 '"1_000"', '"0x10"', "123456789012345678901234567890", '"nan "']:
        results = []
        for adapter in (log_float, plain):
            try:
                results.append(repr(adapter.validate_json(text)))
            except ValueError:
                results.append("error")
        assert results[0] == results[1], text


def test_read_columns_documented_differences(tmp_path, caplog):
    """A layer norm that is not a number (read_run skips the line) is kept by
    read_columns, which never reads layer norms; a step beyond int64 is a corrupt line
    for both."""
    path = tmp_path / "r.jsonl"
    path.write_text(header_line() + json.dumps(sample(1, layer_norms={"a": "x"})) + "\n")
    run, cols, _, _ = read_both(path, caplog)
    assert run.skipped_lines == 1 and cols.skipped_lines == 0 and len(cols) == 1
    huge = dict(sample(1), step=2 ** 1100)
    path.write_text(header_line() + json.dumps(huge) + "\n" + json.dumps(sample(2)) + "\n")
    run, cols, _, _ = read_both(path, caplog)
    assert [s.step for s in run.samples] == [2] and run.skipped_lines == 1
    assert cols.skipped_lines == 1 and list(cols.step) == [2.0]


def test_read_columns_in_two_processes_and_its_fallback(tmp_path, caplog, monkeypatch):
    """Over PARALLEL_BYTES the second half is read by a forked child (when this process
    has one thread); if the child fails, this process reads that half itself."""
    import nht_monitor.runlog.reader as reader
    from nht_monitor._forked import fork_workers

    path = tmp_path / "r.jsonl"
    body = [json.dumps(sample(i, norm=float(i))) for i in range(1, 200)]
    body[150] = "garbage"
    path.write_text(header_line() + "\n".join(body) + "\n" + '{"step": 300')
    one = read_columns(path, workers=1)
    monkeypatch.setattr(reader, "PARALLEL_BYTES", 0)
    forked, fork = [], reader._scan_in_child
    monkeypatch.setattr(reader, "_scan_in_child", lambda *a: forked.append(a) or fork(*a))
    collect_child = reader._collect
    for collect in (collect_child, lambda pool, future: collect_child(pool, future) and None):
        monkeypatch.setattr(reader, "_collect", collect)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            cols = read_columns(path)
        assert "skipped 1 corrupt line(s) (line 152)" in caplog.text
        assert (cols.skipped_lines, cols.truncated) == (one.skipped_lines, one.truncated)
        np.testing.assert_array_equal(cols.step, one.step)
        np.testing.assert_array_equal(cols.metrics["val_acc"], one.metrics["val_acc"])
    assert len(forked) == (2 if fork_workers(2, 2) == 2 else 0)
    with pytest.raises(FileNotFoundError):
        from nht_monitor.analysis import Analyzer

        Analyzer().analyze(tmp_path / "missing.jsonl")
