"""How the Prometheus exporter serves ``/metrics``: validated settings (no prometheus_client import)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PrometheusSettings(BaseModel):
    """How the live Prometheus exporter serves ``/metrics``.

    ``host`` defaults to loopback; any other address must be asked for. ``port=0``
    picks a free port (``Monitor.prometheus_url`` says which). ``layers`` controls
    layer-label cardinality: ``"all"`` every layer, ``"top"`` grouped by top-level
    module, ``"modules"`` up to ``max_layers`` layers with the rest summed into
    ``layer="<other>"``. ``rank0_only``: in a distributed run only global rank 0 serves.
    ``pushgateway`` (``host:port`` or URL): push the final summary there on close;
    ``user:password@`` in it goes as HTTP basic auth and is redacted in every message
    (and left out of this model's ``repr``).
    """

    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)
    layers: Literal["all", "top", "modules"] = "all"
    max_layers: int = Field(200, ge=1)
    rank0_only: bool = True
    pushgateway: str | None = Field(None, repr=False)
    push_job: str = "nht_monitor"
