"""Dashboard 3, "nht-monitor / Sweep & fleet": several runs side by side (e.g. a λ sweep)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as dash_models

from nht_monitor.dashboards import names as m
from nht_monitor.dashboards.panels import (
    RANK0_SELECTOR,
    REGIME_COLORS,
    RUN_SELECTOR,
    bar_gauge,
    datasource_variable,
    related_dashboards_link,
    describe,
    query,
    run_variable,
    state_index,
    state_mappings,
    state_timeline,
    table_panel,
    time_series,
)

UID = "nht-sweep"
TITLE = "nht-monitor / Sweep & fleet"

R = "{" + RUN_SELECTOR + "}"
R0 = "{" + RANK0_SELECTOR + "}"


def build() -> dashboard.Dashboard:
    """The Sweep & fleet dashboard builder."""
    regime_mappings = state_mappings(m.REGIME_ORDER, REGIME_COLORS)
    board = (dashboard.Dashboard(TITLE)
             .uid(UID)
             .description("Several runs at once (a weight-decay sweep or a fleet of jobs): "
                          "final norms, regimes, forecasts and Clean Norm Separation.")
             .tags(["nht-monitor"])
             .time("now-6h", "now")
             .refresh("30s")
             .tooltip(dash_models.DashboardCursorSync.CROSSHAIR)
             .with_variable(datasource_variable())
             .with_variable(run_variable(m.STEP, multi=True))
             .link(related_dashboards_link()))
    board = (board
             .with_panel(state_timeline(
                 "Regime per run",
                 describe("One lane per run, coloured by regime.",
                          "In a λ sweep: small λ weak, middle λ intermediate, large λ "
                          "strong (the three regimes ordered by λ).",
                          "Regimes out of λ order, or diverged lanes."),
                 [query(state_index(m.REGIME, m.REGIME_LABEL, m.REGIME_ORDER), "{{run}}")],
                 mappings=regime_mappings, height=8, span=24))
             .with_panel(bar_gauge(
                 "Chance of the transition within the budget per run",
                 describe("The probability that each run's transition comes by its last "
                          "budgeted step (nht_transition_chance_in_budget: the forecast's "
                          "own, calibrated on the task families; 1 once done; no bar "
                          "without a budget or a forecast step).",
                          "High (green) for the λ that transition in time; the others low "
                          "and falling as their forecasts recede.",
                          "Low (red) on most runs: the budget is too short for this λ range "
                          "(with an NHTStopper or NHTPruner, min_chance stops such trials)."),
                 [query(f"{m.CHANCE_IN_BUDGET}{R}", "{{run}}", instant=True)],
                 unit="percentunit", span=24,
                 thresholds=[(None, "red"), (0.2, "orange"), (0.5, "green")]))
             .with_panel(bar_gauge(
                 "Latest total norm per run",
                 describe("Last total weight norm of each run.",
                          "Falls as λ grows (prediction P1: norm ordering).",
                          "Larger λ with a larger norm (ordering broken), or a norm near "
                          "zero (strong regime)."),
                 [query(f"{m.TOTAL_NORM}{R}", "{{run}}", instant=True)],
                 span=12))
             .with_panel(bar_gauge(
                 "Clean Norm Separation ratio per run",
                 describe("V_sc / V_st: shortcut-solution norm over structured-solution norm.",
                          "Clearly above 1: the norm separates shortcut from structure and "
                          "the delay law transfers.",
                          "Close to 1 (no separation, e.g. Waterbirds): forecasts from the "
                          "norm alone are unreliable."),
                 [query(f"{m.CNS_RATIO}{R}", "{{run}}", instant=True)],
                 span=12, thresholds=[(None, "red"), (1.2, "orange"), (2.0, "green")]))
             .with_panel(time_series(
                 "Forecast transition step vs elapsed steps",
                 describe("Per run: steps taken (solid) and the forecast transition step (dashed).",
                          "Forecasts flatten to a constant that the step line reaches; larger "
                          "λ transitions earlier (delay ∝ 1/(ηλ)).",
                          "Forecasts drifting upward with the step (the transition keeps "
                          "receding) or missing for runs that should transition."),
                 [query(f"{m.STEP}{R0}", "{{run}} step", ref="A"),
                  query(f"{m.FORECAST_STEP}{R}", "{{run}} forecast", ref="B")],
                 span=12, height=9)
                 .override_by_regexp(".* forecast", [
                     dash_models.DynamicConfigValue(id_val="custom.lineStyle",
                                                    value={"fill": "dash", "dash": [10, 10]})]))
             .with_panel(time_series(
                 "Total norm per run",
                 describe("Total weight norm curves of all selected runs.",
                          "Peak-then-decay curves whose decay starts earlier for larger λ.",
                          "Curves that never turn down, or collapse immediately."),
                 [query(f"{m.TOTAL_NORM}{R}", "{{run}}")],
                 span=12, height=9, log=True))
             .with_panel(table_panel(
                 "Runs: λ, lr, step, τ",
                 describe("Latest weight decay, learning rate, step and τ of each run.",
                          "The λ values of the sweep, equal lr, comparable steps.",
                          "A run far behind the others (stalled) or with λ = 0."),
                 [query(f"{m.WEIGHT_DECAY}{R}", "", ref="A", instant=True, fmt="table"),
                  query(f"{m.LEARNING_RATE}{R}", "", ref="B", instant=True, fmt="table"),
                  query(f"{m.STEP}{R0}", "", ref="C", instant=True, fmt="table"),
                  query(f"{m.TAU}{R}", "", ref="D", instant=True, fmt="table")],
                 span=24, height=8)
                 .with_transformation(dash_models.DataTransformerConfig(
                     id_val="merge", options={}))
                 .with_transformation(dash_models.DataTransformerConfig(
                     id_val="organize", options={
                         "excludeByName": {"Time": True, "__name__": True},
                         "renameByName": {"Value #A": "weight decay λ",
                                          "Value #B": "learning rate", "Value #C": "step",
                                          "Value #D": "τ"}}))))
    return board
