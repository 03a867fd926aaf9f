"""Dashboard 2, "nht-monitor / Layers": where in the network the norm lives and moves."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.builders.common import StackingConfig
from grafana_foundation_sdk.models.common import StackingMode
from grafana_foundation_sdk.models import dashboard as dash_models

from nht_monitor.dashboards import names as m
from nht_monitor.dashboards.panels import (
    LAYER_SELECTOR,
    RUN_SELECTOR,
    bar_gauge,
    datasource_variable,
    related_dashboards_link,
    describe,
    layer_heatmap,
    layer_variable,
    query,
    run_variable,
    time_series,
    window_variable,
)

UID = "nht-layers"
TITLE = "nht-monitor / Layers"

TOP_K = 5

RL = "{" + RUN_SELECTOR + ", " + LAYER_SELECTOR + "}"
R = "{" + RUN_SELECTOR + "}"


def build() -> dashboard.Dashboard:
    """The Layers dashboard builder."""
    share = (f"{m.WEIGHT_NORM}{RL} ^ 2 / ignoring(layer) group_left() "
             f"({m.TOTAL_NORM}{R} ^ 2)")
    relative_change = (f"abs(delta({m.WEIGHT_NORM}{RL}[$window])) / {m.WEIGHT_NORM}{RL}")
    board = (dashboard.Dashboard(TITLE)
             .uid(UID)
             .description("Per-layer weight and gradient norms of one run: which layers "
                          "carry the norm, which move, and how the hierarchy evolves.")
             .tags(["nht-monitor"])
             .time("now-1h", "now")
             .refresh("10s")
             .tooltip(dash_models.DashboardCursorSync.CROSSHAIR)
             .with_variable(datasource_variable())
             .with_variable(run_variable(m.WEIGHT_NORM, multi=False))
             .with_variable(layer_variable(m.WEIGHT_NORM))
             .with_variable(window_variable())
             .link(related_dashboards_link()))
    board = (board
             .with_panel(time_series(
                 "Weight norm per layer",
                 describe("L2 weight norm of each selected layer.",
                          "Layers rise during fitting and then decay together; the head "
                          "turns first.",
                          "One layer growing without bound, a layer stuck at its init "
                          "norm (dead), or NaN gaps."),
                 [query(f"{m.WEIGHT_NORM}{RL}", "{{layer}}")],
                 span=12, height=10, legend_table=True))
             .with_panel(time_series(
                 "Gradient norm per layer",
                 describe("L2 gradient norm of each selected layer at the sampled steps.",
                          "Large early, then small and steady; spikes fade.",
                          "Persistent spikes or exploding values (instability), or exactly "
                          "zero for a trainable layer (frozen or disconnected)."),
                 [query(f"{m.GRAD_NORM}{RL}", "{{layer}}")],
                 span=12, height=10, legend_table=True, log=True))
             .with_panel(layer_heatmap(
                 "Weight norm heatmap (layers × time)",
                 describe("One row per layer, colour = weight norm: the norm hierarchy "
                          "at a glance.",
                          "Rows brighten while fitting, then darken from the head down as "
                          "weight decay wins.",
                          "Rows that only brighten (weak regime) or all rows going dark "
                          "at once early on (strong regime)."),
                 [query(f"{m.WEIGHT_NORM}{RL}", "{{layer}}")]))
             .with_panel(time_series(
                 "Share of the total squared norm per layer",
                 describe("Each layer's ‖W_l‖² / ‖W‖² (the shares of all layers add to 1).",
                          "Shares shift smoothly as the structured solution forms.",
                          "One layer near 100% (the rest collapsed) or abrupt jumps."),
                 [query(share, "{{layer}}")],
                 unit="percentunit", span=12, height=9, legend_table=True)
                 .stacking(StackingConfig().mode(StackingMode.NORMAL))
                 .fill_opacity(40))
             .with_panel(bar_gauge(
                 f"Top {TOP_K} layers by relative change over $window",
                 describe("|Δ‖W_l‖| / ‖W_l‖ over the chosen window, largest first.",
                          "Changes of a few percent that shrink as training settles; the "
                          "head among the first to move at the transition.",
                          "A layer changing by >50% per window late in training "
                          "(instability) or nothing changing at all (stalled)."),
                 [query(f"topk({TOP_K}, {relative_change})", "{{layer}}", instant=True)],
                 unit="percentunit", span=12, height=9,
                 thresholds=[(None, "green"), (0.2, "orange"), (0.5, "red")])))
    return board
