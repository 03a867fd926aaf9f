"""Every PromQL expression of every dashboard panel, run against the real Prometheus
while it scrapes real short training runs watched by nht_monitor (exporter on).

Two runs are trained and exported at once (a small fleet), because some series exist
only in some states: run ``RUN_PENDING`` (λ = 0.1, no held-out metric) is in the
intermediate regime with a pending forecast, its interval and a suggested λ; run
``RUN_DONE`` (λ = 1, held-out accuracy logged) has its transition done. A third target
serves one fixed snapshot (run ``RUN_NO_LEAD``) whose head has no lead, so the *Head
lead* panel's "no lead measured" value is checked against a real scrape whatever the two
trainings measure. Template variables are substituted the way Grafana would: ``$run`` ->
one run id (each expression must return a non-empty result for at least one of the
trained runs; the multi-select "All" value ``A|B`` is checked too), ``$layer`` -> ".*"
(the "All" value) and each real layer name, ``$window`` -> "30s", ``$__rate_interval``
-> "4s" (four 1 s scrape intervals). Exempt expressions are listed in ``EXEMPT`` with
the reason. A fourth target serves run ``RUN_PENDING``'s health series as rank 1 would
with ``per_rank_health``: no panel may then show a run twice (once per rank).
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from dataclasses import replace

import pytest

from nht_monitor.exporter import start_exporter
from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.live.launcher import LaunchIdentity
from tests.dashboards.dashboard_json import (
    ROOT,
    committed,
    expressions,
    substitute,
    variables,
)
from tests.exporter.snapshots import SnapshotSource, full_snapshot
from tests.report.training import run_training
from tests.support.prometheus import (  # noqa: F401 - the fixture is used by name
    binary_available,
    free_port,
    prometheus_factory,
)

RUN_PENDING = "dash-pending"
RUN_DONE = "dash-done"
RUNS = {RUN_PENDING: dict(weight_decay=0.1, init_scale=1.0, log_val=False),
        RUN_DONE: dict(weight_decay=1.0, init_scale=0.3, log_val=True)}
LAYERS = ("embed", "hidden", "head")
RUN_NO_LEAD = "dash-no-lead"
HEAD_LEAD_PANEL = ("nht-run-overview.json", "Head lead (steps)")
RELAPSE_PANEL = ("nht-run-overview.json", "Structured solution holding")

EXEMPT = {
    # Prometheus creates ALERTS series only while an alert is pending or firing; the
    # rules' `for:` durations (10 min and more) are far longer than this test's run.
    ("nht-run-overview.json", "Active alerts", "A"):
        "ALERTS exists only while an alert of deploy/prometheus/rules/ is pending or firing",
}


def _label_values(prom_url: str, label: str, match: str) -> list[str]:
    query = urllib.parse.urlencode({"match[]": match})
    with urllib.request.urlopen(f"{prom_url}/api/v1/label/{label}/values?{query}",
                                timeout=5) as response:
        return json.loads(response.read())["data"]


def _no_lead_snapshot():
    """A snapshot whose head signal flagged while the total norm has not: no lead."""
    snapshot = full_snapshot(RUN_NO_LEAD)
    head = snapshot.assessment.head.model_copy(update={"flagged_step": 30, "lead_steps": None})
    return replace(snapshot, assessment=snapshot.assessment.model_copy(update={"head": head}))


def _check_head_lead_panel(prom, cases, monitors) -> None:
    """The Head lead panel's query: the exported lead where one is measured, NaN (which
    the panel maps to "no lead measured") where none is, nothing for an unknown run."""
    (expr,) = [e for n, t, _r, e in cases if (n, t) == HEAD_LEAD_PANEL]
    expected = {RUN_NO_LEAD: None}
    for monitor in monitors:
        head = monitor.latest_assessment.head
        expected[monitor.run_id] = head.lead_steps if head is not None else None
    for run, lead in expected.items():
        prom.wait_for(lambda r=run, x=lead: prom.query_value(
            f'nht_head_lead_measured{{run="{r}"}}') == (0.0 if x is None else 1.0),
            timeout=30, message=f"nht_head_lead_measured of {run}")
        got = prom.query_value(substitute(expr, {"run": run}))
        assert got is not None, run
        assert math.isnan(got) if lead is None else got == lead, (run, lead, got)
    assert prom.query(substitute(expr, {"run": "no-such-run"})) == []


def _check_relapse_panel(prom, cases, monitors) -> None:
    """The Structured solution holding panel's query is each run's exported relapse flag
    (0: holding, 1: fell back), one value per run."""
    (expr,) = [e for n, t, _r, e in cases if (n, t) == RELAPSE_PANEL]
    for monitor in monitors:
        transition = monitor.latest_assessment.transition
        want = 0.0 if transition.relapse_val_acc is None else 1.0
        assert prom.query_value(substitute(expr, {"run": monitor.run_id})) == want
    assert prom.query(substitute(expr, {"run": "no-such-run"})) == []


def _cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for name, board in committed().items():
        for title, ref, expr in expressions(board):
            cases.append((name, title, ref, expr))
    return cases


def _substitutions(expr: str) -> list[dict[str, str]]:
    """Every way the test fills the template variables of ``expr``."""
    base = {"window": "30s", "__rate_interval": "4s", "layer": ".*"}
    runs = [*RUNS, "|".join(RUNS)]
    layers = [".*", *LAYERS] if "$layer" in expr else [".*"]
    return [{**base, "run": run, "layer": layer} for run in runs for layer in layers]


@pytest.mark.prometheus
@pytest.mark.slow
@pytest.mark.skipif(not binary_available("prometheus"), reason="prometheus not installed")
def test_every_panel_query_returns_data(tmp_path, prometheus_factory):  # noqa: F811
    cases = _cases()
    assert len(cases) >= 25
    rules = sorted(str(p) for p in (ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
    ports = {run: free_port() for run in RUNS}
    no_lead = start_exporter(SnapshotSource(_no_lead_snapshot()), PrometheusSettings(port=0))
    rank1 = start_exporter(SnapshotSource(full_snapshot(RUN_PENDING)), PrometheusSettings(port=0),
                           identity=LaunchIdentity(rank=1))
    prom = prometheus_factory(targets=[f"127.0.0.1:{port}" for port in ports.values()]
                              + [no_lead.address, rank1.address], rule_files=rules)
    monitors = []
    try:
        for run, options in RUNS.items():  # Prometheus scrapes them while they train
            monitors.append(run_training(
                tmp_path, run, steps=150, close=False, assess_every=5, assess_interval=0,
                prometheus=PrometheusSettings(port=ports[run]), **options))
        for monitor in monitors:
            monitor.flush()  # the last step's sample is final now
            prom.wait_for(lambda m=monitor: prom.query_value(
                f'nht_step{{run="{m.run_id}", rank="0"}}') == m.step,
                timeout=60, message=f"the last step of {monitor.run_id} to be scraped")
        # range functions need a few samples of the final state in their window
        trained = "|".join(RUNS)
        prom.wait_for(lambda: len(prom.query(
            f'count_over_time(nht_step{{run=~"{trained}", rank="0"}}[30s]) >= 3')) == 2,
                      timeout=30, message="three scrapes of both runs")
        prom.wait_for(lambda: prom.query(f'nht_step{{run="{RUN_PENDING}", rank="1"}}'),
                      timeout=30, message="the rank-1 health series")

        # template variable queries (label_values) find the runs and their layers
        for name, board in committed().items():
            for var in variables(board).values():
                query = var.get("query")
                if not isinstance(query, dict):
                    continue
                metric, label = query["query"][len("label_values("):-1].rsplit(", ", 1)
                for run in RUNS:
                    found = _label_values(prom.url, label,
                                          substitute(metric, {"run": run}))
                    expected = {run} if label == "run" else set(LAYERS)
                    assert expected <= set(found), f"{name} ${var['name']}: {found}"

        empty, twice = [], []
        for name, title, ref, expr in cases:
            if (name, title, ref) in EXEMPT:
                continue
            results = {}
            for subs in _substitutions(expr):
                series = prom.query(substitute(expr, subs))
                results[(subs["run"], subs["layer"])] = bool(series)
                seen = [tuple(sorted((k, v) for k, v in r["metric"].items()
                                     if k not in ("rank", "instance", "job", "launch")))
                        for r in series]
                if len(seen) != len(set(seen)):
                    twice.append(f"{name} / {title} / {ref} ($run={subs['run']}): {series}")
            by_layer: dict[str, list[bool]] = {}
            for (run, layer), found in results.items():
                by_layer.setdefault(layer, []).append(found)
            for layer, founds in by_layer.items():
                if not any(founds):
                    empty.append(f"{name} / {title} / {ref} (layer {layer}): "
                                 f"{substitute(expr, {**_substitutions(expr)[0], 'layer': layer})}")
            if not results[("|".join(RUNS), ".*")]:
                empty.append(f"{name} / {title} / {ref}: empty for all runs selected")
        assert not empty, "empty results:\n" + "\n".join(empty)
        assert not twice, "a run drawn once per rank:\n" + "\n".join(twice)
        assert {(n, t, r) for n, t, r, _ in cases} >= set(EXEMPT), "stale exemption"
        _check_head_lead_panel(prom, cases, monitors)
        _check_relapse_panel(prom, cases, monitors)
    finally:
        for monitor in monitors:
            monitor.close()
        no_lead.close()
        rank1.close()
