"""Candidate pairs besides the sentence windows' LSH (:mod:`dedup.match.lsh`):

- **identical texts**, whatever their cleaning left of them (a price table whose every line
  is boilerplate to the cleaning is still the same text as its re-run);
- **shared distinctive terms**: documents whose most distinctive terms (highest TF-IDF
  weights) overlap, found by MinHash LSH over those term sets and kept when their TF-IDF
  cosine is high: a rewritten story keeps the names, numbers and rare words of the wire copy
  it rewrites while sharing few exact sentences with it.

Both stay near-linear: identical texts are linked in a star (each to the first), and each
document keeps only its ``k`` most similar neighbours by terms.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..config import ScanConfig
from ..models import Document
from ..util.arrays import unique
from .lsh import CandidateStats, band_keys, lsh_params, pairs_by_band
from .minhash import MinHasher
from .tfidf import pair_cosines

TOP_TERMS = 20  # the terms that say what a document is about
# LSH over the top terms of candidates: a low threshold, for a rewrite may share only a few
# of its top terms with its source (on METER dev 0.03 makes the PA copy a candidate for 415
# of the 422 derived stories, 0.05 for 412), and buckets of at most 200 documents.
TERM_LSH_THRESHOLD = 0.03
TERM_MAX_BUCKET = 200
TERM_PERMUTATIONS = 64  # MinHash permutations of the term sets
_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # column numbers spread over 64 bits for MinHash
_TERM_KEY_SALT = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class TermPairs:
    """The pairs :func:`term_pairs` found, and how: each pair's cosine and the first band of
    the term LSH where its documents share a bucket.

    Attributes:
        pairs: ``(n, 2)`` document indices, sorted.
        cosines: Their TF-IDF cosines.
        bands: The first band of each.
        threshold: The LSH threshold; ``max_bucket`` and ``min_cosine`` as given.
    """

    pairs: np.ndarray
    cosines: np.ndarray
    bands: np.ndarray
    threshold: float
    max_bucket: int
    min_cosine: float

    def narrowed(
        self, *, threshold: float, max_bucket: int, min_cosine: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The pairs and cosines :func:`term_pairs` would find with a higher ``threshold``
        and ``min_cosine``, read off these, or None when they cannot be: an LSH with as many
        rows a band and fewer bands hashes its bands exactly as the first bands of this one
        (:func:`~dedup.match.lsh.band_keys`), so it finds the pairs first found there."""
        bands, rows = lsh_params(threshold, TERM_PERMUTATIONS)
        own_bands, own_rows = lsh_params(self.threshold, TERM_PERMUTATIONS)
        if (rows, max_bucket) != (own_rows, self.max_bucket) or bands > own_bands:
            return None
        if min_cosine < self.min_cosine:
            return None
        keep = (self.bands < bands) & (self.cosines >= min_cosine)
        return self.pairs[keep], self.cosines[keep]


def candidate_pairs(
    window_pairs: np.ndarray,
    text_keys: np.ndarray,
    tfidf: sparse.csr_matrix,
    config: ScanConfig,
    stats: CandidateStats,
    *,
    workers: int = 1,
    languages: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, TermPairs | None]:
    """Every candidate pair, each once, sorted: the windows' LSH pairs, identical texts, and
    each document's ``config.neighbours`` most similar documents by terms; for each pair
    whether it shares a sentence window or an identical text (the others were found by their
    terms alone: :func:`~dedup.match.compare.compare` asks more shared text of them); and
    every pair the term LSH found (the story groups read theirs off it), None without
    neighbours. Two documents in different ``languages`` (one code per document, -1 where
    unknown) are never a pair: translation is not reuse dedup can see."""
    found = [window_pairs.astype(np.int64), identical_pairs(text_keys)]
    stats.window_pairs, stats.identical_pairs = len(found[0]), len(found[1])
    terms = None
    if config.neighbours:
        terms = term_pairs(
            tfidf,
            threshold=TERM_LSH_THRESHOLD,
            max_bucket=TERM_MAX_BUCKET,
            min_cosine=config.neighbour_cosine,
            workers=workers,
        )
        found.append(
            terms.pairs[nearest(terms.pairs, terms.cosines, tfidf.shape[0], config.neighbours)]
        )
        stats.term_pairs = len(found[-1])
    n = max(tfidf.shape[0], 1)
    code = [p[:, 0] * n + p[:, 1] for p in found]
    codes = unique(np.concatenate(code))
    textual = unique(np.concatenate(code[:2]))
    at = np.minimum(np.searchsorted(textual, codes), max(len(textual) - 1, 0))
    shares_text = textual[at] == codes if len(textual) else np.zeros(len(codes), dtype=bool)
    pairs = np.stack([codes // n, codes % n], axis=1)
    if languages is not None and len(pairs):
        first, second = languages[pairs[:, 0]], languages[pairs[:, 1]]
        keep = (first == second) | (first < 0) | (second < 0)
        pairs, shares_text = pairs[keep], shares_text[keep]
    stats.pairs = len(pairs)
    return pairs, shares_text, terms


def language_codes(docs: list[Document]) -> np.ndarray:
    """Each document's language as a number (-1 where unknown), for comparing them."""
    numbers: dict[str, int] = {}
    return np.array(
        [-1 if d.language is None else numbers.setdefault(d.language, len(numbers)) for d in docs],
        dtype=np.int64,
    )


def identical_pairs(keys: np.ndarray) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of documents with equal text keys
    (:func:`~dedup.text.features.text_key`): each document linked to the first with its
    key. ``(n, 2)``, sorted."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    first = order[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    pairs = np.stack([first, order], axis=1)[first != order]
    pairs.sort(axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))].astype(np.int64)


