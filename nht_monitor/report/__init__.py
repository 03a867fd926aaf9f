"""``nht-monitor report``: one self-contained HTML file for people without Grafana.

``build_report(paths, output, png_dir=None, workers=None) -> ReportSummary`` reads each
run log, assesses it (offline analysis, else the last live assessment), draws the
figures with matplotlib (Agg) and writes one HTML file whose images are embedded as
base64 PNG (it opens without network). With several runs a sweep page follows: norm
curves coloured by λ, delay vs 1/(ηλ) with its fit and the P1–P6 scorecard.
``png_dir`` also writes every figure as a PNG file. Drawing is most of the time: on
Linux the run sections are drawn by forked worker processes, one per CPU
(``workers=1``: all in this process).
"""

from __future__ import annotations

from nht_monitor.report.build import ReportSummary, build_report

__all__ = ["ReportSummary", "build_report"]
