"""Does following ``advise`` reach the transition within the budget? (issue #15)

``nice -n 10 python benchmarks/advice_check.py [--only NAME,...] [--fresh]``

For each task setting below (modular arithmetic, the project's demo code: seed, training
fraction, learning rate, p), :func:`nht_monitor.demos.norm_clamp.advice_check.check_advice`
trains a calibration sweep (ηλ = 1e-4 … 1e-1, one batched model), advises its smallest-λ
run (weak, or too slow for the budget) for each budget with the sweep as calibration, and
trains every advised λ afresh — with the setting's seed (what a user re-running their
script gets) and with another seed (a new init and split of the same task). It prints one
row per case, the fraction that reached the transition within the stated budget, over
the ``tune`` settings (used to choose the advice's margin) and the ``score`` settings
(not used for that), with the load average, device and wall time. Results are cached
in ``benchmarks/results/advice_check.json`` per setting and advice code (a digest of
``advice.py``); logs go to ``runs/advice_check`` and are reused (``--fresh``: train again).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import torch

from nht_monitor.analysis import advice as advice_module
from nht_monitor.demos.norm_clamp.advice_check import AdviceCheck, AdviceCheckConfig, check_advice

RESULTS = Path(__file__).parent / "results" / "advice_check.json"
NEW_SEED = 100
"""Added to a setting's seed for the second advised run (another init and split)."""

SETTINGS: list[tuple[str, dict]] = [
    ("tune", dict(name="t1-s0-f0.8-lr1e-2", seed=0, train_fraction=0.8, lr=1e-2)),
    ("tune", dict(name="t2-s1-f0.5-lr1e-2", seed=1, train_fraction=0.5, lr=1e-2,
                  calibration_steps=2000, budgets=(800, 1600))),
    ("tune", dict(name="t3-s2-f0.8-lr3e-3", seed=2, train_fraction=0.8, lr=3e-3,
                  calibration_steps=2000, budgets=(900, 1800))),
    ("score", dict(name="s1-s3-f0.8-lr1e-2", seed=3, train_fraction=0.8, lr=1e-2)),
    ("score", dict(name="s2-s4-f0.6-lr1e-2", seed=4, train_fraction=0.6, lr=1e-2,
                   calibration_steps=2000, budgets=(700, 1400))),
    ("score", dict(name="s3-s5-f0.7-lr3e-3", seed=5, train_fraction=0.7, lr=3e-3,
                   calibration_steps=2000, budgets=(900, 1800))),
    ("score", dict(name="s4-s6-f0.5-lr5e-3-p47", seed=6, train_fraction=0.5, lr=5e-3, p=47,
                   calibration_steps=2000, budgets=(1000, 2000))),
]


def advice_constants() -> dict[str, float]:
    """The constants the advice was computed with (printed with the table)."""
    return {k: getattr(advice_module, k) for k in
            ("CALIBRATION_QUANTILE", "MIN_MARGIN", "FEW_RUNS_MARGIN", "MIN_LAW_RUNS")}


def advice_code() -> str:
    """A digest of the advice's source: a change to it invalidates the cached cases (the
    training logs on disk are reused)."""
    return hashlib.sha256(Path(advice_module.__file__).read_bytes()).hexdigest()[:16]


def run_setting(role: str, overrides: dict, cache: dict, fresh: bool) -> AdviceCheck:
    cfg = AdviceCheckConfig(log_dir=Path("runs/advice_check"),
                            advised_seeds=(overrides.get("seed", 0) + NEW_SEED,), **overrides)
    key = json.dumps({"config": cfg.model_dump(mode="json"), "advice": advice_code()},
                     sort_keys=True)
    hit = cache.get(cfg.name)
    if hit is not None and hit["key"] == key and not fresh:
        return AdviceCheck.model_validate(hit["check"])
    check = check_advice(cfg, reuse=not fresh)
    cache[cfg.name] = {"key": key, "role": role, "check": check.model_dump(mode="json"),
                       "loadavg": os.getloadavg()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(cache, indent=1))
    return check


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=None, help="comma list of setting names")
    parser.add_argument("--fresh", action="store_true", help="ignore the cache and the logs")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    load = [os.getloadavg()]
    cache = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    only = set(args.only.split(",")) if args.only else None
    rows, tally = [], {}
    for role, overrides in SETTINGS:
        if only and overrides["name"] not in only:
            continue
        check = run_setting(role, overrides, cache, args.fresh)
        load.append(os.getloadavg())
        seeds = (check.config.seed, check.config.seed + NEW_SEED)
        for case in check.cases:
            got = [case.reached(s) for s in seeds]
            rows.append((role, case, seeds, got, check.wall_time_s))
            for which, value in zip(("same seed", "new seed"), got):
                t = tally.setdefault((role, which), [0, 0, 0])
                t[0] += 1
                if value is not None:
                    t[1] += 1
                    t[2] += bool(value)
    print(f"{'role':5} {'setting':24} {'budget':>6} {'target':>12} {'basis':>5} "
          f"{'advised λ':>9} {'forecast':>8} {'bound':>6} {'same seed':>10} {'new seed':>10} "
          f"{'wall s':>6}")
    for role, c, seeds, got, wall in rows:
        cells = ["–" if ok is None else
                 f"{_fmt(c.advised_transition.get(seed))} {'ok' if ok else 'LATE'}"
                 for seed, ok in zip(seeds, got)]
        lam = "none" if c.advised_weight_decay is None else f"{c.advised_weight_decay:.3g}"
        print(f"{role:5} {c.setting:24} {c.budget_steps:6d} {c.target_regime:>12} "
              f"{str(c.basis):>5} {lam:>9} {_fmt(c.forecast_step):>8} "
              f"{_fmt(c.forecast_bound):>6} {cells[0]:>10} {cells[1]:>10} {wall:6.0f}")
    for (role, which), (n, advised, ok) in sorted(tally.items()):
        print(f"{role} / {which}: {ok} of {advised} advised runs reached the transition within "
              f"the budget ({ok / advised:.0%}); {n - advised} of {n} cases got no λ"
              if advised else f"{role} / {which}: no λ advised in {n} cases")
    print(f"advice constants {advice_constants()}, advice.py {advice_code()}")
    print(f"device cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{args.threads} torch thread(s), torch {torch.__version__}); load average "
          f"{min(x[0] for x in load):.1f}–{max(x[0] for x in load):.1f} (1 min); "
          f"wall {time.perf_counter() - started:.0f} s (cached settings cost nothing)")


if __name__ == "__main__":
    main()
