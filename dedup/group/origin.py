"""Which text of a linked pair is the likely origin, and which member of a provenance group.

The evidence, strongest first (the first that tells the two texts apart decides):

1. **the date**: the text published earlier is the origin (both dates known, not the same;
   a wire header's filing time counts as a date);
2. **the wire's own marks**: a text that carries an agency's byline, dateline or wire
   header (``By Jane Doe, PA News``, ``BEIJING (AP) —``, PA's slug line), as the agency files
   its copy, against one that does not;
3. **a credit**: a text that credits an agency at all (``Source: Reuters``, ``— AFP``)
   against one that does not: it is closer to the wire;
4. **containment**: a text whose words lie in shared passages far more than the other's is
   the copy (a trimmed or embedded re-run), the other the origin.

When none of these tells them apart the origin is ``unknown``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from ..models import ORIGIN_REASONS, ORIGINS, Document, PairTable

# A text's share of words in shared passages must exceed the other's by this much for
# containment alone to name the origin.
CONTAINMENT_MARGIN = 0.25
# Credit kinds that are the wire's own way of filing copy.
WIRE_MARKS = frozenset({"byline", "dateline", "header"})


def _strength(doc: Document) -> int:
    """2: the agency's own byline, dateline or header; 1: another credit line; 0: none."""
    kinds = {line.kind for line in doc.credit_lines}
    return 2 if kinds & WIRE_MARKS else 1 if kinds else 0


def _when(doc: Document) -> datetime | None:
    """The document's date (and time, when it has one), without a time zone."""
    if not doc.date:
        return None
    for text in (doc.date, doc.date[:10]):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            continue
    return None


def _earlier(a: Document, b: Document) -> str | None:
    """``a`` or ``b``, whichever was published earlier; None when a date is unknown or they
    are the same (to the day, unless both give a time of day)."""
    when_a, when_b = _when(a), _when(b)
    if when_a is None or when_b is None:
        return None
    if _has_time(a.date) and _has_time(b.date):
        earlier = when_a < when_b if when_a != when_b else None
    else:
        day_a, day_b = when_a.date(), when_b.date()
        earlier = day_a < day_b if day_a != day_b else None
    return None if earlier is None else "a" if earlier else "b"


def _has_time(date: str | None) -> bool:
    return date is not None and len(date) > 10 and date[10] in "T "


def pair_origin(a: Document, b: Document, coverage_a: float, coverage_b: float) -> tuple[str, str]:
    """The origin of a linked pair (``a``, ``b`` or ``unknown``) and the reason."""
    earlier = _earlier(a, b)
    if earlier:
        return earlier, "earlier date"
    strength_a, strength_b = _strength(a), _strength(b)
    if strength_a != strength_b and max(strength_a, strength_b) == 2:
        return ("a" if strength_a > strength_b else "b"), "the wire's byline or dateline"
    if strength_a != strength_b:
        return ("a" if strength_a > strength_b else "b"), "credits an agency"
    if abs(coverage_a - coverage_b) >= CONTAINMENT_MARGIN:
        return ("b" if coverage_a > coverage_b else "a"), "the other text lies within it"
    return "unknown", ""


def set_pair_origins(table: PairTable, documents: Sequence[Document]) -> None:
    """Fill the table's origin columns for every pair that shares passages."""
    origins = np.zeros(len(table), dtype=np.uint8)
    reasons = np.zeros(len(table), dtype=np.uint8)
    coverage = table.scores[:, [5, 6]]  # SCORE_COLUMNS: coverage_a, coverage_b
    for row in np.flatnonzero(table.passages > 0).tolist():
        i, j = table.docs[row].tolist()
        origin, reason = pair_origin(documents[i], documents[j], *coverage[row].tolist())
        origins[row] = ORIGINS.index(origin)
        reasons[row] = ORIGIN_REASONS.index(reason)
    table.origins, table.origin_reasons = origins, reasons


# The reasons that make a text surely the origin of a pair, not just nearer to the wire: its
# reuse by the other does not make it derived (a text that only credits an agency is itself
# a copy of that agency's story).
SURE_REASONS = frozenset({"earlier date", "the wire's byline or dateline"})


def origin_of_links(table: PairTable, link_pairs: np.ndarray, *, sure: bool = False) -> np.ndarray:
    """For each link (a pair's documents, ``(n, 2)``), the document that is the origin of its
    pair (with ``sure``, only for :data:`SURE_REASONS`), or -1."""
    wanted_reasons = np.array(
        [not sure or ORIGIN_REASONS[k] in SURE_REASONS for k in range(len(ORIGIN_REASONS))]
    )
    width = np.int64(len(table.ids) + 1)
    codes = table.docs[:, 0].astype(np.int64) * width + table.docs[:, 1]
    order = np.argsort(codes)
    wanted = link_pairs[:, 0].astype(np.int64) * width + link_pairs[:, 1]
    at = np.minimum(np.searchsorted(codes[order], wanted), max(len(codes) - 1, 0))
    found = np.full(len(link_pairs), -1, dtype=np.int64)
    if not len(codes):
        return found
    rows = order[at]
    known = (
        (codes[rows] == wanted)
        & wanted_reasons[table.origin_reasons[rows]]
        & (table.origins[rows] > 0)
    )
    side = np.where(table.origins[rows] == 1, 0, 1)
    ends = link_pairs[np.arange(len(link_pairs)), side]
    found[known] = ends[known]
    return found


def group_origin(members: Sequence[int], table: PairTable) -> tuple[int | None, str]:
    """The origin of a provenance group: the member that is the origin of its pairs with the
    other members and the copy in none, when exactly one is; and the reason most of those
    pairs give. None when the pairs do not agree on one."""
    inside = set(members)
    wins: Counter[int] = Counter()
    losses: set[int] = set()
    why: dict[int, Counter[str]] = {}
    rows = np.unique(np.concatenate([table.rows_of(m) for m in members]))
    for row in rows.tolist():
        i, j = table.docs[row].tolist()
        if i not in inside or j not in inside or not table.origins[row]:
            continue
        winner, loser = (i, j) if table.origins[row] == 1 else (j, i)
        wins[winner] += 1
        losses.add(loser)
        why.setdefault(winner, Counter())[ORIGIN_REASONS[table.origin_reasons[row]]] += 1
    origins = [m for m in wins if m not in losses]
    if len(origins) != 1:
        return None, ""
    return origins[0], why[origins[0]].most_common(1)[0][0]
