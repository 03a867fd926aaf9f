"""The exported series: names, types, units, labels and meaning (the single source of truth).

``docs/METRICS.md`` is rendered from :data:`SERIES` by :func:`markdown_table` (a test keeps
them equal), and a test checks a real scrape exposes exactly these names.
"""

from __future__ import annotations

from dataclasses import dataclass

OTHER_LAYERS = "<other>"
"""``layer`` label value of the aggregate of the layers beyond ``max_layers``."""

JOB_LABELS = ("launch", "rank")
"""Labels of every series after ``run``: the launcher's job id (``""`` when none was
detected, which Prometheus stores as no label) and the global rank of the process
(:mod:`nht_monitor.live.launcher`). Not ``job``: Prometheus keeps that for the scrape job."""


@dataclass(frozen=True)
class SeriesSpec:
    """One exported metric family as it appears in the text exposition."""

    name: str
    type: str  # "gauge", "counter", "gauge (state set)", "gauge (info)"
    unit: str
    labels: tuple[str, ...]
    meaning: str
    every_rank: bool = False
    """A health series: exported by every rank (``per_rank_health``), not only rank 0."""


def _spec(name: str, type_: str, unit: str, labels: str, meaning: str,
          every_rank: bool = False) -> SeriesSpec:
    """A spec whose labels are ``run``, then :data:`JOB_LABELS`, then ``labels``' others."""
    run, *others = labels.split()
    return SeriesSpec(name, type_, unit, (run, *JOB_LABELS, *others), meaning, every_rank)


