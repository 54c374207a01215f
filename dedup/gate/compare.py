"""One incoming article compared with the indexed candidates: the scan's pair comparison
(:mod:`dedup.match.compare`), one-to-many, and its result as the verdict's matches."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import cast

import numpy as np

from ..config import ScanConfig
from ..match.align import KINDS, Alignment, SeedIndex, char_spans, excerpt
from ..match.compare import (
    Prepared,
    pair_score,
    passage_minimum,
    terms_only_passages,
    with_rewrites,
)
from ..match.score import ShingleIndex
from ..match.tfidf import Vocabulary, pair_cosines
from ..models import PairScore
from ..store import Store
from ..text.features import term_counts
from ..util.arrays import unique
from .records import Candidate, Incoming
from .verdict import Match, MatchPassage, MatchRelation


@dataclass
class Related:
    """A candidate that shares text with the incoming article: its scores and passages."""

    candidate: Candidate
    score: PairScore
    passages: list[Alignment]


def related_candidates(
    incoming: Prepared,
    candidates: list[Candidate],
    config: ScanConfig,
    *,
    by_terms: Collection[str] = (),
) -> list[Related]:
    """The candidates that share text with ``incoming`` (relation not ``none``), scored
    and aligned as the scan's :func:`~dedup.match.compare.compare` does them, cosine aside
    (:func:`set_cosines`), and without the MinHash estimate of their Jaccard (NaN: the gate
    computes no signature of a candidate, and its answer has no estimate). A candidate found
    by its terms alone (its id in ``by_terms``) is held to the scan's rule for such pairs
    (:func:`~dedup.match.compare.terms_only_passages`).

    The incoming text's seed runs and shingles are put in hash tables once, and each
    candidate's are looked up in them (:class:`~dedup.match.align.SeedIndex`,
    :class:`~dedup.match.score.ShingleIndex`): sorting them, as the scan does for a document
    it compares many times, would cost more than the comparison itself."""
    seeds = SeedIndex(incoming.features, config.seed_words)
    shingles = ShingleIndex(incoming.shingles, config.shingle_size)
    length = len(incoming.features)
    related = []
    for candidate in candidates:
        features = candidate.features
        chains = seeds.chains(features)
        overlap = shingles.overlap(features.hashes)
        terms_only = candidate.doc.id in by_terms
        if not len(chains) and overlap[0] < config.duplicate_coverage and not terms_only:
            continue  # no shared seed: a window's candidate shares no passage, ``none``
        min_words = passage_minimum(incoming.features, features, config)
        verbatim = seeds.align(
            features,
            min_words=min_words,
            min_similarity=config.min_passage_similarity,
            chains=chains,
        )
        found = with_rewrites(incoming.features, features, verbatim, min_words)
        if terms_only:
            found = terms_only_passages(found, min_words)
        score = pair_score(
            (incoming.doc.id, length), (candidate.doc.id, len(features)), overlap, found, config
        )
        if score.relation != "none":
            related.append(Related(candidate, score, found))
    return related


def with_cosines(
    incoming: Incoming,
    related: list[Related],
    store: Store,
    config: ScanConfig,
    by_terms: Collection[str] = (),
) -> list[Related]:
    """The related candidates with their cosines (:func:`set_cosines`), those found by
    their terms alone (ids in ``by_terms``) kept when their cosine reaches the config's
    ``neighbour_cosine``, as in a scan."""
    set_cosines(incoming, related, store)
    least = config.neighbour_cosine
    return [r for r in related if r.candidate.doc.id not in by_terms or r.score.cosine >= least]


def set_cosines(incoming: Incoming, related: list[Related], store: Store) -> None:
    """Set the TF-IDF cosine of each related pair's score, with the index's document
    frequencies (read once for the terms of all of them; the incoming document counts in
    its own idf, as in a scan)."""
    if not related:
        return
    counted = [incoming.counted]
    counted += [term_counts(found.candidate.features) for found in related]
    every = unique(np.concatenate([keys for keys, _ in counted]))
    documents, frequencies = store.document_frequencies(every)
    vocabulary = Vocabulary.from_frequencies(every, frequencies, documents + 1, np.float64)
    pairs = np.array([(0, number) for number in range(1, len(counted))], dtype=np.int64)
    cosines = pair_cosines(vocabulary.weigh(counted), pairs)
    for found, cosine in zip(related, cosines.tolist()):
        found.score.cosine = cosine


def to_match(incoming: Prepared, related: Related) -> Match:
    """A related candidate as the verdict reports it (scores rounded to 4 places; the agency
    is the candidate's first credit, else the incoming article's)."""
    other, score = related.candidate, related.score
    text = incoming.doc.text
    credits = other.doc.credits or incoming.doc.credits
    passages = []
    for found in related.passages:
        start, end, other_start, other_end = char_spans(incoming.features, other.features, found)
        passages.append(
            MatchPassage(
                start=start,
                end=end,
                other_start=other_start,
                other_end=other_end,
                words=found.words,
                similarity=round(found.similarity, 4),
                excerpt=excerpt(text[start:end]),
                kind=KINDS[found.kind],
            )
        )
    return Match(
        id=other.doc.id,
        relation=cast(MatchRelation, score.relation),
        cosine=round(score.cosine, 4),
        jaccard=round(score.jaccard, 4),
        containment=round(score.containment_a, 4),
        containment_other=round(score.containment_b, 4),
        coverage=round(score.coverage_a, 4),
        coverage_other=round(score.coverage_b, 4),
        agency=credits[0] if credits else None,
        passages=passages,
        verbatim=round(score.verbatim_a, 4),
        rewrite=round(score.rewrite_a, 4),
        quote=round(score.quote_a, 4),
    )
