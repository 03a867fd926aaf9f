"""What to change in weight decay (λ), with numbers only where they were measured.

The NHT law says the shortcut→structure delay after the fit is ``T = Θ((ηλ)⁻¹ ·
log(V_sc/V_st))``: proportional to 1/(ηλ) with a task constant that must be measured,
not assumed. :func:`advise` takes its numbers from, first usable wins:

1. **a sweep calibration** (:func:`calibrate`, from other runs of the same task given
   together, :func:`calibration_run` reads one log): the delay (transition step − fit
   step) of the runs that reached the transition is fitted against 1/(ηλ)
   (``scipy.stats.linregress``), and the suggested λ is the smallest, at the run's
   learning rate, whose upper prediction bound (:data:`CALIBRATION_QUANTILE`, and at
   least :data:`MIN_MARGIN` above the fit) puts the transition of a fresh run inside the
   budget — searched only inside the λ range where runs were seen to fit the training
   set (never on the ``strong`` side), not past the λ of the earliest transition (past
   it the transition comes later again, outside the law) and at least
   :data:`SLOW_MARGIN` above every λ seen not to transition within the budget;
2. **the run's own measurement**: the engine's transition forecast when the run's norm
   is seen decaying (``intermediate``, or ``weak`` because that forecast lies beyond the
   budget), rescaled by λ (on the τ clock the delay does not depend on λ) — but with
   runs given, never to or past a λ where one did not fit the training set: at most to
   the largest λ that fitted below it, said to fall short of the budget when it does;
3. otherwise **no number**: the text says which evidence is missing and how to get it.

The transition is :func:`nht_monitor.analysis.transition.first_reached` at
``done_val_acc``; the fit step is the analyzer's (:mod:`nht_monitor.analysis.facts`).
Pure: no torch import. :func:`advise` never raises on a well-formed Assessment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from nht_monitor.analysis.assessment import Advice, Assessment
from nht_monitor.analysis.series import Series
from nht_monitor.analysis.settings import AnalyzerSettings, config_budget

if TYPE_CHECKING:
    from nht_monitor.analysis.facts import RunFacts

CALIBRATION_QUANTILE = 0.9
"""One-sided prediction bound of a fresh run's transition step that must fit the budget."""

MIN_MARGIN = 0.25
"""The bound is at least this fraction above the fitted transition step (the fit's own
spread misses seed-to-seed scatter; tuned with ``benchmarks/advice_check.py``)."""

FEW_RUNS_MARGIN = 0.5
"""With fewer than :data:`MIN_LAW_RUNS` transitioned runs (the law through the origin,
no spread measured), the forecast must fit the budget with this relative margin (on the
``tune`` settings of ``benchmarks/advice_check.py`` the advised runs came at up to 1.30×
the forecast; 1.0 gave no λ in 5 of 14 cases)."""

MIN_LAW_RUNS = 3
"""Transitioned runs at distinct ηλ needed to fit the line with an intercept."""

FORECAST_MARGIN = 0.8
"""Share of the remaining budget a measured (engine) forecast is aimed at."""

FRESH_RUN_FACTOR = 2.0
"""Raising λ now to bring the transition into the budget left takes more than a fresh
run would (whenever it lies beyond the budget); past this factor more, the advice says the
fresh run's λ too (99 steps left of 3,100 on a public run: ×8.2 now, ×1.5 fresh)."""

SLOW_MARGIN = 1.25
"""A λ seen to run the whole budget without the transition contradicts the law there:
the search starts this factor above the largest such λ (never "keep" it)."""

NOT_BORNE_OUT = "flat_and_unlikely"
"""The engine's finding (rule 7e) that the run is ``weak`` because its forecast is not
borne out: held-out accuracy flat since the fit, the transition unlikely within the
budget. Its forecast sizes no λ."""

SPENT = {"spent_unlearnt", "spent_unfitted", "spent_collapsed"}
"""The engine's findings (rule 6e) that the budget ended before the fit."""

MAX_STRONG_FACTOR = 100.0
MIN_STRONG_FACTOR = 2.0


# ------------------------------------------------------------------ the calibration
class CalibrationRun(BaseModel):
    """One run of the task, as the calibration uses it.

    ``rate`` is η·λ (median over the rows from the fit to the transition, or to the end);
    ``fit_step`` the analyzer's fit step (``None``: the training set was never fitted);
    ``transition_step`` per :func:`~nht_monitor.analysis.transition.first_reached`;
    ``steps`` the last step logged; ``n_params`` the model size (same task, same model).
    """

    model_config = ConfigDict(frozen=True)
    run_id: str
    lr: float
    weight_decay: float
    steps: float
    fit_step: float | None = None
    transition_step: float | None = None
    has_train_metrics: bool = True
    n_params: int | None = None

    @property
    def rate(self) -> float:
        return self.lr * self.weight_decay

    @property
    def fitted(self) -> bool:
        return self.fit_step is not None or (self.transition_step is not None
                                             and not self.has_train_metrics)

    @property
    def delay(self) -> float | None:
        """Transition step − fit step (the whole transition step when no fit is known)."""
        if self.transition_step is None:
            return None
        return max(self.transition_step - (self.fit_step or 0.0), 0.0)


class NoSamplesError(ValueError):
    """A run log with a header and no samples: nothing to calibrate on."""


