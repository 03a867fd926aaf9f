"""The rule engine: weight-decay regime and transition forecast from a run's norms.

Pure numpy/scipy + pydantic (no torch import). Live inside :func:`nht_monitor.watch`
(:meth:`Analyzer.observe` / :meth:`Analyzer.assess`), offline on a saved log
(:meth:`Analyzer.analyze`), and across a λ sweep (:func:`scorecard`). See
docs/FORECAST.md for the rules, the thresholds and their calibration.
"""

from nht_monitor.analysis.analyzer import Analyzer
from nht_monitor.analysis.series import Series, series_from_samples
from nht_monitor.analysis.settings import AnalyzerSettings

__all__ = ["Analyzer", "AnalyzerSettings", "Series", "series_from_samples"]
