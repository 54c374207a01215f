"""The comparison every engine shares: a cleaned document prepared for comparison (features,
shingle set, MinHash signature), and the comparison of two prepared documents (scores,
passages, relation).

The local scan, the Spark scan, the gate and ``dedup eval`` all call these functions: a
change to how two texts are compared lands here once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..config import ScanConfig
from ..models import Document, PairScore
from ..text.features import (
    Features,
    extract_features,
    shingle_set,
    text_key,
)
from ..text.scripts import unspaced_share
from .align import QUOTE, VERBATIM, Alignment, align, coverage, word_bytes
from .minhash import MinHasher, estimated_jaccard
from .rewrite import rewrite_passages
from .score import relation, set_overlap

# Shared words, in shortest passages, a pair found by its terms alone must have.
TERMS_ONLY_MIN_FACTOR = 2
# A passage is a quote when at least this share of its words lies inside quotation marks in
# both texts: what a speaker said and, at most, a few words around it ("he said").
QUOTE_SHARE = 0.8


@dataclass
class Prepared:
    """A cleaned document ready to compare: its token features, shingle set, the MinHash
    signature of that set, and the key of its whole text
    (:func:`~dedup.text.features.text_key`: equal keys, identical texts)."""

    doc: Document
    features: Features
    shingles: np.ndarray
    signature: np.ndarray
    text_key: int


def prepare(
    docs: Sequence[Document],
    config: ScanConfig,
    hasher: MinHasher,
    *,
    features: Sequence[Features] | None = None,
    text_keys: Sequence[int] | None = None,
) -> list[Prepared]:
    """Cleaned documents prepared for :func:`compare`.

    Args:
        docs: The documents, cleaned.
        config: The shingle size.
        hasher: Computes the signatures.
        features: The documents' features when already known (the gate keeps them in its
            index, the scan keeps them between stages), else they are extracted.
        text_keys: Their :func:`~dedup.text.features.text_key` when already known (the scan
            prepares a document again in each chunk of pairs it is in), else computed.
    """
    if not docs:
        return []
    if features is None:
        features = [extract_features(doc) for doc in docs]
    if text_keys is None:
        text_keys = [text_key(doc.text) for doc in docs]
    shingles = [shingle_set(f.hashes, config.shingle_size) for f in features]
    signatures = hasher.signatures(shingles)
    return [
        Prepared(doc, feat, shingle, signature, int(key))
        for doc, feat, shingle, signature, key in zip(
            docs, features, shingles, signatures, text_keys
        )
    ]


def compare(
    a: Prepared, b: Prepared, cosine: float, config: ScanConfig, *, shares_window: bool = True
) -> tuple[PairScore, list[Alignment]]:
    """Score and align one pair: Jaccard, containment, passages, coverage and relation.

    A pair that shares no sentence window (a candidate by its terms alone) must share
    ``TERMS_ONLY_MIN_FACTOR`` times the shortest passage in all, or its passages do not
    count: a single short passage between two such texts is more likely a stock phrase or a
    source both quote (a statement's wording) than copy."""
    min_words = passage_minimum(a.features, b.features, config)
    found = passages(a.features, b.features, config, min_words)
    if not shares_window:
        found = terms_only_passages(found, min_words)
    score = pair_score(
        (a.doc.id, len(a.features)),
        (b.doc.id, len(b.features)),
        set_overlap(a.shingles, b.shingles),
        found,
        config,
        cosine=cosine,
        jaccard_estimate=estimated_jaccard(a.signature, b.signature),
        identical=a.text_key == b.text_key,
    )
    return score, found


def terms_only_passages(found: list[Alignment], min_words: int) -> list[Alignment]:
    """The passages of a pair found by its terms alone (it shares no sentence window), which
    count only when they hold ``TERMS_ONLY_MIN_FACTOR`` times the shortest passage
    (``min_words`` tokens, :func:`passage_minimum`) in all."""
    if sum(x.words for x in found) < TERMS_ONLY_MIN_FACTOR * min_words:
        return []
    return found


def passage_minimum(a: Features, b: Features, config: ScanConfig) -> int:
    """The shortest passage of two texts, in tokens: ``config.min_passage_words``, twice as
    many when most tokens of either text are pieces of runs without spaces (Chinese,
    Japanese, Thai: a pair of characters weighs half a word, :mod:`dedup.text.scripts`)."""
    return config.min_passage_words * max(token_scale(a), token_scale(b))


def token_scale(features: Features) -> int:
    """Tokens a word of the text is worth: 2 when most of its tokens are pieces of runs
    without spaces, else 1 (kept on the features)."""
    cached = features.__dict__.get("_token_scale")
    if cached is None:
        # The words' UTF-8 bytes, which alignment reads too (and which the gate's packed
        # features hold as they are): ASCII words are no pieces of runs without spaces.
        data, _ = word_bytes(features)
        unspaced = data.size and data.max() >= 0x80 and unspaced_share(features.words) >= 0.5
        cached = 2 if unspaced else 1
        features.__dict__["_token_scale"] = cached
    return int(cached)


def passages(
    a: Features, b: Features, config: ScanConfig, min_words: int | None = None
) -> list[Alignment]:
    """The shared passages of two texts, in text order: the verbatim ones
    (:func:`~dedup.match.align.align`) and the rewritten ones outside them
    (:func:`~dedup.match.rewrite.rewrite_passages`), none shorter than ``min_words`` tokens
    (default :func:`passage_minimum`)."""
    min_words = passage_minimum(a, b, config) if min_words is None else min_words
    verbatim = align(
        a,
        b,
        seed_words=config.seed_words,
        min_words=min_words,
        min_similarity=config.min_passage_similarity,
    )
    return with_rewrites(a, b, verbatim, min_words)


def with_rewrites(
    a: Features, b: Features, verbatim: list[Alignment], min_words: int
) -> list[Alignment]:
    """The ``verbatim`` passages of two texts and the rewritten ones outside them (none
    shorter than ``min_words`` tokens: :func:`passage_minimum`), in text order, those that
    are only quotations marked so (:func:`mark_quotes`)."""
    rewritten = rewrite_passages(a, b, verbatim, min_words=min_words)
    found = sorted(verbatim + rewritten, key=lambda x: (x.a_start, x.b_start))
    return mark_quotes(a, b, found)


def mark_quotes(a: Features, b: Features, found: list[Alignment]) -> list[Alignment]:
    """The passages, each of which lies inside quotation marks in both texts (at least
    ``QUOTE_SHARE`` of its words on each side) of kind ``quote``: two outlets that quote one
    speaker share the words without copying each other."""
    if not found:
        return found
    quoted_a, quoted_b = _quoted_before(a), _quoted_before(b)
    if not (quoted_a[-1] and quoted_b[-1]):
        return found
    return [
        replace(x, kind=QUOTE)
        if quoted_a[x.a_end] - quoted_a[x.a_start] >= QUOTE_SHARE * (x.a_end - x.a_start)
        and quoted_b[x.b_end] - quoted_b[x.b_start] >= QUOTE_SHARE * (x.b_end - x.b_start)
        else x
        for x in found
    ]


def _quoted_before(features: Features) -> np.ndarray:
    """How many tokens before each token (and before the end) are quoted, kept on the
    features (a text meets many others)."""
    cached = features.__dict__.get("_quoted_before")
    if cached is None:
        cached = np.concatenate(([0], np.cumsum(features.quoted)))
        features.__dict__["_quoted_before"] = cached
    return cached


def pair_score(
    a: tuple[str, int],
    b: tuple[str, int],
    overlap: tuple[float, float, float],
    found: list[Alignment],
    config: ScanConfig,
    *,
    cosine: float = 0.0,
    jaccard_estimate: float = math.nan,
    identical: bool = False,
) -> PairScore:
    """The score and relation of a pair from its parts: each side's id and number of tokens,
    the shingle overlap (Jaccard, containment of a, of b) and the passages; ``identical``
    texts are duplicates whatever their cleaning kept."""
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
    if all(x.kind == VERBATIM for x in found):
        score.verbatim_a, score.verbatim_b = score.coverage_a, score.coverage_b
    else:
        verbatim = [x for x in found if x.kind == VERBATIM]
        quotes = [x for x in found if x.kind == QUOTE]
        score.verbatim_a = coverage(verbatim, a[1], "a")
        score.verbatim_b = coverage(verbatim, b[1], "b")
        score.quote_a = coverage(quotes, a[1], "a") if quotes else 0.0
        score.quote_b = coverage(quotes, b[1], "b") if quotes else 0.0
        score.rewrite_a = score.coverage_a - score.verbatim_a - score.quote_a
        score.rewrite_b = score.coverage_b - score.verbatim_b - score.quote_b
    score.relation = relation(score, config, identical=identical)
    if score.relation == "shares_text" and all(x.kind == QUOTE for x in found):
        score.relation = "shares_quote"  # both quote one speaker; neither need copy the other
    return score
