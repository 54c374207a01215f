"""Candidate pairs from MinHash LSH (datasketch) over sentence windows.

Whole documents are too coarse: a story that re-runs four wire sentences shares little with
the wire story as a whole. Every document is indexed as overlapping windows of a few
sentences; two documents become a candidate pair when any of their windows share an LSH
bucket. Candidates are read straight off the LSH buckets (no query per window), so the cost
grows with the number of windows, not with the number of pairs of documents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from datasketch import MinHashLSH

from .signatures import MinHasher

log = logging.getLogger(__name__)


@dataclass
class CandidateStats:
    """What candidate generation did: windows indexed, buckets, and buckets left out."""

    windows: int = 0
    buckets: int = 0
    oversized_buckets: int = 0
    pairs: int = 0


def candidate_pairs(
    window_signatures: np.ndarray,
    window_docs: np.ndarray,
    hasher: MinHasher,
    *,
    threshold: float,
    max_bucket_size: int,
) -> tuple[np.ndarray, CandidateStats]:
    """Pairs of documents (``i < j``) with at least one pair of windows in one LSH bucket.

    Args:
        window_signatures: One MinHash signature per window (rows).
        window_docs: The document index of each window.
        hasher: The hasher that made the signatures (num_perm, seed).
        threshold: Jaccard threshold of the LSH (datasketch picks bands and rows for it).
        max_bucket_size: A bucket holding more documents than this is a shared boilerplate
            window, not reuse: it is not expanded into pairs (which would be quadratic).

    Returns:
        An ``(n, 2)`` int array of document index pairs, sorted, and the statistics.
    """
    stats = CandidateStats(windows=len(window_docs))
    lsh = MinHashLSH(threshold=threshold, num_perm=hasher.num_perm)
    with lsh.insertion_session() as session:
        for key, signature in enumerate(window_signatures):
            session.insert(key, hasher.minhash(signature), check_duplication=False)
    pair_codes: set[int] = set()
    n_docs = int(window_docs.max()) + 1 if len(window_docs) else 0
    for table in lsh.hashtables:
        for bucket in table.keys():  # noqa: SIM118 (a datasketch storage, not a dict)
            members = table.get(bucket)
            if len(members) < 2:
                continue
            stats.buckets += 1
            docs = np.unique(window_docs[np.fromiter(members, dtype=np.int64, count=len(members))])
            if len(docs) < 2:
                continue
            if len(docs) > max_bucket_size:
                stats.oversized_buckets += 1
                continue
            first, second = np.triu_indices(len(docs), k=1)
            pair_codes.update((docs[first] * n_docs + docs[second]).tolist())
    if stats.oversized_buckets:
        log.warning(
            "%d LSH buckets held more than %d documents and were not expanded "
            "(text shared by that many documents is boilerplate, not reuse)",
            stats.oversized_buckets,
            max_bucket_size,
        )
    codes = np.array(sorted(pair_codes), dtype=np.int64)
    pairs = (
        np.stack([codes // max(n_docs, 1), codes % max(n_docs, 1)], axis=1)
        if len(codes)
        else np.empty((0, 2), dtype=np.int64)
    )
    stats.pairs = len(pairs)
    return pairs, stats
