"""Provenance groups: articles that carry text of the same source story.

Built from the passages, not from whole-document similarity: passages that are the same
stretch of reused text are clustered into *units*, units are gathered into groups by the
documents that carry them, and each group is named after the agency its members credit
(:mod:`dedup.group.agency`). An article that mixes two wires belongs to two groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..match.align import Alignment
from ..models import Document, Evidence, ProvenanceGroup, RecordTable
from .agency import attribute_agencies

# Two passages are the same reused text in a document when they overlap by this share of the
# shorter one (in that document).
SAME_TEXT_OVERLAP = 0.5


@dataclass(frozen=True, slots=True)
class Link:
    """A passage between documents ``a`` and ``b`` (indices), in token coordinates."""

    a: int
    b: int
    alignment: Alignment

    def span(self, doc: int) -> tuple[int, int]:
        """The passage's token span in document ``doc`` (one of its two ends)."""
        found = self.alignment
        return (found.a_start, found.a_end) if doc == self.a else (found.b_start, found.b_end)

    def other(self, doc: int) -> int:
        """The document at the other end."""
        return self.b if doc == self.a else self.a


class LinkTable(RecordTable[Link]):
    """Many links as one ``(n, 9)`` int32 array, read as :class:`Link` records one at a time:
    row k is link k's ``a, b, a_start, a_end, b_start, b_end, matched_a, matched_b, kind``
    (36 bytes a link, against about 250 as objects; a scan of a million articles finds
    millions)."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.int32).reshape(-1, 9)

    @classmethod
    def of(cls, links: Sequence[Link]) -> LinkTable:
        """``links`` as a table (the table itself when it is one)."""
        if isinstance(links, LinkTable):
            return links
        return cls(
            np.array(
                [
                    (
                        x.a,
                        x.b,
                        x.alignment.a_start,
                        x.alignment.a_end,
                        x.alignment.b_start,
                        x.alignment.b_end,
                        x.alignment.matched_a,
                        x.alignment.matched_b,
                        x.alignment.kind,
                    )
                    for x in links
                ],
                dtype=np.int32,
            )
        )

    def __len__(self) -> int:
        return len(self.rows)

    def _record(self, row: int) -> Link:
        a, b, *alignment = self.rows[row].tolist()
        return Link(a, b, Alignment(*alignment))

    def spans(self, links: np.ndarray, doc: int) -> np.ndarray:
        """The token spans in document ``doc`` (an end of each of ``links``), ``(n, 2)``."""
        rows = self.rows[links]
        return np.where((rows[:, 0] == doc)[:, None], rows[:, 2:4], rows[:, 4:6])


@dataclass
class ProvenanceCluster:
    """A provenance group as the clustering builds it: documents (indices) that carry text of
    one source story, its passages (link indices), and the agency it comes from.

    Attributes:
        evidence: The members that credit the agency.
    """

    id: str
    members: list[int]
    links: list[int]
    agency: str | None = None
    evidence: list[int] = field(default_factory=list)

    def to_group(self, documents: Sequence[Document]) -> ProvenanceGroup:
        """The group as the scan reports it (document ids, passage ids ``pN``, and each
        crediting member's credit lines)."""
        return ProvenanceGroup(
            id=self.id,
            members=[documents[m].id for m in self.members],
            agency=self.agency,
            passages=[f"p{k + 1}" for k in self.links],
            evidence=[
                Evidence(
                    documents[m].id,
                    str(self.agency),
                    [c.line for c in documents[m].credit_lines if c.agency == self.agency],
                )
                for m in self.evidence
            ],
        )


def reuse_units(links: Sequence[Link]) -> list[list[int]]:
    """Cluster passages into units: each unit is one stretch of reused text.

    Two passages that overlap in a document they share (x–d and d–y) are the same text only
    when the triangle closes: x and y share that text too. A document that carries two wires'
    versions of one sentence therefore does not chain the two wires together.

    Returns:
        The units (link indices, ascending), by first member.
    """
    if not len(links):
        return []
    ends = LinkTable.of(links).rows[:, :6].astype(np.int64)
    docs, starts, stops = ends[:, :2].ravel(), ends[:, 2::2].ravel(), ends[:, 3::2].ravel()
    owners = np.repeat(np.arange(len(links)), 2)
    # Each document's passages, by span (the units do not depend on the documents' order).
    order = np.lexsort((owners, stops, starts, docs))
    bounds = np.flatnonzero(np.diff(docs[order])) + 1
    # The links between each pair of documents, by pair code, then link.
    width = int(docs.max()) + 1
    codes = np.minimum(ends[:, 0], ends[:, 1]) * width + np.maximum(ends[:, 0], ends[:, 1])
    by_pair = np.argsort(codes, kind="stable")
    labels = _unit_labels(
        ends,
        docs[order],
        starts[order],
        stops[order],
        owners[order],
        np.concatenate(([0], bounds, [len(order)])),
        codes[by_pair],
        by_pair,
        width,
        SAME_TEXT_OVERLAP,
    )
    # A unit's label is its smallest link (the union-find keeps the smaller root).
    grouped = np.argsort(labels, kind="stable")
    return [
        unit.tolist() for unit in np.split(grouped, np.flatnonzero(np.diff(labels[grouped])) + 1)
    ]


@njit(cache=True, nogil=True)
def _unit_labels(  # type: ignore[no-untyped-def]
    ends, docs, starts, stops, owners, bounds, pair_codes, pair_links, width, same
):  # fmt: skip
    """The union-find of :func:`reuse_units`: for each link, the smallest link of its unit.

    ``ends`` holds each link's documents and spans (a, b, a_start, a_end, b_start, b_end);
    ``docs``, ``starts``, ``stops`` and ``owners`` are the passages at each document (a link
    twice), grouped by document between ``bounds`` and sorted by span; ``pair_codes`` and
    ``pair_links`` the links of each pair of documents (code ``low * width + high``).

    Sweep by start: a passage overlaps only those starting before it ends. A pair whose
    passages are already one unit needs no test: every union a triangle implies is also tested
    from the triangle's other corners, so the units come out the same.
    """
    parent = np.arange(len(ends))
    for group in range(len(bounds) - 1):
        low, high = bounds[group], bounds[group + 1]
        doc = docs[low]
        for first in range(low, high):
            k1 = owners[first]
            root = _find(parent, k1)  # a member of k1's unit, even after later unions
            for second in range(first + 1, high):
                if starts[second] >= stops[first]:
                    break
                k2 = owners[second]
                # The direct parent first: in a doc re-run by many, most pairs are one unit.
                if parent[k2] == root or _find(parent, k2) == _find(parent, k1):
                    continue
                if _overlap(starts[first], stops[first], starts[second], stops[second]) < same:
                    continue
                x = ends[k1, 1] if ends[k1, 0] == doc else ends[k1, 0]
                y = ends[k2, 1] if ends[k2, 0] == doc else ends[k2, 0]
                if x == y:
                    _union(parent, k1, k2)
                    continue
                code = min(x, y) * width + max(x, y)
                for at in range(
                    np.searchsorted(pair_codes, code), np.searchsorted(pair_codes, code, "right")
                ):
                    k3 = pair_links[at]
                    if (
                        _span_overlap(ends, k3, k1, x) >= same
                        and _span_overlap(ends, k3, k2, y) >= same
                    ):
                        _union(parent, k1, k2)
                        _union(parent, k1, k3)
                        break
    labels = np.empty(len(ends), dtype=np.int64)
    for k in range(len(ends)):
        labels[k] = _find(parent, k)
    return labels


@njit(cache=True, nogil=True)
def _find(parent, x):  # type: ignore[no-untyped-def]
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def _union(parent, x, y):  # type: ignore[no-untyped-def]
    rx, ry = _find(parent, x), _find(parent, y)
    if rx != ry:
        parent[max(rx, ry)] = min(rx, ry)


@njit(cache=True, nogil=True)
def _overlap(x0, x1, y0, y1):  # type: ignore[no-untyped-def]
    """Share of the shorter of two spans that the other covers."""
    shared = min(x1, y1) - max(x0, y0)
    shorter = min(x1 - x0, y1 - y0)
    return shared / shorter if shared > 0 and shorter > 0 else 0.0


@njit(cache=True, nogil=True)
def _span_overlap(ends, k, j, doc):  # type: ignore[no-untyped-def]
    """:func:`_overlap` of links ``k`` and ``j`` in document ``doc`` (an end of both)."""
    k0, k1 = (ends[k, 2], ends[k, 3]) if ends[k, 0] == doc else (ends[k, 4], ends[k, 5])
    j0, j1 = (ends[j, 2], ends[j, 3]) if ends[j, 0] == doc else (ends[j, 4], ends[j, 5])
    return _overlap(k0, k1, j0, j1)


def provenance_groups(
    links: Sequence[Link], credits: Sequence[Sequence[str]]
) -> list[ProvenanceCluster]:
    """Provenance groups from passages, each attributed to an agency where the text says.

    Units are grouped by the documents that carry them: a unit whose documents are a subset of
    exactly one larger unit's documents belongs to that unit's group (a trimmed re-run keeps
    fewer paragraphs of the same story); units carried by the same documents are one group.
    """
    table = LinkTable.of(links)
    units = reuse_units(table)
    doc_sets: dict[frozenset[int], list[int]] = defaultdict(list)
    for unit in units:
        docs = frozenset(table.rows[unit, :2].ravel().tolist())
        doc_sets[docs].extend(unit)
    # Maximal document sets are the stories; the others join the one maximal set containing
    # them (when several do, the one carrying most passages).
    sets_with: dict[int, list[frozenset[int]]] = defaultdict(list)
    for s in doc_sets:
        for doc in s:
            sets_with[doc].append(s)
    # A set is maximal when no larger set holds it; those that could all hold its first member.
    maximal = [s for s in doc_sets if not any(s < t for t in sets_with[min(s)])]
    by_member: dict[int, list[frozenset[int]]] = defaultdict(list)
    for s in maximal:
        for doc in s:
            by_member[doc].append(s)
    assigned: dict[frozenset[int], list[int]] = {s: list(doc_sets[s]) for s in maximal}
    for s, ks in doc_sets.items():
        if s in assigned:
            continue
        first = next(iter(s))
        containing = [t for t in by_member[first] if s < t]
        target = max(containing, key=lambda t: (len(doc_sets[t]), -min(t)))
        assigned[target].extend(ks)
    groups = [
        ProvenanceCluster(id="", members=sorted(s), links=sorted(ks)) for s, ks in assigned.items()
    ]
    groups.sort(key=lambda g: (g.members, g.links))
    for number, group in enumerate(groups, start=1):
        group.id = f"prov-{number}"
    attribute_agencies(groups, credits)
    return groups
