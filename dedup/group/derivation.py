"""How much of each document is reused text, and its derivation label (journalists' three
levels, as in METER)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..match.align import REWRITE
from ..util.arrays import common, unique
from .provenance import LinkTable, ProvenanceCluster

# Derivation labels, tuned on METER's dev split (see the docs, "Evaluation"): a story is wholly
# derived when nearly all its words are found in the text it shares passages with (rewriting
# keeps the words, not the phrases), partially derived when passages cover a fair share of it
# or most of its words are found there.
WHOLLY_DERIVED_OVERLAP = 0.875
PARTIALLY_DERIVED_OVERLAP = 0.65
PARTIALLY_DERIVED_REUSED = 0.15


def derivation(
    length: int,
    spans: np.ndarray,
    groups: Sequence[ProvenanceCluster | None],
    overlap: float = 0.0,
    rewritten: Sequence[bool] | None = None,
) -> dict:
    """How much of a document's body is reused text, per provenance group and agency, and
    how much of it verbatim and rewritten.

    Args:
        length: Its number of body tokens.
        spans: The token spans (``(n, 2)``) of the passages touching it, in passage order.
        groups: The provenance group of each of those passages.
        overlap: Share of its distinct words found in the documents it shares passages with.
        rewritten: Whether each passage is a rewritten one (none, when not given).
    """
    if length == 0:
        return {
            "reused": 0.0,
            "own": 1.0,
            "word_overlap": 0.0,
            "groups": [],
            "agencies": {},
            "label": "independent",
            "verbatim": 0.0,
            "rewrite": 0.0,
        }
    covered = np.zeros(length, dtype=bool)
    verbatim = np.zeros(length, dtype=bool)
    per_group: dict[str, np.ndarray] = {}
    by_id: dict[str, ProvenanceCluster] = {}
    kinds = rewritten if rewritten is not None else [False] * len(spans)
    for (start, end), group, rewrite in zip(np.asarray(spans).tolist(), groups, kinds):
        covered[start:end] = True
        if not rewrite:
            verbatim[start:end] = True
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
        "verbatim": round(float(verbatim.mean()), 4),
        "rewrite": round(reused - float(verbatim.mean()), 4),
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


def document_derivations(
    hashes: Sequence[np.ndarray],
    links: LinkTable,
    groups: Sequence[ProvenanceCluster],
    group_of_link: np.ndarray,
    origin_of_link: np.ndarray | None = None,
) -> list[dict]:
    """:func:`derivation` of every document, from each one's token hashes (in corpus order),
    the passages (``links``) and the provenance group of each passage (its index in
    ``groups``, -1 for none). A passage whose ``origin_of_link`` is the document itself (the
    document that is surely the origin of the pair, -1 for none) does not make it derived:
    a wire story is not derived from its own re-runs."""
    n = len(hashes)
    # Each document's passages (in passage order) and the documents they link it to.
    ends = links.rows[:, :2].ravel(order="F")
    owners = np.tile(np.arange(len(links)), 2)
    by_doc = np.lexsort((owners, ends))
    bounds = np.searchsorted(ends[by_doc], np.arange(n + 1))
    found = []
    for i in range(n):
        mine = owners[by_doc[bounds[i] : bounds[i + 1]]]
        if origin_of_link is not None:
            mine = mine[origin_of_link[mine] != i]
        partners = unique(links.rows[mine, :2].ravel())
        overlap = word_overlap(hashes[i], [hashes[j] for j in partners.tolist() if j != i])
        found.append(
            derivation(
                len(hashes[i]),
                links.spans(mine, i),
                [groups[g] if g >= 0 else None for g in group_of_link[mine].tolist()],
                overlap,
                (links.rows[mine, 8] == REWRITE).tolist(),
            )
        )
    return found
