"""Tokens with offsets, sentence windows, shingles, TF-IDF terms and MinHash signatures."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer, TfidfVectorizer

from dedup.match.minhash import MinHasher, estimated_jaccard, fold32
from dedup.match.tfidf import Vocabulary, pair_cosines, tfidf_matrix
from dedup.models import Document
from dedup.text import features as feature_module
from dedup.text.features import (
    NAME_WEIGHT,
    extract_features,
    sentence_windows,
    shingle_hashes,
    shingle_set,
    term_counts,
    term_key,
    tiling,
)
from tests.support import SEED_IDS, SEEDS


def doc(text: str, removed=()) -> Document:
    return Document(id="x", path="x", text=text, removed=list(removed))


def test_tokens_are_normalised_but_offsets_point_at_the_original():
    text = "The COUNTRY’s firms\r\nsaid “yes”."
    feats = extract_features(doc(text))
    assert feats.words == ("the", "country's", "firms", "said", "yes")
    assert [text[s:e] for s, e in zip(feats.starts, feats.ends)] == [
        "The",
        "COUNTRY’s",
        "firms",
        "said",
        "yes",
    ]


def test_removed_spans_are_left_out_and_split_segments():
    text = "Alpha beta gamma. Subscribe now! Delta epsilon."
    start = text.index("Subscribe")
    feats = extract_features(doc(text, [(start, start + len("Subscribe now!"))]))
    assert feats.words == ("alpha", "beta", "gamma", "delta", "epsilon")
    assert feats.segments.tolist() == [0, 0, 0, 1, 1]


def test_sentence_starts():
    feats = extract_features(doc("One two three. Four five!\nSix seven"))
    assert feats.sentence_starts.tolist() == [0, 3, 5]


def test_same_words_give_same_shingles_whatever_the_case_and_quotes():
    a = extract_features(doc("He said ‘deep fake’ technology is RISKY"))
    b = extract_features(doc("he said 'deep fake' technology is risky"))
    assert np.array_equal(shingle_hashes(a.hashes, 3), shingle_hashes(b.hashes, 3))


def test_shingles_count_and_short_text():
    feats = extract_features(doc("a b c d e f"))
    assert len(shingle_hashes(feats.hashes, 5)) == 2
    assert len(shingle_hashes(feats.hashes[:2], 5)) == 1
    assert len(shingle_set(np.empty(0, dtype=np.uint64), 5)) == 0


def test_sentence_windows_cover_the_text_with_whole_sentences():
    sentences = [f"Sentence number {n} has exactly seven words." for n in range(10)]
    feats = extract_features(doc(" ".join(sentences)))
    windows = sentence_windows(feats, 20)
    starts = set(feats.sentence_starts.tolist())
    assert windows[0][0] == 0 and windows[-1][1] == len(feats)
    for start, end in windows:
        assert start in starts
        assert end in starts or end == len(feats)
        assert end - start >= 20 or end == len(feats)


def test_tiling_windows_follow_each_other_without_overlap():
    sentences = [f"Sentence number {n} has exactly seven words." for n in range(10)]
    feats = extract_features(doc(" ".join(sentences)))
    windows = sentence_windows(feats, 20)
    taken = [windows[i] for i in tiling(windows)]
    assert taken[0] == windows[0]
    for (_, end), (start, _) in pairwise(taken):
        assert start == end  # sentence windows: the next one starts where the last ends
    # every stretch of text two windows long holds a whole tiling window
    longest = max(b - a for a, b in windows)
    for start in range(len(feats) - 2 * longest):
        assert any(start <= a and b <= start + 2 * longest for a, b in taken), start
    assert tiling([]) == []
    assert tiling([(0, 5), (2, 7), (5, 9), (6, 10), (9, 12)]) == [0, 2, 4]


def test_short_document_is_one_window():
    feats = extract_features(doc("Only a short note."))
    assert sentence_windows(feats, 40) == [(0, 4)]


@pytest.mark.parametrize("num_perm", [16, 128])
def test_signatures_equal_datasketch_minhash(num_perm):
    rng = np.random.default_rng(7)
    sets = [rng.integers(0, 2**63, size=n, dtype=np.uint64) for n in (1, 50, 700, 0)]
    hasher = MinHasher(num_perm=num_perm, seed=3)
    signatures = hasher.signatures(sets)
    for values, row in zip(sets, signatures):
        reference = MinHash(num_perm=num_perm, seed=3, scheme="affine32", hashfunc=lambda v: v)
        reference.update_batch([int(v) for v in fold32(values)])
        assert np.array_equal(reference.hashvalues, row)


def test_signatures_work_in_datasketch_lsh_and_estimate_jaccard():
    base = np.arange(1000, dtype=np.uint64) * np.uint64(2654435761)
    near = base.copy()
    near[:100] += np.uint64(1)  # Jaccard 900/1100 = 0.82
    far = base + np.uint64(12345)
    hasher = MinHasher(num_perm=128)
    sig = hasher.signatures([base, near, far])
    assert abs(estimated_jaccard(sig[0], sig[1]) - 900 / 1100) < 0.12
    assert estimated_jaccard(sig[0], sig[2]) < 0.1
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    lsh.insert("base", hasher.minhash(sig[0]))
    assert lsh.query(hasher.minhash(sig[1])) == ["base"]
    assert lsh.query(hasher.minhash(sig[2])) == []


def test_banding_finds_the_same_bucket_pairs_as_datasketch_lsh():
    from dedup.match.lsh import band_keys, candidate_pairs, lsh_params

    rng = np.random.default_rng(11)
    base = [rng.integers(0, 2**63, size=60, dtype=np.uint64) for _ in range(40)]
    sets = base + [
        np.concatenate([s[:45], rng.integers(0, 2**63, 15, dtype=np.uint64)]) for s in base[:20]
    ]
    hasher = MinHasher(num_perm=64)
    signatures = hasher.signatures(sets)
    docs = np.arange(len(sets))
    pairs, stats = candidate_pairs(signatures, docs, threshold=0.4, max_bucket_size=100)
    lsh = MinHashLSH(threshold=0.4, num_perm=64)
    assert (stats.bands, stats.rows) == (lsh.b, lsh.r) == lsh_params(0.4, 64)
    for key in range(len(sets)):
        lsh.insert(key, hasher.minhash(signatures[key]))
    expected = set()
    for table in lsh.hashtables:
        for bucket in table.keys():  # noqa: SIM118
            members = sorted(table.get(bucket))
            expected.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    assert {tuple(p) for p in pairs.tolist()} == expected
    assert len(expected) >= 15  # most of the 20 edited copies (Jaccard 0.6) meet their originals
    assert band_keys(signatures, lsh.b, lsh.r).shape == (len(sets), lsh.b)


@pytest.mark.parametrize("windows", [1, 2, 7, 300])
def test_window_buckets_give_the_pairs_of_documents_sharing_a_band(windows):
    """Several windows per document, repeated windows inside a document, a bucket cap:
    the pairs equal those read off a dictionary of buckets, band by band."""
    from dedup.match.lsh import band_keys, candidate_pairs, lsh_params

    rng = np.random.default_rng(windows)
    pool = [rng.integers(0, 2**63, size=30, dtype=np.uint64) for _ in range(max(1, windows // 3))]
    sets = [pool[i] for i in rng.integers(0, len(pool), size=windows)]
    signatures = MinHasher(num_perm=32).signatures(sets)
    docs = np.sort(rng.integers(0, max(1, windows // 2), size=windows))
    pairs, stats = candidate_pairs(signatures, docs, threshold=0.5, max_bucket_size=5)
    bands, rows = lsh_params(0.5, 32)
    keys = band_keys(signatures, bands, rows)
    expected, oversized = set(), 0
    for band in range(bands):
        buckets: dict[int, set[int]] = {}
        for key, doc_index in zip(keys[:, band].tolist(), docs.tolist()):
            buckets.setdefault(key, set()).add(doc_index)
        for members in buckets.values():
            if len(members) > 5:
                oversized += 1
                continue
            ordered = sorted(members)
            expected.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    assert {tuple(p) for p in pairs.tolist()} == expected
    assert stats.oversized_buckets == oversized
    if windows == 300:
        assert expected and oversized  # the case is not trivial


@pytest.mark.parametrize("limit", [3, 1000])
def test_pairs_by_band_give_each_candidate_pair_once_in_its_first_band(limit):
    """Band by band, the pairs of one-signature documents are candidate_pairs' pairs, each
    in exactly one band: the first that expanded a bucket holding both (buckets over the
    limit, which expand nothing, do not count)."""
    from dedup.match.lsh import band_keys, candidate_pairs, lsh_params, pairs_by_band

    rng = np.random.default_rng(limit)
    pool = [rng.integers(0, 2**63, size=12, dtype=np.uint64) for _ in range(40)]
    sets = [
        np.concatenate([pool[i][: rng.integers(6, 12)], pool[(i + 1) % 40][:3]])
        for i in rng.integers(0, 40, size=120)
    ]
    signatures = MinHasher(num_perm=16).signatures(sets)
    docs = np.arange(len(sets))
    expected, _ = candidate_pairs(signatures, docs, threshold=0.2, max_bucket_size=limit)
    by_band = list(pairs_by_band(signatures, threshold=0.2, max_bucket_size=limit))
    found = np.concatenate(by_band)
    assert len(found) == len(expected) > 50  # each pair once, and the case is not trivial
    assert {tuple(p) for p in found.tolist()} == {tuple(p) for p in expected.tolist()}
    bands, rows = lsh_params(0.2, 16)
    keys = band_keys(signatures, bands, rows)
    sizes = [np.unique(keys[:, band], return_counts=True) for band in range(bands)]

    def expanded(band, i, j):
        values, counts = sizes[band]
        size = counts[np.searchsorted(values, keys[i, band])]
        return keys[i, band] == keys[j, band] and size <= limit

    for band, pairs in enumerate(by_band):
        for i, j in pairs.tolist():
            assert expanded(band, i, j)
            assert not any(expanded(earlier, i, j) for earlier in range(band))
    if limit == 3:
        assert any(len(pairs) for pairs in by_band[1:])  # later bands add pairs of their own


def test_window_signatures_from_spans_equal_direct_window_minhashes(seeds_dir):
    from dedup.text.features import window_shingles

    hasher = MinHasher(num_perm=64)
    checked = 0
    for path in sorted(seeds_dir.iterdir()):
        feats = extract_features(doc(path.read_text()))
        windows = sentence_windows(feats, 30)
        direct = hasher.signatures([shingle_set(feats.hashes[a:b], 3) for a, b in windows])
        hashes, spans = window_shingles(feats, windows, 3)
        assert len(hashes) == len(shingle_hashes(feats.hashes, 3))  # each shingle hashed once
        assert np.array_equal(hasher.span_signatures(hashes, spans), direct)
        checked += len(windows)
    assert checked > 20


@pytest.mark.parametrize(
    "text",
    [
        "Officials met in Columbia on Monday to discuss the storm damage, said the mayor of Florence, S.C.",
        "One.",
        "A long sentence here with many words in it, and more words. X. Y z.",
    ],
)
def test_window_shingles_handle_windows_shorter_than_a_shingle(text):
    from dedup.text.features import window_shingles

    hasher = MinHasher(num_perm=16)
    feats = extract_features(doc(text))
    for size in (3, 5, 40):
        windows = sentence_windows(feats, size)
        hashes, spans = window_shingles(feats, windows, 3)
        direct = hasher.signatures([shingle_set(feats.hashes[a:b], 3) for a, b in windows])
        assert np.array_equal(hasher.span_signatures(hashes, spans), direct)


def written_term_counts(features) -> Counter[str]:
    """The TF-IDF terms written out: every word but stop words, names ``NAME_WEIGHT`` more
    times as ``name:`` + word (what the scan counted before term keys)."""
    counts: Counter[str] = Counter()
    for word, is_name in zip(features.words, features.names.tolist()):
        if word not in ENGLISH_STOP_WORDS:
            counts[word] += 1
            if is_name:
                counts[f"name:{word}"] += NAME_WEIGHT
    return counts


def seed_features() -> list:
    return [extract_features(doc((SEEDS / name).read_text(encoding="utf-8"))) for name in SEED_IDS]


def test_term_counts_are_the_written_terms_under_their_keys() -> None:
    for features in seed_features():
        keys, counts = term_counts(features)
        expected = {term_key(t): n for t, n in written_term_counts(features).items()}
        assert dict(zip(keys.tolist(), counts.tolist())) == expected
        assert keys.tolist() == sorted(expected)
    assert term_counts(extract_features(doc("The and of it.")))[0].tolist() == []


def test_a_text_s_terms_leave_out_its_own_language_s_stop_words() -> None:
    text = "Les deux hommes contestent la fraude et le procès de Paris se poursuit."
    french = doc(text)
    french.language = "fr"
    terms = set(term_counts(extract_features(french))[0].tolist())
    words = ["hommes", "contestent", "fraude", "procès", "paris", "name:paris", "poursuit"]
    assert terms == {term_key(w) for w in words}
    english = doc(text)
    english.language = "en"  # English's list knows none of the French words
    assert terms < set(term_counts(extract_features(english))[0].tolist())


def test_tfidf_rows_are_scikit_learns_on_the_written_terms() -> None:
    features = [*seed_features(), extract_features(doc("the of and"))]
    ours = tfidf_matrix(features)
    theirs = TfidfVectorizer(
        analyzer=lambda f: list(written_term_counts(f).elements()),
        sublinear_tf=True,
        dtype=np.float32,
    ).fit_transform(features)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_allclose((ours @ ours.T).toarray(), (theirs @ theirs.T).toarray(), atol=1e-6)
    # The gate's float64 rows from document frequencies give the same cosines.
    counted = [term_counts(f) for f in features]
    every = np.unique(np.concatenate([k for k, _ in counted]))
    df = sum(np.isin(every, k).astype(np.int64) for k, _ in counted)
    rows = Vocabulary.from_frequencies(every, df, len(features), np.float64).rows(counted)
    assert rows.dtype == np.float64
    for a in range(len(features) - 1):
        for b in range(len(features) - 1):
            (cosine,) = pair_cosines(rows, np.array([[a, b]]))
            assert cosine == pytest.approx(float((ours[a] @ ours[b].T).toarray()[0, 0]), abs=1e-5)


def test_tfidf_rows_are_exactly_tfidf_transformers_on_the_count_matrix() -> None:
    # The one weighting every engine uses (Vocabulary) gives the very floats of
    # TfidfTransformer.fit_transform, not just close ones: the Spark scan and the gate rely
    # on it to give the local scan's cosines.
    features = [*seed_features(), extract_features(doc("the of and"))]
    counted = [term_counts(f) for f in features]
    every = np.unique(np.concatenate([k for k, _ in counted]))
    counts = np.zeros((len(features), len(every)), dtype=np.float32)
    for row, (keys, values) in enumerate(counted):
        counts[row, np.searchsorted(every, keys)] = values
    theirs = TfidfTransformer(sublinear_tf=True).fit_transform(sparse.csr_matrix(counts))
    ours = tfidf_matrix(features)
    assert ours.dtype == theirs.dtype == np.float32
    assert np.array_equal(ours.toarray(), theirs.toarray())


def test_a_text_with_more_new_words_than_the_caches_hold_is_keyed_whole(monkeypatch):
    # The caches of word hashes and match keys empty themselves when full; a text whose new
    # words do not fit must still get every word's key, the same as one word at a time.
    words = [f"word{i}" for i in range(50)] + ["organisation", "twelve", "word3"]
    expected_hashes = [feature_module.word_hash(w) for w in words]
    expected_keys = [feature_module.match_key(w) for w in words]
    monkeypatch.setattr(feature_module, "_HASH_CACHE_LIMIT", 10)
    feature_module._HASH_CACHE.clear()
    feature_module._MATCH_KEYS.clear()
    text = " ".join(words)
    found = feature_module.extract_features(Document(id="x", path="", text=text))
    keys, numbers, numeric = feature_module.word_match_keys(found)
    assert keys.tolist() == [k & ~3 for k in expected_keys] and not numbers.any()
    assert numeric.tolist() == [w == "twelve" for w in words]
    assert feature_module._word_hashes(words).tolist() == expected_hashes
    assert len(feature_module._MATCH_KEYS) <= len(set(words))
