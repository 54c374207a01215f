"""Persistent stores of the gate's index: documents, LSH band keys and term frequencies.

One factory, :func:`open_store`, picks the backend from the index location:

- a file path: :class:`SQLiteStore`, embedded, no server (SQLite in WAL mode, synchronous
  FULL: an acknowledged add survives ``kill -9`` and power loss; writers serialise on a
  ``BEGIN IMMEDIATE`` transaction, so two processes can add to one index);
- ``redis://host:port/db``: ``dedup.store_redis.RedisStore``, for several gate workers sharing
  one index (``pip install 'dedup[redis]'``).

Every backend stores the same things and passes the same test suite.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from .arrays import unique, unique_counts
from .errors import ConfigError, StoreError
from .features import term_key

log = logging.getLogger(__name__)

# 3: documents carry their token features (a BLOB beside the JSON record) and the meta table
# keeps the number of documents. 4: TF-IDF terms are 64-bit keys (``features.term_key``), not
# strings. 5: a document's band keys and terms are a BLOB beside its record, not in it.
# Indexes of versions 2 to 4 are upgraded in place when opened (``SQLiteStore._upgrade``).
SCHEMA_VERSION = 5
_UPGRADABLE = (2, 3, 4)


@dataclass
class StoredDocument:
    """What the index keeps of a document: enough to clean-free re-score and align it.

    Attributes:
        id: The document id.
        fingerprint: Hash of the text (same id and fingerprint = the same document).
        text: The document text (offsets refer to it).
        removed: Boilerplate spans found when it was added.
        meta: title, url, date, source, credits.
        band_keys: Its LSH band keys (to remove them with the document).
        terms: Its distinct TF-IDF term keys, uint64 (to keep document frequencies right on
            removal).
        added: Unix time of the add.
        features: The gate's packed token features (opaque bytes), or None (a document
            indexed before they were stored: the gate re-tokenises its text).
    """

    id: str
    fingerprint: str
    text: str
    removed: list[list[int]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    band_keys: list[int] = field(default_factory=list)
    terms: list[int] = field(default_factory=list)
    added: float = 0.0
    features: bytes | None = None

    def to_json(self, *, features: bool = True, keys: bool = True) -> str:
        """Serialised form (one JSON object; ``features`` in base64, unless left out; band
        keys and terms unless left out: :meth:`pack_keys` keeps them apart)."""
        record = {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "text": self.text,
            "removed": self.removed,
            "meta": self.meta,
            "added": self.added,
        }
        if keys:
            record["band_keys"], record["terms"] = self.band_keys, self.terms
        if features and self.features is not None:
            record["features"] = base64.b64encode(self.features).decode("ascii")
        return json.dumps(record, ensure_ascii=False)

    @classmethod
    def from_json(
        cls, raw: str | bytes, features: bytes | None = None, keys: bytes | None = None
    ) -> StoredDocument:
        """Inverse of :meth:`to_json`; ``features`` and ``keys`` (:meth:`pack_keys`) when
        they were kept apart."""
        record = json.loads(raw)
        packed = record.pop("features", None)
        doc = cls(**record)
        doc.features = features if packed is None else base64.b64decode(packed)
        if keys is not None:
            values = np.frombuffer(keys, dtype="<u8")
            bands = int(values[0]) + 1 if len(values) else 0
            doc.band_keys, doc.terms = values[1:bands].tolist(), values[bands:].tolist()
        return doc

    def pack_keys(self) -> bytes:
        """The band keys and terms as bytes: their numbers of band keys, then both, uint64
        (what a comparison never reads, kept out of the JSON record: decoding it took 3x
        longer with them)."""
        values = [len(self.band_keys), *self.band_keys, *self.terms]
        return np.array(values, dtype=np.uint64).astype("<u8").tobytes()


class Store(Protocol):
    """What the gate needs from a backend."""

    def settings(self) -> dict[str, Any] | None:
        """The index parameters recorded at creation (None for a new, empty index)."""

    def init_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Record ``settings`` unless the index has some already; return the recorded ones."""

    def add(self, doc: StoredDocument, *, replace: bool = False) -> str:
        """Insert atomically: ``"added"``, ``"exists"`` (same id and fingerprint),
        ``"updated"`` (same id, other text, ``replace``: the old version is removed in the same
        transaction), or raise :class:`ConflictError` (same id, other text)."""

    def add_many(self, docs: Sequence[StoredDocument]) -> list[str]:
        """Insert many documents in one batch (one transaction or one round trip); per
        document ``"added"``, ``"exists"`` or ``"conflict"`` (same id, other text: not
        inserted)."""

    def remove(self, doc_id: str) -> bool:
        """Delete a document and its keys; False when it was not there."""

    def get(self, doc_id: str) -> StoredDocument | None:
        """One document, or None."""

    def get_many(self, doc_ids: Sequence[str], *, keys: bool = True) -> list[StoredDocument]:
        """Documents by id (missing ones left out), in the order asked; without ``keys`` their
        band keys and terms may be left empty (what a comparison needs, read faster)."""

    def candidates(
        self,
        band_keys: Iterable[int],
        *,
        max_bucket: int | None = None,
        limit: int | None = None,
    ) -> dict[str, int]:
        """Ids of the documents sharing any band key, with the number of keys shared. A key
        held by more than ``max_bucket`` documents (a stock sentence, page chrome) is left
        out without reading its documents. With ``limit``, only the ``limit`` documents
        sharing most keys (ties by id: :func:`most_shared`)."""

    def document_frequencies(self, terms: np.ndarray) -> tuple[int, np.ndarray]:
        """Number of documents and the document frequency of each of ``terms`` (distinct
        uint64 term keys; 0 for a term no document has), in their order, read together."""

    def count(self) -> int:
        """Number of documents."""

    def close(self) -> None:
        """Release connections."""


