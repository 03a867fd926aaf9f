"""Who launched this process: the launcher's job id and this process's rank in it.

Read from the environment the launchers set (no torch import; unit-tested with a
patched environment):

* ``launch`` — ``TORCHELASTIC_RUN_ID`` (torchrun's rendezvous id; its placeholder
  ``none`` counts as unset), else ``SLURM_ARRAY_JOB_ID_SLURM_ARRAY_TASK_ID`` for a Slurm
  array task, else ``SLURM_JOB_ID``, else ``""`` (no launcher detected).
* ``rank`` — ``RANK``, else ``SLURM_PROCID``, else 0; ``local_rank`` — ``LOCAL_RANK``,
  else ``SLURM_LOCALID``, else unknown (``None``: ports are then derived from the global
  rank, unique on every host too); ``world_size`` — ``WORLD_SIZE``, else
  ``SLURM_NTASKS``, else 1.

An explicit value (``PrometheusSettings(launch=..., rank=...)``) wins over the
initialised process group, which wins over the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

MAX_LAUNCH_LENGTH = 128
TORCHRUN_PLACEHOLDER = "none"
"""``TORCHELASTIC_RUN_ID`` of a multi-node static rendezvous without ``--rdzv-id``."""


def check_launch(value: str, source: str = "launch") -> str:
    """``value`` as a launch id (1-128 printable characters); ``ValueError`` naming
    ``source`` otherwise."""
    if not value or len(value) > MAX_LAUNCH_LENGTH or not value.isprintable():
        raise ValueError(f"{source} {value[:40]!r} must be 1-{MAX_LAUNCH_LENGTH} printable "
                         "characters")
    return value


def _env_int(environ: Mapping[str, str], *names: str) -> int | None:
    """The first of ``names`` set in ``environ``, as an int >= 0 (``None``: none set)."""
    for name in names:
        raw = environ.get(name, "").strip()
        if raw:
            if not raw.isdigit():
                raise ValueError(f"environment variable {name}={raw[:40]!r} is not a rank "
                                 "(an integer >= 0)")
            return int(raw)
    return None


def _env_launch(environ: Mapping[str, str]) -> tuple[str, str]:
    """``(launch id, source)`` from the launchers' variables (``("", "")``: none)."""
    run_id = environ.get("TORCHELASTIC_RUN_ID", "").strip()
    if run_id and run_id != TORCHRUN_PLACEHOLDER:
        return check_launch(run_id, "TORCHELASTIC_RUN_ID"), "torchrun"
    array_job = environ.get("SLURM_ARRAY_JOB_ID", "").strip()
    array_task = environ.get("SLURM_ARRAY_TASK_ID", "").strip()
    if array_job and array_task:
        return check_launch(f"{array_job}_{array_task}", "SLURM_ARRAY_JOB_ID"), "slurm"
    job = environ.get("SLURM_JOB_ID", "").strip()
    if job:
        return check_launch(job, "SLURM_JOB_ID"), "slurm"
    return "", ""


@dataclass(frozen=True)
class LaunchIdentity:
    """This process's place in its job: ``launch`` (the launcher's job id, ``""`` when
    none), ``source`` (``torchrun``, ``slurm``, ``explicit`` or ``""``), global ``rank``,
    ``local_rank`` (on its host; ``None`` when no launcher said) and ``world_size``."""

    launch: str = ""
    source: str = ""
    rank: int = 0
    local_rank: int | None = None
    world_size: int = 1

    @property
    def port_offset(self) -> int:
        """What the exporter's port is offset by: the local rank, else the global rank."""
        return self.rank if self.local_rank is None else self.local_rank

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LaunchIdentity:
        """The identity the launcher's environment variables give (``os.environ`` by
        default); ``ValueError`` naming the variable when one is malformed."""
        environ = os.environ if environ is None else environ
        launch, source = _env_launch(environ)
        rank = _env_int(environ, "RANK", "SLURM_PROCID") or 0
        local_rank = _env_int(environ, "LOCAL_RANK", "SLURM_LOCALID")
        world_size = _env_int(environ, "WORLD_SIZE", "SLURM_NTASKS") or 1
        return cls(launch, source, rank, local_rank, max(world_size, rank + 1))

    def overridden(self, *, launch: str | None = None, rank: int | None = None,
                   group_rank: int | None = None,
                   group_world_size: int | None = None) -> LaunchIdentity:
        """This identity with explicit values (``launch``, ``rank``) and the initialised
        process group's (``group_rank``, ``group_world_size``) applied, explicit first."""
        new_rank = rank if rank is not None else group_rank
        updated = self
        if new_rank is not None:
            updated = replace(updated, rank=new_rank)
        if group_world_size is not None:
            updated = replace(updated, world_size=group_world_size)
        if launch is not None:
            updated = replace(updated, launch=check_launch(launch), source="explicit")
        return replace(updated, world_size=max(updated.world_size, updated.rank + 1))

    def exporter_port(self, base: int) -> int:
        """The port this rank serves on: ``base + local_rank`` (0 stays 0, a free port)."""
        if base == 0:
            return 0
        port = base + self.port_offset
        if port > 65535:
            raise ValueError(f"Prometheus port {base} + local rank {self.port_offset} = {port} "
                             "is above 65535; pass a lower base port or 0 for free ports")
        return port

    def to_header(self) -> dict[str, Any]:
        """The run log header's ``launch`` field."""
        return asdict(self)
