"""Settings of the monitor, validated at construction (pydantic)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, ValidationInfo, field_validator,
                      model_validator)

from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.exporter.settings import PrometheusSettings

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


class MonitorSettings(BaseModel):
    """Everything :func:`nht_monitor.watch` accepts besides the model and optimizer.

    ``every``: sample every N optimizer steps. ``head``: qualified name of the
    classification head module (default: last ``nn.Linear`` reached in the forward
    pass). ``split_bias``: one layer per parameter tensor instead of per module.
    ``norm_scope``: ``"decayed"`` takes the weight norm (and the head's) over the
    parameters weight decay acts on — leaving out those in param groups with weight
    decay 0 or in none (frozen), which only add a constant; ``"all"`` over every one.
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
    ``config``: the run's own hyperparameters, recorded in the log header.
    ``budget_steps``: the run's planned optimizer steps (a decaying run whose forecast
    transition lies beyond it is ``weak``); it overrides ``analysis.budget_steps``, which
    overrides the planned steps found in ``config`` (``num_steps``, ``max_steps``,
    ``total_steps``, ``epochs`` × ``steps_per_epoch``, …: see
    :func:`nht_monitor.analysis.settings.config_budget`).
    ``metric_names``: ``{your name: engine name}``, e.g. ``{"training/accuracy":
    "train_acc"}``; :meth:`Monitor.log` records a mapped metric under the engine's name.
    Every target must be a name the engine reads (``analysis``'s ``*_keys``).
    ``sweep``: the name of the sweep this run belongs to (same task, other λ/lr/seed),
    recorded in the header; runs of one sweep that have already transitioned calibrate
    the others' forecast (the sidecar groups them; offline: ``--reference``).
    ``lr_schedule``: the learning rate the run will use, so that τ still to come is
    turned into steps along it rather than at the current η·λ (a decaying schedule
    brings the transition later in steps, or beyond the budget): the run's torch LR
    scheduler (stepped once per optimizer step; not ``ReduceLROnPlateau``) or a callable
    ``step -> lr`` of the clock group (``step`` counts optimizer steps from 1). Planned
    up to the budget (which must then be known) and recorded in the header's
    ``lr_plan`` (:mod:`nht_monitor.live.lr_plan`), so the sidecar and the offline
    commands read it too. Resuming a log whose header has none, the live engine follows
    it from the step the run resumes at.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    log_dir: Path = Path("runs")
    run_id: str | None = None
    every: int = Field(1, ge=1)
    head: str | None = None
    split_bias: bool = False
    norm_scope: Literal["decayed", "all"] = "decayed"
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
    budget_steps: int | None = Field(None, ge=1)
    metric_names: dict[str, str] = Field(default_factory=dict)
    sweep: str | None = None
    lr_schedule: Any = None

    @model_validator(mode="after")
    def _metric_names_the_engine_reads(self) -> MonitorSettings:
        read = self.analysis.metric_keys
        for source, target in self.metric_names.items():
            if not source.strip():
                raise ValueError("metric_names: an empty metric name cannot be mapped")
            if target not in read:
                raise ValueError(
                    f"metric_names maps {source!r} to {target!r}, which the rule engine does "
                    f"not read; map each of your names to one of: {', '.join(read)} "
                    "(e.g. metric_names={'training/accuracy': 'train_acc', "
                    "'validation/accuracy': 'val_acc', 'training/loss': 'train_loss'})")
        return self

    @field_validator("lr_schedule")
    @classmethod
    def _schedule_or_callable(cls, value: Any) -> Any:
        """A callable or an LR scheduler (anything with ``optimizer`` and ``step``); the
        rest (its optimizer, ``ReduceLROnPlateau``, planning it) is checked by ``watch``."""
        if value is None or callable(value) or (
                hasattr(value, "optimizer") and callable(getattr(value, "step", None))):
            return value
        raise ValueError(f"lr_schedule must be a callable step -> lr or a torch LR "
                         f"scheduler, got {type(value).__name__}")

    @field_validator("run_id", "sweep")
    @classmethod
    def _valid_run_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not _RUN_ID.match(value):
            raise ValueError(
                f"{info.field_name} {value!r} must be 1-128 characters of letters, digits, '_', '.', '-'"
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
