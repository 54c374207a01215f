"""Readers for the labeled evaluation data sets (METER, ECB+, tgnews pairs).

The data sets are third-party research data read in place (never copied into the project):

- METER (``meter-dev/``): newspaper stories and the Press Association (PA) wire copy they may
  be derived from, a three-way derivation label per story (``labels.csv``) and, for part of
  the stories, ``<Verbatim>`` / ``<Rewrite>`` / ``<New>`` spans (``newspapers/annotated/``).
- ECB+ (``ecbplus-dev/docs.jsonl``): articles grouped by real-world event (``subtopic``).
- tgnews (``tgnews-pairs/en_train_pool.tsv``): article pairs labeled same thread (``OK``) or
  not (``BAD``).

Every reader raises :class:`~dedup.errors.InputError` naming the path when a file is missing
or malformed; nothing here runs the pipeline.
"""

from __future__ import annotations

import csv
import difflib
import html.entities
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import InputError
from ..models import Document
from ..text.load import _make_document, folder_group

METER_LABELS = ("wholly_derived", "partially_derived", "non_derived")
GOLD_TAGS = ("verbatim", "rewrite")
TG_LABELS = ("OK", "BAD")

_METER_COLUMNS = ("newspaper_file", "domain", "date", "catchline", "newspaper", "label")
_TG_COLUMNS = (
    "INPUT:first_url",
    "INPUT:first_text",
    "INPUT:first_title",
    "INPUT:second_url",
    "INPUT:second_text",
    "INPUT:second_title",
    "GOLDEN:quality",
)

