"""Which signal forecasts the transition best on task families it was not tuned on? (#16, part 2)

Reads the cached family logs of ``benchmarks/families.py`` (run ``generate`` first) and,
for every delayed run, forecasts the transition step at 25/50/75 % of the delay from
several signals, each the same way: the signal's log-drop from the V_sc step to the
transition is calibrated leave-one-family-out (median over the other families' delayed
runs), and the forecast is the step where the signal, extrapolated along its log-linear
trend in τ over the last half of the τ since V_sc, has dropped that much. Signals:

- ``total``: the total parameter norm (what the engine reads);
- ``head``: the head's norm; ``embed``: the embedding's; ``rest``: every other layer;
- ``logit_scale``: the product of the layer norms along the path (sum of their logs),
  the logit-scale proxy;
- ``train_loss``: the training loss (it rises as weight decay shrinks the memorising
  solution's margin);
- ``prior``: no signal at all, the other families' median Δτ from V_sc (conditioned on
  the τ already elapsed: the median of the log-normal above it);
- ``combined``: the median of the ``total``, ``embed`` and ``train_loss`` forecasts;
  ``embed+prior``: the embedding's Δτ estimate and the prior combined by precision in
  log τ (the engine's law+rate scheme, with the embedding in place of the total norm; the
  estimate's log-sd is that of the other families' log-drops).

τ is converted into steps along the run's own τ clock (the schedule, known in advance).
Prints the spread of each signal's log-drop across families (what a cross-family
constant has to cover) and the MAPE of each signal's forecasts, pooled and per family.

    python benchmarks/signals.py [--cache DIR] [--out benchmarks/results/signals.md]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from families import (DEFAULT_CACHE, LoadedRun, cached_families, load_average,  # noqa: E402
                      load_family, machine)

from nht_monitor.analysis.settings import AnalyzerSettings  # noqa: E402
from nht_monitor.analysis.sweep import observed_delay  # noqa: E402

SIGNALS = ("total", "head", "embed", "rest", "logit_scale", "train_loss", "prior")
COMBINED = ("total", "embed", "train_loss")  # the median of these signals' forecasts
FRACTIONS = (0.25, 0.5, 0.75)
WINDOW = 0.5
PRIOR_MIN_SD = 0.05  # the prior's log-sd when the other families' delays all agree


def signal_columns(run: LoadedRun) -> dict[str, np.ndarray]:
    """log of each signal per sample of ``run`` (aligned with ``run.series``)."""
    head_name = run.header.head
    layers = list(run.header.layers)
    embed = [n for n in layers if "embed" in n.lower()] or layers[:1]
    cols: dict[str, list[float]] = {k: [] for k in SIGNALS if k != "prior"}
    for smp in run.samples:
        ln = {k: float(v) for k, v in (smp.layer_norms or {}).items()}
        total = float(smp.norm) if smp.norm is not None else math.nan
        head = ln.get(head_name, math.nan)
        emb = math.sqrt(sum(ln.get(n, math.nan) ** 2 for n in embed))
        rest2 = total ** 2 - head ** 2 - emb ** 2
        cols["total"].append(math.log(total) if total > 0 else math.nan)
        cols["head"].append(math.log(head) if head > 0 else math.nan)
        cols["embed"].append(math.log(emb) if emb > 0 else math.nan)
        cols["rest"].append(0.5 * math.log(rest2) if rest2 > 0 else math.nan)
        vals = [v for v in ln.values() if v > 0]
        cols["logit_scale"].append(sum(math.log(v) for v in vals) if vals else math.nan)
        loss = (smp.metrics or {}).get("train_loss")
        cols["train_loss"].append(math.log(float(loss)) if loss is not None and float(loss) > 0
                                  else math.nan)
    return {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}


class Case:
    """One delayed run: its signals, V_sc row, transition row and the τ clock."""

    def __init__(self, run: LoadedRun, settings: AnalyzerSettings) -> None:
        s = run.series
        obs = observed_delay(s, settings)
        self.ok = obs is not None and run.delayed
        if not self.ok:
            return
        self.family = run.family
        self.run_id = run.run_id
        self.step = s.step
        self.tau = s.tau
        self.k = int(np.searchsorted(s.step, obs.v_sc_step))
        self.j = int(np.searchsorted(s.step, obs.transition_step))
        self.actual = float(obs.transition_step)
        self.fit_step = float(run.fit_step)
        self.delay_tau = obs.delay_tau
        self.cols = signal_columns(run)
        self.drop = {k: float(v[self.k] - v[self.j]) for k, v in self.cols.items()}

    def step_at_tau(self, target: float) -> float:
        """The step where τ reaches ``target`` (beyond the log: at the last τ rate)."""
        if target <= self.tau[-1]:
            return float(self.step[min(int(np.searchsorted(self.tau, target)), len(self.step) - 1)])
        rate = (self.tau[-1] - self.tau[-21]) / (self.step[-1] - self.step[-21])
        return float(self.step[-1] + (target - self.tau[-1]) / rate) if rate > 0 else math.inf

    def row_at(self, frac: float) -> int | None:
        """The row at fit + ``frac`` × delay (``None``: too close to V_sc to fit a trend)."""
        c = int(np.searchsorted(self.step, self.fit_step + frac * (self.actual - self.fit_step),
                                side="right")) - 1
        return c if c > self.k + 2 else None

    def slope(self, name: str, c: int) -> float | None:
        """Signal ``name``'s log-linear slope in τ over the last ``WINDOW`` of the τ since V_sc."""
        elapsed = float(self.tau[c] - self.tau[self.k])
        i = max(self.k, int(np.searchsorted(self.tau, self.tau[c] - WINDOW * elapsed)))
        t, v = self.tau[i:c + 1], self.cols[name][i:c + 1]
        ok = np.isfinite(t) & np.isfinite(v)
        return float(np.polyfit(t[ok], v[ok], 1)[0]) if ok.sum() >= 3 else None

    def blend(self, name: str, frac: float, drop: float, drop_sd: float,
              prior: tuple[float, float]) -> float | None:
        """The prior and signal ``name``'s own Δτ estimate combined by precision in log τ
        (the engine's law+rate scheme with this signal in place of the total norm)."""
        if (c := self.row_at(frac)) is None:
            return None
        elapsed = float(self.tau[c] - self.tau[self.k])
        parts = [prior]
        slope = self.slope(name, c)
        if slope is not None and slope < 0 and math.isfinite(drop) and drop > 0:
            need = drop - float(self.cols[name][self.k] - self.cols[name][c])
            parts.append((math.log(elapsed + max(need, 0.0) / -slope), drop_sd))
        return self.step_at_tau(self.tau[self.k] + _blend_quantile(parts, elapsed))

    def forecast(self, name: str, frac: float, drop: float, prior: tuple[float, float]
                 ) -> float | None:
        """The forecast step made at fit + ``frac`` × delay from signal ``name``."""
        if (c := self.row_at(frac)) is None:
            return None
        elapsed = float(self.tau[c] - self.tau[self.k])
        if name == "prior":
            return self.step_at_tau(self.tau[self.k] + _blend_quantile([prior], elapsed))
        slope = self.slope(name, c)
        if slope is None or not math.isfinite(drop) or drop == 0:
            return None  # no trend, or no calibrated threshold to reach
        need = drop - float(self.cols[name][self.k] - self.cols[name][c])
        if need * np.sign(drop) <= 0:
            return float(self.step[c])  # already dropped (or risen) that far
        if -slope * np.sign(drop) <= 0:
            return None  # the signal does not move toward its threshold
        return self.step_at_tau(self.tau[c] + need / -slope)