def calibration_run(log: Any, settings: AnalyzerSettings | None = None) -> CalibrationRun:
    """A :class:`CalibrationRun` from a run log (a path, or a log read by
    :func:`~nht_monitor.runlog.reader.read_columns`), with ``settings`` (default: those
    recorded in its header) naming the metrics and the fit and transition levels;
    :class:`NoSamplesError` for a log without samples."""
    from nht_monitor.analysis.assess import log_settings
    from nht_monitor.analysis.series import series_from_columns
    from nht_monitor.runlog.reader import read_columns

    if isinstance(log, (str, os.PathLike)):
        log = read_columns(log)
    settings = settings or log_settings(log.header, {"advice": False}, lenient=True)
    s = series_from_columns(log, settings)
    if len(s) == 0:
        raise NoSamplesError(f"run log {log.header.run_id!r} has no samples")
    return calibration_run_of(log.header, s, settings)


def calibration_run_of(header: Any, s: Series, settings: AnalyzerSettings,
                       facts: RunFacts | None = None) -> CalibrationRun:
    """The :class:`CalibrationRun` of a log's non-empty series ``s`` (its ``header`` names
    the run and the model; ``facts``: the series' facts when already at hand)."""
    from nht_monitor.analysis.facts import facts_from_series
    from nht_monitor.analysis.transition import first_reached

    fit = (facts if facts is not None else facts_from_series(s, settings)).fit_step
    transition = first_reached(s.step, s.val, settings.done_val_acc)
    lr, wd = (_median(x, fit, transition, s.step) for x in (s.lr, s.wd))
    return CalibrationRun(run_id=header.run_id, lr=lr, weight_decay=wd,
                          steps=float(s.step[-1]), fit_step=fit, transition_step=transition,
                          has_train_metrics=bool(np.isfinite(s.acc).any()
                                                 or np.isfinite(s.loss).any()),
                          n_params=header.model.n_params)


def sizing_lr(s: Series, fit_step: float | None, transition_step: float | None = None
              ) -> float:
    """The learning rate λ is sized at: the median over the rows from the fit (else the
    start) to the transition (else the end), as :class:`CalibrationRun` reads its runs —
    not the last logged lr, which an annealed schedule has brought to about 0."""
    return _median(s.lr, fit_step, transition_step, s.step)


def _median(values: np.ndarray, fit_step: float | None, transition_step: float | None,
            steps: np.ndarray) -> float:
    start = 0 if fit_step is None else int(np.searchsorted(steps, fit_step))
    end = (len(steps) if transition_step is None
           else int(np.searchsorted(steps, transition_step, "right")))
    window = values[start:max(end, start + 1)]
    return float(np.nanmedian(window)) if np.isfinite(window).any() else math.nan


class DelayLaw(BaseModel):
    """``delay = intercept + slope · 1/(ηλ)`` over the transitioned runs.

    With at least :data:`MIN_LAW_RUNS` distinct ηλ: least squares
    (``scipy.stats.linregress``) with ``resid_sd``, ``x_mean``, ``sxx`` for the
    prediction interval; with fewer: through the origin (``intercept`` 0, no spread).
    """

    slope: float
    intercept: float
    n: int
    r_squared: float | None = None
    resid_sd: float | None = None
    x_mean: float | None = None
    sxx: float | None = None

    @classmethod
    def fit(cls, rates: Sequence[float], delays: Sequence[float]) -> DelayLaw | None:
        """The law through ``(1/rate, delay)`` points; ``None`` without a usable point."""
        x = 1.0 / np.asarray(rates, dtype=np.float64)
        y = np.asarray(delays, dtype=np.float64)
        if x.size == 0:
            return None
        if np.unique(x).size < MIN_LAW_RUNS:
            return cls(slope=float(x @ y / (x @ x)), intercept=0.0, n=int(x.size))
        from scipy import stats  # only for sweep calibration: scipy.stats is slow to import

        fit = stats.linregress(x, y)
        resid = y - (fit.intercept + fit.slope * x)
        dof = x.size - 2
        return cls(slope=float(fit.slope), intercept=float(fit.intercept), n=int(x.size),
                   r_squared=float(fit.rvalue ** 2),
                   resid_sd=float(math.sqrt(resid @ resid / dof)) if dof > 0 else None,
                   x_mean=float(x.mean()), sxx=float(((x - x.mean()) ** 2).sum()))

    def delay(self, rate: np.ndarray | float) -> np.ndarray:
        """The fitted delay (steps after the fit) at ``rate`` = ηλ, never negative."""
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return np.maximum(self.intercept + self.slope / np.asarray(rate, dtype=np.float64),
                              0.0)

    def spread(self, rate: np.ndarray | float, quantile: float) -> np.ndarray:
        """The one-sided prediction-interval half-width at ``rate`` (0 without a spread)."""
        with np.errstate(divide="ignore", over="ignore"):
            x = 1.0 / np.asarray(rate, dtype=np.float64)
        if not self.resid_sd or self.sxx is None or self.x_mean is None or self.sxx <= 0:
            return np.zeros_like(x)
        from scipy import stats

        t = stats.t.ppf(quantile, self.n - 2)
        return t * self.resid_sd * np.sqrt(1 + 1 / self.n + (x - self.x_mean) ** 2 / self.sxx)

    def describe(self) -> str:
        """``delay ≈ a + b·1/(ηλ) (R² …)``."""
        if self.r_squared is None:
            return (f"delay ≈ {_fmt(self.slope)}·1/(ηλ) steps (through the origin, "
                    f"{self.n} run{'s' if self.n > 1 else ''}: no spread measured)")
        sign = "+" if self.intercept >= 0 else "−"
        return (f"delay ≈ {_fmt(self.slope)}·1/(ηλ) {sign} {_fmt(abs(self.intercept))} steps "
                f"(R² {self.r_squared:.2f}, {self.n} runs)")


