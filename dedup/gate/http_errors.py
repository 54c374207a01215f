"""How the HTTP service answers a request it refuses: ``{"error": "...", "detail": ...}`` with
the status, for FastAPI's own exceptions (unreadable or invalid bodies, unknown routes) and for
the library's (a conflict, a bad document, an unreachable index)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InputError, StoreError
from ..store import ConflictError

# The service logs under one name, the one its operators configure, whichever module writes.
log = logging.getLogger("dedup.gate.server")

_SHAPES = 'one document {"id": ..., "text": ...} or {"documents": [...]}'


class Refused(Exception):
    """A request refused with a status, a message and a detail (a route raises it)."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


def error_response(
    status: int, error: str, detail: Any = None, headers: Mapping[str, str] | None = None
) -> Response:
    """The JSON answer of a refused request."""
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every exception a route or FastAPI raises with the error shape."""
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(InputError, _bad_document)
    app.add_exception_handler(StoreError, _store_down)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return error_response(exc.status, exc.error, exc.detail)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """400 for JSON that does not parse, 415 for a body that is not JSON, else 422."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        where = bad_json.get("loc", ("body", "?"))[-1]
        why = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
        return error_response(400, f"malformed JSON: {why} (character {where})")
    if request.method == "POST" and not _is_json(request.headers.get("content-type")):
        return error_response(
            415,
            "the body must be JSON: send it with 'Content-Type: application/json'",
            {"content_type": request.headers.get("content-type")},
        )
    detail = _validation_detail(errors)
    first = detail[0] if detail else {"loc": [], "msg": "invalid request", "type": ""}
    if first["loc"] == ["body"] and first["type"] in ("model_attributes_type", "dict_type"):
        return error_response(422, f"the body must be a JSON object: {_SHAPES}", detail)
    where = ".".join(str(p) for p in first["loc"])
    return error_response(422, f"invalid request: {where}: {first['msg']}", detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail)
    if exc.status_code == 400 and message == "There was an error parsing the body":
        message = _parse_problem(exc.__cause__)
    return error_response(exc.status_code, message, None, getattr(exc, "headers", None))


async def _conflict(request: Request, exc: Exception) -> Response:
    return error_response(409, str(exc), {"hint": "add with ?update=true to replace the text"})


async def _bad_document(request: Request, exc: Exception) -> Response:
    return error_response(422, str(exc))


async def _store_down(request: Request, exc: Exception) -> Response:
    log.error("index unavailable: %s", exc)
    return error_response(503, f"index unavailable: {exc}")


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
            # The body's two shapes are tagged "document" and "batch": not a place in the body.
            "loc": [part for part in e.get("loc", ()) if part not in ("document", "batch")],
            "msg": str(e.get("msg", "")).removeprefix("Value error, "),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type is JSON (``application/json`` or ``application/*+json``)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )
