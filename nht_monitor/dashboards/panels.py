"""Small builders shared by the three dashboards: variables, queries, panel kinds.

Every panel is bound to the ``$datasource`` template variable and carries a
description that says what a healthy and an unhealthy picture look like.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grafana_foundation_sdk.builders import (
    bargauge,
    dashboard,
    heatmap,
    prometheus,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders.common import (
    ReduceDataOptions,
    ScaleDistributionConfig,
    VizLegendOptions,
)
from grafana_foundation_sdk.builders.heatmap import HeatmapColorOptions
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dash_models
from grafana_foundation_sdk.models import heatmap as heatmap_models

DATASOURCE = common_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
"""Every panel and every query variable uses the ``$datasource`` variable."""

RUN_SELECTOR = 'run=~"$run"'
RANK0_SELECTOR = 'run=~"$run", rank=~"0|"'
"""The run's series as rank 0 serves them: with ``per_rank_health`` every rank also serves
the health series (``nht_step``, ``nht_samples_total``, …), which would draw a run once
per rank in the run-level panels (a series without a ``rank`` label counts as rank 0)."""
LAYER_SELECTOR = 'layer=~"$layer"'

REGIME_COLORS = {
    "undetermined": "text",
    "weak": "orange",
    "intermediate": "green",
    "strong": "purple",
    "diverged": "red",
    "clamped": "blue",
}
STATUS_COLORS = {
    "pending": "yellow",
    "imminent": "orange",
    "done": "green",
    "not_expected": "text",
    "unknown": "blue",
}
PHASE_COLORS = {
    "fitting": "text",
    "shortcut": "orange",
    "transitioning": "yellow",
    "structured": "green",
}


def describe(what: str, healthy: str, unhealthy: str) -> str:
    """A panel description: what it shows, then the healthy and unhealthy pictures."""
    return f"{what}\n\nHealthy: {healthy}\n\nUnhealthy: {unhealthy}"


def related_dashboards_link() -> dashboard.DashboardLink:
    """A link bar to the other nht-monitor dashboards, carrying ``$run`` and the time."""
    return (dashboard.DashboardLink("nht-monitor")
            .type(dash_models.DashboardLinkType.DASHBOARDS)
            .tags(["nht-monitor"])
            .as_dropdown(False)
            .include_vars(True)
            .keep_time(True))


# -- template variables -------------------------------------------------------------

def datasource_variable() -> dashboard.DatasourceVariable:
    """``$datasource``: any Prometheus data source."""
    return (dashboard.DatasourceVariable("datasource")
            .label("Data source")
            .type("prometheus"))


def run_variable(metric: str, *, multi: bool) -> dashboard.QueryVariable:
    """``$run``: the run ids exported by nht-monitor (label ``run`` of ``metric``)."""
    query = f"label_values({metric}, run)"
    return (dashboard.QueryVariable("run")
            .label("Run")
            .description("Run id (the `run` label every nht-monitor series carries).")
            .datasource(DATASOURCE)
            .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery",
                    "qryType": 1})
            .definition(query)
            .refresh(dash_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dash_models.VariableSort.ALPHABETICAL_ASC)
            .multi(multi)
            .include_all(multi))


def layer_variable(metric: str) -> dashboard.QueryVariable:
    """``$layer``: the layers of the selected run(s), multi-select with "All"."""
    query = f'label_values({metric}{{{RUN_SELECTOR}}}, layer)'
    return (dashboard.QueryVariable("layer")
            .label("Layer")
            .description("Layer (module) names of the selected run; multi-select.")
            .datasource(DATASOURCE)
            .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery",
                    "qryType": 1})
            .definition(query)
            .refresh(dash_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dash_models.VariableSort.NATURAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".*"))


def window_variable() -> dashboard.CustomVariable:
    """``$window``: the look-back window of change-over-time panels."""
    return (dashboard.CustomVariable("window")
            .label("Change window")
            .description("Window over which the relative change of a layer's norm is taken.")
            .values("1m,5m,15m,1h,6h")
            .current(dash_models.VariableOption(text="5m", value="5m", selected=True)))


# -- queries ------------------------------------------------------------------------

def query(expr: str, legend: str = "", *, ref: str = "A", instant: bool = False,
          fmt: str | None = None) -> prometheus.Dataquery:
    """A Prometheus query bound to ``$datasource``."""
    target = (prometheus.Dataquery()
              .expr(expr)
              .ref_id(ref)
              .datasource(DATASOURCE)
              .legend_format(legend or "__auto"))
    target = target.instant() if instant else target.range()
    if fmt is not None:
        from grafana_foundation_sdk.models.prometheus import PromQueryFormat
        target = target.format(PromQueryFormat(fmt))
    return target


def state_index(metric: str, label: str, states: Sequence[str], by: str = "run") -> str:
    """PromQL turning a state set into the index of its current state (per ``by``).

    ``metric{label="s_i"}`` is 1 for the current state and 0 otherwise, so the largest
    ``i * metric{label="s_i"}`` is the current index (``max``, not ``sum``, so a run
    scraped twice, e.g. in-process and by the sidecar, is not counted twice); value
    mappings turn it back into the state's name.
    """
    terms = [f'{i} * {metric}{{{RUN_SELECTOR}, {label}="{s}"}}' for i, s in enumerate(states)]
    return f"max by ({by}) (" + " or ".join(terms) + ")"


def state_mappings(states: Sequence[str], colors: dict[str, str]) -> list[dash_models.ValueMap]:
    """Value mappings from a state index back to its name (and colour)."""
    options = {str(i): dash_models.ValueMappingResult(text=s, color=colors.get(s, "text"),
                                                        index=i)
               for i, s in enumerate(states)}
    return [dash_models.ValueMap(options=options)]


def missing_value_mapping(text: str, color: str = "text") -> dash_models.SpecialValueMap:
    """A value mapping showing ``text`` for a null or NaN value (see :func:`or_nan_when`)."""
    return dash_models.SpecialValueMap(options=dash_models.DashboardSpecialValueMapOptions(
        match=dash_models.SpecialValueMatch.NULL_AND_NAN,
        result=dash_models.ValueMappingResult(text=text, color=color)))


def or_nan_when(value: str, flag: str, by: str = "run") -> str:
    """PromQL: ``value`` (per ``by``), else NaN while the 0/1 gauge ``flag`` is 0.

    Turns "known to be absent" into a value a :func:`missing_value_mapping` can name,
    so the panel tells it apart from "no data" (neither series exported).
    """
    return f"max by ({by}) ({value}) or (max by ({by}) ({flag}) == 0) * NaN"


# -- panel kinds --------------------------------------------------------------------

def _legend(placement: str = "bottom", as_table: bool = False) -> VizLegendOptions:
    return (VizLegendOptions()
            .show_legend(True)
            .placement(common_models.LegendPlacement(placement))
            .display_mode(common_models.LegendDisplayMode.TABLE if as_table
                          else common_models.LegendDisplayMode.LIST)
            .calcs(["lastNotNull"] if as_table else []))


def time_series(title: str, description: str, targets: Sequence[prometheus.Dataquery], *,
                unit: str = "none", height: int = 8, span: int = 12, log: bool = False,
                legend_table: bool = False) -> timeseries.Panel:
    """A time series panel."""
    panel = (_base(timeseries.Panel(), title, description, targets, height, span, unit)
             .line_width(1)
             .fill_opacity(0)
             .show_points(common_models.VisibilityMode.NEVER)
             .legend(_legend("right" if legend_table else "bottom", legend_table)))
    if log:
        panel = panel.scale_distribution(ScaleDistributionConfig()
                                         .type(common_models.ScaleDistribution.LOG).log(10))
    return panel


def stat_panel(title: str, description: str, targets: Sequence[prometheus.Dataquery], *,
               unit: str = "none", height: int = 4, span: int = 4, decimals: int | None = None,
               mappings: Sequence[dash_models.ValueMap | dash_models.SpecialValueMap]
               | None = None,
               thresholds: list[tuple[float | None, str]] | None = None) -> stat.Panel:
    """A single-value stat panel (last non-null value)."""
    panel = (_base(stat.Panel(), title, description, targets, height, span, unit)
             .graph_mode(common_models.BigValueGraphMode.NONE)
             .color_mode(common_models.BigValueColorMode.VALUE)
             .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    if decimals is not None:
        panel = panel.decimals(decimals)
    if mappings:
        panel = panel.mappings(list(mappings))
    if thresholds:
        panel = panel.thresholds(_thresholds(thresholds))
    return panel


def _base(panel: Any, title: str, description: str,
          targets: Sequence[prometheus.Dataquery], height: int, span: int,
          unit: str | None = None) -> Any:
    """What every panel builder sets: title, description, datasource, targets, size."""
    panel = (panel.title(title).description(description).datasource(DATASOURCE)
             .targets(list(targets)).height(height).span(span))
    return panel.unit(unit) if unit is not None else panel


def _thresholds(steps: list[tuple[float | None, str]]) -> dashboard.ThresholdsConfig:
    return (dashboard.ThresholdsConfig()
            .mode(dash_models.ThresholdsMode.ABSOLUTE)
            .steps([dash_models.Threshold(value=v, color=c) for v, c in steps]))


def state_timeline(title: str, description: str, targets: Sequence[prometheus.Dataquery], *,
                   mappings: list[dash_models.ValueMap], height: int = 5,
                   span: int = 24) -> statetimeline.Panel:
    """A state timeline whose numeric states are named by ``mappings``."""
    return (statetimeline.Panel()
            .title(title)
            .description(description)
            .datasource(DATASOURCE)
            .targets(list(targets))
            .mappings(mappings)
            .color_scheme(dashboard.FieldColor().mode(dash_models.FieldColorModeId.THRESHOLDS))
            .height(height)
            .span(span)
            .show_value(common_models.VisibilityMode.AUTO)
            .merge_values(True)
            .row_height(0.8)
            .legend(_legend()))


def bar_gauge(title: str, description: str, targets: Sequence[prometheus.Dataquery], *,
              unit: str = "none", height: int = 8, span: int = 12,
              thresholds: list[tuple[float | None, str]] | None = None) -> bargauge.Panel:
    """A horizontal bar gauge, one bar per series (last value)."""
    panel = (_base(bargauge.Panel(), title, description, targets, height, span, unit)
             .orientation(common_models.VizOrientation.HORIZONTAL)
             .display_mode(common_models.BarGaugeDisplayMode.GRADIENT)
             .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    if thresholds:
        panel = panel.thresholds(_thresholds(thresholds))
    return panel


def layer_heatmap(title: str, description: str, targets: Sequence[prometheus.Dataquery], *,
                  height: int = 10, span: int = 24) -> heatmap.Panel:
    """A heatmap with one row per series (layer) and time on x (no bucketing)."""
    return (_base(heatmap.Panel(), title, description, targets, height, span)
            .calculate(False)
            .color(HeatmapColorOptions()
                   .mode(heatmap_models.HeatmapColorMode.SCHEME)
                   .scheme("Viridis")
                   .scale(heatmap_models.HeatmapColorScale.EXPONENTIAL)
                   .exponent(0.5)
                   .fill("dark-orange")
                   .steps(64)))


def table_panel(title: str, description: str, targets: Sequence[prometheus.Dataquery], *,
                height: int = 6, span: int = 12) -> table.Panel:
    """A table of its (instant, ``format: table``) queries: one row per series, labels as
    columns."""
    return (_base(table.Panel(), title, description, targets, height, span)
            .no_value("none"))
