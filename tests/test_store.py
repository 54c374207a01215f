"""The gate's stores: one contract suite, run against every backend (SQLite and a real Redis),
then what only one backend does (the SQLite cache of document frequencies, schema upgrades, Redis
URLs and prefixes)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dedup.errors import ConfigError, StoreError
from dedup.gate import Gate
from dedup.store import (
    ConflictError,
    SQLiteStore,
    Store,
    StoredDocument,
    display_location,
    open_store,
)
from dedup.store.redis import RedisStore
from dedup.text.features import term_key
from tests.support import SEED_IDS, SEEDS

BIG = 2**64 - 1  # band keys are uint64: the largest and one above int64's range
HIGH = 2**63 + 5


@pytest.fixture
def store(location: str) -> Iterator:
    opened = open_store(location)
    yield opened
    opened.close()


def keys(*terms: str) -> list[int]:
    """The keys of written-out TF-IDF terms (what the stores keep)."""
    return [term_key(term) for term in terms]


def frequencies(store, *terms: str) -> tuple[int, dict[str, int]]:
    """The store's number of documents and the frequencies of the ``terms`` it holds."""
    count, found = store.document_frequencies(np.array(keys(*terms), dtype=np.uint64))
    assert len(found) == len(terms)
    return count, {term: int(n) for term, n in zip(terms, found.tolist()) if n}


def make(doc_id: str, text: str = "", **fields) -> StoredDocument:
    text = text or f"the text of {doc_id}"
    return StoredDocument(id=doc_id, fingerprint=f"fp:{text}", text=text, **fields)


# --- the contract, on every backend ---------------------------------------------------------------


def test_every_backend_is_a_store(store) -> None:
    assert isinstance(store, Store)


def test_add_get_get_many_remove_round_trip(store) -> None:
    doc = make(
        "a/1.txt",
        "Zürich — “quotes” and 字",
        removed=[[0, 6]],
        meta={"title": "T", "url": None, "credits": ["AFP"]},
        band_keys=[1, HIGH, BIG],
        terms=keys("zürich", "quotes"),
    )
    assert store.add(doc) == "added"
    got = store.get("a/1.txt")
    assert got == doc
    assert got.added > 0
    assert store.add(make("b")) == "added"
    assert [d.id for d in store.get_many(["b", "missing", "a/1.txt"])] == ["b", "a/1.txt"]
    assert store.get_many([]) == []
    assert store.remove("a/1.txt") is True
    assert store.get("a/1.txt") is None
    assert [d.id for d in store.get_many(["a/1.txt", "b"])] == ["b"]


def test_same_id_and_text_exists_without_counting_twice(store) -> None:
    assert store.add(make("a", band_keys=[1], terms=keys("x"))) == "added"
    assert store.add(make("a", band_keys=[1], terms=keys("x"))) == "exists"
    assert store.count() == 1
    assert store.candidates([1]) == {"a": 1}
    assert frequencies(store, "x") == (1, {"x": 1})


def test_same_id_other_text_is_a_conflict(store) -> None:
    store.add(make("a", "first text", terms=keys("first")))
    with pytest.raises(ConflictError, match=r"'a' is already in the index with a different text"):
        store.add(make("a", "second text", terms=keys("second")))
    assert issubclass(ConflictError, StoreError)
    assert store.get("a").text == "first text"
    assert store.count() == 1
    assert frequencies(store, "first", "second") == (1, {"first": 1})


def test_replace_swaps_the_version_in_one_step(store) -> None:
    assert store.add(
        make("a", "old", band_keys=[1, 2], terms=keys("old", "both")), replace=True
    ) == ("added")
    store.add(make("b", band_keys=[2], terms=keys("both")))
    new = make("a", "new", band_keys=[2, 3], terms=keys("new", "both"))
    assert store.add(new, replace=True) == "updated"
    assert store.add(new, replace=True) == "exists"
    assert store.get("a").text == "new"
    assert store.count() == 2
    assert store.candidates([1, 2, 3]) == {"a": 2, "b": 1}
    assert store.candidates([1]) == {}
    assert frequencies(store, "old", "new", "both") == (2, {"new": 1, "both": 2})