class ConflictError(StoreError):
    """A different text was added under an existing id."""


# The number of documents is kept in the meta table (COUNT(*) reads the whole table: about
# 6 ms at a million documents, in every check's document frequencies).
_COUNT = "SELECT CAST(value AS INTEGER) FROM meta WHERE key='count'"
_COUNT_BY = "UPDATE meta SET value=CAST(value AS INTEGER) + ? WHERE key='count'"
# Documents sharing band keys, with the number of keys shared. From ``kept``, keys held by
# more than a bucket limit are left out (its parameters: the limit + 1, then the limit): a
# key's documents are counted up to the limit + 1 on its stretch of the (key, seq) B-tree, so
# an oversized bucket costs that many steps, not its size.
# The documents' seq numbers are counted in numpy, and only those that can be among the
# ``limit`` sharing most keys are looked up by id: joining every row of a key held by
# hundreds of documents to its id was most of a lookup.
_CANDIDATES_SQL = """WITH wanted(key) AS (VALUES {marks}){kept}
SELECT b.seq FROM {keys} w JOIN bands b ON b.key = w.key"""
_KEPT_SQL = """,
kept AS (
    SELECT key FROM wanted
    WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM bands b WHERE b.key = wanted.key LIMIT ?)) <= ?
)"""


def most_shared(hits: dict[str, int], limit: int | None) -> dict[str, int]:
    """The ``limit`` entries of ``hits`` (id -> band keys shared) with the most keys shared,
    ties by id; all of them when ``limit`` is None."""
    if limit is None or len(hits) <= limit:
        return hits
    return {i: hits[i] for i in sorted(hits, key=lambda i: (-hits[i], i))[:limit]}


def _to_signed(keys: Iterable[int]) -> list[int]:
    """uint64 band keys as SQLite's signed 64-bit integers."""
    return np.asarray(list(keys), dtype=np.uint64).view(np.int64).tolist()


