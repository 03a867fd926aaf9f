"""The run log's schema: the contract between the sampler and everything downstream.

A run log is ``<log_dir>/<run_id>.jsonl``: one header line, then one line per sample.

Header line (:class:`RunHeader`)::

    {"schema": "nht-monitor/run-log", "version": 1, "run_id": ..., "started_at": ...,
     "model": {"class_name": ..., "n_params": ...}, "layers": [...], "head": ...,
     "config": {...}, "sweep": null,
     "launch": {"launch": "", "source": "", "rank": 0, "local_rank": null, "world_size": 1}}

Sample line (:class:`Sample`)::

    {"step": 12, "time": 1732381512.3, "tau": 0.012, "lr": 0.001, "weight_decay": 1.0,
     "norm": 41.2, "head_norm": 9.1, "layer_norms": {"fc1": 30.2, ...},
     "grad_norm": 0.8, "layer_grad_norms": {...}, "metrics": {"train_loss": 0.3},
     "groups": [{"lr": ..., "weight_decay": ..., "tau": ...}], "nonfinite": [],
     "assessment": {...} | null}

Non-finite floats are written as the JSON strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (so every line is standard JSON) and read back as floats.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      field_validator)

SCHEMA_NAME = "nht-monitor/run-log"
SCHEMA_VERSION = 1
MAX_PLAN_KNOTS = 4096
"""The most knots a header's ``lr_plan`` may hold."""

_NONFINITE_IN = {"NaN": math.nan, "nan": math.nan, "Infinity": math.inf, "inf": math.inf,
                 "-Infinity": -math.inf, "-inf": -math.inf}


def _parse_float(value: Any) -> Any:
    if isinstance(value, str) and value in _NONFINITE_IN:
        return _NONFINITE_IN[value]
    return value


def encode_float(value: float) -> float | str:
    """Return ``value`` as written to the log: finite floats as they are, others as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


LogFloat = Annotated[float, BeforeValidator(_parse_float)]
"""A float that may be written as ``"NaN"``/``"Infinity"``/``"-Infinity"`` in the log."""


class ModelInfo(BaseModel):
    """What the header says of the watched model."""

    model_config = ConfigDict(extra="allow")
    class_name: str
    n_params: int = Field(ge=0)
    normalization: list[str] | None = None
    """The class names of the model's normalization layers (LayerNorm, RMSNorm, BatchNorm…;
    ``[]``: none), as ``watch()`` found them; ``None``: not recorded (logs written before
    it was)."""


class LaunchInfo(BaseModel):
    """Who launched the run (:class:`nht_monitor.live.launcher.LaunchIdentity`): the
    launcher's job id (``""``: none detected), where it came from, the writing process's
    global and local rank and the world size."""

    model_config = ConfigDict(extra="allow")
    launch: str = ""
    source: str = ""
    rank: int = Field(0, ge=0)
    local_rank: int | None = Field(None, ge=0)
    world_size: int = Field(1, ge=1)


class RunHeader(BaseModel):
    """First line of a run log."""

    model_config = ConfigDict(extra="allow")
    schema_: Literal["nht-monitor/run-log"] = Field(SCHEMA_NAME, alias="schema")
    version: int = SCHEMA_VERSION
    run_id: str
    started_at: datetime
    model: ModelInfo
    layers: list[str]
    head: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    sweep: str | None = None
    """The sweep this run belongs to (``watch(sweep=...)``): runs sharing it calibrate
    each other's forecast."""
    launch: LaunchInfo | None = None
    """The launch identity of the process that started the log (``None`` in logs written
    before it was recorded): the sidecar labels the run's series with it."""
    lr_plan: list[tuple[int, float]] | None = None
    """The learning rate the run planned for its clock group, as ``[step, lr]`` knots
    (linear between them; ``step`` counts optimizer steps as a sample's does) up to its
    budget (``watch(lr_schedule=...)``); ``None``: not given. The engine turns τ into
    steps along it instead of holding the current η·λ."""

    @field_validator("lr_plan")
    @classmethod
    def _plan_knots(cls, plan: list[tuple[int, float]] | None
                    ) -> list[tuple[int, float]] | None:
        if plan is None:
            return None
        if not 2 <= len(plan) <= MAX_PLAN_KNOTS:
            raise ValueError(f"lr_plan holds {len(plan)} knots, not 2 to {MAX_PLAN_KNOTS}")
        steps = [k[0] for k in plan]
        if any(b <= a for a, b in zip(steps, steps[1:])) or steps[0] < 0:
            raise ValueError("lr_plan steps must be non-negative and increasing")
        if not all(math.isfinite(k[1]) and k[1] >= 0 for k in plan):
            raise ValueError("lr_plan learning rates must be finite and non-negative")
        return plan

    def to_json_dict(self) -> dict[str, Any]:
        """The header as written to the log (``schema`` key, ISO timestamp)."""
        return self.model_dump(mode="json", by_alias=True)


def _check_assessment(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """An assessment as recorded: any object, but its ``regime``, when present, a string
    (what every reader of the log prints or compares)."""
    if value is not None and "regime" in value and not isinstance(value["regime"], str):
        raise ValueError(f"assessment regime {value['regime']!r:.40} is not a string")
    return value


AssessmentDict = Annotated[dict[str, Any] | None, AfterValidator(_check_assessment)]


class GroupClock(BaseModel):
    """Learning rate, weight decay and τ of one optimizer param group at a sample."""

    model_config = ConfigDict(extra="allow")
    lr: LogFloat
    weight_decay: LogFloat
    tau: LogFloat


MAX_STEP = 2 ** 63 - 1
"""The largest step a run log may hold (int64): a line with a larger one is corrupt, for
every reader."""


class Sample(BaseModel):
    """One sampled optimizer step.

    ``step`` counts optimizer steps taken (1 after the first ``optimizer.step()``).
    ``tau`` is the regularisation clock Σ η_t·λ_t (× 1/(1 − momentum) for SGD: see
    :mod:`nht_monitor.live.clock`) of the reference param group, whose
    ``lr``/``weight_decay`` are reported too; ``groups`` has every group's values.
    Norms are L2 norms; ``norm``/``head_norm`` are over the parameters weight decay acts
    on (the header config's ``norm_scope``; its ``undecayed_layers`` are left out),
    ``layer_norms`` has every layer; ``grad_norm``/``layer_grad_norms`` are ``None`` when
    no gradient was present. ``nonfinite`` names the layers (or ``"<grad>:layer"``)
    whose norm was NaN or infinite. ``assessment`` is the live rule-engine result
    when one was computed at this sample (a :class:`nht_monitor.analysis.assessment.Assessment`
    as a dict).
    """

    model_config = ConfigDict(extra="allow")
    step: int = Field(ge=0, le=MAX_STEP)
    time: float | None = None
    tau: LogFloat
    lr: LogFloat
    weight_decay: LogFloat
    norm: LogFloat
    head_norm: LogFloat | None = None
    layer_norms: dict[str, LogFloat] = Field(default_factory=dict)
    grad_norm: LogFloat | None = None
    layer_grad_norms: dict[str, LogFloat] | None = None
    metrics: dict[str, LogFloat] = Field(default_factory=dict)
    groups: list[GroupClock] | None = None
    nonfinite: list[str] = Field(default_factory=list)
    assessment: AssessmentDict = None


class RunLogError(ValueError):
    """A run log that cannot be read as one (wrong schema, newer version, no header)."""
