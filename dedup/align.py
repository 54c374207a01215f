"""Shared passages of two documents: word-level alignment that survives small edits.

Seed and extend, the shape of text-reuse alignment in the PAN shared tasks: exact runs of
``seed_words`` normalised words shared by both texts are the seeds; seeds that follow each
other in both texts within a small gap are chained into one passage (so a changed word, a
typo, a dropped clause or different punctuation do not break it); chains shorter than
``min_passage_words`` or with too few matching words are dropped. Reordered paragraphs give
separate passages, because chains are local.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import Features, shingle_hashes
from .models import Document, Passage

EXCERPT_CHARS = 160

# Largest gap, in words, between two seeds of one passage (a dropped clause or a rewritten
# phrase), and the largest difference between the gaps on the two sides.
MAX_GAP = 10
MAX_SKEW = 8
# A seed that occurs more often than this in either text is a stock phrase, not an anchor.
MAX_SEED_REPEATS = 4


@dataclass(frozen=True)
class Alignment:
    """One shared passage in token coordinates (``[start, end)`` in each text's tokens)."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    matched_a: int
    matched_b: int

    @property
    def words(self) -> int:
        """Length of the passage: the shorter of its two sides, in words."""
        return min(self.a_end - self.a_start, self.b_end - self.b_start)

    @property
    def similarity(self) -> float:
        """Share of the passage's words (both sides) that are inside matching seeds."""
        total = (self.a_end - self.a_start) + (self.b_end - self.b_start)
        return (self.matched_a + self.matched_b) / total if total else 0.0


def _seed_runs(features: Features, k: int) -> tuple[np.ndarray, ...]:
    """A document's k-word runs that lie inside one kept stretch of text (not across removed
    boilerplate), grouped by hash: the distinct hashes, where each one's positions start in
    ``positions``, how many there are, and the positions (grouped by hash, ascending).

    Computed once per document and length (kept on the features: a document meets many
    candidates)."""
    cache = features.__dict__.setdefault("_seed_runs", {})
    if k not in cache:
        hashes = shingle_hashes(features.hashes, k)
        valid = np.flatnonzero(features.segments[: len(hashes)] == features.segments[k - 1 :])
        order = np.argsort(hashes[valid], kind="stable")
        grouped, positions = hashes[valid][order], valid[order]
        distinct, first, counts = np.unique(grouped, return_index=True, return_counts=True)
        cache[k] = (distinct, first, counts, positions)
    return cache[k]


def anchors(features: Features, k: int) -> np.ndarray:
    """The hashes of the k-word runs that can anchor an alignment (sorted): inside one kept
    stretch of text and at most ``MAX_SEED_REPEATS`` times in the text. Two texts sharing
    none have no passage: :func:`align` seeds only on runs both have so."""
    if len(features) < k:
        return np.empty(0, dtype=np.uint64)
    distinct, _, counts, _ = _seed_runs(features, k)
    return distinct[counts <= MAX_SEED_REPEATS]


def _seed_matches(a: Features, b: Features, k: int) -> np.ndarray:
    """(i, j) positions of equal k-word runs, both texts, stock phrases left out."""
    if len(a) < k or len(b) < k:
        return np.empty((0, 2), dtype=np.int64)
    hashes_a, first_a, counts_a, positions_a = _seed_runs(a, k)
    hashes_b, first_b, counts_b, positions_b = _seed_runs(b, k)
    _, in_a, in_b = np.intersect1d(hashes_a, hashes_b, assume_unique=True, return_indices=True)
    anchors = (counts_a[in_a] <= MAX_SEED_REPEATS) & (counts_b[in_b] <= MAX_SEED_REPEATS)
    in_a, in_b = in_a[anchors], in_b[anchors]
    # Every position of a shared run in a with every position of it in b.
    count_a, count_b = counts_a[in_a], counts_b[in_b]
    per_run = count_a * count_b
    total = int(per_run.sum())
    if total == 0:
        return np.empty((0, 2), dtype=np.int64)
    run = np.repeat(np.arange(len(per_run)), per_run)
    offset = np.arange(total) - np.repeat(np.cumsum(per_run) - per_run, per_run)
    i = positions_a[first_a[in_a][run] + offset // count_b[run]]
    j = positions_b[first_b[in_b][run] + offset % count_b[run]]
    return np.stack([i, j], axis=1).astype(np.int64)


def _chains(
    matches: np.ndarray, segments_a: np.ndarray, segments_b: np.ndarray
) -> list[list[tuple[int, int]]]:
    """Group seed matches into chains that advance together in both texts, never across
    removed boilerplate."""
    order = np.lexsort((matches[:, 1], matches[:, 0]))
    open_chains: list[list[tuple[int, int]]] = []
    closed: list[list[tuple[int, int]]] = []
    for i, j in matches[order].tolist():
        still_open = []
        best, best_skew = None, 0
        for chain in open_chains:
            li, lj = chain[-1]
            di = i - li
            if di > MAX_GAP:
                closed.append(chain)
                continue
            still_open.append(chain)
            dj = j - lj
            if (
                di > 0
                and 0 < dj <= MAX_GAP
                and abs(di - dj) <= MAX_SKEW
                and (best is None or abs(di - dj) < best_skew)
                and segments_a[i] == segments_a[li]
                and segments_b[j] == segments_b[lj]
            ):
                best, best_skew = chain, abs(di - dj)
        open_chains = still_open
        if best is None:
            open_chains.append([(i, j)])
        else:
            best.append((i, j))
    return closed + open_chains


def _covered(positions: list[int], k: int) -> int:
    """Number of tokens covered by k-word seeds starting at ``positions`` (ascending)."""
    total, reach = 0, -1
    for p in sorted(positions):
        end = p + k
        total += end - max(p, reach)
        reach = end
    return total


def _extend(a: Features, b: Features, found: Alignment) -> Alignment:
    """Grow a passage over equal words at its edges, and over compounds written as one word
    on one side and two on the other (``deep fakes`` / ``deepfakes``)."""
    wa, wb = a.words, b.words
    a0, a1, b0, b1 = found.a_start, found.a_end, found.b_start, found.b_end
    ma, mb = found.matched_a, found.matched_b
    seg_a0, seg_b0 = a.segments[a0], b.segments[b0]
    while True:
        if a0 >= 1 and b0 >= 1 and a.segments[a0 - 1] == seg_a0 and b.segments[b0 - 1] == seg_b0:
            if wa[a0 - 1] == wb[b0 - 1]:
                a0, b0, ma, mb = a0 - 1, b0 - 1, ma + 1, mb + 1
                continue
            if a0 >= 2 and a.segments[a0 - 2] == seg_a0 and wa[a0 - 2] + wa[a0 - 1] == wb[b0 - 1]:
                a0, b0, ma, mb = a0 - 2, b0 - 1, ma + 2, mb + 1
                continue
            if b0 >= 2 and b.segments[b0 - 2] == seg_b0 and wb[b0 - 2] + wb[b0 - 1] == wa[a0 - 1]:
                a0, b0, ma, mb = a0 - 1, b0 - 2, ma + 1, mb + 2
                continue
        break
    seg_a1, seg_b1 = a.segments[a1 - 1], b.segments[b1 - 1]
    na, nb = len(wa), len(wb)
    while True:
        if a1 < na and b1 < nb and a.segments[a1] == seg_a1 and b.segments[b1] == seg_b1:
            if wa[a1] == wb[b1]:
                a1, b1, ma, mb = a1 + 1, b1 + 1, ma + 1, mb + 1
                continue
            if a1 + 1 < na and a.segments[a1 + 1] == seg_a1 and wa[a1] + wa[a1 + 1] == wb[b1]:
                a1, b1, ma, mb = a1 + 2, b1 + 1, ma + 2, mb + 1
                continue
            if b1 + 1 < nb and b.segments[b1 + 1] == seg_b1 and wb[b1] + wb[b1 + 1] == wa[a1]:
                a1, b1, ma, mb = a1 + 1, b1 + 2, ma + 1, mb + 2
                continue
        break
    return Alignment(a0, a1, b0, b1, ma, mb)


def align(
    a: Features,
    b: Features,
    *,
    seed_words: int = 3,
    min_words: int = 12,
    min_similarity: float = 0.5,
) -> list[Alignment]:
    """The maximal shared passages of ``a`` and ``b``, longest first, not overlapping.

    Args:
        a: Features of the first document.
        b: Features of the second document.
        seed_words: Length of the exact runs that anchor the alignment.
        min_words: Shortest passage kept (in words, the shorter side).
        min_similarity: Alignment-quality floor (share of matching words).
    """
    matches = _seed_matches(a, b, seed_words)
    if len(matches) == 0:
        return []
    candidates = []
    for chain in _chains(matches, a.segments, b.segments):
        ia = [p[0] for p in chain]
        jb = [p[1] for p in chain]
        found = _extend(
            a,
            b,
            Alignment(
                a_start=chain[0][0],
                a_end=chain[-1][0] + seed_words,
                b_start=min(jb),
                b_end=max(jb) + seed_words,
                matched_a=_covered(ia, seed_words),
                matched_b=_covered(jb, seed_words),
            ),
        )
        if found.words >= min_words and found.similarity >= min_similarity:
            candidates.append(found)
    candidates.sort(key=lambda x: (-x.words, x.a_start, x.b_start))
    taken_a = np.zeros(len(a), dtype=bool)
    taken_b = np.zeros(len(b), dtype=bool)
    kept = []
    for found in candidates:
        span_a = taken_a[found.a_start : found.a_end]
        span_b = taken_b[found.b_start : found.b_end]
        if span_a.mean() > 0.5 or span_b.mean() > 0.5:
            continue  # mostly the same text as a longer passage already kept
        span_a[:] = True
        span_b[:] = True
        kept.append(found)
    kept.sort(key=lambda x: (x.a_start, x.b_start))
    return kept


def coverage(alignments: list[Alignment], length: int, side: str) -> float:
    """Share of a text's ``length`` tokens inside passages (``side`` is 'a' or 'b')."""
    if length == 0 or not alignments:
        return 0.0
    covered = np.zeros(length, dtype=bool)
    for found in alignments:
        start, end = (found.a_start, found.a_end) if side == "a" else (found.b_start, found.b_end)
        covered[start:end] = True
    return float(covered.mean())


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A one-line excerpt of ``text`` (white space collapsed, cut with an ellipsis)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def to_passage(a: Document, fa: Features, b: Document, fb: Features, found: Alignment) -> Passage:
    """An alignment in token coordinates as a passage with character offsets."""
    a_start, a_end = int(fa.starts[found.a_start]), int(fa.ends[found.a_end - 1])
    b_start, b_end = int(fb.starts[found.b_start]), int(fb.ends[found.b_end - 1])
    return Passage(
        a=a.id,
        a_start=a_start,
        a_end=a_end,
        b=b.id,
        b_start=b_start,
        b_end=b_end,
        similarity=found.similarity,
        words=found.words,
        excerpt=excerpt(a.text[a_start:a_end]),
    )
