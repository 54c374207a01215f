"""The Spark scan's stages wired together: :func:`scan_spark`."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from operator import add
from typing import Any

import numpy as np
from scipy import sparse

from ...config import ScanConfig
from ...group.provenance import Link
from ...match.align import char_spans
from ...match.candidates import TermPairs, language_codes
from ...match.candidates import candidate_pairs as all_candidates
from ...match.compare import Prepared, prepare
from ...match.lsh import CandidateStats
from ...match.minhash import MinHasher
from ...match.windows import Windows, window_signatures
from ...models import Document, ScanResult
from ...text.clean import REPEAT_MIN_DOCS, clean_documents, line_keys
from ...text.features import Features
from ...text.load import LoadResult
from ...util.progress import Progress, no_progress, record_stage
from ..assemble import assemble
from .candidates import candidate_pairs
from .inputs import Loaded, load_documents
from .pairs import (
    compare_partition,
    document_records,
    pair_blocks,
    pair_side,
    requests,
    term_entries,
    vocabulary_of,
)
from .session import import_pyspark, spark_session

# Documents per partition: about 30 KB each once prepared (features, shingles, signatures),
# so a partition of 5,000 stays near 150 MB in a Python worker.
DOCS_PER_PARTITION = 5_000
# Above this many documents the last stage streams them to the driver partition by
# partition instead of collecting them at once.
COLLECT_AT_ONCE = 20_000


def scan_spark(
    paths: Iterable[str | os.PathLike[str]],
    config: ScanConfig | None = None,
    *,
    spark: Any = None,
    master: str | None = None,
    conf: dict[str, str] | None = None,
    partitions: int | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan files and folders with Spark; the same result as :func:`dedup.scan.local.scan`.

    Args:
        paths: Folders, files, Parquet datasets (``*.parquet``), local or URIs Hadoop reads
            (``hdfs://``, ``s3a://``, ``file://``).
        config: Parameters; the defaults when None.
        spark: A SparkSession to use (left running); else one is started with ``master`` and
            ``conf`` (see :func:`~dedup.scan.spark.session.spark_session`) and stopped at
            the end.
        master: Spark master URL when a session is started.
        conf: Extra Spark properties when a session is started.
        partitions: Partitions of the document and pair stages; default one per
            DOCS_PER_PARTITION documents, at least twice the default parallelism.
        progress: Called as ``progress(stage, done, total)`` after each stage.

    Raises:
        ConfigError: pyspark, or a suitable Java, is missing.
        NoDocumentsError: no document could be read.
    """
    config = config or ScanConfig()
    paths = list(paths)
    owned = spark is None
    if owned:
        import_pyspark()
        from pyspark.sql import SparkSession

        owned = SparkSession.getActiveSession() is None
        spark = spark_session(master, conf)
    try:
        return _Scan(spark, config, progress or no_progress).run(paths, partitions)
    finally:
        if owned:
            spark.stop()


