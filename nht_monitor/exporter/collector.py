"""A prometheus_client ``Collector`` that renders monitor snapshots at scrape time.

Nothing is updated on the training thread: each scrape calls the snapshot function and
builds the families of :data:`nht_monitor.exporter.metrics.SERIES` from what it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample as PromSample

from nht_monitor.analysis.assessment import PHASES, REGIMES, TRANSITION_STATUSES
from nht_monitor.exporter.layer_labels import LayerGrouper
from nht_monitor.exporter.metrics import JOB_LABELS, LAYER_SERIES, SERIES

logger = logging.getLogger(__name__)

SOURCES = ("monitor", "sidecar", "pushgateway")


RUN_LABELS = ("run", *JOB_LABELS)
"""The labels identifying one run's series: ``run``, ``launch``, ``rank``."""


def job_labels(header: Any) -> tuple[str, str]:
    """``(launch, rank)`` label values of a run read from its log header: the header's
    ``launch`` identity; a log without one has ``launch=""`` and its config's rank."""
    launch = getattr(header, "launch", None)
    if launch is not None:
        return str(launch.launch), str(int(launch.rank))
    rank = header.config.get("rank", 0) if header is not None else 0
    valid = isinstance(rank, int) and not isinstance(rank, bool) and rank >= 0
    return "", str(rank) if valid else "0"


class LayerValuesFamily(GaugeMetricFamily):
    """A gauge family of ``{layer: value}`` blocks, one per run (labels ``run``,
    ``launch``, ``rank``, ``layer``).

    Keeps the blocks as they are; ``samples`` builds the usual sample list only when
    read (``generate_latest``, OpenMetrics, tests), while
    :class:`~nht_monitor.exporter.exposition.TextRenderer` renders the blocks directly.
    """

    def __init__(self, name: str, documentation: str) -> None:
        self.blocks: list[tuple[tuple[str, ...], Mapping[str, float]]] = []
        self.run_labels = RUN_LABELS
        self.extra_samples: list[PromSample] = []
        super().__init__(name, documentation, labels=(*RUN_LABELS, "layer"))

    def add_block(self, ids: list[str], values: Mapping[str, float]) -> None:
        """Add one run's per-layer values; ``ids``: its values of :data:`RUN_LABELS`."""
        self.blocks.append((tuple(ids), values))

    @property  # type: ignore[override]
    def samples(self) -> list[PromSample]:
        """Every sample: ``extra_samples`` then the blocks' (built on each read)."""
        name = self.name
        return self.extra_samples + [
            PromSample(name, {**dict(zip(RUN_LABELS, ids)), "layer": layer}, value)
            for ids, values in self.blocks for layer, value in values.items()]

    @samples.setter
    def samples(self, value: list[PromSample]) -> None:
        self.extra_samples = list(value)


def _family(spec_name: str, labels: tuple[str, ...]) -> Metric:
    spec = _SPECS[spec_name]
    if spec_name in LAYER_SERIES:
        return LayerValuesFamily(spec.name, spec.meaning)
    if spec.type == "counter":
        return CounterMetricFamily(spec.name[: -len("_total")], spec.meaning, labels=labels)
    return GaugeMetricFamily(spec.name, spec.meaning, labels=labels)


_SPECS = {spec.name: spec for spec in SERIES}


