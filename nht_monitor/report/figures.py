"""The report's matplotlib figures (Agg backend, no display needed).

Each function returns a :class:`matplotlib.figure.Figure` or ``None`` when the run has
nothing to draw for it (e.g. no metrics logged).

Drawing is most of a report's time, so the figures are laid out by hand: fixed margins
in inches (wide enough for the labels they hold) instead of a layout engine, which
draws every figure twice (once to measure, once to render); titles at a fixed height
(matplotlib otherwise measures every tick label to place them); plain-number tick
labels (no mathtext, whose parser is slow to build).
"""

from __future__ import annotations

import math
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogFormatter  # noqa: E402

from nht_monitor.analysis.text import NO_LEAD  # noqa: E402
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
DPI = 100
CHAR_IN = 0.062
"""Width in inches of an average character at 8 pt (DejaVu Sans), for margins."""


_F = TypeVar("_F", bound=Callable[..., Any])


def _plain_text(draw: _F) -> _F:
    """Draw with mathtext off: run ids, module and metric names are the user's and may
    hold ``$…$`` (legal names that mathtext would parse, or fail on)."""
    @functools.wraps(draw)
    def plain(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)
    return plain  # type: ignore[return-value]


def _figure(width: float, height: float, *, left: float = 0.8, right: float = 0.3,
            top: float = 0.4, bottom: float = 0.55) -> Figure:
    """A ``width`` × ``height`` inch figure whose subplots fill it up to fixed margins
    (inches): no layout engine, so saving it draws it once."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=left / width, right=1 - right / width,
                        bottom=bottom / height, top=1 - top / height)
    return fig


def _subplots(fig: Figure, rows: int, cols: int, *, hgap: float = 0.0, wgap: float = 0.0,
              **options: Any) -> np.ndarray:
    """``rows`` × ``cols`` axes with gaps of ``hgap``/``wgap`` inches between them."""
    params = fig.subplotpars
    width, height = fig.get_size_inches()
    cell_w = ((params.right - params.left) * width - (cols - 1) * wgap) / cols
    cell_h = ((params.top - params.bottom) * height - (rows - 1) * hgap) / rows
    fig.subplots_adjust(wspace=wgap / max(cell_w, 1e-3), hspace=hgap / max(cell_h, 1e-3))
    return fig.subplots(rows, cols, squeeze=False, **options)


def _title(ax: Any, text: str, fontsize: float = 10) -> None:
    """An axes title at a fixed height (no tick label measuring to place it)."""
    ax.set_title(text, fontsize=fontsize, y=1.0)


def _legend_width(labels: Sequence[str], fontsize: float = 8) -> float:
    """Inches a legend of ``labels`` takes (handles, padding and text)."""
    return 0.75 + CHAR_IN * fontsize / 8 * max((len(label) for label in labels), default=0)


def _finite(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v if v is not None and math.isfinite(v) else np.nan for v in values],
                    dtype=float)


def _positive(array: np.ndarray) -> bool:
    finite = array[np.isfinite(array)]
    return finite.size > 0 and bool(np.all(finite > 0))


@_plain_text
def norms_figure(run: ReportRun) -> Figure:
    """Total and head norm vs step, regime bands behind, forecast and interval marked."""
    steps = np.array([s.step for s in run.samples], dtype=float)
    total = _finite([s.norm for s in run.samples])
    head = _finite([s.head_norm for s in run.samples])
    fig = _figure(10, 4.2)
    ax = fig.add_subplot()
    seen: set[str] = set()
    for span in run.history:
        label = span.regime if span.regime not in seen else None
        seen.add(span.regime)
        ax.axvspan(span.start, max(span.end, span.start + 1e-9),
                   color=REGIME_COLORS.get(span.regime, "#eeeeee"), alpha=0.45, lw=0,
                   label=f"regime: {label}" if label else None)
    left_out = run.log.header.config.get("undecayed_layers")
    ax.plot(steps, total, color="#08306b", lw=1.6,
            label="total norm" + (f" ({len(left_out)} undecayed layers left out)"
                                  if isinstance(left_out, list) and left_out else ""))
    if np.isfinite(head).any():
        ax.plot(steps, head, color="#cb181d", lw=1.4, label="head norm")
    transition = run.assessment.transition
    done = transition.status == "done"  # then the step it came, not a forecast
    if transition.interval is not None and not done:
        low, high = transition.interval
        open_end = high is None  # the τ clock stops before it: hatched to the plot's end
        high = max(float(steps[-1]), transition.forecast_step or low, low) if open_end else high
        ax.axvspan(low, high, facecolor="none", edgecolor="#525252", hatch="//", lw=0.8,
                   label="forecast 80% interval" + (" (no upper end)" if open_end else ""))
    if transition.forecast_step is not None:
        what = "transition at step" if done else "forecast step"
        ax.axvline(transition.forecast_step, color="#252525", ls="--", lw=1.4,
                   label=f"{what} {transition.forecast_step:,.0f}")
    if np.isfinite(head).any():
        _head_lead_marks(ax, run)
    if _positive(total) and (not np.isfinite(head).any() or _positive(head)):
        _log_axis(ax)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("L2 weight norm")
    _title(ax, f"{run.run_id}: total and head norm "
               f"(regime {run.assessment.regime}, phase {run.assessment.phase or '—'})")
    ax.grid(alpha=0.3)
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    right = 0.25 + _legend_width([t.get_text() for t in legend.get_texts()])
    fig.subplots_adjust(right=1 - right / 10)  # room for the legend outside the axes
    return fig


def _head_lead_marks(ax: Any, run: ReportRun) -> None:
    """Dotted lines where the head and the total norm flagged; the lead (or ``no lead
    measured``) as a legend entry."""
    head = run.assessment.head
    flagged = head.flagged_step if head is not None else None
    lead = head.lead_steps if head is not None else None
    if flagged is not None:
        ax.axvline(flagged, color="#cb181d", ls=":", lw=1.3,
                   label=f"head flagged, step {flagged:,}")
    if flagged is not None and lead is not None and math.isfinite(lead):
        ax.axvline(flagged + lead, color="#08306b", ls=":", lw=1.3,
                   label=f"total norm flagged, step {flagged + lead:,.0f}")
        ax.plot([], [], " ", label=f"head lead {lead:+,.0f} steps")
    else:
        ax.plot([], [], " ", label=f"head lead: {NO_LEAD}")


def _log_axis(ax: Any) -> None:
    """Log y axis with plain-number tick labels (also on minor ticks of short ranges)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    low, high = ax.get_ylim()
    if high / max(low, 1e-300) < 100:
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)