class SQLiteStore:
    """The embedded store: one SQLite file in WAL mode.

    Args:
        path: The index file (created with its folder when missing).
        timeout: Seconds a writer waits for another process's transaction.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._wal(timeout)
            self._conn.execute("PRAGMA synchronous=FULL")
            try:
                self._create()
            except StoreError:
                self._conn.close()
                raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the index {self.path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot open the index {self.path}: {exc.strerror or exc}") from exc
        self._lock = threading.RLock()

    def _wal(self, timeout: float) -> None:
        """Switch to WAL mode. Switching needs the file to itself, and SQLite answers "database
        is locked" at once, without its busy handler, while another process opening a new
        index switches it too: retried until ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _create(self) -> None:
        # One statement at a time: executescript would COMMIT the BEGIN IMMEDIATE first, and
        # two processes creating a new index would then race on the schema row.
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            for statement in (
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """CREATE TABLE IF NOT EXISTS documents (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    fingerprint TEXT NOT NULL,
                    record TEXT NOT NULL,
                    features BLOB,
                    keys BLOB
                )""",
                """CREATE TABLE IF NOT EXISTS bands (
                    key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq)
                ) WITHOUT ROWID""",
                "CREATE TABLE IF NOT EXISTS terms (term INTEGER PRIMARY KEY, df INTEGER NOT NULL)",
            ):
                self._conn.execute(statement)
            row = self._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                self._conn.execute("INSERT INTO meta VALUES ('count', '0')")
            elif int(row[0]) in _UPGRADABLE:
                self._upgrade(int(row[0]))
            elif int(row[0]) != SCHEMA_VERSION:
                raise StoreError(
                    f"index {self.path} has schema version {row[0]}, this dedup reads "
                    f"{SCHEMA_VERSION} (and upgrades {', '.join(map(str, _UPGRADABLE))}): "
                    "rebuild it with `dedup gate add`"
                )

    def _upgrade(self, version: int) -> None:
        """Bring an index of version 2, 3 or 4 to the current schema inside the caller's
        transaction: for version 2 a features column (empty for the documents already there:
        the gate re-tokenises their texts) and the stored count; every record's band keys and
        terms moved to the keys column, the terms keyed and, before version 4, counted again."""
        log.info("index %s: upgrading schema %d to %d", self.path, version, SCHEMA_VERSION)
        if version == 2:
            self._conn.execute("ALTER TABLE documents ADD COLUMN features BLOB")
            count = self._conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('count', ?)", (str(count),))
        self._conn.execute("ALTER TABLE documents ADD COLUMN keys BLOB")
        frequencies: Counter[int] = Counter()
        for seq, raw in self._conn.execute("SELECT seq, record FROM documents").fetchall():
            doc = StoredDocument.from_json(raw)
            doc.terms = sorted({term_key(t) if isinstance(t, str) else t for t in doc.terms})
            frequencies.update(doc.terms)
            self._conn.execute(
                "UPDATE documents SET record=?, keys=? WHERE seq=?",
                (doc.to_json(features=False, keys=False), doc.pack_keys(), seq),
            )
        if version < 4:
            self._conn.execute("DROP TABLE terms")
            self._conn.execute("CREATE TABLE terms (term INTEGER PRIMARY KEY, df INTEGER NOT NULL)")
            self._conn.executemany(
                "INSERT INTO terms VALUES (?, ?)",
                zip(_to_signed(frequencies), frequencies.values()),
            )
        self._conn.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"index {self.path}: {exc}") from exc

    def settings(self) -> dict[str, Any] | None:
        rows = self._query("SELECT value FROM meta WHERE key='settings'")
        return json.loads(rows[0][0]) if rows else None

    def init_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    row = self._conn.execute(
                        "SELECT value FROM meta WHERE key='settings'"
                    ).fetchone()
                    if row is not None:
                        return json.loads(row[0])
                    self._conn.execute(
                        "INSERT INTO meta VALUES ('settings', ?)",
                        (json.dumps(settings, sort_keys=True),),
                    )
                    return settings
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"index {self.path}: {exc}") from exc

    def add(self, doc: StoredDocument, *, replace: bool = False) -> str:
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    status = self._insert(doc, replace=replace)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"index {self.path}: cannot add {doc.id!r}: {exc}") from exc
        if status == "conflict":
            raise ConflictError(
                f"document {doc.id!r} is already in the index with a different "
                "text: remove it first, or add it with update"
            )
        return status

    def add_many(self, docs: Sequence[StoredDocument]) -> list[str]:
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    # The batch's band rows and term counts are written together at the end:
                    # each term once with its count in the batch, not once per document.
                    bands: list[tuple[int, int]] = []
                    terms: Counter[int] = Counter()
                    statuses = [
                        self._insert(doc, replace=False, bands=bands, terms=terms) for doc in docs
                    ]
                    self._write_keys(bands, terms)
                    return statuses
            except sqlite3.DatabaseError as exc:
                raise StoreError(
                    f"index {self.path}: cannot add {len(docs)} documents: {exc}"
                ) from exc

    def _insert(
        self,
        doc: StoredDocument,
        *,
        replace: bool,
        bands: list[tuple[int, int]] | None = None,
        terms: Counter[int] | None = None,
    ) -> str:
        """Insert inside the caller's transaction: added, exists, updated or conflict. The
        document's band rows and terms go to ``bands`` and ``terms`` when given (for the
        caller to write with :meth:`_write_keys`), else they are written now."""
        doc.added = doc.added or time.time()
        row = self._conn.execute(
            "SELECT fingerprint FROM documents WHERE id=?", (doc.id,)
        ).fetchone()
        status = "added"
        if row is not None:
            if row[0] == doc.fingerprint:
                return "exists"
            if not replace:
                return "conflict"
            self._delete(doc.id)
            status = "updated"
        seq = self._conn.execute(
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
        self._conn.execute(_COUNT_BY, (1,))
        own_bands, own_terms = ([], Counter()) if bands is None or terms is None else (bands, terms)
        own_bands.extend((key, seq) for key in set(_to_signed(doc.band_keys)))
        own_terms.update(set(_to_signed(doc.terms)))
        if bands is None or terms is None:
            self._write_keys(own_bands, own_terms)
        return status

    def _write_keys(self, bands: list[tuple[int, int]], terms: Counter[int]) -> None:
        """Band rows and term frequency increments, in key order (the B-tree pages they land
        on are visited in order)."""
        self._conn.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", sorted(bands))
        self._conn.executemany(
            "INSERT INTO terms VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df=df+excluded.df",
            sorted(terms.items()),
        )

    def _delete(self, doc_id: str) -> bool:
        """Delete a document and its keys inside the caller's transaction."""
        row = self._conn.execute(
            "SELECT seq, record, keys FROM documents WHERE id=?", (doc_id,)
        ).fetchone()
        if row is None:
            return False
        seq, doc = row[0], StoredDocument.from_json(row[1], keys=row[2])
        self._conn.executemany(
            "DELETE FROM bands WHERE key=? AND seq=?",
            [(key, seq) for key in sorted(set(_to_signed(doc.band_keys)))],
        )
        terms = [(t,) for t in sorted(set(_to_signed(doc.terms)))]
        self._conn.executemany("UPDATE terms SET df=df-1 WHERE term=?", terms)
        self._conn.executemany("DELETE FROM terms WHERE term=? AND df<=0", terms)
        self._conn.execute("DELETE FROM documents WHERE seq=?", (seq,))
        self._conn.execute(_COUNT_BY, (-1,))
        return True

    def remove(self, doc_id: str) -> bool:
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    return self._delete(doc_id)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"index {self.path}: cannot remove {doc_id!r}: {exc}") from exc

    def get(self, doc_id: str) -> StoredDocument | None:
        rows = self._query("SELECT record, features, keys FROM documents WHERE id=?", (doc_id,))
        return StoredDocument.from_json(*rows[0]) if rows else None

    def get_many(self, doc_ids: Sequence[str], *, keys: bool = True) -> list[StoredDocument]:
        found: dict[str, StoredDocument] = {}
        ids = list(doc_ids)
        columns = "record, features, keys" if keys else "record, features"
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._query(f"SELECT {columns} FROM documents WHERE id IN ({marks})", chunk):
                doc = StoredDocument.from_json(*row)
                found[doc.id] = doc
        return [found[i] for i in ids if i in found]

    def candidates(
        self,
        band_keys: Iterable[int],
        *,
        max_bucket: int | None = None,
        limit: int | None = None,
    ) -> dict[str, int]:
        keys = sorted(set(_to_signed(band_keys)))
        found: list[np.ndarray] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join(["(?)"] * len(chunk))
            if max_bucket is None:
                sql, args = _CANDIDATES_SQL.format(marks=marks, kept="", keys="wanted"), chunk
            else:
                sql = _CANDIDATES_SQL.format(marks=marks, kept=_KEPT_SQL, keys="kept")
                args = [*chunk, max_bucket + 1, max_bucket]
            rows = self._query(sql, args)
            found.append(np.array(rows, dtype=np.int64).reshape(-1))
        seqs, counts = unique_counts(np.concatenate([np.empty(0, dtype=np.int64), *found]))
        if limit is not None and len(seqs) > limit:
            # Every document that can be among the ``limit`` first (ties at the cut included,
            # to be broken by id).
            keep = counts >= np.partition(counts, len(counts) - limit)[len(counts) - limit]
            seqs, counts = seqs[keep], counts[keep]
        ids: dict[int, str] = {}
        seq_list = seqs.tolist()
        for start in range(0, len(seq_list), 500):
            chunk = seq_list[start : start + 500]
            marks = ",".join("?" * len(chunk))
            ids.update(self._query(f"SELECT seq, id FROM documents WHERE seq IN ({marks})", chunk))
        hits = {ids[seq]: int(n) for seq, n in zip(seq_list, counts) if seq in ids}
        return most_shared(hits, limit)

    def document_frequencies(self, terms: np.ndarray) -> tuple[int, np.ndarray]:
        keys = np.asarray(terms, dtype=np.uint64).view(np.int64)
        distinct = unique(keys)
        found = np.zeros(len(distinct), dtype=np.int64)
        with self._lock:
            try:
                # One read transaction: the count and the frequencies of one state of the index.
                self._conn.execute("BEGIN")
                try:
                    count = int(self._conn.execute(_COUNT).fetchone()[0])
                    for start in range(0, len(distinct), 500):
                        chunk = distinct[start : start + 500].tolist()
                        marks = ",".join("?" * len(chunk))
                        rows = self._conn.execute(
                            f"SELECT term, df FROM terms WHERE term IN ({marks})", chunk
                        ).fetchall()
                        if rows:
                            term, df = np.array(rows, dtype=np.int64).T
                            found[np.searchsorted(distinct, term)] = df
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"index {self.path}: {exc}") from exc
        return count, found[np.searchsorted(distinct, keys)]

    def count(self) -> int:
        return int(self._query(_COUNT)[0][0])

    def integrity(self) -> str:
        """SQLite's own integrity check ('ok' when the file is sound)."""
        return str(self._query("PRAGMA integrity_check")[0][0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def display_location(location: str) -> str:
    """An index location fit to show: a password in a URL replaced by ``***``."""
    parts = urlsplit(location)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return location


def open_store(location: str | Path) -> Store:
    """Open (or create) the index at ``location``: a file path or a ``redis://`` URL.

    Raises:
        ConfigError: an unknown URL scheme.
        StoreError: the index cannot be opened.
    """
    text = str(location)
    if text.startswith(("redis://", "rediss://", "unix://")):
        from .store_redis import RedisStore

        return RedisStore(text)
    if "://" in text:
        raise ConfigError(
            f"unknown index location {text!r}: give a file path (SQLite) or redis://host:port/db"
        )
    return SQLiteStore(text)