# PA wire header: "16:54 01/03/00: Page 1 (ZSM) COURTS Burstein".
_PA_HEADER_RE = re.compile(
    r"^[ \t]*(?P<time>\d{1,2}:\d{2}) (?P<date>\d{2}/\d{2}/\d{2}): Page \d+ \([^)\n]*\)[^\n]*$",
    re.MULTILINE,
)
_PA_HEADER_WITHIN = 2000  # characters from the start of the file (HTML preamble included)
_DASH_LINE_RE = re.compile(r"[ \t]*-{3,}[ \t]*")
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][^<>\n]*>")
_LOOKS_HTML_RE = re.compile(r"<(?:html|pre|body)\b", re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Paragraph ends: "<" at the end of a line, or a blank line.
_PA_PARAGRAPH_RE = re.compile(r"<[ \t]*(?:\n|$)|\n[ \t]*\n")
# Wire sign-off as the last paragraph: "end", "ends", "mf" (more follows), "mfl", "ends mr".
_PA_SIGN_OFF_RE = re.compile(r"(?:ends?|mfl?|more)(?:\s+[a-z]{1,4})?", re.IGNORECASE)

_SGML_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w.-]*)\b[^<>]*>")
_SGML_SPAN_TAGS = {"verbatim", "rewrite", "new"}
_SGML_FILENAME_RE = re.compile(r"<meterdocument\b[^>]*\bfilename=\"([^\"]*)\"", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:#(\d+)|#[xX]([0-9A-Fa-f]+)|([A-Za-z][A-Za-z0-9]*));")
_SPACE_RE = re.compile(r"\s")
# Annotated and raw text that differ by at most this many characters on each side are taken
# for the same characters written differently (a dash for an em dash, an entity, a '?').
_MAX_VARIANT_CHARS = 3
# An annotated file whose text matches less than this share of the raw text's is taken for
# another story's annotation and not used.
_MIN_ANNOTATION_MATCH = 0.5


@dataclass
class MeterData:
    """The METER development set, read by :func:`load_meter`.

    Attributes:
        newspapers: Newspaper stories in ``labels.csv`` order; id = path relative to the root.
        pa: PA wire files by id (path relative to the root), each read once.
        labels: Newspaper id -> ``wholly_derived`` / ``partially_derived`` / ``non_derived``.
        sources: Newspaper id -> ids of the candidate PA files of its story.
        story: Newspaper id -> story key ``domain/date/catchline`` (the story's folder).
        gold_spans: Newspaper id -> ``(start, end, tag)`` spans of its ``text`` annotated as
            ``verbatim`` or ``rewrite``, in text order. Only stories whose annotation marks
            spans are present (an ``<unclassified>`` annotation marks none, and some stories
            have no annotation file); a present story with no reused text has an empty list.
        gold_chars: Non-space characters inside ``<Verbatim>`` / ``<Rewrite>`` tags, over all
            annotation files with spans (including ones left out, see ``problems``).
        gold_chars_mapped: Those of them located in the newspaper text.
        problems: One line per annotation file that was not used, with the reason.
    """

    newspapers: list[Document] = field(default_factory=list)
    pa: dict[str, Document] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    story: dict[str, str] = field(default_factory=dict)
    gold_spans: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    gold_chars: int = 0
    gold_chars_mapped: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def gold_mapped_share(self) -> float:
        """Share of annotated gold characters located in the newspaper texts (1.0 if none)."""
        return self.gold_chars_mapped / self.gold_chars if self.gold_chars else 1.0


@dataclass(frozen=True)
class TgPair:
    """One labeled tgnews pair: two articles and whether they report the same news thread.

    Attributes:
        first: The first article (id = its URL).
        second: The second article (id = its URL).
        label: ``OK`` (same thread) or ``BAD`` (different threads).
    """

    first: Document
    second: Document
    label: str

    @property
    def same_thread(self) -> bool:
        """Whether the pair is labeled ``OK``."""
        return self.label == "OK"


# --- shared helpers ------------------------------------------------------------------------


def _missing(what: str, path: Path) -> InputError:
    return InputError(
        f"{what} not found: {path} does not exist (the data set's location is an option: "
        "give the path of the data set folder)"
    )


def _existing_file(path: Path, default_name: str, what: str) -> Path:
    """``path`` itself, or ``path/default_name`` when ``path`` is a folder."""
    path = Path(path)
    if path.is_dir():
        path = path / default_name
    if not path.is_file():
        raise _missing(what, path)
    return path


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: unreadable ({exc.strerror or exc})") from exc


def decode_legacy(data: bytes) -> str:
    """Decode METER bytes: UTF-8 when valid, else Windows-1252, else Latin-1.

    The METER files are Latin-1 with a few Windows-1252 punctuation bytes (0x93, 0x97).
    Detection (:func:`dedup.text.load.decode_bytes`) misreads many of them ('£' as 'Ł' or
    '｣'), so the known encoding is used instead.
    """
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _iso_date(day: str, month: str, year: str) -> str:
    century = "20" if int(year) < 50 else "19"
    return f"{century}{year}-{month}-{day}"


# --- METER ---------------------------------------------------------------------------------


def load_meter(root: Path) -> MeterData:
    """Read the METER data set under ``root`` (the folder holding ``labels.csv``).

    Args:
        root: The data set folder, e.g. ``../shared/data/meter-dev``.

    Returns:
        The newspaper stories, the PA files, the labels, the candidate sources, the story keys
        and the gold spans mapped onto the newspaper texts.

    Raises:
        InputError: the folder, ``labels.csv`` or a file it names is missing, or
            ``labels.csv`` lacks a column or has an unknown label.
    """
    root = Path(root)
    if not root.is_dir():
        raise _missing("METER data set folder", root)
    labels_path = root / "labels.csv"
    if not labels_path.is_file():
        raise _missing("METER labels file", labels_path)
    data = MeterData()
    for line, row in _meter_rows(labels_path):
        if not all((row.get(column) or "").strip() for column in _METER_COLUMNS):
            raise InputError(f"{labels_path}:{line}: empty or missing value in a required column")
        doc = _meter_newspaper(root, row)
        if doc.id in data.labels:
            raise InputError(f"{labels_path}:{line}: newspaper file {doc.id} listed twice")
        label = row["label"].strip().replace("-", "_")
        if label not in METER_LABELS:
            raise InputError(
                f"{labels_path}:{line}: unknown label {row['label']!r} "
                f"(expected one of {', '.join(METER_LABELS)})"
            )
        data.newspapers.append(doc)
        data.labels[doc.id] = label
        data.story[doc.id] = "/".join(row[k].strip() for k in ("domain", "date", "catchline"))
        sources = [p.strip() for p in (row.get("pa_source_files") or "").split(";") if p.strip()]
        data.sources[doc.id] = sources
        for pa_id in sources:
            if pa_id not in data.pa:
                data.pa[pa_id] = load_pa_file(root, pa_id)
        sgml = (row.get("annotated_sgml") or "").strip()
        if sgml:
            _add_gold(data, root, doc, sgml)
    return data


def _meter_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    text = decode_legacy(_read_bytes(path)).lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in _METER_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    return [(reader.line_num, row) for row in reader]


def _meter_file(root: Path, rel: str, what: str) -> bytes:
    path = root / rel
    if not path.is_file():
        raise _missing(f"METER {what}", path)
    return _read_bytes(path)


def _meter_newspaper(root: Path, row: dict[str, str]) -> Document:
    rel = row["newspaper_file"].strip()
    text = decode_legacy(_meter_file(root, rel, "newspaper file"))
    date = None
    match = re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{2})", row["date"].strip())
    if match:
        date = _iso_date(*match.groups())
    return Document(
        id=rel,
        path=rel,
        text=text,
        date=date,
        source=row["newspaper"].strip() or None,
        group=folder_group(rel),
    )


