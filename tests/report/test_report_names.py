"""A report whose run id, module and metric names hold ``$…$`` (legal names, which
matplotlib's mathtext would parse, or fail on) renders, and shows them as written."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from nht_monitor.live.recorder import RunRecorder  # noqa: E402
from nht_monitor.report import build_report  # noqa: E402
from nht_monitor.report import figures  # noqa: E402
from nht_monitor.report.data import load_run  # noqa: E402
from nht_monitor.runlog.schema import RunHeader  # noqa: E402

ODD = ["enc.$\\frac{$.weight", "head.$x^2$", "$$"]


def _log(tmp_path):
    header = RunHeader(run_id="run-$\\alpha$", started_at="2026-12-02T00:00:00Z",
                       model={"class_name": "M", "n_params": 3}, layers=ODD, head=ODD[1],
                       config={"steps": 60})
    recorder = RunRecorder.open(tmp_path, header, assess=True, assess_every=10)
    tau = 0.0
    for step in range(1, 61):
        tau += 1e-2
        recorder.record(step=step, tau=tau, lr=1e-2, weight_decay=1.0,
                        layer_norms={name: 10.0 / (1 + step * k / 100)
                                     for k, name in enumerate(ODD, 1)},
                        metrics={"acc $x_1$": min(1.0, step / 30), "val_acc": 0.1},
                        time=1.8e9 + step)
    recorder.close()
    return recorder.path


def test_dollar_names_render_as_written(tmp_path):
    path = _log(tmp_path)
    out = tmp_path / "report.html"
    summary = build_report([path], out)
    assert summary.figures >= 3
    text = out.read_text(encoding="utf-8")
    assert "run-$\\alpha$" in text
    run = load_run(path)
    fig = figures.metrics_figure(run)
    labels = [t.get_text() for ax in fig.axes if ax.get_legend()
              for t in ax.get_legend().get_texts()]
    assert "acc $x_1$" in labels
    fig.canvas.draw()  # mathtext would raise ParseFatalException on "$\frac{$"
    for make in (figures.norms_figure, figures.layers_figure, figures.layer_multiples_figure,
                 figures.tau_figure):
        made = make(run)
        if made is not None:
            made.canvas.draw()
