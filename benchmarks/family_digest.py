"""Calibration digests: the facts of cached family runs that the benchmark's settings are
chosen on, kept in a small JSON file.

A cache of trajectories does not survive a new machine and takes hours to regenerate;
a digest of it (``families.py digest``) does, as a committed file, so a fresh round is
scored against earlier ones (``families.py score --calibrate-digest``) with the settings
the caches themselves would give. The facts depend on the analyzer settings they were
read with (``basis``); reading a digest names the settings that differ today.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

FORMAT = "nht-monitor family calibration digest 1"
MAX_BYTES = 20_000_000
"""A digest larger than this is refused unread (a round's digest is a few kB per family)."""


class DigestError(ValueError):
    """A digest that cannot be read: one line saying why."""


class PoolRun(BaseModel):
    """The settings-independent facts of one run that ``choose_settings`` reads (those of
    a ``families.LoadedRun`` whose log is not on disk)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    run_id: str
    delayed: bool
    delay_tau: float | None
    ratio: float | None
    rate: float | None
    transition_step: float | None
    truth: Literal["intermediate", "weak", "strong", "unfitted"]
    weak_probe: tuple[float, float] | None


class Digest(BaseModel):
    """A digest file: its runs by family, the caches they came from (``generated``: each
    family's torch, machine and start, from its manifest; regenerated elsewhere, runs
    differ in the last digits, which a long run compounds) and the analyzer settings they
    were read with."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[FORMAT] = FORMAT
    made: str
    caches: list[str]
    basis: dict[str, object]
    generated: dict[str, dict[str, str]] = {}
    families: dict[str, list[PoolRun]]


def pool_run(run) -> PoolRun:
    """The :class:`PoolRun` of a ``families.LoadedRun``."""
    return PoolRun(family=run.family, run_id=run.run_id, delayed=run.delayed,
                   delay_tau=run.delay_tau, ratio=run.ratio, rate=run.rate,
                   transition_step=run.transition_step, truth=run.truth,
                   weak_probe=run.weak_probe)


def write_digest(path: Path, runs: dict[str, list], caches: list[str],
                 basis: dict[str, object], generated: dict[str, dict[str, str]] | None = None
                 ) -> Digest:
    """Write the digest of ``runs`` (``families.LoadedRun`` lists by family) to ``path``;
    returns it."""
    digest = Digest(made=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    caches=caches, basis=basis, generated=generated or {},
                    families={name: [pool_run(r) for r in rs] for name, rs in runs.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(digest.model_dump_json(indent=1) + "\n")
    return digest


def read_digest(path: Path) -> Digest:
    """The digest in ``path``; :class:`DigestError` for a missing, non-regular, oversized
    or malformed file."""
    try:
        if not path.is_file():
            raise DigestError(f"{path}: not a regular file")
        if path.stat().st_size > MAX_BYTES:
            raise DigestError(f"{path}: larger than {MAX_BYTES // 1_000_000} MB, not a digest")
        return Digest.model_validate_json(path.read_bytes())
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "the file"
        raise DigestError(f"{path}: not a calibration digest ({where}: {first['msg']})") from None
    except OSError as e:
        raise DigestError(f"{path}: {e.strerror or e}") from None


def basis_differences(digest: Digest, current: dict[str, object]) -> list[str]:
    """The settings whose value today differs from the digest's basis, as ``name old → new``
    (a setting new since the digest counts as differing)."""
    return [f"{k} {digest.basis.get(k, 'unset')} → {v}" for k, v in current.items()
            if digest.basis.get(k, "unset") != v]
