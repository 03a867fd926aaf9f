"""The report's matplotlib figures (Agg backend, no display needed).

Each function returns a :class:`matplotlib.figure.Figure` or ``None`` when the run has
nothing to draw for it (e.g. no metrics logged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FormatStrFormatter  # noqa: E402

from nht_monitor.report.data import ReportRun  # noqa: E402

REGIME_COLORS = {
    "undetermined": "#d9d9d9",
    "weak": "#fdae61",
    "intermediate": "#a6d96a",
    "strong": "#c2a5cf",
    "diverged": "#d7191c",
    "clamped": "#92c5de",
}
MAX_SMALL_MULTIPLES = 16


def _finite(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v if v is not None and math.isfinite(v) else np.nan for v in values],
                    dtype=float)


def _positive(array: np.ndarray) -> bool:
    finite = array[np.isfinite(array)]
    return finite.size > 0 and bool(np.all(finite > 0))


def norms_figure(run: ReportRun) -> Figure:
    """Total and head norm vs step, regime bands behind, forecast and interval marked."""
    steps = np.array([s.step for s in run.samples], dtype=float)
    total = _finite([s.norm for s in run.samples])
    head = _finite([s.head_norm for s in run.samples])
    fig = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    seen: set[str] = set()
    for span in run.history:
        label = span.regime if span.regime not in seen else None
        seen.add(span.regime)
        ax.axvspan(span.start, max(span.end, span.start + 1e-9),
                   color=REGIME_COLORS.get(span.regime, "#eeeeee"), alpha=0.45, lw=0,
                   label=f"regime: {label}" if label else None)
    ax.plot(steps, total, color="#08306b", lw=1.6, label="total norm")
    if np.isfinite(head).any():
        ax.plot(steps, head, color="#cb181d", lw=1.4, label="head norm")
    transition = run.assessment.transition
    if transition.interval is not None:
        low, high = transition.interval
        ax.axvspan(low, high, facecolor="none", edgecolor="#525252", hatch="//", lw=0.8,
                   label="forecast 80% interval")
    if transition.forecast_step is not None:
        ax.axvline(transition.forecast_step, color="#252525", ls="--", lw=1.4,
                   label=f"forecast step {transition.forecast_step:,.0f}")
    if _positive(total) and (not np.isfinite(head).any() or _positive(head)):
        _log_axis(ax)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("L2 weight norm")
    ax.set_title(f"{run.run_id}: total and head norm "
                 f"(regime {run.assessment.regime}, phase {run.assessment.phase or '—'})",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def _log_axis(ax: Any) -> None:
    """Log y axis with plain-number tick labels (also on minor ticks of short ranges)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    low, high = ax.get_ylim()
    if high / max(low, 1e-300) < 100:
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)


