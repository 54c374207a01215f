"""The loader (dedup/corpus.py): formats, ids, encodings, bad input, and the CLI around it.

Every fixture is written under ``tmp_path``; web archives are built with warcio's own writer.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dedup.cli import app
from dedup.models import Document, Skipped
from dedup.text.load import LoadResult, load_corpus

# Article text trafilatura keeps: a few paragraphs of whole sentences.
STORY = [
    "The county council met on Tuesday evening and agreed a new budget for the town. "
    "The vote came after a long debate about road repairs and school funding.",
    "Councillors said the money for the northern villages had been delayed twice. "
    "Residents who attended the meeting welcomed the decision but asked for a timetable.",
    "The leader of the council said work on the bridge would start in the spring. "
    "She added that the cost had risen by a fifth since the plans were first drawn up.",
    "Opposition members warned that the budget relied on optimistic forecasts. "
    "They called for a review of the spending plans before the end of the year.",
]


# ---------------------------------------------------------------------------- helpers


def write(path: Path, content: str | bytes) -> Path:
    """Write ``content`` (str as UTF-8) to ``path``, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def load(*paths: Path, max_file_bytes: int = 20_000_000) -> LoadResult:
    return load_corpus(list(paths), max_file_bytes=max_file_bytes)


def docs_by_id(result: LoadResult) -> dict[str, Document]:
    return {doc.id: doc for doc in result.documents}


def only_skip(result: LoadResult) -> Skipped:
    """The one skipped input of ``result``."""
    assert len(result.skipped) == 1, [str(s) for s in result.skipped]
    return result.skipped[0]


def load_one_skip(folder: Path, name: str, content: str | bytes, **kw: int) -> Skipped:
    """Write one file into ``folder``, load the folder, and return its one skip."""
    write(folder / name, content)
    result = load(folder, **kw)
    assert result.documents == []
    return only_skip(result)