class Calibration(BaseModel):
    """The delay law of one task and where it may be used.

    ``law``: :class:`DelayLaw` over the transitioned runs up to ``fastest_rate``, the ηλ
    of the earliest transition (``None`` if none). ``fitted_max_rate``: the largest ηλ
    the advice may use — where the training set was fitted, below ``strong_rate`` (the
    smallest larger ηλ at which it was not: the strong side), and not past
    ``fastest_rate``.
    """

    runs: list[CalibrationRun]
    law: DelayLaw | None = None
    fitted_max_rate: float | None = None
    strong_rate: float | None = None
    fastest_rate: float | None = None

    @property
    def transitioned(self) -> list[CalibrationRun]:
        return [r for r in self.runs if r.delay is not None and r.rate > 0]

    def fit_step_at(self, rate: np.ndarray | float) -> np.ndarray:
        """The fit step at ``rate``: interpolated in log ηλ between the runs that fitted
        (the nearest outside them; 0 when no fit step is known)."""
        known = sorted((r.rate, r.fit_step) for r in self.runs
                       if r.fit_step is not None and r.rate > 0)
        rate = np.asarray(rate, dtype=np.float64)
        if not known:
            return np.zeros_like(rate)
        xs, ys = zip(*known)
        return np.interp(np.log(rate), np.log(xs), ys)

    def forecast(self, rate: np.ndarray | float, quantile: float = CALIBRATION_QUANTILE,
                 ) -> tuple[np.ndarray, np.ndarray]:
        """``(forecast, bound)``: the transition step of a fresh run at ``rate`` = ηλ and
        its upper bound (prediction interval at ``quantile``, at least the margin)."""
        if self.law is None:
            raise ValueError("no run of the calibration reached the transition")
        fit = self.fit_step_at(rate)
        central = fit + self.law.delay(rate)
        margin = MIN_MARGIN if self.law.r_squared is not None else FEW_RUNS_MARGIN
        bound = np.maximum(fit + self.law.delay(rate) + self.law.spread(rate, quantile),
                           central * (1 + margin))
        return central, bound

    def slow_rate(self, budget: float) -> float:
        """The largest ηλ, below the earliest transition's, of a fitted run that ran at
        least ``budget`` steps without the transition (0 if none): smaller λ are seen to
        be too slow. (Above it, a slow run is the strong side's slowing, not the law's.)"""
        top = self.fastest_rate if self.fastest_rate is not None else math.inf
        return max((r.rate for r in self.runs if r.fitted and r.transition_step is None
                    and r.steps >= budget and r.rate < top), default=0.0)

    def describe(self, lr: float) -> str:
        """One sentence: the runs, the law and the λ range, at learning rate ``lr``."""
        n, k = len(self.runs), len(self.transitioned)
        parts = [f"{n} run{'s' if n != 1 else ''} of this task, {k} reached the transition"]
        if self.law is not None:
            parts.append(self.law.describe())
        if self.fitted_max_rate is not None:
            slower = [r for r in self.transitioned if r.rate > (self.fastest_rate or math.inf)]
            if slower:
                edge = (f"the earliest transition at λ = {_fmt(self.fastest_rate / lr)}, "
                        f"later again at λ = {_fmt(min(r.rate for r in slower) / lr)}")
            else:
                edge = f"training fitted up to λ = {_fmt(self.fitted_max_rate / lr)}"
            if self.strong_rate is not None:
                edge += f", not fitted at λ = {_fmt(self.strong_rate / lr)}"
            parts.append(edge + f" (at η = {_fmt(lr)})")
        return "; ".join(parts)

    def summary(self, lr: float | None = None) -> dict[str, Any]:
        """The calibration as plain data (what ``Advice.calibration`` holds)."""
        out: dict[str, Any] = {"runs": len(self.runs), "transitioned": len(self.transitioned)}
        if self.law is not None:
            out.update(slope=self.law.slope, intercept=self.law.intercept,
                       r_squared=self.law.r_squared)
        if lr:
            for key, rate in (("max_usable_weight_decay", self.fitted_max_rate),
                              ("fastest_weight_decay", self.fastest_rate),
                              ("strong_weight_decay", self.strong_rate)):
                out[key] = rate / lr if rate else None
        return out


def calibrate(runs: Iterable[CalibrationRun]) -> Calibration:
    """The :class:`Calibration` of runs of one task (any λ and learning rates; runs
    without a finite positive ηλ bound nothing and are kept for the count).

    The law is fitted on the transitioned runs up to the ηλ of the fastest transition:
    past it the transition comes later again (the fit itself slows near the strong
    side), so those runs are outside the law and the search stops there too. A run that
    transitioned at or before its fit measured no delay (no shortcut to wait on) and stays
    out of the law, as out of the live references (:func:`~nht_monitor.analysis.sweep.
    observed_delay`): alone, it made the law "delay ≈ 0·1/(ηλ)", a transition at the fit
    for every λ (a public Grokfast sweep, where λ 1 had not transitioned by 3,000 steps)."""
    runs = [r for r in runs if math.isfinite(r.rate)]
    done = [r for r in runs if r.delay is not None and r.rate > 0]
    fastest = min(done, key=lambda r: (r.transition_step, r.rate)).rate if done else None
    lawful = [r for r in done if r.rate <= fastest and r.delay > 0] if done else []
    law = DelayLaw.fit([r.rate for r in lawful], [r.delay for r in lawful])
    fitted = [r.rate for r in runs if r.fitted and r.rate > 0]
    failed = [r.rate for r in runs if not r.fitted and r.has_train_metrics and r.rate > 0]
    strong = min((x for x in failed if fitted and x > min(fitted)), default=None)
    below = [x for x in fitted if strong is None or x < strong]
    hi = max(below) if below else None
    if hi is not None and fastest is not None:
        hi = min(hi, fastest)
    return Calibration(runs=runs, law=law, fitted_max_rate=hi, strong_rate=strong,
                       fastest_rate=fastest)


