"""Grafana dashboards of nht-monitor, written in Python with grafana-foundation-sdk.

``python -m nht_monitor.dashboards.generate`` (or ``nht-monitor dashboards generate``) renders
them to ``deploy/grafana/dashboards/``; ``provisioning/`` makes Grafana load that folder;
``nht-monitor dashboards push`` uploads the JSON to a running Grafana.
See docs/DASHBOARDS.md for what each dashboard shows.
"""