def load_pa_file(root: Path, rel: str) -> Document:
    """Read one PA wire file as clean article text (see :func:`clean_pa_text`).

    Args:
        root: The METER folder.
        rel: The file's path relative to ``root`` (becomes the id).

    Raises:
        InputError: the file is missing or holds no text.
    """
    raw = decode_legacy(_meter_file(root, rel, "PA file"))
    text, title, date = clean_pa_text(raw)
    if not text:
        raise InputError(f"{root / rel}: no article text in the PA file")
    return Document(
        id=rel, path=rel, text=text, title=title, date=date, source="PA", group=folder_group(rel)
    )


def clean_pa_text(raw: str) -> tuple[str, str | None, str | None]:
    """Turn a PA wire file into article text.

    Drops the wire header (dash lines and the ``16:54 01/03/00: Page 1 (ZSM) COURTS ...``
    line), HTML wrapping, control characters, notes to editors before the story
    (``(Reopens)``, ``(Corrected repetition ...)``) and the closing sign-off (``end``, ``mf``);
    joins the hard-wrapped lines of each ``<``-terminated paragraph into one line and
    separates paragraphs with a blank line.

    Returns:
        The text, the headline (the first paragraph when it is in capitals) and the wire
        date and time (``2000-03-01T16:54``), each None when absent.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _LOOKS_HTML_RE.search(text):
        text = _HTML_TAG_RE.sub("\n", text)
    date = None
    header = _PA_HEADER_RE.search(text, 0, _PA_HEADER_WITHIN)
    if header:
        day, month, year = header["date"].split("/")
        hour, minute = header["time"].split(":")
        date = f"{_iso_date(day, month, year)}T{int(hour):02d}:{minute}"
        text = text[header.end() :]
    text = _CONTROL_RE.sub("", text)
    lines = text.split("\n")
    while lines and (not lines[0].strip() or _DASH_LINE_RE.fullmatch(lines[0])):
        lines.pop(0)
    paragraphs = []
    for chunk in _PA_PARAGRAPH_RE.split("\n".join(lines)):
        joined = " ".join(line.strip() for line in chunk.split("\n") if line.strip())
        if joined:
            paragraphs.append(joined)
    if paragraphs and _PA_SIGN_OFF_RE.fullmatch(paragraphs[-1]):
        paragraphs.pop()
    paragraphs = _without_editorial_notes(paragraphs) or paragraphs
    title = None
    if paragraphs and len(paragraphs[0]) <= 200 and paragraphs[0] == paragraphs[0].upper():
        if any(ch.isalpha() for ch in paragraphs[0]):
            title = paragraphs[0]
    return "\n\n".join(paragraphs), title, date


def _without_editorial_notes(paragraphs: list[str]) -> list[str]:
    """``paragraphs`` without the parenthesised notes before the story ("(Reopens)")."""
    paragraphs = list(paragraphs)
    while paragraphs and paragraphs[0].startswith("("):
        close = _closing_parenthesis(paragraphs[0])
        if close is None:
            break  # the parenthesis never closes: not a note
        rest = paragraphs[0][close + 1 :].lstrip(" .")
        if rest:
            paragraphs[0] = rest
            break
        paragraphs.pop(0)
    return paragraphs


def _closing_parenthesis(text: str) -> int | None:
    """Index of the ``)`` that closes the ``(`` at the start of ``text``, or None."""
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index
    return None


def _add_gold(data: MeterData, root: Path, doc: Document, sgml_rel: str) -> None:
    """Map the spans of one annotation file onto ``doc.text`` and record them in ``data``."""
    sgml = decode_legacy(_meter_file(root, sgml_rel, "annotation file"))
    annotated, elements = parse_meter_sgml(sgml)
    if not any(tag in _SGML_SPAN_TAGS for _, _, tag in elements):
        return  # <unclassified> only: the story's text was not annotated span by span
    gold = [(s, e, tag) for s, e, tag in elements if tag in GOLD_TAGS]
    gold_chars = sum(_nonspace(annotated[s:e]) for s, e, _ in gold)
    data.gold_chars += gold_chars
    named = _SGML_FILENAME_RE.search(sgml)
    if named and not named.group(1).replace("\\", "/").endswith("/" + sgml_rel):
        data.problems.append(
            f"{sgml_rel}: not used: it is the annotation of {named.group(1)} "
            f"({gold_chars} gold characters lost)"
        )
        return
    spans, mapped, match_share = map_annotation(annotated, gold, doc.text)
    if match_share < _MIN_ANNOTATION_MATCH:
        data.problems.append(
            f"{sgml_rel}: not used: only {match_share:.0%} of its text matches {doc.id} "
            f"({gold_chars} gold characters lost)"
        )
        return
    data.gold_chars_mapped += mapped
    data.gold_spans[doc.id] = spans


def parse_meter_sgml(sgml: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The annotated text of a METER ``.sgml`` file and its tagged elements.

    Text outside ``<body>`` is ignored; entities (``&amp;``, ``&#163;``) are decoded. Tags may
    nest: a character belongs to the innermost ``verbatim``/``rewrite``/``new`` element around
    it, other tags (``<unclassified>``) are wrappers without a class.

    Returns:
        The concatenated text of the body, and one ``(start, end, tag)`` per
        ``verbatim``/``rewrite``/``new`` element (offsets into that text, tag in lower case;
        an element interrupted by a nested one yields one span per stretch).
    """
    start = re.search(r"<body\b[^>]*>", sgml, re.IGNORECASE)
    end = re.search(r"</body\s*>", sgml, re.IGNORECASE)
    body = sgml[start.end() if start else 0 : end.start() if end else len(sgml)]
    parts: list[str] = []
    elements: list[tuple[int, int, str]] = []
    stack: list[str] = []
    length = 0
    position = 0
    for match in [*_SGML_TAG_RE.finditer(body), None]:
        chunk = _unescape(body[position : match.start() if match else len(body)])
        if chunk:
            inner = next((t for t in reversed(stack) if t in _SGML_SPAN_TAGS), None)
            if inner:
                elements.append((length, length + len(chunk), inner))
            parts.append(chunk)
            length += len(chunk)
        if match is None:
            break
        position = match.end()
        name = match.group(2).lower()
        if not match.group(1):
            stack.append(name)
        elif name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name) :]
    return "".join(parts), elements


