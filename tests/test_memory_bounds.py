"""Issue 17, the memory bound as a test: the CLI on hostile inputs, peak RSS measured.

Each command runs as a child process (``python -m nht_monitor.cli``) on

* a 512 MiB sparse ``*.jsonl``: a valid header line, then NUL bytes up to 512 MiB and no
  line break (``os.truncate``: no disk space used). The readers skip it as one over-long
  line (``MAX_LINE_BYTES``, 16 MiB) with one warning and read the rest (the header);
* a ``*.jsonl`` that is a symbolic link to ``/dev/zero``: refused, never read (a
  non-regular file; the sidecar skips a link resolving outside its directory before
  that, and refuses the device itself under ``--follow-symlinks``).

The peak resident set is ``ru_maxrss`` of the command as reaped by ``os.wait4`` in a
small launcher process (:data:`LAUNCHER`): the command's own peak, or that of a process
it forked and waited for (a forked reader) if larger. Not ``getrusage(RUSAGE_CHILDREN)``
in pytest: that is the maximum over every child pytest ever reaped, and each child
forked by pytest starts its high-water mark at pytest's own size (~500 MiB with torch
loaded; Linux keeps the mark of the memory a process had before ``exec``). Measured
2026-12-02 on the 2-core VM (MiB, launcher included: ``python -c pass`` reads 11): on the
sparse file show 63, analyze 77, backtest 77, the sidecar 84 (the file growing to
640 MiB while it tails it); on the link show 30, analyze 45, backtest 45, the sidecar
49 (both modes). A command reading the sparse file whole measures 523. Before the bound,
``analyze`` took 1,091 MiB on the sparse file (README, "RSS"). The bound asserted,
:data:`PEAK_RSS_BOUND_MIB`, is 200 MiB: more than twice the worst measured and well
under the file's 512 MiB, so reading the line whole (or holding several copies of the
16 MiB limit) fails it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from nht_monitor.runlog.reader import MAX_LINE_BYTES
from nht_monitor.runlog.schema import RunHeader

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MIB = 2 ** 20
SPARSE_BYTES = 512 * MIB
PEAK_RSS_BOUND_MIB = 200
LONGER_THAN = f"longer than {MAX_LINE_BYTES:,} bytes"
COMMAND_TIMEOUT = 120.0


def header_line(run_id: str) -> str:
    header = RunHeader(run_id=run_id, started_at="2026-12-02T12:00:00Z",
                       model={"class_name": "M", "n_params": 10}, layers=["a", "b"],
                       head="b", config={"every": 1})
    return json.dumps(header.to_json_dict()) + "\n"


def sample_line(step: int) -> str:
    return json.dumps({"step": step, "tau": step * 0.01, "lr": 0.1, "weight_decay": 0.1,
                       "norm": 1.0, "head_norm": 0.5, "layer_norms": {"a": 0.8, "b": 0.5},
                       "metrics": {"val_acc": 0.5}}) + "\n"


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    peak_mib: float
    seconds: float


# A small Python (no site, ~10 MiB) forks and execs the command and reaps it with
# os.wait4. Reaped straight from pytest instead, ru_maxrss would start at pytest's own
# size: Linux keeps the high-water mark of the memory a child had before exec (the
# forking process's, shared), and pytest here has torch loaded (~500 MiB).
LAUNCHER = r"""
import os, signal, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, lambda signum, frame: os.kill(pid, signum))
_, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as out:
    out.write(f"{usage.ru_maxrss} {code}\n")
sys.exit(code if code >= 0 else 128 - code)
"""


class Child:
    """``python -m nht_monitor.cli ARGS`` under :data:`LAUNCHER` (its own session),
    stdout/stderr in files (no pipe to fill); the peak RSS is ``ru_maxrss`` of the
    command as its launcher reaped it: the command's own, or a process it forked and
    waited for if larger. Killed (its process group) at the deadline or on failure."""

    def __init__(self, args: list[str], workdir: Path) -> None:
        stem = f"{os.getpid()}-{time.monotonic_ns()}"
        self.out_path = workdir / f"stdout-{stem}"
        self.err_path = workdir / f"stderr-{stem}"
        self.report_path = workdir / f"rusage-{stem}"
        self.started = time.monotonic()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [PYTHON, "-I", "-S", "-c", LAUNCHER, str(self.report_path),
                 PYTHON, "-m", "nht_monitor.cli", *args],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT,
                start_new_session=True)
        self.finished: Finished | None = None

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def terminate(self) -> None:
        """SIGTERM to the launcher, which passes it on to the command."""
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = COMMAND_TIMEOUT) -> Finished:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.process.args[5:]} still running after {timeout:.0f} s; "
                        f"stderr: {self.stderr()[-2000:]}")
        maxrss_kib, code = (int(x) for x in self.report_path.read_text().split())
        assert code == self.process.returncode or code < 0, (code, self.process.returncode)
        self.finished = Finished(code, self.stdout(), self.stderr(), maxrss_kib / 1024,
                                 time.monotonic() - self.started)
        return self.finished

    def kill(self) -> None:
        """SIGKILL the launcher's process group (the command too) unless both exited."""
        if self.finished is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)


def run_command(args: list[str], workdir: Path) -> Finished:
    child = Child(args, workdir)
    try:
        return child.wait()
    finally:
        child.kill()