def test_remove_of_a_missing_id_is_false(store) -> None:
    assert store.remove("nothing") is False
    store.add(make("a"))
    assert store.remove("a") is True
    assert store.remove("a") is False
    assert store.count() == 0


def test_remove_many_removes_documents_with_their_keys_and_dates(store) -> None:
    store.add(make("a", band_keys=[1, 2], terms=[7], meta={"date": "2001-05-01"}, added=5.0))
    store.add(make("b", band_keys=[2, 3], terms=[7, 8]))
    store.add(make("c", band_keys=[3], terms=[8], added=9.0))
    assert sorted(store.dates()) == [
        ("a", "2001-05-01", 5.0),
        ("b", None, store.get("b").added),
        ("c", None, 9.0),
    ]
    assert store.remove_many(["a", "nothing", "b"]) == 2
    assert store.count() == 1 and store.get("a") is None and store.get("b") is None
    assert store.candidates([1, 2, 3]) == {"c": 1}
    assert store.document_frequencies(np.array([7, 8], dtype=np.uint64))[1].tolist() == [0, 1]
    assert [d[0] for d in store.dates()] == ["c"]
    assert store.remove_many([]) == 0


def test_candidates_count_shared_keys_and_go_after_remove(store) -> None:
    store.add(make("a", band_keys=[1, 2, 3, BIG]))
    store.add(make("b", band_keys=[2, 3, 4]))
    store.add(make("c", band_keys=[HIGH]))
    assert store.candidates([2, 3, BIG, 99]) == {"a": 3, "b": 2}
    assert store.candidates([HIGH]) == {"c": 1}
    assert store.candidates([]) == {}
    assert store.remove("a")
    assert store.candidates([2, 3, BIG]) == {"b": 2}
    assert store.candidates([1]) == {}


def test_document_frequencies_go_up_and_down(store) -> None:
    assert frequencies(store, "x") == (0, {})
    store.add(make("a", terms=keys("x", "y")))
    store.add(make("b", terms=keys("y", "z")))
    assert frequencies(store, "x", "y", "z", "unknown", "y") == (
        2,
        {"x": 1, "y": 2, "z": 1},
    )
    store.remove("a")
    assert frequencies(store, "x", "y", "z") == (1, {"y": 1, "z": 1})
    store.remove("b")
    assert frequencies(store, "x", "y", "z") == (0, {})
    # Keys above int64's range (SQLite keeps them signed), asked in any order.
    store.add(make("c", terms=[BIG, HIGH, 5]))
    count, found = store.document_frequencies(np.array([7, BIG, 5, HIGH], dtype=np.uint64))
    assert (count, found.tolist()) == (1, [0, 1, 1, 1])


def test_count(store) -> None:
    assert store.count() == 0
    for i in range(5):
        store.add(make(f"d{i}"))
    store.remove("d2")
    assert store.count() == 4


def test_settings_are_recorded_once_and_kept(store, location: str) -> None:
    assert store.settings() is None
    first = {"num_perm": 128, "lsh_threshold": 0.3}
    assert store.init_settings(first) == first
    assert store.init_settings({"num_perm": 64, "lsh_threshold": 0.5}) == first
    assert store.settings() == first
    store.add(make("a", band_keys=[7], terms=keys("x")))
    again = open_store(location)  # another connection, as another worker would open it
    try:
        assert again.settings() == first
        assert again.get("a") is not None
        assert again.candidates([7]) == {"a": 1}
    finally:
        again.close()


def test_add_many_in_one_batch(store) -> None:
    assert store.add(make("a", band_keys=[5], terms=keys("x"))) == "added"
    batch = [
        make("a", band_keys=[5], terms=keys("x")),  # the same document again
        make("a", "another text", band_keys=[6]),  # another text under an existing id
        make("b", band_keys=[5, 7], terms=keys("x", "y")),
        make("c", band_keys=[7], terms=keys("y")),
    ]
    assert store.add_many(batch) == ["exists", "conflict", "added", "added"]
    assert store.count() == 3
    assert store.candidates([5, 7]) == {"a": 1, "b": 2, "c": 1}
    assert frequencies(store, "x", "y") == (3, {"x": 2, "y": 2})
    assert store.get("a").text == "the text of a"


