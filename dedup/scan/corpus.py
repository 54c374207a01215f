"""The scan's per-document stages on worker processes: cleaning, token features and the LSH
band keys of each document's sentence windows."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from ..config import ScanConfig
from ..match.lsh import band_keys, lsh_params
from ..match.minhash import MinHasher
from ..match.windows import window_signatures
from ..models import Document
from ..text.clean import clean_documents, line_keys, repeated_lines
from ..text.features import Features, extract_features, text_key
from ..text.language import load_model
from ..util.parallel import fork_map, spans
from ..util.progress import Progress, no_progress, record_stage
from ..util.wording import counted

DOCS_PER_TASK = 250  # documents cleaned and prepared per task of a worker process


@dataclass
class Corpus:
    """The scan's documents as later stages need them: token features, and the LSH band
    keys of their sentence windows.

    The windows' signatures and ranges are not kept: the candidate search reads only their
    band keys, computed where the windows were signed. Nor are shingle sets and signatures
    (2 KB an article): scoring builds them for each chunk of pairs it scores.

    Attributes:
        features: Every document's features, in corpus order.
        window_keys: Consecutive blocks of windows' band keys, each ``(bands, windows)``.
        window_counts: Each document's number of windows.
        text_keys: Each document's :func:`~dedup.text.features.text_key`.
    """

    features: list[Features]
    window_keys: list[np.ndarray]
    window_counts: np.ndarray
    text_keys: np.ndarray


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
    if workers <= 1 or len(docs) <= DOCS_PER_TASK:
        return _in_this_process(docs, config, hasher, progress, timings)
    clock = time.perf_counter()
    load_model()  # once, shared by the forked workers
    chunks = spans(len(docs), DOCS_PER_TASK)
    repeated = repeated_lines(
        keys
        for chunk_keys in fork_map(_line_keys_chunk, docs, chunks, workers)
        for keys in chunk_keys
    )
    first_pass = time.perf_counter() - clock
    clock = time.perf_counter()
    corpus = Corpus([], [], np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint64))
    counts: list[np.ndarray] = []
    text_keys: list[np.ndarray] = []
    cleaning = preparing = 0.0
    state = (docs, repeated, config, hasher)
    for (start, end), done in zip(chunks, fork_map(_prepare_chunk, state, chunks, workers)):
        cleaned, features, keys, chunk_counts, chunk_text_keys, clean_seconds, prepare_seconds = (
            done
        )
        # The cleaned copies replace the documents as they come (the workers have their
        # own): the corpus is not held twice.
        docs[start:end] = cleaned
        for feat in features:
            # Unpickled words are new strings of each chunk: one object per distinct word
            # again, as in the worker (1.2 KB an article).
            feat.words = tuple(map(sys.intern, feat.words))
        corpus.features.extend(features)
        corpus.window_keys.append(keys)
        counts.append(chunk_counts)
        text_keys.append(chunk_text_keys)
        cleaning += clean_seconds
        preparing += prepare_seconds
        progress("features", len(corpus.features), len(docs))
    corpus.window_counts = np.concatenate(counts)
    corpus.text_keys = np.concatenate(text_keys)
    second_pass = time.perf_counter() - clock
    # The second pass cleans and prepares in the same task: its wall time is split between
    # the two stages as the workers' own clocks saw it.
    share = cleaning / (cleaning + preparing) if cleaning + preparing > 0 else 0.0
    record_stage(timings, "clean", first_pass + share * second_pass, lambda: _cleaned(docs))
    record_stage(timings, "features_minhash", (1.0 - share) * second_pass, lambda: _windows(corpus))
    return corpus


def _in_this_process(
    docs: list[Document],
    config: ScanConfig,
    hasher: MinHasher,
    progress: Progress,
    timings: dict[str, float],
) -> Corpus:
    """:func:`clean_and_prepare` in the calling process, in one pass."""
    clock = time.perf_counter()
    clean_documents(docs)
    record_stage(timings, "clean", time.perf_counter() - clock, lambda: _cleaned(docs))
    clock = time.perf_counter()
    features = []
    for index, doc in enumerate(docs):
        features.append(extract_features(doc))
        if index % 500 == 0:
            progress("features", index, len(docs))
    keys, counts = _window_keys(features, config, hasher)
    corpus = Corpus(features, [keys], counts, _text_keys(docs))
    record_stage(timings, "features_minhash", time.perf_counter() - clock, lambda: _windows(corpus))
    return corpus


def _cleaned(docs: list[Document]) -> str:
    """What the cleaning did, for the stage's log line."""
    chars = sum(len(d.text) for d in docs)
    removed = sum(end - start for d in docs for start, end in d.removed)
    return f"{removed / max(chars, 1):.1%} of {counted(chars, 'character')} removed as boilerplate"


def _windows(corpus: Corpus) -> str:
    """What the features stage made, for its log line."""
    tokens = sum(len(f) for f in corpus.features)
    windows = int(corpus.window_counts.sum())
    return f"{counted(tokens, 'token')}, {counted(windows, 'sentence window')}"


def _window_keys(
    features: list[Features], config: ScanConfig, hasher: MinHasher
) -> tuple[np.ndarray, np.ndarray]:
    """The LSH band keys of the documents' windows, ``(bands, windows)``, and each
    document's number of windows."""
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    windows = window_signatures(features, config, hasher)
    counts = np.array([len(w) for w in windows], dtype=np.int32)
    empty = np.empty((0, config.num_perm), dtype=np.uint32)
    keys = band_keys(np.concatenate([empty, *(w.signatures for w in windows)]), bands, rows)
    return keys.T, counts


def _text_keys(docs: list[Document]) -> np.ndarray:
    return np.fromiter((text_key(doc.text) for doc in docs), dtype=np.uint64, count=len(docs))


def _line_keys_chunk(docs: list[Document], span: tuple[int, int]) -> list[np.ndarray]:
    return [np.fromiter(line_keys(doc), dtype=np.uint64) for doc in docs[span[0] : span[1]]]


def _prepare_chunk(
    state: tuple[list[Document], set[int], ScanConfig, MinHasher], span: tuple[int, int]
) -> tuple[list[Document], list[Features], np.ndarray, np.ndarray, np.ndarray, float, float]:
    docs, repeated, config, hasher = state
    clock = time.perf_counter()
    cleaned = clean_documents(docs[span[0] : span[1]], repeated)
    cleaning = time.perf_counter() - clock
    features = [extract_features(doc) for doc in cleaned]
    keys, counts = _window_keys(features, config, hasher)
    preparing = time.perf_counter() - clock - cleaning
    return cleaned, features, keys, counts, _text_keys(cleaned), cleaning, preparing
