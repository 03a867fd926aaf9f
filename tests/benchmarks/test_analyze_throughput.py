"""The throughput benchmark runs end to end on a small log (its timings are not tested)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import analyze_throughput  # noqa: E402


def test_the_benchmark_prints_every_row(capsys):
    assert analyze_throughput.main(["--samples", "3000", "--layers", "4", "--repeat", "1",
                                    "--parse-samples", "300", "--live-samples", "2000"]) == 0
    out = capsys.readouterr().out
    for row in ("| Analyzer.analyze(samples)", "| Analyzer.observe", "| Analyzer.assess (live",
                "| Analyzer.assess, planned lr in the header (20,000-step cosine)",
                "load average"):
        assert row in out, row
