"""The embedded store: one SQLite file in WAL mode, no server.

An acknowledged add survives ``kill -9`` and power loss (synchronous FULL); writers serialise
on a ``BEGIN IMMEDIATE`` transaction, so several processes can add to one index. The tables
are in :mod:`dedup.store.sqlite_schema`, the cache of document frequencies in
:mod:`dedup.store.frequencies`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingIndexError, StoreError
from ..util.arrays import unique
from . import sqlite_schema
from .base import ADDED, CONFLICT, EXISTS, UPDATED, Store, StoredDocument, chunks, settings_json
from .frequencies import FrequencyCache
from .keys import signed

# Ids, keys or terms per statement (SQLite limits the parameters of one statement).
_CHUNK = 500
# The number of documents is kept in the meta table: COUNT(*) reads the whole table, and
# every check's document frequencies need the count.
_COUNT = "SELECT CAST(value AS INTEGER) FROM meta WHERE key='count'"
_COUNT_BY = "UPDATE meta SET value=CAST(value AS INTEGER) + ? WHERE key='count'"
# Documents sharing band keys, with the number of keys shared. From ``kept``, keys held by
# more than a bucket limit are left out (its parameters: the limit + 1, then the limit): a
# key's documents are counted up to the limit + 1 on its stretch of the (key, seq) B-tree, so
# an oversized bucket costs that many steps, not its size.
# The ids come from the covering index ``documents_ids`` (seq, id), not from the documents
# table, whose rows (text and features, kilobytes each) spread a large index over gigabytes
# that a lookup would read.
_CANDIDATES_SQL = """WITH wanted(key) AS (VALUES {marks}){kept}
SELECT d.id, COUNT(*) FROM {keys} w JOIN bands b ON b.key = w.key
JOIN documents d INDEXED BY documents_ids ON d.seq = b.seq GROUP BY d.id"""
_KEPT_SQL = """,
kept AS (
    SELECT key FROM wanted
    WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM bands b WHERE b.key = wanted.key LIMIT ?)) <= ?
)"""


def _existing_index(path: Path) -> None:
    """Refuse a path that holds no index, changing nothing there (read-only).

    Raises:
        MissingIndexError: no file, or a file without the index's tables.
    """
    if not path.is_file():
        raise MissingIndexError(f"no index at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the index {path}: {exc}") from exc
    if found is None:
        raise MissingIndexError(f"{path} is not a dedup index (it has no meta table)")


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection in WAL mode with synchronous FULL (durable acknowledged writes)."""
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    # Switching to WAL needs the file to itself, and SQLite answers "database is locked" at
    # once, without its busy handler, while another process opening a new index switches it
    # too: retried until ``timeout``.
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    conn.execute("PRAGMA synchronous=FULL")
    return conn


@dataclass
class _Writes:
    """One write transaction (:meth:`SQLiteStore._writing`): documents are inserted and
    deleted as it goes; the inserted documents' band rows and term counts are written
    together at its end (:meth:`flush`: each term once with its count in the batch, not once
    per document, in key order)."""

    conn: sqlite3.Connection
    bands: list[tuple[int, int]] = field(default_factory=list)
    terms: Counter[int] = field(default_factory=Counter)
    removed_terms: Counter[int] = field(default_factory=Counter)
    documents: int = 0  # the change in the number of documents

    def insert(self, doc: StoredDocument, *, replace: bool) -> str:
        """Added, exists, updated or conflict (nothing written)."""
        doc.stamp()
        row = self.conn.execute(
            "SELECT fingerprint FROM documents WHERE id=?", (doc.id,)
        ).fetchone()
        status = ADDED
        if row is not None:
            if row[0] == doc.fingerprint:
                return EXISTS
            if not replace:
                return CONFLICT
            self.delete(doc.id)
            status = UPDATED
        seq = self.conn.execute(
            "INSERT INTO documents (id, fingerprint, record, features, keys) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                doc.id,
                doc.fingerprint,
                doc.to_json(features=False, keys=False),
                doc.features,
                doc.pack_keys(),
            ),
        ).lastrowid
        assert seq is not None  # an INSERT sets it
        self.conn.execute(_COUNT_BY, (1,))
        self.bands.extend((key, seq) for key in set(signed(doc.band_keys)))
        self.terms.update(set(signed(doc.terms)))
        self.documents += 1
        return status

    def delete(self, doc_id: str) -> bool:
        """Delete a document, its band rows and its terms' counts; False when absent."""
        row = self.conn.execute(
            "SELECT seq, record, keys FROM documents WHERE id=?", (doc_id,)
        ).fetchone()
        if row is None:
            return False
        seq, doc = row[0], StoredDocument.from_json(row[1], keys=row[2])
        self.conn.executemany(
            "DELETE FROM bands WHERE key=? AND seq=?",
            [(key, seq) for key in sorted(set(signed(doc.band_keys)))],
        )
        terms = sorted(set(signed(doc.terms)))
        self.conn.executemany("UPDATE terms SET df=df-1 WHERE term=?", [(t,) for t in terms])
        self.conn.executemany("DELETE FROM terms WHERE term=? AND df<=0", [(t,) for t in terms])
        self.conn.execute("DELETE FROM documents WHERE seq=?", (seq,))
        self.conn.execute(_COUNT_BY, (-1,))
        self.removed_terms.update(terms)
        self.documents -= 1
        return True

    def flush(self) -> None:
        """Write the inserted documents' band rows and term counts."""
        self.conn.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", sorted(self.bands))
        self.conn.executemany(
            "INSERT INTO terms VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df=df+excluded.df",
            sorted(self.terms.items()),
        )

    def frequency_changes(self) -> Counter[int]:
        """Each term's change in document frequency."""
        delta = self.terms.copy()
        delta.subtract(self.removed_terms)
        return delta


