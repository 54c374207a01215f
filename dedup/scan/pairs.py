"""The scan's per-pair stage on worker processes: every candidate pair scored and aligned by
:func:`~dedup.match.compare.compare`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from ..config import ScanConfig
from ..group.provenance import LinkTable
from ..match.align import char_spans
from ..match.compare import Prepared, compare, prepare
from ..match.minhash import MinHasher
from ..models import Document, PairScore, PairTable
from ..text.features import Features
from ..util.arrays import unique
from ..util.parallel import fork_map, spans
from ..util.progress import Progress, no_progress

PAIRS_PER_TASK = 2000  # candidate pairs scored and aligned per task
# Documents a process keeps prepared (shingle set, signature) between the chunks of one scan:
# a document is in the chunks of its window pairs and of its term pairs, far apart in pair
# order; about 100 MB at most.
KEEP_PREPARED = 20_000
_KEPT: dict[int, Prepared] = {}
_KEPT_FOR: list[str] = [""]  # the scan the kept documents belong to


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
    text_keys: np.ndarray,
) -> ScoredPairs:
    """Score and align the candidate ``pairs`` (document indices, with their TF-IDF
    ``cosines`` and whether they share a sentence window) in chunks of ``PAIRS_PER_TASK`` on
    ``workers`` processes. ``text_keys``: the documents'
    :func:`~dedup.text.features.text_key`."""
    hasher = MinHasher(config.num_perm, config.seed)
    chunks = [
        (pairs[start:end], cosines[start:end], shares_window[start:end])
        for start, end in spans(len(pairs), PAIRS_PER_TASK)
    ]
    state = (docs, features, text_keys, config, hasher, uuid.uuid4().hex)
    # An empty chunk first: the columns' shapes when there is no pair.
    parts = [_compare_chunk(state, (pairs[:0], cosines[:0], shares_window[:0]))]
    done = 0
    for part in fork_map(_compare_chunk, state, chunks, workers):
        parts.append(part)
        done += len(part[0])
        progress("align", done, len(pairs))
    _KEPT.clear()  # the scan's documents, kept here when it ran in this process
    scores, counts, relations, rows, chars = (np.concatenate(column) for column in zip(*parts))
    table = PairTable([d.id for d in docs], pairs.astype(np.int32), scores, counts, relations)
    return ScoredPairs(table, LinkTable(rows), chars)


def _prepared(
    state: tuple[list[Document], list[Features], np.ndarray, ScanConfig, MinHasher, str],
    needed: list[int],
) -> dict[int, Prepared]:
    """The ``needed`` documents prepared (shingle set, signature), each once however many
    pairs of a chunk it is in, and kept in this process for the next chunks of the scan
    (``KEEP_PREPARED`` at most, then forgotten all at once)."""
    docs, features, text_keys, config, hasher, scan_id = state
    if _KEPT_FOR[0] != scan_id:
        _KEPT.clear()
        _KEPT_FOR[0] = scan_id
    missing = [i for i in needed if i not in _KEPT]
    if len(_KEPT) + len(missing) > KEEP_PREPARED:
        _KEPT.clear()
        missing = needed
    ready = prepare(
        [docs[i] for i in missing],
        config,
        hasher,
        features=[features[i] for i in missing],
        text_keys=text_keys[missing].tolist(),
    )
    _KEPT.update(zip(missing, ready))
    return {i: _KEPT[i] for i in needed}


def _compare_chunk(
    state: tuple[list[Document], list[Features], np.ndarray, ScanConfig, MinHasher, str],
    chunk: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score and align a chunk of pairs; the results as arrays (what a worker sends back is a
    few arrays, not an object per pair and passage): the pairs' score columns
    (``SCORE_COLUMNS``), passage counts and relation codes, then one row per passage (the
    pair's ``a, b`` and the alignment, as a ``LinkTable`` row) and its character offsets."""
    pairs, cosines, shares_window = chunk
    config = state[3]
    prepared = _prepared(state, unique(pairs.ravel()).tolist())
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