def _unescape(text: str) -> str:
    """Decode ``&name;`` and ``&#n;`` entities (a bare ``&``, as in ``B&H``, stays)."""

    def replace(match: re.Match[str]) -> str:
        number, hexa, name = match.groups()
        if number or hexa:
            code = int(number) if number else int(hexa, 16)
            return chr(code) if 0 < code < 0x110000 else match.group()
        return html.entities.html5.get(name + ";", match.group())

    return _ENTITY_RE.sub(replace, text) if "&" in text else text


def _nonspace(text: str) -> int:
    return len(text) - len(_SPACE_RE.findall(text))


def map_annotation(
    annotated: str, spans: list[tuple[int, int, str]], raw: str
) -> tuple[list[tuple[int, int, str]], int, float]:
    """Carry spans of the annotated text over to the raw text they were annotated on.

    The two texts differ in white space and in a few characters (an em dash written as '-',
    an entity, a character lost to the encoding), so their non-space characters are aligned
    (``difflib``): equal stretches map one to one, and short differing stretches of equal
    length map position by position. A span becomes the raw range from its first to its last
    mapped character (so it starts and ends on a non-space character).

    Args:
        annotated: The annotated text.
        spans: ``(start, end, tag)`` spans of ``annotated``.
        raw: The raw text.

    Returns:
        The mapped spans in order (spans without any mapped character are left out), how
        many non-space characters of the spans were mapped, and the share of the raw text's
        non-space characters the alignment matched.
    """
    a_pos = [i for i, ch in enumerate(annotated) if not ch.isspace()]
    r_pos = [i for i, ch in enumerate(raw) if not ch.isspace()]
    a_chars = "".join(annotated[i] for i in a_pos)
    r_chars = "".join(raw[i] for i in r_pos)
    opcodes: Sequence[tuple[str, int, int, int, int]]
    if a_chars == r_chars:  # the usual case: only the white space differs
        opcodes = [("equal", 0, len(a_chars), 0, len(r_chars))]
    else:
        matcher = difflib.SequenceMatcher(None, a_chars, r_chars, autojunk=False)
        opcodes = matcher.get_opcodes()
    target = [-1] * len(a_chars)
    matched = 0
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            matched += i2 - i1
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1 <= _MAX_VARIANT_CHARS):
            for k in range(i2 - i1):
                target[i1 + k] = r_pos[j1 + k]
    # Index of the first non-space annotated character at or after each offset.
    first_at = [0] * (len(annotated) + 1)
    index = len(a_pos)
    for offset in range(len(annotated), -1, -1):
        if offset < len(annotated) and not annotated[offset].isspace():
            index -= 1
        first_at[offset] = index
    mapped_spans = []
    mapped_chars = 0
    for start, end, tag in spans:
        hits = [target[k] for k in range(first_at[start], first_at[end]) if target[k] >= 0]
        mapped_chars += len(hits)
        if hits:
            mapped_spans.append((hits[0], hits[-1] + 1, tag))
    share = matched / len(r_chars) if r_chars else 0.0
    return mapped_spans, mapped_chars, share


