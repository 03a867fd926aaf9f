"""Code run in each of the 2 gloo processes (spawned by test_distributed.py).

Every worker trains the same tiny MLP (same seed) on its half of one fixed batch, wrapped
in DDP, then in FSDP2 ``fully_shard`` (parameters are DTensors with ``Shard(0)``), then
holding directly ``distribute_tensor``-made ``Shard(0)`` parameters, then in FSDP1 (with
and without ``use_orig_params``), each watched by
``nht_monitor.watch`` with the exporter on; rank 0 scrapes its own ``/metrics``. Results
go to JSON files in the output directory.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import torch
import torch.distributed as dist

import nht_monitor
from nht_monitor.exporter.settings import PrometheusSettings

STEPS = 5
LR = 0.1
WEIGHT_DECAY = 0.05
BATCH = 64


def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    # 3 output rows over 2 ranks: an uneven shard of the head
    return torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(),
                               torch.nn.Linear(32, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


class Mixed(torch.nn.Module):
    """Layers of two dtypes (float32, float64, float32...): several sharded buckets
    whose norm vectors interleave in one all-reduced vector."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Linear(8, 32)
        self.b = torch.nn.Linear(32, 16).double()
        self.c = torch.nn.Linear(16, 16)
        self.d = torch.nn.Linear(16, 3).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.a(x))
        x = torch.relu(self.b(x.double())).float()
        x = torch.relu(self.c(x))
        return self.d(x.double()).float()


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(BATCH, 8, generator=generator),
            torch.randint(0, 3, (BATCH,), generator=generator))


def train(model: torch.nn.Module, monitor: nht_monitor.Monitor,
          optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
          targets: torch.Tensor) -> None:
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        monitor.log(train_loss=loss)
    monitor.flush()


def reference_run(log_dir: str, run_id: str, make=None) -> nht_monitor.RunLog:
    """The same model unsharded in one process on the whole batch."""
    model = (make or tiny_model)()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir, run_id=run_id, assess=False)
    train(model, monitor, optimizer, *batch())
    monitor.close()
    return nht_monitor.read_run(monitor.log_path)


class CountingAllReduce:
    """Counts calls of ``torch.distributed.all_reduce`` (still calling the real one)."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = dist.all_reduce

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._real(*args, **kwargs)

    def __enter__(self) -> CountingAllReduce:
        dist.all_reduce = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        dist.all_reduce = self._real


def watched(model: torch.nn.Module, run_id: str, log_dir: str,
            params=None) -> tuple[nht_monitor.Monitor, torch.optim.Optimizer]:
    optimizer = torch.optim.SGD(params if params is not None else model.parameters(),
                                lr=LR, weight_decay=WEIGHT_DECAY)
    monitor = nht_monitor.watch(model, optimizer, log_dir=log_dir, run_id=run_id,
                                assess=False, prometheus=PrometheusSettings(port=0))
    return monitor, optimizer


def finish(monitor: nht_monitor.Monitor, rank: int, name: str, out: Path,
           all_reduce_calls: int) -> None:
    scrape = None
    if monitor.prometheus_url is not None:
        with urllib.request.urlopen(monitor.prometheus_url, timeout=30) as response:
            scrape = response.read().decode()
    result = {"rank": rank, "url": monitor.prometheus_url, "scrape": scrape,
              "all_reduce_calls": all_reduce_calls, "sharded": monitor.header.config.get("sharded"),
              "log_path": str(monitor.log_path) if rank == 0 else None,
              "samples_total": monitor.samples_total,
              "sharded_buckets": sum(1 for b in monitor.sampler._buckets if b.groups)}
    (out / f"{name}.rank{rank}.json").write_text(json.dumps(result))
    dist.barrier()  # everyone has scraped before anyone stops serving
    monitor.close()


def worker(rank: int, world_size: int, init_file: str, out_dir: str) -> None:
    """One of the ``world_size`` processes (``torch.multiprocessing.spawn`` target)."""
    torch.set_num_threads(1)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world_size)
    out = Path(out_dir)
    log_dir = str(out / "runs")
    inputs, targets = batch()
    half = BATCH // world_size
    local = inputs[rank * half:(rank + 1) * half], targets[rank * half:(rank + 1) * half]
    try:
        # DDP: replicated parameters, gradients averaged by DDP's own reducer
        from torch.nn.parallel import DistributedDataParallel as DDP
        model = DDP(tiny_model())
        monitor, optimizer = watched(model, "ddp", log_dir)
        with CountingAllReduce() as counter:
            train(model, monitor, optimizer, *local)
        finish(monitor, rank, "ddp", out, counter.calls)

        # FSDP2: every parameter a DTensor sharded on dim 0 across the 2 ranks
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard
        mesh = init_device_mesh("cpu", (world_size,))
        model = tiny_model()
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        monitor, optimizer = watched(model, "fsdp2", log_dir)
        with CountingAllReduce() as counter:
            train(model, monitor, optimizer, *local)
        finish(monitor, rank, "fsdp2", out, counter.calls)

        # FSDP2 over layers of two dtypes: several sharded buckets in one vector
        model = Mixed()
        for layer in model.children():
            fully_shard(layer, mesh=mesh)
        monitor, optimizer = watched(model, "fsdp2-mixed", log_dir)
        with CountingAllReduce() as counter:
            train(model, monitor, optimizer, *local)
        finish(monitor, rank, "fsdp2-mixed", out, counter.calls)

        # distribute_tensor: Shard(0) DTensor parameters made by hand (weights only,
        # no training: one optimizer step without gradients triggers one sample)
        from torch.distributed.tensor import Shard, distribute_tensor
        model = tiny_model()
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                layer.weight = torch.nn.Parameter(
                    distribute_tensor(layer.weight.detach(), mesh, [Shard(0)]))
                layer.bias = torch.nn.Parameter(
                    distribute_tensor(layer.bias.detach(), mesh, [Shard(0)]))
        monitor, optimizer = watched(model, "dtensor", log_dir)
        with CountingAllReduce() as counter:
            optimizer.step()
            monitor.flush()
        finish(monitor, rank, "dtensor", out, counter.calls)

        # FSDP1 (FullyShardedDataParallel): flat parameters; with use_orig_params=True the
        # original parameters are views of this rank's part of the flat parameter
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        for orig in (True, False):
            name = f"fsdp1-orig{int(orig)}"
            model = FSDP(tiny_model(), device_id=torch.device("cpu"), use_orig_params=orig)
            monitor, optimizer = watched(model, name, log_dir)
            with CountingAllReduce() as counter:
                train(model, monitor, optimizer, *local)
            finish(monitor, rank, name, out, counter.calls)
    finally:
        dist.barrier()  # no rank tears gloo down while its peer is still in a collective
        dist.destroy_process_group()