def layers_figure(run: ReportRun) -> Figure | None:
    """Heatmap of every layer's norm over steps (log colour scale)."""
    layers = _layer_names(run)
    if not layers:
        return None
    steps = np.array([s.step for s in run.samples], dtype=float)
    grid = np.array([[s.layer_norms.get(name, np.nan) for s in run.samples]
                     for name in layers], dtype=float)
    grid[~np.isfinite(grid)] = np.nan
    height = min(2.0 + 0.22 * len(layers), 12.0)
    fig = Figure(figsize=(10, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    positive = grid[np.isfinite(grid) & (grid > 0)]
    norm = (LogNorm(vmin=positive.min(), vmax=positive.max())
            if positive.size and positive.min() < positive.max() else Normalize())
    edges = _edges(steps)
    mesh = ax.pcolormesh(edges, np.arange(len(layers) + 1), np.ma.masked_invalid(grid),
                         cmap="viridis", norm=norm, shading="flat")
    ax.set_yticks(np.arange(len(layers)) + 0.5,
                  labels=[_short(name) for name in layers], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("optimizer step")
    ax.set_title(f"{run.run_id}: per-layer weight norm (colour, log scale)")
    fig.colorbar(mesh, ax=ax, label="L2 norm")
    return fig


def layer_multiples_figure(run: ReportRun) -> Figure | None:
    """Small multiples: one panel per layer (the largest layers when there are many)."""
    layers = _layer_names(run)
    if not layers:
        return None
    last = run.samples[-1].layer_norms
    if len(layers) > MAX_SMALL_MULTIPLES:
        layers = sorted(layers, key=lambda n: -_num(last.get(n)))[:MAX_SMALL_MULTIPLES]
    steps = np.array([s.step for s in run.samples], dtype=float)
    cols = min(4, len(layers))
    rows = math.ceil(len(layers) / cols)
    fig = Figure(figsize=(10, 1.9 * rows + 0.6), dpi=100, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    head = run.log.header.head
    for ax, name in zip(axes.flat, layers):
        values = _finite([s.layer_norms.get(name) for s in run.samples])
        is_head = head is not None and (name == head or name.startswith(head + "."))
        ax.plot(steps, values, color="#cb181d" if is_head else "#08306b", lw=1.2)
        ax.set_title(_short(name) + (" (head)" if is_head else ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(layers):]:
        ax.set_visible(False)
    fig.suptitle(f"{run.run_id}: weight norm per layer"
                 + (f" (largest {len(layers)})" if len(layers) < len(_layer_names(run)) else ""),
                 fontsize=10)
    return fig


def metrics_figure(run: ReportRun) -> Figure | None:
    """Logged train/val metrics: losses on the left, accuracies and the rest on the right."""
    names = sorted({name for s in run.samples for name in s.metrics})
    if not names:
        return None
    losses = [n for n in names if "loss" in n.lower()]
    others = [n for n in names if n not in losses]
    groups = [g for g in (losses, others) if g]
    fig = Figure(figsize=(10, 3.6), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, group in zip(axes, groups):
        for name in group:
            points = [(s.step, s.metrics[name]) for s in run.samples if name in s.metrics]
            xs = np.array([p[0] for p in points], dtype=float)
            ax.plot(xs, _finite([p[1] for p in points]), lw=1.3, label=name)
        if group is losses and all(_positive(_finite([s.metrics.get(n) for s in run.samples
                                                        if n in s.metrics])) for n in group):
            _log_axis(ax)
        ax.set_xlabel("optimizer step")
        ax.set_title("losses" if group is losses else "accuracies and other metrics",
                     fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{run.run_id}: train / val metrics", fontsize=10)
    return fig


def tau_figure(run: ReportRun) -> Figure:
    """The τ clock vs step, with lr·λ (its slope) on a second axis."""
    steps = np.array([s.step for s in run.samples], dtype=float)
    tau = _finite([s.tau for s in run.samples])
    rate = _finite([s.lr * s.weight_decay for s in run.samples])
    fig = Figure(figsize=(10, 3.0), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(steps, tau, color="#006d2c", lw=1.6, label="τ = Σ η·λ")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("τ")
    ax.grid(alpha=0.3)
    twin = ax.twinx()
    twin.plot(steps, rate, color="#969696", lw=1.0, ls=":", label="η·λ per step")
    twin.set_ylabel("η·λ")
    if run.assessment.transition.forecast_tau is not None:
        ax.axhline(run.assessment.transition.forecast_tau, color="#252525", ls="--", lw=1,
                   label=f"forecast τ {run.assessment.transition.forecast_tau:.3g}")
    handles = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="upper left")
    ax.set_title(f"{run.run_id}: regularisation clock τ", fontsize=10)
    return fig


# -- sweep ---------------------------------------------------------------------------

def sweep_norms_figure(runs: Sequence[ReportRun]) -> Figure:
    """Total norm curves of every run coloured by λ, against step and against τ."""
    lambdas = [r.weight_decay for r in runs]
    positive = [v for v in lambdas if v is not None and v > 0 and math.isfinite(v)]
    norm = (LogNorm(min(positive), max(positive)) if positive and min(positive) < max(positive)
            else Normalize(0, 1))
    cmap = matplotlib.colormaps["viridis"]
    fig = Figure(figsize=(11, 4.2), dpi=100, layout="constrained")
    ax_step, ax_tau = fig.subplots(1, 2)
    for run, lam in zip(runs, lambdas):
        color = cmap(norm(lam)) if lam and lam > 0 and positive else "#636363"
        steps = np.array([s.step for s in run.samples], dtype=float)
        taus = _finite([s.tau for s in run.samples])
        total = _finite([s.norm for s in run.samples])
        label = f"{run.run_id} (λ={lam:.3g})" if lam is not None else run.run_id
        ax_step.plot(steps, total, color=color, lw=1.3, label=label)
        ax_tau.plot(taus, total, color=color, lw=1.3)
    for ax, xlabel in ((ax_step, "optimizer step"), (ax_tau, "τ = Σ η·λ")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("total L2 norm")
        ax.grid(alpha=0.3)
        if all(_positive(_finite([s.norm for s in r.samples])) for r in runs):
            _log_axis(ax)
    ax_step.set_title("norm vs step", fontsize=10)
    ax_tau.set_title("norm vs τ (curves align when the delay law holds)", fontsize=10)
    if positive:
        mappable = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(mappable, ax=[ax_step, ax_tau], label="weight decay λ")
    ax_step.legend(fontsize=7)
    return fig


def delay_figure(points: Sequence[tuple[str, float, float]],
                 fit: tuple[float, float, float] | None,
                 forecasts: Sequence[tuple[str, float, float]] = ()) -> Figure | None:
    """Transition delay vs 1/(ηλ): observed runs (filled) with the least-squares line,
    runs whose transition is only forecast (hollow, not fitted).

    ``points``/``forecasts``: ``(run_id, 1/(ηλ), steps)``; ``fit``: ``(slope, intercept, R²)``.
    """
    if not points and not forecasts:
        return None
    fig = Figure(figsize=(7, 4.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if points:
        ax.scatter([p[1] for p in points], [p[2] for p in points], color="#08306b", zorder=3,
                   label="observed delay (transition − fit step)")
    if forecasts:
        ax.scatter([p[1] for p in forecasts], [p[2] for p in forecasts], facecolors="none",
                   edgecolors="#08306b", zorder=3,
                   label="forecast delay (transition not seen yet)")
    for run_id, x, y in [*points, *forecasts]:
        ax.annotate(_short(run_id, 18), (x, y), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    if fit is not None and points:
        slope, intercept, r2 = fit
        xmax = max(p[1] for p in [*points, *forecasts])
        grid = np.linspace(0, xmax * 1.05, 50)
        ax.plot(grid, slope * grid + intercept, color="#cb181d", lw=1.4,
                label=f"fit: delay = {slope:.3g}·1/(ηλ) + {intercept:.3g} (R² = {r2:.3f})")
    ax.legend(fontsize=8)
    ax.set_xlabel("1 / (η λ)")
    ax.set_ylabel("delay (steps after the fit)")
    ax.set_title("delay law: T ∝ 1/(ηλ)", fontsize=10)
    ax.grid(alpha=0.3)
    return fig


# -- helpers -------------------------------------------------------------------------

def _layer_names(run: ReportRun) -> list[str]:
    names = list(run.log.header.layers)
    seen = {n for s in run.samples for n in s.layer_norms}
    ordered = [n for n in names if n in seen]
    return ordered + sorted(seen - set(ordered))


def _edges(steps: np.ndarray) -> np.ndarray:
    if steps.size == 1:
        return np.array([steps[0] - 0.5, steps[0] + 0.5])
    mids = (steps[1:] + steps[:-1]) / 2
    return np.concatenate([[steps[0] - (mids[0] - steps[0])], mids,
                           [steps[-1] + (steps[-1] - mids[-1])]])


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0.0
