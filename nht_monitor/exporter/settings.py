"""How the Prometheus exporter serves ``/metrics``: validated settings (no prometheus_client import)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nht_monitor.live.launcher import check_launch


class PrometheusSettings(BaseModel):
    """How the live Prometheus exporter serves ``/metrics``.

    ``host`` defaults to loopback; any other address must be asked for. ``port=0``
    picks a free port (``Monitor.prometheus_url`` says which). ``layers`` controls
    layer-label cardinality: ``"all"`` every layer, ``"top"`` grouped by top-level
    module, ``"modules"`` up to ``max_layers`` layers with the rest summed into
    ``layer="<other>"``.
    ``launch`` / ``rank``: the ``launch`` and ``rank`` labels of every series, when the
    launcher's environment (``TORCHELASTIC_RUN_ID``, ``SLURM_JOB_ID``, ``RANK``, …; see
    :mod:`nht_monitor.live.launcher`) does not say, or says wrong.
    In a distributed run global rank 0 serves every series; ``per_rank_health=True``
    makes every other rank serve its health series (``nht_step``, ``nht_samples_total``,
    ``nht_errors_total``, ``nht_last_sample_timestamp_seconds``, ``nht_run_info``) too,
    each on ``port + local rank``. ``rank0_only=False`` is the older spelling of
    ``per_rank_health=True`` (no rank other than 0 exports per-layer or assessment series).
    ``pushgateway`` (``host:port`` or URL): rank 0 pushes the final summary there on
    close; ``user:password@`` in it goes as HTTP basic auth and is redacted in every
    message (and left out of this model's ``repr``).
    """

    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)
    layers: Literal["all", "top", "modules"] = "all"
    max_layers: int = Field(200, ge=1)
    launch: str | None = None
    rank: int | None = Field(None, ge=0)
    per_rank_health: bool = False
    rank0_only: bool = True
    pushgateway: str | None = Field(None, repr=False)
    push_job: str = "nht_monitor"

    @field_validator("launch")
    @classmethod
    def _printable_launch(cls, value: str | None) -> str | None:
        return None if value is None else check_launch(value)

    @model_validator(mode="after")
    def _rank0_only_is_per_rank_health(self) -> PrometheusSettings:
        if not self.rank0_only:
            self.per_rank_health = True
        return self
