"""The matching stage every engine shares: a cleaned document prepared for comparison
(features, shingle set, MinHash signatures of the text and of its sentence windows), and the
comparison of two prepared documents (scores, passages, relation).

The local scan, the Spark scan, the gate and ``dedup eval`` all call these functions: a
change to how two texts are compared lands here once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import ScanConfig
from ..models import Document, PairScore
from ..text.features import (
    Features,
    extract_features,
    sentence_windows,
    shingle_set,
    window_shingles,
)
from ..util.progress import Progress, no_progress
from .align import Alignment, align, coverage
from .minhash import MinHasher, estimated_jaccard
from .score import relation, set_overlap


@dataclass
class Prepared:
    """A cleaned document with everything matching needs: features, shingle set, MinHash
    signature of the whole text and of each sentence window.

    ``windows`` are the sentence windows' token ranges, one per row of
    ``window_signatures`` (both empty when the windows were left out, and in a scan once
    their band keys are known: see :class:`Corpus`)."""

    doc: Document
    features: Features
    shingles: np.ndarray
    signature: np.ndarray
    window_signatures: np.ndarray
    windows: list[tuple[int, int]] = field(default_factory=list)


def prepare(
    docs: list[Document],
    config: ScanConfig,
    hasher: MinHasher,
    *,
    progress: Progress | None = None,
    windows: bool = True,
    features: list[Features] | None = None,
) -> list[Prepared]:
    """Features and signatures of cleaned documents (the scan's and the gate's shared stage).

    ``windows=False`` leaves the sentence windows' signatures out (an empty array each): what
    :func:`compare` needs of an already indexed document, at a fraction of the cost.
    ``features``, when given, are the documents' features already known (the gate keeps
    them in its index), not extracted again.
    """
    report = progress or no_progress
    if not docs:
        return []
    if features is None:
        features = []
        for index, doc in enumerate(docs):
            features.append(extract_features(doc))
            if index % 500 == 0:
                report("features", index, len(docs))
    shingles = [shingle_set(f.hashes, config.shingle_size) for f in features]
    signatures = hasher.signatures(shingles)
    if not windows:
        empty = np.empty((0, hasher.num_perm), dtype=signatures.dtype)
        return [
            Prepared(doc, feat, shingle, signature, empty)
            for doc, feat, shingle, signature in zip(docs, features, shingles, signatures)
        ]
    # The windows of all documents in one call: their shingles end to end, each window a span.
    windows_of = [sentence_windows(feat, config.window_words) for feat in features]
    all_hashes: list[np.ndarray] = []
    all_spans: list[np.ndarray] = []
    offset = 0
    for feat, windows in zip(features, windows_of):
        hashes, spans = window_shingles(feat, windows, config.seed_words)
        all_hashes.append(hashes)
        all_spans.append(spans + offset)
        offset += len(hashes)
    window_signatures = np.split(
        hasher.span_signatures(np.concatenate(all_hashes), np.concatenate(all_spans)),
        np.cumsum([len(spans) for spans in all_spans])[:-1],
    )
    return [
        Prepared(doc, feat, shingle, signature, rows, windows)
        for doc, feat, shingle, signature, rows, windows in zip(
            docs, features, shingles, signatures, window_signatures, windows_of
        )
    ]


def compare(
    a: Prepared, b: Prepared, cosine: float, config: ScanConfig
) -> tuple[PairScore, list[Alignment]]:
    """Score and align one pair: Jaccard, containment, passages, coverage and relation."""
    found = align(
        a.features,
        b.features,
        seed_words=config.seed_words,
        min_words=config.min_passage_words,
        min_similarity=config.min_passage_similarity,
    )
    score = pair_score(
        (a.doc.id, len(a.features)),
        (b.doc.id, len(b.features)),
        set_overlap(a.shingles, b.shingles),
        found,
        config,
        cosine=cosine,
        jaccard_estimate=estimated_jaccard(a.signature, b.signature),
    )
    return score, found


def pair_score(
    a: tuple[str, int],
    b: tuple[str, int],
    overlap: tuple[float, float, float],
    found: list[Alignment],
    config: ScanConfig,
    *,
    cosine: float = 0.0,
    jaccard_estimate: float = math.nan,
) -> PairScore:
    """The score and relation of a pair from its parts: each side's id and number of tokens,
    the shingle overlap (Jaccard, containment of a, of b) and the passages."""
    jaccard, contained_a, contained_b = overlap
    score = PairScore(
        a=a[0],
        b=b[0],
        cosine=cosine,
        jaccard=jaccard,
        jaccard_estimate=jaccard_estimate,
        containment_a=contained_a,
        containment_b=contained_b,
        passages=len(found),
        coverage_a=coverage(found, a[1], "a"),
        coverage_b=coverage(found, b[1], "b"),
    )
    score.relation = relation(score, config)
    return score
