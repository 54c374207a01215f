"""The local scan: load, clean, features, LSH candidates, TF-IDF, scores and passages,
groups, on the processes of this machine. ``scan`` is what ``dedup scan`` runs.

This module wires the stages; each lives in its own module (:mod:`dedup.scan.corpus`,
:mod:`dedup.scan.pairs`, :mod:`dedup.scan.assemble` and the stages under them) and knows
nothing of the others' internals.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..config import ScanConfig
from ..errors import NoDocumentsError
from ..match.candidates import candidate_pairs, language_codes
from ..match.lsh import CandidateStats, bucket_pairs, lsh_params
from ..match.minhash import MinHasher
from ..match.tfidf import pair_cosines, tfidf_matrix
from ..models import RELATIONS, ScanResult
from ..text.load import LoadResult, load_corpus
from ..util.parallel import resolve_workers
from ..util.progress import Progress, no_progress, record_stage
from ..util.wording import counted
from .assemble import assemble
from .corpus import Corpus, clean_and_prepare
from .pairs import ScoredPairs, score_pairs

T = TypeVar("T")
log = logging.getLogger(__name__)


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
    record_stage(
        timings,
        "load",
        time.perf_counter() - clock,
        lambda: f"{counted(len(loaded.documents), 'document')} read, {len(loaded.skipped)} skipped",
    )
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
    over them would take a sixth of a scan (docs/performance.md). Memory is still freed by
    reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_without_cycle_collection()
def _timed(
    timings: dict[str, float],
    stage: str,
    said: Callable[[T], str],
    run: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """``run(*args, **kwargs)``, its seconds added to ``timings`` as ``stage``, and
    ``said(result)`` logged with them."""
    clock = time.perf_counter()
    result = run(*args, **kwargs)
    record_stage(timings, stage, time.perf_counter() - clock, lambda: said(result))
    return result


def _said_buckets(found: tuple[np.ndarray, CandidateStats]) -> str:
    return f"{counted(len(found[0]), 'pair')} sharing a bucket"


def _said_scored(scored: ScoredPairs) -> str:
    related = int(np.count_nonzero(scored.table.relations != RELATIONS.index("none")))
    return f"{counted(related, 'pair')} related, {counted(len(scored.links), 'passage')}"


def _window_pairs(corpus: Corpus, config: ScanConfig) -> tuple[np.ndarray, CandidateStats]:
    """The pairs of documents whose sentence windows share an LSH bucket."""
    return bucket_pairs(
        corpus.window_keys,
        np.repeat(np.arange(len(corpus.features), dtype=np.int64), corpus.window_counts),
        rows=lsh_params(config.lsh_threshold, config.num_perm)[1],
        max_bucket_size=config.max_bucket_size,
    )


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
    features = corpus.features

    pairs, candidate_stats = _timed(timings, "lsh", _said_buckets, _window_pairs, corpus, config)
    text_keys = corpus.text_keys
    del corpus
    tfidf = _timed(timings, "tfidf", lambda m: counted(m.shape[1], "term"), tfidf_matrix, features)
    clock = time.perf_counter()
    languages = language_codes(docs)
    pairs, shares_window, terms = candidate_pairs(
        pairs, text_keys, tfidf, config, candidate_stats, workers=workers, languages=languages
    )
    cosines = pair_cosines(tfidf, pairs, workers=workers)
    record_stage(
        timings,
        "candidates",
        time.perf_counter() - clock,
        lambda: counted(len(pairs), "candidate pair"),
    )

    scored = _timed(
        timings, "score_align", _said_scored, score_pairs,
        docs, features, pairs, cosines, shares_window, config,
        workers=workers, progress=report, text_keys=text_keys,
    )  # fmt: skip
    # Only the token hashes are read from here on: the rest of the features (words and
    # offsets) is let go.
    hashes = [f.hashes for f in features]
    del features
    return assemble(
        loaded,
        hashes,
        scored.table,
        scored.links,
        scored.chars,
        tfidf,
        config,
        candidates=asdict(candidate_stats),
        timings=timings,
        terms=terms,
    )