class SnapshotCollector(Collector):
    """Collects the ``nht_*`` series from snapshots taken at scrape time.

    ``snapshots``: returns the current snapshots (objects with ``run_id``, ``header``,
    ``sample``, ``assessment``, ``samples_total``, ``errors_total``,
    ``last_sample_time``), one per run. ``layers``/``max_layers``: layer-label
    cardinality (see :mod:`nht_monitor.exporter.layer_labels`). ``source``: the ``source``
    label of ``nht_run_info``. ``include_layers=False`` leaves out the per-layer series.
    ``identity`` (``.launch``, ``.rank``: the in-process monitor's
    :class:`~nht_monitor.live.launcher.LaunchIdentity`) gives the ``launch`` and ``rank``
    labels; without it each run's come from its header (:func:`job_labels`). A run of a
    rank other than 0 exports only :data:`~nht_monitor.exporter.metrics.HEALTH_SERIES`.
    """

    def __init__(self, snapshots: Callable[[], Iterable[Any]], *, layers: str = "all",
                 max_layers: int = 200, source: str = "monitor",
                 include_layers: bool = True, identity: Any = None) -> None:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        self._snapshots = snapshots
        self._grouper = LayerGrouper(layers, max_layers)
        self._source = source
        self._include_layers = include_layers
        self._identity = (None if identity is None
                          else (str(identity.launch), str(int(identity.rank))))

    def describe(self) -> Iterator[Metric]:
        """The families this collector exposes (without samples)."""
        for spec in SERIES:
            if self._include_layers or spec.name not in LAYER_SERIES:
                yield _family(spec.name, spec.labels)

    def collect(self) -> Iterator[Metric]:
        """Build every family from the current snapshots."""
        families = {spec.name: _family(spec.name, spec.labels) for spec in SERIES
                    if self._include_layers or spec.name not in LAYER_SERIES}
        for snapshot in self._snapshots():
            try:
                self._add(families, snapshot)
            except Exception:  # one broken snapshot must not break the scrape
                logger.exception("nht-monitor exporter: cannot render run %r",
                                 getattr(snapshot, "run_id", None))
        for family in families.values():
            if getattr(family, "blocks", None) or family.samples:
                yield family

    # -- one run --------------------------------------------------------------------
    def _add(self, families: dict[str, Metric], snapshot: Any) -> None:
        header = snapshot.header
        launch, rank = self._identity or job_labels(header)
        runl = [str(snapshot.run_id), launch, rank]
        families["nht_samples_total"].add_metric(runl, float(snapshot.samples_total))
        families["nht_errors_total"].add_metric(runl, float(snapshot.errors_total))
        families["nht_run_info"].add_metric(
            [*runl, self._source,
             header.model.class_name if header is not None else "",
             (header.head or "") if header is not None else ""], 1.0)
        if snapshot.last_sample_time is not None:
            families["nht_last_sample_timestamp_seconds"].add_metric(
                runl, float(snapshot.last_sample_time))
        sample = snapshot.sample
        if rank != "0":  # bounded cardinality: the other ranks report their health only
            if sample is not None:
                families["nht_step"].add_metric(runl, float(sample.step))
            return
        if sample is not None:
            self._add_sample(families, runl, sample, header)
        self._add_assessment(families, runl, snapshot.assessment)

    def _add_sample(self, families: dict[str, Metric], runl: list[str], sample: Any,
                    header: Any) -> None:
        gauge = families.__getitem__
        gauge("nht_weight_norm").add_metric(runl, sample.norm)
        gauge("nht_tau").add_metric(runl, sample.tau)
        gauge("nht_learning_rate").add_metric(runl, sample.lr)
        gauge("nht_weight_decay").add_metric(runl, sample.weight_decay)
        gauge("nht_step").add_metric(runl, float(sample.step))
        if sample.head_norm is not None:
            gauge("nht_head_weight_norm").add_metric(runl, sample.head_norm)
        if sample.grad_norm is not None:
            gauge("nht_grad_norm").add_metric(runl, sample.grad_norm)
        logged = gauge("nht_logged_value")
        for name, value in sample.metrics.items():
            logged.add_metric([*runl, name], value)
        if not self._include_layers:
            return
        order = header.layers if header is not None else None
        # a many-layer model's bulk: kept as blocks, rendered without per-sample objects
        gauge("nht_layer_weight_norm").add_block(
            runl, self._grouper.group(sample.layer_norms, order))
        if sample.layer_grad_norms:
            gauge("nht_layer_grad_norm").add_block(
                runl, self._grouper.group(sample.layer_grad_norms, order))

    @staticmethod
    def _add_assessment(families: dict[str, Metric], runl: list[str],
                        assessment: Any) -> None:
        current = assessment.regime if assessment is not None else "undetermined"
        regime = families["nht_regime"]
        for value in REGIMES:
            regime.add_metric([*runl, value], 1.0 if value == current else 0.0)
        if assessment is None:
            return

        def optional(name: str, value: float | None) -> None:
            if value is not None:
                families[name].add_metric(runl, float(value))

        optional("nht_regime_confidence", assessment.confidence)
        if assessment.phase is not None:
            phase = families["nht_phase"]
            for value in PHASES:
                phase.add_metric([*runl, value], 1.0 if value == assessment.phase else 0.0)
        transition = assessment.transition
        status = families["nht_transition_status"]
        for value in TRANSITION_STATUSES:
            status.add_metric([*runl, value], 1.0 if value == transition.status else 0.0)
        optional("nht_transition_steps_remaining", transition.steps_remaining)
        optional("nht_transition_forecast_step", transition.forecast_step)
        if transition.interval is not None:
            optional("nht_transition_forecast_step_low", transition.interval[0])
            optional("nht_transition_forecast_step_high", transition.interval[1])  # open: absent
        optional("nht_transition_forecast_tau", transition.forecast_tau)
        optional("nht_transition_chance_in_budget", transition.chance_in_budget)
        families["nht_transition_relapsed"].add_metric(
            runl, 0.0 if transition.relapse_val_acc is None else 1.0)
        optional("nht_decay_rate", assessment.decay_rate)
        optional("nht_weight_norm_peak", assessment.v_peak)
        optional("nht_cns_ratio", assessment.cns.ratio)
        if assessment.cns.holds is not None:
            optional("nht_cns_holds", 1.0 if assessment.cns.holds else 0.0)
        if assessment.advice is not None:
            optional("nht_suggested_weight_decay", assessment.advice.suggested_weight_decay)
        head = assessment.head
        lead = head.lead_steps if head is not None else None
        if head is not None:
            head_regime = families["nht_head_regime"]
            for value in REGIMES:
                head_regime.add_metric([*runl, value], 1.0 if value == head.regime else 0.0)
        optional("nht_head_lead_steps", lead)
        # "no lead measured" is a state of its own, distinct from "no data"
        families["nht_head_lead_measured"].add_metric(runl, 0.0 if lead is None else 1.0)
