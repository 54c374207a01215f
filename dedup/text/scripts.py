"""Tokens and sentence ends in every script.

Most scripts put spaces between words: a token is a run of letters and digits with their
combining marks (the vowel signs of Devanagari, Thai or Arabic are marks, not letters, and a
word goes on over them), joined by apostrophes. Han, Hiragana and Katakana (Chinese and
Japanese), Thai, Lao, Khmer and Myanmar are written without spaces between words: each run
of them is cut into overlapping pairs of characters (a character with its marks), as
Lucene's CJK analyzer indexes Chinese, Japanese and Korean. Pairs need no dictionary, find a
copied run at any offset, and keep every character offset exact; a word segmenter (ICU's
dictionaries, jieba, MeCab) would also need its dictionary and its errors to agree between
two copies. A run of one character is one token.

A token of such a run weighs half a word: where most tokens of a text are such pieces
(:func:`unspaced_share`), its shortest passage of 12 words is 24 pairs, a run of 25
characters, about what 12 English words say
(:func:`~dedup.match.compare.passage_minimum`).

Sentences end at ``.``, ``!`` and ``?`` before white space, and at the full stops of other
scripts wherever they stand: ``。`` ``！`` ``？`` ``｡`` (Chinese and Japanese), ``؟`` ``۔``
(Arabic, Urdu), ``।`` ``॥`` (Devanagari, Bengali), ``။`` (Myanmar), ``።`` (Ethiopic).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np
import regex

# Scripts without spaces between words (and the marks that belong to them: the Japanese
# prolonged sound mark and iteration marks are script-neutral characters).
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}ー々〆ヽヾゝゞ"
_UNSPACED_RUN = rf"(?:[{_UNSPACED}]\p{{M}}*)+"
_WORD = rf"(?:[^\W_{_UNSPACED}]\p{{M}}*)+"
TOKEN_PATTERN = regex.compile(rf"(?P<unspaced>{_UNSPACED_RUN})|{_WORD}(?:['’]{_WORD})*")
_UNIT = regex.compile(r".\p{M}*", regex.S)
# Text with none of these characters is tokenised by ``SPACED_TOKEN_RE`` (the standard
# library's engine, faster), which gives the same tokens on it; ASCII text is not searched.
_NEEDS_SCRIPTS = regex.compile(rf"[\p{{M}}{_UNSPACED}]")
_UNSPACED_CHAR = regex.compile(f"[{_UNSPACED}]")
SPACED_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# Full stops that end a sentence wherever they stand (no space follows them in Chinese and
# Japanese text).
FULL_STOPS = "。！？｡؟۔।॥။።"
SENTENCE_END_RE = re.compile(rf"[.!?](?=[\s\"'”’)\]<]|$)|[{FULL_STOPS}]")
# What a line that ends a sentence ends with (before closing quotes and brackets).
SENTENCE_ENDS = (".", "!", "?", *FULL_STOPS)


def token_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The ``[start, end)`` character spans of the tokens of ``text[start:end]``, in order
    (pairs of a run without spaces overlap by one character)."""
    end = len(text) if end is None else end
    if text.isascii() or not _NEEDS_SCRIPTS.search(text, start, end):
        return [m.span() for m in SPACED_TOKEN_RE.finditer(text, start, end)]
    spans: list[tuple[int, int]] = []
    for found in TOKEN_PATTERN.finditer(text, start, end):
        if found.group("unspaced") is None:
            spans.append(found.span())
            continue
        bounds = [unit.start() for unit in _UNIT.finditer(text, *found.span())]
        bounds.append(found.end())
        if len(bounds) == 2:
            spans.append((bounds[0], bounds[1]))
        else:
            spans.extend(zip(bounds[:-2], bounds[2:]))
    return spans


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` (:func:`token_spans`) as strings."""
    if text.isascii() or not _NEEDS_SCRIPTS.search(text):
        return SPACED_TOKEN_RE.findall(text)
    return [text[a:b] for a, b in token_spans(text)]


@functools.lru_cache(maxsize=1 << 16)
def is_unspaced(token: str) -> bool:
    """Whether a token is a piece of a run without spaces (a pair of characters, or one)."""
    return _UNSPACED_CHAR.match(token) is not None


def unspaced_share(words: Sequence[str]) -> float:
    """The share of a text's tokens that are pieces of runs without spaces."""
    joined = " ".join(words)
    if joined.isascii() or _UNSPACED_CHAR.search(joined) is None:
        return 0.0
    return float(np.count_nonzero(np.fromiter(map(is_unspaced, words), dtype=bool))) / len(words)
