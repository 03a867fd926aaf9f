"""A real ``torchrun --nproc_per_node 2`` job (gloo, CPU): each rank's exporter carries
the launcher's identity, rank 0 serves every series, rank 1 only its health series, on
the base port plus its local rank."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from prometheus_client.parser import text_string_to_metric_families

import nht_monitor
from nht_monitor.exporter.metrics import HEALTH_SERIES
from tests.support.prometheus import free_port

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or
                                not torch.distributed.is_gloo_available(),
                                reason="torch.distributed with gloo is needed")

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("launcher_worker.py")
START_TIMEOUT = 240.0
LAUNCHER_VARIABLES = ("TORCHELASTIC_RUN_ID", "RANK", "LOCAL_RANK", "WORLD_SIZE",
                      "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "SLURM_JOB_ID",
                      "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_PROCID",
                      "SLURM_LOCALID", "SLURM_NTASKS")


def free_pair() -> int:
    """A port ``p`` such that ``p`` and ``p + 1`` are free now."""
    for _ in range(50):
        base = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", base + 1))
            except OSError:
                continue
        return base
    raise RuntimeError("no two consecutive free ports")


def samples_of(url: str) -> list:
    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def wait_for_ranks(out: Path, process: subprocess.Popen, output: Path) -> list[dict]:
    """Both ranks' result files, once written; fails with torchrun's output if it ends."""
    deadline = time.monotonic() + START_TIMEOUT
    paths = [out / "rank0.json", out / "rank1.json"]
    while not all(path.exists() for path in paths):
        if process.poll() is not None:
            pytest.fail(f"torchrun exited with {process.returncode}:\n{output.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the ranks did not start in {START_TIMEOUT:.0f} s:\n"
                        f"{output.read_text()}")
        time.sleep(0.2)
    return [json.loads(path.read_text()) for path in paths]


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> dict:
    """Run the torchrun job once; both ranks' results and scrapes."""
    out = tmp_path_factory.mktemp("torchrun")
    base = free_pair()
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    output = out / "torchrun.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "torch.distributed.run", "--standalone",
             "--nproc_per_node", "2", str(WORKER), str(out), str(base)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        ranks = wait_for_ranks(out, process, output)
        scrapes = [samples_of(rank["url"]) for rank in ranks]
        (out / "scraped").touch()
        assert process.wait(timeout=120) == 0, output.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return {"base": base, "ranks": ranks, "scrapes": scrapes}


def test_torchrun_sets_a_real_run_id(job):
    run_ids = {rank["env"]["TORCHELASTIC_RUN_ID"] for rank in job["ranks"]}
    assert len(run_ids) == 1 and run_ids.pop() not in (None, "", "none")
    assert [rank["env"]["RANK"] for rank in job["ranks"]] == ["0", "1"]


def test_each_rank_serves_on_the_base_port_plus_its_local_rank(job):
    base = job["base"]
    assert [rank["url"] for rank in job["ranks"]] == [
        f"http://127.0.0.1:{base}/metrics", f"http://127.0.0.1:{base + 1}/metrics"]


def test_rank_0_serves_every_series_labelled_with_the_launch_and_rank_0(job):
    rank0 = job["ranks"][0]
    launch = rank0["env"]["TORCHELASTIC_RUN_ID"]
    samples = job["scrapes"][0]
    assert {(s.labels["run"], s.labels["launch"], s.labels["rank"]) for s in samples} == \
        {("launched", launch, "0")}
    log = nht_monitor.read_run(rank0["log_path"])
    layers = {s.labels["layer"]: s.value for s in samples
              if s.name == "nht_layer_weight_norm"}
    assert layers == log.samples[-1].layer_norms
    names = {s.name for s in samples}
    assert {"nht_weight_norm", "nht_regime", "nht_layer_grad_norm"} <= names
    assert HEALTH_SERIES <= names


def test_rank_1_serves_only_its_health_series_labelled_rank_1(job):
    launch = job["ranks"][0]["env"]["TORCHELASTIC_RUN_ID"]
    samples = job["scrapes"][1]
    assert {s.name for s in samples} == HEALTH_SERIES
    assert {(s.labels["run"], s.labels["launch"], s.labels["rank"]) for s in samples} == \
        {("launched", launch, "1")}
    step = [s.value for s in samples if s.name == "nht_step"]
    assert step == [6.0]


def test_the_run_log_header_records_the_launch(job):
    rank0 = job["ranks"][0]
    header = nht_monitor.read_run(rank0["log_path"]).header
    assert header.launch.model_dump() == {
        "launch": rank0["env"]["TORCHELASTIC_RUN_ID"], "source": "torchrun", "rank": 0,
        "local_rank": 0, "world_size": 2}
