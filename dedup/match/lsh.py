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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHashLSH
from numba import njit

from ..util.arrays import unique

log = logging.getLogger(__name__)

_MIX = np.uint64(0x9E3779B97F4A7C15)
_BAND_SALT = np.uint64(0xC2B2AE3D27D4EB4F)
_KEY_BLOCK = 8192  # windows per block of band_keys (a few MB: stays in the cache)


@dataclass
class CandidateStats:
    """What candidate generation did: windows indexed, buckets, and buckets left out; the
    candidate pairs (``pairs``: all of them, each once) and how many each source found:
    the windows' LSH, shared distinctive terms, identical texts."""

    windows: int = 0
    bands: int = 0
    rows: int = 0
    buckets: int = 0
    oversized_buckets: int = 0
    pairs: int = 0
    window_pairs: int = 0
    term_pairs: int = 0
    identical_pairs: int = 0


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
    if len(window_docs) == 0:
        return np.empty((0, 2), dtype=np.int64), CandidateStats()
    bands, rows = lsh_params(threshold, window_signatures.shape[1])
    keys = band_keys(window_signatures, bands, rows).T
    return bucket_pairs([keys], window_docs, rows=rows, max_bucket_size=max_bucket_size)


def bucket_pairs(
    key_blocks: Sequence[np.ndarray],
    window_docs: np.ndarray,
    *,
    rows: int,
    max_bucket_size: int,
) -> tuple[np.ndarray, CandidateStats]:
    """:func:`candidate_pairs` from the windows' band keys, already computed (where the
    windows were hashed): ``key_blocks`` are consecutive blocks of windows, each a
    ``(bands, windows)`` array of :func:`band_keys` (transposed). A band's keys are gathered
    from the blocks one band at a time, never all bands at once."""
    stats = CandidateStats(windows=len(window_docs))
    # A pair of near-copies shares a bucket in most bands: the bands' codes are made distinct
    # whenever those waiting outnumber the distinct ones found so far, not held all at once.
    found = np.empty(0, dtype=np.int64)
    waiting: list[np.ndarray] = []
    for band_codes in _band_pairs(key_blocks, window_docs, rows, max_bucket_size, stats):
        waiting.append(band_codes)
        if sum(map(len, waiting)) > max(len(found), _MIN_WAITING):
            found = unique(np.concatenate([found, *waiting]))
            waiting = []
    found = unique(np.concatenate([found, *waiting]))
    n_docs = int(window_docs.max()) + 1 if len(window_docs) else 0
    pairs = _decode(found, max(n_docs, 1)) if len(found) else np.empty((0, 2), dtype=np.int64)
    stats.pairs = len(pairs)
    return pairs, stats


_MIN_WAITING = 5_000_000  # pair codes gathered from bands before they are made distinct


def pairs_by_band(
    signatures: np.ndarray, *, threshold: float, max_bucket_size: int
) -> Iterator[np.ndarray]:
    """The pairs :func:`candidate_pairs` finds for documents of one signature each, band by
    band, each pair in the first band where it shares a bucket: a caller can score and filter
    them as they come instead of holding every candidate at once (a corpus of a million
    articles has hundreds of millions). The pairs of one band are unordered; all bands
    together are the pairs of ``candidate_pairs``, each once."""
    n_docs = len(signatures)
    stats = CandidateStats(windows=n_docs)
    if n_docs == 0:
        return
    bands, rows = lsh_params(threshold, signatures.shape[1])
    keys = band_keys(signatures, bands, rows).T
    # Per band, the bucket of each document where that band expanded pairs, or a number of
    # its own (-1 - document) where it did not.
    buckets = np.empty((bands, n_docs), dtype=np.int64)
    docs = np.arange(n_docs, dtype=np.int64)
    for band, codes in enumerate(_band_pairs([keys], docs, rows, max_bucket_size, stats, buckets)):
        pairs = _decode(codes, n_docs)
        yield pairs[_first_found(buckets[:band], pairs[:, 0], pairs[:, 1])]


@njit(cache=True, nogil=True)
def _first_found(buckets, firsts, seconds):  # type: ignore[no-untyped-def]
    """For each pair, whether no earlier band (a row of ``buckets``) put both its documents
    in one expanded bucket."""
    out = np.ones(len(firsts), dtype=np.bool_)
    for p in range(len(firsts)):
        i, j = firsts[p], seconds[p]
        for band in range(buckets.shape[0]):
            if buckets[band, i] == buckets[band, j]:
                out[p] = False
                break
    return out


