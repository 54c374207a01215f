"""The gate's packed token features (``dedup.text.packed``): what unpacking gives back equals
what tokenising gives, for every use the gate makes of it."""

from __future__ import annotations

import zlib

import lz4.block
import numpy as np
import pytest

from dedup.match.align import align
from dedup.models import Document
from dedup.text.features import extract_features
from dedup.text.packed import pack_features, unpack_features
from tests.support import SEED_IDS, SEEDS


def test_packed_features_give_back_what_tokenising_gives() -> None:

    texts = [(SEEDS / name).read_text(encoding="utf-8") for name in SEED_IDS]
    texts += ["", "Zürich — “Straße” l’été ǅemal 字字. Ünïcödé!\n\nNew line, ŉ and ß.", "one"]
    texts += ["He said: \"We will win.\" The 'old guard' left, 'slowly'."]
    for text in texts:
        removed = [(0, 40)] if len(text) > 200 else []
        features = extract_features(Document(id="x", path="", text=text, removed=removed))
        packed = pack_features(features)
        assert packed is not None
        # Version 1 (zlib) of the same body, as indexes built before LZ4 hold it.
        older = b"\x01" + zlib.compress(lz4.block.decompress(packed[1:]), 1)
        for got in (unpack_features(packed), unpack_features(older)):
            assert got.words == features.words
            assert [got.words[i] for i in range(len(got.words))] == list(features.words)
            assert got.words[-2:] == features.words[-2:]
            for name in (
                "starts",
                "ends",
                "hashes",
                "sentence_starts",
                "segments",
                "names",
                "quoted",
            ):
                expected, actual = getattr(features, name), getattr(got, name)
                assert actual.dtype == expected.dtype, name
                assert np.array_equal(actual, expected), name
    with pytest.raises(ValueError, match="version"):
        unpack_features(b"\x09" + packed[1:])
    with pytest.raises(ValueError, match="damaged"):
        unpack_features(packed[:-3])


def test_passages_of_packed_features_are_those_of_tokenised_ones() -> None:
    """The gate aligns candidates read back from the index (words kept as bytes) with the
    same passages as freshly tokenised texts (words as a tuple)."""

    texts = [(SEEDS / name).read_text(encoding="utf-8") for name in SEED_IDS]
    # Compounds split on one side (``deep fakes`` / ``deepfakes``) at a passage's edges.
    base = " ".join(texts[0].split()[:80])
    texts.append("A deep fakes note. " + base + " Hand out now.")
    texts.append("A deepfakes note. " + base + " Handout now.")
    tokenised = [
        extract_features(Document(id=str(i), path="", text=t)) for i, t in enumerate(texts)
    ]
    packed = [unpack_features(pack_features(f)) for f in tokenised]  # type: ignore[arg-type]
    shared = 0
    for i in range(len(texts)):
        for j in range(len(texts)):
            if i != j:
                expected = align(tokenised[i], tokenised[j], min_words=5)
                assert align(packed[i], packed[j], min_words=5) == expected
                assert align(tokenised[i], packed[j], min_words=5) == expected
                shared += len(expected)
    assert shared > 0
    grown = align(packed[-2], packed[-1], min_words=5)
    assert grown and grown[0].a_start == 0 and grown[0].b_start == 0  # over the compound


def test_a_word_holding_a_space_is_not_packed() -> None:

    features = extract_features(Document(id="x", path="", text="two words"))
    features.words = ("two two", *features.words[1:])
    assert pack_features(features) is None
