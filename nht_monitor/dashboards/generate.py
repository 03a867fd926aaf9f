"""Render the dashboards to JSON: ``python -m nht_monitor.dashboards.generate [--check]``.

Writes ``deploy/grafana/dashboards/<uid>.json`` (the files Grafana provisioning and
``nht-monitor dashboards push`` read). ``--check`` writes nothing and exits 1 when a
committed file differs from what the generator produces now.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

JSON_DIR = Path(__file__).resolve().parent / "json"
"""Where the generated dashboards are committed."""


def _builders() -> list[Callable[[], object]]:
    with warnings.catch_warnings():
        # the SDK flags the (still current) v1 dashboard model as deprecated at import
        warnings.simplefilter("ignore", DeprecationWarning)
        from nht_monitor.dashboards import layers_dashboard, overview_dashboard, sweep_dashboard
    return [overview_dashboard.build, layers_dashboard.build, sweep_dashboard.build]


def render_all() -> dict[str, str]:
    """``{file name: JSON text}`` of every dashboard, as committed under ``json/``."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder

    out: dict[str, str] = {}
    for build in _builders():
        model = build().build()
        _assign_panel_ids(model)
        text = json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True,
                          ensure_ascii=False) + "\n"
        out[f"{model.uid}.json"] = text
    return out


def _assign_panel_ids(model: object) -> None:
    """Number panels 1.. in layout order (Grafana needs unique ids per dashboard)."""
    next_id = 1
    for panel in model.panels or []:
        panel.id_val = next_id
        next_id += 1
        for inner in getattr(panel, "panels", None) or []:
            inner.id_val = next_id
            next_id += 1


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    """Write every dashboard into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def stale_files(directory: Path = JSON_DIR) -> list[str]:
    """Names of dashboards whose file in ``directory`` is missing or differs."""
    stale = []
    for name, text in render_all().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m nht_monitor.dashboards.generate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=JSON_DIR, help="output directory")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"stale: {args.out / name} (run python -m nht_monitor.dashboards.generate)")
        return 1 if stale else 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
