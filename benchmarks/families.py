"""Leave-one-family-out benchmark of the rule engine over task families (issue #16, part 1).

Two steps, one command each::

    # 1. generate (resumable; cheapest family first; a finished family is skipped)
    OMP_NUM_THREADS=1 nice -n 15 python benchmarks/families.py generate
    # 2. score every cached family, with the default settings and leave-one-family-out
    python benchmarks/families.py score [--settings-from loo|FAM,FAM,...]

**Held-out families** (``family_tasks.HOLDOUT_FAMILIES``, first generated after the
engine's rules and settings were chosen on ``FAMILIES``; ``HOLDOUT2_FAMILIES``, after
the one rule chosen on those; ``HOLDOUT3_FAMILIES``, after the sweep scatter chosen on
all three; ``HOLDOUT4_FAMILIES`` to ``HOLDOUT7_FAMILIES``, each after the round before
was scored, see ``family_tasks``) have
their own caches, scored with the engine as shipped and with settings
chosen on the earlier rounds::

    OMP_NUM_THREADS=1 nice -n 15 python benchmarks/families.py generate \
        --cache benchmarks/cache/holdout --families holdout
    python benchmarks/families.py score --cache benchmarks/cache/holdout \
        --calibrate-cache benchmarks/cache/families --out benchmarks/results/holdout.md

(``holdout2``: the same with ``holdout2`` for ``holdout``; ``holdout3``: ``--cache
benchmarks/cache/holdout3 --families holdout3``, scored with ``--calibrate-cache``
repeated for the families, holdout and holdout2 caches; each later round likewise,
with every earlier cache.)

``chance_in_budget``'s map (``chance_slope``, ``chance_shift``) is refitted on cached
rounds, and scored on others never used to fit it, with::

    python benchmarks/families.py chance-map --cache benchmarks/cache/holdout16 [...] \
        --test-cache benchmarks/cache/holdout53

Caches do not survive a new machine. A **calibration digest** keeps what the settings are
chosen on (per run: delayed or not, τ from V_sc to the transition, the V_sc ratio, the
clock's rate, the weak probe, the true regime) in a small committed JSON file, and a
round is scored against it as against the caches it came from::

    python benchmarks/families.py digest --cache benchmarks/cache/holdout16 \
        --cache benchmarks/cache/holdout17 --out benchmarks/calibration/NAME.json
    python benchmarks/families.py score --cache benchmarks/cache/holdout40 \
        --calibrate-digest benchmarks/calibration/NAME.json --out benchmarks/results/holdout40.md

**Families** (``benchmarks/family_tasks.py``): modular-arithmetic tasks and recipes
varying p, the op, the training fraction, MLP/transformer, width, init scale,
AdamW/SGD and constant/warm-up + cosine lr, each a λ sweep (weak → strong) × 2 seeds,
every step sampled by :func:`nht_monitor.watch` (``every=1``). Logs and a
``manifest.json`` per family are cached in ``benchmarks/cache/families/<family>/``.

**Scoring** replays each log through the live analyzer exactly as
:func:`nht_monitor.analysis.backtest.backtest` does (``observe`` every sample,
``assess`` ~200 times evenly plus at the checkpoints; the actual transition, V_sc and the
τ delay are backtest's own functions), with the checkpoints this benchmark needs:
30 % of the horizon and 25/50/75 % of the *delay* (fit step → transition step).

True regime, from the training outcome alone (never from the norm rules):

- ``intermediate``: the transition (held-out accuracy first reached ``done_val_acc`` =
  0.9, :func:`nht_monitor.analysis.transition.first_reached`) happened within the budget;
- ``weak``: the training set was fitted (the median of ``fit_median_evals`` = 3
  consecutive evaluations of train accuracy reached ``fit_train_acc`` = 0.99: the
  engine's absolute fit, :func:`~nht_monitor.analysis.facts.confirmed`, as ``fit_step``
  dates the delay below; until stop 66 one evaluation, which a minibatch of 160 examples
  at 160/160 passed once in a run whose minibatches held 0.96–0.98 to the end) but no
  transition came;
- ``strong``: never fitted, with the total norm collapsed (final norm <
  ``strong_collapse`` = 50 % of its peak) and nothing learnt (train accuracy never
  :func:`~nht_monitor.analysis.rules.half_learnt`: ``strong_max_train_acc`` = 50 % of
  the way from its first value, chance, to 1 — the engine's own bound for learning
  suppressed; until stop 40 an accuracy of 0.5, which a two-class task starts at);
- ``unfitted``: none of these (not fitted, and the norm not collapsed or half the
  training set learnt: a slow fitter still climbing at the budget) — left out of the
  regime accuracy and counted.

A run is *delayed* when its transition step ≥ 2 × its fit step (facts' ``fit_step``):
only those are forecast cases.

**Leave-one-family-out**: for the family scored, ``delay_tau`` = median τ from V_sc to
the transition (backtest's ``delay_tau``), ``delay_log_sd`` = sd of its log and
``structured_ratio`` = median V_sc / (norm at the transition) and ``ratio_log_sd`` = sd
of its log, all over the delayed runs of the *other* families (``--settings-from loo``) or of the listed ones minus the scored
family (``--settings-from A,B``). The scored family never enters its own settings.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

from chance_map import brier, fit_chance_map  # noqa: E402
from family_digest import (DigestError, PoolRun, basis_differences, read_digest,  # noqa: E402
                           write_digest)
from family_tasks import FAMILIES, GROUPS, FamilySpec, by_cost  # noqa: E402

from nht_monitor.analysis import Analyzer, AnalyzerSettings  # noqa: E402
from nht_monitor.analysis.backtest import _dedupe, actual_transition  # noqa: E402
from nht_monitor.analysis.facts import best_mean, confirmed, facts_from_series  # noqa: E402
from nht_monitor.analysis.forecast import fit_line  # noqa: E402
from nht_monitor.analysis.rules import half_learnt  # noqa: E402
from nht_monitor.analysis.lr_plan import plan_of  # noqa: E402
from nht_monitor.analysis.series import series_from_samples  # noqa: E402
from nht_monitor.analysis.sweep import SweepReferences, observed_delay  # noqa: E402
from nht_monitor.runlog import read_run  # noqa: E402
from nht_monitor.runlog.schema import RunHeader  # noqa: E402

DEFAULT_CACHE = ROOT / "benchmarks" / "cache" / "families"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "families.md"
DELAY_FRACTIONS = (0.25, 0.5, 0.75)
HORIZON_FRACTION = 0.3
CHANCE_FRACTIONS = (0.3, 0.5, 0.7)
"""Where in the horizon ``Transition.chance_in_budget`` is scored (:func:`chance_table`)."""
CHANCE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
ALARMS = ("weak", "strong")
FLAP_SWITCHES = 3
"""A run whose label switches into or out of an alarm (:data:`ALARMS`) at least this
often between consecutive replayed assessments counts as flapping."""
CALIBRATED = ("delay_tau", "delay_log_sd", "structured_ratio", "ratio_log_sd", "weak_min_of_peak",
              "sweep_log_sd", "sweep_slope_sd")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# --------------------------------------------------------------------------- generation

def family_dir(cache: Path, name: str) -> Path:
    return cache / name


def read_manifest(cache: Path, name: str) -> dict | None:
    path = family_dir(cache, name) / "manifest.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _write_manifest(path: Path, manifest: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, default=str))
    tmp.replace(path)


def generate_family(spec: FamilySpec, cache: Path, log: Any = sys.stderr) -> dict:
    """Train the runs of ``spec`` not cached yet; return the manifest.

    Resumes run by run: a run listed in the manifest is kept, a log without a manifest
    entry (an interrupted run) is deleted and trained again.
    """
    from family_tasks import train_family_run

    import torch

    torch.set_num_threads(1)
    out = family_dir(cache, spec.name)
    out.mkdir(parents=True, exist_ok=True)
    mpath = out / "manifest.json"
    manifest = read_manifest(cache, spec.name) or {
        "family": spec.model_dump(mode="json"), "runs": [], "complete": False,
        "torch": torch.__version__, "machine": f"{platform.machine()}, {machine()}",
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if manifest.get("complete"):
        return manifest
    if FamilySpec.model_validate(manifest["family"]) != spec:  # fields added since: defaults
        raise SystemExit(f"{mpath}: the cached family differs from its definition in "
                         "family_tasks.py; delete the folder to regenerate it")
    done = {r["run_id"] for r in manifest["runs"]}
    for weight_decay, seed in spec.runs():
        run_id = spec.run_id(weight_decay, seed)
        if run_id in done:
            continue
        partial = out / f"{run_id}.jsonl"
        if partial.exists():
            partial.unlink()
        print(f"  {run_id}: {spec.steps} steps … (load {load_average()})", file=log, flush=True)
        row = train_family_run(spec, weight_decay, seed, out)
        row["load_after"] = load_average()
        manifest["runs"].append(row)
        _write_manifest(mpath, manifest)
        print(f"  {run_id}: {row['wall_s']:.0f} s, grok step {row['grok_step']}, "
              f"train acc {row['final_train_acc']:.2f}, val acc {row['final_val_acc']:.2f}",
              file=log, flush=True)
    manifest["complete"] = True
    manifest["wall_s"] = round(sum(r["wall_s"] for r in manifest["runs"]), 1)
    manifest["finished_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    _write_manifest(mpath, manifest)
    return manifest


def cmd_generate(args: argparse.Namespace) -> int:
    families = select(args.families)
    print(f"$ {shlex.join([sys.executable] + sys.argv)}", flush=True)
    print(f"cache {args.cache}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
          f"nice {os.nice(0)}; load {load_average()}", flush=True)
    total = time.perf_counter()
    for spec in by_cost(families):
        m = read_manifest(args.cache, spec.name)
        if m and m.get("complete"):
            print(f"{spec.name}: cached ({m.get('wall_s')} s), skipped", flush=True)
            continue
        started = time.perf_counter()
        print(f"{spec.name}: {len(spec.runs())} runs (λ {spec.weight_decays} × seeds "
              f"{spec.seeds}), load {load_average()}", flush=True)
        generate_family(spec, args.cache, log=sys.stdout)
        print(f"{spec.name}: done in {time.perf_counter() - started:.0f} s, "
              f"load {load_average()}", flush=True)
    print(f"generation finished in {time.perf_counter() - total:.0f} s, load {load_average()}",
          flush=True)
    return 0


def select(names: str | None) -> dict[str, FamilySpec]:
    """The named families: a group name of ``family_tasks.GROUPS`` (``development`` the
    default) or comma-separated family names of any group."""
    if not names:
        return dict(FAMILIES)
    if names in GROUPS:
        return dict(GROUPS[names])
    known = {n: f for group in GROUPS.values() for n, f in group.items()}
    out = {}
    for name in names.split(","):
        if name not in known:
            raise SystemExit(f"unknown family {name!r}; known: {', '.join(known)}")
        out[name] = known[name]
    return out


# --------------------------------------------------------------------------- scoring

def family_spec(name: str) -> FamilySpec | None:
    """The family of that name in any group (``None``: unknown)."""
    return next((g[name] for g in GROUPS.values() if name in g), None)


def cached_families(cache: Path) -> list[str]:
    """Families with a manifest in ``cache``: those of ``FAMILIES`` in its order, then others."""
    found = {p.parent.name for p in cache.glob("*/manifest.json")} if cache.exists() else set()
    return [n for n in FAMILIES if n in found] + sorted(found - set(FAMILIES))


def complete_families(cache: Path) -> list[str]:
    """The families of :func:`cached_families` whose generation finished."""
    return [n for n in cached_families(cache) if read_manifest(cache, n).get("complete")]


def pooled_families(caches: Sequence[Path]) -> dict[str, Path]:
    """The complete families of ``caches``, in cache order, each with the first cache
    holding it (a family in two caches counts once)."""
    found: dict[str, Path] = {}
    for cache in caches:
        for name in complete_families(cache):
            found.setdefault(name, cache)
    return found


def recorded_normalization(header: RunHeader) -> RunHeader:
    """``header`` as ``watch()`` writes it since stop 34: a log generated before the model's
    normalization layers were recorded says none, as the family models have none (the
    demo's models built with ``layernorm=False``) — so ``budget_law_floor="auto"`` reads
    them as a run written today would."""
    if header.model.normalization is not None:
        return header
    return header.model_copy(update={"model": header.model.model_copy(
        update={"normalization": []})})


def recorded_lr_plan(header: RunHeader, spec: FamilySpec | None) -> RunHeader:
    """``header`` as a family run writes it since stop 35 (``watch(lr_schedule=scheduler)``
    records the planned learning rate): a log generated before then gets the plan of its
    family's schedule (the same knots, from ``spec.lr_factor``)."""
    if header.lr_plan is not None or spec is None:
        return header
    return header.model_copy(update={"lr_plan": plan_of(
        lambda step: spec.lr * spec.lr_factor(step - 1), spec.steps)})


class LoadedRun:
    """One parsed log with the settings-independent facts the scoring needs."""

    def __init__(self, family: str, path: Path, base: AnalyzerSettings) -> None:
        run = read_run(path)
        self.family = family
        self.path = path
        self.header = recorded_lr_plan(recorded_normalization(run.header), family_spec(family))
        self.samples = _dedupe(run.samples)
        s = series_from_samples(self.samples, base)
        self.series = s
        self.run_id = run.header.run_id
        self.weight_decay = float(s.wd[-1]) if len(s) else math.nan
        self.actual = actual_transition(s, base, None)
        facts = facts_from_series(s, base)
        self.fit_step = facts.fit_step
        self.horizon = float(s.step[-1]) if len(s) else 0.0
        self.v_sc_step = facts.sc_peak_step
        observed = observed_delay(s, base)
        self.delay_tau = observed.delay_tau if observed is not None else None
        self.rate = observed.rate if observed is not None else None
        a = self.actual.step
        self.delayed = bool(a is not None and self.fit_step is not None and a >= 2 * self.fit_step)
        self.ratio = None
        if self.delayed and facts.sc_peak is not None:
            i = min(int(np.searchsorted(s.step, a)), len(s) - 1)
            if s.norm[i] > 0:
                self.ratio = float(facts.sc_peak / s.norm[i])
        self.truth = true_regime(s, base, a)
        self.weak_probe = weak_probe(s, self.fit_step, base)

    @property
    def transition_step(self) -> float | None:
        return self.actual.step


def weak_probe(series, fit_step: float | None, settings: AnalyzerSettings
               ) -> tuple[float, float] | None:
    """``(step, norm / largest norm so far)`` where the time rule for ``weak`` could first
    fire: ``weak_min_tau_after_fit`` of τ after the fit (``None``: not reached)."""
    if fit_step is None or not len(series):
        return None
    i = int(np.searchsorted(series.step, fit_step))
    if i >= len(series):
        return None
    j = int(np.searchsorted(series.tau, series.tau[i] + settings.weak_min_tau_after_fit))
    if j >= len(series):
        return None
    peak = float(np.nanmax(series.norm[:j + 1]))
    return float(series.step[j]), float(series.norm[j]) / peak if peak > 0 else 1.0


def choose_weak_min_of_peak(runs: list[LoadedRun | PoolRun]) -> float | None:
    """``weak_min_of_peak`` from ``runs``: the threshold on :func:`weak_probe`'s ratio that
    best separates runs still to transition after the probe (a ``weak`` there is a false
    alarm: ratio below the threshold spares it) from runs that never transition (ratio
    at or above it keeps them ``weak``); the middle of the best interval of a 0.01 grid."""
    alarms = [r.weak_probe[1] for r in runs if r.weak_probe is not None
              and r.transition_step is not None and r.transition_step > r.weak_probe[0]]
    weak = [r.weak_probe[1] for r in runs if r.weak_probe is not None and r.truth == "weak"]
    if not alarms or not weak:
        return None
    grid = [round(0.5 + 0.01 * k, 2) for k in range(50)]
    score = {c: sum(x < c for x in alarms) - sum(x < c for x in weak) for c in grid}
    best = max(score.values())
    chosen = [c for c in grid if score[c] == best]
    return round((chosen[0] + chosen[-1]) / 2, 3)


def true_regime(series, settings: AnalyzerSettings, actual_step: float | None) -> str:
    """The outcome-based label of the module docstring."""
    if actual_step is not None:
        return "intermediate"
    acc = series.acc[np.isfinite(series.acc)]
    if confirmed(acc, settings.fit_median_evals, settings.fit_train_acc, True).any():
        return "weak"
    norm = series.norm[np.isfinite(series.norm)]
    learnt = acc.shape[0] and half_learnt(best_mean(acc, settings.train_acc_evals),
                                          float(acc[0]), settings)
    if norm.shape[0] and norm[-1] < settings.strong_collapse * norm.max() and not learnt:
        return "strong"
    return "unfitted"


def load_family(cache: Path, name: str, base: AnalyzerSettings) -> list[LoadedRun]:
    manifest = read_manifest(cache, name)
    if not manifest:
        return []
    out = family_dir(cache, name)
    return [LoadedRun(name, out / r["log"], base) for r in manifest["runs"]]


def alarm_switches(labels: Sequence[str]) -> int:
    """How often consecutive labels switch into or out of an alarm (:data:`ALARMS`)."""
    return sum((a in ALARMS) != (b in ALARMS) for a, b in zip(labels, labels[1:]))


def replay(run: LoadedRun, settings: AnalyzerSettings, assessments: int = 200,
           sweep: list[LoadedRun] | None = None) -> dict:
    """Replay one log through ``observe``/``assess`` as backtest does; score it. ``sweep``:
    the other runs of its family as references (each counted from its transition step
    on, :class:`SweepReferences` with ``replay=True``)."""
    s = run.series
    n = len(run.samples)
    checkpoints: dict[int, list[str]] = {}

    def at(step: float, key: str) -> None:
        i = int(np.searchsorted(s.step, step, side="right")) - 1
        if i >= 0:
            checkpoints.setdefault(i, []).append(key)

    at(HORIZON_FRACTION * run.horizon, "h30")
    for f in CHANCE_FRACTIONS:
        at(f * run.horizon, f"c{f:g}")
    a = run.actual.step
    if run.delayed:
        for f in DELAY_FRACTIONS:
            at(run.fit_step + f * (a - run.fit_step), f"d{f:g}")
    every = max(1, n // max(1, assessments))
    refs = None
    if sweep:
        refs = SweepReferences([r.path for r in sweep if r.path != run.path], settings,
                               exclude_run_id=run.run_id, replay=True)
    live = Analyzer(run.header, settings.model_copy(update={"advice": False}), references=refs)
    n_refs: dict[str, int] = {}
    labels: list[tuple[int, str]] = []
    points: dict[str, Any] = {}
    final = None
    for i, sample in enumerate(run.samples):
        live.observe(sample)
        if i in checkpoints or i % every == every - 1 or i == n - 1:
            assessment = live.assess()
            labels.append((sample.step, assessment.regime))
            for key in checkpoints.get(i, ()):
                points[key] = assessment
                n_refs[key] = len(refs.last.references) if refs and refs.last else 0
            if i == n - 1:
                final = assessment
    row: dict[str, Any] = {
        "family": run.family, "run": run.run_id, "weight_decay": run.weight_decay,
        "truth": run.truth, "end": final.regime if final else None,
        "at30": points["h30"].regime if "h30" in points else None,
        "at30_fitting": "h30" in points and points["h30"].rule == "still_fitting",
        "actual": a, "fit_step": run.fit_step, "delayed": run.delayed,
        "delay_tau": run.delay_tau, "ratio": run.ratio,
        "head_lead": final.head.lead_steps if final is not None and final.head else None,
        "alarm_switches": alarm_switches([lab for _, lab in labels]),
        "false_alarm": None}
    for f in CHANCE_FRACTIONS:
        p = points.get(f"c{f:g}")
        if p is not None and p.transition.status != "done":  # a forecast still open
            row[f"chance@{f:g}"] = p.transition.chance_in_budget
            row[f"regime_c@{f:g}"] = p.regime
    if a is not None:
        alarms = [(st, lab) for st, lab in labels if st < a and lab in ("weak", "strong")]
        row["false_alarm"] = bool(alarms)
        row["false_alarm_first"] = alarms[0] if alarms else None
    for f in DELAY_FRACTIONS:
        p = points.get(f"d{f:g}")
        key = f"{f:g}"
        if not run.delayed or p is None:
            continue
        fc = p.transition.forecast_step
        row[f"regime@{key}"] = p.regime
        row[f"refs@{key}"] = n_refs.get(f"d{f:g}", 0)
        row[f"forecast@{key}"] = fc
        row[f"error@{key}"] = abs(fc - a) / a if fc is not None else None
        row[f"covered@{key}"] = p.transition.holds(a) if fc is not None else None
        row[f"interval@{key}"] = (list(p.transition.interval)
                                  if fc is not None and p.transition.interval else None)
    return row


def choose_settings(stats: dict[str, list[LoadedRun | PoolRun]], exclude: str,
                    base: AnalyzerSettings, pool: list[str] | None = None
                    ) -> tuple[AnalyzerSettings, dict]:
    """The calibratable settings from the delayed runs of ``pool`` (default: every
    family) minus ``exclude``; a setting without enough data keeps its default."""
    names = [f for f in (pool if pool is not None else list(stats)) if f != exclude]
    delays = [r.delay_tau for f in names for r in stats.get(f, [])
              if r.delayed and r.delay_tau is not None]
    ratios = [r.ratio for f in names for r in stats.get(f, [])
              if r.delayed and r.ratio is not None and r.ratio > 1]
    update: dict[str, float] = {}
    if delays:
        update["delay_tau"] = float(np.median(delays))
    if len(delays) >= 2:
        sd = float(np.std(np.log(delays)))
        if sd > 0:
            update["delay_log_sd"] = sd
    if ratios:
        update["structured_ratio"] = float(np.median(ratios))
    if len(ratios) >= 2:
        update["ratio_log_sd"] = float(np.std(np.log(ratios)))
    sweeps = [ds for f in names if len(ds := [r.delay_tau for r in stats.get(f, [])
                                              if r.delayed and r.delay_tau is not None]) >= 2]
    within = [math.log(d) - statistics.fmean(math.log(x) for x in ds) for ds in sweeps
              for d in ds]
    weak_min = choose_weak_min_of_peak([r for f in names for r in stats.get(f, [])])
    if weak_min is not None:
        update["weak_min_of_peak"] = weak_min
    if len(within) > len(sweeps):  # pooled within-family sd of log Δτ: the sweep scatter
        # (one degree of freedom per family spent on its mean)
        update["sweep_log_sd"] = max(math.sqrt(sum(x * x for x in within)
                                               / (len(within) - len(sweeps))), 0.05)
    slopes = [b for f in names if (b := sweep_slope(stats.get(f, []))) is not None]
    if slopes:  # root mean square of the families' slopes: the prior sd around the law's 0
        update["sweep_slope_sd"] = max(math.sqrt(statistics.fmean(b * b for b in slopes)), 0.05)
    info = {"from": names, "n_delays": len(delays), "n_ratios": len(ratios), **update}
    return base.model_copy(update=update), info


def sweep_slope(runs: list[LoadedRun | PoolRun], min_spread: float = 0.3) -> float | None:
    """Least-squares slope of log Δτ in log ηλ (the clock's peak rate) over a family's
    delayed runs; ``None`` when their log rates span less than ``min_spread``."""
    pts = [(math.log(r.rate), math.log(r.delay_tau)) for r in runs if r.delayed
           and r.delay_tau is not None and r.rate is not None and r.rate > 0]
    if len(pts) < 3 or np.ptp([x for x, _ in pts]) < min_spread:
        return None
    x, y = np.array(pts).T
    line = fit_line(x, y)
    return line.slope if line is not None else None


def _mean(xs: list[float]) -> float | None:
    return statistics.fmean(xs) if xs else None


def summarize(rows: list[dict]) -> dict:
    labelled = [r for r in rows if r["truth"] != "unfitted"]
    trans = [r for r in rows if r["actual"] is not None]
    delayed = [r for r in rows if r["delayed"]]
    out: dict[str, Any] = {
        "runs": len(rows), "unfitted": len(rows) - len(labelled),
        "transitioned": len(trans), "delayed": len(delayed),
        "acc_end": _mean([float(r["end"] == r["truth"]) for r in labelled]),
        "acc_30": _mean([float(r["at30"] == r["truth"]) for r in labelled]),
        "misses_30": sum(r["at30"] != r["truth"] for r in labelled),
        "misses_30_fitting": sum(r["at30"] != r["truth"] and bool(r.get("at30_fitting"))
                                 for r in labelled),
        "false_alarms": sum(bool(r["false_alarm"]) for r in trans),
        "flapping": sum(r.get("alarm_switches", 0) >= FLAP_SWITCHES for r in rows),
        "with_forecast_50": _mean([float(r.get("forecast@0.5") is not None) for r in delayed]),
    }
    for f in DELAY_FRACTIONS:
        errs = [r[f"error@{f:g}"] for r in delayed if r.get(f"error@{f:g}") is not None]
        out[f"mape@{f:g}"] = _mean(errs)
        out[f"n@{f:g}"] = len(errs)
        referenced = [r[f"error@{f:g}"] for r in delayed if r.get(f"error@{f:g}") is not None
                      and r.get(f"refs@{f:g}", 0) >= 2]
        out[f"mape2@{f:g}"] = _mean(referenced)
        out[f"n2@{f:g}"] = len(referenced)
    cov2 = [r["covered@0.5"] for r in delayed if r.get("covered@0.5") is not None
            and r.get("refs@0.5", 0) >= 2]
    out["coverage2_50"] = _mean([float(c) for c in cov2])
    cov = [r["covered@0.5"] for r in delayed if r.get("covered@0.5") is not None]
    out["coverage_50"] = _mean([float(c) for c in cov])
    out["n_coverage"] = len(cov)
    every = [r[f"covered@{f:g}"] for r in delayed for f in DELAY_FRACTIONS
             if r.get(f"covered@{f:g}") is not None]
    out["coverage_all"] = _mean([float(c) for c in every])
    out["n_coverage_all"] = len(every)
    leads = [r["head_lead"] for r in rows if r["head_lead"] is not None]
    out["lead_n"] = len(leads)
    out["lead_median"] = float(np.median(leads)) if leads else None
    out["lead_positive"] = _mean([float(x > 0) for x in leads])
    return out


def chance_table(rows: list[dict]) -> list[str]:
    """Markdown lines scoring ``Transition.chance_in_budget`` at :data:`CHANCE_FRACTIONS` of
    the horizon, on the labelled runs whose transition had not come yet and that had a
    chance: its Brier score against the outcome (transitioned within the budget) beside
    the regime's own (``intermediate`` as 1, any other as 0) on the same runs, and its
    reliability (mean chance against the share that transitioned, per bin)."""
    lines = ["| at | runs | Brier: chance / regime | " + " | ".join(
        f"chance {lo:.1f}–{hi:.1f}: mean → transitioned (n)"
        for lo, hi in zip(CHANCE_BINS, CHANCE_BINS[1:])) + " |",
        "|" + "---|" * (3 + len(CHANCE_BINS) - 1)]
    for f in CHANCE_FRACTIONS:
        pairs = [(r[f"chance@{f:g}"], float(r["actual"] is not None),
                  float(r[f"regime_c@{f:g}"] == "intermediate")) for r in rows
                 if r["truth"] != "unfitted" and r.get(f"chance@{f:g}") is not None]
        if not pairs:
            continue
        brier = _mean([(c - y) ** 2 for c, y, _ in pairs])
        label = _mean([(g - y) ** 2 for _, y, g in pairs])
        cells = [f"{f:.0%}", str(len(pairs)), f"{brier:.3f} / {label:.3f}"]
        for lo, hi in zip(CHANCE_BINS, CHANCE_BINS[1:]):
            b = [(c, y) for c, y, _ in pairs if lo <= c < hi or (hi == 1.0 and c == 1.0)]
            cells.append("–" if not b else f"{_mean([c for c, _ in b]):.2f} → "
                         f"{_mean([y for _, y in b]):.2f} ({len(b)})")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _mape(s: dict, f: float) -> str:
    m = s.get(f"mape@{f:g}")
    return "–" if m is None else f"{m:.0%} ({s[f'n@{f:g}']})"


COLUMNS = ["family", "runs", "trans./delayed", "regime end", "regime 30%",
           "30% misses still fitting", "false alarms", "flapping",
           "forecast by ½ delay", "MAPE 25%", "MAPE 50%", "MAPE 75%", "80% cover (50%)",
           "80% cover (25/50/75%)", "head lead (median steps; >0)", "settings"]


def table_line(name: str, s: dict, settings_note: str) -> str:
    lead = ("–" if s["lead_median"] is None else
            f"{s['lead_median']:+.0f}; {_pct(s['lead_positive'])} of {s['lead_n']}")
    cells = [name, f"{s['runs']}" + (f" ({s['unfitted']} unfitted)" if s["unfitted"] else ""),
             f"{s['transitioned']}/{s['delayed']}", _pct(s["acc_end"]), _pct(s["acc_30"]),
             f"{s['misses_30_fitting']} of {s['misses_30']}",
             f"{s['false_alarms']}/{s['transitioned']}", f"{s['flapping']}/{s['runs']}",
             _pct(s["with_forecast_50"]),
             _mape(s, 0.25), _mape(s, 0.5), _mape(s, 0.75),
             "–" if s["coverage_50"] is None else f"{s['coverage_50']:.0%} ({s['n_coverage']})",
             "–" if s["coverage_all"] is None
             else f"{s['coverage_all']:.0%} ({s['n_coverage_all']})",
             lead, settings_note]
    return "| " + " | ".join(cells) + " |"


def settings_note(info: dict | None, settings: AnalyzerSettings) -> str:
    text = (f"τ {settings.delay_tau:.2f}, sd {settings.delay_log_sd:.2f}, "
            f"r {settings.structured_ratio:.2f} (sd {settings.ratio_log_sd:.2f}), "
            f"sweep sd {settings.sweep_log_sd:.2f}, slope sd {settings.sweep_slope_sd:.2f}, "
            f"weak ≥ {settings.weak_min_of_peak:.3g} of peak")
    if info is None:
        return "default: " + text
    return text + f" (from {info['n_delays']} runs of {len(info['from'])} other families)"


def score(cache: Path, names: list[str], base: AnalyzerSettings, pool: list[str] | None = None,
          pool_cache: Path | Sequence[Path] | None = None,
          pool_runs: dict[str, list[PoolRun]] | None = None) -> dict[str, Any]:
    """Score ``names`` (families cached in ``cache``) with the default settings, and with
    settings chosen on ``pool`` (families cached in ``pool_cache``: a cache or several,
    the first holding a family is read; default ``cache``; or digested in ``pool_runs``;
    default pool: ``names``) minus the scored family; returns the rows, summaries and
    chosen settings."""
    pool_caches = ([cache] if pool_cache is None else
                   [pool_cache] if isinstance(pool_cache, Path) else list(pool_cache))
    pool = list(names) if pool is None else list(pool)
    stats: dict[str, list[LoadedRun | PoolRun]] = {n: load_family(cache, n, base)
                                                    for n in names}
    for n in pool:
        if n not in stats and pool_runs and n in pool_runs:
            stats[n] = pool_runs[n]
        elif n not in stats:
            where = next((c for c in pool_caches if read_manifest(c, n)), pool_caches[0])
            stats[n] = load_family(where, n, base)
    stats = {n: runs for n, runs in stats.items() if runs}
    pool = [n for n in pool if n in stats]
    result: dict[str, Any] = {"default": {}, "loo": {}, "sweep": {}, "settings": {}, "rows": {}}
    for mode in ("default", "loo", "sweep"):
        all_rows: list[dict] = []
        for name, runs in stats.items():
            if name not in names:
                continue
            if mode == "default":
                settings, info = base, None
            else:
                settings, info = choose_settings(stats, name, base, pool)
                result["settings"][name] = info
            rows = [replay(r, settings, sweep=runs if mode == "sweep" else None) for r in runs]
            result["rows"].setdefault(mode, {})[name] = rows
            result[mode][name] = (summarize(rows), settings_note(info, settings))
            all_rows.extend(rows)
        result[mode]["overall"] = (summarize(all_rows), "each family as above")
    result["per_family_delay"] = {
        n: {"median_delay_tau": (float(np.median(d)) if (d := [r.delay_tau for r in runs
                                 if r.delayed and r.delay_tau is not None]) else None),
            "n": len(d), "delayed": sum(r.delayed for r in runs)} for n, runs in stats.items()}
    return result


def render(result: dict, header_lines: list[str]) -> str:
    lines = list(header_lines)
    for mode, title in (("default", "Default settings (AnalyzerSettings())"),
                        ("loo", "Leave-one-family-out settings (chosen without the family scored)"),
                        ("sweep", "Sweep-aware: leave-one-family-out settings, the other runs "
                                  "of the family as references (each from its transition on)")):
        lines += ["", f"### {title}", "", "| " + " | ".join(COLUMNS) + " |",
                  "|" + "---|" * len(COLUMNS)]
        for name, (s, note) in result[mode].items():
            lines.append(table_line(f"**{name}**" if name == "overall" else name, s, note))
    lines += ["", "### Forecasts made with ≥ 2 transitioned references (sweep-aware) against "
              "the same runs' single-run forecasts (leave-one-family-out)", "",
              "| family | MAPE 25% sweep / single | MAPE 50% sweep / single "
              "| MAPE 75% sweep / single | 80% cover (50%) sweep / single |",
              "|---|---|---|---|---|"]
    for name, (s, _) in result["sweep"].items():
        single = _single_on_referenced(result, name)
        cells = [f"**{name}**" if name == "overall" else name]
        for f in DELAY_FRACTIONS:
            m = s.get(f"mape2@{f:g}")
            cells.append("–" if m is None else
                         f"{m:.0%} / {_pct(single.get(f'{f:g}'))} ({s[f'n2@{f:g}']})")
        cells.append(f"{_pct(s.get('coverage2_50'))} / {_pct(single.get('cover'))}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "### The transition's chance within the budget (default settings, families "
              "pooled)", "", "`Transition.chance_in_budget` where the transition had not come "
              "yet and a forecast step gave a chance; the outcome: transitioned within the "
              "budget.", ""]
    lines += chance_table([r for rows in result["rows"].get("default", {}).values()
                           for r in rows])
    def delay_text(v: dict) -> str:
        m = v["median_delay_tau"]
        return ("–" if m is None else f"{m:.2f}") + f" ({v['n']} of {v['delayed']} delayed runs)"

    lines += ["", "τ from V_sc to the transition (backtest's `delay_tau`), per family, median "
              "over its delayed runs that have one (none where V_sc, the largest norm at or "
              "after the fit, comes after the transition): "
              + "; ".join(f"{n} {delay_text(v)}" for n, v in result["per_family_delay"].items())]
    lines += ["", "### Runs (leave-one-family-out settings)", "",
              "| run | λ | true | end | at 30% | fit step | transition | τ V_sc→transition "
              "| forecast at ½ delay (error) | in 80% | false alarm |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rows in result["rows"].get("loo", {}).items():
        for r in rows:
            fc = r.get("forecast@0.5")
            err = r.get("error@0.5")
            cov = r.get("covered@0.5")
            alarm = r.get("false_alarm_first")
            lines.append("| " + " | ".join([
                r["run"], f"{r['weight_decay']:g}", r["truth"], str(r["end"]), str(r["at30"]),
                "–" if r["fit_step"] is None else f"{r['fit_step']:.0f}",
                "–" if r["actual"] is None else f"{r['actual']:.0f}"
                + ("" if r["delayed"] else " (not delayed)"),
                "–" if r["delay_tau"] is None else f"{r['delay_tau']:.2f}",
                ("–" if not r["delayed"] else "none") if fc is None
                else f"{fc:.0f} ({err:.0%})",
                "–" if cov is None else ("yes" if cov else "no"),
                "–" if r["false_alarm"] is None else
                ("no" if not alarm else f"{alarm[1]} at {alarm[0]}")]) + " |")
    return "\n".join(lines) + "\n"


def _single_on_referenced(result: dict, name: str) -> dict[str, float | None]:
    """The single-run (loo) MAPE and coverage on the runs and fractions the sweep-aware
    forecast had ≥ 2 references for."""
    names = list(result["rows"]["sweep"]) if name == "overall" else [name]
    out: dict[str, float | None] = {}
    pairs = [(a, b) for n in names for a, b in zip(result["rows"]["sweep"][n],
                                                    result["rows"]["loo"][n], strict=True)]
    for f in DELAY_FRACTIONS:
        k = f"{f:g}"
        out[k] = _mean([b[f"error@{k}"] for a, b in pairs if a.get(f"refs@{k}", 0) >= 2
                        and a.get(f"error@{k}") is not None and b.get(f"error@{k}") is not None])
    out["cover"] = _mean([float(b["covered@0.5"]) for a, b in pairs
                          if a.get("refs@0.5", 0) >= 2 and a.get("covered@0.5") is not None
                          and b.get("covered@0.5") is not None])
    return out


LEGEND = """\
Columns: *runs* (runs whose outcome is neither a transition, nor fitted, nor a collapsed
norm with nothing learnt are "unfitted" and left out of the regime accuracy);
*trans./delayed*: runs with a transition / of them delayed (transition ≥ 2 × fit step:
the forecast cases); *regime end / 30%*: live label vs the outcome label (intermediate =
transitioned within the budget; weak = train accuracy at 0.99 over three evaluations
(their median), never transitioned;
strong = never fitted, norm < 50 % of its peak at the end, train accuracy never half the way
from its first value, chance, to 1) on
the last sample and at 30 % of the horizon; *30% misses still fitting*: of the runs
labelled wrong at 30 %, those the engine read `undetermined` because the training set was
not fitted yet (rule 6e, `still_fitting`: no regime can be read before the fit); *false alarms*: runs
that transitioned but were labelled `weak` or `strong` at some replayed assessment before
the transition step; *flapping*: runs whose label switched into or out of `weak`/`strong`
at least 3 times between consecutive replayed assessments (an alert's `for:` restarts at
each switch); *forecast by ½ delay*: share of delayed runs with a forecast step at
fit step + 50 % of the delay; *MAPE x%*: mean |forecast − actual| / actual of the
forecasts made at fit step + x % of the delay (n with a forecast); *80% cover*: share of
the 50 % forecasts whose 80 % interval holds the actual step (*25/50/75%*: of the
forecasts at all three checkpoints, pooled); *head lead*:
`Assessment.head.lead_steps` at the end (total-norm flag step − head flag step, median
over runs where both flagged; share > 0). Overall = runs pooled over families.
Transition step: `nht_monitor.analysis.transition.first_reached` (held-out accuracy
first ≥ 0.9), as backtest."""


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Print the calibratable settings chosen on every complete cached family (what the
    engine's defaults are), with the defaults beside them."""
    caches = args.cache or ([] if args.digest else [DEFAULT_CACHE])
    found = pooled_families(caches)
    base = AnalyzerSettings()
    stats: dict[str, list[LoadedRun | PoolRun]] = {n: load_family(found[n], n, base)
                                                    for n in found}
    try:
        digested = digested_families(args.digest or [])
    except DigestError as e:
        print(e, file=sys.stderr)
        return 2
    for n, runs in digested.items():
        stats.setdefault(n, runs)
    names = list(stats)
    if not names:
        print(f"no cached families in {', '.join(map(str, caches))}", file=sys.stderr)
        return 1
    _, info = choose_settings(stats, exclude="", base=base)
    chosen = {k: v for k, v in info.items() if k not in ("from", "n_delays", "n_ratios")}
    print(json.dumps({"families": names, "n_delays": info["n_delays"],
                      "n_ratios": info["n_ratios"], "chosen": chosen,
                      "defaults": {k: getattr(base, k) for k in chosen}}, indent=1))
    return 0


def digested_families(paths: Sequence[Path]) -> dict[str, list[PoolRun]]:
    """The families of the digests in ``paths``, each from the first digest holding it; a
    setting that differs today from a digest's basis is named on stderr."""
    found: dict[str, list[PoolRun]] = {}
    current = AnalyzerSettings().model_dump(mode="json")
    for path in paths:
        digest = read_digest(path)
        changed = basis_differences(digest, current)
        if changed:
            print(f"{path}: read with other settings than today's: {'; '.join(changed)}",
                  file=sys.stderr)
        for name, runs in digest.families.items():
            found.setdefault(name, runs)
    return found


def cmd_digest(args: argparse.Namespace) -> int:
    """Write the calibration digest of every complete family in the caches given."""
    found = pooled_families(args.cache)
    if not found:
        print(f"no cached families in {', '.join(map(str, args.cache))}", file=sys.stderr)
        return 1
    base = AnalyzerSettings()
    runs = {n: load_family(found[n], n, base) for n in found}
    try:
        generated = {n: {k: str(m[k]) for k in ("torch", "machine", "started_at") if k in m}
                     for n in found if (m := read_manifest(found[n], n))}
        digest = write_digest(args.out, runs, [_shown(c) for c in args.cache],
                              base.model_dump(mode="json"), generated)
    except OSError as e:
        print(f"{args.out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"{args.out}: {sum(map(len, digest.families.values()))} runs of "
          f"{len(digest.families)} families", file=sys.stderr)
    return 0


def _shown(path: Path) -> str:
    """``path`` relative to the project when it lies inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def generate_command(cache: Path, names: list[str]) -> str:
    """The ``generate`` command that fills ``cache`` with ``names`` (a group's name when
    they all belong to one)."""
    group = next((g for g, fams in GROUPS.items() if set(names) <= set(fams)), None)
    argv = ["python", "benchmarks/families.py", "generate"]
    if cache != DEFAULT_CACHE:
        argv += ["--cache", str(cache)]
    if group != "development":
        argv += ["--families", group or ",".join(names)]
    return "OMP_NUM_THREADS=1 nice -n 15 " + shlex.join(argv)


def task_cells(family: dict) -> list[str]:
    """The table's p, op and training-fraction cells of a manifest's ``family``: for
    sparse parity, no p, the parity's k of its input bits, and the training examples."""
    if family.get("task") == "parity":
        return ["–", f"parity {family['parity_k']} of {family['parity_bits']} bits",
                f"{family['parity_train']} ex."]
    return [str(family.get(k, "?")) for k in ("p", "op", "train_fraction")]


def chance_pairs(caches: Sequence[Path]) -> dict[str, tuple[list[float], list[float]]]:
    """Per fraction of the horizon (:data:`CHANCE_FRACTIONS`): the forecast's own chance
    (the map off) and the outcome (1: transitioned within the budget) of every labelled
    run of the caches' complete families whose forecast was still open there."""
    raw = AnalyzerSettings(chance_slope=1.0, chance_shift=0.0)
    found = pooled_families(caches)
    pairs: dict[str, tuple[list[float], list[float]]] = {
        f"{f:g}": ([], []) for f in CHANCE_FRACTIONS}
    for name, cache in found.items():
        for run in load_family(cache, name, raw):
            if run.truth == "unfitted":
                continue
            row = replay(run, raw)
            for key, (chance, outcome) in pairs.items():
                if row.get(f"chance@{key}") is not None:
                    chance.append(row[f"chance@{key}"])
                    outcome.append(float(row["actual"] is not None))
    return pairs


def cmd_chance_map(args: argparse.Namespace) -> int:
    """Print ``chance_in_budget``'s map fitted on ``--cache`` and its Brier score, with
    the current one's, there and on ``--test-cache``."""
    fit_on = chance_pairs(args.cache)
    inside = [(x, v) for chance, outcome in fit_on.values()
              for x, v in zip(chance, outcome) if 0.0 < x < 1.0]
    if len(inside) < 2 or len({v for _, v in inside}) < 2:
        print(f"too few open forecasts with both outcomes in {', '.join(map(str, args.cache))}"
              f" ({len(inside)})", file=sys.stderr)
        return 1
    a, b = fit_chance_map(*zip(*inside))
    now = AnalyzerSettings()

    def scores(pairs: dict[str, tuple[list[float], list[float]]]) -> dict[str, Any]:
        return {key: {"n": len(chance),
                      "current": brier(chance, outcome, now.chance_slope, now.chance_shift),
                      "fitted": brier(chance, outcome, a, b)}
                for key, (chance, outcome) in pairs.items() if chance}

    print(json.dumps({"forecasts": len(inside),
                      "fitted": {"chance_slope": a, "chance_shift": b},
                      "current": {"chance_slope": now.chance_slope,
                                  "chance_shift": now.chance_shift},
                      "brier": scores(fit_on),
                      "test_brier": scores(chance_pairs(args.test_cache or []))}, indent=1))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    cached = cached_families(args.cache)
    wanted = cached
    if args.families:  # a group's name, or family names
        wanted = list(GROUPS.get(args.families) or args.families.split(","))
    names = [n for n in wanted if n in cached]
    complete = complete_families(args.cache)
    if not args.partial:
        names = [n for n in names if n in complete]
    if not names:
        print(f"no cached families in {args.cache}", file=sys.stderr)
        return 1
    calibrating = args.calibrate_cache is not None or args.calibrate_digest is not None
    if calibrating and args.settings_from != "loo":
        print("--calibrate-cache/--calibrate-digest choose the settings: drop --settings-from",
              file=sys.stderr)
        return 2
    try:
        digested = digested_families(args.calibrate_digest or [])
    except DigestError as e:
        print(e, file=sys.stderr)
        return 2
    if calibrating:
        pool = list(pooled_families(args.calibrate_cache or []))
        pool += [n for n in digested if n not in pool]
    elif args.settings_from != "loo":
        pool = args.settings_from.split(",")
        unknown = [f for f in pool if not read_manifest(args.cache, f)]
        if unknown:
            print(f"--settings-from: not cached: {', '.join(unknown)}", file=sys.stderr)
            return 2
    else:
        pool = cached if args.partial else complete
    result = score(args.cache, names, AnalyzerSettings(), pool, args.calibrate_cache, digested)
    fam_lines = ["| family | p | op | train frac. | model | width | init | optimizer | lr "
                 "| schedule | steps | batch | λ | seeds | runs | generation |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        m = read_manifest(args.cache, n)
        f = m.get("family", {})
        cells = [n] + task_cells(f) + [str(f.get(k, "?")) for k in (
            "model", "width", "init_scale", "optimizer", "lr", "schedule", "steps")]
        cells.append(str(f.get("batch_size") or "full"))
        cells += [", ".join(f"{w:g}" for w in f.get("weight_decays", [])),
                  ", ".join(str(s) for s in f.get("seeds", [])), str(len(m["runs"])),
                  f"{sum(r['wall_s'] for r in m['runs']):.0f} s"
                  + ("" if m.get("complete") else " (incomplete)")]
        fam_lines.append("| " + " | ".join(cells) + " |")
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = ["## Task-family benchmark, leave-one-family-out (`benchmarks/families.py`)", "",
            f"{now}; {machine()} (shared with other jobs), load {load_average()}; "
            f"torch/numpy from `.venv-test`.", "",
            f"Commands: `{generate_command(args.cache, names)}`, then "
            f"`{shlex.join(['python', 'benchmarks/families.py'] + sys.argv[1:])}`.",
            "", "Families scored (MLP: embedding 32 (128 where the name says `e128`) + one hidden "
            "ReLU layer; transformer: the "
            "demo's one block, 4 heads; AdamW betas 0.9/0.98, SGD momentum 0.9 with coupled L2; "
            "warm-up 5 % then cosine to 0 (to 0.1 × lr where the name says `min0.1`); batch: examples per step, drawn from a fresh seeded permutation each epoch (*full*: the whole training set); every step sampled by `watch(every=1)`; "
            "generation = training wall time of the family on this machine):", "",
            *fam_lines, "",
            f"Total training wall time of these families: "
            f"{sum(sum(r['wall_s'] for r in read_manifest(args.cache, n)['runs']) for n in names) / 60:.0f} min "
            "(one process, `nice -n 15`, `OMP_NUM_THREADS=1`, next to other jobs).", "", LEGEND]
    text = render(result, head)
    text += f"\nScoring took {time.perf_counter() - started:.0f} s.\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"written to {args.out}", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps({k: result[k] for k in ("settings", "rows")},
                                        default=float, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="train the families not cached yet (cheapest first)")
    s = sub.add_parser("score", help="score the cached families")
    for p in (g, s):
        p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
        p.add_argument("--families", default=None,
                       help=f"a group ({', '.join(GROUPS)}; development the default) "
                            "or comma-separated family names")
    c = sub.add_parser("calibrate", help="the settings chosen on every cached family "
                                         "(the engine's defaults)")
    c.add_argument("--cache", type=Path, action="append", default=None,
                   help="a cache (default: the development families'); repeat it to pool "
                        "several")
    c.add_argument("--digest", type=Path, action="append", default=None,
                   help="a calibration digest (families.py digest); repeat it to pool several")
    d = sub.add_parser("digest", help="write the calibration digest of cached families")
    d.add_argument("--cache", type=Path, action="append", required=True,
                   help="a cache; repeat it to pool several")
    d.add_argument("--out", type=Path, required=True, help="the digest file to write")
    m = sub.add_parser("chance-map", help="fit chance_in_budget's map on cached families")
    m.add_argument("--cache", type=Path, action="append", required=True,
                   help="a cache to fit on; repeat it to pool several")
    m.add_argument("--test-cache", type=Path, action="append", default=None,
                   help="a cache to score the fitted map on (never fitted on); repeatable")
    sub.add_parser("list", help="list the families, cheapest first")
    s.add_argument("--settings-from", default="loo",
                   help="'loo' (all other cached families) or comma-separated families; the "
                        "scored family is always left out")
    s.add_argument("--calibrate-cache", type=Path, action="append", default=None,
                   help="choose the leave-one-out/sweep settings on this cache's complete "
                        "families (held-out families: --cache benchmarks/cache/holdout "
                        "--calibrate-cache benchmarks/cache/families); repeat it to pool "
                        "several caches")
    s.add_argument("--calibrate-digest", type=Path, action="append", default=None,
                   help="as --calibrate-cache, on the families of a calibration digest "
                        "(families.py digest), for caches not on this machine")
    s.add_argument("--partial", action="store_true",
                   help="also score families whose generation has not finished")
    s.add_argument("--out", type=Path, default=DEFAULT_OUT)
    s.add_argument("--json", type=Path, default=None, help="also write rows and settings as JSON")
    args = parser.parse_args(argv)
    if args.command == "generate":
        return cmd_generate(args)
    if args.command == "score":
        return cmd_score(args)
    if args.command == "calibrate":
        return cmd_calibrate(args)
    if args.command == "digest":
        return cmd_digest(args)
    if args.command == "chance-map":
        return cmd_chance_map(args)
    for title, group in GROUPS.items():
        print(f"# {title}")
        for spec in by_cost(group):
            print(f"{spec.name}: {len(spec.runs())} runs, λ {spec.weight_decays}, "
                  f"{spec.steps} steps, cost {spec.cost():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