def solve_rate(cal: Calibration, budget: float, low: float) -> float | None:
    """The smallest ηλ in ``[low, cal.fitted_max_rate]``, above every ηλ seen too slow,
    whose bound fits ``budget`` (``None``: none does)."""
    hi = cal.fitted_max_rate
    if cal.law is None or hi is None:
        return None
    lo = max(low, cal.slow_rate(budget) * SLOW_MARGIN)
    if lo > hi:
        return None

    def excess(log_rate: float) -> float:
        return float(cal.forecast(math.exp(log_rate))[1] - budget)

    grid = np.linspace(math.log(lo), math.log(hi), 257)
    ok = cal.forecast(np.exp(grid))[1] <= budget
    if not ok.any():
        return None
    i = int(np.argmax(ok))
    if i == 0:
        return lo
    from scipy import optimize

    root = optimize.brentq(excess, grid[i - 1], grid[i], xtol=1e-10)
    return math.exp(min(root + 1e-9, grid[i]))  # on the feasible side of the root


def advice_budget(settings: AnalyzerSettings | None, header: Any = None) -> int | None:
    """The budget advice is sized for: ``settings.advice_budget_steps``, else the run's
    ``settings.budget_steps`` (``watch(budget_steps=)``), else the header config's
    planned steps (:func:`~nht_monitor.analysis.settings.config_budget`)."""
    budget: float | None = None
    if settings is not None:
        budget = settings.advice_budget_steps or settings.budget_steps
    if budget is None and header is not None:
        budget = config_budget(getattr(header, "config", None))
    return max(1, round(budget)) if budget is not None else None


# ------------------------------------------------------------------ formatting
def _finite_positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e4 and float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _steps(value: float | None) -> str:
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return "never"
    return f"{value:,.0f}"


# ------------------------------------------------------------------ advise
def advise(assessment: Assessment, budget_steps: int | None = None,
           calibration: Calibration | None = None, lr: float | None = None) -> Advice:
    """Return the :class:`Advice` for ``assessment`` (action, suggested λ, forecasts, text).

    ``budget_steps``: total optimizer steps the user can afford (``None``: the steps
    the run has taken, said so). ``calibration``: runs of the same task
    (:func:`calibrate`); without one, only the run's own measured forecast gives a number.
    ``lr``: the learning rate λ is sized at (:func:`sizing_lr`; default: the assessment's,
    the last logged).
    ``Advice.basis`` says where the number came from (``sweep``, ``run``, ``none``);
    with a calibration ``forecast_steps`` is the transition step of a fresh run at the
    suggested λ and ``forecast_bound_steps`` its upper bound. Infinite forecasts are
    ``None`` so the advice stays standard JSON.
    """
    try:
        with np.errstate(all="ignore"):  # absurd numbers end as inf/NaN, handled below
            advice = _advise(assessment, budget_steps, calibration, lr)
    except (ArithmeticError, ValueError) as exc:  # absurd inputs: no advice, never a crash
        return Advice(action="none", budget_steps=budget_steps, basis="none",
                      text=f"No advice: the assessment's numbers are out of range ({exc}).")
    advice.forecast_steps = _finite_or_none(advice.forecast_steps)
    advice.suggested_weight_decay = _finite_or_none(advice.suggested_weight_decay)
    if advice.suggested_weight_decay is None and advice.action in (
            "raise_weight_decay", "lower_weight_decay"):
        advice.action = "none"
    advice.alternatives = {k: _finite_or_none(v) for k, v in advice.alternatives.items()}
    return advice


def _spent_text(a: Assessment) -> str:
    """The advice when the budget ended before the training set was fitted."""
    if "spent_unlearnt" in a.findings:
        return ("No weight-decay advice: the budget is spent and nothing was learnt, while "
                "the norm did not collapse — not a weight-decay problem (the reasons say "
                "how far it got); look at the learning rate, the model or the data first.")
    why = ("its norm collapsed, so weight decay may be what holds the fit back: try a "
           f"smaller λ than {_fmt(a.weight_decay)}, or more steps"
           if "spent_collapsed" in a.findings else
           "give it more steps, or look at the learning rate")
    return ("No λ number: the budget is spent without a fit (the reasons say how far it "
            f"got); {why}.")


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class _Case:
    """What every sizing branch of :func:`_advise` reads: the assessment ``a``; the budget
    and ``target``, the steps λ is sized for (the budget, else the steps taken), as
    ``scope`` words them; the sizing η ``lr`` and the run's λ ``wd``; the advice's
    ``opening`` sentence; the runs given (``cal``; ``None``: none)."""

    a: Assessment
    budget: int | None
    target: int
    scope: str
    lr: float
    wd: float
    opening: str
    cal: Calibration | None


