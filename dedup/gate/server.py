"""The gate as an HTTP service: FastAPI under uvicorn (``pip install 'dedup[server]'``).

Routes (JSON in and out; every route but ``/healthz`` and the API docs needs
``Authorization: Bearer <token>``):

- ``POST /check``: the verdict for one document, or ``{"documents": [...]}``; adds nothing.
- ``POST /documents``: check and add (``?update=true`` replaces a changed text).
- ``GET /documents/{id}``, ``DELETE /documents/{id}``: one stored document (ids may hold ``/``).
- ``GET /stats``: number of documents and the index parameters.
- ``GET /healthz``: ``{"status": "ok"}`` when the index answers.

Errors are ``{"error": "...", "detail": ...}``: 400 unreadable JSON, 401 no or wrong token,
404 unknown id, 409 same id with another text, 413 body, document or batch too large,
415 not JSON, 422 a document that breaks the schema, 503 the index cannot be reached.

Example::

    from dedup.server import run
    run("index.db", port=8000, token_file=Path("token.txt"))
"""

from __future__ import annotations

import gc
import hmac
import json
import logging
import os
import socket
import threading
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from ..config import ScanConfig
from ..errors import ConfigError, InputError, StoreError
from ..store import ConflictError
from .gate import Gate

try:
    import uvicorn
    from fastapi import FastAPI, HTTPException, Query, Request, Response, Security
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.security import HTTPBearer
    from pydantic import (
        BaseModel,
        ConfigDict,
        Discriminator,
        Field,
        StrictInt,
        StrictStr,
        Tag,
        field_validator,
    )
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ConfigError(
        "the HTTP service needs fastapi and uvicorn: pip install 'dedup[server]'"
    ) from exc

log = logging.getLogger(__name__)

TOKEN_ENV = "DEDUP_TOKEN"
MAX_BODY_BYTES = 5_000_000
MAX_BATCH = 100
MAX_ID_CHARS = 4096
# Reachable without a token: the liveness probe and the API description (a browser opening
# /docs cannot send the header, and the schema holds no data).
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


# --- request and response shapes ------------------------------------------------------------


def _utf8(value: str, name: str) -> str:
    """Reject lone surrogates (JSON ``\\ud800``): the text could never be stored as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{name} holds an unpaired surrogate escape (like \\ud800): not valid Unicode text"
        ) from None
    return value


class DocumentIn(BaseModel):
    """One article to check or add."""

    model_config = ConfigDict(extra="ignore")

    id: StrictStr | StrictInt = Field(
        description="Document id (a string; an integer is read as its decimal string)"
    )
    text: StrictStr = Field(description="Article text (UTF-8); offsets in verdicts refer to it")
    title: StrictStr | StrictInt | None = None
    url: StrictStr | StrictInt | None = None
    date: StrictStr | StrictInt | None = None
    source: StrictStr | StrictInt | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | int) -> str:
        text = _utf8(str(value), "id")
        if not text.strip():
            raise ValueError("id is empty: the gate needs one to answer about the document")
        if len(text) > MAX_ID_CHARS:
            raise ValueError(f"id is {len(text):,} characters long, over {MAX_ID_CHARS:,}")
        return text

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty (only white space)")
        return _utf8(value, "text")

    @field_validator("title", "url", "date", "source")
    @classmethod
    def _meta(cls, value: str | int | None) -> str | None:
        return None if value is None else _utf8(str(value), "a metadata field")

    def record(self) -> dict[str, Any]:
        """The document as the gate's input record."""
        return self.model_dump(exclude_none=True)


class BatchIn(BaseModel):
    """Several articles, answered in order."""

    documents: list[DocumentIn]


def _body_kind(value: Any) -> str:
    """Which shape a body is: a batch when it has ``documents``, otherwise one document."""
    return "batch" if isinstance(value, dict) and "documents" in value else "document"


