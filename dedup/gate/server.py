"""The gate as an HTTP service: FastAPI under uvicorn (``pip install 'dedup[server]'``).

Routes (JSON in and out; every route but the probes ``/healthz`` and ``/readyz`` needs
``Authorization: Bearer <token>``):

- ``POST /check``: the verdict for one document, or ``{"documents": [...]}``; adds nothing.
- ``POST /documents``: check and add (``?update=true`` replaces a changed text).
- ``GET /documents/{id}``, ``DELETE /documents/{id}``: one stored document (ids may hold ``/``).
- ``GET /stats``: number of documents and the index parameters.
- ``GET /healthz``: ``{"status": "ok"}`` when the index answers (liveness).
- ``GET /readyz``: ``{"status": "ready", "documents": n}`` once the compiled kernels are
  loaded and the index answers, else 503 (readiness).
- ``GET /metrics``: counters, latency and the index's size for Prometheus
  (:mod:`~dedup.gate.http_metrics`).
- ``GET /openapi.json``: the API description (OpenAPI 3). No Swagger UI: it loads its
  scripts from a CDN, blank on an offline host; docs/gate.md describes the routes.

Errors are ``{"error": "...", "detail": ...}``: 400 unreadable JSON, 401 no or wrong token,
404 unknown id, 409 same id with another text, 413 body, document or batch too large,
415 not JSON, 422 a document that breaks the schema, 503 the index cannot be reached.

This module assembles the app and runs it; the parts are ``http_guard`` (token, body limit,
last-resort 500), ``http_routes`` (the routes, by job), ``http_models`` (request and answer
shapes) and ``http_errors`` (the error answers).

Example::

    from dedup.gate.server import run
    run("index.db", port=8000, token_file=Path("token.txt"))
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from ..config import ScanConfig
from ..errors import ConfigError, MissingExtraError
from ..util.version import dedup_version
from ..util.wording import counted
from .gate import Gate

try:
    import prometheus_client  # noqa: F401  (the metrics route's, imported by http_metrics)
    import uvicorn
    from fastapi import FastAPI
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise MissingExtraError(
        "the HTTP service needs fastapi, uvicorn and prometheus-client: pip install 'dedup[server]'"
    ) from exc

# Imported once fastapi is known to be there, so that its absence names the extra above.
from .http_errors import install_error_handlers
from .http_guard import PUBLIC_PATHS, Guard
from .http_metrics import Metrics
from .http_models import MAX_ID_CHARS
from .http_routes import add_routes
from .retention import prune

__all__ = [
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "MAX_ID_CHARS",
    "PUBLIC_PATHS",
    "TOKEN_ENV",
    "create_app",
    "resolve_token",
    "run",
]

log = logging.getLogger(__name__)

TOKEN_ENV = "DEDUP_TOKEN"
MAX_BODY_BYTES = 5_000_000
MAX_BATCH = 100


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
        version=dedup_version(),
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN
        redoc_url=None,
    )
    metrics = Metrics(gate)
    app.state.metrics = metrics  # the scheduled prune counts in it too
    add_routes(app, gate, max_batch=max_batch, metrics=metrics)
    install_error_handlers(app)
    app.add_middleware(Guard, token=token, max_body_bytes=max_body_bytes, metrics=metrics)
    return app


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


def _ready_line(gate: Gate, host: str, port: int) -> str:
    """What the service says once it listens: its URL, its index and how many documents
    that holds."""
    shown = f"[{host}]" if ":" in host else host
    documents = counted(gate.store.count(), "document")
    return f"dedup gate ready on http://{shown}:{port} (index {gate.location}, {documents})"


class _Server(uvicorn.Server):
    """uvicorn's server, saying :func:`_ready_line` on stderr once it accepts connections."""

    def __init__(self, config: uvicorn.Config, ready: str) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self._ready, file=sys.stderr, flush=True)


class _Pruner(threading.Thread):
    """Prunes the index (:func:`~dedup.gate.retention.prune`) at start and then every
    ``every`` seconds, removing one document at a time under the routes' write lock; says
    what it did on stderr and in the metrics."""

    def __init__(
        self, gate: Gate, app: FastAPI, *, older_than: float | None, keep: int | None, every: float
    ) -> None:
        super().__init__(name="dedup-prune", daemon=True)
        self._gate, self._app, self._every = gate, app, every
        self._older_than, self._keep = older_than, keep
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                done = prune(
                    self._gate.store,
                    older_than=self._older_than,
                    keep=self._keep,
                    lock=self._app.state.writes,
                )
            except Exception:  # the service goes on; the next run tries again
                log.exception("the scheduled prune failed")
            else:
                self._app.state.metrics.pruned_now(done["removed"])
                removed = counted(done["removed"], "document")
                print(f"dedup gate pruned {removed}, {done['remaining']:,} remain", file=sys.stderr)
            self._stopped.wait(self._every)

    def stop(self) -> None:
        """Stop after the removal under way (the index is closed next)."""
        self._stopped.set()
        self.join(timeout=60)


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
    retention: dict[str, Any] | None = None,
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
        retention: Prune the index at start and then every ``every`` seconds:
            ``older_than`` (seconds) and ``keep`` (a number), as
            :func:`~dedup.gate.retention.prune` takes them.

    Raises:
        ConfigError: no token, a bad limit or port, the address in use, or index
            parameters that differ from the index's.
        StoreError: the index cannot be opened.
    """
    secret = resolve_token(token, token_file)
    if retention is not None and not retention.get("every", 0) > 0:
        raise ConfigError("the prune needs an interval above 0 (--prune-every)")
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
        _serve(app, gate, sock, host, log_level, retention)
    finally:
        gc.unfreeze()
        sock.close()
        gate.close()


def _serve(
    app: FastAPI,
    gate: Gate,
    sock: socket.socket,
    host: str,
    log_level: str,
    retention: dict[str, Any] | None,
) -> None:
    """Serve ``app`` on ``sock`` until interrupted, pruning on ``retention``'s schedule."""
    ready = _ready_line(gate, host, sock.getsockname()[1])
    server = _Server(
        uvicorn.Config(app, log_level=log_level, server_header=False, lifespan="off"), ready
    )
    pruner = _Pruner(gate, app, **retention) if retention else None
    if pruner is not None:
        pruner.start()
    try:
        server.run(sockets=[sock])
    finally:
        if pruner is not None:
            pruner.stop()
