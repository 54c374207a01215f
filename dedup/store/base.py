"""What every backend of the gate's index stores (documents, LSH band keys and term
frequencies), and the embedded SQLite backend."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from numba import njit, typed, types

from ..errors import StoreError
from ..text.features import term_key
from ..util.arrays import unique

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
        self, band_keys: Iterable[int], *, max_bucket: int | None = None
    ) -> dict[str, int]:
        """Ids of the documents sharing any band key, with the number of keys shared. A key
        held by more than ``max_bucket`` documents (a stock sentence, page chrome) is left
        out without reading its documents."""

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
# The ids come from the covering index ``documents_ids`` (seq, id), not from the documents
# table, whose rows (text and features, kilobytes each) spread a million documents over
# gigabytes: at 1M documents a lookup's 99th percentile went from 3.2 to 2.0 ms.
_CANDIDATES_SQL = """WITH wanted(key) AS (VALUES {marks}){kept}
SELECT d.id, COUNT(*) FROM {keys} w JOIN bands b ON b.key = w.key
JOIN documents d INDEXED BY documents_ids ON d.seq = b.seq GROUP BY d.id"""
_KEPT_SQL = """,
kept AS (
    SELECT key FROM wanted
    WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM bands b WHERE b.key = wanted.key LIMIT ?)) <= ?
)"""


def keyed_terms(terms: Iterable[int | str]) -> list[int]:
    """A record's distinct terms as keys, sorted, whether an index wrote them as keys or, before
    its schema had term keys, as text (``features.term_key``): what an upgrade stores."""
    return sorted({term_key(t) if isinstance(t, str) else int(t) for t in terms})


def _to_signed(keys: Iterable[int]) -> list[int]:
    """uint64 band keys as SQLite's signed 64-bit integers."""
    return np.asarray(list(keys), dtype=np.uint64).view(np.int64).tolist()


@dataclass
class _Change:
    """What one write transaction changes: band rows and term counts of the documents it
    inserts (written when it ends), terms of those it removed (already written) and the
    change in the number of documents."""

    bands: list[tuple[int, int]] = field(default_factory=list)
    terms: Counter[int] = field(default_factory=Counter)
    removed_terms: Counter[int] = field(default_factory=Counter)
    documents: int = 0


