"""A missing optional dependency is one friendly line naming the extra, not a traceback.

Each command runs in a subprocess in which the dependency is hidden: ``sys.modules[name]
= None`` makes ``import name`` fail and ``importlib.util.find_spec(name)`` return None,
exactly as when the package is not installed.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.dashboards.dashboard_json import ROOT

HIDE_AND_RUN = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
sys.argv = sys.argv[2:]
if sys.argv[0] == "-m":
    import runpy
    sys.argv = sys.argv[1:]
    runpy.run_module(sys.argv[0], run_name="__main__")
else:
    from nht_monitor.cli import main
    sys.exit(main(sys.argv[1:]))
"""


def run_without(hidden: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE_AND_RUN, hidden, *argv],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def assert_one_friendly_line(result: subprocess.CompletedProcess, extra: str,
                             module: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert module in lines[0] and f"pip install 'nht-monitor[{extra}]'" in lines[0], lines[0]


@pytest.mark.parametrize("argv", [
    ("dashboards", "generate", "--out", "{tmp}"),
    ("dashboards", "generate", "--check"),
    ("-m", "nht_monitor.dashboards.generate", "--out", "{tmp}"),
    ("dashboards", "push", "--url", "http://127.0.0.1:9"),  # renders in memory first
], ids=["generate", "generate-check", "python-m", "push-render"])
def test_dashboards_without_the_sdk(tmp_path, argv):
    argv = [a.format(tmp=tmp_path) for a in argv]
    result = run_without("grafana_foundation_sdk", *(["cli"] if argv[0] != "-m" else []), *argv)
    assert_one_friendly_line(result, "dashboards", "grafana_foundation_sdk")
    assert not list(tmp_path.iterdir())


def test_push_without_grafana_client(tmp_path):
    result = run_without("grafana_client", "cli", "dashboards", "push",
                         "--url", "http://127.0.0.1:9", "--dir", str(ROOT / "deploy/grafana/dashboards"))
    assert_one_friendly_line(result, "dashboards", "grafana_client")


def test_exporter_without_prometheus_client(tmp_path):
    result = run_without("prometheus_client", "cli", "exporter", "--log-dir", str(tmp_path),
                         "--port", "0")
    assert_one_friendly_line(result, "prometheus", "prometheus_client")


def test_report_without_matplotlib(tmp_path):
    result = run_without("matplotlib", "cli", "report", str(tmp_path / "r.jsonl"),
                         "-o", str(tmp_path / "report.html"))
    assert_one_friendly_line(result, "report", "matplotlib")
    assert not list(tmp_path.iterdir())
