"""MinHash signatures, computed with numpy for many sets at once.

The values are exactly those of :class:`datasketch.MinHash` (``affine32`` scheme, same seed
and permutations) fed with the same 32-bit values, so signatures can be handed to datasketch's
LSH and compared with its ``jaccard``; a test checks the equality.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from datasketch import MinHash
from numba import njit

_FMIX32 = (16, np.uint32(0x85EBCA6B), 13, np.uint32(0xC2B2AE35), 16)
_EMPTY = np.uint32(0xFFFFFFFF)


def fold32(hashes64: np.ndarray) -> np.ndarray:
    """64-bit shingle hashes folded to the 32-bit values MinHash permutes."""
    h = hashes64.astype(np.uint64, copy=False)
    return ((h >> np.uint64(32)) ^ h).astype(np.uint32)


def _fmix32(values: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint32(s1))
        values = values * m1
        values = values ^ (values >> np.uint32(s2))
        values = values * m2
        return values ^ (values >> np.uint32(s3))


class MinHasher:
    """Computes MinHash signatures compatible with datasketch.

    Args:
        num_perm: Number of permutations (signature length).
        seed: Seed of the permutations, as in :class:`datasketch.MinHash`.
    """

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        self.num_perm = num_perm
        self.seed = seed
        template = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
        a, b = template.permutations
        # 32-bit permutation parameters (as datasketch's affine32 uses them), held as uint64
        # for the compiled loop's 64-bit multiply.
        self._a = np.asarray(a, dtype=np.uint32).astype(np.uint64)
        self._b = np.asarray(b, dtype=np.uint32).astype(np.uint64)
        self._template = template

    def signatures(self, sets: Sequence[np.ndarray]) -> np.ndarray:
        """Signatures of many sets of 64-bit hashes, one row each (uint32, ``num_perm`` wide).

        An empty set gets the all-max signature datasketch gives an empty MinHash.
        """
        lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
        ends = np.cumsum(lengths)
        hashes = np.concatenate(sets) if len(sets) else np.empty(0, dtype=np.uint64)
        return self.span_signatures(hashes, np.stack([ends - lengths, ends], axis=1))

    def span_signatures(self, hashes: np.ndarray, spans: np.ndarray) -> np.ndarray:
        """Signatures of the sets ``hashes[start:end]``, one row per ``(start, end)`` of
        ``spans`` (an ``(n, 2)`` array). Spans may overlap, as the windows of a text do: each
        hash is folded and mixed once however many spans hold it. An empty span gets the
        all-max signature."""
        out = np.full((len(spans), self.num_perm), _EMPTY, dtype=np.uint32)
        if len(spans) and len(hashes):
            values = _fmix32(fold32(hashes))
            _min_permuted(values, spans.astype(np.int64), self._a, self._b, out)
        return out

    def minhash(self, signature: np.ndarray) -> MinHash:
        """A datasketch MinHash holding ``signature`` (for datasketch's LSH and jaccard)."""
        return MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            scheme="affine32",
            hashvalues=signature,
            permutations=self._template.permutations,
        )


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature positions: the MinHash estimate of Jaccard similarity."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


# Compiled (numba): one pass over the values, the permutations in the innermost loop
# (vectorised by the compiler), no temporary (values x permutations) matrix, which numpy's
# multiply-add-reduceat needs (an order of magnitude slower: docs/performance.md).


@njit(cache=True, nogil=True)
def _min_permuted(values, spans, a, b, out):  # type: ignore[no-untyped-def]
    """``out[s]`` = minimum of ``(a * value + b) mod 2**32`` over the values
    ``values[spans[s, 0]:spans[s, 1]]``, per permutation (``a``, ``b`` as uint64)."""
    permutations = len(a)
    for s in range(len(spans)):
        row = out[s]
        for k in range(spans[s, 0], spans[s, 1]):
            value = np.uint64(values[k])
            for p in range(permutations):
                permuted = np.uint32((value * a[p] + b[p]) & 0xFFFFFFFF)
                if permuted < row[p]:
                    row[p] = permuted
