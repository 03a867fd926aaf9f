"""Settings of the monitor, validated at construction (pydantic)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.exporter.settings import PrometheusSettings

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


class MonitorSettings(BaseModel):
    """Everything :func:`nht_monitor.watch` accepts besides the model and optimizer.

    ``every``: sample every N optimizer steps. ``head``: qualified name of the
    classification head module (default: last ``nn.Linear`` reached in the forward
    pass). ``split_bias``: one layer per parameter tensor instead of per module.
    ``grads``: also sample gradient norms. ``resume``: append to an existing log of the
    same ``run_id`` and continue step and τ. ``assess``/``assess_every``/
    ``assess_interval``: run the rule engine live every N samples, but not again within
    that many seconds (run cold between a step's kernels it costs milliseconds); the
    last sample is always assessed at ``close()``. ``max_consecutive_errors``: switch
    sampling off after that many internal failures in a row. ``clock_group``: index of
    the param group whose lr/weight decay drive the reported τ (default: the decayed
    group holding most parameter elements). ``console``: print regime/phase changes.
    ``write_all_ranks``: in a distributed run ranks other than 0 write
    ``<run_id>.rank<N>.jsonl`` too (by default they compute, as sharded norms need every
    rank, but write nothing).
    ``norm_clamp``: keyword arguments of
    :class:`nht_monitor.NormClamp` to pin the weight norm after each step.
    ``write_interval``: seconds between two batches of finalised samples (written to
    the log and flushed, assessed, shown to the exporter; a background thread does it
    when the loop makes no step for longer than that); 0 finalises each sample on the
    next step. ``analysis``: the live rule engine's thresholds and priors
    (:class:`nht_monitor.analysis.AnalyzerSettings` or a dict of its fields, e.g.
    ``{"delay_tau": 1.0, "budget_steps": 20000}``); unknown fields fail here.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    log_dir: Path = Path("runs")
    run_id: str | None = None
    every: int = Field(1, ge=1)
    head: str | None = None
    split_bias: bool = False
    grads: bool = True
    resume: bool = False
    assess: bool = True
    assess_every: int = Field(10, ge=1)
    assess_interval: float = Field(5.0, ge=0.0)
    max_consecutive_errors: int = Field(10, ge=1)
    write_interval: float = Field(1.0, ge=0.0, le=60.0)
    clock_group: int | None = Field(None, ge=0)
    console: bool = False
    write_all_ranks: bool = False
    prometheus: PrometheusSettings | None = None
    norm_clamp: dict[str, Any] | None = None
    analysis: AnalyzerSettings = Field(default_factory=AnalyzerSettings)
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("run_id")
    @classmethod
    def _valid_run_id(cls, value: str | None) -> str | None:
        if value is not None and not _RUN_ID.match(value):
            raise ValueError(
                f"run_id {value!r} must be 1-128 characters of letters, digits, '_', '.', '-'"
                " and start with a letter or digit")
        return value

    @field_validator("log_dir")
    @classmethod
    def _writable_log_dir(cls, value: Path) -> Path:
        value = Path(value)
        try:
            value.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"log_dir {str(value)!r} cannot be created: {exc}") from exc
        if not value.is_dir():
            raise ValueError(f"log_dir {str(value)!r} is not a directory")
        if not os.access(value, os.W_OK | os.X_OK):
            raise ValueError(f"log_dir {str(value)!r} is not writable")
        return value