def article_page(title: str, paragraphs: list[str], *, head: str = "", tail: str = "") -> str:
    """An HTML page: a title, nav and footer chrome around an <article> of paragraphs."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        "<body><nav><ul><li><a href='/'>Home page</a></li>"
        "<li><a href='/sport'>Sport and leisure section</a></li></ul></nav>"
        f"<article><h1>{title}</h1>{body}{tail}</article>"
        "<footer><p>Follow us on social media for more updates.</p></footer></body></html>"
    )


def http_response(url: str, content_type: str, body: bytes, date: str) -> dict:
    return {"url": url, "content_type": content_type, "body": body, "date": date}


def build_warc(responses: list[dict], *, compress: bool) -> tuple[bytes, list[int]]:
    """A WARC (gzip per record or plain) of HTTP responses, each after a request record.

    Returns the bytes and the offset where each record ends (requests at even positions).
    """
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    ends = []
    for item in responses:
        request = StatusAndHeaders(
            f"GET {item['url']} HTTP/1.1", [("Host", "example.com")], is_http_request=True
        )
        writer.write_record(writer.create_warc_record(item["url"], "request", http_headers=request))
        ends.append(buffer.tell())
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", item["content_type"])], protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            item["url"],
            "response",
            payload=io.BytesIO(item["body"]),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": item["date"]},
        )
        writer.write_record(record)
        ends.append(buffer.tell())
    return buffer.getvalue(), ends


def news_warc(*, compress: bool) -> tuple[bytes, list[int]]:
    """Two HTML articles with an image response between them."""
    return build_warc(
        [
            http_response(
                "https://www.example.com/news/budget",
                "text/html; charset=utf-8",
                article_page("Council agrees budget", STORY).encode(),
                "2024-03-01T10:00:00Z",
            ),
            http_response(
                "https://www.example.com/logo.png",
                "image/png",
                b"\x89PNG\r\n\x1a\n" + bytes(64),
                "2024-03-01T10:00:05Z",
            ),
            http_response(
                "https://news.example.org/bridge",
                "text/html",
                article_page("Bridge work to start", STORY[2:] + STORY[:2]).encode(),
                "2024-03-02T08:30:00Z",
            ),
        ],
        compress=compress,
    )


def warc_name(compress: bool) -> str:
    return "crawl.warc.gz" if compress else "crawl.warc"


def scan_cli(*args: str | Path):
    return CliRunner().invoke(app, ["scan", *map(str, args)])


def skip_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("skipped: ")]


# ---------------------------------------------------------------------------- walking, ids


def test_folder_is_walked_recursively_with_posix_ids(tmp_path: Path) -> None:
    write(tmp_path / "top.txt", "Top story.")
    write(tmp_path / "a" / "b" / "deep.md", "Deep story.")
    write(tmp_path / "a" / "mid.text", "Middle story.")
    docs = docs_by_id(load(tmp_path))
    assert sorted(docs) == ["a/b/deep.md", "a/mid.text", "top.txt"]
    assert docs["a/b/deep.md"].path == "a/b/deep.md"
    assert docs["a/b/deep.md"].text == "Deep story."


def test_walk_order_is_sorted_files_then_subfolders(tmp_path: Path) -> None:
    for name in ("b.txt", "a/z.txt", "c.txt", "a/y.txt", "0/x.txt"):
        write(tmp_path / name, f"Story {name}.")
    ids = [doc.id for doc in load(tmp_path).documents]
    assert ids == ["b.txt", "c.txt", "0/x.txt", "a/y.txt", "a/z.txt"]


def test_single_file_is_named_by_its_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "deep" / "folder" / "story.txt", "One story.")
    result = load(path)
    assert [(d.id, d.path, d.text) for d in result.documents] == [
        ("story.txt", "story.txt", "One story.")
    ]
    assert result.skipped == []


@pytest.mark.parametrize("name", ["a.txt", "a.text", "a.md", "A.TXT", "notes.Md"])
def test_text_suffixes_are_read(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, "Plain article text.")
    assert [d.text for d in load(tmp_path).documents] == ["Plain article text."]


def test_text_is_kept_exactly_as_decoded(tmp_path: Path) -> None:
    text = "  Headline\r\n\r\nFirst paragraph,\twith a tab.\n\n"
    write(tmp_path / "a.txt", text)
    assert load(tmp_path).documents[0].text == text


def test_other_file_types_are_counted_as_ignored_not_skipped(tmp_path: Path) -> None:
    write(tmp_path / "story.txt", "A story.")
    write(tmp_path / "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(20))
    write(tmp_path / "table.csv", "a,b\n1,2\n")
    write(tmp_path / "sub" / "README", "no extension")
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["story.txt"]
    assert result.ignored == 3
    assert result.skipped == []


def test_hidden_files_and_folders_are_ignored_silently(tmp_path: Path) -> None:
    write(tmp_path / "story.txt", "A story.")
    write(tmp_path / ".draft.txt", "Hidden draft.")
    write(tmp_path / ".git" / "notes.txt", "Inside a hidden folder.")
    write(tmp_path / "sub" / ".cache" / "page.html", "<p>cached</p>")
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["story.txt"]
    assert (result.skipped, result.ignored) == ([], 0)


def test_duplicate_ids_are_skipped_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path / "one" / "story.txt", "First copy.")
    write(tmp_path / "two" / "story.txt", "Second copy.")
    result = load(tmp_path / "one", tmp_path / "two")
    assert [d.text for d in result.documents] == ["First copy."]
    skip = only_skip(result)
    assert (skip.kind, str(skip)) == (
        "duplicate-id",
        "story.txt: duplicate document id 'story.txt'",
    )


def test_duplicate_record_ids_inside_one_file(tmp_path: Path) -> None:
    lines = [{"id": "x", "text": "First."}, {"id": "x", "text": "Second."}]
    write(tmp_path / "feed.jsonl", "\n".join(json.dumps(o) for o in lines))
    result = load(tmp_path)
    assert [(d.id, d.text) for d in result.documents] == [("feed.jsonl#x", "First.")]
    assert only_skip(result).reason == "duplicate document id 'feed.jsonl#x'"


# ---------------------------------------------------------------------------- JSON, JSONL

RECORD = {
    "id": "wire-17",
    "text": "Storms closed the coast road on Monday.",
    "title": "Storms close road",
    "url": "https://www.example.com/storms",
    "date": "2024-02-05",
    "source": "Example Gazette",
}


def test_json_object_with_every_field(tmp_path: Path) -> None:
    write(tmp_path / "news" / "one.json", json.dumps(RECORD))
    (doc,) = load(tmp_path).documents
    assert doc.id == "news/one.json#wire-17"
    assert doc.path == "news/one.json"
    assert (doc.text, doc.title, doc.url, doc.date, doc.source) == (
        RECORD["text"],
        RECORD["title"],
        RECORD["url"],
        RECORD["date"],
        RECORD["source"],
    )


def test_json_object_without_id_is_record_one(tmp_path: Path) -> None:
    write(tmp_path / "one.json", json.dumps({"text": "Just text."}))
    (doc,) = load(tmp_path).documents
    assert (doc.id, doc.title, doc.url, doc.date, doc.source) == (
        "one.json#1",
        None,
        None,
        None,
        None,
    )


def test_json_list_ids_are_the_id_or_the_position(tmp_path: Path) -> None:
    records = [{"text": "First."}, {"id": "b", "text": "Second."}, {"id": 7, "text": "Third."}]
    write(tmp_path / "list.json", json.dumps(records))
    docs = load(tmp_path).documents
    assert [(d.id, d.text) for d in docs] == [
        ("list.json#1", "First."),
        ("list.json#b", "Second."),
        ("list.json#7", "Third."),
    ]


def test_jsonl_ids_are_the_id_or_the_line_number(tmp_path: Path) -> None:
    content = '{"id": "a", "text": "First."}\n\n{"text": "Third line."}\r\n{"text": "Fourth."}'
    write(tmp_path / "feed.jsonl", content)
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["feed.jsonl#a", "feed.jsonl#3", "feed.jsonl#4"]
    assert result.skipped == []


def test_malformed_jsonl_line_is_skipped_and_the_rest_loads(tmp_path: Path) -> None:
    content = '{"text": "Good one."}\n{"text": "broken\n{"text": "Good three."}\n'
    write(tmp_path / "feed.jsonl", content)
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["feed.jsonl#1", "feed.jsonl#3"]
    skip = only_skip(result)
    assert (skip.path, skip.line, skip.kind) == ("feed.jsonl", 2, "malformed")
    assert str(skip).startswith("feed.jsonl:2: malformed JSON (")


@pytest.mark.parametrize(
    ("line", "reason", "kind"),
    [
        ('{"title": "No body"}', "record has no 'text' field", "malformed"),
        ('{"text": null}', "record has no 'text' field", "malformed"),
        ('{"text": 5}', "'text' must be a string, got int", "malformed"),
        ('{"text": "   "}', "record 'text' is empty", "empty"),
        ('{"text": "ok", "title": ["a"]}', "field 'title' must be a string, got list", "malformed"),
        ("[1, 2]", "expected a JSON object, got list", "malformed"),
        ('"just a string"', "expected a JSON object, got str", "malformed"),
        (
            b'{"text": "caf\xe9"}',
            "invalid UTF-8 in JSON line (invalid continuation byte)",
            "undecodable",
        ),
    ],
)
def test_bad_jsonl_record_names_file_and_line(
    tmp_path: Path, line: str | bytes, reason: str, kind: str
) -> None:
    raw = line.encode() if isinstance(line, str) else line
    write(tmp_path / "feed.jsonl", b'{"text": "Fine."}\n' + raw + b'\n{"text": "Also fine."}\n')
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["feed.jsonl#1", "feed.jsonl#3"]
    skip = only_skip(result)
    assert (str(skip), skip.kind, skip.line) == (f"feed.jsonl:2: {reason}", kind, 2)


def test_bad_record_in_json_list_is_named_by_position(tmp_path: Path) -> None:
    write(tmp_path / "list.json", json.dumps([{"text": "Fine."}, {"title": "x"}, 3]))
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["list.json#1"]
    assert [(str(s), s.kind, s.line) for s in result.skipped] == [
        ("list.json: record 2: record has no 'text' field", "malformed", None),
        ("list.json: record 3: expected a JSON object, got int", "malformed", None),
    ]


@pytest.mark.parametrize(
    ("content", "reason", "kind"),
    [
        (
            '{"text": "unterminated',
            "malformed JSON (Unterminated string starting at: line 1 column 10)",
            "malformed",
        ),
        ("42", "JSON must be an object or a list of objects", "malformed"),
        ('"a string"', "JSON must be an object or a list of objects", "malformed"),
        ("[]", "empty JSON list (no records)", "empty"),
        ("[" * 100_000 + "]" * 100_000, "malformed JSON (nested too deeply)", "malformed"),
        (
            '{"text": "x", "id": ' + "9" * 5000 + "}",
            "malformed JSON (Exceeds the limit (4300 digits) for integer string conversion)",
            "malformed",
        ),
    ],
    ids=["truncated", "number", "string", "empty-list", "deep", "long-number"],
)
def test_unreadable_json_file_is_skipped(
    tmp_path: Path, content: str, reason: str, kind: str
) -> None:
    skip = load_one_skip(tmp_path, "bad.json", content)
    assert (str(skip), skip.kind) == (f"bad.json: {reason}", kind)


@pytest.mark.parametrize(
    "line",
    ["[" * 100_000 + "]" * 100_000, '{"text": "x", "id": ' + "9" * 5000 + "}"],
    ids=["deep", "long-number"],
)
def test_jsonl_line_json_cannot_hold_is_skipped(tmp_path: Path, line: str) -> None:
    write(tmp_path / "feed.jsonl", line + '\n{"text": "Next line."}\n')
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["feed.jsonl#2"]
    assert (only_skip(result).line, only_skip(result).kind) == (1, "malformed")


def test_jsonl_with_byte_order_mark_keeps_its_first_record(tmp_path: Path) -> None:
    write(tmp_path / "feed.jsonl", b'\xef\xbb\xbf{"text": "First."}\n{"text": "Second."}\n')
    result = load(tmp_path)
    assert [d.text for d in result.documents] == ["First.", "Second."]
    assert result.skipped == []


def test_jsonl_line_over_the_size_limit_is_skipped(tmp_path: Path) -> None:
    long_line = json.dumps({"text": "word " * 100})
    write(tmp_path / "feed.jsonl", f'{{"text": "Short."}}\n{long_line}\n{{"text": "After."}}\n')
    result = load(tmp_path, max_file_bytes=100)
    assert [d.id for d in result.documents] == ["feed.jsonl#1", "feed.jsonl#3"]
    skip = only_skip(result)
    size = len(long_line) + 1
    assert (str(skip), skip.kind) == (
        f"feed.jsonl:2: line is {size:,} bytes, over the size limit of 100",
        "too-large",
    )


# ---------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("Café in Zürich — “quoted”, 3½ stone.", lambda t: t.encode("utf-8")),
        ("Café with a byte-order mark.", lambda t: t.encode("utf-8-sig")),
        ("He weighs 3½ stone.", lambda t: t.encode("latin-1")),
        ("3½ stone", lambda t: t.encode("latin-1")),
        ("café", lambda t: t.encode("latin-1")),
        ("Die Straße führt über die Brücke nach München.", lambda t: t.encode("latin-1")),
        ("Le café est très bon, à Paris comme à Lyon.", lambda t: t.encode("latin-1")),
        ("He said “hello” — and left. It’s fine.", lambda t: t.encode("cp1252")),
        ("Москва — столица России, крупнейший город страны.", lambda t: t.encode("cp1251")),
        (
            "Zażółć gęślą jaźń. Pójdźże, kiń tę chmurność w głąb flaszy!",
            lambda t: t.encode("cp1250"),
        ),
        ("UTF-16 text: café, 3½ stone.", lambda t: t.encode("utf-16")),
        ("Big-endian UTF-16: naïve.", lambda t: b"\xfe\xff" + t.encode("utf-16-be")),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "latin1-sentence",
        "latin1-half",
        "latin1-cafe",
        "latin1-german",
        "latin1-french",
        "cp1252-quotes",
        "cp1251",
        "cp1250",
        "utf16-le-bom",
        "utf16-be-bom",
    ],
)
def test_text_encodings_decode_correctly(tmp_path: Path, text: str, encoded) -> None:
    write(tmp_path / "story.txt", encoded(text))
    result = load(tmp_path)
    assert result.skipped == []
    assert result.documents[0].text == text


def test_latin1_json_file_decodes(tmp_path: Path) -> None:
    write(
        tmp_path / "one.json",
        json.dumps({"text": "Il pèse 3½ stone au café."}, ensure_ascii=False).encode("latin-1"),
    )
    assert load(tmp_path).documents[0].text == "Il pèse 3½ stone au café."


@pytest.mark.parametrize(
    ("content", "reason", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "binary file (NUL bytes), not text", "binary"),
        (
            bytes(range(128, 256)) * 3,
            "undecodable bytes: neither UTF-8 nor a known legacy encoding",
            "undecodable",
        ),
        (
            b"\xff\xfe" + b"\x00\xd8" + b"a\x00",
            "undecodable utf-16 text (illegal UTF-16 surrogate)",
            "undecodable",
        ),
        (
            b"text\x01\x02\x03\x04\x05\x06\x07\x08 more",
            "binary data (8 control characters in 17), not text",
            "binary",
        ),
    ],
    ids=["nul-bytes", "undecodable", "bad-utf16", "control-characters"],
)
def test_binary_and_undecodable_text_is_skipped(
    tmp_path: Path, content: bytes, reason: str, kind: str
) -> None:
    skip = load_one_skip(tmp_path, "story.txt", content)
    assert (str(skip), skip.kind) == (f"story.txt: {reason}", kind)


# ---------------------------------------------------------------------------- empty, size


@pytest.mark.parametrize("name", ["a.txt", "a.html", "a.json", "a.jsonl", "a.warc", "a.warc.gz"])
def test_empty_file_is_skipped(tmp_path: Path, name: str) -> None:
    skip = load_one_skip(tmp_path, name, b"")
    assert (str(skip), skip.kind) == (f"{name}: empty file", "empty")


@pytest.mark.parametrize("name", ["a.txt", "a.md", "a.html", "a.json", "a.jsonl", "a.warc"])
def test_whitespace_only_file_is_skipped(tmp_path: Path, name: str) -> None:
    skip = load_one_skip(tmp_path, name, " \n\t\r\n  \n")
    assert (str(skip), skip.kind) == (f"{name}: no text (only white space)", "empty")


def test_utf16_whitespace_only_file_is_skipped(tmp_path: Path) -> None:
    skip = load_one_skip(tmp_path, "a.txt", "  \n ".encode("utf-16"))
    assert (skip.reason, skip.kind) == ("no text (only white space)", "empty")


@pytest.mark.parametrize("name", ["a.txt", "a.html", "a.json"])
def test_file_over_the_size_limit_is_skipped(tmp_path: Path, name: str) -> None:
    skip = load_one_skip(tmp_path, name, "x" * 101, max_file_bytes=100)
    assert (str(skip), skip.kind) == (
        f"{name}: file is 101 bytes, over the size limit of 100 (--max-bytes)",
        "too-large",
    )


def test_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x" * 100)
    result = load(tmp_path, max_file_bytes=100)
    assert [len(d.text) for d in result.documents] == [100]


# ---------------------------------------------------------------------------- paths, links


def test_missing_path_is_skipped(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    write(tmp_path / "here" / "a.txt", "Present.")
    result = load(missing, tmp_path / "here")
    assert [d.id for d in result.documents] == ["a.txt"]
    skip = only_skip(result)
    assert (str(skip), skip.kind) == (f"{missing}: no such file or folder", "unreadable")


def test_broken_symlink_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Present.")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "deleted.txt")
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["a.txt"]
    assert [(str(s), s.kind) for s in result.skipped] == [
        ("gone.txt: broken symbolic link", "unreadable"),
        ("self.txt: unreadable (Too many levels of symbolic links)", "unreadable"),
    ]


def test_broken_symlink_given_directly_is_skipped(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "deleted.txt")
    skip = only_skip(load(link))
    assert (str(skip), skip.kind) == (f"{link}: broken symbolic link", "unreadable")


def test_symlinks_to_files_and_folders_are_followed(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "inner.txt", "Inner story.")
    write(tmp_path / "outside.txt", "Outside story.")
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(tmp_path / "elsewhere")
    (root / "alias.txt").symlink_to(tmp_path / "outside.txt")
    docs = docs_by_id(load(root))
    assert {k: d.text for k, d in docs.items()} == {
        "alias.txt": "Outside story.",
        "linked/inner.txt": "Inner story.",
    }


def test_folder_symlink_to_an_ancestor_does_not_loop(tmp_path: Path) -> None:
    write(tmp_path / "top.txt", "Top.")
    write(tmp_path / "sub" / "inner.txt", "Inner.")
    (tmp_path / "sub" / "up").symlink_to(tmp_path)
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["top.txt", "sub/inner.txt"]
    skip = only_skip(result)
    assert (str(skip), skip.kind) == (
        "sub/up: symbolic link loop (folder already visited), not followed",
        "unreadable",
    )


# ---------------------------------------------------------------------------- HTML


def test_html_keeps_the_article_and_title_not_the_chrome(tmp_path: Path) -> None:
    page = article_page(
        "Council agrees budget",
        STORY,
        head="<script>var tracker = 'HEAD_SCRIPT_TOKEN';</script><style>p{color:red}</style>",
        tail="<script>document.write('INLINE_SCRIPT_TOKEN')</script>",
    )
    write(tmp_path / "news" / "budget.html", page)
    result = load(tmp_path)
    assert result.skipped == []
    (doc,) = result.documents
    assert (doc.id, doc.path, doc.title) == (
        "news/budget.html",
        "news/budget.html",
        "Council agrees budget",
    )
    for paragraph in STORY:
        assert paragraph in doc.text
    for chrome in ("Home page", "Sport and leisure", "social media", "SCRIPT_TOKEN", "color"):
        assert chrome not in doc.text


def test_htm_suffix_and_latin1_page(tmp_path: Path) -> None:
    paragraphs = [p.replace("town", "café town") for p in STORY]
    page = article_page("Le café", paragraphs).replace("charset='utf-8'", "charset='iso-8859-1'")
    write(tmp_path / "page.htm", page.encode("latin-1"))
    (doc,) = load(tmp_path).documents
    assert "budget for the café town" in doc.text
    assert doc.title == "Le café"


def test_utf16_html_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    write(tmp_path / "page.html", article_page("Wide page", STORY).encode("utf-16"))
    result = load(tmp_path)
    assert result.skipped == []
    assert STORY[0] in result.documents[0].text


def test_html_date_is_the_stated_one_not_a_guess(tmp_path: Path) -> None:
    stated = '<meta property="article:published_time" content="2023-05-06T10:00:00Z">'
    write(tmp_path / "dated.html", article_page("Dated", STORY, head=stated))
    write(tmp_path / "undated.html", article_page("Undated", STORY, tail="<p>Copyright 2019.</p>"))
    docs = docs_by_id(load(tmp_path))
    assert docs["dated.html"].date == "2023-05-06"
    assert docs["undated.html"].date is None


@pytest.mark.parametrize(
    ("content", "reason", "kind"),
    [
        (
            "<html><head><title>Empty</title></head><body><div> </div></body></html>",
            "no article text found in the HTML page",
            "no-text",
        ),
        (b"<html>\x00\x00\x00</html>", "binary file (NUL bytes), not text", "binary"),
    ],
    ids=["no-article", "binary"],
)
def test_html_without_article_text_is_skipped(
    tmp_path: Path, content: str | bytes, reason: str, kind: str
) -> None:
    skip = load_one_skip(tmp_path, "page.html", content)
    assert (str(skip), skip.kind) == (f"page.html: {reason}", kind)


# ---------------------------------------------------------------------------- WARC


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_warc_html_responses_are_documents(tmp_path: Path, compress: bool) -> None:
    data, _ = news_warc(compress=compress)
    name = warc_name(compress)
    write(tmp_path / "crawls" / name, data)
    result = load(tmp_path)
    assert result.skipped == []
    first, second = result.documents
    assert (first.id, first.path) == (f"crawls/{name}#1", f"crawls/{name}")
    assert (first.url, first.date, first.title) == (
        "https://www.example.com/news/budget",
        "2024-03-01T10:00:00Z",
        "Council agrees budget",
    )
    assert (second.id, second.url, second.date, second.title) == (
        f"crawls/{name}#2",
        "https://news.example.org/bridge",
        "2024-03-02T08:30:00Z",
        "Bridge work to start",
    )
    for doc in (first, second):
        assert all(p in doc.text for p in STORY)
        assert "Home page" not in doc.text


def test_truncated_warc_gz_keeps_the_documents_before_the_damage(tmp_path: Path) -> None:
    data, ends = news_warc(compress=True)
    cut = (ends[4] + ends[5]) // 2  # inside the second article's gzip member
    write(tmp_path / "cut.warc.gz", data[:cut])
    result = load(tmp_path)
    assert [(d.id, d.url) for d in result.documents] == [
        ("cut.warc.gz#1", "https://www.example.com/news/budget")
    ]
    skip = only_skip(result)
    assert (str(skip), skip.kind) == (
        "cut.warc.gz: malformed WARC after record 1 (gzip data cut off: the file is truncated)",
        "malformed",
    )


def test_truncated_plain_warc_keeps_the_documents_before_the_damage(tmp_path: Path) -> None:
    data, ends = news_warc(compress=False)
    write(tmp_path / "cut.warc", data[: ends[5] - 100])
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["cut.warc#1"]
    skip = only_skip(result)
    assert (skip.kind, skip.reason) == (
        "malformed",
        "malformed WARC after record 1 (truncated: the file ends 96 bytes short of a record's end)",
    )


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_warc_cut_anywhere_keeps_whole_records_and_reports_the_damage(
    tmp_path: Path, compress: bool
) -> None:
    """Every way of cutting a web archive short: no cut record becomes a document, no cut goes
    unreported. (text/plain responses keep this fast: no HTML extraction.)"""
    texts = ["First story in plain text.\n", "Second story in plain text.\n"]
    data, ends = build_warc(
        [
            http_response(f"https://example.com/{i}", "text/plain", text.encode(), "2024-01-01")
            for i, text in enumerate(texts)
        ],
        compress=compress,
    )
    path = tmp_path / warc_name(compress)
    # plain WARC: the last 4 bytes of a record are the blank lines after it, not its content
    slack = 0 if compress else 4
    response_ends = ends[1::2]
    for cut in range(1, len(data)):
        write(path, data[:cut])
        result = load(path)
        whole = [i for i, end in enumerate(response_ends) if end - slack <= cut]
        kept = [d.text for d in result.documents]
        assert kept[: len(whole)] == [texts[i] for i in whole], cut
        assert kept == texts[: len(kept)], cut  # never a partial text
        if cut in ends or any(e - slack <= cut < e for e in ends):  # the archive is whole
            assert kept == [texts[i] for i in whole], cut
            if not kept:
                assert only_skip(result).kind == "no-text", cut
            else:
                assert result.skipped == [], cut
        else:
            skip = only_skip(result)
            assert skip.kind == "malformed", cut
            where = f"after record {len(kept)}" if kept else "at the start"
            assert skip.reason.startswith(f"malformed WARC {where} ("), cut


def test_warc_compressed_as_one_gzip_member_is_read(tmp_path: Path) -> None:
    data, _ = news_warc(compress=False)
    write(tmp_path / "whole.warc.gz", gzip.compress(data))
    result = load(tmp_path)
    assert result.skipped == []
    assert [d.id for d in result.documents] == ["whole.warc.gz#1", "whole.warc.gz#2"]


def test_gzip_warc_with_trailing_garbage_is_reported(tmp_path: Path) -> None:
    data, _ = news_warc(compress=True)
    write(tmp_path / "tail.warc.gz", data + b"garbage after the archive")
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["tail.warc.gz#1", "tail.warc.gz#2"]
    skip = only_skip(result)
    assert skip.kind == "malformed"
    assert skip.reason.startswith("malformed WARC after record 2 (corrupt gzip data: ")


@pytest.mark.parametrize(
    ("name", "content", "reason_start"),
    [
        (
            "junk.warc",
            "This is not a web archive.\nJust text.\n",
            "malformed WARC at the start (truncated or malformed: a record without a valid "
            "Content-Length)",
        ),
        (
            "junk2.warc",
            "this is not\na warc\n",
            "malformed WARC at the start (ArchiveLoadFailed: Unknown archive format",
        ),
        (
            "junk.warc.gz",
            b"\x1f\x8b" + bytes(range(256)),
            "malformed WARC at the start (corrupt gzip data: ",
        ),
    ],
)
def test_file_that_is_not_a_warc_is_skipped(
    tmp_path: Path, name: str, content: str | bytes, reason_start: str
) -> None:
    skip = load_one_skip(tmp_path, name, content)
    assert skip.kind == "malformed"
    assert skip.reason.startswith(reason_start)
    assert "\n" not in skip.reason


def test_warc_without_html_responses_is_reported(tmp_path: Path) -> None:
    data, _ = build_warc(
        [http_response("https://example.com/a.png", "image/png", bytes(40), "2024-01-01")],
        compress=True,
    )
    skip = load_one_skip(tmp_path, "images.warc.gz", data)
    assert (str(skip), skip.kind) == (
        "images.warc.gz: no HTML or text responses in the web archive",
        "no-text",
    )


def test_warc_record_over_the_size_limit_is_skipped(tmp_path: Path) -> None:
    data, _ = build_warc(
        [
            http_response("https://example.com/big", "text/plain", b"word " * 100, "2024-01-01"),
            http_response("https://example.com/small", "text/plain", b"Small story.", "2024-01-01"),
        ],
        compress=True,
    )
    write(tmp_path / "mixed.warc.gz", data)
    result = load(tmp_path, max_file_bytes=200)
    assert [(d.id, d.text) for d in result.documents] == [("mixed.warc.gz#2", "Small story.")]
    skip = only_skip(result)
    assert (str(skip), skip.kind) == (
        "mixed.warc.gz: record 1 (https://example.com/big) is over the size limit of 200 bytes",
        "too-large",
    )


def test_warc_html_response_without_article_is_skipped_by_record(tmp_path: Path) -> None:
    data, _ = build_warc(
        [
            http_response(
                "https://example.com/empty",
                "text/html",
                b"<html><body></body></html>",
                "2024-01-01",
            ),
            http_response("https://example.com/ok", "text/plain", b"A story.", "2024-01-01"),
        ],
        compress=False,
    )
    write(tmp_path / "crawl.warc", data)
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["crawl.warc#2"]
    assert str(only_skip(result)) == (
        "crawl.warc: record 1 (https://example.com/empty): no article text found in the HTML page"
    )


# ---------------------------------------------------------------------------- CLI


def mixed_folder(root: Path) -> Path:
    """Two readable articles, one broken JSON file and one ignored image."""
    write(root / "a.txt", STORY[0])
    write(root / "sub" / "b.txt", STORY[1])
    write(root / "broken.json", '{"text": ')
    write(root / "photo.png", b"\x89PNG\r\n\x1a\n")
    return root


def test_cli_exit_3_lists_skipped_inputs(tmp_path: Path) -> None:
    folder = mixed_folder(tmp_path / "in")
    out = tmp_path / "out"
    result = scan_cli(folder, "--out", out)
    assert result.exit_code == 3, result.output
    assert skip_lines(result.stderr) == [
        "skipped: broken.json: malformed JSON (Expecting value: line 1 column 10)"
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["documents"] == 2
    assert summary["ignored_files"] == 1
    assert summary["skipped_by_kind"] == {"malformed": 1}
    assert summary["skipped_inputs"] == [
        {
            "path": "broken.json",
            "line": None,
            "kind": "malformed",
            "reason": "malformed JSON (Expecting value: line 1 column 10)",
        }
    ]


def test_cli_reports_the_line_of_a_bad_jsonl_record(tmp_path: Path) -> None:
    write(tmp_path / "in" / "feed.jsonl", json.dumps({"text": STORY[0]}) + "\n{oops}\n")
    out = tmp_path / "out"
    result = scan_cli(tmp_path / "in", "--out", out)
    assert result.exit_code == 3
    (line,) = skip_lines(result.stderr)
    assert line.startswith("skipped: feed.jsonl:2: malformed JSON (")
    (skipped,) = json.loads((out / "summary.json").read_text())["skipped_inputs"]
    assert (skipped["path"], skipped["line"], skipped["kind"]) == ("feed.jsonl", 2, "malformed")


def test_cli_exit_0_when_everything_is_read(tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.txt", STORY[0])
    write(tmp_path / "in" / "b.json", json.dumps({"text": STORY[1]}))
    out = tmp_path / "out"
    result = scan_cli(tmp_path / "in", "--out", out)
    assert result.exit_code == 0, result.output
    assert skip_lines(result.stderr) == []
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["documents"], summary["skipped"], summary["skipped_inputs"]) == (2, 0, [])


def test_cli_accepts_a_single_file(tmp_path: Path) -> None:
    path = write(tmp_path / "one.txt", STORY[2])
    out = tmp_path / "out"
    result = scan_cli(path, "--out", out)
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in (out / "documents.jsonl").read_text().splitlines()]
    assert (record["id"], record["text"]) == ("one.txt", STORY[2])


def test_cli_exit_1_when_no_document_can_be_read(tmp_path: Path) -> None:
    write(tmp_path / "in" / "broken.json", "{")
    write(tmp_path / "in" / "empty.txt", "")
    result = scan_cli(tmp_path / "in", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    lines = result.stderr.splitlines()
    assert lines[:2] == [
        "skipped: broken.json: malformed JSON (Expecting property name enclosed in double quotes: line 1 column 2)",
        "skipped: empty.txt: empty file",
    ]
    assert len(lines) == 3
    assert lines[2].startswith("Error: no documents could be read from ")
    assert lines[2].endswith("(2 skipped)")
    assert "Traceback" not in result.output + result.stderr


def test_cli_exit_2_for_an_invalid_option_value(tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.txt", STORY[0])
    out = tmp_path / "out"
    result = scan_cli(tmp_path / "in", "--out", out, "--num-perm", "3")
    assert result.exit_code == 2
    assert "--num-perm" in result.stderr
    assert not out.exists()


def test_mostly_ascii_text_is_read_as_western_when_the_detector_guesses_otherwise(monkeypatch):
    """On long English text with one '£' (METER), charset-normalizer sometimes guesses cp932
    ('｣300') or cp1257 ('Zoė'); with under 2 % non-ASCII bytes the Western reading wins."""
    import dedup.text.load as corpus

    class Guess:
        def __init__(self, encoding, text):
            self.encoding, self.chaos, self.coherence, self._text = encoding, 0.0, 0.9, text

        def __str__(self):
            return self._text

    class Matches:
        def __init__(self, guess):
            self._guess = guess

        def best(self):
            return self._guess

    data = ("x" * 200 + " a \xa3300-a-night suite").encode("latin-1")
    western = Guess("cp1252", data.decode("cp1252"))
    eastern = Guess("cp932", data.decode("cp932", errors="replace"))

    def fake(payload, cp_isolation=None):
        guess = western if cp_isolation else eastern
        guess.coherence = 0.5 if cp_isolation else 0.9  # the detector prefers its guess
        return Matches(guess)

    monkeypatch.setattr(corpus, "from_bytes", fake)
    assert corpus.decode_bytes(data).endswith("£300-a-night suite")
    dense = ("é" * 50 + "x" * 100).encode("latin-1")  # many non-ASCII bytes: trust the detector
    eastern._text = "detector's reading"
    assert corpus.decode_bytes(dense) == "detector's reading"