Body = Annotated[
    Annotated[DocumentIn, Tag("document")] | Annotated[BatchIn, Tag("batch")],
    Discriminator(_body_kind),
]


class _Out(BaseModel):
    # Fields the gate adds later pass through instead of being dropped.
    model_config = ConfigDict(extra="allow")


class PassageOut(_Out):
    """A passage shared with a matched document (character offsets, end exclusive)."""

    start: int
    end: int
    other_start: int
    other_end: int
    words: int
    similarity: float
    excerpt: str


class MatchOut(_Out):
    """An indexed document the incoming one duplicates or shares text with."""

    id: str
    relation: Literal["duplicate", "shares_text"]
    cosine: float
    jaccard: float
    containment: float
    containment_other: float
    coverage: float
    coverage_other: float
    agency: str | None
    passages: list[PassageOut]


class VerdictOut(_Out):
    """The gate's answer for one document."""

    id: str
    verdict: Literal["new", "duplicate", "syndicated"]
    duplicate_of: str | None
    syndicated_from: list[str]
    coverage: float
    agencies: list[str]
    credits: list[str]
    matches: list[MatchOut]
    status: Literal["checked", "added", "exists", "updated"]
    added: bool


class ItemErrorOut(_Out):
    """A document of a batch the gate refused (the others were answered)."""

    id: str
    error: str
    detail: str
    status_code: int


class VerdictsOut(_Out):
    """The answers for a batch, in request order; ``errors`` counts refused documents."""

    verdicts: list[VerdictOut | ItemErrorOut]
    errors: int


class RecordOut(_Out):
    """A stored document."""

    id: str
    text: str
    removed: list[list[int]]
    title: str | None = None
    url: str | None = None
    date: str | None = None
    source: str | None = None
    credits: list[str] = []


class StatsOut(_Out):
    """The index: document count, location and parameters."""

    documents: int
    index: str
    backend: str
    settings: dict[str, Any]
    bands: int
    rows: int


class ErrorOut(BaseModel):
    """Every error answer."""

    error: str
    detail: Any = None


class HealthOut(BaseModel):
    """Liveness answer."""

    status: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 415, 422, 503)
}


# --- helpers ---------------------------------------------------------------------------------


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _error(status: int, error: str, detail: Any = None, headers: dict | None = None) -> Response:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _redacted(location: str) -> str:
    """An index location without a password (a redis:// URL may carry one)."""
    if "://" not in location:
        return location
    parts = urlsplit(location)
    if parts.password is None:
        return location
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def _parse_problem(cause: BaseException | None) -> str:
    """Why the body could not be parsed as JSON, from the exception FastAPI chained."""
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not valid UTF-8 ({cause.reason} at byte {cause.start})"
    if isinstance(cause, RecursionError):
        return "the JSON is nested too deeply"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "a number in the JSON has too many digits"
    return "the body cannot be parsed as JSON"


