"""Inserts and queries per second of the gate's stores, against datasketch's LSH.

Usage: python benchmarks/gate_store.py [--n 20000] [--data ../shared/data/reuters21578]
       [--redis-url redis://127.0.0.1:6379/0] [--datasketch-redis-n N]

Documents are Reuters-21578 stories (``benchmarks/reuters.py``), prepared as the gate prepares
them; only the store operations are timed. Each backend inserts every document, then queries
every document:

- datasketch ``MinHashLSH`` with its Redis storage, used naively (``insert`` and ``query`` per
  document: a round trip per band key), and in memory; one MinHash of the whole text each;
- dedup's ``RedisStore`` and ``SQLiteStore`` with the gate's key layout: ``add`` stores the
  band keys of every sentence window (the gate's 12 bands x 2 rows), ``candidates`` looks up
  those of the windows that tile the document, as ``Gate.check`` does; ``add_many`` in
  batches too (one pipelined round trip per batch).

The last column divides by the naive datasketch rates of the same run (the issue quoted 147
inserts/s and 279 queries/s for it). The whole gate (``Gate.add``, then ``Gate.check``, on
``--gate-n`` documents) is timed too, to show what share of a gate's time the store takes.
Without ``--redis-url`` a redis-server (on PATH) is started on a free loopback port for the
run. Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reuters import DEFAULT_DATA, stories

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasketch import MinHash, MinHashLSH  # noqa: E402

from dedup.config import ScanConfig  # noqa: E402
from dedup.gate import Gate, fingerprint  # noqa: E402
from dedup.gate.records import prepare_incoming  # noqa: E402
from dedup.match.lsh import lsh_params  # noqa: E402
from dedup.match.minhash import MinHasher  # noqa: E402
from dedup.store import StoredDocument, open_store  # noqa: E402
from dedup.text.features import term_counts  # noqa: E402
from dedup.text.load import record_document  # noqa: E402


def load(data: Path, n: int) -> tuple[list[StoredDocument], list[list[int]], list[MinHash]]:
    """The first ``n`` stories as the gate stores them, the keys the gate looks up for each,
    and a whole-text MinHash of each."""
    config = ScanConfig()
    docs = []
    for story in stories(data):
        doc = record_document(story, "", story["id"], "")
        doc.id, doc.path = story["id"], ""
        docs.append(doc)
        if len(docs) >= n:
            break
    prepared = prepare_incoming(docs, config, MinHasher(config.num_perm, config.seed))
    stored, lookups, minhashes = [], [], []
    with (
        tempfile.TemporaryDirectory(prefix="dedup-keys-") as folder,
        Gate(Path(folder) / "keys.db", config) as gate,
    ):  # only for its key layout (bands, rows, which windows)
        for item in prepared:
            stored.append(
                StoredDocument(
                    id=item.doc.id,
                    fingerprint=fingerprint(item.doc.text),
                    text=item.doc.text,
                    removed=[list(span) for span in item.doc.removed],
                    band_keys=gate.index_keys(item),
                    terms=term_counts(item.prepared.features)[0].tolist(),
                )
            )
            lookups.append(gate.index_keys(item, lookup=True))
            minhashes.append(
                MinHash(
                    num_perm=config.num_perm,
                    seed=config.seed,
                    scheme="affine32",
                    hashvalues=item.prepared.signature,
                )
            )
    return stored, lookups, minhashes


def rate(count: int, run: Callable[[int], Any]) -> float:
    """Calls per second of ``run(i)`` for ``i`` in ``range(count)``."""
    start = time.perf_counter()
    for i in range(count):
        run(i)
    return count / (time.perf_counter() - start)


def bench_datasketch(
    minhashes: Sequence[MinHash], storage: dict | None, n: int
) -> tuple[float, float]:
    config = ScanConfig()
    kwargs = {"storage_config": storage} if storage else {}
    lsh = MinHashLSH(threshold=config.lsh_threshold, num_perm=config.num_perm, **kwargs)
    inserts = rate(n, lambda i: lsh.insert(str(i), minhashes[i]))
    queries = rate(n, lambda i: lsh.query(minhashes[i]))
    return inserts, queries


def bench_store(
    location: str,
    docs: Sequence[StoredDocument],
    lookups: Sequence[list[int]],
    batch: int = 0,
) -> tuple[float, float]:
    """``add`` (or ``add_many`` in batches of ``batch``) per document, then ``candidates``."""
    store = open_store(location)
    if batch:
        started = time.perf_counter()
        for start in range(0, len(docs), batch):
            store.add_many(docs[start : start + batch])
        inserts = len(docs) / (time.perf_counter() - started)
    else:
        inserts = rate(len(docs), lambda i: store.add(docs[i]))
    queries = rate(len(docs), lambda i: store.candidates(lookups[i]))
    if store.count() != len(set(d.id for d in docs)):
        raise SystemExit(f"{type(store).__name__} holds {store.count()} documents, not {len(docs)}")
    store.close()
    return inserts, queries


def bench_gate(location: Path, docs: Sequence[StoredDocument]) -> tuple[float, float]:
    """``Gate.add`` (clean, MinHash, candidates, scoring, store) and ``Gate.check`` per second."""
    records = [{"id": doc.id, "text": doc.text} for doc in docs]
    with Gate(location) as gate:
        inserts = rate(len(records), lambda i: gate.add(records[i]))
        queries = rate(len(records), lambda i: gate.check(records[i]))
    return inserts, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="documents (default 20,000)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Reuters-21578 folder")
    parser.add_argument("--redis-url", help="a Redis to use (default: start redis-server)")
    parser.add_argument(
        "--datasketch-redis-n",
        type=int,
        default=0,
        help="documents for datasketch's naive Redis storage (default: all; it is slow)",
    )
    parser.add_argument(
        "--gate-n", type=int, default=1000, help="documents for the whole gate (default 1,000)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    docs, lookups, minhashes = load(args.data, args.n)
    ours = sum(len(d.band_keys) for d in docs) / len(docs)
    looked_up = sum(len(keys) for keys in lookups) / len(lookups)
    theirs = lsh_params(ScanConfig().lsh_threshold, ScanConfig().num_perm)[0]
    print(
        f"{len(docs):,} documents prepared in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    server = None
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as folder:
        url = args.redis_url
        if url is None:
            from tests.support import RedisServer

            server = RedisServer(Path(folder))
            url = server.url
        try:
            n_redis = min(args.datasketch_redis_n or len(docs), len(docs))
            parts = urlsplit(url)
            storage = {
                "type": "redis",
                "basename": f"bench-{time.time_ns()}".encode(),
                "redis": {"host": parts.hostname, "port": parts.port or 6379},
            }
            gate_docs = docs[: args.gate_n]
            gate_keys = (
                sum(len(d.band_keys) for d in gate_docs) / len(gate_docs),
                sum(len(k) for k in lookups[: args.gate_n]) / len(gate_docs),
            )
            cases: list[tuple[str, int, tuple[float, float], Callable[[], tuple[float, float]]]] = [
                (
                    "datasketch MinHashLSH, Redis storage (naive)",
                    n_redis,
                    (theirs, theirs),
                    lambda: bench_datasketch(minhashes, storage, n_redis),
                ),
                (
                    "datasketch MinHashLSH, in memory",
                    len(docs),
                    (theirs, theirs),
                    lambda: bench_datasketch(minhashes, None, len(docs)),
                ),
                (
                    "dedup RedisStore",
                    len(docs),
                    (ours, looked_up),
                    lambda: bench_store(f"{url}?prefix=bench-{time.time_ns()}", docs, lookups),
                ),
                (
                    "dedup RedisStore, add_many in batches of 100",
                    len(docs),
                    (ours, looked_up),
                    lambda: bench_store(
                        f"{url}?prefix=batch-{time.time_ns()}", docs, lookups, batch=100
                    ),
                ),
                (
                    "dedup SQLiteStore (WAL, synchronous FULL)",
                    len(docs),
                    (ours, looked_up),
                    lambda: bench_store(str(Path(folder) / "index.db"), docs, lookups),
                ),
                (
                    "dedup Gate.add / Gate.check on SQLite (whole gate)",
                    len(gate_docs),
                    gate_keys,
                    lambda: bench_gate(Path(folder) / "gate.db", gate_docs),
                ),
                (
                    "dedup Gate.add / Gate.check on Redis (whole gate)",
                    len(gate_docs),
                    gate_keys,
                    lambda: bench_gate(f"{url}?prefix=gate-{time.time_ns()}", gate_docs),
                ),
            ]
            for name, count, keys, run in cases:
                print(f"{name} ...", file=sys.stderr)
                rows.append((name, count, keys, *run()))
        finally:
            if server is not None:
                server.stop()
    print(
        "\n| backend | documents | band keys stored/doc | looked up/doc | inserts/s "
        "| queries/s | vs naive (inserts, queries) |"
        "\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    naive_inserts, naive_queries = rows[0][3], rows[0][4]
    for name, count, (stored, looked), inserts, queries in rows:
        print(
            f"| {name} | {count:,} | {stored:.0f} | {looked:.0f} | {inserts:,.0f} "
            f"| {queries:,.0f} | {inserts / naive_inserts:.1f}x, {queries / naive_queries:.1f}x |"
        )


if __name__ == "__main__":
    main()
