"""The one small exception hierarchy the library raises.

The CLI turns a :class:`DedupError` into a one-line ``Error: ...`` message and an exit code;
library code never prints or exits.
"""

from __future__ import annotations


class DedupError(Exception):
    """Base class of every error dedup raises on purpose."""


class InputError(DedupError):
    """An input file or record cannot be read as an article."""


class NoDocumentsError(InputError):
    """Not one document could be read; ``skipped`` says why for each input."""

    def __init__(self, message: str, skipped: list | None = None) -> None:
        super().__init__(message)
        self.skipped = skipped or []


class ConfigError(DedupError):
    """A parameter is out of range or inconsistent with another."""


class MissingExtraError(ConfigError):
    """An optional part (the HTTP service, Redis, Spark) whose packages are not installed:
    its message says which ``pip install 'dedup[...]'`` brings them."""


class StoreError(DedupError):
    """A persistent index cannot be opened, read or written."""


class MissingIndexError(StoreError):
    """No index at the location given, and none was to be created (a mistyped path must
    not pass every article as new)."""
