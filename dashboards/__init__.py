"""Grafana dashboards of nht-monitor, written in Python with grafana-foundation-sdk.

``python -m dashboards.generate`` (or ``nht-monitor dashboards generate``) renders
them to ``dashboards/json/``; ``provisioning/`` makes Grafana load that folder;
``nht-monitor dashboards push`` uploads the JSON to a running Grafana.
See dashboards/README.md for what each dashboard shows.
"""
