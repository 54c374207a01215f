"""Prepare loaded documents for matching: repair broken encodings, mark page boilerplate,
and read the agency credit lines.

Boilerplate is found with general line-level signals (no list of site strings): length and
sentence punctuation, stop-word density, links, copyright notices, lines that address the
reader ("your support helps us"), truncated teasers, lines repeated across documents of the
same source, and the position of a line relative to the article's main block of prose.
Removed text stays in ``Document.text``; its spans are recorded in ``Document.removed``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass

import ftfy
import xxhash

from ..models import Document
from .credits import credited_agencies, filed_at, find_credits
from .language import detect_language, function_words, stop_words
from .scripts import SENTENCE_ENDS, SPACED_TOKEN_RE, tokens, unspaced_share

# --- encoding repair -----------------------------------------------------------------------

_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\ue000-\uf8ff]"
_GBK_MOJIBAKE_RE = re.compile(rf"{_CJK}+(?:[\x20-\x7e]{{1,40}}?{_CJK}+)*")
_CJK_RE = re.compile(_CJK)
_LATIN_RE = re.compile(r"[A-Za-z]")
_CLOSERS = {"‘": "’", "“": "”"}


# A character ftfy might change: anything but printable ASCII (and white space), or "&".
_FTFY_WORK_RE = re.compile(r"[^\t\n\f\r\x20-\x25\x27-\x7e]")
# ftfy's settings (its fix_text defaults but for these), built once rather than per line.
# Full-width punctuation stays as it is: it is Chinese and Japanese text's own (its "！" and
# "？" end sentences where an ASCII "!" without a space after it would not).
_FTFY_CONFIG = ftfy.TextFixerConfig(
    explain=False,
    fix_line_breaks=False,
    uncurl_quotes=False,
    fix_character_width=False,
    normalization="NFC",
)
_FTFY_CONFIG_NO_HTML = _FTFY_CONFIG._replace(unescape_html=False)


def repair_text(text: str) -> str:
    """Repair mojibake: UTF-8 read as Latin-1/Windows-1252 (ftfy) or as GBK.

    Line endings and curly quotes are kept as they are: normalisation for matching happens on
    tokens, so offsets keep pointing at readable text.
    """
    if text.isascii() and "&" not in text:
        return text  # nothing ftfy could repair (no mojibake, no HTML entity): skip its cost
    # ftfy works line by line ("\n"); a line it would leave as it is is not handed to it. Its
    # one state across lines: after a line with "<" it stops unescaping HTML entities.
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    fixed: list[str] = []
    config = _FTFY_CONFIG  # unescape_html="auto"
    for line in lines:
        if "<" in line:
            config = _FTFY_CONFIG_NO_HTML
        fixed.append(ftfy.fix_text(line, config) if _FTFY_WORK_RE.search(line) else line)
    return _repair_gbk_mojibake("".join(fixed))


def _repair_gbk_mojibake(text: str) -> str:
    """Undo UTF-8 bytes decoded as GBK (``鈥榙eepfake鈥`` -> ``‘deepfake’``) in Latin text."""
    cjk = len(_CJK_RE.findall(text))
    if cjk == 0 or cjk > len(_LATIN_RE.findall(text)):
        return text  # no CJK, or mostly CJK text (genuine Chinese): nothing to undo
    return _GBK_MOJIBAKE_RE.sub(_undo_gbk, text)


def _undo_gbk(match: re.Match[str]) -> str:
    segment = match.group()
    try:
        # GB18030: GBK, and the private-use characters its decoders give invalid byte pairs.
        raw = segment.encode("gb18030")
    except UnicodeEncodeError:
        return segment
    decoder_text, tail = _decode_utf8_prefix(raw)
    if decoder_text is None:
        # Bytes were lost when the text was decoded (a character's last byte, swallowed with
        # the next): a run that is clearly Chinese mojibake is repaired all the same, each
        # lost character as U+FFFD (``娌\ue044叕缃戝畨澶`` -> ``沪公网安�``).
        if _has_mojibake(segment):
            return raw.decode("utf-8", errors="replace")
        return segment
    if tail and tail != b"\xe2\x80" and is_gbk_mojibake(segment):
        return decoder_text + "\ufffd"  # Chinese whose last character lost a byte
    if tail:
        # The GBK decoder swallowed the last byte of a trailing quote (E2 80 xx): restore the
        # closing quote that matches the last opening one.
        if tail != b"\xe2\x80":
            return segment
        opener = max(("‘", "“"), key=decoder_text.rfind)
        decoder_text += _CLOSERS[opener] if opener in decoder_text else "’"
    if _CJK_RE.search(decoder_text) and not is_gbk_mojibake(segment):
        return segment  # genuine Chinese whose bytes happen to read as UTF-8
    return decoder_text


# UTF-8 Chinese read as GBK: a run of CJK characters whose GBK bytes read as UTF-8 CJK
# characters, at least MOJIBAKE_SHARE of the bytes. On the Chinese and Japanese articles of
# multilingual-dev, no genuine run of 4 characters or more reaches 0.38.
MOJIBAKE_MIN_CHARS = 4
MOJIBAKE_SHARE = 0.6
_CJK_RUN_RE = re.compile(rf"{_CJK}{{{MOJIBAKE_MIN_CHARS},}}")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_gbk_mojibake(run: str) -> bool:
    """Whether a run of CJK characters is UTF-8 Chinese text decoded as GBK."""
    if len(run) < MOJIBAKE_MIN_CHARS:
        return False
    try:
        raw = run.encode("gb18030")
    except UnicodeEncodeError:
        return False
    readable = len(_HAN_RE.findall(raw.decode("utf-8", errors="replace")))
    return 3 * readable >= MOJIBAKE_SHARE * len(raw)


def _has_mojibake(text: str) -> bool:
    """Whether a line holds GBK mojibake of UTF-8 Chinese that could not be repaired (bytes
    were lost when it was decoded: ``娌叕缃戝畨澶 31010602000204鍙``)."""
    return any(is_gbk_mojibake(m.group()) for m in _CJK_RUN_RE.finditer(text))


def _decode_utf8_prefix(raw: bytes) -> tuple[str | None, bytes]:
    """Decode ``raw`` as UTF-8 allowing only an incomplete sequence at the very end."""
    try:
        return raw.decode("utf-8"), b""
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(raw):
            return raw[: exc.start].decode("utf-8", errors="strict"), raw[exc.start :]
        return None, b""


# --- boilerplate ---------------------------------------------------------------------------

# A line ends a sentence (or a teaser) when it ends in one of these marks, perhaps followed by
# closing quotes or brackets and white space (see _line_end).
_ELLIPSES = ("…", "...")
_CLOSING_MARKS = "\"'”’»)]"
_URL_RE = re.compile(r"(?i)https?\s*:\s*/\s*/|\bwww\s*\.")
_EMAIL_RE = re.compile(r"\S+@\S+\.\w{2,}")
_COPYRIGHT_RE = re.compile(r"(?i)©|\(c\)\s*\d{4}|\bcopyright\b|\ball rights reserved\b")
# Quoted speech ("...", “...”, «...», ‘...’, and PA wire copy's ``...''): its "we" and "you"
# are a speaker's, not the page addressing the reader.
_QUOTED_RE = re.compile(r"``.*?''|[\"“”«»].*?[\"“”«»]|‘[^’]*’", re.S)
_ADDRESS_WORDS = frozenset({"we", "us", "our", "ours", "you", "your", "yours"})
_STOP_WORDS = stop_words("en")

# Thresholds of the line classifier, tuned on seeds/ and METER (docs/scan.md, "Cleaning").
FRAGMENT_MAX_WORDS = 40  # a line without sentence punctuation and fewer words is not prose
MIN_STOPWORD_SHARE = 0.12  # prose has many function words; menus and tag lists do not
REPEAT_MIN_DOCS = 3  # a line in this many documents of one source is that source's chrome
BLOCK_GAP = 3  # this many boilerplate lines in a row separate two blocks of a page
MIN_BLOCK_COHERENCE = 0.15  # cosine of a side block's words with the main block to keep it


@dataclass(slots=True)
class _Unit:
    # A corpus's units are all kept until it is classified: slots make each one object, and
    # words are a tuple because the garbage collector stops tracking a tuple of strings (a list
    # it would scan again at every full collection).
    start: int
    end: int
    text: str
    words: tuple[str, ...]
    bad: bool = False
    reason: str = ""
    _lower: tuple[str, ...] | None = None
    _normal: str | None = None

    @property
    def lower_words(self) -> tuple[str, ...]:
        """The line's words, lower-case."""
        if self._lower is None:
            self._lower = tuple(map(str.lower, self.words))
        return self._lower

    @property
    def normal(self) -> str:
        """The line's normal form: its words, lower-case (what the repeated-line signal
        counts)."""
        if self._normal is None:
            self._normal = " ".join(self.lower_words)
        return self._normal

    def content_words(self) -> list[str]:
        """The line's content words, lower-case: longer than two characters, no stop words."""
        return [
            low
            for word, low in zip(self.words, self.lower_words)
            if len(word) > 2 and low not in _STOP_WORDS
        ]


