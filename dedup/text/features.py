"""Tokens, sentences, sentence windows, shingles and TF-IDF terms: the features every later
stage uses.

Tokens keep their character offsets into ``Document.text`` so that matching can normalise
freely (case, curly quotes, line endings, white space) while every reported offset still
points at the original text. Boilerplate spans are left out of the token stream.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import Stemmer
import xxhash
from breame.spelling import get_american_spelling as _american
from numba import njit

from ..models import Document
from ..util.arrays import find, hash_table, new_int_table, table_lookup, table_store
from .language import stemmer_name, stop_words
from .quotes import quoted_chars
from .scripts import SENTENCE_END_RE, SENTENCE_ENDS, token_spans

# A sentence ends at ".", "!" or "?" before white space, a closing quote or bracket, or the
# end (not inside "2.5" or "U.S.A"), at the full stops of other scripts
# (:mod:`dedup.text.scripts`), and at a line break, unless the line is long and unfinished: a
# hard-wrapped paragraph (wire copy and Reuters-21578 wrap lines at about 70 characters), as
# the cleaning joins such lines.
_WRAPPED_LINE_CHARS = 50
_LINE_CLOSERS = "\"'”’)]<"
_HASH_CACHE: dict[str, int] = {}
# Match keys by language (English's for a text of unknown language), each word's cached.
_MATCH_KEYS: dict[str | None, dict[str, int]] = {}
_NUMBER_WORDS = {
    word: str(number)
    for number, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000"}
_HASH_CACHE_LIMIT = 2_000_000
# Odd 64-bit multiplier of the polynomial rolling hash that combines token hashes into shingles.
_ROLL = np.uint64(0x9E3779B97F4A7C15)
# Extra weight of capitalised words inside sentences (names, places, organisations) among the
# TF-IDF terms: they tell two similar events apart (tuned on ECB+, whose topics pair two
# events of one kind).
NAME_WEIGHT = 2


@dataclass
class Features:
    """A document's tokens (outside boilerplate) and what is derived from them.

    Attributes:
        words: Normalised tokens (case-folded, typographic apostrophes made plain): a tuple,
            or :class:`PackedWords` when read back from the gate's index.
        starts: Character offset of each token in ``Document.text``.
        ends: End offset (exclusive) of each token.
        hashes: 64-bit hash of each normalised token.
        sentence_starts: Token index where each sentence starts (ascending, first is 0).
        names: For each token, whether it is capitalised inside a sentence (a name, a place).
        segments: For each token, the number of the kept stretch of text it lies in; removed
            boilerplate between two tokens puts them in different segments, and no passage
            crosses from one segment to the next.
        quoted: For each token, whether it lies inside quotation marks
            (:func:`~dedup.text.quotes.quoted_chars`).
        language: The document's language (ISO 639-1, None when unknown): it picks the stop
            words of :func:`term_counts` and the stemmer of :func:`match_key`.
    """

    words: Sequence[str]
    starts: np.ndarray
    ends: np.ndarray
    hashes: np.ndarray
    sentence_starts: np.ndarray
    segments: np.ndarray
    names: np.ndarray
    quoted: np.ndarray
    language: str | None = None

    def __len__(self) -> int:
        return len(self.words)


def text_key(text: str) -> int:
    """A 64-bit key of a whole text, case and white space aside: two texts with equal keys
    are the same text, whatever cleaning keeps of them."""
    return xxhash.xxh3_64_intdigest(
        " ".join(text.split()).casefold().encode("utf-8", "surrogatepass")
    )


def normalise_word(word: str) -> str:
    """The matching form of a token: case-folded, with ’ as '."""
    return word.casefold().replace("’", "'")


def match_key(word: str, language: str | None = "en") -> int:
    """The key under which a normalised word matches its variants in a rewritten sentence:
    its Snowball stem in ``language`` (``accused``, ``accusing``: ``accus``; ``annoncé``,
    ``annonce``: ``annonc``), in English (and a text of unknown language) after number words
    as digits (``two`` is ``2``) and British spelling as American (``organise`` is
    ``organize``); the word itself in a language Snowball has no stemmer for. Cached."""
    language = _stemmed_language(language)
    cache = _MATCH_KEYS.get(language)
    if cache is None:
        cache = _MATCH_KEYS[language] = {}
    return _cached(cache, word, functools.partial(_match_key, language=language))


@functools.cache
def _stemmed_language(language: str | None) -> str | None:
    """The language whose keys ``language`` uses: English for an unknown language, None for
    one without a stemmer."""
    language = language or "en"
    return language if stemmer_name(language) else None


