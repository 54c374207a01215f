"""METER (Press Association wire copy and the UK newspaper stories written from it), measured
two ways:

- **the folder scan**, as a user runs dedup: every text of the data set scanned together
  (``dedup scan meter-dev/``), nothing told which texts to compare; read from the scan's
  output are whether each story's PA copy is a candidate and is linked by a passage, the
  ``derivation.label`` of ``documents.jsonl`` against the journalists' label, and the
  passages' characters against the annotated ``<Verbatim>`` and ``<Rewrite>`` spans;
- **the METER protocol**: each story compared with its own PA copy, as the published results
  were measured (the pairs are given).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import ScanConfig
from ..group.derivation import derivation_label, word_overlap
from ..match.align import char_spans, coverage
from ..match.compare import compare, prepare
from ..match.lsh import candidate_pairs
from ..match.minhash import MinHasher
from ..match.windows import window_signatures
from ..models import ScanResult
from ..scan.local import scan
from ..text.clean import clean_documents
from .datasets import MeterData, load_meter
from .label_fit import cross_validated, label_data
from .metrics import class_scores, macro_f1, span_prf
from .rows import ANCHORS, METER_LABELS, Row

GOLD_TAGS = ("verbatim", "rewrite")
Spans = dict[str, list[tuple[int, int]]]


@dataclass
class Predictions:
    """What one way of running dedup says of METER's newspaper stories.

    Attributes:
        labels: Story id -> predicted label (``wholly_derived``, ``partially_derived``,
            ``non_derived``).
        spans: Story id -> character spans of the story inside passages shared with its PA
            copy.
        candidate: Story id -> whether its PA copy was a candidate pair.
        linked: Story id -> whether a passage links it to its PA copy.
        quotes_only: Story id -> whether all that links it to its PA copy are quotations
            (relation ``shares_quote``; the folder scan only).
        wire_derived: PA texts labelled derived themselves (the folder scan only).
        wire_texts: PA texts scanned.
        wire_origin: Linked pairs of a derived story and its PA copy where the PA copy is
            named the origin (the folder scan only).
        linked_pairs: Linked pairs of a derived story and its PA copy.
    """

    labels: dict[str, str] = field(default_factory=dict)
    spans: Spans = field(default_factory=dict)
    candidate: dict[str, bool] = field(default_factory=dict)
    linked: dict[str, bool] = field(default_factory=dict)
    quotes_only: dict[str, bool] = field(default_factory=dict)
    wire_derived: int = 0
    wire_texts: int = 0
    wire_origin: int = 0
    linked_pairs: int = 0


def evaluate_meter(root: Path, config: ScanConfig) -> list[Row]:
    """The folder scan's rows, then the METER protocol's."""
    data = load_meter(root)
    result = scan([root], config)
    folder = folder_scan(data, result)
    return [
        *_cross_validated_rows(data, result),
        *_rows(
            data,
            folder,
            "folder scan: ",
            "all texts scanned together, nothing told; labels of documents.jsonl, whose "
            "model was fitted on this data",
        ),
        Row(
            "meter",
            "folder scan: PA texts labelled derived",
            float(folder.wire_derived),
            None,
            f"of {folder.wire_texts} PA wire texts (they are the origin, not a copy)",
        ),
        Row(
            "meter",
            "folder scan: PA copy named the origin (linked derived pairs)",
            folder.wire_origin / folder.linked_pairs if folder.linked_pairs else 0.0,
            None,
            f"{folder.wire_origin} of {folder.linked_pairs} pairs of a derived story and its PA "
            "copy",
        ),
        *_rows(data, protocol(data, config), "", "METER protocol: each story and its PA copy"),
    ]


def _cross_validated_rows(data: MeterData, result: ScanResult) -> list[Row]:
    """The label model's scores on the folder scan, cross-validated by story (the model
    never labels a story of a METER story it was fitted on): the honest measure."""
    found = label_data(data, result)
    prefix = "folder scan, cross-validated: "
    if len(set(found.stories)) < 2:
        why = "cross-validation by story needs at least two METER stories"
        return [Row("meter", f"{prefix}3-way macro-F1", "n/a", None, why)]
    predicted = [_meter_label(label) for label in cross_validated(found)]
    gold = [_meter_label(label) for label in found.labels]
    how = f"{len(gold)} stories; label model fitted on the other folds (5, by story)"
    return _label_rows(gold, predicted, prefix, how)


def _label_rows(gold: list[str], predicted: list[str], prefix: str, how: str) -> list[Row]:
    """Macro-F1 (3-way and binary) and per-label rows of predicted against gold labels."""
    return [
        Row(
            "meter",
            f"{prefix}3-way macro-F1",
            macro_f1(gold, predicted, METER_LABELS),
            ANCHORS["meter_3way_clough_2002"],
            how,
        ),
        Row(
            "meter",
            f"{prefix}binary macro-F1 (derived vs not)",
            macro_f1(_binary(gold), _binary(predicted), ["derived", "non_derived"]),
            ANCHORS["meter_binary_ngram_containment"],
            "anchor: n-gram containment baseline (pairs given)",
        ),
        *[
            Row(
                "meter",
                f"{prefix}F1 {label}",
                score.f1,
                None,
                f"P {score.precision:.3f} R {score.recall:.3f}, {score.support} stories",
            )
            for label, score in class_scores(gold, predicted, METER_LABELS).items()
        ],
    ]


def folder_scan(data: MeterData, result: ScanResult) -> Predictions:
    """Read the predictions off a scan of the whole data set folder."""
    found = Predictions()
    documents = {doc.id: doc for doc in result.documents}
    pairs = {frozenset((p.a, p.b)): p.passages for p in result.pairs}
    relations = {frozenset((p.a, p.b)): p.relation for p in result.pairs}
    for pair in result.pairs:
        paper, copy = (pair.b, pair.a) if pair.a.startswith("PA/") else (pair.a, pair.b)
        if pair.passages and data.labels.get(paper, "non_derived") != "non_derived":
            if copy in data.sources[paper]:
                found.linked_pairs += 1
                found.wire_origin += {"a": pair.a, "b": pair.b}.get(pair.origin) == copy
    for story in data.newspapers:
        doc = documents.get(story.id)
        label = ((doc.derivation or {}) if doc else {}).get("label", "independent")
        found.labels[story.id] = _meter_label(label)
        keys = [frozenset((story.id, source)) for source in data.sources[story.id]]
        found.candidate[story.id] = any(key in pairs for key in keys)
        found.linked[story.id] = any(pairs.get(key, 0) > 0 for key in keys)
        found.quotes_only[story.id] = found.linked[story.id] and all(
            relations.get(key) in ("shares_quote", "none", None) for key in keys
        )
        found.spans[story.id] = []
    for passage in result.passages:
        for mine, theirs, start, end in (
            (passage.a, passage.b, passage.a_start, passage.a_end),
            (passage.b, passage.a, passage.b_start, passage.b_end),
        ):
            if mine in found.spans and theirs in data.sources[mine]:
                found.spans[mine].append((start, end))
    wires = [doc for doc in result.documents if doc.id.startswith("PA/")]
    found.wire_texts = len(wires)
    found.wire_derived = sum(
        (doc.derivation or {}).get("label", "independent") != "independent" for doc in wires
    )
    return found


def protocol(data: MeterData, config: ScanConfig) -> Predictions:
    """Compare every newspaper story with its PA copy (the candidate PA files of each story
    are given), with the scan's cleaning, features and pair comparison; and run the LSH
    candidate stage on the whole set, to see how often the PA copy of a story is found
    without being told."""
    docs = data.newspapers + list(data.pa.values())
    clean_documents(docs)
    hasher = MinHasher(config.num_perm, config.seed)
    ready = prepare(docs, config, hasher)
    prepared = {p.doc.id: p for p in ready}
    found = Predictions()
    for paper in data.newspapers:
        mine = prepared[paper.id]
        alignments = []
        found.spans[paper.id] = []
        for source in data.sources[paper.id]:
            _, passages = compare(mine, prepared[source], 0.0, config)
            alignments.extend(passages)
            theirs = prepared[source].features
            for x in passages:
                found.spans[paper.id].append(char_spans(mine.features, theirs, x)[:2])
        overlap = word_overlap(
            mine.features.hashes, [prepared[s].features.hashes for s in data.sources[paper.id]]
        )
        reused = coverage(alignments, len(mine.features), "a")
        found.labels[paper.id] = _meter_label(derivation_label(reused, overlap))
        found.linked[paper.id] = bool(alignments)
    windows = window_signatures([p.features for p in ready], config, hasher)
    pairs, _ = candidate_pairs(
        np.concatenate([w.signatures for w in windows]),
        np.repeat(np.arange(len(ready)), [len(w) for w in windows]),
        threshold=config.lsh_threshold,
        max_bucket_size=config.max_bucket_size,
    )
    order = [p.doc.id for p in ready]
    candidates = {frozenset((order[a], order[b])) for a, b in pairs.tolist()}
    for paper in data.newspapers:
        keys = (frozenset((paper.id, s)) for s in data.sources[paper.id])
        found.candidate[paper.id] = any(key in candidates for key in keys)
    return found


def _rows(data: MeterData, found: Predictions, prefix: str, how: str) -> list[Row]:
    """Label, span and link rows of one way of running dedup (``prefix`` names it)."""
    ids = [n.id for n in data.newspapers]
    gold = [data.labels[i] for i in ids]
    predicted = [found.labels[i] for i in ids]
    derived = [i for i in ids if data.labels[i] != "non_derived"]
    detail = f"{len(ids)} stories; {how}; anchor: Clough et al. 2002 (pairs given)"
    rows = [
        *_label_rows(gold, predicted, prefix, detail),
        *_span_rows(data, found.spans, prefix),
        Row(
            "meter",
            f"{prefix}PA copy linked by a passage (derived stories)",
            float(np.mean([found.linked[i] for i in derived])) if derived else 0.0,
            None,
            f"{sum(found.linked[i] for i in derived)} of {len(derived)} derived stories"
            + (
                f" ({sum(found.quotes_only[i] for i in derived)} only by quotations)"
                if found.quotes_only
                else ""
            ),
        ),
    ]
    name = f"{prefix}PA copy a candidate" if prefix else "LSH candidate recall"
    where = "" if prefix else " of the LSH in a scan of all the texts"
    hits = sum(found.candidate[i] for i in derived)
    candidate = Row(
        "meter",
        f"{name} (derived stories)",
        hits / len(derived) if derived else 0.0,
        None,
        f"{hits} of {len(derived)}: the PA copy is a candidate pair{where}",
    )
    return [*rows, candidate]


def _span_rows(data: MeterData, predicted: Spans, prefix: str) -> list[Row]:
    """Character precision, recall and F1 of the passages against the Verbatim and Rewrite
    spans, and the recall of each tag alone."""
    annotated = list(data.gold_spans)
    gold = {i: [(s, e) for s, e, _ in data.gold_spans[i]] for i in annotated}
    mine = {i: predicted.get(i, []) for i in annotated}
    precision, recall, f1 = span_prf(gold, mine)
    rows = [
        Row(
            "meter",
            f"{prefix}reused-span precision (chars)",
            precision,
            None,
            f"{len(annotated)} annotated stories",
        ),
        Row("meter", f"{prefix}reused-span recall (chars)", recall, None, "Verbatim + Rewrite"),
        Row("meter", f"{prefix}reused-span F1 (chars)", f1, None, ""),
    ]
    for tag in GOLD_TAGS:
        tagged = {i: [(s, e) for s, e, t in data.gold_spans[i] if t == tag] for i in annotated}
        rows.append(
            Row(
                "meter",
                f"{prefix}{tag.capitalize()} recall (chars)",
                span_prf(tagged, mine)[1],
                None,
                f"{_chars(tagged.values()):,} annotated characters",
            )
        )
    return rows


def _chars(spans: Iterable[Sequence[tuple[int, int]]]) -> int:
    return sum(end - start for group in spans for start, end in group)


def _binary(labels: list[str]) -> list[str]:
    return ["non_derived" if label == "non_derived" else "derived" for label in labels]


def _meter_label(label: str) -> str:
    return "non_derived" if label == "independent" else label
