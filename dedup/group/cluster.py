"""Groups of documents.

- Duplicate groups: the same article re-run (connected components of duplicate pairs).
- Provenance groups: articles that carry text of the same source story. Built from the
  passages, not from whole-document similarity: passages that are the same stretch of reused
  text are clustered into *units*, units are gathered into groups by the documents that carry
  them, and each group is named after the agency its members credit. An article that mixes
  two wires belongs to two groups.
- Story groups: articles about the same event, shared text or not (TF-IDF cosine, average
  linkage).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from ..match.align import Alignment
from ..match.lsh import pairs_by_band
from ..match.minhash import MinHasher
from ..match.score import pair_cosines
from ..models import RecordTable
from ..util.arrays import common, unique
from ..util.parallel import fork_map

# Two passages are the same reused text in a document when they overlap by this share of the
# shorter one (in that document).
SAME_TEXT_OVERLAP = 0.5
# Derivation labels (journalists' three levels, as in METER), tuned on METER's dev split (see
# README, "Quality"): a story is wholly derived when nearly all its words are found in the text
# it shares passages with (rewriting keeps the words, not the phrases), partially derived when
# passages cover a fair share of it or most of its words are found there.
WHOLLY_DERIVED_OVERLAP = 0.875
PARTIALLY_DERIVED_OVERLAP = 0.65
PARTIALLY_DERIVED_REUSED = 0.15
# Average-linkage TF-IDF cosine above which two articles are the same story (tuned on ECB+).
STORY_THRESHOLD = 0.2


def components(n: int, edges: Sequence[tuple[int, int]] | np.ndarray) -> list[list[int]]:
    """Connected components with at least two members, each sorted, ordered by first member.

    ``edges``: pairs of indices below ``n`` (a sequence of pairs or an ``(m, 2)`` array)."""
    pairs = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if n == 0 or len(pairs) == 0:
        return []
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")  # members of a component stay ascending
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [g.tolist() for g in np.split(order, bounds) if len(g) > 1]
    return sorted(groups, key=lambda g: g[0])


def duplicate_groups(ids: Sequence[str], duplicate_pairs: Sequence[tuple[int, int]]) -> list[dict]:
    """Duplicate groups as ``{"id": "dup-N", "members": [...]}`` (public contract).

    Duplicate pairs are strict (passages cover most of both documents), so connected
    components do not chain unrelated articles in practice.
    """
    return [
        {"id": f"dup-{number}", "members": [ids[i] for i in group]}
        for number, group in enumerate(components(len(ids), duplicate_pairs), start=1)
    ]


# --- provenance ------------------------------------------------------------------------------


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
    """Many links as one ``(n, 8)`` int32 array, read as :class:`Link` records one at a time:
    row k is link k's ``a, b, a_start, a_end, b_start, b_end, matched_a, matched_b`` (32 bytes
    a link, against about 250 as objects; a scan of a million articles finds millions)."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.int32).reshape(-1, 8)

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
class ProvenanceGroup:
    """Documents that carry text of one source story, and the agency it comes from."""

    id: str
    members: list[int]
    links: list[int]
    agency: str | None = None
    evidence: list[dict] = field(default_factory=list)


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
) -> list[ProvenanceGroup]:
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
        ProvenanceGroup(id="", members=sorted(s), links=sorted(ks)) for s, ks in assigned.items()
    ]
    groups.sort(key=lambda g: (g.members, g.links))
    for number, group in enumerate(groups, start=1):
        group.id = f"prov-{number}"
    attribute_agencies(groups, credits)
    return groups


