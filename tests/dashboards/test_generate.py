"""The dashboards as code: regenerate-and-diff, SDK round trip, structure, metric names."""

from __future__ import annotations

import json
import warnings

import pytest

pytest.importorskip("grafana_foundation_sdk")

from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402
from grafana_foundation_sdk.cog.plugins import register_default_plugins  # noqa: E402
from grafana_foundation_sdk.models import prometheus as prom_models  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.models.dashboard import Dashboard, RowPanel  # noqa: E402

from nht_monitor.dashboards.generate import render_all  # noqa: E402
from nht_monitor.cli import main  # noqa: E402
from nht_monitor.exporter.metrics import SERIES_BY_NAME  # noqa: E402
from tests.dashboards.dashboard_json import (  # noqa: E402
    JSON_DIR,
    LABEL_RE,
    METRIC_RE,
    ROOT,
    SELECTOR_RE,
    committed,
    data_panels,
    expressions,
    panels,
    variables,
)

BOARDS = committed()
EXPECTED = {"nht-run-overview.json", "nht-layers.json", "nht-sweep.json"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def test_committed_json_is_what_the_generator_produces():
    rendered = render_all()
    assert set(rendered) == set(BOARDS) == EXPECTED
    for name, text in rendered.items():
        assert (JSON_DIR / name).read_text(encoding="utf-8") == text, (
            f"deploy/grafana/dashboards/{name} is stale: run `nht-monitor dashboards generate`")


def test_generate_check_command(capfd):
    assert main(["dashboards", "generate", "--check"]) == 0
    assert "stale" not in capfd.readouterr().out


def test_generate_writes_to_the_current_directory_by_default(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    assert main(["dashboards", "generate"]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.json")) == sorted(EXPECTED)
    assert capfd.readouterr().out.count(".json") == len(EXPECTED)
    package = ROOT / "nht_monitor" / "dashboards"
    assert not list(package.rglob("*.json")), "generate wrote into the package"


def test_module_check_against_the_committed_directory(capfd):
    from nht_monitor.dashboards.generate import main as generate_main

    assert generate_main(["--check", "--out", str(JSON_DIR)]) == 0
    assert generate_main(["--check"]) == 0  # from a checkout: deploy/grafana/dashboards
    assert "stale" not in capfd.readouterr().out


def test_check_outside_a_checkout_asks_for_out(monkeypatch, capfd):
    from nht_monitor.dashboards import generate

    monkeypatch.setattr(generate, "checkout_json_dir", lambda: None)
    assert main(["dashboards", "generate", "--check"]) == 1
    err = capfd.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--out" in err


def test_generate_check_detects_a_stale_file(tmp_path, capfd):
    assert main(["dashboards", "generate", "--out", str(tmp_path)]) == 0
    victim = tmp_path / "nht-layers.json"
    victim.write_text(victim.read_text().replace("Weight norm per layer", "Edited by hand"))
    assert main(["dashboards", "generate", "--check", "--out", str(tmp_path)]) == 1
    assert "nht-layers.json" in capfd.readouterr().out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_round_trip_through_the_sdk_models(name):
    register_default_plugins()
    raw = BOARDS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = Dashboard.from_json(raw)
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    assert again == raw
    assert model.schema_version == 42
    for panel in model.panels:
        inner = panel.panels if isinstance(panel, RowPanel) else [panel]
        for p in inner:
            # the panel plugin's own model classes were used, not a loose dict
            assert not isinstance(p.options, dict) and p.options is not None, p.title
            assert all(isinstance(t, prom_models.Dataquery) for t in p.targets), p.title


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_panel_has_a_datasource_and_targets(name):
    board = BOARDS[name]
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in data_panels(board):
        title = panel["title"]
        assert panel.get("datasource") == DATASOURCE, title
        targets = panel.get("targets") or []
        assert targets, f"{title}: no target"
        assert len({t["refId"] for t in targets}) == len(targets), title
        for target in targets:
            assert target.get("datasource") == DATASOURCE, title
            assert target.get("expr", "").strip(), title
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, title


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_descriptions_say_healthy_and_unhealthy(name):
    for panel in data_panels(BOARDS[name]):
        text = panel.get("description", "")
        assert "Healthy: " in text and "Unhealthy: " in text, panel["title"]


def test_template_variables():
    for name, board in BOARDS.items():
        found = variables(board)
        assert found["datasource"]["type"] == "datasource"
        assert found["datasource"]["query"] == "prometheus"
        assert found["run"]["type"] == "query"
        assert found["run"]["datasource"] == DATASOURCE
        assert "label_values(" in found["run"]["query"]["query"]
        for _title, _ref, expr in expressions(board):
            if "nht_" in expr:
                assert 'run=~"$run"' in expr, expr
    layers = variables(BOARDS["nht-layers.json"])["layer"]
    assert layers["multi"] and layers["includeAll"]
    assert 'run=~"$run"' in layers["query"]["query"]
    assert variables(BOARDS["nht-sweep.json"])["run"]["multi"]


def test_metric_names_and_labels_are_the_exporters():
    """Every nht_* series used exists in the exporter's catalogue (docs/METRICS.md),
    and every label a selector filters on is one of that series' labels."""
    metrics_doc = (ROOT / "docs" / "METRICS.md")
    doc_text = metrics_doc.read_text(encoding="utf-8") if metrics_doc.exists() else None
    used: set[str] = set()
    for board in BOARDS.values():
        texts = [e for _t, _r, e in expressions(board)]
        texts += [v["query"]["query"] for v in variables(board).values()
                  if isinstance(v.get("query"), dict)]
        for expr in texts:
            used.update(METRIC_RE.findall(expr))
            for metric, selector in SELECTOR_RE.findall(expr):
                spec = SERIES_BY_NAME.get(metric)
                assert spec is not None, f"{metric} is not an exported series"
                for label in LABEL_RE.findall(selector):
                    assert label in spec.labels, f"{metric} has no label {label!r}"
    unknown = sorted(m for m in used if m not in SERIES_BY_NAME)
    assert not unknown, f"not exported: {unknown}"
    if doc_text is not None:
        undocumented = sorted(m for m in used if f"`{m}`" not in doc_text)
        assert not undocumented, f"not in docs/METRICS.md: {undocumented}"
    assert len(used) >= 20  # the dashboards cover most of the catalogue
