"""The HTTP service's routes, registered by job: verdicts (``/check``, ``POST /documents``),
stored documents (``GET`` and ``DELETE /documents/{id}``), the index (``/stats``) and the
service (``/healthz``, ``/readyz``, ``/metrics``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Response, Security
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBearer

from ..errors import InputError, StoreError
from ..output.explain import render_explain_page
from ..store import ConflictError, display_location
from .gate import Gate
from .http_errors import Refused
from .http_metrics import Metrics, timed
from .http_models import (
    ERROR_RESPONSES,
    BatchIn,
    Body,
    DocumentIn,
    ErrorOut,
    HealthOut,
    ReadyOut,
    RecordOut,
    StatsOut,
    VerdictAnswer,
)

# The page's other headers: no sniffing, no referrer, not cached (a new version's page).
_PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# Answers one document's record (check or add) with its verdict as JSON.
Answerer = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Limits:
    """How many documents one batch request may hold, and how large one document may be."""

    max_batch: int
    max_document_bytes: int


def add_routes(app: FastAPI, gate: Gate, *, max_batch: int, metrics: Metrics) -> None:
    """Register every route of the service on ``app``, answering from ``gate``."""
    # The guard (http_guard.Guard) checks the token; this only documents the scheme in
    # /openapi.json.
    bearer = Security(HTTPBearer(auto_error=False, description="The service token"))
    protected: dict[str, Any] = {"responses": ERROR_RESPONSES, "dependencies": [bearer]}
    # Verdicts of concurrent adds see each other: one add (or remove) at a time per process.
    writes = threading.Lock()
    app.state.writes = writes  # a scheduled prune removes under it too
    limits = Limits(max_batch, gate.config.max_file_bytes)
    add_verdict_routes(
        app, gate, protected=protected, writes=writes, limits=limits, metrics=metrics
    )
    add_document_routes(app, gate, protected=protected, writes=writes)
    add_index_routes(app, gate, protected=protected)
    add_service_routes(app, gate, protected=protected, metrics=metrics)


def add_verdict_routes(
    app: FastAPI,
    gate: Gate,
    *,
    protected: dict[str, Any],
    writes: threading.Lock,
    limits: Limits,
    metrics: Metrics | None = None,
) -> None:
    """``POST /check`` and ``POST /documents``: the verdict of one document or of a batch
    (each document counted and timed in ``metrics``)."""

    @app.post(
        "/check",
        response_model=VerdictAnswer,
        **protected,
        summary="Verdict for one document or a batch, without adding anything",
    )
    def check(
        body: Body,
        exclude: Annotated[
            str, Query(description="An indexed document's id not to compare with (the page)")
        ] = "",
    ) -> dict[str, Any]:
        def one(record: dict[str, Any]) -> dict[str, Any]:
            return gate.check(record, exclude=exclude).to_dict()

        return _answer(body, timed(metrics, "check", one), limits)

    @app.post(
        "/documents",
        response_model=VerdictAnswer,
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
                return gate.add(record, update=update).to_dict()

        return _answer(body, timed(metrics, "add", one), limits)


def add_document_routes(
    app: FastAPI, gate: Gate, *, protected: dict[str, Any], writes: threading.Lock
) -> None:
    """``GET`` and ``DELETE /documents/{id}`` (ids may hold ``/``)."""

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


def add_index_routes(app: FastAPI, gate: Gate, *, protected: dict[str, Any]) -> None:
    """``GET /stats``."""

    @app.get(
        "/stats",
        response_model=StatsOut,
        **protected,
        summary="Document count and index parameters",
    )
    def stats() -> dict[str, Any]:
        found = gate.stats()
        found["index"] = display_location(str(found.get("index", "")))
        return found


def add_service_routes(
    app: FastAPI, gate: Gate, *, protected: dict[str, Any], metrics: Metrics
) -> None:
    """The probes of orchestrators, ``GET /healthz`` (alive) and ``GET /readyz`` (ready: no
    token), and ``GET /metrics`` for Prometheus (with the token)."""

    @app.get(
        "/healthz",
        response_model=HealthOut,
        responses={503: {"model": ErrorOut}},
        summary="Liveness: ok when the index answers (no token needed)",
    )
    def healthz() -> dict[str, Any]:
        gate.stats()  # a StoreError here becomes a 503
        return {"status": "ok"}

    @app.get(
        "/readyz",
        response_model=ReadyOut,
        responses={503: {"model": ErrorOut}},
        summary="Readiness: the index answers and the compiled kernels are loaded (no token)",
    )
    def readyz() -> dict[str, Any]:
        if not gate.warm:
            raise Refused(503, "not ready: the compiled kernels are not loaded yet")
        return {"status": "ready", "documents": gate.store.count()}

    @app.get(
        "/metrics",
        response_class=Response,
        **protected,
        summary="Counters, latency and index size in the Prometheus text format",
    )
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=metrics.content_type)

    page, csp = render_explain_page(display_location(gate.location))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)  # a page, not the API
    def explain() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": csp, **_PAGE_HEADERS})


def _answer(body: DocumentIn | BatchIn, one: Answerer, limits: Limits) -> dict[str, Any]:
    """The verdict of a document, or ``{"verdicts": [...], "errors": n}`` for a batch, where a
    document the gate refuses is answered by an error item and the others still are."""
    docs = _documents_of(body, limits)
    if not isinstance(body, BatchIn):
        return one(docs[0].record())
    verdicts: list[dict[str, Any]] = []
    errors = 0
    for doc in docs:
        doc_id = str(doc.id)  # a string already: the validator converted an integer id
        try:
            verdicts.append(one(doc.record()))
        except ConflictError as exc:
            verdicts.append(_item_error(doc_id, "conflict", exc, 409))
            errors += 1
        except InputError as exc:
            verdicts.append(_item_error(doc_id, "invalid document", exc, 422))
            errors += 1
        except StoreError as exc:
            done = len(verdicts)
            raise Refused(
                503,
                f"index unavailable: {exc}",
                {"answered_before_error": done, "failed_id": doc_id},
            ) from exc
    return {"verdicts": verdicts, "errors": errors}


def _documents_of(body: DocumentIn | BatchIn, limits: Limits) -> list[DocumentIn]:
    """The body's documents, refused with a 413 when there are too many or one is too large."""
    docs = body.documents if isinstance(body, BatchIn) else [body]
    if isinstance(body, BatchIn) and len(docs) > limits.max_batch:
        raise Refused(
            413,
            f"batch of {len(docs)} documents is over the limit of {limits.max_batch}",
            {"max_batch": limits.max_batch},
        )
    for doc in docs:
        size = len(doc.text.encode("utf-8"))
        if size > limits.max_document_bytes:
            raise Refused(
                413,
                f"document {doc.id!r} is {size:,} bytes, over the limit of "
                f"{limits.max_document_bytes:,}",
                {"id": doc.id, "max_document_bytes": limits.max_document_bytes},
            )
    return docs


def _item_error(doc_id: str, kind: str, exc: Exception, status: int) -> dict[str, Any]:
    """A batch's answer for a document the gate refused."""
    return {"id": doc_id, "error": kind, "detail": str(exc), "status_code": status}