def clean_documents(
    documents: Iterable[Document], repeated: Container[int] | None = None
) -> list[Document]:
    """Repair, mark boilerplate and read credits of every document (in place; returns them).

    Lines repeated across documents of the same source are one of the boilerplate signals,
    so the whole corpus is cleaned together; or piece by piece, each piece given the keys of
    the whole corpus's ``repeated`` lines (:func:`line_keys`, :func:`repeated_lines`).
    """
    docs = list(documents)
    units_of: list[list[_Unit]] = []
    for doc in docs:
        doc.text = repair_text(doc.text)
        doc.language = doc.language or detect_language(doc.text)
        credits = find_credits(doc.text)
        doc.credits = credited_agencies(credits)
        doc.credit_lines = credits
        doc.date = doc.date or filed_at(credits)
        units_of.append(_units(doc.text))
    _mark_repeated_lines(docs, units_of, repeated)
    for doc, units in zip(docs, units_of):
        _classify(doc, units)
    return docs


def line_keys(doc: Document) -> list[int]:
    """The keys of a document's distinct lines, for cleaning a corpus piece by piece.

    Each line (after encoding repair; hard-wrapped lines joined into paragraphs) as a 64-bit
    hash of its source group and normal form. A key found in REPEAT_MIN_DOCS documents is a
    repeated line (:func:`repeated_lines`), to be passed to :func:`clean_documents`.
    """
    return list(set(_unit_keys(doc, _units(repair_text(doc.text)))))


