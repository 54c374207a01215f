"""The ingestion gate: a persistent index answering, per incoming article, ``new``,
``duplicate`` or ``syndicated`` (the library class :class:`Gate` and its :class:`Verdict`;
the HTTP service is :mod:`dedup.gate.server`, an optional extra)."""

from ..text.packed import pack_features, unpack_features
from .gate import MAX_CANDIDATES, Gate
from .records import fingerprint
from .settings import GATE_BANDS, GATE_ROWS, INDEX_SETTINGS
from .verdict import Match, MatchPassage, Verdict

__all__ = [
    "GATE_BANDS",
    "GATE_ROWS",
    "INDEX_SETTINGS",
    "MAX_CANDIDATES",
    "Gate",
    "Match",
    "MatchPassage",
    "Verdict",
    "fingerprint",
    "pack_features",
    "unpack_features",
]