def attribute_agencies(groups: Sequence[ProvenanceGroup], credits: Sequence[Sequence[str]]) -> None:
    """Name each group's agency from its members' credit lines, using all the evidence.

    A member crediting one agency votes 1 for it; a member crediting several (``Reuters/afp``)
    splits its vote. Groups are named strongest evidence first; once a group is named, a
    member's credit already explained by another of its groups no longer votes elsewhere: a
    group whose members credit ``Reuters/afp`` and nothing else, beside a group of the same
    article that is already AFP's, is Reuters'.
    """
    explained: dict[int, set[str]] = defaultdict(set)
    groups_of: dict[int, list[int]] = defaultdict(list)
    for number, group in enumerate(groups):
        for member in group.members:
            groups_of[member].append(number)

    def ballot(group: ProvenanceGroup) -> tuple[tuple[bool, float, float], str] | None:
        votes: dict[str, float] = defaultdict(float)
        for member in group.members:
            open_credits = [a for a in credits[member] if a not in explained[member]]
            for agency in open_credits:
                votes[agency] += 1.0 / len(open_credits)
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked:
            return None
        margin = ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)
        return (margin > 0, ranked[0][1], margin), ranked[0][0]

    # A heap of ballots, best first (ties: the earlier group); a group's ballot changes only
    # when a group sharing a member is named, so only those are counted again.
    version = [0] * len(groups)
    heap: list[tuple[bool, float, float, int, int, str]] = []

    def push(number: int) -> None:
        version[number] += 1
        counted = ballot(groups[number])
        if counted is not None:  # no open credits now means none later either
            (clear, top, margin), agency = counted
            heapq.heappush(heap, (not clear, -top, -margin, number, version[number], agency))

    for number in range(len(groups)):
        push(number)
    named: set[int] = set()
    while heap:
        unclear, _, _, number, stamp, agency = heapq.heappop(heap)
        if stamp != version[number]:
            continue
        if unclear:
            break  # no group left with a clear winner
        group = groups[number]
        group.agency = agency
        group.evidence = [
            {"member": member, "agency": agency}
            for member in group.members
            if agency in credits[member]
        ]
        named.add(number)
        version[number] += 1
        for member in group.members:
            explained[member].add(agency)
        for other in sorted({o for m in group.members for o in groups_of[m]} - named):
            push(other)


def derivation(
    length: int,
    spans: np.ndarray,
    groups: Sequence[ProvenanceGroup | None],
    overlap: float = 0.0,
) -> dict:
    """How much of a document's body is reused text, per provenance group and agency.

    Args:
        length: Its number of body tokens.
        spans: The token spans (``(n, 2)``) of the passages touching it, in passage order.
        groups: The provenance group of each of those passages.
        overlap: Share of its distinct words found in the documents it shares passages with.
    """
    if length == 0:
        return {
            "reused": 0.0,
            "own": 1.0,
            "word_overlap": 0.0,
            "groups": [],
            "agencies": {},
            "label": "independent",
        }
    covered = np.zeros(length, dtype=bool)
    per_group: dict[str, np.ndarray] = {}
    by_id: dict[str, ProvenanceGroup] = {}
    for (start, end), group in zip(np.asarray(spans).tolist(), groups):
        covered[start:end] = True
        if group is not None:
            mask = per_group.setdefault(group.id, np.zeros(length, dtype=bool))
            mask[start:end] = True
            by_id[group.id] = group
    reused = float(covered.mean())
    agencies: dict[str, np.ndarray] = {}
    for gid, mask in per_group.items():
        name = by_id[gid].agency or "unknown"
        agencies[name] = agencies[name] | mask if name in agencies else mask.copy()
    return {
        "reused": round(reused, 4),
        "own": round(1.0 - reused, 4),
        "word_overlap": round(overlap, 4),
        "groups": [
            {"group": gid, "agency": by_id[gid].agency, "share": round(float(m.mean()), 4)}
            for gid, m in sorted(per_group.items(), key=lambda kv: -kv[1].mean())
        ],
        "agencies": {a: round(float(m.mean()), 4) for a, m in sorted(agencies.items())},
        "label": derivation_label(reused, overlap) if len(spans) else "independent",
    }


def derivation_label(reused: float, overlap: float) -> str:
    """``wholly_derived``, ``partially_derived`` or ``independent`` from the share of the body
    inside shared passages (``reused``) and the share of its words found in the texts it
    shares passages with (``overlap``)."""
    if overlap >= WHOLLY_DERIVED_OVERLAP:
        return "wholly_derived"
    if reused >= PARTIALLY_DERIVED_REUSED or overlap >= PARTIALLY_DERIVED_OVERLAP:
        return "partially_derived"
    return "independent"


def word_overlap(words: np.ndarray, partner_words: Sequence[np.ndarray]) -> float:
    """Share of the distinct ``words`` found in any of ``partner_words`` (arrays of word
    hashes, :attr:`~dedup.text.features.Features.hashes`: compared as numbers, not strings)."""
    own = unique(words)
    if not len(own) or not partner_words:
        return 0.0
    theirs = unique(np.concatenate(list(partner_words)))
    return len(common(own, theirs)[0]) / len(own)


# --- stories ---------------------------------------------------------------------------------


