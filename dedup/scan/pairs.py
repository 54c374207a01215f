"""The scan's per-pair stage on worker processes: every candidate pair scored and aligned by
:func:`~dedup.match.compare.compare`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ScanConfig
from ..group.provenance import LinkTable
from ..match.align import char_spans
from ..match.compare import compare, prepare
from ..match.minhash import MinHasher
from ..models import Document, PairScore, PairTable
from ..text.features import Features
from ..util.arrays import unique
from ..util.parallel import fork_map, spans
from ..util.progress import Progress, no_progress

PAIRS_PER_TASK = 2000  # candidate pairs scored and aligned per task


@dataclass
class ScoredPairs:
    """Every candidate pair's scores, and its passages.

    Attributes:
        table: The pairs' scores.
        links: Their passages in token coordinates (one row per passage).
        chars: Each passage's character offsets (:func:`~dedup.match.align.char_spans`).
    """

    table: PairTable
    links: LinkTable
    chars: np.ndarray


def score_pairs(
    docs: list[Document],
    features: list[Features],
    pairs: np.ndarray,
    cosines: np.ndarray,
    shares_window: np.ndarray,
    config: ScanConfig,
    *,
    workers: int,
    progress: Progress = no_progress,
) -> ScoredPairs:
    """Score and align the candidate ``pairs`` (document indices, with their TF-IDF
    ``cosines`` and whether they share a sentence window) in chunks of ``PAIRS_PER_TASK`` on
    ``workers`` processes."""
    hasher = MinHasher(config.num_perm, config.seed)
    chunks = [
        (pairs[start:end], cosines[start:end], shares_window[start:end])
        for start, end in spans(len(pairs), PAIRS_PER_TASK)
    ]
    state = (docs, features, config, hasher)
    # An empty chunk first: the columns' shapes when there is no pair.
    parts = [_compare_chunk(state, (pairs[:0], cosines[:0], shares_window[:0]))]
    done = 0
    for part in fork_map(_compare_chunk, state, chunks, workers):
        parts.append(part)
        done += len(part[0])
        progress("align", done, len(pairs))
    scores, counts, relations, rows, chars = (np.concatenate(column) for column in zip(*parts))
    table = PairTable([d.id for d in docs], pairs.astype(np.int32), scores, counts, relations)
    return ScoredPairs(table, LinkTable(rows), chars)


def _compare_chunk(
    state: tuple[list[Document], list[Features], ScanConfig, MinHasher],
    chunk: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score and align a chunk of pairs; the results as arrays (what a worker sends back is a
    few arrays, not an object per pair and passage): the pairs' score columns
    (``SCORE_COLUMNS``), passage counts and relation codes, then one row per passage (the
    pair's ``a, b`` and the alignment, as a ``LinkTable`` row) and its character offsets."""
    docs, features, config, hasher = state
    pairs, cosines, shares_window = chunk
    # Each document of the chunk prepared once (shingle set, signature), however many of
    # the chunk's pairs it is in.
    needed = unique(pairs.ravel()).tolist()
    ready = prepare(
        [docs[i] for i in needed], config, hasher, features=[features[i] for i in needed]
    )
    prepared = dict(zip(needed, ready))
    scores: list[PairScore] = []
    rows: list[tuple[int, ...]] = []
    chars: list[tuple[int, int, int, int]] = []
    for (i, j), cosine, windowed in zip(pairs.tolist(), cosines.tolist(), shares_window.tolist()):
        a, b = prepared[i], prepared[j]
        score, found = compare(a, b, cosine, config, shares_window=windowed)
        scores.append(score)
        for x in found:
            rows.append(
                (i, j, x.a_start, x.a_end, x.b_start, x.b_end, x.matched_a, x.matched_b, x.kind)
            )
            chars.append(char_spans(a.features, b.features, x))
    return (
        *PairTable.columns(scores),
        np.array(rows, dtype=np.int32).reshape(-1, 9),
        np.array(chars, dtype=np.int64).reshape(-1, 4),
    )