def term_pairs(
    tfidf: sparse.csr_matrix,
    *,
    threshold: float,
    max_bucket: int,
    min_cosine: float,
    workers: int = 1,
) -> TermPairs:
    """Pairs of documents sharing enough of their top TF-IDF terms (MinHash LSH at
    ``threshold``; a bucket of more than ``max_bucket`` documents is a genre, not a story,
    and left out) whose cosine reaches ``min_cosine``. The candidates are scored band by
    band of the LSH and only those kept are held: a million articles have hundreds of
    millions of candidates, and few reach the cosine."""
    kept_pairs, kept_cosines = [np.empty((0, 2), dtype=np.int64)], [np.empty(0)]
    kept_bands = [np.empty(0, dtype=np.int32)]
    for band, pairs in enumerate(_term_candidates(tfidf, threshold, max_bucket)):
        cosines = pair_cosines(tfidf, pairs, workers=workers)
        keep = cosines >= min_cosine
        kept_pairs.append(pairs[keep])
        kept_cosines.append(cosines[keep])
        kept_bands.append(np.full(int(keep.sum()), band, dtype=np.int32))
    pairs, cosines = np.concatenate(kept_pairs), np.concatenate(kept_cosines)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    bands = np.concatenate(kept_bands)[order]
    return TermPairs(pairs[order], cosines[order], bands, threshold, max_bucket, min_cosine)


def _term_candidates(
    tfidf: sparse.csr_matrix, threshold: float, max_bucket: int
) -> Iterator[np.ndarray]:
    sets = []
    for row in range(tfidf.shape[0]):
        start, end = tfidf.indptr[row], tfidf.indptr[row + 1]
        sets.append(top_terms(tfidf.indices[start:end], tfidf.data[start:end]))
    signatures = _term_hasher().signatures(sets)
    yield from pairs_by_band(signatures, threshold=threshold, max_bucket_size=max_bucket)


def top_terms(terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """A document's ``TOP_TERMS`` terms (column numbers or term keys) of highest TF-IDF
    weight, ties to the first listed, as the set of 64-bit values its term LSH hashes."""
    top = terms[np.argsort(-weights, kind="stable")[:TOP_TERMS]]
    return unique(top.astype(np.uint64) * _SPREAD)


def term_band_keys(tops: Sequence[np.ndarray], threshold: float = TERM_LSH_THRESHOLD) -> np.ndarray:
    """The band keys (``(n, bands)``) of documents' :func:`top_terms` in the term LSH at
    ``threshold`` (the gate stores and looks them up as it does its windows' band keys; mixed
    with a salt of their own, they never meet a window's)."""
    bands, rows = lsh_params(threshold, TERM_PERMUTATIONS)
    return band_keys(_term_hasher().signatures(tops), bands, rows) ^ _TERM_KEY_SALT


@functools.cache
def _term_hasher() -> MinHasher:
    return MinHasher(num_perm=TERM_PERMUTATIONS)


def nearest(pairs: np.ndarray, cosines: np.ndarray, n_docs: int, k: int) -> np.ndarray:
    """Which pairs are among the ``k`` most similar of either of their documents (ties
    broken by the other document's index): a boolean mask over ``pairs``."""
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    others = np.concatenate([pairs[:, 1], pairs[:, 0]])
    rows = np.tile(np.arange(len(pairs)), 2)
    order = np.lexsort((others, -np.tile(cosines, 2), ends))
    ends_sorted = ends[order]
    starts = np.searchsorted(ends_sorted, np.arange(n_docs))
    rank = np.arange(len(order)) - starts[ends_sorted]
    keep = np.zeros(len(pairs), dtype=bool)
    keep[rows[order[rank < k]]] = True
    return keep