def word_match_keys(features: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`match_key` of each of a text's words (uint64, its two lowest bits cleared),
    whether it is a number in digits, and whether it is a number in digits or words
    (``twelve``), found by the words' hashes in a compiled table: a word is read out of the
    features (packed, for the gate's candidates) only the first time its hash is met."""
    language = _stemmed_language(features.language)
    table = _key_table(language)
    hashes = features.hashes.view(np.int64)
    found = table_lookup(table, hashes)
    missing = np.flatnonzero(found == -1)
    if len(missing):
        if len(table) + len(missing) > _HASH_CACHE_LIMIT:
            table.clear()
            missing = np.arange(len(hashes))
        values = np.fromiter(
            (_key_value(features.words[i], language) for i in missing.tolist()),
            dtype=np.int64,
            count=len(missing),
        )
        table_store(table, hashes[missing], values)
        found = table_lookup(table, hashes)
    return (found & ~3).view(np.uint64), (found & 1).astype(bool), (found & 3).astype(bool)


def _key_value(word: str, language: str | None) -> int:
    """A word's entry in the table of :func:`word_match_keys`: its match key (int64 bits)
    with the lowest bit set when the word is a number in digits, the next when in words
    (English's)."""
    in_words = language == "en" and word in _NUMBER_WORDS
    key = (match_key(word, language) & ~3) | int(word.isdigit()) | 2 * int(in_words)
    return key - (1 << 64) if key >= 1 << 63 else key


@functools.cache
def _key_table(language: str | None) -> Any:
    """The compiled table of :func:`word_match_keys` for one language (a word's key depends
    on its language's stemmer)."""
    return new_int_table()


def _match_key(word: str, language: str | None) -> int:
    if language is None:
        return word_hash(word)
    form = word
    if language == "en":
        form = _NUMBER_WORDS.get(word, word)
        if form.isalpha():
            form = _american(form)
    return word_hash(_stemmer(language).stemWord(form))


@functools.cache
def _stemmer(language: str) -> Any:
    return Stemmer.Stemmer(stemmer_name(language))


def word_hash(word: str) -> int:
    """Stable 64-bit hash of a normalised word (xxh3), cached."""
    return _cached(_HASH_CACHE, word, _xxh3)


def _xxh3(word: str) -> int:
    return xxhash.xxh3_64_intdigest(word.encode("utf-8"))


def _cached(cache: dict[str, int], word: str, compute: Callable[[str], int]) -> int:
    """``compute(word)`` through ``cache``, emptied when it holds ``_HASH_CACHE_LIMIT``."""
    value = cache.get(word)
    if value is None:
        if len(cache) >= _HASH_CACHE_LIMIT:
            cache.clear()
        value = cache[word] = compute(word)
    return value


def _all_cached(
    cache: dict[str, int], words: Sequence[str], compute: Callable[[str], int]
) -> np.ndarray:
    """``compute`` of every word (uint64) through ``cache``, each distinct new word computed
    once; the cache is emptied first when they would not all fit."""
    new = set(words).difference(cache)
    if len(cache) + len(new) > _HASH_CACHE_LIMIT:
        cache.clear()
        new = set(words)
    for word in new:
        cache[word] = compute(word)
    return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


def kept_spans(text: str, removed: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """The ``[start, end)`` spans of ``text`` outside the removed ones."""
    spans, pos = [], 0
    for start, end in sorted((int(s), int(e)) for s, e in removed):
        if start > pos:
            spans.append((pos, start))
        pos = max(pos, end)
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def _word_hashes(words: Sequence[str]) -> np.ndarray:
    """:func:`word_hash` of every word, hashing each distinct new word once."""
    return _all_cached(_HASH_CACHE, words, _xxh3)


def sentence_ends(text: str) -> np.ndarray:
    """For each character of ``text``, whether a sentence ends there (see
    ``_SENTENCE_END_RE``): a boolean array of ``len(text)``."""
    marks = np.zeros(len(text), dtype=bool)
    marks[[m.start() for m in SENTENCE_END_RE.finditer(text)]] = True
    position = 0
    for line in text.split("\n")[:-1]:
        position += len(line)
        unfinished = not line.rstrip().rstrip(_LINE_CLOSERS).endswith(SENTENCE_ENDS)
        if len(line) < _WRAPPED_LINE_CHARS or not unfinished:
            marks[position] = True
        position += 1
    return marks


def extract_features(doc: Document) -> Features:
    """Tokenise the kept text of ``doc`` and find its sentence starts.

    A sentence starts at the first token, at the first token after removed text, and at a
    token with a sentence end (:func:`sentence_ends`: ``.``, ``!``, ``?``, or a line break
    that does not wrap a paragraph) between it and the token before. A name is a capitalised
    token that does not start a sentence.
    """
    text = doc.text
    spans: list[tuple[int, int]] = []
    segments: list[int] = []
    segment_firsts: list[int] = []
    for segment, (span_start, span_end) in enumerate(kept_spans(text, doc.removed)):
        found = token_spans(text, span_start, span_end)
        if found:
            segment_firsts.append(len(spans))
            spans.extend(found)
            segments.extend([segment] * len(found))
    count = len(spans)
    # Character offsets in 32 bits (a text under 2 GiB characters): 8 bytes less per token in
    # the features a scan keeps of every document.
    offset = np.int32 if len(text) < 2**31 else np.int64
    starts = np.fromiter((a for a, _ in spans), dtype=offset, count=count)
    ends = np.fromiter((b for _, b in spans), dtype=offset, count=count)
    raw = [text[a:b] for a, b in spans]
    segment_of = np.asarray(segments, dtype=np.int32)
    is_start = np.zeros(count, dtype=bool)
    if count:
        # Sentence ends before each character, counted once over the whole text.
        ends_before = np.concatenate(([0], np.cumsum(sentence_ends(text))))
        is_start[1:] = ends_before[starts[1:]] > ends_before[ends[:-1]]
        is_start[segment_firsts] = True
    folded = [w.casefold() for w in raw]
    if "’" in text:
        folded = [w.replace("’", "'") for w in folded]
    # One string object per distinct word, not per token: a corpus's features hold a few
    # hundred thousand words, not tens of millions of copies of them (and pickle each once).
    # A tuple: the cycle collector stops tracking a tuple of strings, so a process holding
    # many documents' features (a scan holds every document's) does not walk every word of
    # them in each full collection.
    words = tuple(map(sys.intern, folded))
    return Features(
        words=words,
        starts=starts,
        ends=ends,
        hashes=_word_hashes(words),
        sentence_starts=np.flatnonzero(is_start).astype(np.int64),
        segments=segment_of,
        names=np.fromiter((w[0].isupper() for w in raw), dtype=bool, count=count) & ~is_start,
        quoted=quoted_chars(text)[starts] if count else np.zeros(0, dtype=bool),
        language=doc.language,
    )


# Compiled (numba), and callable from compiled code (the seed runs of alignment): a gate check
# builds the shingles of up to 50 stored candidates of a few hundred tokens each, where
# numpy's per-call overhead would be most of the time.


@njit(cache=True, nogil=True)
def shingle_hashes(token_hashes, size):  # type: ignore[no-untyped-def]
    """64-bit hashes of every run of ``size`` consecutive tokens (one per start position):
    the polynomial rolling hash ``((h0 * R + h1) * R + h2) ...``, wrapping at 64 bits.

    A text shorter than ``size`` tokens gives one shingle of all its tokens.
    """
    count = len(token_hashes)
    size = min(size, count)
    n = count - size + 1 if count else 0
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        value = token_hashes[i]
        for k in range(1, size):
            value = value * _ROLL + token_hashes[i + k]
        out[i] = value
    return out


@njit(cache=True, nogil=True)
def shingle_set(token_hashes, size):  # type: ignore[no-untyped-def]
    """Sorted unique shingle hashes: the document as a set, for exact Jaccard/containment."""
    values = shingle_hashes(token_hashes, size)
    values.sort()
    kept = min(len(values), 1)
    for i in range(1, len(values)):
        if values[i] != values[kept - 1]:
            values[kept] = values[i]
            kept += 1
    return values[:kept].copy()


def sentence_windows(features: Features, window_words: int) -> list[tuple[int, int]]:
    """Token ranges ``[start, end)`` of runs of whole sentences of about ``window_words``.

    One window starts at every sentence and extends over following sentences until it holds
    ``window_words`` tokens; a document shorter than that is one window. Windows let a few
    reused sentences inside a longer story be found by LSH.
    """
    total = len(features)
    if total == 0:
        return []
    if total <= window_words:
        return [(0, total)]
    bounds = [*features.sentence_starts.tolist(), total]
    windows: list[tuple[int, int]] = []
    j = 0
    for i in range(len(bounds) - 1):
        start = bounds[i]
        j = max(j, i + 1)
        while j < len(bounds) - 1 and bounds[j] - start < window_words:
            j += 1
        end = bounds[j]
        if end - start > 3 * window_words:
            end = start + 2 * window_words  # a run-on "sentence" (lists, tables): cap it
        windows.append((start, end))
        if end == total:
            break
    return windows


def tiling(windows: Sequence[tuple[int, int]]) -> list[int]:
    """Indices of the windows that tile the text without overlapping: the first window, then
    each next one that starts where the last one taken ends (or later).

    Any run of text two windows long holds a whole tiling window, and a document that shares
    that run has a window starting at the same sentence: looking up a document's tiling
    windows against every window of the others finds such passages with half the lookups.
    """
    taken: list[int] = []
    end = -1
    for number, (start, stop) in enumerate(windows):
        if start >= end:
            taken.append(number)
            end = stop
    return taken


def window_shingles(
    features: Features, windows: list[tuple[int, int]], shingle_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The shingle hashes of a document's windows, each window a range of them.

    A window ``[a, b)`` holds the shingles starting at ``a .. b - size``: a slice of the
    document's shingles, which are hashed once for all the (overlapping) windows. A window
    shorter than a shingle (a last one-word "sentence") holds one shingle of its own words
    instead, appended after the document's.

    Returns:
        The shingle hashes, and for each window the ``[start, end)`` range of its shingles
        (an ``(n, 2)`` array).
    """
    shingles = shingle_hashes(features.hashes, shingle_size)
    if not windows:
        return shingles, np.empty((0, 2), dtype=np.int64)
    count = len(shingles)
    bounds = np.asarray(windows, dtype=np.int64)
    first, stop = bounds[:, 0], bounds[:, 1]
    spans = np.stack([first, np.minimum(np.maximum(first + 1, stop - shingle_size + 1), count)], 1)
    short = np.flatnonzero(stop - first < shingle_size).tolist() if count > 1 else []
    extra = [shingle_hashes(features.hashes[first[w] : stop[w]], shingle_size) for w in short]
    for w in short:  # each short window is one shingle
        spans[w] = (count, count + 1)
        count += 1
    return np.concatenate([shingles, *extra]), spans


def term_counts(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """A document's TF-IDF terms, as sorted distinct 64-bit keys, and the count of each.

    The terms are its words but the stop words of its language
    (:func:`~dedup.text.language.stop_words`: English's and the language's own), keyed by
    their word hashes, and each name (a capitalised word inside a sentence) ``NAME_WEIGHT``
    more times under a key of its own: :func:`term_key` of ``"name:" + word``. Keys instead
    of strings let the scan and the gate count terms with numpy, and the gate's index store
    integers.
    """
    return _term_counts_kernel(features.hashes, features.names, *_stop_keys(features.language))


@functools.cache
def _stop_keys(language: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The stop words' keys of ``language`` in a hash table
    (:func:`~dedup.util.arrays.hash_table`; a lookup per token, a third of counting terms
    when it was a binary search), and sorted."""
    keys = np.sort(np.array([word_hash(w) for w in stop_words(language)], dtype=np.uint64))
    return hash_table(keys), keys


@njit(cache=True, nogil=True)
def _term_counts_kernel(hashes, names, stop_table, stop_keys):  # type: ignore[no-untyped-def]
    # Compiled (numba): the gate counts the terms of up to 50 candidates per check.
    terms = np.empty(2 * len(hashes), dtype=np.uint64)
    named = np.empty(len(hashes), dtype=np.uint64)
    content = found = 0
    for i in range(len(hashes)):
        value = hashes[i]
        if find(stop_table, stop_keys, value) >= 0:
            continue
        terms[content] = value
        content += 1
        if names[i]:
            named[found] = value ^ _NAME_SALT
            found += 1
    terms[content : content + found] = named[:found]
    terms = terms[: content + found]
    terms.sort()
    named = named[:found]
    named.sort()
    keys = np.empty(len(terms), dtype=np.uint64)
    counts = np.zeros(len(terms), dtype=np.int64)
    distinct = -1
    for i in range(len(terms)):
        if i == 0 or terms[i] != terms[i - 1]:
            distinct += 1
            keys[distinct] = terms[i]
        counts[distinct] += 1
    keys, counts = keys[: distinct + 1].copy(), counts[: distinct + 1].copy()
    if found:
        for i in range(len(keys)):
            at = np.searchsorted(named, keys[i])
            if at < found and named[at] == keys[i]:
                counts[i] *= NAME_WEIGHT
    return keys, counts


def term_key(term: str) -> int:
    """The key :func:`term_counts` gives a term written out: ``word`` or ``name:word`` (the
    form indexes of schema 3 and earlier stored)."""
    if term.startswith("name:"):
        return word_hash(term[5:]) ^ int(_NAME_SALT)
    return word_hash(term)


_NAME_SALT = np.uint64(xxhash.xxh3_64_intdigest(b"name:"))
