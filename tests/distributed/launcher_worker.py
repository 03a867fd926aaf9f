"""One process of ``torchrun --nproc_per_node 2`` (started by test_launcher_labels.py).

Usage: ``python -m torch.distributed.run --standalone --nproc_per_node 2
launcher_worker.py OUT_DIR BASE_PORT``. Every rank trains a tiny DDP model (gloo, CPU)
watched with ``PrometheusSettings(port=BASE_PORT, per_rank_health=True)``, writes
``OUT_DIR/rank<N>.json`` (its ``/metrics`` URL, log path and launcher variables) and keeps
serving until the test writes ``OUT_DIR/scraped`` (or ``WAIT_SECONDS`` pass). Stand-alone:
torchrun runs it as a script, so it imports nothing from ``tests``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import nht_monitor
from nht_monitor.exporter.settings import PrometheusSettings

STEPS = 6
WAIT_SECONDS = 180.0
ENV_SEEN = ("TORCHELASTIC_RUN_ID", "RANK", "LOCAL_RANK", "WORLD_SIZE")


def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def train(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
          monitor: nht_monitor.Monitor, rank: int) -> None:
    """``STEPS`` SGD steps on this rank's half of a fixed batch."""
    generator = torch.Generator().manual_seed(1 + rank)
    inputs = torch.randn(32, 8, generator=generator)
    targets = torch.randint(0, 3, (32,), generator=generator)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        monitor.log(train_loss=loss)
    monitor.flush()


def wait_for(path: Path, timeout: float) -> None:
    """Return once ``path`` exists; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear in {timeout:.0f} s")
        time.sleep(0.1)


def main(out_dir: str, base_port: int) -> None:
    torch.set_num_threads(1)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group("gloo")  # env:// as torchrun sets it
    rank = dist.get_rank()
    out = Path(out_dir)
    try:
        model = DistributedDataParallel(tiny_model())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.05)
        monitor = nht_monitor.watch(
            model, optimizer, log_dir=out / "runs", run_id="launched", assess_every=2,
            prometheus=PrometheusSettings(port=base_port, per_rank_health=True))
        train(model, optimizer, monitor, rank)
        result = {"url": monitor.prometheus_url, "log_path": str(monitor.log_path),
                  "env": {name: os.environ.get(name) for name in ENV_SEEN}}
        (out / f"rank{rank}.json.tmp").write_text(json.dumps(result))
        (out / f"rank{rank}.json.tmp").rename(out / f"rank{rank}.json")
        wait_for(out / "scraped", WAIT_SECONDS)
        dist.barrier()  # both scraped before either stops serving
        monitor.close()
    finally:
        dist.barrier()  # no rank tears gloo down while its peer is still in a collective
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