def test_a_key_held_by_more_documents_than_the_bucket_limit_is_left_out(store) -> None:
    store.add_many(
        [make(f"d{n}", band_keys=[7, 100 + n] + ([BIG] if n < 2 else [])) for n in range(4)]
    )
    everyone = {"d0": 2, "d1": 2, "d2": 1, "d3": 1}
    assert store.candidates([7, BIG]) == everyone
    assert store.candidates([7, BIG], max_bucket=4) == everyone  # 4 documents: not over
    assert store.candidates([7, BIG], max_bucket=3) == {"d0": 1, "d1": 1}  # key 7 left out
    assert store.candidates([7, BIG, 101], max_bucket=1) == {"d1": 1}
    assert store.candidates([7], max_bucket=3) == {}


# --- the factory ----------------------------------------------------------------------------------


@pytest.mark.redis
def test_open_store_picks_the_backend(tmp_path: Path, redis_url: str) -> None:
    sqlite = open_store(tmp_path / "gate.db")
    redis = open_store(redis_url)
    try:
        assert isinstance(sqlite, SQLiteStore)
        assert isinstance(redis, RedisStore)
        assert redis.prefix.startswith("test-")
    finally:
        sqlite.close()
        redis.close()


@pytest.mark.parametrize("location", ["ftp://host/index", "postgres://db/gate"])
def test_unknown_scheme_is_a_config_error(location: str) -> None:
    with pytest.raises(ConfigError, match="unknown index location"):
        open_store(location)


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("redis://:s3cret@db.example:6379/0", "redis://:***@db.example:6379/0"),
        ("redis://user:s3cret@db/1", "redis://user:***@db/1"),
        ("redis://db:6379/0", "redis://db:6379/0"),
        ("/data/index.db", "/data/index.db"),
    ],
)
def test_display_location_hides_a_password(location: str, shown: str) -> None:
    assert display_location(location) == shown


# --- SQLite only ----------------------------------------------------------------------------------


def test_frequencies_read_again_follow_writes_of_this_and_other_connections(
    tmp_path: Path,
) -> None:
    # A store keeps the frequencies it read for the next checks: its own writes update
    # them, another connection's commit drops them.
    path = tmp_path / "gate.db"
    one, two = SQLiteStore(path), SQLiteStore(path)
    try:
        one.add(make("a", terms=keys("x", "y")))
        assert frequencies(one, "x", "y", "z") == (1, {"x": 1, "y": 1})
        one.add(make("b", terms=keys("y", "z")))
        one.add_many([make("c", terms=keys("x")), make("d", terms=keys("w"))])
        assert frequencies(one, "x", "y", "z", "w") == (4, {"x": 2, "y": 2, "z": 1, "w": 1})
        one.remove("a")
        assert frequencies(one, "x", "y", "z") == (3, {"x": 1, "y": 1, "z": 1})
        two.add(make("e", terms=keys("z")))
        two.remove("b")
        assert frequencies(one, "x", "y", "z") == (3, {"x": 1, "z": 1})
        one.add(make("b", "another text", terms=keys("q")), replace=True)
        assert frequencies(one, "y", "q") == (4, {"q": 1})
        assert frequencies(one, "x", "y", "z", "w", "q") == frequencies(
            two, "x", "y", "z", "w", "q"
        )
    finally:
        one.close()
        two.close()


def test_frequencies_are_right_when_the_cache_starts_again_during_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dedup.store.frequencies import FrequencyCache

    store = SQLiteStore(tmp_path / "gate.db")
    try:
        words = [f"w{n}" for n in range(1200)]  # three chunks of the SQL read
        store.add(make("a", terms=keys(*words)))
        store.add(make("b", terms=keys(*words[::2])))
        expected = (2, {w: 2 if n % 2 == 0 else 1 for n, w in enumerate(words)})
        monkeypatch.setattr(FrequencyCache, "LIMIT", 700)  # over it inside one read
        assert frequencies(store, *words) == expected
        assert frequencies(store, *words) == expected  # partly from the cache
    finally:
        store.close()


