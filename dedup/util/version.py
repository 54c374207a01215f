"""dedup's version, as the report, the HTTP service and ``dedup --version`` show it."""

from __future__ import annotations

from importlib import metadata


def dedup_version() -> str:
    """The installed package's version (pyproject.toml's), or ``0+unknown`` when dedup runs
    from a source tree that was never installed."""
    try:
        return metadata.version("dedup")
    except metadata.PackageNotFoundError:
        return "0+unknown"
