"""Quoted speech: which characters of a text lie inside quotation marks.

Two outlets that quote one sentence of a press conference share its words without either
copying the other; a passage made only of such words is a ``quote``
(:func:`dedup.match.compare.mark_quotes`). A quotation opens at ``"``, ``“``, ``«``, ``„``,
``‹``, ``「`` or ``『``, or at a single ``'`` or ``‘`` that starts a word, and ends at its
closing mark or at the end of the paragraph (a quotation that goes on in the next paragraph
opens there again, as news style writes it; a line break inside a sentence wraps the
paragraph and does not end it). An apostrophe inside a word (``don't``) is not a quotation
mark.
"""

from __future__ import annotations

import re

import numpy as np

# Opening mark -> the marks that close it.
_CLOSERS = {
    '"': '"”“',
    "“": '”"“',
    "„": '“”"',
    "«": "»",
    "»": "«",  # Danish and German style: »quoted«
    "‹": "›",
    "「": "」",
    "『": "』",
    "'": "'’",
    "‘": "’'",
}
_MARK_RE = re.compile(r"[\"“”„«»‹›「」『』'‘’]|\n")
_SENTENCE_ENDS = (".", "!", "?", ":", ";", "。", "！", "？")
_WORD_CHAR = re.compile(r"[^\W_]")


def quoted_chars(text: str) -> np.ndarray:
    """For each character of ``text``, whether it lies inside a quotation (the marks
    themselves excluded)."""
    inside = np.zeros(len(text) + 1, dtype=np.int8)
    opened: str | None = None
    start = 0
    for match in _MARK_RE.finditer(text):
        mark, at = match.group(), match.start()
        if mark == "\n":
            if opened is not None and _paragraph_ends(text, at):
                inside[start] += 1
                inside[at] -= 1
                opened = None
        elif opened is None:
            if _opens(text, at, mark):
                opened, start = mark, at + 1
        elif mark in _CLOSERS[opened] and _closes(text, at, mark):
            inside[start] += 1
            inside[at] -= 1
            opened = None
    if opened is not None:
        inside[start] += 1
        inside[len(text)] -= 1
    return np.cumsum(inside[:-1]) > 0


def _paragraph_ends(text: str, at: int) -> bool:
    """Whether the line break at ``at`` ends a paragraph: after a sentence's end or a blank
    line, not in the middle of a hard-wrapped sentence."""
    line = text[text.rfind("\n", 0, at) + 1 : at].rstrip()
    return not line or line.endswith(_SENTENCE_ENDS)


def _opens(text: str, at: int, mark: str) -> bool:
    """Whether the mark at ``at`` can open a quotation: any opening mark, but a single
    quote only before a word and not after one (``don't``, ``players'``)."""
    if mark not in _CLOSERS:
        return False
    if mark not in "'‘":
        return True
    before = text[at - 1] if at else " "
    after = text[at + 1] if at + 1 < len(text) else " "
    return not _WORD_CHAR.match(before) and bool(_WORD_CHAR.match(after) or after in '"“')


def _closes(text: str, at: int, mark: str) -> bool:
    """Whether the mark at ``at`` can close a quotation: a single quote not between two word
    characters (an apostrophe)."""
    if mark not in "'’":
        return True
    before = text[at - 1] if at else " "
    after = text[at + 1] if at + 1 < len(text) else " "
    return not (_WORD_CHAR.match(before) and _WORD_CHAR.match(after))
