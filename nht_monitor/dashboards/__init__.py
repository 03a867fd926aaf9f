"""Grafana dashboards of nht-monitor, written in Python with grafana-foundation-sdk.

``nht-monitor dashboards generate`` (or ``python -m nht_monitor.dashboards.generate``)
renders them to JSON (committed in ``deploy/grafana/dashboards/`` of the checkout, which
the provisioning in ``deploy/grafana/provisioning/`` makes Grafana load);
``nht-monitor dashboards push`` uploads them to a running Grafana.
See docs/DASHBOARDS.md for what each dashboard shows.
"""
