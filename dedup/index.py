"""Candidate pairs from MinHash LSH banding over sentence windows.

Whole documents are too coarse: a story that re-runs four wire sentences shares little with
the wire story as a whole. Every document is indexed as overlapping windows of a few
sentences; two documents become a candidate pair when any of their windows share an LSH
bucket in any band.

The banding is datasketch's: the number of bands and rows comes from
:class:`datasketch.MinHashLSH` for the threshold (its false-positive/negative optimum), and two
windows share a bucket exactly when they would in a ``MinHashLSH`` (a test checks it). The
buckets are computed with numpy for all windows at once and read off directly, with no query
per window, so the cost grows with the number of windows, not with pairs of documents. The
same band keys are what the gate stores (``band_keys``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHashLSH

from .arrays import unique

log = logging.getLogger(__name__)

_MIX = np.uint64(0x9E3779B97F4A7C15)
_BAND_SALT = np.uint64(0xC2B2AE3D27D4EB4F)
_KEY_BLOCK = 8192  # windows per block of band_keys (a few MB: stays in the cache)


@dataclass
class CandidateStats:
    """What candidate generation did: windows indexed, buckets, and buckets left out."""

    windows: int = 0
    bands: int = 0
    rows: int = 0
    buckets: int = 0
    oversized_buckets: int = 0
    pairs: int = 0


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows per band datasketch's ``MinHashLSH`` chooses for ``threshold``."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit bucket key per window and band, shape ``(n, bands)`` (a view of a
    ``(bands, n)`` array: each band's keys are contiguous, as the LSH reads them).

    Equal keys in one column mean equal signature values in that band (up to 64-bit hash
    collisions, about one in 10^19 per pair); the band number is mixed in, so keys of
    different bands never meet in a shared store.
    """
    n = len(signatures)
    by_band = np.empty((bands, n), dtype=np.uint64)
    salts = np.arange(1, bands + 1, dtype=np.uint64) * _BAND_SALT
    with np.errstate(over="ignore"):
        # Blocks of windows small enough for the cache; all bands of a block at once.
        for start in range(0, n, _KEY_BLOCK):
            block = signatures[start : start + _KEY_BLOCK, : bands * rows].astype(np.uint64)
            values = block.reshape(len(block), bands, rows)
            key = np.broadcast_to(salts, (len(block), bands))
            for row in range(rows):
                key = (key ^ values[:, :, row]) * _MIX
                key ^= key >> np.uint64(29)
            by_band[:, start : start + _KEY_BLOCK] = key.T
    return by_band.T


def candidate_pairs(
    window_signatures: np.ndarray,
    window_docs: np.ndarray,
    *,
    threshold: float,
    max_bucket_size: int,
) -> tuple[np.ndarray, CandidateStats]:
    """Pairs of documents (``i < j``) with at least one pair of windows in one LSH bucket.

    Args:
        window_signatures: One MinHash signature per window (rows).
        window_docs: The document index of each window.
        threshold: Jaccard threshold of the LSH (bands and rows chosen by datasketch).
        max_bucket_size: A bucket holding more documents than this is a shared boilerplate
            window, not reuse: it is not expanded into pairs (which would be quadratic).

    Returns:
        An ``(n, 2)`` int array of document index pairs, sorted, and the statistics.
    """
    num_perm = window_signatures.shape[1] if window_signatures.ndim == 2 else 0
    stats = CandidateStats(windows=len(window_docs))
    if len(window_docs) == 0:
        return np.empty((0, 2), dtype=np.int64), stats
    bands, rows = lsh_params(threshold, num_perm)
    stats.bands, stats.rows = bands, rows
    by_band = band_keys(window_signatures, bands, rows).T
    docs = window_docs.astype(np.int64)
    n_docs = int(docs.max()) + 1
    n_windows = len(docs)
    codes: list[np.ndarray] = []
    for band in range(bands):
        # (key, doc) pairs, each once, sorted by key: a bucket is a run of equal keys. Keys
        # are sorted once (unstable), the windows of shared keys are then put in window order
        # (that is, document order) inside each run by one sort of (run, window) numbers.
        column = by_band[band]
        order = np.argsort(column)
        ordered = column[order]
        new_run = np.r_[True, ordered[1:] != ordered[:-1]]
        shared = ~(new_run & np.r_[new_run[1:], True])
        if not shared.any():
            continue
        runs = np.cumsum(new_run)[shared]
        windows = np.sort(runs * n_windows + order[shared]) % n_windows
        band_key, band_doc = column[windows], docs[windows]
        first = np.r_[True, (band_key[1:] != band_key[:-1]) | (band_doc[1:] != band_doc[:-1])]
        band_key, band_doc = band_key[first], band_doc[first]
        starts = np.flatnonzero(np.r_[True, band_key[1:] != band_key[:-1]])
        sizes = np.diff(np.r_[starts, len(band_key)])
        stats.buckets += int(np.count_nonzero(sizes > 1))
        oversized = sizes > max_bucket_size
        stats.oversized_buckets += int(np.count_nonzero(oversized))
        for size in unique(sizes[(sizes > 1) & ~oversized]).tolist():
            # All buckets of one size at once: a (buckets, size) matrix of documents.
            members = band_doc[starts[sizes == size][:, None] + np.arange(size)]
            first, second = np.triu_indices(size, k=1)
            codes.append(members[:, first].ravel() * n_docs + members[:, second].ravel())
    if stats.oversized_buckets:
        log.info(
            "%d LSH buckets held more than %d documents and were not expanded into pairs",
            stats.oversized_buckets,
            max_bucket_size,
        )
    if not codes:
        return np.empty((0, 2), dtype=np.int64), stats
    codes_found = unique(np.concatenate(codes))
    pairs = np.stack([codes_found // n_docs, codes_found % n_docs], axis=1)
    stats.pairs = len(pairs)
    return pairs, stats
