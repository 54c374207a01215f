"""Similarity scores of document pairs from their shingles: Jaccard and containment in both
directions, and the relation a pair's scores and passages give (TF-IDF cosine is
:mod:`dedup.match.tfidf`'s)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..config import ScanConfig
from ..models import PairScore
from ..text.features import shingle_hashes
from ..util.arrays import common, distinct_shared, hash_table


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
        self._table = hash_table(shingles)

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


def relation(score: PairScore, config: ScanConfig, *, identical: bool = False) -> str:
    """``duplicate`` when shared passages copied word for word (rewritten ones aside: a
    rewrite is reuse, not the same article) cover most of both texts (or the shingle sets are
    nearly equal, for texts too short for a passage, or the texts are ``identical``),
    ``shares_text`` when they share at least one passage, else ``none``
    (:func:`~dedup.match.compare.pair_score` tells ``shares_quote`` apart)."""
    if (
        identical
        or min(score.coverage_a - score.rewrite_a, score.coverage_b - score.rewrite_b)
        >= config.duplicate_coverage
        or score.jaccard >= config.duplicate_coverage
    ):
        return "duplicate"
    if score.passages:
        return "shares_text"
    return "none"
