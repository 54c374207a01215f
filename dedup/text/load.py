"""Load articles from files and folders into :class:`~dedup.models.Document` records.

Formats: plain text (``.txt``, ``.text``, ``.md``), HTML (``.html``, ``.htm``: the main article
text via trafilatura), JSON (``.json``: an object or a list of objects), JSON Lines
(``.jsonl``) and web archives (``.warc``, ``.warc.gz``: every HTML response is a document).

Bad input never stops a load: every file or record that cannot be read becomes a
:class:`~dedup.models.Skipped` with a one-line reason, and loading goes on.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from charset_normalizer import from_bytes

from ..errors import InputError
from ..models import Document, Skipped

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".text", ".md")
HTML_SUFFIXES = (".html", ".htm")
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl",)
WARC_SUFFIXES = (".warc", ".warc.gz")
RECORD_FIELDS = ("text", "id", "title", "url", "date", "source")

# Share of C0 control characters above which decoded "text" is taken for binary data. METER's
# PA copy carries one control character per paragraph, far below this.
_MAX_CONTROL_SHARE = 0.05
# Control characters that are not text: C0 codes but tab, line feed, vertical tab, form feed
# and carriage return (\x09-\x0d).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")

# Legacy decoding: charset_normalizer cannot tell the single-byte code pages apart on mostly-ASCII
# text (alone, "3\xbd stone" comes out as UTF-16 or Shift-JIS, "caf\xe9 est tr\xe8s" as
# Central European), so the Western reading (Windows-1252, else Latin-1) wins whenever it is as
# clean as the best guess and nearly as coherent. A language with letters of its own (Turkish,
# Polish, Czech, Greek, Russian) scores clearly higher in its own code page, or has no clean
# Western reading at all.
_WESTERN_CODECS = ("cp1252", "latin_1")
_WESTERN_COHERENCE_MARGIN = 0.1
_BLANK_PEEK_BYTES = 65536
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass
class LoadResult:
    """What a load produced: documents in input order, skipped inputs, ignored file count."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0


