"""Reading the committed dashboards: panels, targets, PromQL and template substitution."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
JSON_DIR = ROOT / "deploy" / "grafana" / "dashboards"

METRIC_RE = re.compile(r"\b(nht_[a-z0-9_]+)\b")
SELECTOR_RE = re.compile(r"\b(nht_[a-z0-9_]+)\{([^}]*)\}")
LABEL_RE = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")


def committed() -> dict[str, dict[str, Any]]:
    """``{file name: dashboard}`` of every committed dashboard JSON."""
    return {p.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(JSON_DIR.glob("*.json"))}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in board.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def data_panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Panels that draw data (rows are layout containers without queries)."""
    return (p for p in panels(board) if p.get("type") != "row")


def expressions(board: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(panel title, refId, expr)`` of every query of every panel."""
    for panel in data_panels(board):
        for target in panel.get("targets") or []:
            yield panel.get("title", ""), target.get("refId", ""), target.get("expr", "")


def variables(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in board.get("templating", {}).get("list", [])}


def substitute(expr: str, values: dict[str, str]) -> str:
    """``expr`` with Grafana template variables (``$x``, ``${x}``) replaced by ``values``."""
    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no test value for template variable ${name} in {expr!r}")
        return values[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", repl, expr)
