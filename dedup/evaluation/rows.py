"""The metrics table ``dedup eval`` prints: its rows, the report, and the published anchors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METER_LABELS = ["wholly_derived", "partially_derived", "non_derived"]
# Published and baseline anchors on the METER dev split and ECB+ (from the project's issue).
ANCHORS = {
    "meter_3way_clough_2002": 0.664,
    "meter_3way_ngram_containment": 0.64,
    "meter_binary_ngram_containment": 0.74,
    "ecbplus_ari_tfidf_average_linkage": 0.79,
}


@dataclass
class Row:
    """One line of the metrics table."""

    dataset: str
    metric: str
    value: float | str
    anchor: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON."""
        return {
            "dataset": self.dataset,
            "metric": self.metric,
            "value": self.value,
            "anchor": self.anchor,
            "detail": self.detail,
        }


@dataclass
class EvalReport:
    """All rows, and the data sets that were not found."""

    rows: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "rows": [r.to_dict() for r in self.rows],
            "missing": self.missing,
            "failed": self.failed,
        }
