"""The gate's persistent index: one factory, :func:`open_store`, picks the backend from the
index location:

- a file path: :class:`SQLiteStore`, embedded, no server (SQLite in WAL mode, synchronous
  FULL: an acknowledged add survives ``kill -9`` and power loss; writers serialise on a
  ``BEGIN IMMEDIATE`` transaction, so two processes can add to one index);
- ``redis://host:port/db``: :class:`~dedup.store.redis.RedisStore`, for several gate workers
  sharing one index (``pip install 'dedup[redis]'``, imported only when asked for).

Every backend stores the same things and passes the same test suite.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .base import (
    SCHEMA_VERSION,
    ConflictError,
    SQLiteStore,
    Store,
    StoredDocument,
    display_location,
    keyed_terms,
)

__all__ = [
    "SCHEMA_VERSION",
    "ConflictError",
    "SQLiteStore",
    "Store",
    "StoredDocument",
    "display_location",
    "keyed_terms",
    "open_store",
]


def open_store(location: str | Path) -> Store:
    """Open (or create) the index at ``location``: a file path or a ``redis://`` URL.

    Raises:
        ConfigError: an unknown URL scheme.
        StoreError: the index cannot be opened.
    """
    text = str(location)
    if text.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        return RedisStore(text)
    if "://" in text:
        raise ConfigError(
            f"unknown index location {text!r}: give a file path (SQLite) or redis://host:port/db"
        )
    return SQLiteStore(text)
