"""What ``GET /metrics`` shows, in the Prometheus text format (prometheus-client): the
service's counters, its latency histogram and the index's size, in a registry of its own
(two apps in one process, as the tests make, count apart).

Names (documented in docs/gate.md, "Metrics"):

- ``dedup_gate_documents_total{route, verdict}``: documents answered by ``/check`` (route
  ``check``) and ``/documents`` (``add``), by verdict (``new``, ``duplicate``,
  ``syndicated``, ``error`` for one the gate refused: a conflict, a bad text, the index
  unavailable);
- ``dedup_gate_document_seconds{route}``: the time each of them took (histogram);
- ``dedup_gate_http_responses_total{path, status}``: every answer by status code, the path cut
  to its first segment (``/documents``, not a document's id);
- ``dedup_gate_index_documents``: documents in the index, read at each scrape;
- ``dedup_gate_pruned_total`` and ``dedup_gate_prune_runs_total``, and
  ``dedup_gate_last_prune_timestamp_seconds``: what the scheduled prune of ``serve
  --prune-*`` removed.
"""

from __future__ import annotations

import math
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ..errors import DedupError, StoreError
from .gate import Gate

# Seconds: a check takes 2-30 ms at 1M documents (docs/performance.md); a batch's documents
# are timed one by one.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
KNOWN_PATHS = frozenset(
    {"/check", "/documents", "/stats", "/healthz", "/readyz", "/metrics", "/openapi.json", "/"}
)


class Metrics:
    """The service's instruments over ``gate``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, gate: Gate) -> None:
        self.registry = CollectorRegistry()
        self.documents = Counter(
            "dedup_gate_documents",
            "Documents answered, by route and verdict.",
            ["route", "verdict"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "dedup_gate_document_seconds",
            "Seconds to answer one document (check, or check and add).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.responses = Counter(
            "dedup_gate_http_responses",
            "HTTP answers, by the path's first segment and status code.",
            ["path", "status"],
            registry=self.registry,
        )
        Gauge(
            "dedup_gate_index_documents",
            "Documents in the index (NaN when it cannot be read).",
            registry=self.registry,
        ).set_function(lambda: _count(gate))
        self.pruned = Counter(
            "dedup_gate_pruned", "Documents removed by scheduled prunes.", registry=self.registry
        )
        self.prune_runs = Counter(
            "dedup_gate_prune_runs", "Scheduled prunes run.", registry=self.registry
        )
        self.last_prune = Gauge(
            "dedup_gate_last_prune_timestamp_seconds",
            "When the last scheduled prune ended (Unix time; 0 before the first).",
            registry=self.registry,
        )

    def answered(self, route: str, verdict: str, seconds: float) -> None:
        """One document answered on ``route`` (``check`` or ``add``)."""
        self.documents.labels(route, verdict).inc()
        self.seconds.labels(route).observe(seconds)

    def responded(self, path: str, status: int) -> None:
        """One HTTP answer."""
        first = "/" + path.lstrip("/").split("/", 1)[0]
        self.responses.labels(first if first in KNOWN_PATHS else "other", str(status)).inc()

    def pruned_now(self, removed: int) -> None:
        """A scheduled prune that removed ``removed`` documents has ended."""
        self.prune_runs.inc()
        self.pruned.inc(removed)
        self.last_prune.set(time.time())

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)


def _count(gate: Gate) -> float:
    try:
        return float(gate.store.count())
    except StoreError:
        return math.nan


def timed(metrics: Metrics | None, route: str, answer: Any) -> Any:
    """``answer`` (one document's verdict function) counted and timed on ``route``."""
    if metrics is None:
        return answer

    def counted(record: dict[str, Any]) -> dict[str, Any]:
        clock = time.perf_counter()
        try:
            verdict = answer(record)
        except DedupError:
            metrics.answered(route, "error", time.perf_counter() - clock)
            raise
        metrics.answered(route, verdict["verdict"], time.perf_counter() - clock)
        return verdict

    return counted