@_plain_text
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
    labels = [_short(name) for name in layers]
    fig = _figure(10, height, left=0.3 + 0.055 * max(len(label) for label in labels),
                  right=0.75)
    ax = fig.add_subplot()
    positive = grid[np.isfinite(grid) & (grid > 0)]
    norm = (LogNorm(vmin=positive.min(), vmax=positive.max())
            if positive.size and positive.min() < positive.max() else Normalize())
    edges = _edges(steps)
    mesh = ax.pcolormesh(edges, np.arange(len(layers) + 1), np.ma.masked_invalid(grid),
                         cmap="viridis", norm=norm, shading="flat")
    ax.set_yticks(np.arange(len(layers)) + 0.5, labels=labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("optimizer step")
    _title(ax, f"{run.run_id}: per-layer weight norm (colour, log scale)", fontsize=12)
    _colorbar(fig, mesh, [ax], "L2 norm")
    return fig


def _colorbar(fig: Figure, mappable: Any, axes: list[Any], label: str) -> Any:
    """A colorbar right of ``axes`` (taken from their width) with plain-number labels."""
    bar = fig.colorbar(mappable, ax=axes, label=label, fraction=0.04, pad=0.015, aspect=25)
    if isinstance(mappable.norm, LogNorm):
        bar.ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
        bar.ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))
    return bar


