"""The SQLite store's tables: created in a new index, and indexes of older schema versions
upgraded in place when opened."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from pathlib import Path

from .base import StoredDocument, keyed_terms, unreadable_schema
from .keys import signed

log = logging.getLogger(__name__)

# 3: documents carry their token features (a BLOB beside the JSON record) and the meta table
# keeps the number of documents. 4: TF-IDF terms are 64-bit keys (``features.term_key``), not
# strings. 5: a document's band keys and terms are a BLOB beside its record, not in it.
# Indexes of versions 2 to 4 are upgraded in place when opened (:func:`upgrade`).
SCHEMA_VERSION = 5
UPGRADABLE = (2, 3, 4)

# The statements' text, indentation included, is the one the store has always written:
# SQLite keeps it in the file (sqlite_master).
TABLES = (
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
    # The candidates query of :mod:`dedup.store.sqlite` reads ids from this covering index.
    # Built when an index made before it is opened; older versions of dedup keep it up to
    # date like any index.
    "CREATE INDEX IF NOT EXISTS documents_ids ON documents (seq, id)",
)


def create(conn: sqlite3.Connection, path: Path) -> None:
    """Create the tables of a new index, or upgrade those of an index of an older version.

    Raises:
        StoreError: the index has a schema version this dedup neither reads nor upgrades.
    """
    # One statement at a time: executescript would COMMIT the BEGIN IMMEDIATE first, and
    # two processes creating a new index would then race on the schema row.
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        for statement in TABLES:
            conn.execute(statement)
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            conn.execute("INSERT INTO meta VALUES ('count', '0')")
        elif int(row[0]) in UPGRADABLE:
            upgrade(conn, path, int(row[0]))
        elif int(row[0]) != SCHEMA_VERSION:
            raise unreadable_schema(
                str(path), row[0], SCHEMA_VERSION, UPGRADABLE, "rebuild it with `dedup gate add`"
            )


def upgrade(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Bring an index of version 2, 3 or 4 to the current schema inside the caller's
    transaction: for version 2 a features column (empty for the documents already there:
    the gate re-tokenises their texts) and the stored count; every record's band keys and
    terms moved to the keys column, the terms keyed and, before version 4, counted again."""
    log.info("index %s: upgrading schema %d to %d", path, version, SCHEMA_VERSION)
    if version == 2:
        conn.execute("ALTER TABLE documents ADD COLUMN features BLOB")
        count = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('count', ?)", (str(count),))
    conn.execute("ALTER TABLE documents ADD COLUMN keys BLOB")
    frequencies: Counter[int] = Counter()
    for seq, raw in conn.execute("SELECT seq, record FROM documents").fetchall():
        doc = StoredDocument.from_json(raw)
        doc.terms = keyed_terms(doc.terms)
        frequencies.update(doc.terms)
        conn.execute(
            "UPDATE documents SET record=?, keys=? WHERE seq=?",
            (doc.to_json(features=False, keys=False), doc.pack_keys(), seq),
        )
    if version < 4:
        conn.execute("DROP TABLE terms")
        conn.execute("CREATE TABLE terms (term INTEGER PRIMARY KEY, df INTEGER NOT NULL)")
        conn.executemany(
            "INSERT INTO terms VALUES (?, ?)", zip(signed(frequencies), frequencies.values())
        )
    conn.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))
