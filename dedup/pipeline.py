"""The scan: load, clean, features, signatures and LSH candidates, scores, passages, groups.

This module wires the stages; each stage lives in its own module and knows nothing of the
others' internals. ``scan`` is what ``dedup scan`` runs.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .align import Alignment, align, coverage, to_passage
from .clean import clean_documents, line_keys, repeated_lines
from .cluster import (
    Link,
    derivation,
    duplicate_groups,
    provenance_groups,
    story_groups,
    word_overlap,
)
from .config import ScanConfig
from .corpus import LoadResult, load_corpus
from .errors import NoDocumentsError
from .features import Features, extract_features, sentence_windows, shingle_set, window_shingles
from .index import candidate_pairs
from .models import Document, PairScore, Passage, ScanResult
from .parallel import fork_map, resolve_workers, spans
from .score import cosine_matrix, pair_cosines, relation, set_overlap, tfidf_matrix
from .signatures import MinHasher, estimated_jaccard

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A ``Progress`` that reports nothing (the default of every engine)."""
    return None


@dataclass
class Prepared:
    """A cleaned document with everything matching needs: features, shingle set, MinHash
    signature of the whole text and of each sentence window.

    ``windows`` are the sentence windows' token ranges, one per row of
    ``window_signatures`` (both empty when the windows were left out)."""

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
    jaccard, contained_a, contained_b = set_overlap(a.shingles, b.shingles)
    found = align(
        a.features,
        b.features,
        seed_words=config.seed_words,
        min_words=config.min_passage_words,
        min_similarity=config.min_passage_similarity,
    )
    score = PairScore(
        a=a.doc.id,
        b=b.doc.id,
        cosine=cosine,
        jaccard=jaccard,
        jaccard_estimate=estimated_jaccard(a.signature, b.signature),
        containment_a=contained_a,
        containment_b=contained_b,
        passages=len(found),
        coverage_a=coverage(found, len(a.features), "a"),
        coverage_b=coverage(found, len(b.features), "b"),
    )
    score.relation = relation(score, config)
    return score, found


DOCS_PER_TASK = 250  # documents cleaned and prepared per task of a worker process
PAIRS_PER_TASK = 2000  # candidate pairs scored and aligned per task


def clean_and_prepare(
    docs: list[Document],
    config: ScanConfig,
    hasher: MinHasher,
    workers: int,
    progress: Progress = no_progress,
    timings: dict[str, float] | None = None,
) -> list[Prepared]:
    """Clean the corpus and prepare every document, on ``workers`` processes.

    Cleaning counts lines repeated across documents, so on several processes it runs in two
    passes: the line keys of every document, then each chunk cleaned with the keys of the
    corpus's repeated lines and prepared in the same task. The documents in ``docs`` are
    replaced by their cleaned copies; the results are those of one process.
    """
    timings = timings if timings is not None else {}
    clock = time.perf_counter()
    if workers <= 1 or len(docs) <= DOCS_PER_TASK:
        clean_documents(docs)
        timings["clean"] = time.perf_counter() - clock
        clock = time.perf_counter()
        prepared = prepare(docs, config, hasher, progress=progress)
        timings["features_minhash"] = time.perf_counter() - clock
        return prepared
    chunks = spans(len(docs), DOCS_PER_TASK)
    repeated = repeated_lines(
        keys
        for chunk_keys in fork_map(_line_keys_chunk, docs, chunks, workers)
        for keys in chunk_keys
    )
    first_pass = time.perf_counter() - clock
    clock = time.perf_counter()
    prepared: list[Prepared] = []
    cleaning = preparing = 0.0
    for done, clean_seconds, prepare_seconds in fork_map(
        _clean_prepare_chunk, (docs, repeated, config, hasher), chunks, workers
    ):
        prepared.extend(done)
        cleaning += clean_seconds
        preparing += prepare_seconds
        progress("features", len(prepared), len(docs))
    docs[:] = [p.doc for p in prepared]
    second_pass = time.perf_counter() - clock
    # The second pass cleans and prepares in the same task: its wall time is split between
    # the two stages as the workers' own clocks saw it.
    share = cleaning / (cleaning + preparing) if cleaning + preparing > 0 else 0.0
    timings["clean"] = first_pass + share * second_pass
    timings["features_minhash"] = (1.0 - share) * second_pass
    return prepared