@dataclass
class _Scan:
    """One Spark scan: its session and parameters, and the RDDs it persisted (unpersisted
    at the end)."""

    spark: Any
    config: ScanConfig
    report: Progress
    timings: dict[str, float] = field(default_factory=dict)
    cached: list[Any] = field(default_factory=list)
    # The candidate stage's term pairs, which the story groups read theirs off.
    _terms: TermPairs | None = None

    def persist(self, rdd: Any) -> Any:
        from pyspark import StorageLevel

        self.cached.append(rdd)
        return rdd.persist(StorageLevel.MEMORY_AND_DISK)

    def run(self, paths: list[str | os.PathLike[str]], partitions: int | None) -> ScanResult:
        clock = time.perf_counter()
        loaded = load_documents(self.spark, paths, self.config)
        self.cached.append(loaded.source)
        n_docs = loaded.count
        parts = partitions or max(
            self.spark.sparkContext.defaultParallelism, math.ceil(n_docs / DOCS_PER_PARTITION)
        )
        prepared, windows = self._clean_and_prepare(loaded, parts, clock)
        clock = time.perf_counter()
        pairs, stats = candidate_pairs(self.spark, prepared, n_docs, windows, self.config, parts)
        self.cached.append(pairs)
        record_stage(self.timings, "lsh", time.perf_counter() - clock)
        self.report("lsh", stats.pairs, stats.pairs)
        records, width = self._tfidf(prepared, n_docs)
        docs, features, tfidf, text_keys = self._collect(records, n_docs, width)
        pairs = self._all_candidates(pairs, text_keys, tfidf, stats, parts, language_codes(docs))
        scored = self._compare(pairs, records, n_docs, parts)
        for rdd in self.cached:
            rdd.unpersist()
        links = [Link(i, j, found) for i, j, _, alignments in scored for found in alignments]
        chars = np.array(
            [char_spans(features[x.a], features[x.b], x.alignment) for x in links],
            dtype=np.int64,
        ).reshape(-1, 4)
        return assemble(
            LoadResult(docs, loaded.skipped, loaded.ignored),
            [f.hashes for f in features],
            [score for _, _, score, _ in scored],
            links,
            chars,
            tfidf,
            self.config,
            candidates=asdict(stats),
            timings=self.timings,
            terms=self._terms,
        )

    def _clean_and_prepare(self, loaded: Loaded, parts: int, clock: float) -> tuple[Any, int]:
        """Number the documents in the local loader's order (partition k holds the k-th range
        of numbers, and every later per-document stage keeps that layout: narrow maps only),
        count the lines repeated across documents of a source, clean and prepare."""
        sc = self.spark.sparkContext
        numbered = loaded.documents.sortByKey(numPartitions=parts).values().zipWithIndex()
        lined = self.persist(numbered.map(lambda kv: (kv[1], (kv[0], line_keys(kv[0])))))
        record_stage(self.timings, "load", time.perf_counter() - clock)
        self.report("load", loaded.count, loaded.count)

        clock = time.perf_counter()
        repeated = (
            lined.flatMap(lambda kv: [(key, 1) for key in kv[1][1]])
            .reduceByKey(add)
            .filter(lambda kv: kv[1] >= REPEAT_MIN_DOCS)
            .keys()
            .collect()
        )
        loaded.source.unpersist()
        shared = sc.broadcast(set(repeated))
        cleaned = lined.mapPartitions(
            lambda records: _clean_partition(records, shared.value), preservesPartitioning=True
        )
        # Cleaning runs with the next stage.
        record_stage(self.timings, "clean", time.perf_counter() - clock)

        clock = time.perf_counter()
        config = self.config
        prepared = self.persist(
            cleaned.mapPartitions(
                lambda records: _prepare_partition(records, config), preservesPartitioning=True
            )
        )
        windows = prepared.map(lambda kv: len(kv[1][1])).sum()
        lined.unpersist()
        record_stage(self.timings, "features_minhash", time.perf_counter() - clock)
        self.report("features", loaded.count, loaded.count)
        return prepared, windows

    def _tfidf(self, prepared: Any, n_docs: int) -> tuple[Any, int]:
        """Each document's record with its TF-IDF row, over the vocabulary whose document
        frequencies Spark counts; and the vocabulary's size."""
        clock = time.perf_counter()
        entries = prepared.flatMap(term_entries).reduceByKey(add).collect()
        vocabulary = self.spark.sparkContext.broadcast(vocabulary_of(entries, n_docs))
        records = self.persist(
            prepared.mapPartitions(
                lambda items: document_records(items, vocabulary), preservesPartitioning=True
            )
        )
        # The rows are made with the next stage.
        record_stage(self.timings, "tfidf", time.perf_counter() - clock)
        return records, len(entries)

    def _all_candidates(
        self,
        window_pairs: Any,
        text_keys: np.ndarray,
        tfidf: sparse.csr_matrix,
        stats: CandidateStats,
        parts: int,
        languages: np.ndarray,
    ) -> Any:
        """Every candidate pair, as locally (:func:`~dedup.match.candidates.candidate_pairs`
        on the driver, from the windows' pairs the LSH stage found and the TF-IDF rows),
        sent back as one block a partition: ``(pair codes, shares a window)``."""
        clock = time.perf_counter()
        n_docs = max(len(text_keys), 1)
        codes = np.concatenate([np.empty(0, dtype=np.int64), *window_pairs.collect()])
        found, shares_window, self._terms = all_candidates(
            np.stack([codes // n_docs, codes % n_docs], axis=1),
            text_keys,
            tfidf,
            self.config,
            stats,
            languages=languages,
        )
        codes = found[:, 0] * n_docs + found[:, 1]
        part = (found[:, 0] % parts) if len(found) else np.empty(0, dtype=np.int64)
        blocks = [(codes[part == p], shares_window[part == p]) for p in range(parts)]
        blocks = [block for block in blocks if len(block[0])]
        record_stage(self.timings, "candidates", time.perf_counter() - clock)
        return self.spark.sparkContext.parallelize(blocks, max(len(blocks), 1))

    def _compare(self, pairs: Any, records: Any, n_docs: int, parts: int) -> list[tuple]:
        """Score and align every pair where its first document's partition is; each record
        travels once to every partition that scores a pair of it (not once per pair)."""
        clock = time.perf_counter()
        config = self.config
        shipped = (
            pairs.flatMap(lambda block: requests(block[0], n_docs, parts))
            .join(records.mapValues(pair_side), parts)
            .map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
        )
        blocks = pairs.flatMap(lambda block: pair_blocks(block, n_docs, parts))
        results = (
            shipped.union(blocks)
            .partitionBy(parts, lambda part: part)
            .mapPartitions(lambda items: compare_partition(items, n_docs, config))
        )
        scored = sorted(results.collect(), key=lambda r: (r[0], r[1]))
        record_stage(self.timings, "score_align", time.perf_counter() - clock)
        self.report("align", len(scored), len(scored))
        return scored

    def _collect(
        self, records: Any, n_docs: int, width: int
    ) -> tuple[list[Document], list[Features], sparse.csr_matrix, np.ndarray]:
        """The documents, their features, TF-IDF rows and text keys, brought to the driver
        in order (the candidates by terms and the last stage need them)."""
        clock = time.perf_counter()
        documents: list[Document] = []
        features: list[Features] = []
        text_keys: list[int] = []
        indptr, columns, values = [0], [], []
        rows = records.map(lambda kv: (kv[0], kv[1].prepared.doc, kv[1].prepared.features, kv[1]))
        stream = (
            rows.collect()
            if n_docs <= COLLECT_AT_ONCE
            else rows.toLocalIterator(prefetchPartitions=True)
        )
        for index, doc, feat, record in stream:
            if index != len(documents):
                raise RuntimeError(f"document {index} arrived out of order")  # a bug, not input
            documents.append(doc)
            features.append(feat)
            text_keys.append(record.prepared.text_key)
            columns.append(record.columns)
            values.append(record.values)
            indptr.append(indptr[-1] + len(record.columns))
        tfidf = sparse.csr_matrix(
            (
                np.concatenate([np.empty(0, dtype=np.float32), *values]),
                np.concatenate([np.empty(0, dtype=np.int32), *columns]),
                np.asarray(indptr, dtype=np.int32 if indptr[-1] < 2**31 else np.int64),
            ),
            shape=(n_docs, max(width, 1)),
            dtype=np.float32,
        )
        record_stage(self.timings, "collect", time.perf_counter() - clock)
        return documents, features, tfidf, np.array(text_keys, dtype=np.uint64)


def _clean_partition(
    records: Iterable[tuple[int, tuple[Document, list[int]]]], repeated: set[int]
) -> Iterator[tuple[int, Document]]:
    """Clean each document as ``clean_documents`` does on the whole corpus, given the keys
    of the corpus's repeated lines (counted by Spark)."""
    for index, (doc, _) in records:
        yield index, clean_documents([doc], repeated)[0]


def _prepare_partition(
    records: Iterable[tuple[int, Document]], config: ScanConfig
) -> Iterator[tuple[int, tuple[Prepared, Windows]]]:
    """Each document prepared for comparison, with its sentence windows."""
    records = list(records)
    hasher = MinHasher(config.num_perm, config.seed)
    prepared = prepare([doc for _, doc in records], config, hasher)
    windows = window_signatures([p.features for p in prepared], config, hasher)
    return zip((index for index, _ in records), zip(prepared, windows))
