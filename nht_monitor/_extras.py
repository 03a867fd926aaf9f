"""Optional dependencies: a missing one is named with the extra that installs it."""

from __future__ import annotations

import importlib.util


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the pip extra."""


def require_extra(extra: str, *modules: str) -> None:
    """Raise :class:`MissingExtraError` unless every one of ``modules`` can be imported."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(
            f"{', '.join(missing)} is not installed: pip install 'nht-monitor[{extra}]'",
            name=missing[0])