def assert_bounded(result: Finished, what: str) -> None:
    print(f"{what}: peak RSS {result.peak_mib:.0f} MiB in {result.seconds:.1f} s")  # -s / -rP
    assert result.peak_mib < PEAK_RSS_BOUND_MIB, (
        f"{what}: peak RSS {result.peak_mib:.0f} MiB >= {PEAK_RSS_BOUND_MIB} MiB")
    assert "Traceback" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("memory-bounds")
    sparse = base / "sparse" / "sparse.jsonl"
    sparse.parent.mkdir()
    sparse.write_text(header_line("sparse"))
    os.truncate(sparse, SPARSE_BYTES)
    zero = base / "zero" / "zero.jsonl"
    zero.parent.mkdir()
    zero.symlink_to("/dev/zero")
    return {"sparse": sparse, "zero": zero, "workdir": base}


# -- show / analyze / backtest ----------------------------------------------------------

@pytest.mark.parametrize("command", ["show", "analyze", "backtest"])
def test_a_512_mib_line_is_skipped_in_bounded_memory(inputs, command):
    sparse = inputs["sparse"]
    assert sparse.stat().st_size == SPARSE_BYTES
    assert sparse.stat().st_blocks * 512 < MIB, "the file should be sparse"
    result = run_command([command, str(sparse)], inputs["workdir"])
    assert_bounded(result, f"{command} on the sparse log")
    assert result.returncode == 0, result.stderr
    # one warning line naming the file and the limit; the header is read, no sample
    assert result.stderr.splitlines() == [
        f"WARNING nht_monitor.runlog.reader: {sparse}: skipped 1 line(s) {LONGER_THAN} "
        f"(line 2)"], result.stderr
    assert "sparse" in result.stdout
    assert re.search(r"\b0 samples\b|samples 0\b", result.stdout), result.stdout


@pytest.mark.parametrize("command", ["show", "analyze", "backtest"])
def test_a_link_to_dev_zero_is_refused_in_one_line(inputs, command):
    zero = inputs["zero"]
    result = run_command([command, str(zero)], inputs["workdir"])
    assert_bounded(result, f"{command} on a link to /dev/zero")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"nht-monitor {command}: error: {zero}: not a regular file (a character device), "
        f"not a run log"], result.stderr
    assert result.stdout == ""


# -- the sidecar ------------------------------------------------------------------------

def samples_total(url: str, run: str) -> float | None:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    match = re.search(rf'^nht_samples_total\{{[^}}]*\brun="{run}"[^}}]*\}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else None


def poll_until(predicate, child: Child, timeout: float, message: str):
    """``predicate()`` until truthy; fails (with the child's stderr) at the deadline or
    if the exporter exits."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            pytest.fail(f"the exporter exited ({child.process.returncode}) while waiting for "
                        f"{message}: {child.stderr()[-2000:]}")
        try:
            last = predicate()
        except OSError as exc:  # not serving yet
            last = exc
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {message} (last {last!r}); "
                f"stderr: {child.stderr()[-2000:]}")


def run_sidecar(log_dir: Path, workdir: Path, on_first_poll=None,
                *options: str) -> Finished:
    """The exporter on ``log_dir`` (which also holds ``steady.jsonl``, a growing log):
    waits for the first warning, calls ``on_first_poll()``, then appends five samples to
    ``steady.jsonl`` one at a time, each waited for on /metrics (so at least five more
    reads of the whole directory), then SIGTERM and reap."""
    steady = log_dir / "steady.jsonl"
    steady.write_text(header_line("steady"))
    child = Child(["exporter", "--log-dir", str(log_dir), "--port", "0",
                   "--interval", "0.2", *options], workdir)
    try:
        url = poll_until(lambda: (m := re.search(r" at (http://\S+/metrics)", child.stdout()))
                         and m.group(1), child, 60, "the exporter serving")
        poll_until(lambda: "WARNING" in child.stderr(), child, 60, "the first warning")
        if on_first_poll is not None:
            on_first_poll()
        for step in range(1, 6):
            with open(steady, "a") as log:
                log.write(sample_line(step))
            poll_until(lambda: samples_total(url, "steady") == step, child, 30,
                       f"steady.jsonl read up to sample {step}")
        child.terminate()
        return child.wait(30)
    finally:
        child.kill()
        steady.unlink()


def warnings_about(stderr: str, name: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("WARNING") and name in line]


def test_sidecar_skips_a_growing_512_mib_line_in_bounded_memory(inputs):
    sparse = inputs["sparse"]

    def grow() -> None:  # the partial last line keeps growing while the sidecar tails it
        os.truncate(sparse, SPARSE_BYTES + 128 * MIB)

    try:
        result = run_sidecar(sparse.parent, inputs["workdir"], grow)
    finally:
        os.truncate(sparse, SPARSE_BYTES)
    assert_bounded(result, "the sidecar on the sparse log")
    assert result.returncode == 0, result.stderr  # SIGTERM: a clean stop
    # one warning for the file over all the reads, then only counted
    [warning] = warnings_about(result.stderr, "sparse.jsonl")
    assert f"{sparse}: skipped a line {LONGER_THAN}" in warning, warning
    assert len([ln for ln in result.stderr.splitlines() if ln.startswith("WARNING")]) == 1, \
        result.stderr


@pytest.mark.parametrize("follow", [False, True], ids=["default", "follow-symlinks"])
def test_sidecar_refuses_a_link_to_dev_zero(inputs, follow):
    zero = inputs["zero"]
    options = ["--follow-symlinks"] if follow else []
    result = run_sidecar(zero.parent, inputs["workdir"], None, *options)
    assert_bounded(result, f"the sidecar on a link to /dev/zero ({options})")
    assert result.returncode == 0, result.stderr
    [warning] = warnings_about(result.stderr, "zero.jsonl")  # once, not once per read
    # by default a link resolving outside the directory is skipped before it is opened;
    # followed, /dev/zero itself is refused as not a regular file
    needle = "not a regular file" if follow else "a link to /dev/zero, outside"
    assert f"skipping {zero}: {needle}" in warning, warning