def _advise(a: Assessment, budget: int | None, cal: Calibration | None,
            sizing: float | None) -> Advice:
    if budget is not None and budget <= 0:
        budget = None
    regime = a.regime
    if regime == "clamped":
        return Advice(
            action="none", budget_steps=budget, basis="none",
            text=(f"The weight norm is pinned (clamped at about {_fmt(a.norm)}): weight "
                  "decay does not set the delay here, the held norm does (the delay grows "
                  "exponentially with it). Lower the clamp target to speed the transition "
                  "up, or remove the clamp to get weight-decay advice."))
    if regime == "diverged":
        return Advice(
            action="none", budget_steps=budget, basis="none",
            text=("Training diverged (non-finite or exploding norms, or a fit lost): "
                  "weight-decay advice "
                  f"does not apply. Lower the learning rate (now {_fmt(a.lr)}) or "
                  "clip gradients, then re-assess."))
    if regime == "undetermined" and SPENT & set(a.findings):
        return Advice(action="none", budget_steps=budget, basis="none",
                      text=_spent_text(a))
    if regime == "undetermined":
        return Advice(
            action="none", budget_steps=budget, basis="none",
            text=(f"Not enough evidence yet ({a.n_samples} samples, step "
                  f"{_steps(a.step)}): no weight-decay advice until the regime "
                  "is determined."))
    lr, wd = (sizing if _finite_positive(sizing) else a.lr), a.weight_decay
    if not _finite_positive(lr) or wd is None or not math.isfinite(wd) or wd < 0:
        return Advice(
            action="none", budget_steps=budget, basis="none",
            text=(f"Regime {regime}, but the learning rate ({_fmt(lr)}) or weight decay "
                  f"({_fmt(wd)}) is unknown or zero-lr: cannot size a λ change."))
    if regime == "intermediate" and a.transition.status == "done":
        relapse = a.transition.relapse_val_acc
        held = ("" if relapse is None else
                f" But held-out accuracy has fallen back since (median {relapse:.2f} over the "
                f"last evaluations): keep the checkpoint from the transition (step "
                f"{_steps(a.transition.forecast_step)}) rather than the last one; the norm "
                "law sizes no λ change for this, so look at the learning rate first.")
        return Advice(
            action="keep", budget_steps=budget, forecast_steps=0.0, suggested_weight_decay=wd,
            basis="run",
            text=(f"Intermediate regime: the transition is done; keep λ = {_fmt(wd)}.{held}"))
    target = budget if budget is not None else max(int(a.step or 0), 1)
    scope = (f"the {_steps(budget)}-step budget" if budget is not None else
             f"the {_steps(target)} steps this run has taken (no budget given)")
    opening = _opening(a, wd)
    case = _Case(a, budget, target, scope, lr, wd, opening, cal)
    remaining = _engine_remaining(a, wd)
    if regime == "intermediate" and remaining is not None and (
            budget is None or float(a.step or 0) + remaining <= target):
        return _keep_forecast(case, remaining)
    if cal is not None and cal.law is not None:
        return _calibrated(case, cal)
    if remaining is not None:
        return _from_forecast(case, remaining)
    if regime == "strong" and wd > 0:
        return _strong_uncalibrated(case)
    if regime == "intermediate" and a.transition.median_past_clock:
        early = f"; its early end lies within {scope}" if budget is not None else ""
        return Advice(
            action="keep", budget_steps=budget, suggested_weight_decay=wd, basis="none",
            text=(f"{opening} The forecast's median lies past where the τ clock stops (the "
                  "planned learning rate anneals first; the reasons say how much τ it "
                  f"leaves), so it has no step{early}: keep λ = {_fmt(wd)} and re-assess. "
                  "On the τ clock the delay does not depend on λ: a fresh run at a larger "
                  "λ reaches the median sooner."))
    if regime == "intermediate":
        return Advice(
            action="keep", budget_steps=budget, suggested_weight_decay=wd, basis="none",
            text=(f"{opening} No forecast is available yet and no runs of this task that "
                  "reached the transition were given: keep λ and re-assess."))
    return _at_fit(case) or _no_number(case)


def _opening(a: Assessment, wd: float) -> str:
    if a.rule in ("no_room_after_fit", "room_after_fit"):  # rules 6c, 6d
        room = "too little" if a.regime == "weak" else "room"
        return (f"{a.regime.capitalize()} regime, read before the fit: the budget leaves "
                f"{room} for the law's delay after it at λ = {_fmt(wd)}.")
    if NOT_BORNE_OUT in a.findings:
        chance = a.transition.chance_in_budget
        odds = "" if chance is None else f" ({chance:.0%})"
        return ("Weak regime: held-out accuracy has not moved since the fit and the "
                f"transition is unlikely within the budget{odds}.")
    if a.regime == "weak":
        return (f"Weak regime: the norm ({_fmt(a.norm)}) is not contracting fast enough, "
                "the shortcut persists.")
    if a.regime == "strong":
        return (f"Strong regime: weight decay suppresses learning (norm {_fmt(a.norm)} "
                f"while the loss stays high, λ = {_fmt(wd)}).")
    decaying = a.decay_rate is not None and a.decay_rate > 0
    if "held_up" in a.findings and decaying:  # decaying, but not yet far below its peak
        return (f"Intermediate regime: at λ = {_fmt(wd)} the norm has not come far below "
                "its post-fit peak yet, but a transition is still expected.")
    if "held_up" in a.findings or (a.decay_rate is not None and a.decay_rate <= 0):
        return (f"Intermediate regime: the norm is not contracting at λ = {_fmt(wd)} (not "
                "since the fit, or no longer), but a transition is still expected.")
    return f"Intermediate regime: the norm is contracting at λ = {_fmt(wd)}."


def _engine_remaining(a: Assessment, wd: float) -> float | None:
    """Steps to the engine's transition forecast (from the run's measured decay): one
    still expected, or — ``weak`` because it lies beyond the budget — the one the engine
    kept beside ``not_expected``. A forecast on the τ clock without a step lies past
    where the engine's clock stops (a planned lr annealed first): no step, as the engine
    says — never one converted at the current rate."""
    tr = a.transition
    if NOT_BORNE_OUT in a.findings:  # rule 7e: the run's forecast is not borne out
        return None
    beyond_budget = a.regime == "weak" and tr.status == "not_expected"
    if not (tr.status in ("pending", "imminent") or beyond_budget) or wd <= 0:
        return None
    remaining = tr.steps_remaining
    if remaining is None and tr.forecast_step is not None:
        remaining = tr.forecast_step - float(a.step or 0)
    if remaining is None or not math.isfinite(remaining):
        return None
    return max(float(remaining), 0.0)


