"""Similarity scores of document pairs: TF-IDF cosine, Jaccard of shingles (exact and
MinHash-estimated) and containment in both directions."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from .arrays import common
from .config import ScanConfig
from .features import Features
from .models import PairScore
from .parallel import fork_map

_STOP = frozenset(ENGLISH_STOP_WORDS)


# Extra weight of capitalised words inside sentences (names, places, organisations): they tell
# two similar events apart (tuned on ECB+, whose topics pair two events of one kind).
NAME_WEIGHT = 2


def terms(features: Features) -> list[str]:
    """The TF-IDF terms of a document: words but stop words, names counted extra."""
    terms = []
    for word, is_name in zip(features.words, features.names.tolist()):
        if word in _STOP:
            continue
        terms.append(word)
        if is_name:
            terms.extend([f"name:{word}"] * NAME_WEIGHT)
    return terms


def tfidf_matrix(features: Sequence[Features]) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows (sublinear tf, English stop words out), one per document."""
    if not features:
        return sparse.csr_matrix((0, 0))
    vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True, dtype=np.float32)
    try:
        return vectorizer.fit_transform(features).tocsr()
    except ValueError:  # empty vocabulary: no document has a content word
        return sparse.csr_matrix((len(features), 1), dtype=np.float32)


def tfidf_vector(words: list[str], documents: int, frequencies: dict[str, int]) -> dict[str, float]:
    """One L2-normalised TF-IDF vector from terms and corpus document frequencies, with the
    formula TfidfVectorizer uses in the scan (sublinear tf, smooth idf): for the gate, whose
    corpus statistics live in its index."""
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    # math on Python floats: 3x faster than numpy's scalar functions, the same values.
    vector = {
        word: (1.0 + math.log(count))
        * (math.log((1 + documents) / (1 + frequencies.get(word, 0))) + 1.0)
        for word, count in counts.items()
    }
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {w: v / norm for w, v in vector.items()} if norm else {}


def vector_cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return min(1.0, max(0.0, sum(v * b.get(w, 0.0) for w, v in a.items())))


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
