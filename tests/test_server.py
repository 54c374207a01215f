"""The HTTP service, over a real socket: a uvicorn subprocess serving a fresh SQLite index.

One server is shared by the module (start-up costs seconds); every test uses its own ids, and
only ``test_seed_verdicts_in_file_order`` adds seed texts, so the seed verdicts hold in any
test order.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from dedup.config import ScanConfig
from dedup.errors import ConfigError
from dedup.gate import Gate, Match, MatchPassage, Verdict
from dedup.gate.server import create_app, resolve_token, run

from .support import SEEDS, RedisServer, seed_id

TOKEN = "tok-" + secrets.token_hex(16)
MAX_BODY = 100_000
MAX_DOC = 50_000
MAX_BATCH = 5
JSON = {"content-type": "application/json"}

SERVE = f"""
import sys
from dedup.config import ScanConfig
from dedup.gate.server import run
run(sys.argv[1], port=int(sys.argv[2]), max_body_bytes={MAX_BODY}, max_batch={MAX_BATCH},
    config=ScanConfig(max_file_bytes={MAX_DOC}))
"""

_SYLLABLES = ["ka", "lo", "mi", "ter", "van", "dus", "pre", "sol", "nik", "ba", "ro", "lem", "tis"]


def article(seed: str, sentences: int = 12) -> str:
    """Made-up prose, different for every seed (shares no passage with the seeds or others)."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))

    return " ".join(
        f"The {word()} of {word()} said on {word().capitalize()} that the {word()} would "
        f"{word()} the {word()} {word()} in {word()} and {word()} before the {word()} of the "
        f"{word()}."
        for _ in range(sentences)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    log: Path


@contextmanager
def subprocess_server(index: str, log: Path) -> Iterator[Server]:
    """``run`` serving ``index`` in a subprocess (its output in ``log``) until the block ends."""
    port = free_port()
    env = {**os.environ, "DEDUP_TOKEN": TOKEN}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, index, str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer /healthz in 30 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield Server(url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    with subprocess_server(str(folder / "index.db"), folder / "server.log") as running:
        yield running


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as c:
        yield c


def count(client: httpx.Client) -> int:
    r = client.get("/stats")
    assert r.status_code == 200, r.text
    return r.json()["documents"]


def path_of(doc_id: str) -> str:
    return "/documents/" + quote(doc_id, safe="")


def assert_error(r: httpx.Response, status: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["error"], str) and body["error"]
    for word in words:
        assert word in body["error"], body
    return body


# --- liveness and auth -----------------------------------------------------------------------


@contextmanager
def dedup_serve(*args: str) -> Iterator[Callable[[str], list[str]]]:
    """``dedup gate serve`` with ``args`` in a subprocess, until the block ends; yields a
    function that waits (60 s at most) for a stderr line starting with a prefix and returns
    the lines so far."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dedup", "gate", "serve", *args],
        env={**os.environ, "DEDUP_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    changed = threading.Condition()

    def read() -> None:
        for line in proc.stderr:
            with changed:
                lines.append(line.rstrip("\n"))
                changed.notify_all()

    def wait_for(prefix: str) -> list[str]:
        with changed:
            found = changed.wait_for(lambda: any(x.startswith(prefix) for x in lines), 60)
        assert found, "\n".join(lines)
        return list(lines)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield wait_for
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.slow
def test_gate_serve_says_where_it_listens_once_it_answers(tmp_path):
    index = tmp_path / "index.db"
    with Gate(index) as gate:
        gate.add({"id": "one", "text": article("ready")})
    port = free_port()
    with dedup_serve("--index", str(index), "--port", str(port)) as wait_for:
        lines = wait_for("dedup gate ready")
        expected = f"dedup gate ready on http://127.0.0.1:{port} (index {index}, 1 document)"
        assert expected in lines
        # Ready means answering: no retry.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_healthz_needs_no_token(server):
    r = httpx.get(f"{server.url}/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


PROTECTED = [
    ("POST", "/check", {"id": "auth-check", "text": "Some text to check."}),
    ("POST", "/documents", {"id": "auth-add", "text": "Some text to add."}),
    ("GET", "/documents/auth-add", None),
    ("DELETE", "/documents/auth-add", None),
    ("GET", "/stats", None),
]
BAD_AUTH = {
    "missing": None,
    "wrong token": "Bearer not-the-token",
    "token prefix": f"Bearer {TOKEN[:-1]}",
    "token plus": f"Bearer {TOKEN}x",
    "no scheme": TOKEN,
    "basic": "Basic dXNlcjpwYXNz",
    "bare scheme": "Bearer",
    "non-ascii": "Bearer tök",
}


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
@pytest.mark.parametrize("auth", list(BAD_AUTH.values()), ids=list(BAD_AUTH))
def test_protected_routes_need_the_token(server, method, path, body, auth):
    headers = {} if auth is None else {"Authorization": auth.encode("utf-8")}
    r = httpx.request(method, server.url + path, json=body, headers=headers)
    assert_error(r, 401, "bearer token")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_rejected_add_adds_nothing_and_the_scheme_is_case_insensitive(server, client):
    doc = {"id": "auth-probe", "text": article("auth-probe")}
    r = httpx.post(f"{server.url}/documents", json=doc, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert client.get(path_of("auth-probe")).status_code == 404
    r = httpx.post(
        f"{server.url}/documents", json=doc, headers={"Authorization": f"bearer {TOKEN}"}
    )
    assert r.status_code == 200, r.text
    assert client.get(path_of("auth-probe")).status_code == 200


# --- verdicts ------------------------------------------------------------------------------------

SEED_SOURCES = {
    "000": [],
    "001": ["000"],
    "002": ["001"],
    "003": ["002"],
    "004": ["001", "002", "003"],
}


def test_seed_verdicts_in_file_order(client):
    before = count(client)
    for prefix, sources in SEED_SOURCES.items():
        name = seed_id(prefix)
        r = client.post("/documents", json={"id": name, "text": (SEEDS / name).read_text()})
        assert r.status_code == 200, r.text
        verdict = r.json()
        assert verdict["id"] == name
        assert verdict["verdict"] == ("syndicated" if sources else "new"), verdict
        assert sorted(verdict["syndicated_from"]) == [seed_id(p) for p in sources]
        assert verdict["duplicate_of"] is None
        assert (verdict["status"], verdict["added"]) == ("added", True)
    assert count(client) == before + 5

    first = seed_id("000")
    r = client.post("/documents", json={"id": first, "text": (SEEDS / first).read_text()})
    assert r.status_code == 200, r.text
    again = r.json()
    assert (again["verdict"], again["duplicate_of"]) == ("duplicate", first)
    assert (again["status"], again["added"]) == ("exists", False)
    assert count(client) == before + 5


def test_check_does_not_add(client):
    text = article("check-original")
    assert client.post("/documents", json={"id": "check/original", "text": text}).status_code == 200
    before = count(client)

    r = client.post("/check", json={"id": "check/copy", "text": text})
    assert r.status_code == 200, r.text
    verdict = r.json()
    assert (verdict["verdict"], verdict["duplicate_of"]) == ("duplicate", "check/original")
    assert (verdict["status"], verdict["added"]) == ("checked", False)
    assert verdict["matches"][0]["passages"], verdict

    r = client.post(
        "/check",
        json={
            "documents": [
                {"id": "check/copy", "text": text},
                {"id": "check/other", "text": article("check-other")},
            ]
        },
    )
    assert r.status_code == 200, r.text
    answers = r.json()
    assert [v["verdict"] for v in answers["verdicts"]] == ["duplicate", "new"]
    assert answers["errors"] == 0
    assert client.get(path_of("check/copy")).status_code == 404
    assert client.get(path_of("check/other")).status_code == 404
    assert count(client) == before


def test_writes_are_serialised_so_concurrent_copies_see_each_other(server):
    text = article("concurrent", 280)  # long enough that checks overlap without the lock
    clients = [
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        for _ in range(8)
    ]
    for c in clients:
        assert c.get("/stats").status_code == 200  # connect before the race
    start = threading.Barrier(len(clients))

    def add(i: int) -> str:
        start.wait()
        r = clients[i].post("/documents", json={"id": f"concurrent-{i}", "text": text})
        assert r.status_code == 200, r.text
        return r.json()["verdict"]

    try:
        with ThreadPoolExecutor(len(clients)) as pool:
            verdicts = list(pool.map(add, range(len(clients))))
    finally:
        for c in clients:
            c.close()
    assert sorted(verdicts) == ["duplicate"] * (len(clients) - 1) + ["new"]


# --- documents by id -------------------------------------------------------------------------

ODD_ID = "feeds/wire feed.jsonl#12?x=1&y=%41"


@pytest.mark.parametrize("safe", ["", "/"], ids=["all-encoded", "raw-slashes"])
def test_get_and_delete_round_trip(client, safe):
    doc_id = f"{safe or 'enc'}/{ODD_ID}"
    text = article(doc_id)
    meta = {"title": "A title", "url": "https://example.com/a", "date": "2024-05-01", "source": "X"}
    r = client.post("/documents", json={"id": doc_id, "text": text, **meta})
    assert r.status_code == 200, r.text
    path = "/documents/" + quote(doc_id, safe=safe)

    r = client.get(path)
    assert r.status_code == 200, r.text
    record = r.json()
    assert (record["id"], record["text"]) == (doc_id, text)
    assert {k: record[k] for k in meta} == meta
    assert isinstance(record["removed"], list)

    r = client.delete(path)
    assert r.status_code == 204
    assert r.content == b""
    assert_error(client.get(path), 404, "no document")
    assert_error(client.delete(path), 404, "no document")


@pytest.mark.parametrize("path", ["/documents/never-added", "/documents/%00", "/documents/%FF%FE"])
def test_unknown_ids_are_404(client, path):
    assert_error(client.get(path), 404)
    assert_error(client.delete(path), 404)


def test_conflict_then_update_replaces(client):
    first, second = article("conflict-a"), article("conflict-b")
    assert client.post("/documents", json={"id": "conflict-1", "text": first}).status_code == 200
    before = count(client)

    body = assert_error(
        client.post("/documents", json={"id": "conflict-1", "text": second}), 409, "conflict-1"
    )
    assert "update=true" in body["detail"]["hint"]
    assert client.get(path_of("conflict-1")).json()["text"] == first

    r = client.post("/documents", json={"id": "conflict-1", "text": first})
    assert r.json()["status"] == "exists"

    r = client.post(
        "/documents", params={"update": "true"}, json={"id": "conflict-1", "text": second}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["added"]) == ("updated", True)
    assert client.get(path_of("conflict-1")).json()["text"] == second
    assert count(client) == before


def test_batch_add_answers_each_document(client):
    assert (
        client.post("/documents", json={"id": "batch-c", "text": article("b-c")}).status_code == 200
    )
    r = client.post(
        "/documents",
        json={
            "documents": [
                {"id": "batch-1", "text": article("b-1")},
                {"id": "batch-c", "text": article("b-c-changed")},
                {"id": "batch-2", "text": article("b-2")},
            ]
        },
    )
    assert r.status_code == 200, r.text
    answers = r.json()
    assert answers["errors"] == 1
    one, conflict, two = answers["verdicts"]
    assert (one["id"], one["status"], two["id"], two["status"]) == (
        "batch-1",
        "added",
        "batch-2",
        "added",
    )
    assert (conflict["id"], conflict["error"], conflict["status_code"]) == (
        "batch-c",
        "conflict",
        409,
    )
    assert client.get(path_of("batch-2")).status_code == 200


# --- limits ------------------------------------------------------------------------------------


def padded(doc_id: str, padding: int) -> bytes:
    """A valid, small document followed by JSON white space: only the byte count is wrong."""
    return json.dumps({"id": doc_id, "text": article(doc_id)}).encode() + b" " * padding


def test_body_over_the_limit_with_content_length(client):
    body = padded("big-declared", MAX_BODY)
    r = client.post("/documents", content=body, headers=JSON)
    assert int(r.request.headers["content-length"]) == len(body)
    assert_error(r, 413, "request body too large", f"{MAX_BODY:,}")
    assert client.get(path_of("big-declared")).status_code == 404
    assert (
        client.post("/documents", content=padded("small-declared", 10), headers=JSON).status_code
        == 200
    )


def test_body_over_the_limit_chunked_without_content_length(client):
    def chunks() -> Iterator[bytes]:
        yield padded("big-chunked", 0)
        for _ in range(MAX_BODY // 10_000 + 2):
            yield b" " * 10_000

    r = client.post("/documents", content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert_error(r, 413, "request body too large")
    assert client.get(path_of("big-chunked")).status_code == 404

    def small() -> Iterator[bytes]:
        yield padded("small-chunked", 0)
        yield b" " * 1000

    assert client.post("/documents", content=small(), headers=JSON).status_code == 200


def test_document_over_the_size_limit(client):
    text = "word " * (MAX_DOC // 5 + 100)
    r = client.post("/documents", json={"id": "big-document", "text": text})
    body = assert_error(r, 413, "big-document", f"{MAX_DOC:,}")
    assert body["detail"]["max_document_bytes"] == MAX_DOC
    assert client.get(path_of("big-document")).status_code == 404


@pytest.mark.parametrize("route", ["/check", "/documents"])
def test_batch_over_the_limit(client, route):
    docs = [{"id": f"batch-over-{i}", "text": article(f"bo{i}", 2)} for i in range(MAX_BATCH + 1)]
    body = assert_error(client.post(route, json={"documents": docs}), 413, f"limit of {MAX_BATCH}")
    assert body["detail"] == {"max_batch": MAX_BATCH}
    assert client.get(path_of("batch-over-0")).status_code == 404
    r = client.post(route, json={"documents": docs[:MAX_BATCH]})
    assert r.status_code == 200 and len(r.json()["verdicts"]) == MAX_BATCH


# --- malformed input -------------------------------------------------------------------------


def test_malformed_json_is_400(client):
    assert_error(
        client.post("/documents", content=b'{"id": "m", "text": "abc', headers=JSON),
        400,
        "malformed JSON",
    )


def test_invalid_utf8_is_400(client):
    body = b'{"id": "utf8", "text": "caf\xe9 au lait, said the minister on Monday."}'
    assert_error(client.post("/documents", content=body, headers=JSON), 400, "UTF-8")


def test_body_that_is_not_json_is_415(client):
    r = client.post(
        "/check",
        content=b"id=a&text=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(r, 415, "Content-Type: application/json")


MALFORMED = {
    "binary garbage": (b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00", 400),
    "truncated": (b'{"id": "t", "text": "abc', 400),
    "empty body": (b"", 422),
    "white space": (b"   \n", 400),
    "a list": (b'[{"id": "l", "text": "abc def"}]', 422),
    "a number": (b"42", 422),
    "a string": (b'"text"', 422),
    "null": (b"null", 422),
    "nested too deep": (b"[" * 30_000 + b"]" * 30_000, 400),
    "nested object": (b'{"id": "n", "text": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001, 400),
    "huge integer": (b'{"id": 1' + b"0" * 5000 + b', "text": "abc"}', 400),
    "huge float": (b'{"id": "f", "text": 1e999}', 422),
    "NaN": (b'{"id": "nan", "text": NaN}', 422),
    "null text": (b'{"id": "nt", "text": null}', 422),
    "no text": (b'{"id": "nx"}', 422),
    "no id": (b'{"text": "Some article text."}', 422),
    "null id": (b'{"id": null, "text": "Some article text."}', 422),
    "empty id": (b'{"id": " ", "text": "Some article text."}', 422),
    "bool id": (b'{"id": true, "text": "Some article text."}', 422),
    "text a list": (b'{"id": "tl", "text": ["a", "b"]}', 422),
    "text a number": (b'{"id": "tn", "text": 12}', 422),
    "empty text": (b'{"id": "te", "text": ""}', 422),
    "blank text": (b'{"id": "tb", "text": " \\n\\t "}', 422),
    "title an object": (b'{"id": "to", "text": "Some text.", "title": {"a": 1}}', 422),
    "lone surrogate in text": (b'{"id": "ls", "text": "abc \\ud800 def"}', 422),
    "lone surrogate in id": (b'{"id": "\\udfff", "text": "Some article text."}', 422),
    "control characters": (b'{"id": "cc", "text": "\\u0001\\u0002\\u0003\\u0004\\u0005"}', 422),
    "invalid utf-8 in a string": (b'{"id": "iu", "text": "\xc3\x28 \xa0\xa1"}', 400),
    "documents a string": (b'{"documents": "abc"}', 422),
    "documents null": (b'{"documents": null}', 422),
    "documents of numbers": (b'{"documents": [1, 2]}', 422),
    "one bad document in a batch": (
        b'{"documents": [{"id": "ok", "text": "Fine text."}, {"id": "bad", "text": 3}]}',
        422,
    ),
    "id too long": (json.dumps({"id": "i" * 5000, "text": "Some text."}).encode(), 422),
}


@pytest.mark.parametrize("route", ["/check", "/documents"])
@pytest.mark.parametrize(("body", "status"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_bodies_are_4xx_json(client, route, body, status):
    before = count(client)
    r = client.post(route, content=body, headers=JSON)
    assert_error(r, status)
    assert count(client) == before


def test_validation_errors_name_the_field(client):
    body = assert_error(client.post("/check", json={"id": "vf", "text": None}), 422, "text")
    assert body["detail"][0]["loc"] == ["body", "text"]
    body = assert_error(client.post("/check", json={"documents": [{"id": "vf"}]}), 422)
    assert body["detail"][0]["loc"] == ["body", "documents", 0, "text"]


# --- the API description and the log -----------------------------------------------------------


def test_openapi_needs_the_token_and_no_page_loads_a_cdn(server, client):
    assert_error(httpx.get(f"{server.url}/openapi.json"), 401, "missing bearer token")
    assert client.get("/openapi.json").status_code == 200
    # Swagger UI and ReDoc load their scripts from a CDN: not served at all.
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path


def test_openapi_lists_the_routes(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    methods = {path: set(ops) for path, ops in schema["paths"].items()}
    assert methods == {
        "/check": {"post"},
        "/documents": {"post"},
        "/documents/{doc_id}": {"get", "delete"},
        "/stats": {"get"},
        "/healthz": {"get"},
        "/readyz": {"get"},
        "/metrics": {"get"},
    }
    names = set(schema["components"]["schemas"])
    assert {"DocumentIn", "BatchIn", "Verdict", "VerdictsOut", "ErrorOut", "RecordOut"} <= names
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/stats"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]
    assert "security" not in schema["paths"]["/readyz"]["get"]
    assert schema["paths"]["/metrics"]["get"]["security"] == [{"HTTPBearer": []}]


@pytest.mark.parametrize("record", [Verdict, Match, MatchPassage])
def test_openapi_describes_every_field_of_a_verdict(client, record):
    # The answers are the gate's dataclasses: a field added to one is described without a
    # change in the server.
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    described = schemas[record.__name__]
    assert list(described["properties"]) == [field.name for field in fields(record)]
    assert described["description"].startswith(record.__doc__.strip().splitlines()[0])


def test_openapi_answers_of_check_and_add_are_a_verdict_or_a_batch(client):
    schema = client.get("/openapi.json").json()
    for route in ("/check", "/documents"):
        answer = schema["paths"][route]["post"]["responses"]["200"]["content"]["application/json"]
        refs = {option["$ref"] for option in answer["schema"]["anyOf"]}
        assert refs == {"#/components/schemas/Verdict", "#/components/schemas/VerdictsOut"}
    batch = schema["components"]["schemas"]["VerdictsOut"]["properties"]["verdicts"]["items"]
    refs = {option["$ref"] for option in batch["anyOf"]}
    assert refs == {"#/components/schemas/Verdict", "#/components/schemas/ItemErrorOut"}


def test_the_token_is_never_logged(server, client):
    probe = "Bearer wrong-" + secrets.token_hex(8)
    httpx.get(f"{server.url}/stats", headers={"Authorization": probe})
    assert client.get("/stats?marker=token-log-test").status_code == 200
    deadline = time.monotonic() + 5
    while "marker=token-log-test" not in (log := server.log.read_text()):
        assert time.monotonic() < deadline, log
        time.sleep(0.05)
    assert TOKEN not in log
    assert probe.split()[1] not in log


# --- without the subprocess: configuration and server-side failures ------------------------------


def test_token_comes_from_argument_then_file_then_env(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("  from-file\n")
    monkeypatch.setenv("DEDUP_TOKEN", " from-env ")
    assert resolve_token("from-arg", token_file) == "from-arg"
    assert resolve_token(None, token_file) == "from-file"
    assert resolve_token(None, None) == "from-env"


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "set DEDUP_TOKEN or --token-file"), ("", "is empty"), ("missing", "cannot read")],
)
def test_no_token_is_a_config_error(tmp_path, monkeypatch, content, message):
    monkeypatch.delenv("DEDUP_TOKEN", raising=False)
    token_file = None
    if content == "":
        token_file = tmp_path / "token"
        token_file.write_text("\n")
    elif content == "missing":
        token_file = tmp_path / "no-such-file"
    with pytest.raises(ConfigError, match=message):
        resolve_token(None, token_file)
    with pytest.raises(ConfigError, match=message):
        run(tmp_path / "index.db", token_file=token_file, port=free_port())
    assert not (tmp_path / "index.db").exists()


def test_busy_port_is_a_config_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            run(tmp_path / "index.db", port=port, token="t")
    assert not (tmp_path / "index.db").exists()


def test_create_app_rejects_bad_settings(tmp_path):
    with Gate(tmp_path / "index.db") as gate:
        with pytest.raises(ConfigError, match="token"):
            create_app(gate, token=" ")
        with pytest.raises(ConfigError, match=r"max_batch must be .* got 0"):
            create_app(gate, token="t", max_batch=0)
        with pytest.raises(ConfigError, match="max_body_bytes"):
            create_app(gate, token="t", max_body_bytes=-1)


def test_missing_fastapi_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['fastapi'] = None\n"
        "import dedup\n"
        "from dedup.errors import ConfigError\n"
        "try:\n"
        "    import dedup.gate.server\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "the HTTP service needs fastapi, uvicorn and prometheus-client: pip install 'dedup[server]'"
    )


def test_serve_without_fastapi_exits_1_as_spark_without_pyspark(tmp_path):
    # Exit code 1, as every missing extra (tests/test_spark.py): not a usage error.
    code = (
        "import sys; sys.modules['fastapi'] = None; from dedup.cli import main; "
        f"sys.argv = ['dedup', 'gate', 'serve', '--index', {str(tmp_path / 'i.db')!r}]; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == (
        "Error: the HTTP service needs fastapi, uvicorn and prometheus-client: pip install 'dedup[server]'\n"
    )
    assert list(tmp_path.iterdir()) == []


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve ``app`` from a thread of this process (so a test can break its gate)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_unreachable_index_is_503(tmp_path):
    gate = Gate(tmp_path / "index.db")
    app = create_app(gate, token="t")
    gate.close()
    auth = {"Authorization": "Bearer t"}
    with serving(app) as url:
        assert_error(httpx.get(f"{url}/stats", headers=auth), 503, "index unavailable")
        assert_error(httpx.get(f"{url}/healthz"), 503, "index unavailable")
        doc = {"id": "s", "text": article("s")}
        assert_error(httpx.post(f"{url}/documents", json=doc, headers=auth), 503)
        assert_error(httpx.post(f"{url}/check", json={"documents": [doc]}, headers=auth), 503)


class LocatedGate:
    """A gate that only answers its stats, with the index location it was given."""

    config = ScanConfig()

    def __init__(self, location: str) -> None:
        self.location = location

    def stats(self):
        return {
            "documents": 0,
            "index": self.location,
            "backend": "RedisStore",
            "settings": {},
            "bands": 1,
            "rows": 1,
        }


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("redis://:s3cret@db.example:6379/0", "redis://:***@db.example:6379/0"),
        ("redis://user:s3cret@db/1", "redis://user:***@db/1"),
        ("redis://db:6379/0", "redis://db:6379/0"),
        ("/data/index.db", "/data/index.db"),
    ],
)
def test_stats_hide_a_password_in_the_index_url(location, shown):
    app = create_app(LocatedGate(location), token="t")  # type: ignore[arg-type]
    with serving(app) as url:
        r = httpx.get(f"{url}/stats", headers={"Authorization": "Bearer t"})
    assert r.status_code == 200, r.text
    assert r.json()["index"] == shown
    assert "s3cret" not in r.text


@pytest.mark.redis
def test_a_password_in_a_redis_url_is_neither_answered_nor_logged(tmp_path):
    import redis

    password = "s3cret-" + secrets.token_hex(8)
    redis_server = RedisServer(tmp_path)
    try:
        redis.Redis(port=redis_server.port).config_set("requirepass", password)
        index = f"redis://:{password}@127.0.0.1:{redis_server.port}/0"
        with subprocess_server(index, tmp_path / "server.log") as running:
            r = httpx.get(f"{running.url}/stats", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        redis_server.stop()
    log = running.log.read_text()
    assert r.status_code == 200, r.text
    assert r.json()["index"] == f"redis://:***@127.0.0.1:{redis_server.port}/0"
    assert r.json()["backend"] == "RedisStore"
    assert password not in r.text
    assert password not in log


class BrokenGate:
    """A gate with a bug: every check raises."""

    config = ScanConfig()
    location = "broken.db"

    def check(self, document, exclude=""):
        raise RuntimeError("the bug in check")


def test_a_bug_is_a_logged_json_500(caplog):
    app = create_app(BrokenGate(), token="t")  # type: ignore[arg-type]
    with serving(app) as url:
        r = httpx.post(
            f"{url}/check", json={"id": "b", "text": "Text."}, headers={"Authorization": "Bearer t"}
        )
    assert_error(r, 500, "internal error")
    assert "the bug in check" not in r.text
    assert any(
        rec.name == "dedup.gate.server"
        and rec.exc_info
        and "the bug in check" in str(rec.exc_info[1])
        for rec in caplog.records
    )


# --- probes and metrics ---------------------------------------------------------------------


def scrape(client: httpx.Client) -> dict[tuple[str, tuple], float]:
    """The service's metrics, scraped and parsed as Prometheus does: sample (name, labels)
    to value."""
    from prometheus_client.parser import text_string_to_metric_families

    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def test_readyz_needs_no_token_and_says_how_many_documents(server, client):
    r = httpx.get(f"{server.url}/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "documents": count(client)}


def test_metrics_need_the_token(server):
    assert_error(httpx.get(f"{server.url}/metrics"), 401, "missing bearer token")


def test_metrics_count_verdicts_latency_errors_and_the_index(server, client):
    before = scrape(client)
    new = {"id": "metrics-new", "text": article("metrics-new")}
    assert client.post("/check", json=new).json()["verdict"] == "new"
    assert client.post("/documents", json=new).json()["verdict"] == "new"
    assert client.post("/documents", json=new).json()["verdict"] == "duplicate"
    bad = {"documents": [{"id": "metrics-new", "text": article("other")}]}  # a conflict
    assert client.post("/documents", json=bad).json()["errors"] == 1
    assert httpx.get(f"{server.url}/stats").status_code == 401
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("dedup_gate_documents_total", route="check", verdict="new") == 1
    assert grew("dedup_gate_documents_total", route="add", verdict="new") == 1
    assert grew("dedup_gate_documents_total", route="add", verdict="duplicate") == 1
    assert grew("dedup_gate_documents_total", route="add", verdict="error") == 1
    assert grew("dedup_gate_document_seconds_count", route="add") == 3
    assert grew("dedup_gate_document_seconds_sum", route="add") > 0
    assert grew("dedup_gate_http_responses_total", path="/stats", status="401") == 1
    assert grew("dedup_gate_http_responses_total", path="/documents", status="200") == 3
    assert after[("dedup_gate_index_documents", ())] == count(client)


def test_readyz_is_503_until_the_kernels_are_loaded(tmp_path):
    with Gate(tmp_path / "index.db") as gate:
        app = create_app(gate, token="t")
        with serving(app) as url:
            assert_error(httpx.get(f"{url}/readyz"), 503, "not ready")
            assert httpx.get(f"{url}/healthz").status_code == 200  # alive all the same
            gate.warm_up()
            assert httpx.get(f"{url}/readyz").json() == {"status": "ready", "documents": 0}
