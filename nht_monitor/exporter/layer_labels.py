"""Layer-label cardinality: which ``layer`` label each layer's norm is exported under.

``all``: every layer is its own label. ``top``: layers grouped by their top-level module
(the name before the first dot). ``modules``: the first ``max_layers`` layers (in header
order) keep their own label, the rest are aggregated into ``layer="<other>"``.
A group's norm is the L2 norm of its members: the square root of their summed squares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from nht_monitor.exporter.metrics import OTHER_LAYERS


def group_of(layers: Sequence[str], mode: str, max_layers: int) -> dict[str, str] | None:
    """Map each layer to its exported label; ``None`` means every layer is its own label."""
    if mode == "all" or (mode == "modules" and len(layers) <= max_layers):
        return None
    if mode == "top":
        return {layer: layer.split(".", 1)[0] for layer in layers}
    if mode == "modules":
        return {layer: (layer if index < max_layers else OTHER_LAYERS)
                for index, layer in enumerate(layers)}
    raise ValueError(f"unknown layers mode {mode!r}: expected 'all', 'top' or 'modules'")


class LayerGrouper:
    """Groups per-layer norms for export; caches the mapping per layer list."""

    def __init__(self, mode: str = "all", max_layers: int = 200) -> None:
        group_of((), mode, max_layers)  # validate now: a clear error at construction
        self.mode = mode
        self.max_layers = max_layers
        self._cache: dict[tuple[str, ...], dict[str, str] | None] = {}

    def mapping(self, layers: Sequence[str]) -> dict[str, str] | None:
        """The label of each layer (``None``: identity), cached."""
        key = tuple(layers)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = group_of(key, self.mode, self.max_layers)
        return self._cache[key]

    def group(self, norms: Mapping[str, float],
              layer_order: Sequence[str] | None = None) -> Mapping[str, float]:
        """``{label: norm}``: the norms as exported (grouped by the mode).

        ``layer_order`` (the header's layer list) fixes which layers ``modules`` keeps;
        layers missing from it go to ``<other>`` in that mode, to themselves otherwise.
        """
        mapping = self.mapping(layer_order if layer_order else list(norms))
        if mapping is None:
            return norms
        squares: dict[str, float] = {}
        fallback = OTHER_LAYERS if self.mode == "modules" else None
        for layer, value in norms.items():
            label = mapping.get(layer)
            if label is None:
                label = fallback or layer.split(".", 1)[0]
            squares[label] = squares.get(label, 0.0) + value * value
        return {label: math.sqrt(total) for label, total in squares.items()}
