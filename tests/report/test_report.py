"""``nht-monitor report`` on real short training runs, rendered in headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib import image as mpimg  # noqa: E402

from nht_monitor.cli import main  # noqa: E402
from nht_monitor.report import build_report  # noqa: E402
from tests.report.training import run_training  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
# Counts the page's images and those decoded (naturalWidth > 0) once everything loaded,
# and writes the numbers into <body> attributes for --dump-dom.
PROBE = ("<script>window.addEventListener('load', function () {"
         "var imgs = Array.prototype.slice.call(document.images);"
         "document.body.setAttribute('data-images', String(imgs.length));"
         "document.body.setAttribute('data-decoded', String(imgs.filter(function (i) {"
         "return i.complete && i.naturalWidth > 0; }).length));});</script>")
# Three real runs of a small sweep, in different states at the end: intermediate with a
# pending forecast, weak (norm still growing after the fit), transition already done.
RUNS = {
    "mlp-wd0.1": dict(weight_decay=0.1, init_scale=1.0, log_val=False),
    "mlp-wd1-weak": dict(weight_decay=1.0, init_scale=1.0, log_val=False),
    "mlp-wd1-done": dict(weight_decay=1.0, init_scale=0.3, log_val=True),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    log_dir = tmp_path_factory.mktemp("runs")
    return [Path(run_training(log_dir, run_id, steps=150, **options).log_path)
            for run_id, options in RUNS.items()]


def _chromium(args: list[str], user_dir: Path) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (.ci/run installs it)")
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={user_dir}", *args],
                          capture_output=True, text=True, timeout=180)


def _decoded(html: Path, tmp: Path) -> tuple[int, int]:
    probe = tmp / (html.stem + "-probe.html")
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                     encoding="utf-8")
    result = _chromium(["--dump-dom", "--virtual-time-budget=5000", probe.as_uri()],
                       tmp / "chromium-dom")
    body = re.search(r"<body[^>]*>", result.stdout)
    assert body, result.stderr[-2000:]
    images = re.search(r'data-images="(\d+)"', body.group(0))
    decoded = re.search(r'data-decoded="(\d+)"', body.group(0))
    assert images and decoded, f"probe did not run: {body.group(0)}"
    return int(images.group(1)), int(decoded.group(1))


def _embedded_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def _assert_self_contained(text: str) -> None:
    assert not re.search(r'(src|href)="(https?:)?//', text), "the report references the network"
    assert "<script" not in text and "<link" not in text


@pytest.mark.chromium
def test_single_run_report_renders_in_chromium(runs, tmp_path):
    out = tmp_path / "report.html"
    summary = build_report([runs[0]], out, png_dir=tmp_path / "png")
    text = out.read_text(encoding="utf-8")
    _assert_self_contained(text)
    pngs = _embedded_pngs(text)
    assert len(pngs) == summary.figures >= 5  # norms, heatmap, multiples, metrics, τ
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    assert sorted(p.name for p in summary.png_files) == sorted(
        f"mlp-wd0.1_{n}.png" for n in ("norms", "layers_heatmap", "layers", "metrics", "tau"))
    for section in ("Assessment", "Total and head norm", "Per-layer norms",
                    "Train / val metrics", "τ clock"):
        assert f"<h3>{section}</h3>" in text
    # the assessment of this run: intermediate, forecast pending with its interval
    assert "regime-intermediate" in text and "Reasons" in text and "Advice" in text
    assert re.search(r"pending; forecast step [\d,.]+, 80% interval \[[\d,.]+, [\d,.]+\]",
                     text), "forecast with interval missing"

    shot = tmp_path / "shot.png"
    result = _chromium([f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars",
                        out.as_uri()], tmp_path / "chromium-shot")
    assert shot.exists(), result.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200
    # not blank: many distinct colours, and a good part of the page is not background
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200
    background = np.all(np.abs(pixels - pixels[-1, -1]) < 0.02, axis=-1)
    assert background.mean() < 0.9

    assert _decoded(out, tmp_path) == (summary.figures, summary.figures)


@pytest.mark.chromium
def test_probe_detects_a_broken_image(runs, tmp_path):
    """The decode check can fail: a corrupt embedded image is counted as not decoded."""
    out = tmp_path / "report.html"
    summary = build_report([runs[2]], out)
    text = out.read_text(encoding="utf-8")
    broken = text.replace("</main>", '<img alt="broken" src="data:image/png;base64,'
                          'iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB">' + "</main>")
    out.write_text(broken, encoding="utf-8")
    assert _decoded(out, tmp_path) == (summary.figures + 1, summary.figures)


@pytest.mark.chromium
def test_sweep_report_via_cli(runs, tmp_path, capsys):
    out = tmp_path / "sweep.html"
    png_dir = tmp_path / "figures"
    code = main(["report", *map(str, runs), "-o", str(out), "--png", str(png_dir)])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "3 run(s)" in printed
    text = out.read_text(encoding="utf-8")
    _assert_self_contained(text)
    assert 'id="sweep"' in text
    for heading in ("Norm curves coloured by λ", "Delay vs 1/(ηλ)", "Scorecard P1–P6"):
        assert f"<h3>{heading}</h3>" in text
    for run_id in RUNS:
        assert f"<td>{run_id}</td>" in text
    assert "<th>chance within the budget</th>" in text
    for prediction in ("P1", "P2", "P3", "P4", "P5", "P6"):
        assert f"<b>{prediction}</b>" in text
    assert "Overall score S = " in text
    assert (png_dir / "sweep_norms.png").is_file() and (png_dir / "sweep_delay.png").is_file()
    images, decoded = _decoded(out, tmp_path)
    assert images == decoded == len(_embedded_pngs(text)) >= 3 * 5 + 1


def test_missing_log_is_one_clear_error(tmp_path, capsys):
    code = main(["report", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "r.html")])
    assert code == 2
    err = capsys.readouterr().err
    assert "nope.jsonl" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_report_of_a_run_without_samples(tmp_path):
    """A run that has not taken a step yet gives a report saying so, not an error."""
    monitor = run_training(tmp_path, "no-steps", steps=0)
    out = tmp_path / "empty.html"
    summary = build_report([monitor.log_path], out)
    text = out.read_text(encoding="utf-8")
    assert summary.figures == 0
    assert "no samples yet" in text and "regime-undetermined" in text


def _recorded_log(log_dir: Path, run_id: str, weight_decay: float, assess: bool,
                  assess_every: int = 20) -> Path:
    """A log written by RunRecorder (no torch): synthetic grokking norms over two layers,
    with live assessments or (``assess=False``) without, so the report replays them."""
    from nht_monitor.live.recorder import RunRecorder
    from nht_monitor.runlog.schema import RunHeader
    from tests.analysis.synthetic import grokking

    norm_of, val_of, head_of, _ = grokking(ratio=1.5, weight_decay=weight_decay)
    header = RunHeader(run_id=run_id, started_at="2026-12-02T00:00:00Z",
                       model={"class_name": "M", "n_params": 2}, layers=["body", "head"],
                       head="head", config={"steps": 600})
    recorder = RunRecorder.open(log_dir, header, assess=assess, assess_every=assess_every)
    tau = 0.0
    for step in range(1, 601):
        tau += 1e-3 * weight_decay
        norm, head = norm_of(step, tau), head_of(step, tau)
        recorder.record(step=step, tau=tau, lr=1e-3, weight_decay=weight_decay,
                        layer_norms={"body": (norm ** 2 - head ** 2) ** 0.5, "head": head},
                        metrics={"train_acc": min(1.0, step / 200), "val_acc": val_of(step, tau)},
                        time=1.8e9 + step)
    recorder.close()
    return recorder.path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> list[Path]:
    log_dir = tmp_path_factory.mktemp("recorded")
    return [_recorded_log(log_dir, "rec-live", 1.0, assess=True),
            _recorded_log(log_dir, "rec-replayed", 2.0, assess=False)]


def test_report_never_imports_torch(recorded, tmp_path):
    out = tmp_path / "report.html"
    script = ("import sys\n"
              "from nht_monitor.cli import main\n"
              f"assert main(['report', {str(recorded[0])!r}, {str(recorded[1])!r}, "
              f"'-o', {str(out)!r}]) == 0\n"
              "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
    text = out.read_text(encoding="utf-8")
    assert "<b>P6</b>" in text and "Source: offline analysis." in text


def test_drawing_in_worker_processes_gives_the_same_report(recorded, tmp_path):
    def build(workers: int):
        summary = build_report(recorded, tmp_path / f"w{workers}.html",
                               png_dir=tmp_path / f"png{workers}", workers=workers)
        html = re.sub(r"generated [^<]*", "", summary.html.read_text(encoding="utf-8"))
        return summary, html, [(p.name, p.read_bytes()) for p in summary.png_files]

    serial, parallel = build(1), build(2)
    assert serial[1] == parallel[1] and serial[2] == parallel[2]
    assert serial[0].figures == parallel[0].figures == len(serial[2]) == 2 * 5 + 2
    assert "regime-intermediate" in serial[1]


def test_a_done_transition_is_shown_as_the_step_it_came_not_a_forecast():
    from nht_monitor.analysis.assessment import Assessment, Transition
    from nht_monitor.report.html import assessment_html

    done = Assessment(regime="intermediate", step=9000, transition=Transition(
        status="done", forecast_step=3660.0, interval=(3660.0, 3660.0), forecast_tau=3.294))
    text = assessment_html(done, "run.jsonl")
    assert "done at step 3,660 (τ 3.294)" in text
    assert "forecast step" not in text and "80% interval" not in text
    pending = done.model_copy(update={"transition": Transition(
        status="pending", forecast_step=5000.0, interval=(4000.0, 6000.0))})
    assert "pending; forecast step" in assessment_html(pending, "run.jsonl")
    open_end = pending.model_copy(update={"transition": Transition(
        status="pending", forecast_step=5000.0, interval=(4000.0, None))})
    assert "80% interval [4,000, never] if it comes" in assessment_html(open_end, "run.jsonl")
    chance = pending.model_copy(update={"transition": Transition(
        status="pending", forecast_step=5000.0, interval=(4000.0, 6000.0),
        chance_in_budget=0.47)})
    assert "; 47% chance it comes within the budget" in assessment_html(chance, "run.jsonl")
    assert "chance it comes" not in assessment_html(pending, "run.jsonl")


@pytest.mark.parametrize("intercept, says", [(-2340.0, "− 2.34e+03"), (120.0, "+ 120")])
def test_the_delay_law_legend_writes_the_intercept_with_its_own_sign(intercept, says):
    """A negative intercept reads "… − 2.34e+03", not "… + -2.34e+03" (a public sparse
    parity sweep's report)."""
    from nht_monitor.report.figures import delay_figure

    fig = delay_figure([("a", 10.0, 500.0), ("b", 20.0, 1500.0)], (100.0, intercept, 0.97))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"fit: delay = 100·1/(ηλ) {says} (R² = 0.970)" in labels


def test_a_handful_of_live_assessments_gives_way_to_a_replayed_history(tmp_path):
    """Three live assessments over 600 steps (a short run assessed every few seconds) draw
    the regime bands as a replay does; thirty keep their own."""
    from nht_monitor.report.data import regime_history
    from nht_monitor.runlog import read_run

    sparse = read_run(_recorded_log(tmp_path, "sparse", 1.0, assess=True, assess_every=200))
    none = read_run(_recorded_log(tmp_path, "none", 1.0, assess=False))
    dense = read_run(_recorded_log(tmp_path, "dense", 1.0, assess=True))
    assert sum(1 for s in sparse.samples if s.assessment) == 3
    assert regime_history(sparse) == regime_history(none)
    live = [(float(s.step), s.assessment["regime"]) for s in dense.samples if s.assessment]
    assert len(live) >= 20
    assert regime_history(dense)[0].start == 1.0
    assert [span.regime for span in regime_history(dense)][-1] == live[-1][1]
