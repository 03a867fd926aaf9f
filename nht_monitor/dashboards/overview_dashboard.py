"""Dashboard 1, "nht-monitor / Run overview": one run's regime, phase and forecast."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as dash_models

from nht_monitor.analysis.text import NO_LEAD
from nht_monitor.dashboards import names as m
from nht_monitor.dashboards.panels import (
    PHASE_COLORS,
    RANK0_SELECTOR,
    REGIME_COLORS,
    RUN_SELECTOR,
    STATUS_COLORS,
    datasource_variable,
    missing_value_mapping,
    or_nan_when,
    related_dashboards_link,
    describe,
    query,
    run_variable,
    stat_panel,
    state_index,
    state_mappings,
    state_timeline,
    table_panel,
    time_series,
)

UID = "nht-run-overview"
TITLE = "nht-monitor / Run overview"

R = "{" + RUN_SELECTOR + "}"
R0 = "{" + RANK0_SELECTOR + "}"


RELAPSE_MAPPINGS = state_mappings(("holding", "fell back"),
                                  {"holding": "green", "fell back": "red"})
"""nht_transition_relapsed 0 / 1 as a state index."""


def build() -> dashboard.Dashboard:
    """The Run overview dashboard builder."""
    regime_mappings = state_mappings(m.REGIME_ORDER, REGIME_COLORS)
    phase_mappings = state_mappings(m.PHASE_ORDER, PHASE_COLORS)
    status_mappings = state_mappings(m.STATUS_ORDER, STATUS_COLORS)
    board = (dashboard.Dashboard(TITLE)
             .uid(UID)
             .description("One training run watched by nht-monitor: weight-decay regime, "
                          "phase, transition forecast, total vs head norm, the τ clock.")
             .tags(["nht-monitor"])
             .time("now-1h", "now")
             .refresh("10s")
             .tooltip(dash_models.DashboardCursorSync.CROSSHAIR)
             .with_variable(datasource_variable())
             .with_variable(run_variable(m.STEP, multi=False))
             .link(related_dashboards_link()))

    board = board.with_row(dashboard.Row("Verdict"))
    board = (board
             .with_panel(stat_panel(
                 "Regime",
                 describe("The rule engine's current weight-decay regime.",
                          "'intermediate' (the norm peaked and now decays, or, still "
                          "fitting, the budget leaves room for the law's delay after the "
                          "fit: the transition to the structured solution is coming) or "
                          "'undetermined' early on.",
                          "'weak' past the fit (shortcut persists: raise λ), 'strong' "
                          "(learning suppressed: lower λ) or 'diverged'."),
                 [query(state_index(m.REGIME, m.REGIME_LABEL, m.REGIME_ORDER), "regime",
                        instant=True)],
                 mappings=regime_mappings, span=3))
             .with_panel(stat_panel(
                 "Phase",
                 describe("Where the run is on the shortcut → structure path.",
                          "'fitting' then 'shortcut', 'transitioning', 'structured' in order.",
                          "Stuck at 'shortcut' long after the fit while the regime is weak."),
                 [query(state_index(m.PHASE, m.PHASE_LABEL, m.PHASE_ORDER), "phase",
                        instant=True)],
                 mappings=phase_mappings, span=3))
             .with_panel(stat_panel(
                 "Transition",
                 describe("Status of the shortcut → structure transition forecast.",
                          "'unknown' until a verdict (undetermined regime), then "
                          "'pending', 'imminent', 'done'.",
                          "'not_expected' past the fit (weak or strong regime: the "
                          "transition will not come with this λ)."),
                 [query(state_index(m.TRANSITION_STATUS, m.STATUS_LABEL, m.STATUS_ORDER),
                        "status", instant=True)],
                 mappings=status_mappings, span=3))
             .with_panel(stat_panel(
                 "Transition in (steps)",
                 describe("Countdown: forecast transition step minus the current step.",
                          "A number that falls as training proceeds and stays within the budget.",
                          "Growing, or larger than the steps left in the budget."),
                 [query(f"{m.STEPS_REMAINING}{R}", "steps remaining", instant=True)],
                 decimals=0, span=3,
                 thresholds=[(None, "green"), (1e4, "orange"), (1e5, "red")]))
             .with_panel(stat_panel(
                 "Suggested weight decay",
                 describe("The λ the advice suggests at the current learning rate "
                          "(compare with the λ in use, panel 'Learning rate and weight decay').",
                          "Close to the λ in use (advice 'keep').",
                          "Far from the λ in use: the run is in the weak (raise λ) or "
                          "strong (lower λ) regime, or the forecast exceeds the budget."),
                 [query(f"{m.SUGGESTED_WEIGHT_DECAY}{R}", "suggested λ", instant=True)],
                 unit="sci", span=3))
             .with_panel(stat_panel(
                 "Step",
                 describe("Optimizer steps taken so far.",
                          "Increases steadily.", "Flat: the job is stalled or the exporter is stale."),
                 [query(f"{m.STEP}{R0}", "step", instant=True)], decimals=0, span=3))
             .with_panel(stat_panel(
                 "τ clock",
                 describe("The regularisation clock τ = Σ η_t·λ_t; the transition delay is "
                          "Θ(1/(ηλ)), i.e. O(1) in τ.",
                          "Grows linearly at constant lr and λ.",
                          "Flat while steps increase: weight decay is zero for the reference group."),
                 [query(f"{m.TAU}{R}", "τ", instant=True)], decimals=3, span=3))
             .with_panel(stat_panel(
                 "Exporter staleness",
                 describe("Seconds since the monitor last produced a sample (the stalest "
                          "rank's, with per-rank health).",
                          "A few seconds (about one sampling interval).",
                          "Tens of seconds or more: training hung, crashed, or the exporter "
                          "cannot read the run."),
                 [query(f"max by (run) (time() - {m.LAST_SAMPLE}{R})", "age", instant=True)],
                 unit="s", decimals=0, span=3,
                 thresholds=[(None, "green"), (60, "orange"), (300, "red")])))

    board = board.with_row(dashboard.Row("Regime and forecast over time"))
    board = (board
             .with_panel(state_timeline(
                 "Regime over time",
                 describe("Regime of the total norm and of the head norm alone, over time.",
                          "Undetermined → intermediate, the head lane turning before the "
                          "total lane, then staying intermediate until the transition.",
                          "Long stretches of weak or strong, or any diverged block."),
                 [query(state_index(m.REGIME, m.REGIME_LABEL, m.REGIME_ORDER), "total norm",
                        ref="A"),
                  query(state_index(m.HEAD_REGIME, m.REGIME_LABEL, m.REGIME_ORDER),
                        "head norm", ref="B")],
                 mappings=regime_mappings, height=4, span=12))
             .with_panel(state_timeline(
                 "Phase over time",
                 describe("Phase as a state timeline.",
                          "Phases appear in order: fitting, shortcut, transitioning, structured.",
                          "Phase flipping back and forth, or no progress past 'shortcut'."),
                 [query(state_index(m.PHASE, m.PHASE_LABEL, m.PHASE_ORDER), "phase")],
                 mappings=phase_mappings, height=4, span=12))
             .with_panel(time_series(
                 "Transition forecast vs step",
                 describe("Current step, the forecast transition step and its 80% interval band.",
                          "The forecast settles (the band narrows) and the step line approaches it.",
                          "A forecast that keeps moving away, or a band wider than the run."),
                 [query(f"{m.STEP}{R0}", "step", ref="A"),
                  query(f"{m.FORECAST_STEP}{R}", "forecast", ref="B"),
                  query(f"{m.FORECAST_LOW}{R}", "interval low", ref="C"),
                  query(f"{m.FORECAST_HIGH}{R}", "interval high", ref="D")],
                 span=12)
                 .override_by_name("interval high", [
                     dash_models.DynamicConfigValue(id_val="custom.fillBelowTo",
                                                    value="interval low"),
                     dash_models.DynamicConfigValue(id_val="custom.fillOpacity", value=20),
                     dash_models.DynamicConfigValue(id_val="custom.lineWidth", value=0)])
                 .override_by_name("interval low", [
                     dash_models.DynamicConfigValue(id_val="custom.lineWidth", value=0)])
                 .override_by_name("forecast", [
                     dash_models.DynamicConfigValue(id_val="custom.lineStyle",
                                                    value={"fill": "dash", "dash": [10, 10]})]))
             .with_panel(stat_panel(
                 "Chance within the budget",
                 describe("The probability that the transition comes by the run's last "
                          "budgeted step (nht_transition_chance_in_budget: the forecast's "
                          "own, calibrated on the task families; 100% once done; 'No data' "
                          "without a budget or a forecast step, e.g. before the fit).",
                          "High (green) and holding, or rising as the norm decays.",
                          "Falling below 20% (red): the forecast recedes past the budget "
                          "(alert NhtTransitionUnlikelyInBudget); extend the budget or "
                          "raise λ."),
                 [query(f"max by (run) ({m.CHANCE_IN_BUDGET}{R})", "chance", instant=True)],
                 unit="percentunit", decimals=0, height=8, span=4,
                 thresholds=[(None, "red"), (0.2, "orange"), (0.5, "green")]))
             .with_panel(stat_panel(
                 "Head lead (steps)",
                 describe("The head lead: the step at which the total norm flagged the "
                          "transition minus the step at which the classification head's "
                          "norm did (nht_head_lead_steps). 'no lead measured' while the "
                          "head or the total norm (or both) has not flagged, or the run has "
                          "no head (nht_head_lead_measured = 0); 'No data' when the run "
                          "exports no assessment at all.",
                          "Positive (green): the head flagged first, the early warning the "
                          "Norm-Hierarchy law predicts.",
                          "Zero or negative (orange): the head gives no early warning; or "
                          "'no lead measured' long after the total norm started to decay."),
                 [query(or_nan_when(f"{m.HEAD_LEAD}{R}", f"{m.HEAD_LEAD_MEASURED}{R}"),
                        "lead", instant=True)],
                 decimals=0, height=8, span=4,
                 mappings=[missing_value_mapping(NO_LEAD)],
                 thresholds=[(None, "orange"), (1, "green")]))
             .with_panel(stat_panel(
                 "Structured solution holding",
                 describe("Whether held-out accuracy has stayed at the transition's level "
                          "since the transition (nht_transition_relapsed: 1 when the "
                          "median of its last evaluations fell back below it; alert "
                          "NhtTransitionRelapsed).",
                          "'holding' (green), before and after the transition.",
                          "'fell back' (red): the structured solution is not holding; keep "
                          "the transition's checkpoint, check the learning rate."),
                 [query(f"max by (run) ({m.TRANSITION_RELAPSED}{R})", "relapsed",
                        instant=True)],
                 height=8, span=4, mappings=RELAPSE_MAPPINGS,
                 thresholds=[(None, "green"), (1, "red")])))

    board = board.with_row(dashboard.Row("Norms and clock"))
    norm_targets = [query(f"{m.TOTAL_NORM}{R}", "total norm", ref="A"),
                    query(f"{m.HEAD_NORM}{R}", "head norm", ref="B")]
    board = (board
             .with_panel(time_series(
                 "Total vs head weight norm",
                 describe("L2 norm of all weights and of the classification head.",
                          "Both rise while fitting, peak, then decay smoothly (head first).",
                          "Monotone growth long after the fit (weak regime), a collapse "
                          "to near zero with high loss (strong regime), or spikes/NaN."),
                 norm_targets, span=12))
             .with_panel(time_series(
                 "Total vs head weight norm (log scale)",
                 describe("The same norms on a log₁₀ axis: exponential decay in τ is a "
                          "straight line.",
                          "A straight descending segment after the peak.",
                          "A curve that flattens at a high level (weak) or plunges (strong)."),
                 norm_targets, span=12, log=True))
             .with_panel(time_series(
                 "τ clock",
                 describe("τ = Σ η_t·λ_t over time.",
                          "Linear (constant lr·λ) or following the lr schedule.",
                          "Flat: no weight decay on the reference param group."),
                 [query(f"{m.TAU}{R}", "τ")], span=6))
             .with_panel(time_series(
                 "Learning rate and weight decay",
                 describe("lr and λ of the reference param group.",
                          "What the config says (schedules visible as ramps/steps).",
                          "λ = 0 (no regularisation clock) or an lr that collapsed to 0."),
                 [query(f"{m.LEARNING_RATE}{R}", "lr", ref="A"),
                  query(f"{m.WEIGHT_DECAY}{R}", "weight decay", ref="B")],
                 span=6, log=True))
             .with_panel(time_series(
                 "Norm decay rate (per unit τ) and confidence",
                 describe("Fitted decay rate of the total norm per unit τ, and the analyzer's "
                          "confidence in the regime (0..1).",
                          "Decay rate settling at a positive O(1) value; confidence rising.",
                          "Decay rate ≤ 0 long after the fit (weak regime) or very large "
                          "(strong regime); confidence stuck low."),
                 [query(f"{m.DECAY_RATE}{R}", "decay rate", ref="A"),
                  query(f"{m.REGIME_CONFIDENCE}{R}", "confidence", ref="B")],
                 span=6))
             .with_panel(time_series(
                 "Train / val metrics",
                 describe("Scalars logged with monitor.log(...) (loss, accuracies…).",
                          "Train loss falls; val accuracy jumps up around the transition.",
                          "Val accuracy stuck while train accuracy is perfect (shortcut), "
                          "or train loss high with a collapsing norm (strong regime)."),
                 [query(f"{m.LOGGED_VALUE}{R}", "{{metric}}")], span=6)))

    board = board.with_row(dashboard.Row("Alerts and health"))
    board = (board
             .with_panel(table_panel(
                 "Active alerts",
                 describe("Firing alerts of deploy/prometheus/rules/ for this run "
                          "(Prometheus's ALERTS series).",
                          "Empty, or only 'transition imminent'/'transition done'.",
                          "Weak/strong regime, diverged, stale monitor or rising internal errors."),
                 [query(f'{m.ALERTS}{{alertstate="firing", {RUN_SELECTOR}}}', "{{alertname}}",
                        instant=True, fmt="table")],
                 span=16)
                 .with_transformation(dash_models.DataTransformerConfig(
                     id_val="organize", options={
                         "excludeByName": {"Time": True, "Value": True, "__name__": True,
                                           "alertstate": True},
                         "indexByName": {"alertname": 0, "severity": 1, "run": 2}})))
             .with_panel(time_series(
                 "Monitor samples and errors (per second)",
                 describe("Rate of samples taken and of internal monitor errors (summed "
                          "over the ranks that serve them).",
                          "Samples at the training step rate; errors at zero.",
                          "Errors above zero (the monitor switches itself off after repeated "
                          "failures) or samples dropping to zero."),
                 [query(f"sum by (run) (rate({m.SAMPLES}{R}[$__rate_interval]))", "samples/s",
                        ref="A"),
                  query(f"sum by (run) (rate({m.ERRORS}{R}[$__rate_interval]))", "errors/s",
                        ref="B")],
                 span=8)))
    return board
