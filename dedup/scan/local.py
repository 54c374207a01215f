"""The scan: load, clean, features, signatures and LSH candidates, scores, passages, groups.

This module wires the stages; each stage lives in its own module and knows nothing of the
others' internals. ``scan`` is what ``dedup scan`` runs.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ScanConfig
from ..errors import NoDocumentsError
from ..group.cluster import (
    Link,
    LinkTable,
    derivation,
    duplicate_groups,
    provenance_groups,
    story_groups,
    word_overlap,
)
from ..match.align import PassageTable, char_spans
from ..match.compare import Prepared, compare, prepare
from ..match.lsh import band_keys, bucket_pairs, lsh_params
from ..match.minhash import MinHasher
from ..match.score import cosine_matrix, pair_cosines, tfidf_matrix
from ..models import RELATIONS, Document, PairScore, PairTable, ScanResult
from ..text.clean import clean_documents, line_keys, repeated_lines
from ..text.load import LoadResult, load_corpus
from ..util.arrays import unique
from ..util.parallel import fork_map, resolve_workers, spans
from ..util.progress import Progress, no_progress

log = logging.getLogger(__name__)

DOCS_PER_TASK = 250  # documents cleaned and prepared per task of a worker process
PAIRS_PER_TASK = 2000  # candidate pairs scored and aligned per task


@dataclass
class Corpus:
    """The scan's prepared documents and the LSH band keys of their sentence windows.

    The windows' signatures and ranges are not kept (each document's ``window_signatures``
    and ``windows`` are empty): they were most of a prepared document's memory, and the
    candidate search reads only their band keys, computed where the windows were hashed.
    Nor are the documents' shingle sets and signatures (``shingles`` and ``signature`` are
    empty; 2 KB an article): scoring rebuilds them for each chunk of pairs it scores.

    Attributes:
        prepared: Every document, in corpus order.
        window_keys: Consecutive blocks of windows' band keys, each ``(bands, windows)``.
        window_counts: Each document's number of windows.
    """

    prepared: list[Prepared]
    window_keys: list[np.ndarray]
    window_counts: np.ndarray


def clean_and_prepare(
    docs: list[Document],
    config: ScanConfig,
    hasher: MinHasher,
    workers: int,
    progress: Progress = no_progress,
    timings: dict[str, float] | None = None,
) -> Corpus:
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
        keys, counts = _window_keys(prepared, config)
        timings["features_minhash"] = time.perf_counter() - clock
        return Corpus(prepared, [keys], counts)
    chunks = spans(len(docs), DOCS_PER_TASK)
    repeated = repeated_lines(
        keys
        for chunk_keys in fork_map(_line_keys_chunk, docs, chunks, workers)
        for keys in chunk_keys
    )
    first_pass = time.perf_counter() - clock
    clock = time.perf_counter()
    corpus = Corpus([], [], np.empty(0, dtype=np.int32))
    counts: list[np.ndarray] = []
    cleaning = preparing = 0.0
    for (start, end), (done, keys, chunk_counts, clean_seconds, prepare_seconds) in zip(
        chunks, fork_map(_clean_prepare_chunk, (docs, repeated, config, hasher), chunks, workers)
    ):
        # The cleaned copies replace the documents as they come (the workers have their
        # own): the corpus is not held twice.
        docs[start:end] = [p.doc for p in done]
        for p in done:
            # Unpickled words are new strings of each chunk: one object per distinct word
            # again, as in the worker (1.2 KB an article).
            p.features.words = tuple(map(sys.intern, p.features.words))
        corpus.prepared.extend(done)
        corpus.window_keys.append(keys)
        counts.append(chunk_counts)
        cleaning += clean_seconds
        preparing += prepare_seconds
        progress("features", len(corpus.prepared), len(docs))
    corpus.window_counts = np.concatenate(counts)
    second_pass = time.perf_counter() - clock
    # The second pass cleans and prepares in the same task: its wall time is split between
    # the two stages as the workers' own clocks saw it.
    share = cleaning / (cleaning + preparing) if cleaning + preparing > 0 else 0.0
    timings["clean"] = first_pass + share * second_pass
    timings["features_minhash"] = (1.0 - share) * second_pass
    return corpus


def _window_keys(prepared: list[Prepared], config: ScanConfig) -> tuple[np.ndarray, np.ndarray]:
    """The LSH band keys of the documents' windows, ``(bands, windows)``, and each document's
    number of windows; the windows' signatures and ranges, the shingle sets and signatures
    are let go (see :class:`Corpus`)."""
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    counts = np.array([len(p.window_signatures) for p in prepared], dtype=np.int32)
    empty = np.empty((0, config.num_perm), dtype=np.uint32)
    keys = band_keys(np.concatenate([empty, *(p.window_signatures for p in prepared)]), bands, rows)
    for p in prepared:
        p.window_signatures, p.windows = empty, []
        p.shingles, p.signature = _NO_SHINGLES, _NO_SIGNATURE
    return keys.T, counts


_NO_SHINGLES = np.empty(0, dtype=np.uint64)
_NO_SIGNATURE = np.empty(0, dtype=np.uint32)


def _with_sets(
    prepared: list[Prepared], docs: np.ndarray, config: ScanConfig, hasher: MinHasher
) -> dict[int, Prepared]:
    """The documents ``docs`` with their shingle sets and signatures rebuilt by ``prepare``
    (their windows left out, as the corpus keeps them), by index."""
    rebuilt = prepare(
        [prepared[i].doc for i in docs],
        config,
        hasher,
        windows=False,
        features=[prepared[i].features for i in docs],
    )
    return dict(zip(docs.tolist(), rebuilt))


def _line_keys_chunk(docs: list[Document], span: tuple[int, int]) -> list[np.ndarray]:
    return [np.fromiter(line_keys(doc), dtype=np.uint64) for doc in docs[span[0] : span[1]]]


def _clean_prepare_chunk(
    state: tuple[list[Document], set[int], ScanConfig, MinHasher], span: tuple[int, int]
) -> tuple[list[Prepared], np.ndarray, np.ndarray, float, float]:
    docs, repeated, config, hasher = state
    clock = time.perf_counter()
    cleaned = clean_documents(docs[span[0] : span[1]], repeated)
    cleaning = time.perf_counter() - clock
    prepared = prepare(cleaned, config, hasher)
    keys, counts = _window_keys(prepared, config)
    return prepared, keys, counts, cleaning, time.perf_counter() - clock - cleaning


def _compare_chunk(
    state: tuple[list[Prepared], ScanConfig, MinHasher], chunk: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score and align a chunk of pairs; the results as arrays (what a worker sends back is a
    few arrays, not an object per pair and passage): the pairs' score columns
    (``SCORE_COLUMNS``), passage counts and relation codes, then one row per passage (the
    pair's ``a, b`` and the alignment, as a ``LinkTable`` row) and its character offsets."""
    prepared, config, hasher = state
    pairs, cosines = chunk
    full = _with_sets(prepared, unique(pairs.ravel()), config, hasher)
    scores: list[PairScore] = []
    rows: list[tuple[int, ...]] = []
    chars: list[tuple[int, int, int, int]] = []
    for (i, j), cosine in zip(pairs.tolist(), cosines.tolist()):
        a, b = full[i], full[j]
        score, found = compare(a, b, cosine, config)
        scores.append(score)
        for x in found:
            rows.append((i, j, x.a_start, x.a_end, x.b_start, x.b_end, x.matched_a, x.matched_b))
            chars.append(char_spans(a.features, b.features, x))
    return (
        *PairTable.columns(scores),
        np.array(rows, dtype=np.int32).reshape(-1, 8),
        np.array(chars, dtype=np.int64).reshape(-1, 4),
    )


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
    corpus = clean_and_prepare(docs, config, hasher, workers, report, timings)
    prepared = corpus.prepared
    features = [p.features for p in prepared]

    clock = time.perf_counter()
    pairs, candidate_stats = bucket_pairs(
        corpus.window_keys,
        np.repeat(np.arange(len(prepared), dtype=np.int64), corpus.window_counts),
        rows=lsh_params(config.lsh_threshold, config.num_perm)[1],
        max_bucket_size=config.max_bucket_size,
    )
    del corpus
    timings["lsh"] = time.perf_counter() - clock

    clock = time.perf_counter()
    tfidf = tfidf_matrix(features)
    cosines = pair_cosines(tfidf, pairs, workers=workers)
    timings["tfidf"] = time.perf_counter() - clock

    clock = time.perf_counter()
    chunks = [
        (pairs[start:end], cosines[start:end]) for start, end in spans(len(pairs), PAIRS_PER_TASK)
    ]
    state = (prepared, config, hasher)
    # An empty chunk first: the columns' shapes when there is no pair.
    parts = [_compare_chunk(state, (pairs[:0], cosines[:0]))]
    done = 0
    for part in fork_map(_compare_chunk, state, chunks, workers):
        parts.append(part)
        done += len(part[0])
        report("align", done, len(pairs))
    scores, counts, relations, rows, chars = (np.concatenate(column) for column in zip(*parts))
    del parts
    table = PairTable([d.id for d in docs], pairs.astype(np.int32), scores, counts, relations)
    timings["score_align"] = time.perf_counter() - clock
    # Only the token hashes are read from here on: the rest of the prepared documents (their
    # shingles, signatures, words and offsets) is let go.
    hashes = [f.hashes for f in features]
    del prepared, features, state
    return assemble(
        loaded,
        hashes,
        table,
        LinkTable(rows),
        chars,
        tfidf,
        config,
        candidates=asdict(candidate_stats),
        timings=timings,
    )


