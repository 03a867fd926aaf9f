"""Reusable helpers that start real servers for tests."""