def _validation_detail(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors without the offending input (it may be huge, or NaN: not JSON)."""
    return [
        {
            "loc": [part for part in e.get("loc", ()) if part not in ("document", "batch")],
            "msg": str(e.get("msg", "")).removeprefix("Value error, "),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


_SHAPES = 'one document {"id": ..., "text": ...} or {"documents": [...]}'


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


# --- the raw ASGI layer: auth, body limit, last-resort errors -------------------------------


class _Guard:
    """ASGI middleware in front of the app.

    Checks the bearer token before anything is read, buffers the body while counting the
    bytes actually received (a missing or lying Content-Length cannot get past the limit),
    and turns an unexpected exception into a logged JSON 500.
    """

    def __init__(self, app: Any, *, token: str, max_body_bytes: int) -> None:
        self.app = app
        self._token = token.encode("utf-8")
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        has_body = b"content-length" in headers or b"transfer-encoding" in headers
        if path not in PUBLIC_PATHS:
            problem = self._auth_problem(headers.get(b"authorization"))
            if problem:
                challenge = 'Bearer realm="dedup"'
                if problem != "missing":
                    challenge += ', error="invalid_token"'
                await self._reject(
                    send,
                    401,
                    "missing bearer token" if problem == "missing" else "invalid bearer token",
                    "send the header 'Authorization: Bearer <token>'",
                    close=has_body,
                    extra=[(b"www-authenticate", challenge.encode())],
                )
                return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(send, None)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        started = False

        async def tracked_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracked_send)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), path)
            if not started:
                await self._reject(send, 500, "internal error", "the server log has the details")

    def _auth_problem(self, header: bytes | None) -> str | None:
        if not header:
            return "missing"
        scheme, _, presented = header.strip().partition(b" ")
        if scheme.lower() != b"bearer" or not presented.strip():
            return "invalid"
        if not hmac.compare_digest(presented.strip(), self._token):
            return "invalid"
        return None

    async def _too_large(self, send: Any, declared: int | None) -> None:
        size = f"{declared:,} bytes" if declared is not None else "more bytes"
        await self._reject(
            send,
            413,
            f"request body too large: {size}, the limit is {self.max_body_bytes:,}",
            {"max_body_bytes": self.max_body_bytes},
            close=True,
        )

    @staticmethod
    async def _reject(
        send: Any,
        status: int,
        error: str,
        detail: Any,
        *,
        close: bool = False,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        body = _json_bytes({"error": error, "detail": detail})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *(extra or []),
        ]
        if close:
            # The rest of the body is never read: the connection cannot carry another request.
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# --- the application --------------------------------------------------------------------------


def create_app(
    gate: Gate,
    *,
    token: str,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
) -> FastAPI:
    """The HTTP API over an open gate.

    Args:
        gate: The index to answer from (the caller closes it).
        token: The bearer token every request but ``/healthz`` must carry.
        max_body_bytes: Largest request body accepted (413 above it).
        max_batch: Most documents in one ``{"documents": [...]}`` request (413 above it).

    Raises:
        ConfigError: an empty token or a limit below 1.
    """
    if not isinstance(token, str) or not token.strip():
        raise ConfigError(f"the service needs a non-empty token: set {TOKEN_ENV} or --token-file")
    for name, value in (("max_body_bytes", max_body_bytes), ("max_batch", max_batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")

    app = FastAPI(
        title="dedup gate",
        summary="Near-duplicate and syndication verdicts for incoming news articles.",
        version=_version(),
    )
    # The guard (in _Guard) checks the token; this only documents the scheme in /openapi.json.
    bearer = Security(HTTPBearer(auto_error=False, description="The service token"))
    protected: dict[str, Any] = {"responses": _ERRORS, "dependencies": [bearer]}
    # Verdicts of concurrent adds see each other: one add (or remove) at a time per process.
    writes = threading.Lock()
    max_doc_bytes = gate.config.max_file_bytes

    def documents_of(body: DocumentIn | BatchIn) -> list[DocumentIn]:
        docs = body.documents if isinstance(body, BatchIn) else [body]
        if isinstance(body, BatchIn) and len(docs) > max_batch:
            raise _Refused(
                413,
                f"batch of {len(docs)} documents is over the limit of {max_batch}",
                {"max_batch": max_batch},
            )
        for doc in docs:
            size = len(doc.text.encode("utf-8"))
            if size > max_doc_bytes:
                raise _Refused(
                    413,
                    f"document {doc.id!r} is {size:,} bytes, over the limit of {max_doc_bytes:,}",
                    {"id": doc.id, "max_document_bytes": max_doc_bytes},
                )
        return docs

    def answer(body: DocumentIn | BatchIn, one: Any) -> dict[str, Any]:
        docs = documents_of(body)
        if not isinstance(body, BatchIn):
            return one(docs[0].record())
        verdicts: list[dict[str, Any]] = []
        errors = 0
        for doc in docs:
            try:
                verdicts.append(one(doc.record()))
            except ConflictError as exc:
                verdicts.append(_item_error(doc.id, "conflict", exc, 409))
                errors += 1
            except InputError as exc:
                verdicts.append(_item_error(doc.id, "invalid document", exc, 422))
                errors += 1
            except StoreError as exc:
                done = len(verdicts)
                raise _Refused(
                    503,
                    f"index unavailable: {exc}",
                    {"answered_before_error": done, "failed_id": doc.id},
                ) from exc
        return {"verdicts": verdicts, "errors": errors}

    @app.post(
        "/check",
        response_model=VerdictOut | VerdictsOut,
        **protected,
        summary="Verdict for one document or a batch, without adding anything",
    )
    def check(body: Body) -> dict[str, Any]:
        return answer(body, gate.check)

    @app.post(
        "/documents",
        response_model=VerdictOut | VerdictsOut,
        **protected,
        summary="Check and add one document or a batch",
    )
    def add(
        body: Body,
        update: Annotated[
            bool, Query(description="Replace a document whose id is indexed with another text")
        ] = False,
    ) -> dict[str, Any]:
        def one(record: dict[str, Any]) -> dict[str, Any]:
            with writes:
                return gate.add(record, update=update)

        return answer(body, one)

    @app.get(
        "/documents/{doc_id:path}",
        response_model=RecordOut,
        **protected,
        summary="A stored document",
    )
    def get(doc_id: str) -> dict[str, Any]:
        record = gate.get(doc_id)
        if record is None:
            raise HTTPException(404, f"no document {doc_id!r} in the index")
        return record

    @app.delete(
        "/documents/{doc_id:path}",
        status_code=204,
        response_class=Response,
        **protected,
        summary="Remove a document",
    )
    def remove(doc_id: str) -> Response:
        with writes:
            removed = gate.remove(doc_id)
        if not removed:
            raise HTTPException(404, f"no document {doc_id!r} in the index")
        return Response(status_code=204)

    @app.get(
        "/stats",
        response_model=StatsOut,
        **protected,
        summary="Document count and index parameters",
    )
    def stats() -> dict[str, Any]:
        found = gate.stats()
        found["index"] = _redacted(str(found.get("index", "")))
        return found

    @app.get(
        "/healthz",
        response_model=HealthOut,
        responses={503: {"model": ErrorOut}},
        summary="Liveness: ok when the index answers (no token needed)",
    )
    def healthz() -> dict[str, Any]:
        gate.stats()  # a StoreError here becomes a 503
        return {"status": "ok"}

    _install_handlers(app)
    app.add_middleware(_Guard, token=token, max_body_bytes=max_body_bytes)
    return app


class _Refused(Exception):
    """A request refused with a status, a message and a detail."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


def _item_error(doc_id: str, kind: str, exc: Exception, status: int) -> dict[str, Any]:
    return {"id": doc_id, "error": kind, "detail": str(exc), "status_code": status}


def _install_handlers(app: FastAPI) -> None:
    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _Refused)
        return _error(exc.status, exc.error, exc.detail)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json is not None:
            where = bad_json.get("loc", ("body", "?"))[-1]
            why = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
            return _error(400, f"malformed JSON: {why} (character {where})")
        if request.method == "POST" and not _is_json(request.headers.get("content-type")):
            return _error(
                415,
                "the body must be JSON: send it with 'Content-Type: application/json'",
                {"content_type": request.headers.get("content-type")},
            )
        detail = _validation_detail(errors)
        first = detail[0] if detail else {"loc": [], "msg": "invalid request", "type": ""}
        if first["loc"] == ["body"] and first["type"] in ("model_attributes_type", "dict_type"):
            return _error(422, f"the body must be a JSON object: {_SHAPES}", detail)
        where = ".".join(str(p) for p in first["loc"])
        return _error(422, f"invalid request: {where}: {first['msg']}", detail)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = str(exc.detail)
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message = _parse_problem(exc.__cause__)
        return _error(exc.status_code, message, None, getattr(exc, "headers", None))

    async def conflict(request: Request, exc: Exception) -> Response:
        return _error(409, str(exc), {"hint": "add with ?update=true to replace the text"})

    async def bad_document(request: Request, exc: Exception) -> Response:
        return _error(422, str(exc))

    async def store_down(request: Request, exc: Exception) -> Response:
        log.error("index unavailable: %s", exc)
        return _error(503, f"index unavailable: {exc}")

    app.add_exception_handler(_Refused, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(InputError, bad_document)
    app.add_exception_handler(StoreError, store_down)


def _version() -> str:
    try:
        return metadata.version("dedup")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "0+unknown"


# --- running it ---------------------------------------------------------------------------------


def resolve_token(token: str | None = None, token_file: Path | None = None) -> str:
    """The service token: ``token``, else the stripped content of ``token_file``, else the
    ``DEDUP_TOKEN`` environment variable.

    Raises:
        ConfigError: none of them gives a non-empty token, or the file cannot be read.
    """
    if token is not None and token.strip():
        return token.strip()
    if token_file is not None:
        try:
            found = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ConfigError(f"cannot read the token file {token_file}: {reason}") from None
        if not found:
            raise ConfigError(f"the token file {token_file} is empty: write the token into it")
        return found
    found = os.environ.get(TOKEN_ENV, "").strip()
    if found:
        return found
    raise ConfigError(f"the service needs a token: set {TOKEN_ENV} or --token-file")


def _listen(host: str, port: int) -> socket.socket:
    """A bound listening socket (binding here turns a busy port into a ConfigError)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be between 0 and 65535, got {port!r}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another server on it?)"
        ) from None
    sock.set_inheritable(True)
    return sock


def run(
    index: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    token_file: Path | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
    config: ScanConfig | None = None,
    log_level: str = "info",
    gate_options: dict[str, Any] | None = None,
) -> None:
    """Serve the gate over HTTP until interrupted (SIGINT or SIGTERM), then close the index.

    Args:
        index: The index: a file path (SQLite) or a ``redis://`` URL.
        host: Address to listen on (loopback by default).
        port: TCP port (0 picks a free one; the log says which).
        token: The bearer token; else read from ``token_file``; else ``$DEDUP_TOKEN``.
        token_file: A file holding the token (surrounding white space ignored).
        max_body_bytes: Largest request body accepted.
        max_batch: Most documents in one batch request.
        config: Matching parameters (see :class:`~dedup.gate.Gate`).
        log_level: uvicorn's log level (``critical`` .. ``trace``).
        gate_options: More keyword arguments of :class:`~dedup.gate.Gate` (for example
            ``max_candidates``).

    Raises:
        ConfigError: no token, a bad limit or port, the address in use, or index
            parameters that differ from the index's.
        StoreError: the index cannot be opened.
    """
    secret = resolve_token(token, token_file)
    sock = _listen(host, port)
    try:
        gate = Gate(index, config, **(gate_options or {}))
    except BaseException:
        sock.close()
        raise
    try:
        gate.warm_up()
        # The start-up's objects (modules, compiled kernels) stay out of the collector's
        # full passes, which walked them for 50-90 ms every few hundred checks.
        gc.freeze()
        app = create_app(gate, token=secret, max_body_bytes=max_body_bytes, max_batch=max_batch)
        bound = sock.getsockname()
        log.info("dedup gate: index %s on http://%s:%s", _redacted(str(index)), host, bound[1])
        server = uvicorn.Server(
            uvicorn.Config(app, log_level=log_level, server_header=False, lifespan="off")
        )
        server.run(sockets=[sock])
    finally:
        gc.unfreeze()
        sock.close()
        gate.close()
