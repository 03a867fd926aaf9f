"""Distributed (gloo, 2 processes) tests of the sampler and the exporter."""