def assemble(
    loaded: LoadResult,
    hashes: Sequence[np.ndarray],
    scores: Sequence[PairScore],
    links: Sequence[Link],
    chars: np.ndarray,
    tfidf: Any,
    config: ScanConfig,
    *,
    candidates: dict[str, int] | None = None,
    timings: dict[str, float] | None = None,
) -> ScanResult:
    """Groups, passages, derivation, stories and matrix from the scored pairs: the last
    stage of every engine (local or Spark), given each document's token hashes
    (:attr:`~dedup.text.features.Features.hashes`, in ``loaded.documents`` order), the pairs'
    scores, their passages (``links``, indices into the documents) and the passages'
    character offsets (:func:`~dedup.match.align.char_spans`, one row per link).

    Nothing else of the prepared documents is needed here: the scan lets the rest go before
    this stage (most of its memory at a million articles)."""
    timings = timings if timings is not None else {}
    docs = loaded.documents
    n = len(docs)
    ids = [d.id for d in docs]
    table = scores if isinstance(scores, PairTable) else PairTable.from_scores(ids, scores)
    links = LinkTable.of(links)
    clock = time.perf_counter()
    duplicates = duplicate_groups(ids, table.docs[table.relations == RELATIONS.index("duplicate")])
    groups = provenance_groups(links, [d.credits for d in docs])
    group_of_link = np.full(len(links), -1, dtype=np.int32)
    for number, group in enumerate(groups):
        group_of_link[group.links] = number
    passages = PassageTable(docs, links.rows, chars, group_of_link, [g.id for g in groups])
    # Each document's passages (in passage order) and the documents they link it to.
    ends = links.rows[:, :2].ravel(order="F")
    owners = np.tile(np.arange(len(links)), 2)
    by_doc = np.lexsort((owners, ends))
    bounds = np.searchsorted(ends[by_doc], np.arange(n + 1))
    for i, doc in enumerate(docs):
        mine = owners[by_doc[bounds[i] : bounds[i + 1]]]
        partners = unique(links.rows[mine, :2].ravel())
        overlap = word_overlap(hashes[i], [hashes[j] for j in partners.tolist() if j != i])
        doc.derivation = derivation(
            len(hashes[i]),
            links.spans(mine, i),
            [groups[g] if g >= 0 else None for g in group_of_link[mine].tolist()],
            overlap,
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
        pairs=table,
        passages=passages,
        duplicates=duplicates,
        provenance=provenance,
        stories=stories,
        matrix=matrix,
        config=config,
        candidates=candidates or {},
        timings=timings,
    )