def _keep_forecast(c: _Case, remaining: float) -> Advice:
    a, budget, wd, scope, opening = c.a, c.budget, c.wd, c.scope, c.opening
    step = float(a.step or 0)
    at = step + remaining
    alternatives = {"keep": remaining, "halve": 2.0 * remaining, "double": remaining / 2.0}
    text = (f"{opening} This run's measured decay forecasts the transition at step {_steps(at)} "
            f"({_steps(remaining)} steps from now) at λ = {_fmt(wd)}"
            f"{f', within {scope}' if budget is not None else ''}. "
            f"Halving λ would move it to ≈ {_steps(step + 2 * remaining)}; doubling λ to "
            f"≈ {_steps(step + remaining / 2)}, at the risk of entering the strong regime. "
            f"Keep λ = {_fmt(wd)}.")
    return Advice(action="keep", text=text, suggested_weight_decay=wd, budget_steps=budget,
                  forecast_steps=remaining, alternatives=alternatives, basis="run")


def _from_forecast(c: _Case, remaining: float) -> Advice:
    """Rescale the engine's forecast (the run's measured decay) by λ — never to the
    strong side of the runs given (:func:`_below_strong`), nor to a λ a run given was seen
    to be too slow at (``SLOW_MARGIN`` above it, as the sweep's law is)."""
    a, budget, target, scope, lr, wd, cal = c.a, c.budget, c.target, c.scope, c.lr, c.wd, c.cal
    step = float(a.step or 0)
    slow = cal.slow_rate(target) if cal is not None else 0.0

    def past_slow(wanted: float) -> tuple[float, str]:
        """``wanted``, or ``SLOW_MARGIN`` above a λ seen too slow at or above it (said)."""
        if not 0 < wanted * lr <= slow * (1 + 1e-6):
            return wanted, ""
        return SLOW_MARGIN * slow / lr, (f" (a run given at λ = {_fmt(slow / lr)} ran "
                                         f"{_steps(target)} steps without the transition)")

    at = step + remaining
    where = (f"beyond {scope}" if budget is None or at > budget else
             f"within {scope} by its median, but the early end the budget verdict reads "
             "(the reasons say which) lies beyond it")
    base = (f"{c.opening} This run's measured decay forecasts the transition at step "
            f"{_steps(at)} ({_steps(remaining)} steps from now) at λ = {_fmt(wd)}, {where}; "
            "on the τ clock the delay does not depend on λ.")
    alternatives = {"keep": remaining, "double": remaining / 2.0}
    strong = cal.strong_rate if cal is not None and cal.strong_rate is not None else math.inf
    fresh, fresh_slow = past_slow(wd * at / (FORECAST_MARGIN * target))  # from step 0
    fresh_note = ""
    if target > step:
        suggested, slow_note = past_slow(wd * remaining / (FORECAST_MARGIN * (target - step)))
        forecast = remaining * wd / suggested
        how = (f"Raise λ now to ≈ {_fmt(suggested)} (×{_fmt(suggested / wd)}) to bring its "
               f"median to ≈ step {_steps(step + forecast)}{slow_note}")
        if suggested > FRESH_RUN_FACTOR * fresh and fresh * lr < strong:  # little budget left
            alternatives["fresh_run"] = fresh_steps = at * wd / fresh
            fresh_note = (f"a fresh run would need less: λ ≈ {_fmt(fresh)} "
                          f"(×{_fmt(fresh / wd)}), finishing in ≈ {_steps(fresh_steps)} "
                          f"steps{fresh_slow}")
            how += f"; {fresh_note}"
    else:
        suggested = fresh
        forecast = at * wd / suggested
        how = (f"The budget is spent; a fresh run needs λ ≈ {_fmt(suggested)} "
               f"(×{_fmt(suggested / wd)}) to finish in ≈ {_steps(forecast)} "
               f"steps{fresh_slow}")
    if math.isfinite(strong) and suggested * lr >= strong:  # a run given did not fit there
        return _below_strong(c, cal, remaining, base, alternatives, fresh=target <= step,
                             note=fresh_note)
    alternatives["suggested"] = forecast
    return Advice(action="raise_weight_decay", text=f"{base} {how}.",
                  suggested_weight_decay=suggested, budget_steps=budget,
                  forecast_steps=forecast, alternatives=alternatives, basis="run")