def repeated_lines(keys: Iterable[Iterable[int]]) -> set[int]:
    """The keys (of :func:`line_keys`, one iterable per document) found in at least
    REPEAT_MIN_DOCS documents."""
    counts: Counter[int] = Counter()
    for doc_keys in keys:
        counts.update(doc_keys)
    return {key for key, count in counts.items() if count >= REPEAT_MIN_DOCS}


def _unit_keys(doc: Document, units: list[_Unit]) -> list[int]:
    """The key of each unit of ``doc``: a hash of its source group and normal form."""
    return [
        xxhash.xxh3_64_intdigest(f"{doc.group}\x00{u.normal}".encode("utf-8", "surrogatepass"))
        for u in units
    ]


def _units(text: str) -> list[_Unit]:
    """Non-empty lines of ``text``, with hard-wrapped lines joined into paragraphs."""
    units: list[_Unit] = []
    pieces: list[str] = []  # the stripped lines of the unit being read
    start = end = 0  # its span in text
    pos = 0
    previous_open = False  # previous line was long and unfinished: a hard-wrapped paragraph
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        line_start = pos
        pos += len(raw)
        stripped = line.strip()
        if not stripped:
            previous_open = False
            continue
        lead = len(line) - len(line.lstrip())
        if not previous_open and pieces:
            units.append(_unit(start, end, pieces))
            pieces = []
        if not pieces:
            start = line_start + lead
        pieces.append(stripped)
        end = line_start + lead + len(stripped)
        previous_open = len(line) >= 50 and not _line_end(line).endswith(SENTENCE_ENDS)
    if pieces:
        units.append(_unit(start, end, pieces))
    return units


