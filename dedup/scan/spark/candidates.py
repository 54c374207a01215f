"""The Spark scan's LSH stage: every window's band keys computed where its document is,
(key, band, document) rows shuffled by key as numpy blocks, each bucket expanded into pairs
by the local LSH's rule (:func:`~dedup.match.lsh.expand_buckets`), and the pairs made
distinct by a second shuffle."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ...config import ScanConfig
from ...match.compare import Prepared
from ...match.lsh import CandidateStats, band_keys, expand_buckets, log_oversized, lsh_params
from ...match.windows import Windows
from ...util.arrays import unique

_BAND_SHIFT = np.uint64(54)  # (band << 54) | document: up to 1024 bands, 2^54 documents


def candidate_pairs(
    spark: Any, prepared: Any, n_docs: int, windows: int, config: ScanConfig, partitions: int
) -> tuple[Any, CandidateStats]:
    """Candidate pairs as an RDD of numpy blocks of distinct pair codes ``i * n_docs + j``
    (each block the pairs whose first document falls in one partition), and the LSH's
    statistics.

    Args:
        spark: The session.
        prepared: ``(index, (Prepared, Windows))`` of every document.
        n_docs: The number of documents.
        windows: Their number of windows.
        config: The LSH threshold, signature length and bucket limit.
        partitions: Partitions of the shuffles.
    """
    stats = CandidateStats(windows=windows)
    if not stats.windows:
        return spark.sparkContext.parallelize([], 1), stats
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    stats.bands, stats.rows = bands, rows
    limit = config.max_bucket_size
    expanded = (
        prepared.mapPartitions(lambda records: _band_rows(records, bands, rows, partitions))
        .partitionBy(partitions, lambda part: part)
        .mapPartitions(lambda blocks: _bucket_pairs(blocks, n_docs, limit, partitions))
        .persist()
    )
    for buckets, oversized in expanded.filter(lambda kv: kv[0] == -1).values().collect():
        stats.buckets += buckets
        stats.oversized_buckets += oversized
    pairs = (
        expanded.filter(lambda kv: kv[0] >= 0)
        .partitionBy(partitions, lambda part: part)
        .mapPartitions(_unique_codes)
        .persist()
    )
    stats.pairs = pairs.map(len).sum()
    expanded.unpersist()
    log_oversized(stats, limit)
    return pairs, stats


def _band_rows(
    records: Iterable[tuple[int, tuple[Prepared, Windows]]], bands: int, rows: int, partitions: int
) -> Iterator[tuple[int, np.ndarray]]:
    """The partition's windows as distinct rows (key, band << 54 | document), 16 bytes each,
    in one numpy block per destination partition (by key)."""
    signatures, docs = [], []
    for index, (_, windows) in records:
        if len(windows):
            signatures.append(windows.signatures)
            docs.append(np.full(len(windows), index, dtype=np.uint64))
    if not signatures:
        return
    keys = band_keys(np.concatenate(signatures), bands, rows)
    n = keys.shape[0]
    block = np.empty((n * bands, 2), dtype=np.uint64)
    block[:, 0] = keys.ravel()
    block[:, 1] = np.tile(np.arange(bands, dtype=np.uint64) << _BAND_SHIFT, n)
    block[:, 1] |= np.repeat(np.concatenate(docs), bands)
    block = np.unique(block, axis=0)
    destination = block[:, 0] % np.uint64(partitions)
    for part in unique(destination).tolist():
        yield part, block[destination == part]


def _bucket_pairs(
    blocks: Iterable[tuple[int, np.ndarray]], n_docs: int, max_bucket_size: int, partitions: int
) -> Iterator[tuple[int, Any]]:
    """Expand a partition's buckets into document pairs (pair codes, ``i < j``), as one block
    per destination partition (by the pairs' first document: its partition then holds every
    pair scored in one place later); and the partition's bucket counts (key -1)."""
    arrays = [block for _, block in blocks]
    if not arrays:
        return
    rows = np.unique(np.concatenate(arrays), axis=0)  # sorted by (key, band, document)
    key, band = rows[:, 0], rows[:, 1] >> _BAND_SHIFT
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (band[1:] != band[:-1])])
    doc = (rows[:, 1] & ((np.uint64(1) << _BAND_SHIFT) - np.uint64(1))).astype(np.int64)
    stats = CandidateStats()
    codes, _ = expand_buckets(doc, starts, n_docs, max_bucket_size, stats)
    yield -1, (stats.buckets, stats.oversized_buckets)
    if len(codes):
        found = unique(codes)
        destination = (found // n_docs) % partitions
        for part in unique(destination).tolist():
            yield part, found[destination == part]


def _unique_codes(blocks: Iterable[tuple[int, np.ndarray]]) -> Iterator[np.ndarray]:
    arrays = [block for _, block in blocks]
    if arrays:
        yield unique(np.concatenate(arrays))
