"""Load articles from files and folders into :class:`~dedup.models.Document` records.

Formats: plain text (``.txt``, ``.text``, ``.md``), HTML (``.html``, ``.htm``: the main article
text via trafilatura), JSON (``.json``: an object or a list of objects), JSON Lines
(``.jsonl``) and web archives (``.warc``, ``.warc.gz``: every HTML response is a document).

Bad input never stops a load: every file or record that cannot be read becomes a
:class:`~dedup.models.Skipped` with a one-line reason, and loading goes on.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from charset_normalizer import from_bytes

from .errors import InputError
from .models import Document, Skipped

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
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


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
    seen_ids: dict[str, str] = {}
    for item in iter_inputs(paths, max_file_bytes=max_file_bytes):
        if isinstance(item, Skipped):
            if item.kind == "ignored":
                result.ignored += 1
            else:
                result.skipped.append(item)
                log.warning("skipped %s", item)
            continue
        if item.id in seen_ids:
            skip = Skipped(item.path, f"duplicate document id {item.id!r}", "duplicate-id")
            result.skipped.append(skip)
            log.warning("skipped %s", skip)
            continue
        seen_ids[item.id] = item.path
        result.documents.append(item)
    return result


def iter_inputs(
    paths: Iterable[str | Path], *, max_file_bytes: int = 20_000_000
) -> Iterator[Document | Skipped]:
    """Yield a Document or a Skipped for every file (or record) under ``paths``, in order."""
    for raw in paths:
        root = Path(raw)
        if root.is_dir():
            for path, problem in _walk(root):
                rel = path.relative_to(root).as_posix()
                if problem:
                    yield Skipped(rel, problem, "unreadable")
                    continue
                yield from _read_file(path, rel, max_file_bytes)
        elif root.exists():
            yield from _read_file(root, root.name, max_file_bytes)
        elif root.is_symlink():
            yield Skipped(str(raw), "broken symbolic link", "unreadable")
        else:
            yield Skipped(str(raw), "no such file or folder", "unreadable")


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` in sorted order, following links but never around a loop."""
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


def _read_file(path: Path, rel: str, max_bytes: int) -> Iterator[Document | Skipped]:
    kind = input_format(path)
    if kind is None:
        yield Skipped(rel, "not an article format", "ignored")
        return
    group = "folder:" + (rel.rsplit("/", 1)[0] if "/" in rel else ".")
    try:
        size = path.stat().st_size
        if size == 0:
            yield Skipped(rel, "empty file", "empty")
            return
        if kind in ("jsonl", "warc"):
            with path.open("rb") as stream:
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
        yield Skipped(rel, str(exc), _kind_of(exc))


def _kind_of(exc: InputError) -> str:
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
                raise _input_error(f"undecodable {codec} text ({exc.reason})", "undecodable")
    if b"\x00" in data[:65536]:
        raise _input_error("binary file (NUL bytes), not text", "binary")
    try:
        return _checked_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise _input_error("undecodable bytes: neither UTF-8 nor a known legacy encoding", "undecodable")
    return _checked_text(str(best))


def _checked_text(text: str) -> str:
    if not text.strip():
        raise _input_error("no text (only white space)", "empty")
    controls = sum(1 for ch in text if ch < " " and ch not in _ALLOWED_CONTROLS)
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
        if b"\x00" in html[:65536]:
            raise _input_error("binary file (NUL bytes), not HTML", "binary")
        html = decode_bytes(html)
    import trafilatura  # heavy import, only when HTML is read

    try:
        extracted = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=False
        )
    except Exception as exc:  # trafilatura/lxml raise many types on broken markup
        raise _input_error(f"malformed HTML ({type(exc).__name__}: {exc})", "malformed") from exc
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


def _record_document(obj: Any, rel: str, key: str, group: str) -> Document:
    """A document from one JSON object; ``key`` names it when it has no ``id``."""
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


def _read_json(data: bytes, rel: str, group: str) -> Iterator[Document | Skipped]:
    try:
        payload = json.loads(decode_bytes(data))
    except json.JSONDecodeError as exc:
        yield Skipped(rel, f"malformed JSON ({exc.msg} at line {exc.lineno})", "malformed")
        return
    if isinstance(payload, dict):
        # One article object, addressed by its id (or #1 when it has none).
        records: list[Any] = [payload]
    elif isinstance(payload, list):
        records = payload
    else:
        yield Skipped(rel, "JSON must be an object or a list of objects", "malformed")
        return
    for number, obj in enumerate(records, start=1):
        try:
            yield _record_document(obj, rel, str(number), group)
        except InputError as exc:
            yield Skipped(rel, f"record {number}: {exc}", _kind_of(exc))


def _read_jsonl(stream: IO[bytes], rel: str, group: str, max_bytes: int) -> Iterator[Document | Skipped]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        if len(raw) > max_bytes:
            yield Skipped(
                rel, f"line is {len(raw):,} bytes, over the size limit of {max_bytes:,}", "too-large", number
            )
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Skipped(rel, f"invalid UTF-8 in JSON line ({exc.reason})", "undecodable", number)
            continue
        except json.JSONDecodeError as exc:
            yield Skipped(rel, f"malformed JSON ({exc.msg}, column {exc.colno})", "malformed", number)
            continue
        try:
            yield _record_document(obj, rel, str(number), group)
        except InputError as exc:
            yield Skipped(rel, str(exc), _kind_of(exc), number)


def _read_warc(stream: IO[bytes], rel: str, group: str, max_bytes: int) -> Iterator[Document | Skipped]:
    from warcio.archiveiterator import ArchiveIterator

    number = 0
    try:
        for record in ArchiveIterator(stream):
            kind = record.rec_type
            if kind not in ("response", "conversion", "resource"):
                continue
            if kind == "response":
                mime = record.http_headers.get_header("Content-Type", "") if record.http_headers else ""
            else:
                mime = record.rec_headers.get_header("Content-Type", "")
            mime = mime.split(";")[0].strip().lower()
            if mime not in ("text/html", "application/xhtml+xml", "text/plain"):
                continue
            number += 1
            url = record.rec_headers.get_header("WARC-Target-URI")
            date = record.rec_headers.get_header("WARC-Date")
            payload = record.content_stream().read(max_bytes + 1)
            if len(payload) > max_bytes:
                yield Skipped(rel, f"record {number} ({url}) is over the size limit of {max_bytes:,} bytes", "too-large")
                continue
            doc_id = f"{rel}#{number}"
            try:
                if mime == "text/plain":
                    yield _make_document(doc_id, rel, decode_bytes(payload), url=url, date=date, group=group)
                else:
                    yield html_document(payload, doc_id, rel, group=group, url=url, date=date)
            except InputError as exc:
                yield Skipped(rel, f"record {number} ({url}): {exc}", _kind_of(exc))
    except Exception as exc:  # warcio raises ArchiveLoadFailed, zlib.error, EOFError, ValueError
        where = f"after record {number}" if number else "at the start"
        yield Skipped(rel, f"malformed WARC {where} ({type(exc).__name__}: {exc})", "malformed")