def _below_strong(c: _Case, cal: Calibration, remaining: float, base: str,
                  alternatives: dict[str, float | None], fresh: bool, note: str = "") -> Advice:
    """The λ the run's forecast asks for (for this run from now, or a ``fresh`` one) lies
    at or past ``cal.strong_rate``, where a run given did not fit the training set: raise
    λ only to the largest that fitted below it (its forecast said, short of the budget),
    or, with none above this λ, no number. ``base``: the advice's sentences so far."""
    a, budget, lr, wd = c.a, c.budget, c.lr, c.wd
    step = float(a.step or 0)
    strong = (f"Raising λ to bring it within the budget would reach λ = "
              f"{_fmt(cal.strong_rate / lr)}, where training did not fit in the runs given "
              "(the strong side).")
    hi = cal.fitted_max_rate
    if hi is None or hi <= lr * wd * (1 + 1e-6):
        return Advice(
            action="none", budget_steps=budget, basis="run", alternatives=alternatives,
            calibration=cal.summary(lr),
            text=(f"{base} {strong} No λ between {_fmt(wd)} and it was seen to fit: give "
                  "the run more steps, or try a λ between them and advise again"
                  f"{f'; {note}' if note else ''}."))
    suggested = hi / lr
    target = budget if budget is not None else step
    if not fresh:  # this run, from now
        forecast = remaining * wd / suggested
        reach = step + forecast
        median = f"its median ≈ step {_steps(reach)}"
    else:  # a fresh run (the budget spent, or too little of it left)
        forecast = reach = (step + remaining) * wd / suggested
        median = f"a fresh run's median ≈ step {_steps(reach)}"
    late = ("still past the budget — give more steps as well" if reach > target else
            "within the budget by its median, with less margin")
    alternatives["suggested"] = forecast
    return Advice(
        action="raise_weight_decay", suggested_weight_decay=suggested, budget_steps=budget,
        forecast_steps=forecast, alternatives=alternatives, basis="run",
        calibration=cal.summary(lr),
        text=(f"{base} {strong} Raise λ only to ≈ {_fmt(suggested)} (×{_fmt(suggested / wd)}), "
              f"the largest that fitted: {median}, {late}{f'; {note}' if note else ''}."))


def _calibrated(c: _Case, cal: Calibration) -> Advice:
    """The λ from the sweep's delay law ``cal`` (see the module docstring)."""
    a, budget, target, scope, lr, wd, opening = (c.a, c.budget, c.target, c.scope, c.lr, c.wd,
                                                 c.opening)
    rate_now = lr * wd
    rates = [r.rate for r in cal.runs if r.rate > 0]
    low = min([*rates, rate_now]) if rate_now > 0 else min(rates)
    if a.regime == "strong":
        low = min(rates)
    found = solve_rate(cal, target, low)
    where = cal.describe(lr)
    summary = cal.summary(lr)
    hi = cal.fitted_max_rate
    slow = cal.slow_rate(target)
    alternatives: dict[str, float | None] = {}
    if rate_now > 0 and hi is not None and rate_now <= hi:
        alternatives["keep"] = float(cal.forecast(rate_now)[0])
    if hi is not None:
        alternatives["largest_fitted"] = float(cal.forecast(hi)[0])
    if found is None:
        fastest = ""
        if hi is not None:
            f_hi, b_hi = (float(v) for v in cal.forecast(hi))
            fastest = (f" The largest usable λ, {_fmt(hi / lr)}, forecasts the "
                       f"transition at step {_steps(f_hi)} (bound {_steps(b_hi)}).")
        slow_note = (f" Runs at λ ≤ {_fmt(slow / lr)} ran {_steps(target)} steps without it."
                     if slow > 0 else "")
        return Advice(
            action="none", budget_steps=budget, basis="sweep", calibration=summary,
            alternatives=alternatives,
            text=(f"{opening} Calibrated on {where}. No λ inside the range where training "
                  f"was seen to fit and the law holds reaches the transition within {scope} "
                  "with margin."
                  f"{fastest}{slow_note} Give more steps, or run a larger λ to see whether "
                  "training still fits there, and advise again with that run."))
    suggested = found / lr
    forecast, bound = (float(v) for v in cal.forecast(found))
    if 0 < rate_now <= slow:
        law_now = float(cal.forecast(rate_now)[0])
        ran = f". Runs at λ ≤ {_fmt(slow / lr)} ran {_steps(target)} steps without the transition"
        where += (f"{ran}, although the law puts it at step ≈ {_steps(law_now)} for "
                  f"λ = {_fmt(wd)}: the law is optimistic here, re-assess after the change"
                  if law_now <= target else
                  f"{ran}, as the law expects (it puts it at step ≈ {_steps(law_now)} for "
                  f"λ = {_fmt(wd)})")
    alternatives["suggested"] = forecast
    if a.regime != "strong" and rate_now > 0 and found <= rate_now * (1 + 1e-6):
        action, verb = "keep", f"Keep λ = {_fmt(wd)}"
        suggested = wd
        forecast, bound = (float(v) for v in cal.forecast(rate_now))
    elif found > rate_now:
        times = f" (×{_fmt(suggested / wd)})" if wd > 0 else ""
        action = "raise_weight_decay"
        verb = f"Raise weight decay to λ ≈ {_fmt(suggested)}{times}"
    else:
        action, verb = "lower_weight_decay", (f"Lower weight decay to λ ≈ {_fmt(suggested)} "
                                              f"(÷{_fmt(wd / suggested)})")
    text = (f"{opening} Calibrated on {where}. {verb} at η = {_fmt(lr)}: a fresh run's "
            f"transition forecast at step ≈ {_steps(forecast)} "
            f"({CALIBRATION_QUANTILE:.0%} bound {_steps(bound)}), within {scope}.")
    return Advice(action=action, text=text, suggested_weight_decay=suggested,
                  budget_steps=budget, forecast_steps=forecast, forecast_bound_steps=bound,
                  alternatives=alternatives, basis="sweep", calibration=summary)


