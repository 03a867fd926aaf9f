"""Pieces shared by every demo: device choice, CLI options, progress bar, summary table."""