SERIES: tuple[SeriesSpec, ...] = (
    # per layer
    _spec("nht_layer_weight_norm", "gauge", "1 (L2 norm)", "run layer",
          "L2 norm of the layer's parameters at the last sample (a group's norm is the "
          "root of its layers' summed squares, see cardinality)"),
    _spec("nht_layer_grad_norm", "gauge", "1 (L2 norm)", "run layer",
          "L2 norm of the layer's gradient at the last sample (absent without gradients)"),
    # norms of the run
    _spec("nht_weight_norm", "gauge", "1 (L2 norm)", "run",
          "total L2 norm of the watched parameters weight decay acts on (all with "
          "norm_scope='all')"),
    _spec("nht_head_weight_norm", "gauge", "1 (L2 norm)", "run",
          "L2 norm of the classification head's decayed parameters (the early-warning "
          "signal)"),
    _spec("nht_grad_norm", "gauge", "1 (L2 norm)", "run", "total L2 norm of the gradient"),
    _spec("nht_weight_norm_peak", "gauge", "1 (L2 norm)", "run",
          "peak total norm so far (the shortcut norm estimate V_sc)"),
    # clock and hyper-parameters
    _spec("nht_tau", "gauge", "1 (Σ lr·weight decay)", "run",
          "regularisation clock τ = Σ η_t·λ_t (SGD: × 1/(1 − momentum)) of the reference "
          "param group"),
    _spec("nht_learning_rate", "gauge", "1", "run",
          "learning rate η of the reference param group at the last sample"),
    _spec("nht_weight_decay", "gauge", "1", "run",
          "weight decay λ of the reference param group at the last sample"),
    _spec("nht_step", "gauge", "steps", "run", "optimizer steps taken at the last sample",
          every_rank=True),
    _spec("nht_logged_value", "gauge", "as logged", "run metric",
          "last scalar logged with Monitor.log(**scalars) (e.g. metric=\"train_loss\")"),
    # assessment
    _spec("nht_regime", "gauge (state set)", "1", "run regime",
          "weight-decay regime: one series per value of nht_monitor.analysis.assessment.REGIMES "
          "(undetermined, weak, intermediate, strong, diverged, clamped), 1 for the "
          "current one, 0 for the others (undetermined before the first assessment)"),
    _spec("nht_regime_confidence", "gauge", "1 (0..1)", "run",
          "the analyzer's confidence in the current regime"),
    _spec("nht_phase", "gauge (state set)", "1", "run phase",
          "training phase: one series per value of PHASES (fitting, shortcut, "
          "transitioning, structured), 1 for the current one; absent while unknown"),
    _spec("nht_head_regime", "gauge (state set)", "1", "run regime",
          "regime of the head norm alone (same values as nht_regime); absent without a head"),
    _spec("nht_head_lead_steps", "gauge", "steps", "run",
          "head lead: the step at which the total norm flagged the transition minus the "
          "step at which the head norm did (positive: the head flagged first); absent "
          "while no lead is measured (see nht_head_lead_measured)"),
    _spec("nht_head_lead_measured", "gauge", "1 (bool)", "run",
          "1 when the head lead is measured (both the head and the total norm flagged), "
          "0 when it is not (one or neither flagged, or no head); absent before the "
          "first assessment"),
    _spec("nht_transition_status", "gauge (state set)", "1", "run status",
          "transition status: one series per value of TRANSITION_STATUSES (pending, "
          "imminent, done, not_expected, unknown), 1 for the current one"),
    _spec("nht_transition_steps_remaining", "gauge", "steps", "run",
          "forecast steps until the shortcut-to-structure transition completes "
          "(forecast step minus step at the assessment); absent without a forecast"),
    _spec("nht_transition_forecast_step", "gauge", "steps", "run",
          "absolute optimizer step at which the transition is forecast to complete"),
    _spec("nht_transition_forecast_step_low", "gauge", "steps", "run",
          "lower bound of the forecast step's 80% interval"),
    _spec("nht_transition_forecast_step_high", "gauge", "steps", "run",
          "upper bound of the forecast step's 80% interval; absent when the τ clock stops "
          "before it (an lr schedule annealed to zero)"),
    _spec("nht_transition_forecast_tau", "gauge", "1 (τ)", "run",
          "the forecast transition on the τ clock"),
    _spec("nht_transition_chance_in_budget", "gauge", "1 (0..1)", "run",
          "the probability that the transition completes by the run's last budgeted step "
          "(the forecast's own, calibrated on the task families; 1 once done, 0 once the "
          "budget is spent); absent without a budget or a forecast step"),
    _spec("nht_transition_relapsed", "gauge", "1 (bool)", "run",
          "1 when the transition is done but held-out accuracy has fallen back below "
          "done_val_acc since (median of its last heldout_relapse_evals evaluations: the "
          "structured solution is not holding), else 0"),
    _spec("nht_decay_rate", "gauge", "1/τ", "run",
          "fitted decay rate of the total norm per unit τ (positive when decaying)"),
    _spec("nht_cns_ratio", "gauge", "1 (ratio)", "run",
          "Clean Norm Separation ratio V_sc / V_st (shortcut over structured norm)"),
    _spec("nht_cns_holds", "gauge", "1 (bool)", "run",
          "1 when Clean Norm Separation holds (the law transfers), 0 when it does not; "
          "absent while undecided"),
    _spec("nht_suggested_weight_decay", "gauge", "1", "run",
          "weight decay the advice suggests at the current learning rate; absent without"),
    # health of the monitor
    _spec("nht_samples_total", "counter", "samples", "run", "samples recorded by the monitor",
          every_rank=True),
    _spec("nht_errors_total", "counter", "errors", "run",
          "internal errors of the monitor (sampling or analysis failures; the sidecar "
          "counts unreadable lines and analysis failures)", every_rank=True),
    _spec("nht_last_sample_timestamp_seconds", "gauge", "seconds (unix time)", "run",
          "wall-clock time of the last sample; time() minus it is the staleness",
          every_rank=True),
    _spec("nht_run_info", "gauge (info)", "1", "run source model head",
          "always 1; source is monitor (in-process exporter), sidecar or pushgateway "
          "(final summary); model is the model class, head the head layer",
          every_rank=True),
)

SERIES_BY_NAME: dict[str, SeriesSpec] = {spec.name: spec for spec in SERIES}
LAYER_SERIES: frozenset[str] = frozenset({"nht_layer_weight_norm", "nht_layer_grad_norm"})
HEALTH_SERIES: frozenset[str] = frozenset(spec.name for spec in SERIES if spec.every_rank)
"""What a rank other than 0 exports (with ``per_rank_health``, or from its own log)."""


def markdown_table() -> str:
    """The series as the markdown table of ``docs/METRICS.md``."""
    lines = ["| Series | Type | Unit | Labels | Ranks | Meaning |",
             "|---|---|---|---|---|---|"]
    for spec in SERIES:
        labels = ", ".join(f"`{label}`" for label in spec.labels)
        ranks = "every" if spec.every_rank else "0"
        lines.append(f"| `{spec.name}` | {spec.type} | {spec.unit} | {labels} | {ranks} | "
                     f"{spec.meaning} |")
    return "\n".join(lines) + "\n"
