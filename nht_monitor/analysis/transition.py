"""The one definition of the transition (the grok step), used everywhere.

**The transition step is the first evaluation at which the held-out accuracy reaches
``AnalyzerSettings.done_val_acc`` (0.9).** It is what the rule engine reports as
``transition.status == "done"``, what backtest and the scorecard score forecasts against,
what the demos print as their grok step, and what the report and the exporter show. A
later dip (a loss spike) does not move it: the run has shown it can generalise.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DEFINITION = ("transition (grok) step: the first evaluation at which held-out accuracy "
              "reaches done_val_acc (default 0.9)")
"""The definition in one line, as the tables and reports print it."""


def first_reached(step: npt.ArrayLike, val: npt.ArrayLike, level: float) -> float | None:
    """The first ``step`` whose ``val`` is ≥ ``level`` (NaN rows never count); ``None``
    when no row reaches it."""
    val = np.asarray(val, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        hit = val >= level
    if not hit.any():
        return None
    return float(np.asarray(step, dtype=np.float64)[int(np.argmax(hit))])
