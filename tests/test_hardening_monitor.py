"""Issue 17: close() on a full disk never raises into user code; a run that fails to
start (its Prometheus port taken) leaves no log that blocks a retry with its run_id."""

from __future__ import annotations

import logging
import os
import socket
import stat

import pytest
import torch

import nht_monitor
from nht_monitor import read_run
from nht_monitor.exporter import ExporterError
from tests.conftest import train_steps

needs_dev_full = pytest.mark.skipif(
    not (os.path.exists("/dev/full") and stat.S_ISCHR(os.stat("/dev/full").st_mode)),
    reason="needs /dev/full (a device on which every write fails with ENOSPC)")


def _fill_disk_under(writer) -> None:
    """From now on every write of ``writer``'s file descriptor fails with ENOSPC, as on a
    disk that just filled up: the descriptor is pointed at /dev/full (the kernel's
    always-full device); what was written to the real file before stays on disk."""
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, writer._file.fileno())
    finally:
        os.close(full)


@needs_dev_full
def test_close_on_a_disk_that_filled_up_returns_counts_and_keeps_what_was_written(
        tiny_net, log_dir, caplog):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1, weight_decay=1e-3)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="full",
                                assess=False, write_interval=0)
    train_steps(tiny_net, optimizer, 4, monitor=monitor)
    monitor.flush()
    written = [s.step for s in read_run(log_dir / "full.jsonl").samples]
    assert written == [1, 2, 3, 4]

    _fill_disk_under(monitor._writer)
    with caplog.at_level(logging.ERROR, logger="nht_monitor"):
        train_steps(tiny_net, optimizer, 3, monitor=monitor)  # the loop goes on
        monitor.close()  # must not raise
        monitor.close()
    assert monitor.closed and monitor._writer.closed
    assert monitor.errors_total >= 1
    assert monitor.snapshot().errors_total == monitor.errors_total  # nht_errors_total
    assert "No space left on device" in caplog.text
    assert "closing the run log" in caplog.text
    # nothing recorded before the disk filled up is lost
    assert [s.step for s in read_run(log_dir / "full.jsonl").samples] == written


@needs_dev_full
def test_with_watch_on_a_full_device_exits_normally(tiny_net, log_dir, caplog):
    (log_dir / "dev.jsonl").symlink_to("/dev/full")  # the log's writes all hit ENOSPC
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with caplog.at_level(logging.ERROR, logger="nht_monitor"):
        with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="dev",
                               assess=False, write_interval=0) as monitor:
            train_steps(tiny_net, optimizer, 3, monitor=monitor)
    assert monitor.closed
    assert monitor.errors_total >= 1
    assert monitor.snapshot().errors_total == monitor.errors_total
    assert "No space left on device" in caplog.text
    assert monitor.step == 3  # the hook kept counting steps for the user's loop


@needs_dev_full
def test_close_after_a_failed_flush_with_nothing_written_yet(tiny_net, log_dir, caplog):
    """The header waits in the buffer for the first sample: a disk full from the start
    fails at close(), which still returns."""
    (log_dir / "empty.jsonl").symlink_to("/dev/full")
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="empty",
                                assess=False)
    with caplog.at_level(logging.ERROR, logger="nht_monitor"):
        monitor.close()
    assert monitor.errors_total == 1
    assert "closing the run log" in caplog.text


def test_a_taken_port_fails_at_construction_and_leaves_no_log(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ExporterError, match=f"port {port} .*already in use"):
            nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="clash",
                              assess=False, prometheus_port=port)
        assert list(log_dir.iterdir()) == []
        train_steps(tiny_net, optimizer, 1)  # the failed monitor hooked nothing

        # the obvious retry: same run_id, a free port
        monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="clash",
                                    assess=False, prometheus_port=0)
    try:
        assert monitor.prometheus_url and f":{port}/" not in monitor.prometheus_url
        train_steps(tiny_net, optimizer, 2, monitor=monitor)
    finally:
        monitor.close()
    run = read_run(log_dir / "clash.jsonl")
    assert run.header.run_id == "clash"
    assert [s.step for s in run.samples] == [1, 2]


def test_a_failed_resume_keeps_the_log_it_was_continuing(tiny_net, log_dir):
    optimizer = torch.optim.SGD(tiny_net.parameters(), lr=0.1)
    with nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="kept",
                           assess=False) as monitor:
        train_steps(tiny_net, optimizer, 2, monitor=monitor)
    before = (log_dir / "kept.jsonl").read_bytes()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(ExporterError, match="already in use"):
            nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="kept",
                              resume=True, assess=False,
                              prometheus_port=taken.getsockname()[1])
    assert (log_dir / "kept.jsonl").read_bytes() == before
    assert [s.step for s in read_run(log_dir / "kept.jsonl").samples] == [1, 2]


@needs_dev_full
def test_a_recorder_closes_its_log_even_when_the_last_write_fails(log_dir):
    from datetime import datetime, timezone

    from nht_monitor.live.recorder import RunRecorder
    from nht_monitor.runlog.schema import ModelInfo, RunHeader

    header = RunHeader(run_id="held", started_at=datetime.now(timezone.utc),
                       model=ModelInfo(class_name="M", n_params=2), layers=["a", "b"])
    recorder = RunRecorder.open(log_dir, header, assess=False, hold_last=True)
    for step in (1, 2, 3):
        recorder.record(step=step, tau=0.1 * step, lr=0.1, weight_decay=1.0,
                        layer_norms={"a": 1.0, "b": 2.0})
    recorder._writer.flush()
    _fill_disk_under(recorder._writer)
    with pytest.raises(OSError, match="No space left"):
        recorder.close()  # a library call: the error is the caller's to count
    assert recorder._writer.closed
    assert [s.step for s in read_run(log_dir / "held.jsonl").samples] == [1, 2]


def test_bad_watch_options_are_one_line_without_the_values_given(tmp_path):
    """A misspelled key next to a password-bearing Pushgateway URL, and a bad type: one
    line naming each bad option, no pydantic dump, no secret."""
    import torch

    import nht_monitor

    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError) as info:
        nht_monitor.watch(model, optimizer, log_dir=tmp_path, every="often",
                          prometheus={"port": 0, "pushgatway": "http://ops:s3cret@gw:9091"})
    message = str(info.value)
    assert "\n" not in message and "s3cret" not in message
    assert message.startswith("invalid nht_monitor.watch options: ")
    assert "every: " in message and "prometheus.pushgatway: Extra inputs are not permitted" in message
    with pytest.raises(ValueError, match=r"^invalid nht_monitor.watch options: prometheus.port: "):
        nht_monitor.watch(model, optimizer, log_dir=tmp_path, prometheus_port=-5)
    assert not list(tmp_path.iterdir())  # nothing written
