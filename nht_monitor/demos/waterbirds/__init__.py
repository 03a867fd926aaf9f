"""Waterbirds (WILDS ``waterbirds_v1.0`` layout) and its stand-in: worst-group accuracy, CNS."""