class SQLiteStore(Store):
    """The embedded store: one SQLite file in WAL mode.

    Args:
        path: The index file (created with its folder when missing).
        timeout: Seconds a writer waits for another process's transaction.

    Raises:
        StoreError: the file cannot be opened, or holds a schema this dedup cannot read.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0, create: bool = True) -> None:
        self.path = Path(path)
        if not create:
            _existing_index(self.path)
        elif not self.path.parent.is_dir():
            raise StoreError(f"cannot create the index {self.path}: no folder {self.path.parent}")
        try:
            self._conn = _connect(self.path, timeout)
            try:
                sqlite_schema.create(self._conn, self.path)
            except StoreError:
                self._conn.close()
                raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the index {self.path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot open the index {self.path}: {exc.strerror or exc}") from exc
        self._lock = threading.RLock()
        self._frequencies = FrequencyCache()

    @contextmanager
    def _errors(self, action: str = "") -> Iterator[None]:
        """SQLite's errors as StoreError naming the index (and ``action``, when given)."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"index {self.path}: {action}{exc}") from exc

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock, self._errors():
            return self._conn.execute(sql, args).fetchall()

    def settings(self) -> dict[str, Any] | None:
        rows = self._query("SELECT value FROM meta WHERE key='settings'")
        return json.loads(rows[0][0]) if rows else None

    def init_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        with self._lock, self._errors(), self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            row = self._conn.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
            if row is not None:
                return json.loads(row[0])
            self._conn.execute(
                "INSERT INTO meta VALUES ('settings', ?)", (settings_json(settings),)
            )
            return settings

    def _add(self, doc: StoredDocument, *, replace: bool) -> str:
        with self._errors(f"cannot add {doc.id!r}: "), self._writing() as writes:
            return writes.insert(doc, replace=replace)

    def add_many(self, docs: Sequence[StoredDocument]) -> list[str]:
        with self._errors(f"cannot add {len(docs)} documents: "), self._writing() as writes:
            return [writes.insert(doc, replace=False) for doc in docs]

    def dates(self) -> list[tuple[str, Any, float]]:
        rows = self._query(
            "SELECT id, json_extract(record, '$.meta.date'), json_extract(record, '$.added') "
            "FROM documents"
        )
        return [(doc_id, date, float(added or 0)) for doc_id, date, added in rows]

    def remove(self, doc_id: str) -> bool:
        with self._errors(f"cannot remove {doc_id!r}: "), self._writing() as writes:
            return writes.delete(doc_id)

    def remove_many(self, doc_ids: Sequence[str]) -> int:
        # One transaction: one fsync for all of them, and all or none gone.
        with self._errors(f"cannot remove {len(doc_ids)} documents: "), self._writing() as writes:
            return sum(writes.delete(doc_id) for doc_id in doc_ids)

    @contextmanager
    def _writing(self) -> Iterator[_Writes]:
        """One write transaction. Once it is committed, the cache of document frequencies
        takes its changes when it held the state the transaction started from, else it is
        dropped."""
        with self._lock:
            writes, current, committed = _Writes(self._conn), False, False
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    current = self._frequencies.state == self._state()
                    yield writes
                    writes.flush()
                    after = self._state()
                committed = True
            finally:
                if committed and current:
                    changes = writes.frequency_changes()
                    self._frequencies.update(after, changes, writes.documents)
                else:
                    self._frequencies.clear()

    def _state(self) -> tuple[int, int]:
        """What changes when the index does: SQLite's data version (other connections'
        commits) and this connection's count of changed rows."""
        return self._conn.execute("PRAGMA data_version").fetchone()[0], self._conn.total_changes

    def get(self, doc_id: str) -> StoredDocument | None:
        rows = self._query("SELECT record, features, keys FROM documents WHERE id=?", (doc_id,))
        return StoredDocument.from_json(*rows[0]) if rows else None

    def get_many(self, doc_ids: Sequence[str], *, keys: bool = True) -> list[StoredDocument]:
        found: dict[str, StoredDocument] = {}
        ids = list(doc_ids)
        columns = "record, features, keys" if keys else "record, features"
        for chunk in chunks(ids, _CHUNK):
            marks = ",".join("?" * len(chunk))
            for row in self._query(f"SELECT {columns} FROM documents WHERE id IN ({marks})", chunk):
                doc = StoredDocument.from_json(*row)
                found[doc.id] = doc
        return [found[i] for i in ids if i in found]

    def candidates(
        self, band_keys: Iterable[int], *, max_bucket: int | None = None
    ) -> dict[str, int]:
        hits: dict[str, int] = {}
        for chunk in chunks(sorted(set(signed(band_keys))), _CHUNK):
            marks = ",".join(["(?)"] * len(chunk))
            if max_bucket is None:
                sql, args = _CANDIDATES_SQL.format(marks=marks, kept="", keys="wanted"), chunk
            else:
                sql = _CANDIDATES_SQL.format(marks=marks, kept=_KEPT_SQL, keys="kept")
                args = [*chunk, max_bucket + 1, max_bucket]
            for doc_id, count in self._query(sql, args):
                hits[doc_id] = hits.get(doc_id, 0) + int(count)
        return hits

    def document_frequencies(self, terms: np.ndarray) -> tuple[int, np.ndarray]:
        keys = np.asarray(terms, dtype=np.uint64).view(np.int64)
        distinct = unique(keys)
        with self._lock, self._errors():
            try:
                # One read transaction: the count and the frequencies of one state of the
                # index, the cached ones included (dropped when the state is another).
                self._conn.execute("BEGIN")
                try:
                    count, found = self._read_frequencies(distinct)
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.DatabaseError:
                self._frequencies.clear()
                raise
        return count, found[np.searchsorted(distinct, keys)]

    def _read_frequencies(self, distinct: np.ndarray) -> tuple[int, np.ndarray]:
        """The number of documents and the frequencies of ``distinct`` (sorted int64 keys):
        from the cache when it holds the current state, the others read and cached."""
        cache = self._frequencies
        state = self._state()
        if cache.state != state:
            cache.clear()
            cache.documents = int(self._conn.execute(_COUNT).fetchone()[0])
            cache.state = state
        found = cache.lookup(distinct)
        for at in chunks(np.flatnonzero(found < 0), _CHUNK):
            chunk = distinct[at].tolist()
            marks = ",".join("?" * len(chunk))
            read = dict(
                self._conn.execute(
                    f"SELECT term, df FROM terms WHERE term IN ({marks})", chunk
                ).fetchall()
            )
            # Taken from the rows, not from the cache: storing a chunk can start the cache
            # again (over its limit) and drop what the others stored.
            found[at] = [read.get(term, 0) for term in chunk]
            cache.store(distinct[at], found[at])
        return cache.documents, found

    def count(self) -> int:
        return int(self._query(_COUNT)[0][0])

    def integrity(self) -> str:
        """SQLite's own integrity check ('ok' when the file is sound)."""
        return str(self._query("PRAGMA integrity_check")[0][0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
