"""TF-IDF vectors and their cosine similarity: one weighting for every engine.

The terms of a document are its term counts (:func:`~dedup.text.features.term_counts`: its
content words and names, as 64-bit keys). They are weighted as scikit-learn's
``TfidfTransformer(sublinear_tf=True)`` weighs them, to the last bit: ``(1 + log tf) * idf``
with the smooth idf ``log((1 + n) / (1 + df)) + 1``, each row L2-normalised. Only where the
document frequencies come from differs, and :class:`Vocabulary` takes them from any of these:

- the local scan counts them over its documents (:func:`tfidf_matrix`);
- the Spark scan counts them with an aggregation and sends the vocabulary to its executors;
- the gate reads them from its index, for the terms of one check.

:class:`Vocabulary` repeats the transformer's operations on numpy arrays rather than calling
it: its validation costs a millisecond a call, and the gate weighs a few rows per check.
The scan's rows are exactly the transformer's (a test checks it against ``fit_transform``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import sparse

from ..text.features import Features, term_counts
from ..util.arrays import unique
from ..util.parallel import fork_map

TermCounts = tuple[np.ndarray, np.ndarray]  # sorted distinct term keys, and their counts


@dataclass(frozen=True)
class SparseRows:
    """TF-IDF rows as the arrays of a CSR matrix, without scipy's matrix around them (the
    gate weighs a few rows per check, where building a matrix would cost more than
    weighing them).

    Attributes:
        indptr: Where each row's entries start, then their number.
        indices: Each entry's column.
        data: Each entry's weight.
        shape: Rows, columns.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    def matrix(self) -> sparse.csr_matrix:
        """The rows as a scipy CSR matrix."""
        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


@dataclass(frozen=True)
class Vocabulary:
    """The columns of TF-IDF rows: term keys, ascending, and each one's idf.

    Attributes:
        keys: Distinct term keys (uint64), sorted: column ``c`` is ``keys[c]``.
        idf: The smooth idf of each column; its dtype is the rows' (float32 in the scans,
            float64 in the gate).
    """

    keys: np.ndarray
    idf: np.ndarray

    @classmethod
    def from_frequencies(
        cls,
        keys: np.ndarray,
        frequencies: np.ndarray,
        documents: int,
        dtype: type[np.floating] = np.float32,
    ) -> Vocabulary:
        """The vocabulary of sorted distinct ``keys`` found in ``frequencies`` of
        ``documents`` documents, with the idf ``TfidfTransformer.fit`` computes (smooth idf,
        operation by operation in ``dtype``)."""
        df = np.asarray(frequencies).astype(dtype)
        df += 1.0
        idf = np.full_like(df, fill_value=documents + 1, dtype=dtype)
        idf /= df
        np.log(idf, out=idf)
        idf += 1.0
        return cls(np.asarray(keys, dtype=np.uint64), idf)

    @classmethod
    def of(cls, counted: Sequence[TermCounts]) -> Vocabulary:
        """The vocabulary of a corpus, from each document's term counts (float32)."""
        keys = np.concatenate([k for k, _ in counted])
        distinct = unique(keys)
        frequencies = np.bincount(np.searchsorted(distinct, keys), minlength=len(distinct))
        return cls.from_frequencies(distinct, frequencies, len(counted))

    def weigh(self, counted: Sequence[TermCounts]) -> SparseRows:
        """The L2-normalised TF-IDF row of each document's term counts (every key among the
        vocabulary's): ``TfidfTransformer(sublinear_tf=True).transform`` of the count rows,
        operation by operation, so the very same floats (a test checks it against
        ``fit_transform``). scikit-learn's own call validates its input and configuration
        for a millisecond, longer than a gate check's whole comparison."""
        keys = np.concatenate([np.empty(0, dtype=np.uint64), *(k for k, _ in counted)])
        data = np.concatenate([np.empty(0), *(c for _, c in counted)]).astype(self.idf.dtype)
        columns = np.searchsorted(self.keys, keys).astype(np.int32)
        indptr = np.cumsum([0] + [len(k) for k, _ in counted]).astype(np.int64)
        np.log(data, out=data)  # sublinear tf: 1 + log(tf)
        data += 1.0
        data *= self.idf[columns]
        _normalise_rows(data, indptr)
        return SparseRows(indptr, columns, data, (len(counted), len(self.keys)))

    def rows(self, counted: Sequence[TermCounts]) -> sparse.csr_matrix:
        """:meth:`weigh` as a scipy CSR matrix."""
        return self.weigh(counted).matrix()


