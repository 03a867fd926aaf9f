"""The sweep page shows each run's transition step as backtest and the scorecard find it:
the first evaluation at which held-out accuracy reaches ``done_val_acc``."""

from __future__ import annotations

import re
from pathlib import Path

from nht_monitor.analysis.transition import DEFINITION
from nht_monitor.report import build_report
from nht_monitor.runlog.schema import RunHeader
from nht_monitor.runlog.writer import RunLogWriter
from tests.analysis.test_transition_definition import FIRST_REACH, spike_run


def _log(log_dir: Path, run_id: str, weight_decay: float, val_scale: float) -> Path:
    """The spike run of the analysis tests at ``weight_decay``; ``val_scale`` < 0.9
    keeps held-out accuracy below 0.9 (no transition seen)."""
    header = RunHeader(run_id=run_id, started_at="2026-12-02T00:00:00Z",
                       model={"class_name": "M", "n_params": 2}, layers=["body"])
    path = log_dir / f"{run_id}.jsonl"
    writer = RunLogWriter(path, header)
    for s in spike_run():
        metrics = dict(s.metrics)
        if "val_acc" in metrics:
            metrics["val_acc"] *= val_scale
        writer.write(s.model_copy(update={"weight_decay": weight_decay, "metrics": metrics,
                                          "layer_norms": {"body": s.norm}}).model_dump())
    writer.close()
    return path


def test_sweep_table_shows_the_first_reach_as_the_transition_step(tmp_path):
    paths = [_log(tmp_path, "spike", 1.0, 1.0), _log(tmp_path, "never", 2.0, 0.8)]
    out = tmp_path / "sweep.html"
    summary = build_report(paths, out, workers=1)
    assert summary.sweep is not None
    assert summary.sweep.transition_steps == [FIRST_REACH, None]
    html = out.read_text(encoding="utf-8")
    sweep = html[html.index('<section id="sweep">'):]
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", sweep).group(1)
    column = re.findall(r"<th>(.*?)</th>", header).index("transition step")
    cells = {row[0]: row[column] for row in
             (re.findall(r"<td>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", sweep))
             if row and row[0] in ("spike", "never")}
    assert cells == {"spike": f"{FIRST_REACH}", "never": "—"}
    assert DEFINITION[1:] in sweep
