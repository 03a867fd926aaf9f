"""The summary table every demo prints at the end."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: ``-`` for None/NaN, ints as is, floats with ``digits`` significant."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        if abs(value) >= 10 ** digits:
            return f"{value:.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Plain-text table; ``columns`` are ``(key, title)`` pairs, cells via :func:`fmt`."""
    cells = [[title for _, title in columns]]
    cells += [[fmt(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def forecast_text(forecast: float | None, made_at: int | None, actual: int | None) -> str:
    """``"1520 @800 (err +4%)"``: forecast step, when it was made, error against actual."""
    if forecast is None:
        return "-"
    text = f"{forecast:.0f}"
    if made_at is not None:
        text += f" @{made_at}"
    if actual:
        text += f" ({(forecast - actual) / actual:+.0%})"
    return text