def _line_end(text: str) -> str:
    """``text`` without the white space and closing quotes or brackets at its end, so that it
    ends in the line's last punctuation mark, if any (``He left.")`` -> ``He left.``)."""
    return text.rstrip().rstrip(_CLOSING_MARKS)


def _unit(start: int, end: int, pieces: list[str]) -> _Unit:
    """The unit of the lines ``pieces`` (stripped), joined by spaces. No word spans a space,
    so the words of the joined text are the words of each line in turn."""
    text = " ".join(pieces)
    return _Unit(start, end, text, tuple(tokens(text)))


def _mark_repeated_lines(
    docs: list[Document], units_of: list[list[_Unit]], repeated: Container[int] | None
) -> None:
    """Mark lines that recur in several documents of one source (site chrome): counted in
    ``docs``, or given as the keys of the corpus's ``repeated`` lines."""
    keys_of = [_unit_keys(doc, units) for doc, units in zip(docs, units_of)]
    if repeated is None:
        repeated = repeated_lines(set(keys) for keys in keys_of)
    for doc, units, keys in zip(docs, units_of, keys_of):
        # Within a folder of mixed outlets a repeated long paragraph is more likely wire copy
        # than chrome, so there only short lines count; a named source or host knows better.
        by_folder = doc.group.startswith("folder:") or not doc.group
        for unit, key in zip(units, keys):
            if key in repeated and (not by_folder or len(unit.words) < 20):
                unit.bad, unit.reason = True, "repeated"


@functools.cache
def _function_words(language: str | None) -> frozenset[str] | None:
    """The function words prose in ``language`` has many of: English's and the language's
    own (a misread language then still keeps English prose), None for a language without
    them (Chinese, Japanese, Thai: :func:`~dedup.text.language.function_words`)."""
    if language is not None and language != "en" and function_words(language) is None:
        return None
    return stop_words(language)


def _line_signal(unit: _Unit, stops: frozenset[str] | None = _STOP_WORDS) -> str:
    """Why a line, on its own, looks like page furniture ('' when it looks like prose);
    ``stops``: the function words of the document's language (None: none to count)."""
    words, text = unit.words, unit.text
    if not words:
        return "no words"
    lowered = text.lower()
    if _has_link(text, lowered):
        return "link"
    if _has_copyright(text, lowered):
        return "copyright"
    if not text.isascii() and _has_mojibake(text):
        return "mojibake"
    end = _line_end(text)
    if end.endswith(_ELLIPSES):
        return "teaser"
    if not end.endswith(SENTENCE_ENDS) and len(words) < FRAGMENT_MAX_WORDS:
        return "fragment"
    address = _address_words(unit)
    if (address >= 2 and address >= 0.025 * len(words)) or (address and len(words) <= 12):
        return "addresses the reader"
    # Scripts without spaces have no function words to count (their tokens are pairs of
    # characters).
    if len(words) >= 8 and stops is not None and unspaced_share(words) < 0.5:
        stop = sum(map(stops.__contains__, unit.lower_words))
        if stop < MIN_STOPWORD_SHARE * len(words):
            return "few function words"
    return ""


# _has_link and _has_copyright run a pattern, which tries every position of a line, only on
# lines that hold text the pattern cannot match without ("/", "@", "©", ...). Words are looked
# for in ``lowered`` (``text.lower()``): under re's IGNORECASE only "i", "k" and "s" also match
# other letters than their ASCII forms ("İ", "ı", the Kelvin sign, "ſ"), and the words looked
# for ("www", "copyr", "all r") have none of the three.


