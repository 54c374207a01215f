"""Evaluation measures against hand-computed values."""

from __future__ import annotations

import pytest

from dedup.evaluation.metrics import (
    ClassScore,
    adjusted_rand,
    class_scores,
    cluster_pairs,
    macro_f1,
    merge_spans,
    pair_prf,
    span_prf,
)

LABELS = ["a", "b", "c"]
GOLD = ["a", "a", "b", "c"]
PREDICTED = ["a", "b", "b", "c"]


def test_macro_f1_averages_the_class_f1():
    # a: P 1, R 1/2, F1 2/3; b: P 1/2, R 1, F1 2/3; c: F1 1.
    assert macro_f1(GOLD, PREDICTED, LABELS) == pytest.approx(7 / 9)
    # A class that never occurs counts as F1 0 in the average.
    assert macro_f1(GOLD, PREDICTED, [*LABELS, "d"]) == pytest.approx(7 / 12)
    assert macro_f1([], [], LABELS) == 0.0


def test_class_scores_table():
    table = class_scores(GOLD, PREDICTED, LABELS)
    assert list(table) == LABELS
    assert table["a"] == pytest.approx(ClassScore(1.0, 0.5, 2 / 3, 2))
    assert table["b"] == pytest.approx(ClassScore(0.5, 1.0, 2 / 3, 1))
    assert table["c"] == pytest.approx(ClassScore(1.0, 1.0, 1.0, 1))


def test_label_lists_of_different_length_are_refused():
    with pytest.raises(ValueError, match="3 gold labels but 2"):
        macro_f1(["a", "b", "c"], ["a", "b"], LABELS)
    with pytest.raises(ValueError):
        adjusted_rand([1, 2], [1])


def test_span_prf_counts_each_character_once_over_all_documents():
    gold = {"d1": [(0, 10), (5, 15, "verbatim")], "d2": [(0, 4)]}
    predicted = {"d1": [(10, 20)], "d3": [(0, 5)]}
    # gold 15 + 4 = 19 characters, predicted 10 + 5 = 15, shared 5 (d1 10..15).
    precision, recall, f1 = span_prf(gold, predicted)
    assert precision == pytest.approx(5 / 15)
    assert recall == pytest.approx(5 / 19)
    assert f1 == pytest.approx(5 / 17)
    assert span_prf(gold, gold) == pytest.approx((1.0, 1.0, 1.0))
    assert span_prf(gold, {}) == (0.0, 0.0, 0.0)


def test_merge_spans():
    assert merge_spans([(8, 9), (0, 3), (2, 5), (5, 6), (7, 7)]) == [(0, 6), (8, 9)]
    with pytest.raises(ValueError, match="ends before it starts"):
        merge_spans([(4, 2)])


def test_adjusted_rand():
    assert adjusted_rand([0, 0, 1, 1], ["x", "x", "y", "y"]) == pytest.approx(1.0)
    # Every cell of the 2x2 contingency table holds one item: index (0 - 2/3) / (2 - 2/3).
    assert adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)


def test_pair_prf_treats_pairs_as_unordered():
    gold = [("a", "b"), ("c", "d")]
    predicted = [("b", "a"), ("a", "b"), ("a", "c"), ("a", "a")]
    assert pair_prf(gold, predicted) == pytest.approx((0.5, 0.5, 0.5))
    assert pair_prf(gold, []) == (0.0, 0.0, 0.0)


def test_cluster_pairs():
    pairs = cluster_pairs({"a": 1, "b": 1, "c": 1, "d": 2})
    assert pairs == {frozenset("ab"), frozenset("ac"), frozenset("bc")}
    assert pair_prf(pairs, [("c", "b")]) == pytest.approx((1.0, 1 / 3, 0.5))