def story_groups(
    tfidf: csr_matrix, threshold: float = STORY_THRESHOLD, limit: int = 5000, workers: int = 1
) -> list[list[int]]:
    """Articles about the same event: average-linkage clusters of TF-IDF cosine.

    Average linkage, unlike single link, does not chain two stories through one article that
    mentions both. Up to ``limit`` documents the clustering is exact. Above it, no N x N matrix
    is built: candidate pairs come from MinHash LSH over each document's top TF-IDF terms,
    pairs whose cosine reaches the threshold form a graph, and the clustering runs inside each
    connected component (a component still larger than ``limit`` is split at a higher
    similarity first).

    Returns:
        Every group of at least two documents (sorted lists of indices), by first member.
        The same for any number of ``workers`` (processes scoring the candidate pairs and
        clustering the components).
    """
    n = tfidf.shape[0]
    if n < 2:
        return []
    if n <= limit:
        return _average_linkage(tfidf, np.arange(n), threshold)
    pairs, similarity = _story_pairs(tfidf, threshold, workers)
    groups: list[list[int]] = []
    to_link: list[np.ndarray] = []
    _cluster_components(tfidf, pairs, similarity, threshold, limit, groups, to_link)
    # Components are clustered independently: on the workers, a few hundred at a time.
    step = COMPONENTS_PER_TASK
    chunks = [to_link[start : start + step] for start in range(0, len(to_link), step)]
    for found in fork_map(_link_components, (tfidf, threshold), chunks, workers):
        groups.extend(found)
    return sorted(groups, key=lambda g: g[0])


def _link_components(
    state: tuple[csr_matrix, float], components: list[np.ndarray]
) -> list[list[int]]:
    tfidf, threshold = state
    return [
        group for members in components for group in _average_linkage(tfidf, members, threshold)
    ]


STORY_TOP_TERMS = 20  # the terms that say what a story is about
STORY_MAX_BUCKET = 200  # more documents than this with the same top terms: a genre, not a story
STORY_LSH_THRESHOLD = 0.1  # same-story articles share more of their top terms (ECB+)
COMPONENTS_PER_TASK = 200  # story components clustered per task of a worker process


def _story_pairs(
    tfidf: csr_matrix, threshold: float, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of documents sharing enough of their top TF-IDF terms (MinHash LSH) whose
    cosine reaches ``threshold``, sorted, and their cosines. The candidates are scored band
    by band of the LSH and only those kept are held: a million articles have hundreds of
    millions of candidates, and few reach the threshold."""
    sets = []
    for row in range(tfidf.shape[0]):
        start, end = tfidf.indptr[row], tfidf.indptr[row + 1]
        values, columns = tfidf.data[start:end], tfidf.indices[start:end]
        top = columns[np.argsort(-values, kind="stable")[:STORY_TOP_TERMS]]
        sets.append(unique(top.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
    signatures = MinHasher(num_perm=64).signatures(sets)
    kept_pairs, kept_similarity = [np.empty((0, 2), dtype=np.int64)], [np.empty(0)]
    for pairs in pairs_by_band(
        signatures, threshold=STORY_LSH_THRESHOLD, max_bucket_size=STORY_MAX_BUCKET
    ):
        similarity = pair_cosines(tfidf, pairs, workers=workers)
        keep = similarity >= threshold
        kept_pairs.append(pairs[keep])
        kept_similarity.append(similarity[keep])
    pairs, similarity = np.concatenate(kept_pairs), np.concatenate(kept_similarity)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return pairs[order], similarity[order]


def _cluster_components(
    tfidf: csr_matrix,
    pairs: np.ndarray,
    similarity: np.ndarray,
    cut: float,
    limit: int,
    groups: list[list[int]],
    to_link: list[np.ndarray],
) -> None:
    """The components of the graph of pairs at or above ``cut`` to cluster by average
    linkage (``to_link``); a component of two is a group as it is (``groups``), one larger
    than ``limit`` is split at a higher cut first."""
    n = tfidf.shape[0]
    for component in components(n, pairs):
        members = np.array(component)
        if len(members) > limit and cut < 0.95:
            inside = np.isin(pairs[:, 0], members) & np.isin(pairs[:, 1], members)
            stronger = inside & (similarity >= cut + 0.1)
            _cluster_components(
                tfidf, pairs[stronger], similarity[stronger], cut + 0.1, limit, groups, to_link
            )
            continue
        if len(members) == 2:
            # Joined by a pair at or above ``cut`` (>= threshold): one group, as linkage says.
            groups.append(sorted(component))
            continue
        to_link.append(members)


def _average_linkage(tfidf: csr_matrix, members: np.ndarray, threshold: float) -> list[list[int]]:
    rows = tfidf[members]
    similarity = np.asarray((rows @ rows.T).todense(), dtype=np.float64)
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    condensed = distance[np.triu_indices(len(members), k=1)]
    tree = linkage(condensed, method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    clusters: dict[int, list[int]] = defaultdict(list)
    for member, label in zip(members.tolist(), labels.tolist()):
        clusters[label].append(member)
    return sorted((sorted(c) for c in clusters.values() if len(c) > 1), key=lambda g: g[0])