def _has_link(text: str, lowered: str) -> bool:
    """Whether ``text`` holds a web address ("http://", "www.") or an e-mail address."""
    if ("/" in text or "www" in lowered) and _URL_RE.search(text):
        return True
    return "@" in text and _EMAIL_RE.search(text) is not None


def _has_copyright(text: str, lowered: str) -> bool:
    """Whether ``text`` holds a copyright notice ("©", "(c) 2020", "All rights reserved")."""
    if "©" in text or "(" in text or "copyr" in lowered or "all r" in lowered:
        return _COPYRIGHT_RE.search(text) is not None
    return False


def _address_words(unit: _Unit) -> int:
    """How many words of a line, outside quoted speech, address the reader ("we", "your")."""
    # Quote marks are not word characters, so a word left once quotes are cut out is a whole
    # part (between apostrophes) of a word of the line: without an address word among those
    # parts the quotes need not be cut out.
    parts = unit.normal.replace("'", " ").replace("’", " ").split(" ")
    if _ADDRESS_WORDS.isdisjoint(parts):
        return 0
    unquoted = SPACED_TOKEN_RE.findall(_QUOTED_RE.sub(" ", unit.text))
    return sum(1 for w in unquoted if w.lower() in _ADDRESS_WORDS)


def _content_counts(units: list[_Unit]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for unit in units:
        counts.update(unit.content_words())
    return counts


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(count * b[w] for w, count in a.items() if w in b)
    norm = (sum(v * v for v in a.values()) * sum(v * v for v in b.values())) ** 0.5
    return dot / norm


# Line signals that judge a line by its shape alone (not prose), as opposed to chrome.
_SHAPE_REASONS = ("fragment", "few function words")


def _classify(doc: Document, units: list[_Unit]) -> None:
    stops = _function_words(doc.language)
    for unit in units:
        if not unit.bad:
            reason = _line_signal(unit, stops)
            unit.bad, unit.reason = bool(reason), reason
    if all(u.bad for u in units):
        # No line reads as prose: the article is a table or a list (results, earnings,
        # schedules). Its own lines are its body; chrome by position or content stays out.
        for unit in units:
            if unit.reason in _SHAPE_REASONS:
                unit.bad, unit.reason = False, ""
    # Blocks of prose separated by runs of furniture; the largest is the article. Other blocks
    # stay only when they are about the same thing (a standfirst), not a teaser or an appeal.
    blocks: list[list[_Unit]] = []
    current: list[_Unit] = []
    run = 0
    for unit in units:
        if unit.bad:
            run += 1
            continue
        if run >= BLOCK_GAP and current:
            blocks.append(current)
            current = []
        run = 0
        current.append(unit)
    if current:
        blocks.append(current)
    if blocks:
        main = max(blocks, key=lambda b: sum(len(u.words) for u in b))
        main_counts = _content_counts(main)
        for block in blocks:
            if (
                block is not main
                and _cosine(_content_counts(block), main_counts) < MIN_BLOCK_COHERENCE
            ):
                for unit in block:
                    unit.bad, unit.reason = True, "outside the article"
        _keep_headline(doc, units, main, main_counts)
    doc.removed = _merge_spans(doc.text, [(u.start, u.end) for u in units if u.bad])


def _keep_headline(
    doc: Document, units: list[_Unit], main: list[_Unit], main_counts: Counter[str]
) -> None:
    """Keep the fragment above the article that shares most words with it: its headline."""
    first = units.index(main[0])
    best, best_score = None, 1
    for unit in units[:first]:
        if unit.reason != "fragment" or not 3 <= len(unit.words) <= 30:
            continue
        score = len(main_counts.keys() & set(unit.content_words()))
        if score > best_score:
            best, best_score = unit, score
    if best is not None:
        best.bad, best.reason = False, ""
        if not doc.title:
            doc.title = best.text


def _merge_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans separated only by white space."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
