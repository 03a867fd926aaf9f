"""The Prometheus series the dashboards query (names as in docs/METRICS.md).

The exporter defines and documents these series (``nht_monitor.exporter.metrics.SERIES``,
rendered into docs/METRICS.md); this module only names them once for the panels.
``tests/dashboards`` checks that every ``nht_*`` name used in a panel is one of them,
with the labels the panels select on.
"""

from __future__ import annotations

from nht_monitor.analysis.assessment import PHASES, REGIMES, TRANSITION_STATUSES

# -- per layer ({run, layer}) ------------------------------------------------------
WEIGHT_NORM = "nht_layer_weight_norm"
GRAD_NORM = "nht_layer_grad_norm"

# -- per run ({run}) ---------------------------------------------------------------
TOTAL_NORM = "nht_weight_norm"
HEAD_NORM = "nht_head_weight_norm"
GRAD_NORM_TOTAL = "nht_grad_norm"
NORM_PEAK = "nht_weight_norm_peak"
TAU = "nht_tau"
LEARNING_RATE = "nht_learning_rate"
WEIGHT_DECAY = "nht_weight_decay"
STEP = "nht_step"
LOGGED_VALUE = "nht_logged_value"  # {run, metric}: monitor.log(...) scalars
REGIME = "nht_regime"  # state set {run, regime}: 1 for the current regime, 0 otherwise
REGIME_CONFIDENCE = "nht_regime_confidence"
PHASE = "nht_phase"  # state set {run, phase}
HEAD_REGIME = "nht_head_regime"  # state set {run, regime}
HEAD_LEAD = "nht_head_lead_steps"  # absent while no lead is measured
HEAD_LEAD_MEASURED = "nht_head_lead_measured"  # 0/1: tells "no lead" from "no data"
TRANSITION_STATUS = "nht_transition_status"  # state set {run, status}
STEPS_REMAINING = "nht_transition_steps_remaining"
TRANSITION_RELAPSED = "nht_transition_relapsed"  # 0/1: held-out accuracy fell back after done
FORECAST_STEP = "nht_transition_forecast_step"
FORECAST_LOW = "nht_transition_forecast_step_low"
FORECAST_HIGH = "nht_transition_forecast_step_high"
CHANCE_IN_BUDGET = "nht_transition_chance_in_budget"  # 0..1; absent without budget or forecast
DECAY_RATE = "nht_decay_rate"
CNS_RATIO = "nht_cns_ratio"
SUGGESTED_WEIGHT_DECAY = "nht_suggested_weight_decay"
SAMPLES = "nht_samples_total"
ERRORS = "nht_errors_total"
LAST_SAMPLE = "nht_last_sample_timestamp_seconds"

#: Label of the state-set series and the order in which its states are numbered
#: (the index is what state-timeline panels map back to a name).
REGIME_LABEL = "regime"
PHASE_LABEL = "phase"
STATUS_LABEL = "status"
REGIME_ORDER: tuple[str, ...] = REGIMES
PHASE_ORDER: tuple[str, ...] = PHASES
STATUS_ORDER: tuple[str, ...] = TRANSITION_STATUSES

#: Alert series Prometheus itself creates for the rules in deploy/prometheus/rules/.
ALERTS = "ALERTS"
