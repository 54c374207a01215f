"""Shared passages of two documents: word-level alignment that survives small edits.

Seed and extend, the shape of text-reuse alignment in the PAN shared tasks: exact runs of
``seed_words`` normalised words shared by both texts are the seeds; seeds that follow each
other in both texts within a small gap are chained into one passage (so a changed word, a
typo, a dropped clause or different punctuation do not break it); chains shorter than
``min_passage_words`` or with too few matching words are dropped. Reordered paragraphs give
separate passages, because chains are local.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..models import Document, Passage, RecordTable
from ..text.features import Features, shingle_hashes
from ..text.packed import PackedWords
from ..util.arrays import common, find, hash_table, span_share

EXCERPT_CHARS = 160

# Largest gap, in words, between two seeds of one passage (a dropped clause or a rewritten
# phrase), and the largest difference between the gaps on the two sides.
MAX_GAP = 10
MAX_SKEW = 8
# A seed that occurs more often than this in either text is a stock phrase, not an anchor.
MAX_SEED_REPEATS = 4


# A passage's kind (Alignment.kind, passages.jsonl's ``kind``): copied word for word (give or
# take a word, the seed-and-extend passages below), rewritten (:mod:`dedup.match.rewrite`),
# or nothing but what a speaker said inside quotation marks in both texts.
VERBATIM, REWRITE, QUOTE = 0, 1, 2
KINDS = ("verbatim", "rewrite", "quote")


@dataclass(frozen=True, slots=True)
class Alignment:
    """One shared passage in token coordinates (``[start, end)`` in each text's tokens);
    ``matched_a`` and ``matched_b`` count its words inside matching seeds (or, for a
    rewritten passage, the content words shared); ``kind`` is an index in ``KINDS``."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    matched_a: int
    matched_b: int
    kind: int = VERBATIM

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
        cache[k] = _seed_runs_kernel(features.hashes, features.segments, k)
    return cache[k]


@njit(cache=True, nogil=True)
def _seed_runs_kernel(token_hashes, segments, k):  # type: ignore[no-untyped-def]
    if len(token_hashes) < k:
        none = np.empty(0, dtype=np.int64)
        return np.empty(0, dtype=np.uint64), none, none.copy(), none.copy()
    hashes = shingle_hashes(token_hashes, k)
    valid = np.empty(len(hashes), dtype=np.int64)
    kept = 0
    for i in range(len(hashes)):
        if segments[i] == segments[i + k - 1]:
            valid[kept] = i
            kept += 1
    valid = valid[:kept]
    order = np.argsort(hashes[valid], kind="mergesort")  # stable: positions stay ascending
    grouped, positions = hashes[valid][order], valid[order]
    first = np.empty(kept, dtype=np.int64)
    distinct = 0
    for i in range(kept):
        if i == 0 or grouped[i] != grouped[i - 1]:
            first[distinct] = i
            distinct += 1
    first = first[:distinct].copy()
    counts = np.empty(distinct, dtype=np.int64)
    for j in range(distinct):
        counts[j] = (first[j + 1] if j + 1 < distinct else kept) - first[j]
    return grouped[first], first, counts, positions


def _seed_chains(a: Features, b: Features, k: int) -> np.ndarray:
    """Chains of seed matches (equal k-word runs of both texts, stock phrases left out)
    that advance together in both texts, never across removed boilerplate: one row per
    chain, ``(a_start, a_end, b_start, b_end, matched_a, matched_b)`` where ``matched_*``
    counts the words inside the chain's seeds."""
    if len(a) < k or len(b) < k:
        return np.empty((0, 6), dtype=np.int64)
    runs = (*_seed_runs(a, k), *_seed_runs(b, k))
    # numba's Dispatcher is typed with a fixed signature: star-arguments upset mypy.
    return _chain_kernel(*runs, a.segments, b.segments, k)  # type: ignore[call-arg]


@njit(cache=True, nogil=True)
def _chain_kernel(  # type: ignore[no-untyped-def]
    hashes_a, first_a, counts_a, positions_a, hashes_b, first_b, counts_b, positions_b,
    segments_a, segments_b, k,
):  # fmt: skip
    # Seed matches: every position of a run both texts have (at most MAX_SEED_REPEATS times
    # each) in a with every position of it in b, as i * len_b + j, sorted: by i, then j.
    span_b = np.int64(len(segments_b) + 1)
    in_a, in_b = common(hashes_a, hashes_b)
    total = 0
    for x, y in zip(in_a, in_b):
        if counts_a[x] <= MAX_SEED_REPEATS and counts_b[y] <= MAX_SEED_REPEATS:
            total += counts_a[x] * counts_b[y]
    codes = np.empty(total, dtype=np.int64)
    n = 0
    for x, y in zip(in_a, in_b):
        if counts_a[x] <= MAX_SEED_REPEATS and counts_b[y] <= MAX_SEED_REPEATS:
            for u in range(counts_a[x]):
                i = positions_a[first_a[x] + u]
                for v in range(counts_b[y]):
                    codes[n] = i * span_b + positions_b[first_b[y] + v]
                    n += 1
    codes.sort()
    return _chains(codes, span_b, segments_a, segments_b, k)


class SeedIndex:
    """One text's seed runs in a hash table, to align it with many others: each other text's
    runs are looked up in it instead of being grouped by sorting (:func:`_seed_runs`), which
    pays for a text of a scan, compared with many, not for one the gate compares once.
    ``SeedIndex(a, k).align(b, ...)`` is ``align(a, b, seed_words=k, ...)``."""

    def __init__(self, features: Features, k: int) -> None:
        self.features = features
        self.k = k
        self._runs = _seed_runs(features, k)
        self._table = hash_table(self._runs[0])

    def chains(self, other: Features) -> np.ndarray:
        """The seed chains of this text and ``other``: ``_seed_chains(text, other, k)``, empty
        when they share no anchor seed."""
        a, k = self.features, self.k
        if len(a) < k or len(other) < k:
            return np.empty((0, 6), dtype=np.int64)
        runs, segments = self._runs, (a.segments, other.segments)
        # numba's Dispatcher is typed with a fixed signature: star-arguments upset mypy.
        return _probe_kernel(self._table, *runs, other.hashes, *segments, k)  # type: ignore[call-arg]

    def align(
        self,
        other: Features,
        *,
        min_words: int = 12,
        min_similarity: float = 0.5,
        chains: np.ndarray | None = None,
    ) -> list[Alignment]:
        """The passages of this text and ``other``, as :func:`align` (``chains``: theirs, when
        already known)."""
        found = self.chains(other) if chains is None else chains
        return _passages(self.features, other, found, min_words, min_similarity)


@njit(cache=True, nogil=True)
def _probe_kernel(  # type: ignore[no-untyped-def]
    table, hashes_a, first_a, counts_a, positions_a, token_hashes_b, segments_a, segments_b, k
):
    # b's runs inside one kept stretch whose hash is an anchor of a (at most MAX_SEED_REPEATS
    # times there), with how often b has each: the seed matches of _chain_kernel.
    hashes = shingle_hashes(token_hashes_b, k)
    found = np.empty(len(hashes), dtype=np.int64)
    at = np.empty(len(hashes), dtype=np.int64)
    counts_b = np.zeros(len(hashes_a), dtype=np.int64)
    matched = 0
    for j in range(len(hashes)):
        if segments_b[j] != segments_b[j + k - 1]:
            continue
        x = find(table, hashes_a, hashes[j])
        if x >= 0 and counts_a[x] <= MAX_SEED_REPEATS:
            found[matched], at[matched] = x, j
            counts_b[x] += 1
            matched += 1
    total = 0
    for m in range(matched):
        if counts_b[found[m]] <= MAX_SEED_REPEATS:
            total += counts_a[found[m]]
    span_b = np.int64(len(segments_b) + 1)
    codes = np.empty(total, dtype=np.int64)
    n = 0
    for m in range(matched):
        x = found[m]
        if counts_b[x] <= MAX_SEED_REPEATS:
            for u in range(counts_a[x]):
                codes[n] = positions_a[first_a[x] + u] * span_b + at[m]
                n += 1
    codes.sort()
    return _chains(codes, span_b, segments_a, segments_b, k)


# Long: one compiled pass over the seed matches; split, numba would call across the pieces
# for every match.
@njit(cache=True, nogil=True)
def _chains(codes, span_b, segments_a, segments_b, k):  # type: ignore[no-untyped-def]
    """The chains of seed matches ``codes`` (``i * span_b + j``, sorted), as
    :func:`_seed_chains` gives them."""
    total = len(codes)
    # Chains: each match joins the open chain it continues with the least skew (the first
    # such), or starts one; a chain more than MAX_GAP behind in a is closed. Output: closed
    # chains in the order they closed, then the open ones in the order they started.
    last_i = np.empty(total, dtype=np.int64)
    last_j = np.empty(total, dtype=np.int64)
    first_i = np.empty(total, dtype=np.int64)
    first_j = np.empty(total, dtype=np.int64)
    covered_a = np.empty(total, dtype=np.int64)
    covered_b = np.empty(total, dtype=np.int64)
    open_chains = np.empty(total, dtype=np.int64)
    order = np.empty(total, dtype=np.int64)
    opened = closed = chains = 0
    for code in codes:
        i, j = code // span_b, code % span_b
        best, best_skew, kept = -1, 0, 0
        for slot in range(opened):
            chain = open_chains[slot]
            di = i - last_i[chain]
            if di > MAX_GAP:
                order[closed] = chain
                closed += 1
                continue
            open_chains[kept] = chain
            kept += 1
            dj = j - last_j[chain]
            skew = abs(di - dj)
            if (
                di > 0
                and 0 < dj <= MAX_GAP
                and skew <= MAX_SKEW
                and (best < 0 or skew < best_skew)
                and segments_a[i] == segments_a[last_i[chain]]
                and segments_b[j] == segments_b[last_j[chain]]
            ):
                best, best_skew = chain, skew
        opened = kept
        if best < 0:
            first_i[chains], first_j[chains] = i, j
            last_i[chains], last_j[chains] = i, j
            covered_a[chains] = covered_b[chains] = k
            open_chains[opened] = chains
            opened += 1
            chains += 1
        else:
            # Seeds of a chain advance in both texts: the words they cover grow by the part
            # of the new seed past the last one.
            covered_a[best] += k - max(0, last_i[best] + k - i)
            covered_b[best] += k - max(0, last_j[best] + k - j)
            last_i[best], last_j[best] = i, j
    for slot in range(opened):
        order[closed + slot] = open_chains[slot]
    out = np.empty((chains, 6), dtype=np.int64)
    for row in range(chains):
        chain = order[row]
        out[row, 0] = first_i[chain]
        out[row, 1] = last_i[chain] + k
        out[row, 2] = first_j[chain]
        out[row, 3] = last_j[chain] + k
        out[row, 4] = covered_a[chain]
        out[row, 5] = covered_b[chain]
    return out


def _segment_bounds(features: Features) -> np.ndarray:
    """Where each segment's tokens start, by segment number (segment numbers rise along the
    text, with gaps where a kept stretch had no token), then the number of tokens: segment
    ``s`` is ``[bounds[s], bounds[s + 1])``. Kept on the features like the seed runs."""
    cached = features.__dict__.get("_segment_bounds")
    if cached is None:
        segments = features.segments
        last = int(segments[-1]) if len(segments) else -1
        cached = np.searchsorted(segments, np.arange(last + 2))
        features.__dict__["_segment_bounds"] = cached
    return cached


def word_bytes(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """The words as UTF-8 bytes joined by spaces, and where each word starts in them (then
    their length + 1), for the compiled extension; kept on the features like the seed runs.
    Words never hold a space (no token does)."""
    cached = features.__dict__.get("_word_bytes")
    if cached is None:
        words = features.words
        if isinstance(words, PackedWords):
            cached = (np.frombuffer(words.data, dtype=np.uint8), words.bounds)
        else:
            data = np.frombuffer(" ".join(words).encode("utf-8", "surrogatepass"), dtype=np.uint8)
            spaces = np.flatnonzero(data == 32)
            if len(words) and len(spaces) != len(words) - 1:
                raise ValueError("a word holds a space: words are tokens, which never do")
            cached = (data, np.concatenate(([0], spaces + 1, [len(data) + 1])))
        features.__dict__["_word_bytes"] = cached
    return cached


def _extended(
    a: Features, b: Features, chains: np.ndarray, min_words: int, min_similarity: float
) -> np.ndarray:
    """The chains grown over equal words at their edges, and over compounds written as one
    word on one side and two on the other (``deep fakes`` / ``deepfakes``), never past the
    segment (kept stretch of text) where each of their ends lies; rows as the chains', only
    those of at least ``min_words`` (:attr:`Alignment.words`) and ``min_similarity``
    (:attr:`Alignment.similarity`, the same division), in the chains' order."""
    if len(chains) == 0:
        return chains
    return _extend_kernel(
        chains, *word_bytes(a), *word_bytes(b), a.segments, b.segments,
        _segment_bounds(a), _segment_bounds(b), min_words, min_similarity,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _extend_kernel(  # type: ignore[no-untyped-def]
    chains, wa, sa, wb, sb, segments_a, segments_b, bounds_a, bounds_b, min_words, min_similarity
):
    out = np.empty_like(chains)
    kept = 0
    for row in range(len(chains)):
        a0, a1, b0, b1 = chains[row, 0], chains[row, 1], chains[row, 2], chains[row, 3]
        ma, mb = chains[row, 4], chains[row, 5]
        # The first token of the segments of the passage's starts, and one past the last
        # token of those of its ends.
        low_a, low_b = bounds_a[segments_a[a0]], bounds_b[segments_b[b0]]
        high_a, high_b = bounds_a[segments_a[a1 - 1] + 1], bounds_b[segments_b[b1 - 1] + 1]
        while a0 > low_a and b0 > low_b:
            if _joined(wa, sa, a0 - 1, 1, wb, sb, b0 - 1):
                a0, b0, ma, mb = a0 - 1, b0 - 1, ma + 1, mb + 1
            elif a0 - 1 > low_a and _joined(wa, sa, a0 - 2, 2, wb, sb, b0 - 1):
                a0, b0, ma, mb = a0 - 2, b0 - 1, ma + 2, mb + 1
            elif b0 - 1 > low_b and _joined(wb, sb, b0 - 2, 2, wa, sa, a0 - 1):
                a0, b0, ma, mb = a0 - 1, b0 - 2, ma + 1, mb + 2
            else:
                break
        while a1 < high_a and b1 < high_b:
            if _joined(wa, sa, a1, 1, wb, sb, b1):
                a1, b1, ma, mb = a1 + 1, b1 + 1, ma + 1, mb + 1
            elif a1 + 1 < high_a and _joined(wa, sa, a1, 2, wb, sb, b1):
                a1, b1, ma, mb = a1 + 2, b1 + 1, ma + 2, mb + 1
            elif b1 + 1 < high_b and _joined(wb, sb, b1, 2, wa, sa, a1):
                a1, b1, ma, mb = a1 + 1, b1 + 2, ma + 1, mb + 2
            else:
                break
        length_a, length_b = a1 - a0, b1 - b0
        if min(length_a, length_b) < min_words:
            continue
        if (ma + mb) / (length_a + length_b) < min_similarity:
            continue
        out[kept, 0], out[kept, 1], out[kept, 2], out[kept, 3] = a0, a1, b0, b1
        out[kept, 4], out[kept, 5] = ma, mb
        kept += 1
    return out[:kept]


@njit(cache=True, nogil=True)
def _joined(words_x, starts_x, i, count, words_y, starts_y, j):  # type: ignore[no-untyped-def]
    """Whether ``count`` words of x from word ``i``, written together, are word ``j`` of y
    (their bytes: ``starts`` as :func:`word_bytes` gives them)."""
    at = starts_y[j]
    end = starts_y[j + 1] - 1
    for word in range(i, i + count):
        length = starts_x[word + 1] - 1 - starts_x[word]
        if at + length > end:
            return False
        start = starts_x[word]
        for t in range(length):
            if words_x[start + t] != words_y[at + t]:
                return False
        at += length
    return at == end


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
    return _passages(a, b, _seed_chains(a, b, seed_words), min_words, min_similarity)


def _passages(
    a: Features, b: Features, chains: np.ndarray, min_words: int, min_similarity: float
) -> list[Alignment]:
    """The passages of ``a`` and ``b`` grown from their seed chains, as :func:`align` gives
    them."""
    grown = _extended(a, b, chains, min_words, min_similarity)
    if not len(grown):
        return []
    candidates = [Alignment(*row) for row in grown.tolist()]
    candidates.sort(key=lambda x: (-x.words, x.a_start, x.b_start))
    taken_a = np.zeros(len(a), dtype=bool)
    taken_b = np.zeros(len(b), dtype=bool)
    kept = []
    for found in candidates:
        span_a = taken_a[found.a_start : found.a_end]
        span_b = taken_b[found.b_start : found.b_end]
        # More than half of either side already taken (counts: faster than numpy's mean).
        if 2 * np.count_nonzero(span_a) > len(span_a) or 2 * np.count_nonzero(span_b) > len(span_b):
            continue  # mostly the same text as a longer passage already kept
        span_a[:] = True
        span_b[:] = True
        kept.append(found)
    kept.sort(key=lambda x: (x.a_start, x.b_start))
    return kept


def coverage(alignments: list[Alignment], length: int, side: str) -> float:
    """Share of a text's ``length`` tokens inside passages (``side`` is 'a' or 'b')."""
    if side == "a":
        return span_share(((found.a_start, found.a_end) for found in alignments), length)
    return span_share(((found.b_start, found.b_end) for found in alignments), length)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A one-line excerpt of ``text`` (white space collapsed, cut with an ellipsis)."""
    if len(text) > 2 * limit:
        # The collapsed form of a prefix is a prefix of the collapsed text: when it is already
        # longer than the excerpt, the rest of a long passage need not be collapsed.
        head = " ".join(text[: 2 * limit].split())
        if len(head) > limit:
            return head[: limit - 1].rstrip() + "…"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def char_spans(fa: Features, fb: Features, found: Alignment) -> tuple[int, int, int, int]:
    """An alignment's ``[start, end)`` character offsets in each text: ``a_start, a_end,
    b_start, b_end``."""
    return (
        int(fa.starts[found.a_start]),
        int(fa.ends[found.a_end - 1]),
        int(fb.starts[found.b_start]),
        int(fb.ends[found.b_end - 1]),
    )


def to_passage(a: Document, fa: Features, b: Document, fb: Features, found: Alignment) -> Passage:
    """An alignment in token coordinates as a passage with character offsets."""
    a_start, a_end, b_start, b_end = char_spans(fa, fb, found)
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
        kind=KINDS[found.kind],
    )


class PassageTable(RecordTable[Passage]):
    """A scan's passages as numpy columns, read as :class:`Passage` records (ids ``p1, p2,
    ...`` in row order; the excerpt is cut from the text when read).

    Args:
        documents: The scan's documents.
        rows: One row per passage: ``a, b`` (document indices), then its alignment
            ``a_start, a_end, b_start, b_end, matched_a, matched_b`` in tokens.
        chars: Its character offsets ``a_start, a_end, b_start, b_end`` (:func:`char_spans`).
        groups: The index of its provenance group in ``group_ids``, or -1.
        group_ids: The provenance groups' ids.
    """

    def __init__(
        self,
        documents: Sequence[Document],
        rows: np.ndarray,
        chars: np.ndarray,
        groups: np.ndarray,
        group_ids: Sequence[str],
    ) -> None:  # rows: a, b, then the alignment's fields (LinkTable's rows)
        self.documents = documents
        self.rows = rows
        self.chars = chars
        self.groups = groups
        self.group_ids = group_ids

    def __len__(self) -> int:
        return len(self.rows)

    def _record(self, row: int) -> Passage:
        a, b, *tokens = self.rows[row].tolist()
        a_start, a_end, b_start, b_end = self.chars[row].tolist()
        found = Alignment(*tokens)
        group = int(self.groups[row])
        doc_a = self.documents[a]
        return Passage(
            a=doc_a.id,
            a_start=a_start,
            a_end=a_end,
            b=self.documents[b].id,
            b_start=b_start,
            b_end=b_end,
            similarity=found.similarity,
            words=found.words,
            excerpt=excerpt(doc_a.text[a_start:a_end]),
            id=f"p{row + 1}",
            provenance=self.group_ids[group] if group >= 0 else None,
            kind=KINDS[found.kind],
        )