class _PlainLogFormatter(LogFormatter):
    """Labels the log-axis ticks matplotlib would label (few decades: some minor ones
    too), as plain numbers."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:.3g}" if super().__call__(x, pos) else ""


@_plain_text
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
    fig = _figure(10, 1.9 * rows + 0.6, left=0.45, right=0.1, top=0.55, bottom=0.35)
    axes = _subplots(fig, rows, cols, hgap=0.35, wgap=0.5, sharex=True)
    head = run.log.header.head
    for ax, name in zip(axes.flat, layers):
        values = _finite([s.layer_norms.get(name) for s in run.samples])
        is_head = head is not None and (name == head or name.startswith(head + "."))
        ax.plot(steps, values, color="#cb181d" if is_head else "#08306b", lw=1.2)
        _title(ax, _short(name) + (" (head)" if is_head else ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(layers):]:
        ax.set_visible(False)
    fig.suptitle(f"{run.run_id}: weight norm per layer"
                 + (f" (largest {len(layers)})" if len(layers) < len(_layer_names(run)) else ""),
                 fontsize=10)
    return fig


@_plain_text
def metrics_figure(run: ReportRun) -> Figure | None:
    """Logged train/val metrics: losses on the left, accuracies and the rest on the right."""
    names = sorted({name for s in run.samples for name in s.metrics})
    if not names:
        return None
    losses = [n for n in names if "loss" in n.lower()]
    others = [n for n in names if n not in losses]
    groups = [g for g in (losses, others) if g]
    fig = _figure(10, 3.6, left=0.6, right=0.15, top=0.65)
    axes = _subplots(fig, 1, len(groups), wgap=0.6)[0]
    for ax, group in zip(axes, groups):
        for name in group:
            points = [(s.step, s.metrics[name]) for s in run.samples if name in s.metrics]
            xs = np.array([p[0] for p in points], dtype=float)
            ax.plot(xs, _finite([p[1] for p in points]), lw=1.3, label=name)
        if group is losses and all(_positive(_finite([s.metrics.get(n) for s in run.samples
                                                        if n in s.metrics])) for n in group):
            _log_axis(ax)
        ax.set_xlabel("optimizer step")
        _title(ax, "losses" if group is losses else "accuracies and other metrics")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{run.run_id}: train / val metrics", fontsize=10)
    return fig


@_plain_text
def tau_figure(run: ReportRun) -> Figure:
    """The τ clock vs step, with lr·λ (its slope) on a second axis."""
    steps = np.array([s.step for s in run.samples], dtype=float)
    tau = _finite([s.tau for s in run.samples])
    rate = _finite([s.lr * s.weight_decay for s in run.samples])
    fig = _figure(10, 3.0, left=0.7, right=0.9)
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
    _title(ax, f"{run.run_id}: regularisation clock τ")
    return fig


# -- sweep ---------------------------------------------------------------------------

@_plain_text
def sweep_norms_figure(runs: Sequence[ReportRun]) -> Figure:
    """Total norm curves of every run coloured by λ, against step and against τ."""
    lambdas = [r.weight_decay for r in runs]
    positive = [v for v in lambdas if v is not None and v > 0 and math.isfinite(v)]
    norm = (LogNorm(min(positive), max(positive)) if positive and min(positive) < max(positive)
            else Normalize(0, 1))
    cmap = matplotlib.colormaps["viridis"]
    fig = _figure(11, 4.2, left=0.75, right=0.85 if positive else 0.15)
    ax_step, ax_tau = _subplots(fig, 1, 2, wgap=0.8)[0]
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
    _title(ax_step, "norm vs step")
    _title(ax_tau, "norm vs τ (curves align when the delay law holds)")
    if positive:
        mappable = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        _colorbar(fig, mappable, [ax_step, ax_tau], "weight decay λ")
    ax_step.legend(fontsize=7)
    return fig


@_plain_text
def delay_figure(points: Sequence[tuple[str, float, float]],
                 fit: tuple[float, float, float] | None,
                 forecasts: Sequence[tuple[str, float, float]] = ()) -> Figure | None:
    """Transition delay vs 1/(ηλ): observed runs (filled) with the least-squares line,
    runs whose transition is only forecast (hollow, not fitted).

    ``points``/``forecasts``: ``(run_id, 1/(ηλ), steps)``; ``fit``: ``(slope, intercept, R²)``.
    """
    if not points and not forecasts:
        return None
    fig = _figure(7, 4.2, left=0.8, right=0.25)
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
                label=f"fit: delay = {slope:.3g}·1/(ηλ) {'−' if intercept < 0 else '+'} "
                      f"{abs(intercept):.3g} (R² = {r2:.3f})")
    ax.legend(fontsize=8)
    ax.set_xlabel("1 / (η λ)")
    ax.set_ylabel("delay (steps after the fit)")
    _title(ax, "delay law: T ∝ 1/(ηλ)")
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
