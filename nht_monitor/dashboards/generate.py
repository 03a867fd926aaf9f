"""Render the dashboards to JSON: ``python -m nht_monitor.dashboards.generate [--out DIR] [--check]``.

Writes ``<uid>.json`` per dashboard into ``--out`` (default: the current directory).
The committed copies live in the checkout's ``deploy/grafana/dashboards/`` (what Grafana
provisioning mounts); ``--check`` writes nothing and exits 1 when a file there differs
from what the generator produces now (``--check`` without ``--out`` compares with the
checkout's ``deploy/grafana/dashboards/`` when run from a source checkout).
Needs the ``[dashboards]`` extra (``grafana-foundation-sdk``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from nht_monitor._extras import MissingExtraError, require_extra

CHECKOUT_ROOT = Path(__file__).resolve().parents[2]
"""The source checkout this package runs from (when it is one)."""

COMMITTED_SUBDIR = Path("deploy") / "grafana" / "dashboards"
"""Where the generated dashboards are committed, relative to the checkout root."""

SDK_MODULE = "grafana_foundation_sdk"


def checkout_json_dir() -> Path | None:
    """``deploy/grafana/dashboards`` of the source checkout this package is imported
    from, or ``None`` for an installed package (no checkout around it)."""
    if not (CHECKOUT_ROOT / "pyproject.toml").is_file():
        return None
    directory = CHECKOUT_ROOT / COMMITTED_SUBDIR
    return directory if directory.is_dir() else None


def _builders() -> list[Callable[[], object]]:
    require_extra("dashboards", SDK_MODULE)
    with warnings.catch_warnings():
        # the SDK flags the (still current) v1 dashboard model as deprecated at import
        warnings.simplefilter("ignore", DeprecationWarning)
        from nht_monitor.dashboards import (
            layers_dashboard,
            overview_dashboard,
            sweep_dashboard,
        )
    return [overview_dashboard.build, layers_dashboard.build, sweep_dashboard.build]


def render_all() -> dict[str, str]:
    """``{file name: JSON text}`` of every dashboard, byte for byte as committed."""
    builders = _builders()
    from grafana_foundation_sdk.cog.encoder import JSONEncoder

    out: dict[str, str] = {}
    for build in builders:
        model = build().build()
        _assign_panel_ids(model)
        text = json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True,
                          ensure_ascii=False) + "\n"
        out[f"{model.uid}.json"] = text
    return out


def render_dashboards() -> list[dict]:
    """Every dashboard as a JSON object (what ``dashboards push`` uploads without ``--dir``)."""
    return [json.loads(text) for _name, text in sorted(render_all().items())]


def _assign_panel_ids(model: object) -> None:
    """Number panels 1.. in layout order (Grafana needs unique ids per dashboard)."""
    next_id = 1
    for panel in model.panels or []:
        panel.id_val = next_id
        next_id += 1
        for inner in getattr(panel, "panels", None) or []:
            inner.id_val = next_id
            next_id += 1


def write_all(directory: Path) -> list[Path]:
    """Write every dashboard into ``directory``; returns the paths written."""
    rendered = render_all()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in rendered.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def stale_files(directory: Path) -> list[str]:
    """Names of dashboards whose file in ``directory`` is missing or differs."""
    stale = []
    for name, text in render_all().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def check_dir(out: Path | None) -> Path:
    """The directory ``--check`` compares with: ``out``, else the checkout's committed
    dashboards; :class:`ValueError` when neither is there."""
    if out is not None:
        return out
    committed = checkout_json_dir()
    if committed is None:
        raise ValueError("--check needs --out DIR outside a source checkout (the committed "
                         f"dashboards are in {COMMITTED_SUBDIR.as_posix()}/ of a checkout)")
    return committed


def run(out: Path | None, check: bool, prog: str) -> int:
    """``generate`` / ``generate --check``; prints one line per file; returns the exit code."""
    try:
        if check:
            directory = check_dir(out)
            stale = stale_files(directory)
            for name in stale:
                print(f"stale: {directory / name} (regenerate: {prog} --out {directory})")
            return 1 if stale else 0
        for path in write_all(out if out is not None else Path.cwd()):
            print(path)
        return 0
    except (MissingExtraError, ValueError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    prog = "python -m nht_monitor.dashboards.generate"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: the current directory; with "
                             "--check: the checkout's deploy/grafana/dashboards)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing")
    args = parser.parse_args(argv)
    return run(args.out, args.check, prog)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