def input_format(path: Path) -> str | None:
    """The loader for ``path`` by its name, or None for files dedup does not read."""
    name = path.name.lower()
    for suffixes, kind in (
        (WARC_SUFFIXES, "warc"),
        (TEXT_SUFFIXES, "text"),
        (HTML_SUFFIXES, "html"),
        (JSONL_SUFFIXES, "jsonl"),
        (JSON_SUFFIXES, "json"),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def load_corpus(paths: Iterable[str | Path], *, max_file_bytes: int = 20_000_000) -> LoadResult:
    """Read every article under ``paths`` (folders are walked recursively).

    Args:
        paths: Folders and files. Ids are relative to the folder given (a file given directly
            is named by its file name).
        max_file_bytes: Larger files (and larger JSONL lines or WARC records) are skipped.

    Returns:
        The documents, the skipped inputs with their reasons, and how many files were ignored
        because their type is not an article format.
    """
    result = LoadResult()
    ids = FirstIdWins()
    for item in iter_inputs(paths, max_file_bytes=max_file_bytes):
        if isinstance(item, Document):
            repeat = ids.check(item.id, item.path)
            if repeat is None:
                result.documents.append(item)
                continue
            item = repeat
        if item.kind == "ignored":
            result.ignored += 1
        else:
            result.skipped.append(item)
            log.warning("skipped %s", item)
    return result


class FirstIdWins:
    """The rule for documents that share an id: the first in input order is read, each later
    one is skipped. Feed it the documents in input order."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def check(self, doc_id: str, path: str) -> Skipped | None:
        """None for the first document of an id, else why this one is skipped."""
        if doc_id not in self._seen:
            self._seen.add(doc_id)
            return None
        return Skipped(path, f"duplicate document id {doc_id!r}", "duplicate-id")


@dataclass(frozen=True)
class InputFile:
    """A file to read: where it is, and its name in ids and messages (its path relative to
    the folder scanned, or its file name when it was given itself)."""

    path: Path
    rel: str


def plan_inputs(paths: Iterable[str | os.PathLike[str]]) -> Iterator[InputFile | Skipped]:
    """Every file under ``paths`` in the order a scan reads them, or a Skipped for a path
    that cannot be read (missing, a broken link, an unreadable folder)."""
    for raw in paths:
        root = Path(raw)
        if root.is_dir():
            for path, problem in walk_files(root):
                rel = path.relative_to(root).as_posix()
                yield Skipped(rel, problem, "unreadable") if problem else InputFile(path, rel)
        elif root.exists():
            yield InputFile(root, root.name)
        elif root.is_symlink():
            yield Skipped(str(raw), "broken symbolic link", "unreadable")
        else:
            yield Skipped(str(raw), "no such file or folder", "unreadable")


def iter_inputs(
    paths: Iterable[str | Path], *, max_file_bytes: int = 20_000_000
) -> Iterator[Document | Skipped]:
    """Yield a Document or a Skipped for every file (or record) under ``paths``, in order."""
    for item in plan_inputs(paths):
        if isinstance(item, Skipped):
            yield item
        else:
            yield from read_file(item.path, item.rel, max_file_bytes)


def is_uri(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a URI (``hdfs://``, ``s3a://``, ``file://``, ...), which only the
    Spark engine reads, rather than a local path."""
    return bool(_URI_RE.match(str(path)))


def walk_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` in the order a scan reads them: a folder's files by name, then its
    subfolders (hidden names left out), following links but never around a loop.

    Yields:
        ``(path, problem)``: ``problem`` is ``""`` for a file to read, else why ``path`` (a
        file or folder) cannot be read.
    """
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
            key = (st.st_dev, st.st_ino)
            if key in visited:
                yield folder, "symbolic link loop (folder already visited), not followed"
                continue
            visited.add(key)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield folder, f"unreadable folder ({exc.strerror or exc})"
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    subfolders.append(path)
                elif entry.is_file():
                    yield path, ""
                elif entry.is_symlink():
                    yield path, "broken symbolic link"
            except OSError as exc:
                yield path, f"unreadable ({exc.strerror or exc})"
        stack.extend(reversed(subfolders))


def folder_group(rel: str) -> str:
    """The source group of a file at ``rel`` (its folder): the repeated-line signal of
    cleaning counts lines within one group."""
    return "folder:" + (rel.rsplit("/", 1)[0] if "/" in rel else ".")


def read_file(path: Path, rel: str, max_bytes: int) -> Iterator[Document | Skipped]:
    """Every document of one file, or a Skipped with the reason for each part that cannot be
    read (the file itself, or a record of a JSON, JSONL or WARC file).

    Args:
        path: The file.
        rel: Its name in ids and messages (the path relative to the folder scanned).
        max_bytes: Larger files, JSONL lines and WARC records are skipped.
    """
    kind = input_format(path)
    if kind is None:
        yield Skipped(rel, "not an article format", "ignored")
        return
    group = folder_group(rel)
    try:
        size = path.stat().st_size
        if size == 0:
            yield Skipped(rel, "empty file", "empty")
            return
        if kind in ("jsonl", "warc"):
            with path.open("rb") as stream:
                # Streamed formats have no size limit; only a small file can be all white space.
                if size <= _BLANK_PEEK_BYTES and not stream.read(_BLANK_PEEK_BYTES).strip():
                    yield Skipped(rel, "no text (only white space)", "empty")
                    return
                stream.seek(0)
                reader = _read_jsonl if kind == "jsonl" else _read_warc
                yield from reader(stream, rel, group, max_bytes)
            return
        if size > max_bytes:
            yield Skipped(
                rel,
                f"file is {size:,} bytes, over the size limit of {max_bytes:,} (--max-bytes)",
                "too-large",
            )
            return
        data = path.read_bytes()
    except OSError as exc:
        yield Skipped(rel, f"unreadable ({exc.strerror or exc})", "unreadable")
        return
    try:
        if kind == "text":
            yield _make_document(rel, rel, decode_bytes(data), group=group)
        elif kind == "html":
            yield html_document(data, rel, rel, group=group)
        else:
            yield from _read_json(data, rel, group)
    except InputError as exc:
        yield Skipped(rel, str(exc), skip_kind(exc))


def skip_kind(exc: InputError) -> str:
    """The ``Skipped.kind`` of an input error (``"invalid"`` when it names none)."""
    return getattr(exc, "kind", "invalid")


def _input_error(message: str, kind: str) -> InputError:
    exc = InputError(message)
    exc.kind = kind  # type: ignore[attr-defined]
    return exc


def decode_bytes(data: bytes) -> str:
    """Decode article bytes: BOM, then UTF-8, then the detected legacy encoding.

    Raises:
        InputError: empty, binary or undecodable data.
    """
    if not data.strip():
        raise _input_error("empty file" if not data else "no text (only white space)", "empty")
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _checked_text(data.decode(codec))
            except UnicodeDecodeError as exc:
                raise _input_error(
                    f"undecodable {codec} text ({exc.reason})", "undecodable"
                ) from None
    if b"\x00" in data[:65536]:
        text = _utf16_without_bom(data)
        if text is None:
            raise _input_error("binary file (NUL bytes), not text", "binary")
        return _checked_text(text)
    try:
        return _checked_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    return _checked_text(_legacy_decode(data))


# UTF-16 without a byte-order mark is read when one byte order gives text: at least this
# share of its first characters assigned, printable or white space (random bytes read as
# UTF-16 land in unassigned, private-use and surrogate code points a third of the time).
_UTF16_TEXT_SHARE = 0.98
_UTF16_SAMPLE_CHARS = 32768
_NOT_TEXT_CATEGORIES = frozenset({"Cc", "Cn", "Co", "Cs"})


def _utf16_without_bom(data: bytes) -> str | None:
    """``data`` read as UTF-16 without a byte-order mark, or None when neither byte order
    gives text."""
    if len(data) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        sample = text[:_UTF16_SAMPLE_CHARS]
        readable = sum(
            ch in "\t\n\r" or unicodedata.category(ch) not in _NOT_TEXT_CATEGORIES for ch in sample
        )
        if readable >= _UTF16_TEXT_SHARE * len(sample):
            return text
    return None


_FEW_NON_ASCII = 0.02


def _legacy_decode(data: bytes) -> str:
    best = from_bytes(data).best()
    western = from_bytes(data, cp_isolation=list(_WESTERN_CODECS)).best()
    # Mostly-ASCII text with a few special characters (£, ï, ë in English news) gives the
    # detector too little to go on: it then guesses CJK or Baltic code pages ('｣300', 'Zoė').
    rare = sum(1 for byte in data if byte >= 0x80) < _FEW_NON_ASCII * len(data)
    if western is not None and (
        best is None
        or rare
        or (
            western.chaos <= best.chaos + 0.01
            and western.coherence >= best.coherence - _WESTERN_COHERENCE_MARGIN
        )
    ):
        return str(western)
    if best is None or best.encoding is None:
        raise _input_error(
            "undecodable bytes: neither UTF-8 nor a known legacy encoding", "undecodable"
        )
    return str(best)


def _one_line(message: str) -> str:
    """``message`` with its line breaks and runs of white space collapsed (skip reasons)."""
    return " ".join(message.split())


def _checked_text(text: str) -> str:
    if not text.strip():
        raise _input_error("no text (only white space)", "empty")
    controls = len(_CONTROL_RE.findall(text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise _input_error(
            f"binary data ({controls} control characters in {len(text)}), not text", "binary"
        )
    return text


def html_document(
    html: bytes | str,
    doc_id: str,
    path: str,
    *,
    group: str = "",
    url: str | None = None,
    date: str | None = None,
) -> Document:
    """The main article of an HTML page, with its title (trafilatura).

    Raises:
        InputError: binary data, or no article text found in the page.
    """
    if isinstance(html, bytes):
        html = decode_bytes(html)  # rejects NUL bytes, but only after a UTF-16/32 BOM check
    import trafilatura  # heavy import, only when HTML is read

    try:
        extracted = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            # Only dates the page states (meta tags, <time>, URL): the extensive search guesses
            # from any year in the page, e.g. "Copyright 2024" becomes 2024-01-01.
            date_extraction_params={"original_date": True, "extensive_search": False},
        )
    except Exception as exc:  # trafilatura/lxml raise many types on broken markup
        raise _input_error(
            _one_line(f"malformed HTML ({type(exc).__name__}: {exc})"), "malformed"
        ) from exc
    text = getattr(extracted, "text", None) if extracted is not None else None
    if not text or not text.strip():
        raise _input_error("no article text found in the HTML page", "no-text")
    host = getattr(extracted, "hostname", None)
    return _make_document(
        doc_id,
        path,
        text,
        title=getattr(extracted, "title", None),
        url=url or getattr(extracted, "url", None),
        date=date or getattr(extracted, "date", None),
        group=f"host:{host}" if host else group,
    )


def _make_document(
    doc_id: str,
    path: str,
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    date: str | None = None,
    source: str | None = None,
    group: str = "",
) -> Document:
    if source:
        group = f"source:{source.strip().lower()}"
    elif url:
        host = urlsplit(url).hostname
        if host:
            group = f"host:{host.removeprefix('www.')}"
    return Document(
        id=doc_id, path=path, text=text, title=title, url=url, date=date, source=source, group=group
    )


def record_document(obj: Any, rel: str, key: str, group: str) -> Document:
    """A document from one JSON object (``text`` required; ``id``, ``title``, ``url``, ``date``,
    ``source``); its id is ``rel#id``, or ``rel#key`` when it has no ``id``.

    Raises:
        InputError: not an object, no usable ``text``, or a field of the wrong type.
    """
    if not isinstance(obj, dict):
        raise _input_error(f"expected a JSON object, got {type(obj).__name__}", "malformed")
    text = obj.get("text")
    if text is None:
        raise _input_error("record has no 'text' field", "malformed")
    if not isinstance(text, str):
        raise _input_error(f"'text' must be a string, got {type(text).__name__}", "malformed")
    if not text.strip():
        raise _input_error("record 'text' is empty", "empty")
    _checked_text(text)
    extra = {}
    for name in ("id", "title", "url", "date", "source"):
        value = obj.get(name)
        if value is not None and not isinstance(value, (str, int)):
            raise _input_error(
                f"field {name!r} must be a string, got {type(value).__name__}", "malformed"
            )
        extra[name] = None if value is None else str(value)
    record_id = extra.pop("id")
    return _make_document(
        f"{rel}#{record_id if record_id else key}",
        rel,
        text,
        title=extra["title"],
        url=extra["url"],
        date=extra["date"],
        source=extra["source"],
        group=group,
    )


def _json_problem(exc: ValueError | RecursionError, *, one_line: bool = False) -> str:
    """Why ``json.loads`` failed (``one_line``: a JSONL line, whose number the skip carries)."""
    if isinstance(exc, json.JSONDecodeError):
        where = f"column {exc.colno}" if one_line else f"line {exc.lineno} column {exc.colno}"
        return f"{exc.msg}: {where}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return _one_line(str(exc).split(":")[0])  # e.g. a number over Python's digit limit


def _read_json(data: bytes, rel: str, group: str) -> Iterator[Document | Skipped]:
    try:
        payload = json.loads(decode_bytes(data))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        yield Skipped(rel, f"malformed JSON ({_json_problem(exc)})", "malformed")
        return
    if isinstance(payload, dict):
        # One article object, addressed by its id (or #1 when it has none).
        records: list[Any] = [payload]
    elif isinstance(payload, list):
        records = payload
    else:
        yield Skipped(rel, "JSON must be an object or a list of objects", "malformed")
        return
    if not records:
        yield Skipped(rel, "empty JSON list (no records)", "empty")
    for number, obj in enumerate(records, start=1):
        try:
            yield record_document(obj, rel, str(number), group)
        except InputError as exc:
            yield Skipped(rel, f"record {number}: {exc}", skip_kind(exc))


def iter_json_lines(stream: IO[bytes], rel: str, max_bytes: int) -> Iterator[tuple[int, Any]]:
    """Parse a JSON Lines byte stream: ``(line number, object)`` per line, or
    ``(line number, Skipped)`` for a line that is too long, not UTF-8 or not JSON.

    Blank lines are passed over; long lines are read in bounded pieces, never whole.
    """
    number = 0
    while raw := stream.readline(max_bytes + 1):
        number += 1
        if len(raw) > max_bytes:
            size = len(raw)
            while not raw.endswith(b"\n") and (raw := stream.readline(max_bytes + 1)):
                size += len(raw)  # read the rest of the long line in bounded pieces
            reason = f"line is {size:,} bytes, over the size limit of {max_bytes:,}"
            yield number, Skipped(rel, reason, "too-large", number)
            continue
        if not raw.strip():
            continue
        try:
            # utf-8-sig: a byte-order mark (Windows tools write one) opens the first line
            yield number, json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError as exc:
            reason = f"invalid UTF-8 in JSON line ({exc.reason})"
            yield number, Skipped(rel, reason, "undecodable", number)
        except (ValueError, RecursionError) as exc:
            reason = f"malformed JSON ({_json_problem(exc, one_line=True)})"
            yield number, Skipped(rel, reason, "malformed", number)


def _read_jsonl(
    stream: IO[bytes], rel: str, group: str, max_bytes: int
) -> Iterator[Document | Skipped]:
    for number, obj in iter_json_lines(stream, rel, max_bytes):
        if isinstance(obj, Skipped):
            yield obj
            continue
        try:
            yield record_document(obj, rel, str(number), group)
        except InputError as exc:
            yield Skipped(rel, str(exc), skip_kind(exc), number)


class _DamagedArchive(Exception):
    """Compressed WARC data that ends early or is corrupt.

    Not an EOFError: warcio takes an EOFError from its input for the normal end of the archive.
    """


class _GzipInput:
    """The decompressed bytes of a gzip file (every member), raising _DamagedArchive on damage."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")
        self._position = 0

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        try:
            # read1: the bytes before a cut arrive before the error does (read() drops them)
            data = self._gzip.read1(size)
            self._position += len(data)
            return data
        except EOFError as exc:
            raise _DamagedArchive("gzip data cut off: the file is truncated") from exc
        except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise _DamagedArchive(f"corrupt gzip data: {exc}") from exc


def _archive_input(stream: IO[bytes]) -> IO[bytes] | _GzipInput:
    """The stream warcio should read: gzip files decompressed by Python, so damage is noticed.

    warcio's own gzip reading ends silently at a cut-off member and rejects a WARC compressed
    as one gzip member; Python's gzip module reads both and raises on a truncated or corrupt one.
    """
    magic = stream.read(2)
    stream.seek(0)
    return _GzipInput(stream) if magic == b"\x1f\x8b" else stream


def _record_label(number: int, url: str | None) -> str:
    return f"record {number} ({url})" if url else f"record {number}"


def _read_warc(
    stream: IO[bytes], rel: str, group: str, max_bytes: int
) -> Iterator[Document | Skipped]:
    from warcio.archiveiterator import ArchiveIterator

    number = 0
    records = 0
    try:
        archive = ArchiveIterator(_archive_input(stream))
        for record in archive:
            records += 1
            mime = _warc_mime(record)
            if mime is None:
                _check_complete(record)
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            date = record.rec_headers.get_header("WARC-Date")
            payload = record.content_stream().read(max_bytes + 1)
            _check_complete(record)  # a record cut off by truncation is not a document
            number += 1
            label = _record_label(number, url)
            if len(payload) > max_bytes:
                reason = f"{label} is over the size limit of {max_bytes:,} bytes"
                yield Skipped(rel, reason, "too-large")
                continue
            doc_id = f"{rel}#{number}"
            try:
                if mime == "text/plain":
                    text = decode_bytes(payload)
                    yield _make_document(doc_id, rel, text, url=url, date=date, group=group)
                else:
                    yield html_document(payload, doc_id, rel, group=group, url=url, date=date)
            except InputError as exc:
                yield Skipped(rel, f"{label}: {exc}", skip_kind(exc))
        # warcio takes a record header cut off by the end of the file for the end of the archive
        left = archive.fh.tell() - archive.offset
        if left > 0:
            raise _DamagedArchive(f"truncated: the last {left:,} bytes are not a whole record")
    except Exception as exc:  # warcio raises ArchiveLoadFailed, ValueError, AttributeError, ...
        where = f"after record {number}" if number else "at the start"
        detail = str(exc) if isinstance(exc, _DamagedArchive) else f"{type(exc).__name__}: {exc}"
        yield Skipped(rel, _one_line(f"malformed WARC {where} ({detail})"), "malformed")
        return
    if not records:
        yield Skipped(rel, "no WARC records in the file", "empty")
    elif not number:
        yield Skipped(rel, "no HTML or text responses in the web archive", "no-text")


def _warc_mime(record: Any) -> str | None:
    """The media type of a WARC record dedup reads as an article, or None for any other record."""
    kind = record.rec_type
    if kind not in ("response", "conversion", "resource"):
        return None
    if kind == "response":
        mime = record.http_headers.get_header("Content-Type", "") if record.http_headers else ""
    else:
        mime = record.rec_headers.get_header("Content-Type", "")
    mime = mime.split(";")[0].strip().lower()
    return mime if mime in ("text/html", "application/xhtml+xml", "text/plain") else None


def _check_complete(record: Any) -> None:
    """Read the rest of ``record``; raise _DamagedArchive when the file ends inside it.

    warcio hands out a record cut off by the end of an uncompressed file as if it were whole:
    its stream is limited to the declared Content-Length (what is left of that limit once the
    stream runs dry is what the file lacks), and a header cut off before or inside its
    Content-Length line leaves no limit at all.
    """
    raw = record.raw_stream
    # warcio also reads ARC files, and takes any line of five words for an ARC record header
    name = "Content-Length" if record.format == "warc" else "length"
    length = record.rec_headers.get_header(name)
    if not hasattr(raw, "limit") or not (length or "").strip().isdigit():
        raise _DamagedArchive("truncated or malformed: a record without a valid Content-Length")
    while raw.read(65536):
        pass
    if raw.limit > 0:
        raise _DamagedArchive(
            f"truncated: the file ends {raw.limit:,} bytes short of a record's end"
        )
