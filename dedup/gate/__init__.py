"""The ingestion gate: a persistent index answering, per incoming article, ``new``,
``duplicate`` or ``syndicated`` (the library class :class:`Gate`; the HTTP service is
:mod:`dedup.gate.server`, an optional extra)."""

from ..text.packed import pack_features, unpack_features
from .gate import (
    GATE_BANDS,
    GATE_ROWS,
    INDEX_SETTINGS,
    MAX_CANDIDATES,
    Gate,
    fingerprint,
)

__all__ = [
    "GATE_BANDS",
    "GATE_ROWS",
    "INDEX_SETTINGS",
    "MAX_CANDIDATES",
    "Gate",
    "fingerprint",
    "pack_features",
    "unpack_features",
]