def _line_keys_chunk(docs: list[Document], span: tuple[int, int]) -> list[np.ndarray]:
    return [np.fromiter(line_keys(doc), dtype=np.uint64) for doc in docs[span[0] : span[1]]]


def _clean_prepare_chunk(
    state: tuple[list[Document], set[int], ScanConfig, MinHasher], span: tuple[int, int]
) -> tuple[list[Prepared], float, float]:
    docs, repeated, config, hasher = state
    clock = time.perf_counter()
    cleaned = clean_documents(docs[span[0] : span[1]], repeated)
    cleaning = time.perf_counter() - clock
    prepared = prepare(cleaned, config, hasher)
    return prepared, cleaning, time.perf_counter() - clock - cleaning


def _compare_chunk(
    state: tuple[list[Prepared], ScanConfig], chunk: tuple[np.ndarray, np.ndarray]
) -> list[tuple[PairScore, list[Alignment]]]:
    prepared, config = state
    pairs, cosines = chunk
    return [
        compare(prepared[i], prepared[j], float(cosine), config)
        for (i, j), cosine in zip(pairs.tolist(), cosines.tolist())
    ]


def scan(
    paths: Iterable[str | Path],
    config: ScanConfig | None = None,
    *,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan files and folders for near-duplicates and shared passages.

    Args:
        paths: Folders (walked recursively) and files.
        config: Parameters; the defaults when None.
        progress: Called as ``progress(stage, done, total)`` during long stages.

    Raises:
        InputError: no document could be read.
    """
    config = config or ScanConfig()
    paths = list(paths)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    loaded = load_corpus(paths, max_file_bytes=config.max_file_bytes)
    timings["load"] = time.perf_counter() - clock
    if not loaded.documents:
        reasons = f" ({len(loaded.skipped)} skipped)" if loaded.skipped else ""
        raise NoDocumentsError(
            f"no documents could be read from {', '.join(map(str, paths))}{reasons}", loaded.skipped
        )
    return analyse(loaded, config, progress=progress, timings=timings)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector off: a scan builds millions of long-lived objects (tokens'
    lists, scores, passages) and next to no reference cycles, and the collector's full passes
    over them took 13-17 % of a scan (Reuters-21578; 30k synthetic articles). Memory is
    still freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_without_cycle_collection()
def analyse(
    loaded: LoadResult,
    config: ScanConfig,
    *,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> ScanResult:
    """Run every stage after loading on ``loaded`` (used by ``scan`` and ``dedup eval``)."""
    report = progress or no_progress
    timings = timings if timings is not None else {}
    docs = loaded.documents

    workers = resolve_workers(config.workers)
    hasher = MinHasher(config.num_perm, config.seed)
    prepared = clean_and_prepare(docs, config, hasher, workers, report, timings)
    features = [p.features for p in prepared]

    clock = time.perf_counter()
    counts = [len(p.window_signatures) for p in prepared]
    window_docs = np.repeat(np.arange(len(prepared), dtype=np.int64), counts)
    # Only the candidate search needs them, and they are most of the memory: each document's
    # rows are copied into one array and let go at once, so they are not held twice.
    window_signatures = np.empty((sum(counts), config.num_perm), dtype=np.uint32)
    empty = np.empty((0, config.num_perm), dtype=np.uint32)  # a view would keep the array alive
    row = 0
    for p, count in zip(prepared, counts):
        window_signatures[row : row + count] = p.window_signatures
        p.window_signatures = empty
        row += count
    pairs, candidate_stats = candidate_pairs(
        window_signatures,
        window_docs,
        threshold=config.lsh_threshold,
        max_bucket_size=config.max_bucket_size,
    )
    del window_docs, window_signatures
    timings["lsh"] = time.perf_counter() - clock

    clock = time.perf_counter()
    tfidf = tfidf_matrix(features)
    cosines = pair_cosines(tfidf, pairs, workers=workers)
    timings["tfidf"] = time.perf_counter() - clock

    clock = time.perf_counter()
    scores: list[PairScore] = []
    links: list[Link] = []
    chunks = [
        (pairs[start:end], cosines[start:end]) for start, end in spans(len(pairs), PAIRS_PER_TASK)
    ]
    for (chunk, _), compared in zip(
        chunks, fork_map(_compare_chunk, (prepared, config), chunks, workers)
    ):
        for (i, j), (score, found) in zip(chunk.tolist(), compared):
            scores.append(score)
            links.extend(Link(i, j, x) for x in found)
        report("align", len(scores), len(pairs))
    timings["score_align"] = time.perf_counter() - clock
    return assemble(
        loaded,
        prepared,
        scores,
        links,
        tfidf,
        config,
        candidates=asdict(candidate_stats),
        timings=timings,
    )


def assemble(
    loaded: LoadResult,
    prepared: list[Prepared],
    scores: list[PairScore],
    links: list[Link],
    tfidf: Any,
    config: ScanConfig,
    *,
    candidates: dict[str, int] | None = None,
    timings: dict[str, float] | None = None,
) -> ScanResult:
    """Groups, passages, derivation, stories and matrix from the scored pairs: the last
    stage of every engine (local or Spark), given the pairs' scores and passages (``links``
    index into ``prepared``, which is in ``loaded.documents`` order)."""
    timings = timings if timings is not None else {}
    docs = loaded.documents
    n = len(docs)
    features = [p.features for p in prepared]
    position = {d.id: i for i, d in enumerate(docs)}
    duplicate_edges = [(position[s.a], position[s.b]) for s in scores if s.relation == "duplicate"]
    clock = time.perf_counter()
    ids = [d.id for d in docs]
    duplicates = duplicate_groups(ids, duplicate_edges)
    groups = provenance_groups(links, [d.credits for d in docs])
    group_of_link = {k: g for g in groups for k in g.links}
    passages: list[Passage] = []
    links_of_doc: dict[int, list[int]] = {i: [] for i in range(n)}
    for k, link in enumerate(links):
        passage = to_passage(
            docs[link.a], features[link.a], docs[link.b], features[link.b], link.alignment
        )
        passage.id = f"p{k + 1}"
        group = group_of_link.get(k)
        passage.provenance = group.id if group else None
        passages.append(passage)
        links_of_doc[link.a].append(k)
        links_of_doc[link.b].append(k)
    for i, doc in enumerate(docs):
        partners = {links[k].other(i) for k in links_of_doc[i]}
        overlap = word_overlap(features[i].hashes, [features[j].hashes for j in partners])
        doc.derivation = derivation(
            i, len(features[i]), links, links_of_doc[i], group_of_link, overlap
        )
    provenance = [
        {
            "id": g.id,
            "members": [ids[m] for m in g.members],
            "agency": g.agency,
            "passages": [f"p{k + 1}" for k in g.links],
            "evidence": [
                {
                    "id": ids[e["member"]],
                    "agency": e["agency"],
                    "credits": [
                        c.line
                        for c in getattr(docs[e["member"]], "credit_lines", [])
                        if c.agency == e["agency"]
                    ],
                }
                for e in g.evidence
            ],
        }
        for g in groups
    ]
    stories = [
        {"id": f"story-{number}", "members": [ids[m] for m in members]}
        for number, members in enumerate(
            story_groups(tfidf, workers=resolve_workers(config.workers)), start=1
        )
    ]
    matrix = cosine_matrix(tfidf) if 0 < n <= config.matrix_limit else None
    timings["cluster"] = time.perf_counter() - clock
    if matrix is None:
        log.warning(
            "%d documents exceed the dense matrix limit of %d: matrix.csv is not written, "
            "pairs.csv is the sparse form",
            n,
            config.matrix_limit,
        )
    return ScanResult(
        documents=docs,
        skipped=loaded.skipped,
        ignored=loaded.ignored,
        pairs=scores,
        passages=passages,
        duplicates=duplicates,
        provenance=provenance,
        stories=stories,
        matrix=matrix,
        config=config,
        candidates=candidates or {},
        timings=timings,
    )