def _strong_uncalibrated(c: _Case) -> Advice:
    a, wd = c.a, c.wd
    # Under AdamW the equilibrium norm scales like λ^(-1/2): to bring the collapsed norm
    # back to the norm the network needs, divide λ by (needed / current)^2.
    v_needed = max((x for x in (a.v_peak, a.cns.v_st) if _finite_positive(x)), default=0.0)
    if "from_init" in a.findings:  # an initialization is no equilibrium of any λ
        factor = 10.0
        basis = ("the norm fell from its initialization, no equilibrium norm to size λ on: "
                 "an order of magnitude")
    elif _finite_positive(a.norm) and v_needed > a.norm:
        factor = min(v_needed / a.norm, MAX_STRONG_FACTOR) ** 2
        basis = (f"the norm collapsed from {_fmt(v_needed)} to {_fmt(a.norm)}; the "
                 "equilibrium norm scales like λ^-1/2")
    else:
        factor = 10.0
        basis = "no collapse factor measured, an order of magnitude"
    factor = min(max(factor, MIN_STRONG_FACTOR), MAX_STRONG_FACTOR)
    suggested = wd / factor
    missing = ("none of the runs given reached the transition" if c.cal is not None else
               "no runs of this task that reached the transition were given")
    text = (f"{c.opening} Lower λ from {_fmt(wd)} to ≈ {_fmt(suggested)} "
            f"(÷{_fmt(wd / suggested)}; {basis}). No delay forecast at that λ: {missing}; "
            "advise again with a run at the lowered λ (and others of the task) to size it "
            "for the budget.")
    return Advice(action="lower_weight_decay", text=text, suggested_weight_decay=suggested,
                  budget_steps=c.budget, basis="run")


def _at_fit(c: _Case) -> Advice | None:
    """Read once the runs given gave no delay law: a run given transitioned at or before
    its fit within the target at a λ above this run's — the smallest such λ, as it ran (a
    public Grokfast sweep: λ 3 transitioned at its fit, 1,710 steps; λ 1 and 0.3 had not by
    3,000). ``None``: none did."""
    cal, rate = c.cal, c.lr * c.wd
    if cal is None:
        return None
    ran = [r for r in cal.transitioned if r.rate > rate and r.transition_step <= c.target]
    if not ran:
        return None
    best = min(ran, key=lambda r: r.rate)
    suggested = best.rate / c.lr
    times = f" (×{_fmt(suggested / c.wd)})" if c.wd > 0 else ""
    text = (f"{c.opening} No delay law: {_undelayed(cal, c.lr)}. At λ = {_fmt(suggested)} a run "
            f"reached it at step {_steps(best.transition_step)}, within {c.scope}: raise "
            f"weight decay to λ ≈ {_fmt(suggested)}{times} at η = {_fmt(c.lr)}, the smallest "
            "λ above this run's that did.")
    return Advice(action="raise_weight_decay", text=text, suggested_weight_decay=suggested,
                  budget_steps=c.budget, forecast_steps=best.transition_step, basis="sweep",
                  calibration=cal.summary(c.lr))


def _undelayed(cal: Calibration, lr: float) -> str:
    """The runs given that transitioned, when none the law may read (up to the earliest
    transition's ηλ) came after a delay — naming that λ when a larger one did."""
    reached = f"{len(cal.transitioned)} of the {len(cal.runs)} runs given reached the transition"
    if all(r.delay == 0.0 for r in cal.transitioned) or cal.fastest_rate is None:
        return f"{reached}, none after a delay (at or before the fit)"
    return (f"{reached}, none up to λ = {_fmt(cal.fastest_rate / lr)} (the earliest "
            "transition) after a delay (at or before the fit)")


def _no_number(c: _Case) -> Advice:
    """No measured delay anywhere: say what is missing and how to get it."""
    a, budget, target, lr, wd, opening, cal = (c.a, c.budget, c.target, c.lr, c.wd, c.opening,
                                               c.cal)
    if NOT_BORNE_OUT in a.findings:
        own = ("this run's own forecast is not borne out (held-out accuracy flat since the "
               "fit), so it gives no delay to size λ on")
    elif a.transition.forecast_tau is not None:
        own = ("this run's forecast lies past the end of its planned learning rate, so it "
               "gives no delay in steps")
    elif a.decay_rate is not None and a.decay_rate > 0:
        own = ("this run has not shown a delay (no transition, and its norm has not come "
               "far enough below its post-fit peak to measure V_sc/V_st)")
    else:
        own = ("this run has not shown a delay (no transition, and its norm is not seen "
               "decaying, so neither V_sc/V_st nor a decay rate is measured)")
    if cal is None:
        others = "no runs of the same task were given"
    elif cal.transitioned:
        others = _undelayed(cal, lr)
    else:
        others = (f"none of the {len(cal.runs)} runs given reached the transition "
                  "(held-out accuracy ≥ done_val_acc)")
        if cal.fitted_max_rate is not None:
            others += f", up to λ = {_fmt(cal.fitted_max_rate / lr)} where training fitted"
    if cal is not None and cal.fitted_max_rate is not None:
        longest = max(r.steps for r in cal.runs)
        edge = (f" or λ between {_fmt(cal.fitted_max_rate / lr)} and "
                f"{_fmt(cal.strong_rate / lr)} (where training stopped fitting)"
                if cal.strong_rate is not None else
                f" or λ above {_fmt(cal.fitted_max_rate / lr)}")
        how = (f"To get one, run the largest λ that fitted, {_fmt(cal.fitted_max_rate / lr)}, "
               f"for longer than {_steps(longest)} steps{edge}, then advise again with "
               "those logs.")
    else:
        grid = ", ".join(_fmt(wd * k) for k in (10, 30, 100)) if wd > 0 else "0.01, 0.1, 1"
        how = (f"To get one, run 2–3 larger λ at η = {_fmt(lr)} (e.g. λ = {grid}) for about "
               f"{_steps(target)} steps each, then advise them together: "
               f"nht-monitor advise RUN.jsonl THEIR.jsonl … --budget-steps {target}.")
    text = f"{opening} No λ number: sizing λ needs a measured delay, and {own}; {others}. {how}"
    return Advice(action="none", text=text, budget_steps=budget, basis="none",
                  calibration=cal.summary(lr) if cal is not None else None)
