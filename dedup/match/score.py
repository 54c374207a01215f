"""Similarity scores of document pairs: TF-IDF cosine, Jaccard of shingles (exact and
MinHash-estimated) and containment in both directions."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer

from ..config import ScanConfig
from ..models import PairScore
from ..text.features import Features, shingle_hashes, term_counts
from ..util.arrays import common, distinct_shared, hash_index, unique
from ..util.parallel import fork_map


def tfidf_matrix(features: Sequence[Features]) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows (sublinear tf, smooth idf, English stop words out), one per
    document, by scikit-learn's TfidfTransformer over the documents' term counts
    (:func:`~dedup.text.features.term_counts`; a column per term key, ascending)."""
    if not features:
        return sparse.csr_matrix((0, 0))
    counted = [term_counts(f) for f in features]
    keys = np.concatenate([k for k, _ in counted])
    if len(keys) == 0:  # no document has a content word
        return sparse.csr_matrix((len(features), 1), dtype=np.float32)
    vocabulary = unique(keys)
    counts = sparse.csr_matrix(
        (
            np.concatenate([c for _, c in counted]).astype(np.float32),
            np.searchsorted(vocabulary, keys).astype(np.int32),
            np.cumsum([0] + [len(k) for k, _ in counted]),
        ),
        shape=(len(features), len(vocabulary)),
    )
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()


def tfidf_weights(counts: np.ndarray, frequencies: np.ndarray, documents: int) -> np.ndarray:
    """One L2-normalised TF-IDF vector (float64) from a document's term counts and their
    document frequencies in a corpus of ``documents``, with the formula TfidfTransformer
    uses in the scan (sublinear tf, smooth idf): for the gate, whose corpus statistics live in
    its index."""
    if len(counts) == 0:
        return np.empty(0, dtype=np.float64)
    weights = (1.0 + np.log(counts)) * (np.log((1.0 + documents) / (1.0 + frequencies)) + 1.0)
    return weights / math.sqrt(float(weights @ weights))


def keyed_cosine(
    keys_a: np.ndarray, weights_a: np.ndarray, keys_b: np.ndarray, weights_b: np.ndarray
) -> float:
    """Cosine of two normalised sparse vectors given as sorted keys and their weights."""
    in_a, in_b = common(keys_a, keys_b)
    return min(1.0, max(0.0, float(weights_a[in_a] @ weights_b[in_b])))


def pair_cosines(
    matrix: sparse.csr_matrix, pairs: np.ndarray, chunk: int = 100_000, workers: int = 1
) -> np.ndarray:
    """Cosine similarity of the rows of each pair (rows are already L2-normalised), computed
    ``chunk`` pairs at a time so memory stays bounded for millions of pairs, the chunks on
    ``workers`` processes."""
    parts = [pairs[start : start + chunk] for start in range(0, len(pairs), chunk)]
    out = np.concatenate([np.empty(0), *fork_map(_chunk_cosines, matrix, parts, workers)])
    return np.clip(out, 0.0, 1.0)


def _chunk_cosines(matrix: sparse.csr_matrix, part: np.ndarray) -> np.ndarray:
    return _row_dots(
        matrix.indptr, matrix.indices, matrix.data, part[:, 0], part[:, 1], matrix.shape[1]
    )


@njit(cache=True, nogil=True)
def _row_dots(indptr, indices, data, firsts, seconds, columns):  # type: ignore[no-untyped-def]
    """Dot product of rows ``firsts[p]`` and ``seconds[p]`` of a CSR matrix, for every p:
    the second row is spread over a scratch row, the first row's entries look their column
    up in it (summed in float64; any order of indices)."""
    out = np.empty(len(firsts), dtype=np.float64)
    scratch = np.zeros(columns, dtype=np.float64)
    for p in range(len(firsts)):
        first, second = firsts[p], seconds[p]
        for k in range(indptr[second], indptr[second + 1]):
            scratch[indices[k]] = data[k]
        total = 0.0
        for k in range(indptr[first], indptr[first + 1]):
            total += data[k] * scratch[indices[k]]
        for k in range(indptr[second], indptr[second + 1]):
            scratch[indices[k]] = 0.0
        out[p] = total
    return out


def cosine_matrix(matrix: sparse.csr_matrix) -> np.ndarray:
    """Dense all-pairs cosine similarity, symmetric, with 1.0 on the diagonal."""
    dense = np.asarray((matrix @ matrix.T).todense(), dtype=np.float64)
    np.clip(dense, 0.0, 1.0, out=dense)
    dense = (dense + dense.T) / 2
    np.fill_diagonal(dense, 1.0)
    return dense


def set_overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Jaccard, containment of ``a`` in ``b`` and of ``b`` in ``a``, for sorted unique sets."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0, 0.0
    shared = len(common(a, b)[0])
    union = len(a) + len(b) - shared
    return shared / union, shared / len(a), shared / len(b)


class ShingleIndex:
    """One text's shingle set in a hash table, to compare it with many others: each other
    text's shingles are looked up in it instead of being sorted into a set.
    ``ShingleIndex(shingles, size).overlap(hashes)`` is ``set_overlap(shingles,
    shingle_set(hashes, size))``."""

    def __init__(self, shingles: np.ndarray, size: int) -> None:
        self.shingles = shingles
        self.size = size
        self._table = hash_index(shingles)

    def overlap(self, token_hashes: np.ndarray) -> tuple[float, float, float]:
        """Jaccard and both containments of this set and the shingles of ``token_hashes``."""
        if len(self.shingles) == 0 or len(token_hashes) == 0:
            return 0.0, 0.0, 0.0
        distinct, shared = _overlap_kernel(self._table, self.shingles, token_hashes, self.size)
        union = len(self.shingles) + distinct - shared
        return shared / union, shared / len(self.shingles), shared / distinct


@njit(cache=True, nogil=True)
def _overlap_kernel(table, shingles, token_hashes, size):  # type: ignore[no-untyped-def]
    return distinct_shared(shingle_hashes(token_hashes, size), table, shingles)


def relation(score: PairScore, config: ScanConfig) -> str:
    """``duplicate`` when shared passages cover most of both texts (or the shingle sets are
    nearly equal, for texts too short for a passage), ``shares_text`` when they share at
    least one passage, else ``none``."""
    if (
        min(score.coverage_a, score.coverage_b) >= config.duplicate_coverage
        or score.jaccard >= config.duplicate_coverage
    ):
        return "duplicate"
    if score.passages:
        return "shares_text"
    return "none"
