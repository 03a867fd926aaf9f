"""Norm-clamp study on modular arithmetic: the held weight norm sets the grokking delay.

Python API::

    from nht_monitor.demos.norm_clamp import ClampStudyConfig, run_study, fit_exponential

    study = run_study(ClampStudyConfig(rhos=(0.8, 0.9, 1.0, 1.1, 1.2)))
    study.fit.slope, study.fit.r_squared              # log(grok step) vs ρ, no LayerNorm
    study.layernorm_fit.slope                         # the same with a LayerNorm model

A free run of the plain MLP gives ``W_c``, the weight norm (every weight except biases
and normalisation layers: what :class:`nht_monitor.NormClamp` holds) at its grokking
step; then one run per ρ holds that norm at ``ρ·W_c`` for the whole run
(``watch(..., norm_clamp={"target": ρ·W_c})``) and records its grokking step, for the
plain MLP and for the same MLP with a LayerNorm after its hidden layer (same norms). :func:`fit_exponential` fits ``log T = a + α·ρ``.
Runs come from :func:`nht_monitor.demos.modular_arithmetic.train_run`.

``python -m nht_monitor.demos.norm_clamp`` runs it (``--help``); ``python -m nht_monitor.demos.norm_clamp advice``
validates :func:`nht_monitor.analysis.advice.advise` on a weak-regime run.
"""

from nht_monitor.demos.norm_clamp.study import (
    ClampPoint, ClampStudy, ClampStudyConfig, ExpFit, SeriesResult, fit_exponential, run_study)

__all__ = ["ClampPoint", "ClampStudy", "ClampStudyConfig", "ExpFit", "SeriesResult",
           "fit_exponential", "run_study"]
