"""One text compared with many through hash tables (the gate's way) gives what comparing
each pair by sorting gives (the scan's way): the same seed chains, passages and shingle
overlaps, on random texts with few distinct words (so runs repeat, stock phrases past the
repeat limit included) and on the seed articles."""

from __future__ import annotations

import numpy as np
import pytest

from dedup.match.align import MAX_SEED_REPEATS, SeedIndex, _seed_chains, align
from dedup.match.score import ShingleIndex, set_overlap
from dedup.models import Document
from dedup.text.features import Features, extract_features, shingle_set
from dedup.util.arrays import distinct_shared, find, hash_table, span_share
from tests.support import SEED_IDS, SEEDS


def random_features(rng: np.random.Generator, length: int, vocabulary: int) -> Features:
    """Tokens drawn from ``vocabulary`` words (each word's hash is its number), in kept
    stretches of text that end at random."""
    hashes = rng.integers(0, vocabulary, length).astype(np.uint64)
    starts = np.arange(length, dtype=np.int32) * 4
    return Features(
        words=tuple(f"w{h}" for h in hashes.tolist()),
        starts=starts,
        ends=starts + 3,
        hashes=hashes,
        sentence_starts=np.zeros(min(length, 1), dtype=np.int64),
        segments=np.cumsum(rng.random(length) < 0.05).astype(np.int32),
        names=np.zeros(length, dtype=bool),
        quoted=np.zeros(length, dtype=bool),
    )


def test_a_hash_index_finds_each_key_and_nothing_else() -> None:
    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(0, 2**64 - 1, 3000, dtype=np.uint64))
    table = hash_table(keys)
    assert len(table) >= 2 * len(keys) and len(table) & (len(table) - 1) == 0
    assert [find(table, keys, k) for k in keys] == list(range(len(keys)))
    absent = np.setdiff1d(rng.integers(0, 2**64 - 1, 3000, dtype=np.uint64), keys)
    assert all(find(table, keys, k) == -1 for k in absent)
    empty = np.empty(0, dtype=np.uint64)
    assert find(hash_table(empty), empty, np.uint64(5)) == -1


def test_distinct_and_shared_counts_are_those_of_sets() -> None:
    rng = np.random.default_rng(8)
    for _ in range(200):
        values = rng.integers(0, 40, int(rng.integers(0, 120))).astype(np.uint64)
        keys = np.unique(rng.integers(0, 40, int(rng.integers(0, 30))).astype(np.uint64))
        distinct, shared = distinct_shared(values, hash_table(keys), keys)
        assert distinct == len(set(values.tolist()))
        assert shared == len(set(values.tolist()) & set(keys.tolist()))


@pytest.mark.parametrize("size", [1, 3, 5])
def test_shingle_index_overlap_is_set_overlap(size: int) -> None:
    rng = np.random.default_rng(size)
    for _ in range(300):
        vocabulary = int(rng.integers(1, 8))
        a = rng.integers(0, vocabulary, int(rng.integers(0, 60))).astype(np.uint64)
        b = rng.integers(0, vocabulary, int(rng.integers(0, 60))).astype(np.uint64)
        shingles = shingle_set(a, size)
        expected = set_overlap(shingles, shingle_set(b, size))
        assert ShingleIndex(shingles, size).overlap(b) == expected


def test_seed_index_gives_the_chains_and_passages_of_sorting() -> None:
    rng = np.random.default_rng(9)
    repeated = chained = passages = 0
    for _ in range(1500):
        vocabulary = int(rng.integers(2, 12))
        a = random_features(rng, int(rng.integers(0, 90)), vocabulary)
        b = random_features(rng, int(rng.integers(0, 90)), vocabulary)
        for k in (1, 2, 3):
            index = SeedIndex(a, k)
            chains = index.chains(b)
            assert np.array_equal(chains, _seed_chains(a, b, k))
            found = index.align(b, min_words=6, min_similarity=0.5)
            assert found == align(a, b, seed_words=k, min_words=6, min_similarity=0.5)
            chained += len(chains) > 0
            passages += len(found) > 0
        counts = np.unique(a.hashes, return_counts=True)[1]
        repeated += bool(len(counts)) and counts.max() > MAX_SEED_REPEATS
    # The random texts exercise what they are for: chains, passages and stock phrases.
    assert chained > 1000 and passages > 300 and repeated > 500


def test_seed_and_shingle_indexes_on_the_seed_articles() -> None:
    texts = [(SEEDS / name).read_text(encoding="utf-8") for name in SEED_IDS]
    features = [extract_features(Document(id=str(n), path="", text=t)) for n, t in enumerate(texts)]
    aligned = 0
    for a in features:
        seeds = SeedIndex(a, 3)
        shingles = ShingleIndex(shingle_set(a.hashes, 5), 5)
        for b in features:
            found = seeds.align(b)
            assert found == align(a, b)
            assert shingles.overlap(b.hashes) == set_overlap(
                shingle_set(a.hashes, 5), shingle_set(b.hashes, 5)
            )
            aligned += bool(found)
    assert aligned > len(features)  # each with itself, and pairs of them


def test_a_share_of_spans_is_the_mean_of_their_mask() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        length = int(rng.integers(0, 60))
        spans = []
        for _ in range(int(rng.integers(0, 6))):
            start = int(rng.integers(0, max(length, 1)))
            spans.append((start, int(rng.integers(start, max(length, 1) + 1))))
        mask = np.zeros(length, dtype=bool)
        for start, end in spans:
            mask[start:end] = True
        expected = float(mask.mean()) if length else 0.0
        assert span_share(spans, length) == expected  # the very same float
