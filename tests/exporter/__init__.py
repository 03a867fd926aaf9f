"""Tests of the Prometheus exporter, sidecar, rules and configs."""