def _decode(codes: np.ndarray, n_docs: int) -> np.ndarray:
    return np.stack([codes // n_docs, codes % n_docs], axis=1)


def _band_pairs(
    key_blocks: Sequence[np.ndarray],
    window_docs: np.ndarray,
    rows: int,
    max_bucket_size: int,
    stats: CandidateStats,
    buckets: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Per band of the LSH, the codes ``i * n_docs + j`` of the document pairs sharing one of
    its buckets. ``stats`` counts the bands, buckets and oversized buckets; ``buckets``, when
    given (``(bands, windows)``), receives which expanded bucket each window is in, by band
    (``-1 - window`` for none), before the band's codes are yielded."""
    if len(window_docs) == 0:
        return
    bands = key_blocks[0].shape[0]
    stats.bands, stats.rows = bands, rows
    docs = window_docs.astype(np.int64)
    n_docs = int(docs.max()) + 1
    n_windows = len(docs)
    for band in range(bands):
        # (key, doc) pairs, each once, sorted by key: a bucket is a run of equal keys. Keys
        # are sorted once (unstable), the windows of shared keys are then put in window order
        # (that is, document order) inside each run by one sort of (run, window) numbers.
        column = (
            key_blocks[0][band]
            if len(key_blocks) == 1
            else np.concatenate([block[band] for block in key_blocks])
        )
        if buckets is not None:
            buckets[band] = -1 - np.arange(n_windows, dtype=np.int64)
        order = np.argsort(column)
        ordered = column[order]
        new_run = np.r_[True, ordered[1:] != ordered[:-1]]
        shared = ~(new_run & np.r_[new_run[1:], True])
        codes: list[np.ndarray] = []
        if shared.any():
            runs = np.cumsum(new_run)[shared]
            windows = np.sort(runs * n_windows + order[shared]) % n_windows
            band_key, band_doc = column[windows], docs[windows]
            first = np.r_[True, (band_key[1:] != band_key[:-1]) | (band_doc[1:] != band_doc[:-1])]
            band_key, band_doc, windows = band_key[first], band_doc[first], windows[first]
            starts = np.flatnonzero(np.r_[True, band_key[1:] != band_key[:-1]])
            sizes = np.diff(np.r_[starts, len(band_key)])
            band_codes, expanded = expand_buckets(band_doc, starts, n_docs, max_bucket_size, stats)
            codes.append(band_codes)
            if buckets is not None:
                inside = np.repeat(expanded, sizes)
                buckets[band, windows[inside]] = np.repeat(np.arange(len(sizes)), sizes)[inside]
        yield np.concatenate([np.empty(0, dtype=np.int64), *codes])
    log_oversized(stats, max_bucket_size)


def expand_buckets(
    docs: np.ndarray, starts: np.ndarray, n_docs: int, max_bucket_size: int, stats: CandidateStats
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of documents that share a bucket, as codes ``i * n_docs + j`` (``i < j``).

    Args:
        docs: Each bucket's documents, distinct and ascending, one bucket after another.
        starts: Where each bucket starts in ``docs``.
        n_docs: The number of documents (the codes' base).
        max_bucket_size: A bucket of more documents is a shared boilerplate window, not
            reuse: it is left out (expanding it would be quadratic).
        stats: Counts the buckets of two or more documents and those left out.

    Returns:
        The pair codes (unordered, a pair once per bucket it shares), and for each bucket
        whether it was expanded.
    """
    sizes = np.diff(np.r_[starts, len(docs)])
    stats.buckets += int(np.count_nonzero(sizes > 1))
    oversized = sizes > max_bucket_size
    stats.oversized_buckets += int(np.count_nonzero(oversized))
    expanded = (sizes > 1) & ~oversized
    codes = [np.empty(0, dtype=np.int64)]
    for size in unique(sizes[expanded]).tolist():
        # All buckets of one size at once: a (buckets, size) matrix of documents.
        members = docs[starts[sizes == size][:, None] + np.arange(size)].astype(np.int64)
        first, second = np.triu_indices(size, k=1)
        codes.append(members[:, first].ravel() * n_docs + members[:, second].ravel())
    return np.concatenate(codes), expanded


def log_oversized(stats: CandidateStats, max_bucket_size: int) -> None:
    """Say how many buckets were too large to expand (when any were)."""
    if stats.oversized_buckets:
        log.info(
            "%d LSH buckets held more than %d documents and were not expanded into pairs",
            stats.oversized_buckets,
            max_bucket_size,
        )