class _FrequencyCache:
    """Document frequencies already read (signed term keys; 0 for terms no document has)
    and the number of documents, for one state of the index (:meth:`SQLiteStore._state`).

    A check reads the frequencies of a few thousand terms; most come back in the next
    checks (the words of the news), and reading them was a quarter of a check. The cache is
    dropped when another connection commits, and follows this connection's own writes.

    The frequencies are a numba typed dictionary read and written by compiled loops: with a
    million terms cached, looking up 5,000 took 130 us instead of 650-700 us in a Python
    dictionary (whose entries are objects scattered over memory).
    """

    LIMIT = 2_000_000  # terms kept (about 120 MB, measured); the cache starts again beyond

    def __init__(self) -> None:
        self.frequencies = _new_frequencies()
        self.documents = 0
        self.state: tuple[int, int] | None = None

    def clear(self) -> None:
        self.frequencies = _new_frequencies()
        self.state = None

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The cached frequency of each key (int64), -1 where unknown."""
        return _cached(self.frequencies, keys)

    def store(self, keys: np.ndarray, frequencies: np.ndarray) -> None:
        """Keep the frequencies read for ``keys`` (int64 arrays)."""
        if len(self.frequencies) + len(keys) > self.LIMIT:
            self.frequencies = _new_frequencies()
        _keep(self.frequencies, keys, frequencies)

    def update(self, state: tuple[int, int], terms: Counter[int], documents: int) -> None:
        """Take a committed write's changes; ``state`` is the index's after it."""
        keys = np.fromiter(terms.keys(), dtype=np.int64, count=len(terms))
        deltas = np.fromiter(terms.values(), dtype=np.int64, count=len(terms))
        _adjust(self.frequencies, keys, deltas)
        self.documents += documents
        self.state = state


def _new_frequencies() -> Any:
    return typed.Dict.empty(types.int64, types.int64)


@njit(cache=True, nogil=True)
def _cached(frequencies, keys):  # type: ignore[no-untyped-def]
    found = np.empty(len(keys), dtype=np.int64)
    for i in range(len(keys)):
        found[i] = frequencies.get(keys[i], -1)
    return found


@njit(cache=True, nogil=True)
def _keep(frequencies, keys, values):  # type: ignore[no-untyped-def]
    for i in range(len(keys)):
        frequencies[keys[i]] = values[i]


@njit(cache=True, nogil=True)
def _adjust(frequencies, keys, deltas):  # type: ignore[no-untyped-def]
    for i in range(len(keys)):
        if keys[i] in frequencies:
            frequencies[keys[i]] += deltas[i]


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
        self._frequencies = _FrequencyCache()

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
                # Built when an index made before it is opened (about 10 s at 1M documents);
                # older versions of dedup keep it up to date like any index.
                "CREATE INDEX IF NOT EXISTS documents_ids ON documents (seq, id)",
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
            doc.terms = keyed_terms(doc.terms)
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
        try:
            with self._writing() as change:
                status = self._insert(doc, replace=replace, change=change)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"index {self.path}: cannot add {doc.id!r}: {exc}") from exc
        if status == "conflict":
            raise ConflictError(
                f"document {doc.id!r} is already in the index with a different "
                "text: remove it first, or add it with update"
            )
        return status

    def add_many(self, docs: Sequence[StoredDocument]) -> list[str]:
        try:
            with self._writing() as change:
                return [self._insert(doc, replace=False, change=change) for doc in docs]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"index {self.path}: cannot add {len(docs)} documents: {exc}") from exc

    def remove(self, doc_id: str) -> bool:
        try:
            with self._writing() as change:
                return self._delete(doc_id, change)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"index {self.path}: cannot remove {doc_id!r}: {exc}") from exc

    @contextmanager
    def _writing(self) -> Iterator[_Change]:
        """One write transaction. The inserted documents' band rows and term counts are
        written together at its end (each term once with its count in the batch, not once per
        document, in key order). Once it is committed, the cache of document frequencies
        takes its changes when it held the state the transaction started from, else it is
        dropped."""
        with self._lock:
            change, current, committed = _Change(), False, False
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    current = self._frequencies.state == self._state()
                    yield change
                    self._conn.executemany(
                        "INSERT OR IGNORE INTO bands VALUES (?, ?)", sorted(change.bands)
                    )
                    self._conn.executemany(
                        "INSERT INTO terms VALUES (?, ?) "
                        "ON CONFLICT(term) DO UPDATE SET df=df+excluded.df",
                        sorted(change.terms.items()),
                    )
                    after = self._state()
                committed = True
            finally:
                if committed and current:
                    delta = change.terms.copy()
                    delta.subtract(change.removed_terms)
                    self._frequencies.update(after, delta, change.documents)
                else:
                    self._frequencies.clear()

    def _state(self) -> tuple[int, int]:
        """What changes when the index does: SQLite's data version (other connections'
        commits) and this connection's count of changed rows."""
        return self._conn.execute("PRAGMA data_version").fetchone()[0], self._conn.total_changes

    def _insert(self, doc: StoredDocument, *, replace: bool, change: _Change) -> str:
        """Insert inside a :meth:`_writing` transaction: added, exists, updated or conflict;
        the band rows and terms go to ``change``, written when the transaction ends."""
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
            self._delete(doc.id, change)
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
        change.bands.extend((key, seq) for key in set(_to_signed(doc.band_keys)))
        change.terms.update(set(_to_signed(doc.terms)))
        change.documents += 1
        return status

    def _delete(self, doc_id: str, change: _Change) -> bool:
        """Delete a document and its keys inside a :meth:`_writing` transaction."""
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
        terms = sorted(set(_to_signed(doc.terms)))
        self._conn.executemany("UPDATE terms SET df=df-1 WHERE term=?", [(t,) for t in terms])
        self._conn.executemany("DELETE FROM terms WHERE term=? AND df<=0", [(t,) for t in terms])
        self._conn.execute("DELETE FROM documents WHERE seq=?", (seq,))
        self._conn.execute(_COUNT_BY, (-1,))
        change.removed_terms.update(terms)
        change.documents -= 1
        return True

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
        self, band_keys: Iterable[int], *, max_bucket: int | None = None
    ) -> dict[str, int]:
        keys = sorted(set(_to_signed(band_keys)))
        hits: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
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
        with self._lock:
            try:
                # One read transaction: the count and the frequencies of one state of the
                # index, the cached ones included (dropped when the state is another).
                self._conn.execute("BEGIN")
                try:
                    cache = self._frequencies
                    state = self._state()
                    if cache.state != state:
                        cache.clear()
                        cache.documents = int(self._conn.execute(_COUNT).fetchone()[0])
                        cache.state = state
                    found = cache.lookup(distinct)
                    unknown = np.flatnonzero(found < 0)
                    for start in range(0, len(unknown), 500):
                        at = unknown[start : start + 500]
                        chunk = distinct[at].tolist()
                        marks = ",".join("?" * len(chunk))
                        read = dict(
                            self._conn.execute(
                                f"SELECT term, df FROM terms WHERE term IN ({marks})", chunk
                            ).fetchall()
                        )
                        # Taken from the rows, not from the cache: storing a chunk can start
                        # the cache again (over its limit) and drop what the others stored.
                        found[at] = [read.get(term, 0) for term in chunk]
                        cache.store(distinct[at], found[at])
                    count = cache.documents
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._frequencies.clear()
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
