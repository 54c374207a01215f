"""The gate's persistent index: one factory, :func:`open_store`, picks the backend from the
index location:

- a file path: :class:`SQLiteStore`, embedded, no server (SQLite in WAL mode, synchronous
  FULL: an acknowledged add survives ``kill -9`` and power loss; writers serialise on a
  ``BEGIN IMMEDIATE`` transaction, so two processes can add to one index);
- ``redis://host:port/db``: :class:`~dedup.store.redis.RedisStore`, for several gate workers
  sharing one index (``pip install 'dedup[redis]'``, imported only when asked for).

Every backend subclasses :class:`Store` (:mod:`dedup.store.base`, where the contract is
written once), stores the same things and passes the same test suite (``tests/test_store.py``).

The modules: ``base`` (the contract, :class:`StoredDocument`, shared helpers), ``keys`` (how
64-bit keys are written), ``sqlite`` (the embedded store), ``sqlite_schema`` (its tables and
upgrades), ``frequencies`` (its cache of document frequencies), ``redis`` (the shared store),
``redis_scripts`` (its key layout and Lua scripts), ``redis_schema`` (its layout version and
upgrades).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .base import ConflictError, Store, StoredDocument, display_location, keyed_terms
from .sqlite import SQLiteStore
from .sqlite_schema import SCHEMA_VERSION

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


def open_store(location: str | Path, *, create: bool = True) -> Store:
    """Open the index at ``location``, a file path or a ``redis://`` URL, or create it there
    when there is none and ``create`` is true (a new SQLite index's folder must exist).

    Raises:
        ConfigError: an unknown URL scheme.
        MissingIndexError: no index there, and ``create`` is false.
        StoreError: the index cannot be opened.
    """
    text = str(location)
    if text.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        return RedisStore(text, create=create)
    if "://" in text:
        raise ConfigError(
            f"unknown index location {text!r}: give a file path (SQLite) or redis://host:port/db"
        )
    return SQLiteStore(text, create=create)