def _blend_quantile(parts: list[tuple[float, float]], elapsed: float, q: float = 0.5) -> float:
    """The ``q`` quantile of Δτ, log-normal with the precision-weighted mean and sd of
    ``parts`` ((log median, log-sd) each), given Δτ > ``elapsed``."""
    w = [1 / sd ** 2 for _, sd in parts]
    mu = sum(wi * m for wi, (m, _) in zip(w, parts)) / sum(w)
    sd = math.sqrt(1 / sum(w))
    nd = statistics.NormalDist()
    z = (math.log(max(elapsed, 1e-12)) - mu) / sd
    tail = (1 - q) * (1 - nd.cdf(z))
    return max(elapsed, math.exp(mu - sd * nd.inv_cdf(tail))) if tail > 1e-300 else elapsed


def _finite(values) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def study(cache: Path) -> tuple[dict, list[str]]:
    settings = AnalyzerSettings()
    families = cached_families(cache)
    cases: dict[str, list[Case]] = {}
    for fam in families:
        cases[fam] = [c for r in load_family(cache, fam, settings) if (c := Case(r, settings)).ok]
    spread = {}
    for name in SIGNALS[:-1]:
        per_family = [statistics.median(d) for cs in cases.values()
                      if (d := _finite(c.drop[name] for c in cs))]
        pooled = _finite(c.drop[name] for cs in cases.values() for c in cs)
        spread[name] = ((statistics.median(pooled), statistics.pstdev(per_family),
                         sum(d > 0 for d in pooled) / len(pooled)) if pooled
                        else (math.nan, math.nan, math.nan))
    errors: dict[tuple[str, str, float], list[float]] = {}
    made: dict[tuple[str, str, float], int] = {}
    for fam, cs in cases.items():
        others = [c for f, o in cases.items() if f != fam for c in o]
        if not others:
            continue
        logd = [math.log(c.delay_tau) for c in others]
        prior = (statistics.median(logd), max(statistics.pstdev(logd), PRIOR_MIN_SD))
        drops = {name: statistics.median(d) if (d := _finite(c.drop[name] for c in others))
                 else math.nan for name in SIGNALS if name != "prior"}
        drop_sd = {name: statistics.pstdev([math.log(d) for c in others
                                            if (d := c.drop[name]) > 0]) or 0.3
                   for name in ("embed", "total")}
        for f in FRACTIONS:
            for c in cs:
                fcs = {name: c.forecast(name, f, drops.get(name, 0.0), prior) for name in SIGNALS}
                both = [v for k, v in fcs.items() if k in COMBINED and v is not None]
                fcs["combined"] = statistics.median(both) if both else None
                fcs["embed+prior"] = c.blend("embed", f, drops["embed"], drop_sd["embed"], prior)
                for name, fc in fcs.items():
                    made[(fam, name, f)] = made.get((fam, name, f), 0) + (fc is not None)
                    if fc is not None and math.isfinite(fc):
                        errors.setdefault((fam, name, f), []).append(abs(fc - c.actual) / c.actual)
    return {"cases": cases, "spread": spread, "errors": errors, "made": made}, families