# --- ECB+ ----------------------------------------------------------------------------------


def load_ecbplus(path: Path) -> list[tuple[Document, str]]:
    """Read ECB+ articles and their event cluster.

    Args:
        path: ``docs.jsonl`` or the folder holding it. Each line has ``doc_name``, ``topic``,
            ``subtopic`` (the event cluster) and ``text``.

    Returns:
        ``(document, subtopic)`` in file order; the document id is ``doc_name``.

    Raises:
        InputError: the file is missing, a line is not JSON, lacks a field, or repeats a
            ``doc_name``.
    """
    path = _existing_file(Path(path), "docs.jsonl", "ECB+ documents file")
    result: list[tuple[Document, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(decode_legacy(_read_bytes(path)).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: malformed JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: expected a JSON object")
        missing = [k for k in ("doc_name", "subtopic", "text") if record.get(k) in (None, "")]
        if missing:
            raise InputError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        name = str(record["doc_name"])
        if name in seen:
            raise InputError(f"{path}:{number}: doc_name {name!r} repeats an earlier line")
        seen.add(name)
        doc = _make_document(name, path.name, str(record["text"]))
        result.append((doc, str(record["subtopic"])))
    return result


# --- tgnews --------------------------------------------------------------------------------


def load_tgnews(path: Path) -> list[TgPair]:
    """Read the labeled tgnews article pairs.

    Args:
        path: ``en_train_pool.tsv`` or the folder holding it (tab-separated, header row,
            ``INPUT:first_url`` ... ``GOLDEN:quality``).

    Returns:
        The pairs with a ``GOLDEN:quality`` label, in file order. A URL that occurs in several
        pairs with the same text is the same :class:`Document` (id = URL; source = host).

    Raises:
        InputError: the file is missing, lacks a column, or has an unknown label or an
            empty text.
    """
    path = _existing_file(Path(path), "en_train_pool.tsv", "tgnews pairs file")
    text = _read_bytes(path).decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t")
    missing = [c for c in _TG_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    documents: dict[str, Document] = {}
    pairs = []
    for row in reader:
        number = reader.line_num
        label = (row.get("GOLDEN:quality") or "").strip()
        if not label:
            continue
        if label not in TG_LABELS:
            raise InputError(f"{path}:{number}: unknown GOLDEN:quality {label!r} (OK or BAD)")
        first, second = (
            _tg_document(documents, row, side, f"{path}:{number}", path.name)
            for side in ("first", "second")
        )
        pairs.append(TgPair(first, second, label))
    return pairs


def _tg_document(
    documents: dict[str, Document], row: dict[str, str], side: str, where: str, rel: str
) -> Document:
    url = (row.get(f"INPUT:{side}_url") or "").strip()
    text = row.get(f"INPUT:{side}_text") or ""
    if not url or not text.strip():
        raise InputError(f"{where}: the {side} article has no URL or no text")
    doc_id = url
    number = 1
    while doc_id in documents and documents[doc_id].text != text:
        number += 1
        doc_id = f"{url}#{number}"
    if doc_id not in documents:
        host = (urlsplit(url).hostname or "").removeprefix("www.") or None
        title = (row.get(f"INPUT:{side}_title") or "").strip() or None
        documents[doc_id] = _make_document(doc_id, rel, text, title=title, url=url, source=host)
    return documents[doc_id]
