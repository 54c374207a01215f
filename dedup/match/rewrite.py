"""Rewritten passages: sentences of one text that keep much of the wording of a sentence of
the other, reworded.

Newspapers rewrite the wire: the same facts, names, numbers and quotes in shortened,
reordered sentences with changed words, where exact word runs (:mod:`dedup.match.align`) find
only fragments. As in the text-alignment approaches that did best at PAN, sentences are the
seeds: each sentence of either text is paired with the sentence of the other that shares
most of its word pairs (two words in a row, compared by
:func:`~dedup.text.features.match_key`: stems, spelling and number variants alike), when
they share at least ``MIN_SHARED`` of them and at least ``MIN_SHARE`` of the shorter
sentence's; paired sentences that follow each other in both texts within ``SENTENCE_GAP``
sentences are merged into one passage, and passages shorter than the shortest passage are
dropped.

Word pairs, not content words: two agencies reporting one event independently share its
names, numbers and facts sentence by sentence, but seldom its phrasing (on METER dev, content
words at the same thresholds cover a third of the stories written without the PA copy; word
pairs a tenth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..text.features import Features, word_match_keys
from .align import REWRITE, Alignment

MIN_SHARED = 3  # word pairs a sentence shares with the sentence it rewrites, at least
MIN_SHARE = 0.4  # and this share of the shorter one's word pairs
# A sentence of fewer word pairs (numbers aside) is not paired as rewritten: a line of a table
# or a headline shares its few word pairs with any line of the same form.
MIN_SENTENCE_PAIRS = 6
UNANCHORED_SHARED = 8
SENTENCE_GAP = 1  # sentences left out between two paired ones of one passage, at most
_PAIR_MIX = np.uint64(0x9E3779B97F4A7C15)
_NO_SPANS = np.empty((0, 4), dtype=np.int64)


@dataclass(frozen=True)
class SentenceKeys:
    """A text's sentences as sets of word-pair keys.

    Attributes:
        bounds: Where each sentence's tokens start, then the number of tokens.
        keys: The distinct (key, sentence) entries' keys, ascending.
        sentences: Each entry's sentence.
        sizes: Each sentence's number of distinct word-pair keys.
        anchor_keys: The distinct (key, sentence) entries of its names and numbers' match
            keys, ascending.
        anchor_sentences: Each anchor entry's sentence.
    """

    bounds: np.ndarray
    keys: np.ndarray
    sentences: np.ndarray
    sizes: np.ndarray
    anchor_keys: np.ndarray
    anchor_sentences: np.ndarray


def sentence_keys(features: Features) -> SentenceKeys:
    """The text's :class:`SentenceKeys`, kept on its features (a text meets many
    others)."""
    cached = features.__dict__.get("_sentence_keys")
    if cached is None:
        words, numbers, numeric = word_match_keys(features)
        bounds = _bounds(features)
        anchors = numeric | np.asarray(features.names, dtype=np.bool_)
        cached = SentenceKeys(
            bounds,
            *_sentence_pair_keys(words, numbers, bounds),
            *_anchor_keys(words, anchors, bounds),
        )
        features.__dict__["_sentence_keys"] = cached
    return cached


def _bounds(features: Features) -> np.ndarray:
    """Where each sentence's tokens start, then the number of tokens (kept on its
    features)."""
    cached = features.__dict__.get("_sentence_bounds")
    if cached is None:
        cached = np.append(features.sentence_starts, len(features)).astype(np.int64)
        features.__dict__["_sentence_bounds"] = cached
    return cached


@njit(cache=True, nogil=True)
def _sentence_pair_keys(words, numbers, bounds):  # type: ignore[no-untyped-def]
    """:class:`SentenceKeys`' keys, sentences and sizes from each token's match key, whether
    it is a number and the sentence bounds: the keys of pairs of words inside one sentence,
    neither a number (the numbers of two tables of one form differ, and their lines share
    the rest), distinct per sentence, sorted by key then sentence."""
    count = len(bounds) - 1
    keys = np.empty(max(len(words) - 1, 0), dtype=np.uint64)
    owners = np.empty(max(len(words) - 1, 0), dtype=np.int64)
    found = 0
    for s in range(count):
        for t in range(bounds[s], bounds[s + 1] - 1):
            if not numbers[t] and not numbers[t + 1]:
                keys[found] = words[t] * _PAIR_MIX + words[t + 1]
                owners[found] = s
                found += 1
    keys, owners = _distinct(keys[:found], owners[:found])
    sizes = np.zeros(count, dtype=np.int64)
    for owner in owners:
        sizes[owner] += 1
    return keys, owners, sizes


@njit(cache=True, nogil=True)
def _anchor_keys(words, chosen, bounds):  # type: ignore[no-untyped-def]
    """The distinct (key, sentence) entries of the ``chosen`` tokens' keys, sorted by key
    then sentence: keys, sentences."""
    keys = np.empty(len(words), dtype=np.uint64)
    owners = np.empty(len(words), dtype=np.int64)
    found = 0
    for s in range(len(bounds) - 1):
        for t in range(bounds[s], bounds[s + 1]):
            if chosen[t]:
                keys[found], owners[found] = words[t], s
                found += 1
    return _distinct(keys[:found], owners[:found])


@njit(cache=True, nogil=True)
def _distinct(keys, owners):  # type: ignore[no-untyped-def]
    """The distinct (key, owner) entries, sorted by key then owner, of entries listed in
    ascending owner order."""
    order = np.argsort(keys, kind="mergesort")  # stable: owners stay ascending
    out_keys = np.empty(len(keys), dtype=np.uint64)
    out_owners = np.empty(len(keys), dtype=np.int64)
    kept = 0
    for k in order:
        if kept and out_keys[kept - 1] == keys[k] and out_owners[kept - 1] == owners[k]:
            continue
        out_keys[kept], out_owners[kept] = keys[k], owners[k]
        kept += 1
    return out_keys[:kept], out_owners[:kept]


def rewrite_passages(
    a: Features,
    b: Features,
    taken: list[Alignment],
    *,
    min_words: int,
) -> list[Alignment]:
    """The rewritten passages of ``a`` and ``b``, in text order, outside the ``taken``
    (verbatim) passages: a sentence mostly inside one on either side is not paired again,
    and a passage does not reach across it."""
    bounds_a, bounds_b = _bounds(a), _bounds(b)
    if taken:
        spans = np.array([(x.a_start, x.a_end, x.b_start, x.b_end) for x in taken], dtype=np.int64)
        taken_a = _taken_sentences(bounds_a, spans[:, 0], spans[:, 1])
        taken_b = _taken_sentences(bounds_b, spans[:, 2], spans[:, 3])
        if taken_a.all() or taken_b.all():
            return []  # every sentence of one text is taken: no pair of free sentences
    else:
        taken_a = np.zeros(len(bounds_a) - 1, dtype=np.bool_)
        taken_b = np.zeros(len(bounds_b) - 1, dtype=np.bool_)
    ka, kb = sentence_keys(a), sentence_keys(b)
    if not len(ka.keys) or not len(kb.keys):
        return []
    rows = _rewrites(
        ka.keys,
        ka.sentences,
        ka.sizes,
        bounds_a,
        taken_a,
        kb.keys,
        kb.sentences,
        kb.sizes,
        bounds_b,
        taken_b,
        (ka.anchor_keys, ka.anchor_sentences, kb.anchor_keys, kb.anchor_sentences),
        min_words,
    )
    if not len(rows):
        return []
    return [
        Alignment(a_start, a_end, b_start, b_end, words, words, REWRITE)
        for a_start, a_end, b_start, b_end, words in rows.tolist()
    ]


@njit(cache=True, nogil=True)
def _rewrites(  # type: ignore[no-untyped-def]
    keys_a,
    sentences_a,
    sizes_a,
    bounds_a,
    taken_a,
    keys_b,
    sentences_b,
    sizes_b,
    bounds_b,
    taken_b,
    anchors,
    min_words,
):
    """The rewritten passages as rows ``a_start, a_end, b_start, b_end, words``
    (token coordinates), from each side's sentence keys (keys, sentences, sizes), sentence
    bounds, which of its sentences the verbatim passages take, and both sides' anchors
    (:class:`SentenceKeys`' ``anchor_keys`` and ``anchor_sentences``)."""
    counts = _shared_counts(keys_a, sentences_a, keys_b, sentences_b, len(sizes_a), len(sizes_b))
    anchored = _shared_counts(*anchors, len(sizes_a), len(sizes_b))
    for i in range(len(sizes_a)):
        for j in range(len(sizes_b)):
            if not anchored[i, j] and counts[i, j] < UNANCHORED_SHARED:
                counts[i, j] = 0  # a few word pairs, no name or number: a sentence frame
    firsts, seconds, shared = _sentence_matches(counts, sizes_a, sizes_b, MIN_SHARED, MIN_SHARE)
    out = np.empty((0, 5), dtype=np.int64)
    if not len(firsts):
        return out
    free = ~taken_a[firsts] & ~taken_b[seconds]
    runs = _runs(firsts[free], seconds[free], shared[free], SENTENCE_GAP)
    out = np.empty((len(runs), 5), dtype=np.int64)
    count = 0
    for k in range(len(runs)):
        first_a, last_a, first_b, last_b, words = runs[k]
        a_start, a_end = bounds_a[first_a], bounds_a[last_a + 1]
        b_start, b_end = bounds_b[first_b], bounds_b[last_b + 1]
        if min(a_end - a_start, b_end - b_start) >= min_words:  # Alignment.words
            out[count] = (a_start, a_end, b_start, b_end, words)
            count += 1
    return out[:count]


@njit(cache=True, nogil=True)
def _taken_sentences(bounds, starts, ends):  # type: ignore[no-untyped-def]
    """Which sentences (``bounds``: their token starts, then the length) are mostly inside
    the taken passages (token spans ``[starts, ends)`` on this side)."""
    inside = np.zeros(bounds[-1] + 1, dtype=np.int64)
    for k in range(len(starts)):
        inside[starts[k]] += 1
        inside[ends[k]] -= 1
    covered = np.zeros(bounds[-1] + 1, dtype=np.int64)  # covered tokens before each
    depth = 0
    for t in range(bounds[-1]):
        depth += inside[t]
        covered[t + 1] = covered[t] + (1 if depth > 0 else 0)
    n = len(bounds) - 1
    out = np.zeros(n, dtype=np.bool_)
    for s in range(n):
        out[s] = 2 * (covered[bounds[s + 1]] - covered[bounds[s]]) > bounds[s + 1] - bounds[s]
    return out


@njit(cache=True, nogil=True)
def _shared_counts(keys_a, sentences_a, keys_b, sentences_b, count_a, count_b):  # type: ignore[no-untyped-def]
    """``(count_a, count_b)``: how many keys each sentence of one text shares with each of the
    other, from both texts' distinct (key, sentence) entries sorted by key."""
    counts = np.zeros((count_a, count_b), dtype=np.int64)
    x = y = 0
    while x < len(keys_a) and y < len(keys_b):
        if keys_a[x] < keys_b[y]:
            x += 1
        elif keys_a[x] > keys_b[y]:
            y += 1
        else:
            end_x, end_y = x, y
            while end_x < len(keys_a) and keys_a[end_x] == keys_a[x]:
                end_x += 1
            while end_y < len(keys_b) and keys_b[end_y] == keys_b[y]:
                end_y += 1
            for i in range(x, end_x):
                for j in range(y, end_y):
                    counts[sentences_a[i], sentences_b[j]] += 1
            x, y = end_x, end_y
    return counts


@njit(cache=True, nogil=True)
def _sentence_matches(counts, sizes_a, sizes_b, min_shared, min_share):  # type: ignore[no-untyped-def]
    """The paired sentences ``(i, j)`` and the content keys they share (``counts``): each
    sentence of either text with the sentence of the other that shares most (the first of a
    tie), when enough (``min_shared``, and ``min_share`` of the shorter's keys); sorted, each
    once."""
    paired = np.zeros((len(sizes_a), len(sizes_b)), dtype=np.bool_)
    for i in range(len(sizes_a)):
        j = np.argmax(counts[i]) if len(sizes_b) else -1
        if j >= 0 and _enough(counts[i, j], sizes_a[i], sizes_b[j], min_shared, min_share):
            paired[i, j] = True
    for j in range(len(sizes_b)):
        i = np.argmax(counts[:, j]) if len(sizes_a) else -1
        if i >= 0 and _enough(counts[i, j], sizes_a[i], sizes_b[j], min_shared, min_share):
            paired[i, j] = True
    firsts, seconds = np.nonzero(paired)
    shared = np.empty(len(firsts), dtype=np.int64)
    for k in range(len(firsts)):
        shared[k] = counts[firsts[k], seconds[k]]
    return firsts.astype(np.int64), seconds.astype(np.int64), shared


@njit(cache=True, nogil=True, inline="always")
def _enough(count, size_a, size_b, min_shared, min_share):  # type: ignore[no-untyped-def]
    return (
        count >= min_shared
        and count >= min_share * min(size_a, size_b)
        and min(size_a, size_b) >= MIN_SENTENCE_PAIRS
    )


@njit(cache=True, nogil=True)
def _runs(firsts, seconds, shared, gap):  # type: ignore[no-untyped-def]
    """Paired sentences (sorted by the first text's) merged into passages: a pair joins the
    passage before it when it is at most ``gap`` sentences past it in the first text and
    within ``gap`` of its sentences in the second. Rows: first and last sentence of each
    side, and the content keys shared."""
    out = np.empty((len(firsts), 5), dtype=np.int64)
    count = 0
    for k in range(len(firsts)):
        i, j = firsts[k], seconds[k]
        if count:
            row = out[count - 1]
            if i <= row[1] + gap + 1 and row[2] - gap - 1 <= j <= row[3] + gap + 1:
                row[1] = max(row[1], i)
                row[2] = min(row[2], j)
                row[3] = max(row[3], j)
                row[4] += shared[k]
                continue
        out[count, 0], out[count, 1], out[count, 2], out[count, 3] = i, i, j, j
        out[count, 4] = shared[k]
        count += 1
    return out[:count]
