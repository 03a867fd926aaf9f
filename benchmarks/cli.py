"""Start-up and offline-command cost of the ``nht-monitor`` CLI (issue 14).

    python benchmarks/cli.py [--repeat 5] [--samples 100000] [--workdir DIR] [--no-slow]

Each command runs in a fresh process, ``--repeat`` times; printed side by side with a bare
``python -c pass``: the median (and min) wall time, the peak RSS of the process (from
``os.wait4``), its CPU time (user + system, children included) and the 1-minute load
average when it ran (timings on a shared machine are noisy: compare rows of one run, not
across runs). Targets on an idle 2-core CPU:
``nht-monitor --help`` ≤ 0.3 s; ``analyze`` of a 100k-sample log ≤ 1 s and ≤ 200 MiB.

1. ``nht-monitor --help``, and the heavy packages its imports pull in (from
   ``python -X importtime``; torch must not be among them — exit code 1 if it is), for
   ``--help`` and for the help of every offline command.
2. ``nht-monitor analyze`` of a generated 100k-sample log (20 layers with weight and
   gradient norms, metrics train_loss/train_acc/val_acc, a real assessment every 10
   samples — about 1.5 KB a line), and the same analysis in a ``python -c`` through
   ``Analyzer.analyze(path)`` (the columnar reader ``read_columns``) and, unless
   ``--no-slow``, through ``read_run`` (a ``Sample`` per line: what ``analyze`` did before).
3. ``nht-monitor report`` of six generated 1,500-step runs (a λ sweep; needs matplotlib).

Logs are generated into ``--workdir`` (default: a temporary directory) and reused when
already there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEAVY = ("torch", "numpy", "scipy", "pydantic", "pydantic_core", "matplotlib",
         "prometheus_client", "pandas", "torchvision", "tqdm", "grafana_client", "yaml",
         "PIL", "wilds", "lightning", "transformers")
"""Packages worth naming when a command imports them."""

OFFLINE_HELP = (["--help"], ["show", "--help"], ["analyze", "--help"], ["advise", "--help"],
                ["backtest", "--help"], ["scorecard", "--help"], ["report", "--help"],
                ["exporter", "--help"], ["dashboards", "--help"], ["demo", "--help"],
                ["demo", "modular-arithmetic", "--help"])


# -- generated logs ---------------------------------------------------------------------

def _assessment() -> dict:
    """A real assessment (as the live engine writes it) of a short decaying run."""
    from nht_monitor.analysis import Analyzer
    from nht_monitor.runlog.schema import Sample

    run = [Sample(step=i, tau=i * 1e-3, lr=1e-3, weight_decay=1.0, norm=30.0 * 0.999 ** i,
                  metrics={"train_acc": 1.0, "val_acc": 0.1}) for i in range(1, 400)]
    return Analyzer().analyze(run).model_dump(mode="json")


def write_log(path: Path, n: int, *, layers: int = 20, weight_decay: float = 1.0,
              lr: float | None = None, assess_every: int = 10, run_id: str = "bench") -> None:
    """A grokking-shaped run of ``n`` samples as the live monitor writes it: the norm rises
    until the fit (5% of the run), decays as exp(-0.8·Δτ) and the held-out accuracy
    jumps once it has fallen by 1.31×."""
    from nht_monitor.runlog.schema import RunHeader
    from nht_monitor.runlog.writer import dumps_line

    lr = lr if lr is not None else 3.0 / n
    names = [f"blocks.{i}.weight" for i in range(layers - 1)] + ["head.weight"]
    header = RunHeader(run_id=run_id, started_at="2026-12-01T12:00:00Z",
                       model={"class_name": "Net", "n_params": 1_234_567}, layers=names,
                       head="head", config={"steps": n, "lr": lr, "weight_decay": weight_decay})
    assessment = dumps_line(_assessment()).rstrip("\n")  # non-finite values spelled out
    fit = max(1, n // 20)
    tau_fit = fit * lr * weight_decay
    tmp = path.with_suffix(".tmp")
    handle = open(tmp, "w", encoding="utf-8")  # noqa: SIM115
    handle.write(dumps_line(header.to_json_dict()))
    for i in range(1, n + 1):
        tau = i * lr * weight_decay
        norm = 10 + 20 * i / fit if i <= fit else 30 * math.exp(-0.8 * (tau - tau_fit))
        acc = min(1.0, i / fit)
        per = norm / math.sqrt(layers)
        row = {"step": i, "time": 1.7e9 + 0.05 * i, "tau": tau, "lr": lr,
               "weight_decay": weight_decay, "norm": norm, "head_norm": per,
               "layer_norms": {nm: per * (1 + 0.001 * j) for j, nm in enumerate(names)},
               "grad_norm": 0.3,
               "layer_grad_norms": {nm: 0.3 / math.sqrt(layers) for nm in names},
               "metrics": {"train_loss": max(1e-3, 4.6 * (1 - acc)), "train_acc": acc,
                           "val_acc": 1.0 if i > fit and norm < 30 / 1.31 else 0.05},
               "nonfinite": []}
        line = json.dumps(row, separators=(",", ":"), allow_nan=False)
        if i % assess_every == 0:
            line = line[:-1] + ',"assessment":' + assessment + "}"
        handle.write(line + "\n")
    handle.close()
    tmp.replace(path)


def ensure_logs(workdir: Path, samples: int) -> tuple[Path, list[Path]]:
    """The big log and the six report runs (generated unless already in ``workdir``)."""
    big = workdir / f"analyze-{samples}.jsonl"
    if not big.exists():
        print(f"generating {big} …", file=sys.stderr, flush=True)
        write_log(big, samples)
    sweep = []
    for wd in (0.1, 0.15, 0.2, 0.3, 0.5, 1.0):
        path = workdir / f"sweep-wd{wd:g}.jsonl"
        if not path.exists():
            write_log(path, 1500, weight_decay=wd, lr=1e-2, run_id=f"sweep-wd{wd:g}")
        sweep.append(path)
    return big, sweep


# -- measuring ----------------------------------------------------------------------------

def run_once(cmd: list[str]) -> tuple[float, float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS (MiB), exit code and stderr of
    one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=ROOT)
    err = proc.stderr.read() if proc.stderr else b""  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode,
            err.decode(errors="replace"))


def measure(label: str, cmd: list[str], repeat: int) -> dict:
    """Median/min wall, median CPU, max peak RSS and the load average over ``repeat``
    runs."""
    walls, cpus, rss, loads = [], [], [], []
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        wall, cpu, peak, code, err = run_once(cmd)
        if code != 0:
            raise SystemExit(f"{label}: exit code {code}\n{err}")
        walls.append(wall)
        cpus.append(cpu)
        rss.append(peak)
    return {"what": label, "median": statistics.median(walls), "min": min(walls),
            "cpu": statistics.median(cpus), "rss": max(rss),
            "load": f"{min(loads):.2f}–{max(loads):.2f}", "n": repeat}


def heavy_imports(python: str, argv: list[str]) -> tuple[list[str], float]:
    """Heavy top-level packages imported by ``nht-monitor ARGV`` and the total import time
    (s), from ``python -X importtime``."""
    code = ("import sys\nfrom nht_monitor.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n")
    out = subprocess.run([python, "-X", "importtime", "-c", code, *argv], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    names, total = set(), 0.0
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line[len("import time:"):].split("|")
        if not cumulative.strip().isdigit():
            continue  # the column titles
        if not name.startswith("  "):  # top level of the import tree: counted once
            total += int(cumulative) / 1e6
        names.add(name.strip().split(".")[0])
    return sorted(n for n in names if n in HEAVY), total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    ap.add_argument("--report-repeat", type=int, default=3, help="runs of report")
    ap.add_argument("--samples", type=int, default=100_000, help="samples of the big log")
    ap.add_argument("--workdir", type=Path, default=None, help="where the logs go (reused)")
    ap.add_argument("--no-slow", action="store_true",
                    help="skip the read_run (a Sample per line) comparison")
    ap.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.generate:  # in a child: the parent stays small (a forked child starts at its size)
        ensure_logs(args.workdir, args.samples)
        return 0
    python = sys.executable
    script = Path(python).with_name("nht-monitor")
    cli = [str(script)] if script.exists() else [python, "-m", "nht_monitor.cli"]
    temp = None
    if args.workdir is None:
        temp = tempfile.TemporaryDirectory(prefix="nht-cli-bench-")
        args.workdir = Path(temp.name)
    args.workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, __file__, "--generate", "--workdir", str(args.workdir),
                    "--samples", str(args.samples)], check=True)
    big = args.workdir / f"analyze-{args.samples}.jsonl"
    sweep = sorted(args.workdir.glob("sweep-wd*.jsonl"))
    size = big.stat().st_size / 2 ** 20

    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}; cli {' '.join(cli)}")
    print(f"big log: {args.samples:,} samples, {size:.0f} MiB; report: 6 runs × 1,500 steps")
    failed = False
    print("\nheavy imports (python -X importtime):")
    print("| command | import time (s) | heavy packages imported |")
    print("|---|---|---|")
    for extra in OFFLINE_HELP:
        names, total = heavy_imports(python, extra)
        failed |= "torch" in names
        print(f"| nht-monitor {' '.join(extra)} | {total:.3f} | {', '.join(names) or '-'}"
              f"{'  ← TORCH' if 'torch' in names else ''} |")

    fast = ("import sys\nfrom nht_monitor.analysis import Analyzer\n"
            "from nht_monitor.analysis.settings import recorded_settings\n"
            "from nht_monitor.runlog.reader import read_columns\n"
            "log = read_columns(sys.argv[1])\n"
            "a = Analyzer(log.header, recorded_settings(log.header)).analyze(log)\n"
            "print(a.regime, a.n_samples)\n")
    slow = ("import sys\nfrom nht_monitor.analysis import Analyzer\n"
            "from nht_monitor.analysis.settings import recorded_settings\n"
            "from nht_monitor.runlog import read_run\n"
            "log = read_run(sys.argv[1])\n"
            "a = Analyzer(log.header, recorded_settings(log.header)).analyze(log.samples)\n"
            "print(a.regime, a.n_samples)\n")
    rows = [measure("python -c pass", [python, "-c", "pass"], args.repeat),
            measure("nht-monitor --help", [*cli, "--help"], args.repeat),
            measure("nht-monitor demo --help", [*cli, "demo", "--help"], args.repeat),
            measure(f"nht-monitor analyze ({args.samples // 1000}k samples)",
                    [*cli, "analyze", str(big)], args.repeat),
            measure("  same, Analyzer.analyze via read_columns", [python, "-c", fast, str(big)],
                    args.repeat)]
    if not args.no_slow:
        rows.append(measure("  same, via read_run (a Sample per line)",
                            [python, "-c", slow, str(big)], 1))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("\nreport: matplotlib is not installed, skipped", file=sys.stderr)
    else:
        out = args.workdir / "report.html"
        rows.append(measure("nht-monitor report (6 runs × 1,500 steps)",
                            [*cli, "report", *map(str, sweep), "-o", str(out)],
                            args.report_repeat))

    print("\n| command | median wall (s) | min wall (s) | median CPU (s) | peak RSS (MiB) "
          "| load avg 1 min | runs |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['median']:.3f} | {r['min']:.3f} | {r['cpu']:.3f} | "
              f"{r['rss']:.0f} | {r['load']} | {r['n']} |")
    by = {r["what"]: r for r in rows}
    help_s = by["nht-monitor --help"]["median"]
    analyze = rows[3]
    print(f"\ntargets (idle 2-core CPU): --help {help_s:.3f} s (≤ 0.3); analyze "
          f"{analyze['median']:.3f} s wall, {analyze['cpu']:.3f} s CPU (≤ 1), "
          f"{analyze['rss']:.0f} MiB (≤ 200); load average now {os.getloadavg()[0]:.2f}.\n"
          "CPU is user + system time of the process and its children (read_columns reads "
          "half of a log over 32 MiB in a forked child): on a loaded machine it estimates "
          "the idle wall time of a single-process command better than the wall time does.")
    if failed:
        print("FAIL: torch imported by an offline command", file=sys.stderr)
    if temp is not None:
        temp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