def render(res: dict, families: list[str], cache: Path) -> str:
    cases, spread, errors, made = res["cases"], res["spread"], res["errors"], res["made"]
    n = sum(len(c) for c in cases.values())
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["## Signals for the forecast, leave-one-family-out (`benchmarks/signals.py`)", "",
           f"{now}; {machine()}, load {load_average()}; {n} delayed runs with a law delay "
           f"in {sum(bool(c) for c in cases.values())} families (cache `{cache}`).", "",
           "Log-drop of each signal from the V_sc step to the transition (median over runs; "
           "sd of the family medians across families; share of runs where it drops):", "",
           "| signal | median log-drop | sd across families | drops in |", "|---|---|---|---|"]
    for name, (med, sd, pos) in spread.items():
        out.append(f"| {name} | {med:+.3f} | {sd:.3f} | {pos:.0%} |")
    out += ["", "Forecast MAPE (|forecast − actual| / actual step; n forecasts / n runs) "
            "pooled over families:", "",
            "| signal | " + " | ".join(f"MAPE {f:.0%}" for f in FRACTIONS)
            + " | median APE 50% |", "|---|" + "---|" * (len(FRACTIONS) + 1)]
    for name in SIGNALS + ("combined", "embed+prior"):
        cells = []
        for f in FRACTIONS:
            errs = [e for fam in families for e in errors.get((fam, name, f), [])]
            m = sum(made.get((fam, name, f), 0) for fam in families)
            cells.append(f"{statistics.fmean(errs):.0%} ({m}/{n})" if errs else f"– (0/{n})")
        half = [e for fam in families for e in errors.get((fam, name, 0.5), [])]
        cells.append(f"{statistics.median(half):.0%}" if half else "–")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", "MAPE at 50 % of the delay per family:", "",
            "| family | runs | " + " | ".join(SIGNALS + ("combined",)) + " |",
            "|---|---|" + "---|" * (len(SIGNALS) + 1)]
    for fam in families:
        if not cases.get(fam):
            continue
        cells = []
        for name in SIGNALS + ("combined",):
            errs = errors.get((fam, name, 0.5), [])
            cells.append(f"{statistics.fmean(errs):.0%}" if errs else "–")
        out.append(f"| {fam} | {len(cases[fam])} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    res, families = study(args.cache)
    if not any(res["cases"].values()):
        print(f"no delayed runs cached in {args.cache}: run benchmarks/families.py generate",
              file=sys.stderr)
        return 2
    text = render(res, families, args.cache)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
