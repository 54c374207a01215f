"""The raw ASGI layer in front of the HTTP service (:func:`dedup.gate.server.create_app`
installs it): the bearer token, the request body limit, and last-resort errors.

It works on ASGI messages rather than FastAPI requests so that a request without the token is
refused before its body is read, and so that the body limit counts the bytes actually received
(a missing or lying Content-Length cannot get past it).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .http_metrics import Metrics

# The service logs under one name, the one its operators configure, whichever module writes.
log = logging.getLogger("dedup.gate.server")

# Reachable without a token: the probes of orchestrators (liveness and readiness) and the
# page (static: it asks for the token, then calls the API with it), which hold no data. The
# API description (/openapi.json) needs the token as every other route.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/"})

_TOKEN_HINT = "send the header 'Authorization: Bearer <token>'"


class Guard:
    """ASGI middleware: checks the token, buffers the body up to ``max_body_bytes``, then runs
    the app on the buffered body and turns an exception it lets through into a logged JSON 500.

    Args:
        app: The application behind the guard.
        token: The bearer token every path outside ``PUBLIC_PATHS`` must carry.
        max_body_bytes: Largest request body passed on (413 above it).
        metrics: Where each answer's status is counted (its own 401 and 413 too).
    """

    def __init__(
        self, app: ASGIApp, *, token: str, max_body_bytes: int, metrics: Metrics | None = None
    ) -> None:
        self.app = app
        self._token = token.encode("utf-8")
        self.max_body_bytes = max_body_bytes
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        path = _app_path(scope)
        if self._metrics is not None:
            send = _counting(send, path, self._metrics)
        if path not in PUBLIC_PATHS and not await self._authorised(headers, send):
            return
        body = await self._read_body(headers, receive, send)
        if body is not None:
            await self._serve(scope, path, body, receive, send)

    async def _authorised(self, headers: dict[bytes, bytes], send: Send) -> bool:
        """Whether the request carries the token; if not, answer 401."""
        problem = self._auth_problem(headers.get(b"authorization"))
        if problem is None:
            return True
        challenge = 'Bearer realm="dedup"'
        if problem != "missing":
            challenge += ', error="invalid_token"'
        await send_error(
            send,
            401,
            "missing bearer token" if problem == "missing" else "invalid bearer token",
            _TOKEN_HINT,
            close=b"content-length" in headers or b"transfer-encoding" in headers,
            extra=[(b"www-authenticate", challenge.encode())],
        )
        return False

    def _auth_problem(self, header: bytes | None) -> str | None:
        """``missing``, ``invalid`` or None for a valid ``Authorization`` header."""
        if not header:
            return "missing"
        scheme, _, presented = header.strip().partition(b" ")
        if scheme.lower() != b"bearer" or not presented.strip():
            return "invalid"
        if not hmac.compare_digest(presented.strip(), self._token):
            return "invalid"
        return None

    async def _read_body(
        self, headers: dict[bytes, bytes], receive: Receive, send: Send
    ) -> bytes | None:
        """The whole body, or None when it is too large (answered 413) or the client left."""
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send, int(declared))
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(send, None)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, send: Send, declared: int | None) -> None:
        size = f"{declared:,} bytes" if declared is not None else "more bytes"
        await send_error(
            send,
            413,
            f"request body too large: {size}, the limit is {self.max_body_bytes:,}",
            {"max_body_bytes": self.max_body_bytes},
            close=True,
        )

    async def _serve(
        self, scope: Scope, path: str, body: bytes, receive: Receive, send: Send
    ) -> None:
        """Run the app with ``body`` as its request; an exception becomes a 500 if the answer
        has not started."""
        replayed = False
        started = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracked_send)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), path)
            if not started:
                await send_error(send, 500, "internal error", "the server log has the details")


def _counting(send: Send, path: str, metrics: Metrics) -> Send:
    """``send``, counting the answer's status in ``metrics`` as it starts."""

    async def counted(message: Message) -> None:
        if message["type"] == "http.response.start":
            metrics.responded(path, int(message["status"]))
        await send(message)

    return counted


def _app_path(scope: Scope) -> str:
    """The request path without the ASGI root path (the prefix a proxy mounts the app on)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


async def send_error(
    send: Send,
    status: int,
    error: str,
    detail: Any,
    *,
    close: bool = False,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer ``{"error": ..., "detail": ...}`` with ``status`` (and the ``extra`` headers)."""
    body = json.dumps({"error": error, "detail": detail}, ensure_ascii=False).encode("utf-8")
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
