"""Throughput of the rule engine on a 1,000,000-sample log of a 50-layer model.

    python benchmarks/analyze_throughput.py [--samples 1000000] [--layers 50]

What is measured (wall clock, best of ``--repeat``), printed side by side:

1. ``Analyzer.analyze(samples)`` on already-parsed :class:`Sample` objects (the whole
   offline assessment: column extraction + facts + rules). Every sample carries
   ``--layers`` layer norms and the metrics ``train_loss``/``train_acc``/``val_acc``; to fit
   in memory the samples share one ``layer_norms`` dict (the analyzer never reads layer
   norms, so this does not change what is timed). Target: ≥ 200k samples/s.
2. ``Analyzer.analyze_series`` on column arrays (the rules alone).
3. Parsing: ``Sample.model_validate_json`` of real 50-layer JSON lines (a subset of
   ``--parse-samples`` lines, rate extrapolated) — reading a log is NOT part of (1) — and
   the same lines read from a file by ``read_columns`` (no ``Sample`` per line; what
   ``Analyzer.analyze(path)`` uses).
4. Live: ``Analyzer.observe`` µs per sample and ``Analyzer.assess`` ms per call after
   the whole stream (bounded history); and ``assess`` again with a planned learning rate
   in the header (``lr_plan``: a cosine over a budget of 10 × the steps, 512 knots), the
   τ still to come summed along it; and ``assess`` before the fit with a budget, rule 6d
   (``room_after_fit``: a least-squares line over train accuracy) on and off, side by side.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nht_monitor.analysis import Analyzer, AnalyzerSettings, series_from_samples  # noqa: E402
from nht_monitor.analysis.lr_plan import plan_of  # noqa: E402
from nht_monitor.runlog.reader import read_columns  # noqa: E402
from nht_monitor.runlog.schema import RunHeader, Sample  # noqa: E402
from nht_monitor.runlog.writer import dumps_line  # noqa: E402


def curve(n: int) -> tuple[np.ndarray, ...]:
    """A grokking-shaped run: fit by 5% of the run, decay, transition at 60%."""
    step = np.arange(1, n + 1, dtype=np.float64)
    lr, wd = 1e-3, 1.0
    tau = step * lr * wd * (3.0 / n * 1000)
    fit = 0.05 * n
    norm = np.where(step < fit, 10 + 20 * step / fit, 30 * np.exp(-0.8 * (tau - tau[int(fit)])))
    acc = np.minimum(1.0, step / fit)
    loss = np.maximum(1e-3, 4.6 * (1 - acc))
    val = np.where(step > 0.6 * n, 1.0, 0.05)
    return step, tau, norm, acc, loss, val, lr * (3.0 / n * 1000), wd


def build_samples(n: int, layers: int) -> list[Sample]:
    step, tau, norm, acc, loss, val, lr, wd = curve(n)
    layer_norms = {f"layer{i}.weight": 1.0 + i / layers for i in range(layers)}
    out = []
    construct = Sample.model_construct
    for i in range(n):
        out.append(construct(step=int(step[i]), time=None, tau=float(tau[i]), lr=lr, weight_decay=wd,
                             norm=float(norm[i]), head_norm=float(norm[i]) / 3,
                             layer_norms=layer_norms, grad_norm=None, layer_grad_norms=None,
                             metrics={"train_loss": float(loss[i]), "train_acc": float(acc[i]),
                                      "val_acc": float(val[i])},
                             groups=None, nonfinite=[], assessment=None))
    return out


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parse-samples", type=int, default=20_000)
    ap.add_argument("--live-samples", type=int, default=100_000)
    args = ap.parse_args(argv)
    n = args.samples
    settings = AnalyzerSettings(advice=False)
    print(f"building {n:,} samples × {args.layers} layers …", file=sys.stderr)
    samples = build_samples(n, args.layers)
    analyzer = Analyzer(settings=settings)
    result = {}

    t_analyze = best(lambda: result.setdefault("a", analyzer.analyze(samples)), args.repeat)
    series = series_from_samples(samples, settings)
    t_series = best(lambda: analyzer.analyze_series(series), args.repeat)
    a = analyzer.analyze(samples)
    print(f"assessment: {a.regime}, transition {a.transition.status} at step "
          f"{a.transition.forecast_step}")

    # parsing real JSON lines (50 layer norms each), on a subset
    m = min(args.parse_samples, n)
    full = [s.model_copy(update={"layer_norms": dict(s.layer_norms),
                                 "layer_grad_norms": dict(s.layer_norms),
                                 "grad_norm": 1.0, "time": 1.7e9}) for s in samples[:m]]
    lines = [s.model_dump_json() for s in full]
    t_parse = best(lambda: [Sample.model_validate_json(x) for x in lines], 1)
    with tempfile.TemporaryDirectory() as tmp:  # the same lines through the columnar reader
        log = Path(tmp) / "run.jsonl"
        header = RunHeader(run_id="bench", started_at="2026-01-01T00:00:00Z",
                           model={"class_name": "M", "n_params": 1}, layers=[])
        log.write_text(dumps_line(header.to_json_dict()) + "\n".join(lines) + "\n")
        t_columns = best(lambda: read_columns(log, workers=1), 3)

    # live
    k = min(args.live_samples, n)
    live = Analyzer(settings=settings)
    t0 = time.perf_counter()
    for s in samples[:k]:
        live.observe(s)
    t_observe = (time.perf_counter() - t0) / k
    t_assess = best(live.assess, 20)
    budget = 10 * int(samples[k - 1].step)
    planned_header = RunHeader(
        run_id="bench", started_at="2026-01-01T00:00:00Z",
        model={"class_name": "M", "n_params": 1}, layers=[], config={"budget_steps": budget},
        lr_plan=plan_of(lambda step: 1e-3 * 0.5 * (1 + math.cos(math.pi * step / budget)),
                        budget))
    planned = Analyzer(planned_header, settings)
    for s in samples[:k]:
        planned.observe(s)
    t_planned = best(planned.assess, 20)
    # before the fit (5 % of the run), with a budget: rule 6d (room_after_fit) on and off
    pre = min(k, int(0.03 * n))  # train accuracy 0.6: not fitted, not flat
    budgeted = RunHeader(run_id="bench", started_at="2026-01-01T00:00:00Z",
                         model={"class_name": "M", "n_params": 1}, layers=[],
                         config={"budget_steps": budget})
    fitting = {on: Analyzer(budgeted, settings.model_copy(update={"expect_before_fit": on}))
               for on in (True, False)}
    for s in samples[:pre]:
        for live_fitting in fitting.values():
            live_fitting.observe(s)
    t_fitting = {on: best(a.assess, 20) for on, a in fitting.items()}
    rule = fitting[True].assess().rule

    print(f"\nmachine: {sys.platform}, python {sys.version.split()[0]}; {n:,} samples, "
          f"{args.layers} layers; best of {args.repeat}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| what | time | rate |")
    print("|---|---|---|")
    print(f"| Analyzer.analyze(samples) (parsed Sample objects) | {t_analyze:.3f} s | "
          f"{n / t_analyze:,.0f} samples/s |")
    print(f"| Analyzer.analyze_series (column arrays) | {t_series:.3f} s | {n / t_series:,.0f} samples/s |")
    print(f"| Sample.model_validate_json (50-layer lines, {m:,}) | {t_parse:.3f} s | "
          f"{m / t_parse:,.0f} samples/s (not part of analyze) |")
    print(f"| read_columns (the same lines from a file, one process) | {t_columns:.3f} s | "
          f"{m / t_columns:,.0f} samples/s (what analyze reads a log with) |")
    print(f"| Analyzer.observe (live, per sample, {k:,}) | {t_observe * 1e6:.2f} µs | "
          f"{1 / t_observe:,.0f} samples/s |")
    print(f"| Analyzer.assess (live, history ≤ {settings.history_points}) | {t_assess * 1e3:.2f} ms | - |")
    print(f"| Analyzer.assess, planned lr in the header ({budget:,}-step cosine) | "
          f"{t_planned * 1e3:.2f} ms | ratio {t_planned / t_assess:.2f} |")
    print(f"| Analyzer.assess before the fit ({pre:,} samples; rule 6d on: `{rule}`) | "
          f"{t_fitting[True] * 1e3:.2f} ms | ratio {t_fitting[True] / t_fitting[False]:.2f} "
          f"to rule 6d off ({t_fitting[False] * 1e3:.2f} ms) |")
    target = 200_000
    rate = n / t_analyze
    print(f"\nanalyze throughput {rate:,.0f} samples/s: {'meets' if rate >= target else 'MISSES'} "
          f"the {target:,} samples/s target (ratio {rate / target:.2f})")
    return 0 if math.isfinite(rate) else 1


if __name__ == "__main__":
    sys.exit(main())
