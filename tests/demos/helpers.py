"""Assertions shared by the demo tests: a demo run left a real, assessed run log."""

from __future__ import annotations

import math
from pathlib import Path

from nht_monitor import read_run
from nht_monitor.analysis.assessment import REGIMES, Assessment


def assert_assessed_log(path: Path, *, metrics: tuple[str, ...]) -> Assessment:
    """The log reads back, has samples with the metrics in [0, 1] (accuracies) and an
    assessment; returns the last assessment."""
    log = read_run(path)
    assert log.samples, f"{path} has no samples"
    assert log.skipped_lines == 0
    steps = [s.step for s in log.samples]
    assert steps == sorted(steps) and steps[0] >= 1
    for s in log.samples:
        assert math.isfinite(s.norm) and s.norm > 0
    seen: dict[str, list[float]] = {}
    for s in log.samples:
        for k, v in s.metrics.items():
            seen.setdefault(k, []).append(v)
    for name in metrics:
        assert name in seen, f"metric {name} never logged in {path} (have {sorted(seen)})"
        if name.endswith("acc"):
            assert all(0.0 <= v <= 1.0 for v in seen[name]), (name, seen[name])
        else:
            assert all(math.isfinite(v) and v >= 0 for v in seen[name]), (name, seen[name])
    assessed = [s.assessment for s in log.samples if s.assessment is not None]
    assert assessed, f"no assessment written in {path}"
    last = Assessment.model_validate(assessed[-1])
    assert last.regime in REGIMES
    assert last.n_samples == len(log.samples)
    return last