@pytest.mark.slow
def test_workers_opening_a_new_sqlite_index_at_once_all_succeed(tmp_path: Path) -> None:
    # Four connections (threads here, processes in a deployment) open one new file at the
    # same moment: one switches it to WAL and creates the tables, the others wait for it
    # (SQLite answers "database is locked" at once, without a busy wait, to a connection
    # that would deadlock), and nobody fails or writes the schema twice.
    import threading

    failures: list[str] = []
    for round_number in range(60):
        path = tmp_path / f"index-{round_number}.db"
        start = threading.Barrier(4)

        def open_and_add(number: int, path: Path = path, start=start, r=round_number) -> None:
            start.wait()
            try:
                store = SQLiteStore(path)
                store.add(make(f"doc-{number}", band_keys=[number]))
                store.close()
            except Exception as exc:  # reported below, with the round
                failures.append(f"round {r}: {exc}")

        threads = [threading.Thread(target=open_and_add, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        store = SQLiteStore(path)
        assert store.count() == 4
        store.close()
    assert failures == []


def written_terms(record: StoredDocument) -> list[str]:
    """A document's distinct TF-IDF terms as indexes before term keys wrote them: its words
    but stop words, and ``name:`` + each name."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from dedup.text.packed import unpack_features

    features = unpack_features(record.features)
    terms = set()
    for word, is_name in zip(features.words, features.names.tolist()):
        if word not in ENGLISH_STOP_WORDS:
            terms.add(word)
            if is_name:
                terms.add(f"name:{word}")
    return sorted(terms)


def index_seeds(location: str | Path) -> tuple[dict, list[StoredDocument], list[int]]:
    """Four seeds indexed at ``location``: the verdict on the fifth, the records, and the
    keys of every term they hold."""
    texts = [(SEEDS / name).read_text(encoding="utf-8") for name in SEED_IDS]
    with Gate(location) as gate:
        for n, text in enumerate(texts[:4]):
            gate.add({"id": f"d{n}", "text": text})
        verdict = gate.check({"id": "q", "text": texts[4]})
        records = gate.store.get_many([f"d{n}" for n in range(4)])
    assert verdict["matches"] and all(m["cosine"] > 0 for m in verdict["matches"])
    return verdict, records, sorted({k for r in records for k in r.terms})


@pytest.mark.parametrize("version", [2, 3, 4])
def test_an_sqlite_index_of_an_earlier_schema_is_upgraded_and_answers_as_a_new_one(
    tmp_path: Path, version: int
) -> None:
    import sqlite3
    from collections import Counter

    from dedup.store import SCHEMA_VERSION

    path = tmp_path / "old.db"
    expected, records, terms = index_seeds(path)
    store = SQLiteStore(path)
    _, expected_df = store.document_frequencies(np.array(terms, dtype=np.uint64))
    store.close()
    # Back to the layout of ``version``: band keys and terms in the records, terms written
    # out before 4 (and 2 has no features column and no stored count).
    written = {r.id: written_terms(r) for r in records}
    conn = sqlite3.connect(path)
    with conn:
        for r in records:
            r.terms = written[r.id] if version < 4 else r.terms
            conn.execute(
                "UPDATE documents SET record=? WHERE id=?", (r.to_json(features=False), r.id)
            )
        if version < 4:
            conn.execute("DROP TABLE terms")
            conn.execute(
                "CREATE TABLE terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID"
            )
            conn.executemany(
                "INSERT INTO terms VALUES (?, ?)",
                Counter(t for r in records for t in r.terms).items(),
            )
        conn.execute("ALTER TABLE documents DROP COLUMN keys")  # in the records before 4
        conn.execute("DROP INDEX documents_ids")  # candidates read ids from it since 5
        if version == 2:
            conn.execute("ALTER TABLE documents DROP COLUMN features")
            conn.execute("DELETE FROM meta WHERE key='count'")
        conn.execute("UPDATE meta SET value=? WHERE key='schema'", (str(version),))
    conn.close()
    with Gate(path) as gate:
        assert (gate.store.get("d0").features is None) == (version == 2)
        assert gate.stats()["documents"] == 4
        verdict = gate.check({"id": "q", "text": (SEEDS / SEED_IDS[4]).read_text(encoding="utf-8")})
        count, frequencies = gate.store.document_frequencies(np.array(terms, dtype=np.uint64))
        assert sorted(gate.store.get("d1").terms) == sorted(set(term_key(t) for t in written["d1"]))
    assert verdict == expected  # cosines included: the same document frequencies
    assert count == 4 and frequencies.tolist() == expected_df.tolist()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    assert conn.execute("SELECT sql FROM sqlite_master WHERE name='documents_ids'").fetchone()
    conn.execute("UPDATE meta SET value='99' WHERE key='schema'")
    conn.commit()
    conn.close()
    with pytest.raises(
        StoreError, match=r"schema version 99, this dedup reads 5 \(and upgrades 2, 3, 4\)"
    ):
        Gate(path)


# --- Redis only -----------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_prefixes_keep_indexes_apart(redis_url: str) -> None:
    one = RedisStore(redis_url + "-one")
    two = RedisStore(redis_url + "-two")
    try:
        one.add(make("a", band_keys=[1], terms=keys("x")))
        assert two.count() == 0
        assert two.get("a") is None
        assert two.candidates([1]) == {}
        assert frequencies(two, "x") == (0, {})
        assert one.count() == 1
    finally:
        one.close()
        two.close()


@pytest.mark.redis
def test_redis_default_prefix_is_dedup(redis_server: str) -> None:
    store = RedisStore(redis_server)
    try:
        assert store.prefix == "dedup"
        assert "prefix" not in store.url
    finally:
        store.close()


def test_redis_unreachable_is_a_store_error_without_password() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError) as caught:
        RedisStore(f"redis://:s3cret@127.0.0.1:{port}/0?prefix=news")
    message = str(caught.value)
    assert f"redis://:***@127.0.0.1:{port}/0" in message
    assert "s3cret" not in message
    assert "start redis-server there, or check the host, port and password" in message


def test_redis_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis now raises ImportError
    with pytest.raises(ConfigError) as caught:
        open_store("redis://127.0.0.1:6379/0")
    assert str(caught.value) == (
        "the Redis backend needs the redis package: pip install 'dedup[redis]'"
    )


@pytest.mark.redis
def test_redis_empty_prefix_is_a_config_error(redis_server: str) -> None:
    with pytest.raises(ConfigError, match="empty prefix"):
        RedisStore(redis_server + "?prefix=")


@pytest.mark.redis
@pytest.mark.parametrize("version", [3, 4])
def test_a_redis_index_of_an_earlier_layout_is_upgraded_and_answers_as_a_new_one(
    redis_url: str,
    version: int,
) -> None:
    from collections import Counter

    import redis

    from dedup.store.redis import SCHEMA_VERSION

    expected, records, terms = index_seeds(redis_url)
    store = RedisStore(redis_url)
    _, expected_df = store.document_frequencies(np.array(terms, dtype=np.uint64))
    prefix = store.prefix
    store.close()
    # Back to the layout of ``version``: terms written out as hash fields and in the records
    # (3 also has no features in its records).
    client = redis.Redis.from_url(redis_url.split("?")[0])
    client.delete(f"{prefix}:terms")
    for r in records:
        r.terms = written_terms(r)
        r.features = None if version == 3 else r.features
        client.set(f"{prefix}:doc:{r.id}", r.to_json())
    client.hset(f"{prefix}:terms", mapping=Counter(t for r in records for t in r.terms))
    client.hset(f"{prefix}:meta", "schema", version)
    with Gate(redis_url) as gate:
        assert (gate.store.get("d0").features is None) == (version == 3)
        verdict = gate.check({"id": "q", "text": (SEEDS / SEED_IDS[4]).read_text(encoding="utf-8")})
        count, frequencies = gate.store.document_frequencies(np.array(terms, dtype=np.uint64))
    assert verdict == expected
    assert count == 4 and frequencies.tolist() == expected_df.tolist()
    assert {len(field) for field in client.hkeys(f"{prefix}:terms")} == {8}
    assert int(client.hget(f"{prefix}:meta", "schema")) == SCHEMA_VERSION
    assert not client.exists(f"{prefix}:upgrade")
    client.hset(f"{prefix}:meta", "schema", 2)
    with pytest.raises(StoreError, match="schema version 2, this dedup reads 5"):
        Gate(redis_url)
    client.close()
