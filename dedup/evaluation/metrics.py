"""Evaluation measures: class labels, character spans, clusterings and document pairs.

Every measure that divides by a count returns 0.0 when the count is zero (scikit-learn's
``zero_division=0``), so an empty prediction scores 0, never an error.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import NamedTuple

from sklearn.metrics import adjusted_rand_score, f1_score, precision_recall_fscore_support


class ClassScore(NamedTuple):
    """Precision, recall and F1 of one class, and how many gold items it has."""

    precision: float
    recall: float
    f1: float
    support: int


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of the per-class F1 over ``labels``.

    Args:
        gold: Gold label per item.
        predicted: Predicted label per item (same order and length as ``gold``).
        labels: The classes to average over (a class missing from both lists scores 0).

    Raises:
        ValueError: the lists differ in length.
    """
    _same_length(gold, predicted)
    if not gold:
        return 0.0
    return float(f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0))


def class_scores(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, ClassScore]:
    """Precision, recall, F1 and support of each class, in the order of ``labels``.

    Raises:
        ValueError: the lists differ in length.
    """
    _same_length(gold, predicted)
    if not gold:
        return {label: ClassScore(0.0, 0.0, 0.0, 0) for label in labels}
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(labels), zero_division=0
    )
    return {
        label: ClassScore(float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }


def span_prf(
    gold: Mapping[str, Iterable[Sequence[int]]],
    predicted: Mapping[str, Iterable[Sequence[int]]],
) -> tuple[float, float, float]:
    """Character-level precision, recall and F1 of predicted spans, micro-averaged.

    Each document's spans are merged first, so a character covered by several overlapping
    spans counts once. Spans are ``[start, end)``; items after ``end`` (a tag) are ignored.
    A document missing from one side has no spans there (restrict ``predicted`` to the
    annotated documents to score only those).

    Args:
        gold: Document id -> gold spans.
        predicted: Document id -> predicted spans.

    Returns:
        ``(precision, recall, f1)`` over all characters of all documents.
    """
    overlap = gold_total = predicted_total = 0
    for doc_id in set(gold) | set(predicted):
        gold_spans = merge_spans(gold.get(doc_id, ()))
        predicted_spans = merge_spans(predicted.get(doc_id, ()))
        gold_total += sum(end - start for start, end in gold_spans)
        predicted_total += sum(end - start for start, end in predicted_spans)
        overlap += _overlap(gold_spans, predicted_spans)
    return _prf(overlap, predicted_total, gold_total)


def merge_spans(spans: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint ``[start, end)`` spans covering the same characters as ``spans``.

    Empty spans are dropped; touching spans are joined.

    Raises:
        ValueError: a span ends before it starts.
    """
    ordered = []
    for span in spans:
        start, end = int(span[0]), int(span[1])
        if end < start:
            raise ValueError(f"span ({start}, {end}) ends before it starts")
        if end > start:
            ordered.append((start, end))
    ordered.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlap(left: list[tuple[int, int]], right: list[tuple[int, int]]) -> int:
    """Characters shared by two lists of sorted, disjoint spans."""
    total = i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        total += max(0, end - start)
        if left[i][1] <= right[j][1]:
            i += 1
        else:
            j += 1
    return total


def adjusted_rand(gold_labels: Sequence[Hashable], predicted_labels: Sequence[Hashable]) -> float:
    """Adjusted Rand index of a predicted clustering against the gold one.

    Args:
        gold_labels: Gold cluster of each item.
        predicted_labels: Predicted cluster of each item, in the same order.

    Raises:
        ValueError: the lists differ in length.
    """
    _same_length(gold_labels, predicted_labels)
    return float(adjusted_rand_score(list(gold_labels), list(predicted_labels)))


def pair_prf(
    gold_pairs: Iterable[Iterable[Hashable]],
    predicted_pairs: Iterable[Iterable[Hashable]],
) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicted unordered pairs against gold pairs.

    ``(a, b)`` and ``(b, a)`` are the same pair, repeats count once, and a pair of an item
    with itself is ignored.

    Returns:
        ``(precision, recall, f1)``.
    """
    gold = _pair_set(gold_pairs)
    predicted = _pair_set(predicted_pairs)
    return _prf(len(gold & predicted), len(predicted), len(gold))


def cluster_pairs(clusters: Mapping[Hashable, Hashable]) -> set[frozenset[Hashable]]:
    """The unordered pairs of items that share a cluster (item -> cluster)."""
    members: dict[Hashable, list[Hashable]] = {}
    for item, cluster in clusters.items():
        members.setdefault(cluster, []).append(item)
    return {
        frozenset((a, b))
        for group in members.values()
        for index, a in enumerate(group)
        for b in group[index + 1 :]
    }


def _pair_set(pairs: Iterable[Iterable[Hashable]]) -> set[frozenset[Hashable]]:
    return {frozenset(pair) for pair in pairs if len(frozenset(pair)) == 2}


def _prf(overlap: int, predicted: int, gold: int) -> tuple[float, float, float]:
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _same_length(gold: Sequence[object], predicted: Sequence[object]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predicted labels")
