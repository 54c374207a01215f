"""What the LSH indexes of a document: its sentence windows, each a MinHash signature of the
window's shingles.

Whole documents are too coarse: a story that re-runs four wire sentences shares little with
the wire story as a whole. Every document is indexed as overlapping windows of a few
sentences (:func:`~dedup.text.features.sentence_windows`), so that a few reused sentences
inside a longer story still share a window's bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config import ScanConfig
from ..text.features import Features, sentence_windows, window_shingles
from .minhash import MinHasher


@dataclass
class Windows:
    """A document's sentence windows.

    Attributes:
        ranges: Each window's token range ``[start, end)``.
        signatures: One MinHash signature per window (rows, uint32).
    """

    ranges: list[tuple[int, int]]
    signatures: np.ndarray

    def __len__(self) -> int:
        return len(self.ranges)


def window_signatures(
    features: Sequence[Features], config: ScanConfig, hasher: MinHasher
) -> list[Windows]:
    """The sentence windows of many documents, signed in one call (their shingles end to
    end, each window a span of them)."""
    ranges = [sentence_windows(feat, config.window_words) for feat in features]
    all_hashes: list[np.ndarray] = [np.empty(0, dtype=np.uint64)]
    all_spans: list[np.ndarray] = [np.empty((0, 2), dtype=np.int64)]
    offset = 0
    for feat, windows in zip(features, ranges):
        hashes, spans = window_shingles(feat, windows, config.seed_words)
        all_hashes.append(hashes)
        all_spans.append(spans + offset)
        offset += len(hashes)
    signatures = hasher.span_signatures(np.concatenate(all_hashes), np.concatenate(all_spans))
    counts = [len(windows) for windows in ranges]
    return [
        Windows(windows, rows)
        for windows, rows in zip(ranges, np.split(signatures, np.cumsum(counts)[:-1]))
    ]
