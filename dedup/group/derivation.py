"""How much of each document is reused text, and its derivation label (journalists' three
levels, as in METER)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..match.align import REWRITE
from ..models import SCORE_COLUMNS, Document, PairTable
from ..util.arrays import common, span_share, unique
from .labels import FEATURES, label_features, label_model
from .origin import WIRE_MARKS
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
    listed = [(int(start), int(end)) for start, end in np.asarray(spans).tolist()]
    kinds = rewritten if rewritten is not None else [False] * len(listed)
    per_group: dict[str, list[tuple[int, int]]] = {}
    by_id: dict[str, ProvenanceCluster] = {}
    for span, group in zip(listed, groups):
        if group is not None:
            per_group.setdefault(group.id, []).append(span)
            by_id[group.id] = group
    reused = span_share(listed, length)
    verbatim = span_share([s for s, rewrite in zip(listed, kinds) if not rewrite], length)
    agencies: dict[str, list[tuple[int, int]]] = {}
    for gid, group_spans in per_group.items():
        agencies.setdefault(by_id[gid].agency or "unknown", []).extend(group_spans)
    shares = {gid: span_share(group_spans, length) for gid, group_spans in per_group.items()}
    return {
        "reused": round(reused, 4),
        "own": round(1.0 - reused, 4),
        "word_overlap": round(overlap, 4),
        "groups": [
            {"group": gid, "agency": by_id[gid].agency, "share": round(share, 4)}
            for gid, share in sorted(shares.items(), key=lambda kv: -kv[1])
        ],
        "agencies": {a: round(span_share(v, length), 4) for a, v in sorted(agencies.items())},
        "label": derivation_label(reused, overlap) if len(listed) else "independent",
        "verbatim": round(verbatim, 4),
        "rewrite": round(reused - verbatim, 4),
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
    docs: Sequence[Document],
    hashes: Sequence[np.ndarray],
    links: LinkTable,
    groups: Sequence[ProvenanceCluster],
    group_of_link: np.ndarray,
    origins: tuple[np.ndarray, np.ndarray] | None = None,
    pairs: PairTable | None = None,
) -> list[dict]:
    """:func:`derivation` of every document, from each one's token hashes (in corpus order),
    the passages (``links``) and the provenance group of each passage (its index in
    ``groups``, -1 for none); each labelled by the label model (:mod:`dedup.group.labels`),
    whose features are kept on the document (``label_features``).

    ``origins`` holds, for each link, the document that is surely the origin of its pair and
    the one that is its origin for any reason (-1 for none). A passage whose sure origin is
    the document itself does not make it derived: a wire story is not derived from its own
    re-runs. ``pairs`` (the candidate pairs' scores) gives the features of the candidates
    that share no passage."""
    n = len(hashes)
    wire = np.array([bool({c.kind for c in d.credit_lines} & WIRE_MARKS) for d in docs])
    sure, likely = origins if origins is not None else (np.full(len(links), -1),) * 2
    # Each document's passages (in passage order) and the documents they link it to.
    ends = links.rows[:, :2].ravel(order="F")
    owners = np.tile(np.arange(len(links)), 2)
    by_doc = np.lexsort((owners, ends))
    bounds = np.searchsorted(ends[by_doc], np.arange(n + 1))
    found = []
    for i in range(n):
        every = owners[by_doc[bounds[i] : bounds[i + 1]]]
        mine = every[sure[every] != i]
        others = np.where(links.rows[mine, 0] == i, links.rows[mine, 1], links.rows[mine, 0])
        partners = unique(others)
        overlap = word_overlap(hashes[i], [hashes[j] for j in partners.tolist()])
        spans = links.spans(mine, i)
        record = derivation(
            len(hashes[i]),
            spans,
            [groups[g] if g >= 0 else None for g in group_of_link[mine].tolist()],
            overlap,
            (links.rows[mine, 8] == REWRITE).tolist(),
        )
        docs[i].label_features = label_features(
            len(hashes[i]),
            record,
            spans,
            _partner_cover(len(hashes[i]), spans, others),
            set(likely[mine][likely[mine] != i].tolist()) & set(partners.tolist()),
            _origin_of(i, links.rows[every], likely[every]),
            1.0 if wire[i] else 0.5 if docs[i].credits else 0.0,
            _candidates(i, pairs, wire, hashes) if pairs is not None else (0.0,) * 5,
        )
        found.append(record)
    _label(docs, found)
    return found


def _candidates(
    doc: int, pairs: PairTable, wire: np.ndarray, hashes: Sequence[np.ndarray]
) -> tuple[float, float, float, float, float]:
    """The candidate features of ``doc`` (:data:`~dedup.group.labels.FEATURES`)."""
    rows = pairs.rows_of(doc)
    if not len(rows):
        return 0.0, 0.0, 0.0, 0.0, 0.0
    first = pairs.docs[rows, 0] == doc
    others = np.where(first, pairs.docs[rows, 1], pairs.docs[rows, 0])
    cosines = pairs.scores[rows, SCORE_COLUMNS.index("cosine")]
    contained = np.where(
        first,
        pairs.scores[rows, SCORE_COLUMNS.index("containment_a")],
        pairs.scores[rows, SCORE_COLUMNS.index("containment_b")],
    )
    wired = wire[others]
    if not wired.any():
        return float(cosines.max()), float(contained.max()), 0.0, 0.0, 0.0
    best = int(others[wired][np.argmax(cosines[wired])])
    return (
        float(cosines.max()),
        float(contained.max()),
        float(cosines[wired].max()),
        float(contained[wired].max()),
        word_overlap(hashes[doc], [hashes[best]]),
    )


def _origin_of(doc: int, rows: np.ndarray, origins: np.ndarray) -> float:
    """The share of the texts its links (``rows``) reach that ``doc`` is the origin of."""
    others = np.where(rows[:, 0] == doc, rows[:, 1], rows[:, 0])
    reached = unique(others)
    return len(unique(others[origins == doc])) / len(reached) if len(reached) else 0.0


def compared(values: Sequence[float] | None) -> bool:
    """Whether the label model labels a document (else it is ``independent``): it shares
    passages, or it is at least a candidate pair of another text, the origin of none and not
    wire copy itself (a wire story re-run by others is not derived from them)."""
    if not values:
        return False
    if values[FEATURES.index("reused")] > 0:
        return True
    return (
        values[FEATURES.index("best_cosine")] > 0
        and values[FEATURES.index("origin_of")] == 0
        and values[FEATURES.index("credits")] < 1
    )


def _partner_cover(length: int, spans: np.ndarray, others: np.ndarray) -> dict[int, float]:
    """Share of the body inside the passages shared with each partner."""
    by_partner: dict[int, list[tuple[int, int]]] = {}
    for partner, (start, end) in zip(others.tolist(), spans.tolist()):
        by_partner.setdefault(partner, []).append((start, end))
    return {p: span_share(by_partner[p], length) for p in sorted(by_partner)}


def _label(docs: Sequence[Document], records: list[dict]) -> None:
    """Each record's ``label`` by the label model (``independent`` for a document that is
    not even a candidate pair of another)."""
    model = label_model()
    if model is None:
        return  # fitting a new model: the records keep the rule's labels
    linked = [k for k in range(len(records)) if compared(docs[k].label_features)]
    if not linked:
        return
    values = np.array([docs[k].label_features for k in linked], dtype=np.float64)
    for k, label in zip(linked, model.predict(values)):
        records[k]["label"] = label