@njit(cache=True, nogil=True)
def _normalise_rows(data, indptr):  # type: ignore[no-untyped-def]
    """Divide each row by its L2 norm, in place, as scikit-learn's
    ``inplace_csr_row_normalize_l2`` does: squares in the data's precision, summed in
    float64 in order; empty (all-zero) rows left alone."""
    for row in range(len(indptr) - 1):
        total = 0.0
        for k in range(indptr[row], indptr[row + 1]):
            total += data[k] * data[k]
        if total == 0.0:
            continue
        norm = np.sqrt(total)
        for k in range(indptr[row], indptr[row + 1]):
            data[k] = data[k] / norm


def tfidf_matrix(features: Sequence[Features]) -> sparse.csr_matrix:
    """The corpus's L2-normalised TF-IDF rows (float32), one per document, over the
    vocabulary of its term counts: ``TfidfTransformer(sublinear_tf=True).fit_transform`` of
    the count matrix (a column per term key, ascending)."""
    if not features:
        return sparse.csr_matrix((0, 0))
    counted = [term_counts(f) for f in features]
    if not any(len(keys) for keys, _ in counted):  # no document has a content word
        return sparse.csr_matrix((len(features), 1), dtype=np.float32)
    return Vocabulary.of(counted).rows(counted)


PARALLEL_PAIRS = 2_000_000


def pair_cosines(
    matrix: sparse.csr_matrix | SparseRows,
    pairs: np.ndarray,
    chunk: int = 100_000,
    workers: int = 1,
) -> np.ndarray:
    """Cosine similarity of the rows of each pair (rows are already L2-normalised), computed
    ``chunk`` pairs at a time so memory stays bounded for millions of pairs, the chunks on
    ``workers`` processes when there are at least ``PARALLEL_PAIRS`` pairs (starting the
    processes costs more than fewer pairs take: about 0.2 µs a pair)."""
    if len(pairs) < PARALLEL_PAIRS:
        workers = 1
    parts = [pairs[start : start + chunk] for start in range(0, len(pairs), chunk)]
    out = np.concatenate([np.empty(0), *fork_map(_chunk_cosines, matrix, parts, workers)])
    return np.clip(out, 0.0, 1.0)


def _chunk_cosines(matrix: sparse.csr_matrix | SparseRows, part: np.ndarray) -> np.ndarray:
    return _row_dots(
        matrix.indptr, matrix.indices, matrix.data, part[:, 0], part[:, 1], matrix.shape[1]
    )


@njit(cache=True, nogil=True)
def _row_dots(indptr, indices, data, firsts, seconds, columns):  # type: ignore[no-untyped-def]
    """Dot product of rows ``firsts[p]`` and ``seconds[p]`` of a CSR matrix, for every p:
    the first row is spread over a scratch row (once for a run of pairs with the same first
    row, as sorted pairs and LSH buckets give them), the second row's entries look their
    column up in it (summed in float64; any order of indices)."""
    out = np.empty(len(firsts), dtype=np.float64)
    scratch = np.zeros(columns, dtype=np.float64)
    spread = -1
    for p in range(len(firsts)):
        first, second = firsts[p], seconds[p]
        if first != spread:
            if spread >= 0:
                for k in range(indptr[spread], indptr[spread + 1]):
                    scratch[indices[k]] = 0.0
            for k in range(indptr[first], indptr[first + 1]):
                scratch[indices[k]] = data[k]
            spread = first
        total = 0.0
        for k in range(indptr[second], indptr[second + 1]):
            total += data[k] * scratch[indices[k]]
        out[p] = total
    return out


def cosine_matrix(matrix: sparse.csr_matrix) -> np.ndarray:
    """Dense all-pairs cosine similarity, symmetric, with 1.0 on the diagonal."""
    dense = np.asarray((matrix @ matrix.T).todense(), dtype=np.float64)
    np.clip(dense, 0.0, 1.0, out=dense)
    dense = (dense + dense.T) / 2
    np.fill_diagonal(dense, 1.0)
    return dense
