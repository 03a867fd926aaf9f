"""Forecast and regime accuracy of the rule engine on real modular-arithmetic runs.

One command reproduces the validation table of docs/FORECAST.md::

    python benchmarks/forecast.py --cache /tmp/nht-forecast-runs

It trains (once; later calls reuse the cached logs) a *calibration set* (p = 41,
width 64, lr 3e-3, λ × init-scale × seed) and a separate *validation set* (p = 47,
width 96, lr 4e-3, other seeds) with the demos' batched sweep
(:func:`nht_monitor.demos.modular_arithmetic.train_sweep`), then scores the analyzer on each:

- regime accuracy at the end of each run and at 30% of its horizon (steps), against
  the outcome-based true regime: ``strong`` if the training set was never fitted
  (train accuracy < 0.99 at the end), ``intermediate`` if it was fitted and the actual
  transition (held-out accuracy reaching and staying ≥ 0.9) happened within the
  horizon, ``weak`` if it was fitted and no transition came;
- the forecast error |forecast − actual| / actual of the transition step, forecast
  made at 50% of the actual step (runs with an actual transition after the fit).

Thresholds are never tuned here on the validation set; ``--calibrate`` prints the
calibration-set statistics used to pick the forecast prior (``structured_ratio``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nht_monitor.analysis import Analyzer, AnalyzerSettings  # noqa: E402
from nht_monitor.analysis.backtest import actual_transition  # noqa: E402
from nht_monitor.analysis.facts import facts_from_series  # noqa: E402
from nht_monitor.analysis.series import series_from_samples  # noqa: E402
from nht_monitor.analysis.settings import parse_overrides  # noqa: E402
from nht_monitor.analysis.sweep import observed_delay  # noqa: E402
from nht_monitor.runlog import read_run  # noqa: E402

CALIBRATION = {
    "base": {"p": 41, "train_fraction": 0.8, "width": 64, "embed_dim": 32, "lr": 3e-3,
             "steps": 2000, "eval_every": 10},
    "sweeps": [{"init_scale": i, "seed": s} for s in (0, 1) for i in (3.0, 2.0)],
    "weight_decays": [0.1, 0.5, 0.7, 1.0, 1.5, 10.0],
}
VALIDATION = {
    "base": {"p": 47, "train_fraction": 0.8, "width": 96, "embed_dim": 32, "lr": 4e-3,
             "steps": 2000, "eval_every": 10},
    "sweeps": [{"init_scale": i, "seed": 10} for i in (3.0, 2.5)],
    "weight_decays": [0.1, 0.4, 0.6, 0.8, 1.2, 10.0],
}
SETS = {"calibration": CALIBRATION, "validation": VALIDATION}


def sweep_id(name: str, sweep: dict) -> str:
    return f"{name}-i{sweep['init_scale']:g}-s{sweep['seed']}"


def generate(name: str, spec: dict, cache: Path, train: bool = True) -> list[Path]:
    """Train the set's sweeps that are not cached yet (``train=False``: skip them);
    return the log paths of every finished sweep."""
    import torch

    from nht_monitor.demos.modular_arithmetic import ModArithConfig, train_sweep

    torch.set_num_threads(1)  # tiny models: one thread is fastest on a shared 2-core box
    paths = []
    for sweep in spec["sweeps"]:
        sid = sweep_id(name, sweep)
        marker = cache / f"{sid}.done"
        cfg = ModArithConfig(**spec["base"], **sweep, run_id=sid, log_dir=cache, device="cpu")
        logs = [cache / f"{sid}-wd{w:g}.jsonl" for w in spec["weight_decays"]]
        if not marker.exists() and not train:
            print(f"skipping {sid}: not generated yet", file=sys.stderr)
            continue
        if not marker.exists():
            started = time.perf_counter()
            print(f"training {sid}: {len(logs)} λ × {cfg.steps} steps …", file=sys.stderr, flush=True)
            train_sweep(cfg, spec["weight_decays"])
            marker.write_text(f"{time.perf_counter() - started:.1f}\n")
        paths.extend(logs)
    return paths


def true_regime(series, settings: AnalyzerSettings, actual_step: float | None) -> str:
    """Outcome-based label (see the module docstring)."""
    acc = series.acc[np.isfinite(series.acc)]
    fitted = acc.shape[0] > 0 and acc[-1] >= settings.fit_train_acc
    if not fitted:
        return "strong"
    return "intermediate" if actual_step is not None else "weak"


def score_run(path: Path, settings: AnalyzerSettings) -> dict:
    run = read_run(path)
    s = series_from_samples(run.samples, settings)
    horizon = float(s.step[-1])
    analyzer = Analyzer(run.header, settings)
    final = analyzer.analyze_series(s)
    actual = actual_transition(s, settings, None)
    facts = facts_from_series(s, settings)
    truth = true_regime(s, settings, actual.step)
    early = analyzer.analyze_series(s, until=int(0.3 * horizon))
    row = {"run": run.header.run_id, "weight_decay": float(s.wd[-1]), "truth": truth,
           "end": final.regime, "at30": early.regime, "actual": actual.step,
           "fit_step": facts.fit_step, "peak": facts.peak, "forecast": None, "error": None,
           "covered": None, "made_at": None}
    row["delayed"] = bool(actual.step is not None and facts.fit_step is not None
                          and actual.step >= 2 * facts.fit_step)
    if row["delayed"]:
        made_at = int(0.5 * actual.step)
        a = analyzer.analyze_series(s, until=made_at)
        row["made_at"] = made_at
        row["at50"] = a.regime
        f = a.transition.forecast_step
        row["forecast"] = f
        if f is not None:
            row["error"] = abs(f - actual.step) / actual.step
            row["covered"] = bool(a.transition.holds(actual.step))
        # calibration statistics: observed V_sc / V_st and the rate slowdown
        i = min(int(np.searchsorted(s.step, actual.step)), len(s) - 1)
        row["v_st"] = float(s.norm[i])
        v_sc = facts.sc_peak if facts.sc_peak is not None else facts.peak
        row["ratio"] = v_sc / row["v_st"] if row["v_st"] > 0 else None
        observed = observed_delay(s, settings)
        row["delay_tau"] = observed.delay_tau if observed is not None else None
        j = min(int(np.searchsorted(s.step, made_at, side="right")) - 1, len(s) - 1)
        if a.decay_rate and a.decay_rate > 0 and s.tau[i] > s.tau[j] and s.norm[j] > s.norm[i]:
            mean_rate = math.log(s.norm[j] / s.norm[i]) / (s.tau[i] - s.tau[j])
            row["rate_factor"] = mean_rate / a.decay_rate
    return row


def summarize(rows: list[dict]) -> dict:
    n = len(rows)
    acc_end = sum(r["truth"] == r["end"] for r in rows) / n if n else math.nan
    acc_30 = sum(r["truth"] == r["at30"] for r in rows) / n if n else math.nan
    fc = [r for r in rows if r["made_at"] is not None]
    quick = sum(r["actual"] is not None and not r["delayed"] for r in rows)
    errs = [r["error"] if r["error"] is not None else math.inf for r in fc]
    cover = [r["covered"] for r in fc if r["covered"] is not None]
    return {"runs": n, "regime_accuracy_end": acc_end, "regime_accuracy_30pct": acc_30,
            "forecast_runs": len(fc), "not_delayed": quick, "forecast_missing": sum(r["forecast"] is None for r in fc),
            "forecast_error_median": statistics.median(errs) if errs else None,
            "forecast_error_mean": statistics.fmean(errs) if errs else None,
            "interval_coverage": sum(cover) / len(cover) if cover else None}


def print_table(name: str, rows: list[dict], summary: dict) -> None:
    print(f"\n## {name} set")
    print("| run | λ | true | end | at 30% | actual step | forecast (at 50%) | error | in 80% interval |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        f = "-" if r["forecast"] is None else f"{r['forecast']:.0f}"
        e = "-" if r["error"] is None else f"{r['error']:.1%}"
        a = "-" if r["actual"] is None else f"{r['actual']:.0f}"
        c = "-" if r["covered"] is None else ("yes" if r["covered"] else "no")
        print(f"| {r['run']} | {r['weight_decay']:g} | {r['truth']} | {r['end']} | {r['at30']} "
              f"| {a} | {f} | {e} | {c} |")
    s = summary
    med = "-" if s["forecast_error_median"] is None else f"{s['forecast_error_median']:.1%}"
    mean = "-" if s["forecast_error_mean"] is None else f"{s['forecast_error_mean']:.1%}"
    cov = "-" if s["interval_coverage"] is None else f"{s['interval_coverage']:.0%}"
    print(f"\n{name}: {s['runs']} runs; regime accuracy at end {s['regime_accuracy_end']:.0%}, "
          f"at 30% of horizon {s['regime_accuracy_30pct']:.0%}; forecast error at 50% of the "
          f"actual step over {s['forecast_runs']} runs: median {med}, mean {mean} "
          f"({s['forecast_missing']} without a forecast count as ∞; {s['not_delayed']} runs with a "
          f"transition before twice the fit step are not forecast cases); 80% interval coverage {cov}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None,
                        help="directory for the generated run logs (default: a temp dir)")
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["calibration", "validation"])
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--no-generate", action="store_true",
                        help="only score the sweeps already in the cache")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="override an AnalyzerSettings field (calibration experiments)")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    cache = args.cache or Path(tempfile.mkdtemp(prefix="nht-forecast-"))
    cache.mkdir(parents=True, exist_ok=True)
    settings = AnalyzerSettings(**parse_overrides(args.setting))
    print(f"run logs in {cache}", file=sys.stderr)
    print("settings: " + settings.model_dump_json(exclude={"train_loss_keys", "train_acc_keys",
                                                           "val_acc_keys"}))
    out = {}
    for name in args.sets:
        paths = generate(name, SETS[name], cache, train=not args.no_generate)
        if args.generate_only:
            continue
        rows = [score_run(p, settings) for p in paths]
        summary = summarize(rows)
        print_table(name, rows, summary)
        ratios = [r["ratio"] for r in rows if r.get("ratio")]
        if ratios:
            logs = np.log(ratios)
            print(f"{name}: observed V_sc/V_st median {float(np.exp(np.median(logs))):.3f}, "
                  f"sd(log) {float(np.std(logs)):.3f} over {len(ratios)} runs")
        delays = [r["delay_tau"] for r in rows if r.get("delay_tau") is not None]
        if delays:
            print(f"{name}: τ from V_sc to the transition: median {float(np.median(delays)):.3f}, "
                  f"sd {float(np.std(delays)):.3f} over {len(delays)} runs")
        factors = [r["rate_factor"] for r in rows if r.get("rate_factor")]
        if factors:
            print(f"{name}: mean rate to the transition / rate at 50%: median "
                  f"{float(np.median(factors)):.3f} over {len(factors)} runs")
        out[name] = {"summary": summary, "rows": rows}
    if args.json:
        print(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
