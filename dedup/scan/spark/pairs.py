"""The Spark scan's TF-IDF and comparison stages: each document's TF-IDF row from the
corpus vocabulary (counted by Spark, weighted by :class:`~dedup.match.tfidf.Vocabulary` as
locally), and the candidate pairs scored and aligned by
:func:`~dedup.match.compare.compare` where their first document's partition is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from ...config import ScanConfig
from ...match.align import Alignment
from ...match.compare import Prepared, compare
from ...match.tfidf import Vocabulary, pair_cosines
from ...match.windows import Windows
from ...models import Document, PairScore
from ...text.features import term_counts
from ...util.arrays import unique

# Pairs scored at once in one task (both documents' records are in memory for each).
COMPARE_BATCH = 2_000


@dataclass
class DocumentRecord:
    """What the later stages need of a prepared document: no windows, and its TF-IDF row
    (columns ascending, float32 values)."""

    prepared: Prepared
    columns: np.ndarray
    values: np.ndarray


def term_entries(item: tuple[int, tuple[Prepared, Windows]]) -> Iterator[tuple[int, int]]:
    """``(term key, 1)`` for each distinct term of a document (summed: document
    frequencies)."""
    for key in term_counts(item[1][0].features)[0].tolist():
        yield key, 1


def vocabulary_of(entries: list[tuple[int, int]], n_docs: int) -> Vocabulary:
    """The corpus vocabulary from the document frequencies Spark counted."""
    keys = np.fromiter((key for key, _ in entries), dtype=np.uint64, count=len(entries))
    frequencies = np.fromiter((n for _, n in entries), dtype=np.int64, count=len(entries))
    order = np.argsort(keys)
    return Vocabulary.from_frequencies(keys[order], frequencies[order], n_docs)


def document_records(
    items: Iterable[tuple[int, tuple[Prepared, Windows]]], vocabulary: Any
) -> Iterator[tuple[int, DocumentRecord]]:
    """Each document of a partition with its TF-IDF row (the partition's rows weighted in
    one call)."""
    vocab = vocabulary.value  # unpickled once per Python worker, then cached by pyspark
    items = list(items)
    rows = vocab.weigh([term_counts(prepared.features) for _, (prepared, _) in items])
    for k, (index, (prepared, _)) in enumerate(items):
        start, end = rows.indptr[k], rows.indptr[k + 1]
        yield index, DocumentRecord(prepared, rows.indices[start:end], rows.data[start:end])


def pair_side(record: DocumentRecord) -> DocumentRecord:
    """A record without the document text (a pair needs only the id and the features)."""
    p = record.prepared
    doc = Document(id=p.doc.id, path="", text="")
    light = Prepared(doc, p.features, p.shingles, p.signature, p.text_key)
    return DocumentRecord(light, record.columns, record.values)


def requests(codes: np.ndarray, n_docs: int, partitions: int) -> Iterator[tuple[int, int]]:
    """``(document, partition)`` for both documents of each pair: a pair is scored in the
    partition of its first document, which needs both records. The pairs of one such
    partition are all in one block, so each request is made once."""
    first, second = codes // n_docs, codes % n_docs
    part = first % partitions
    wanted = unique(np.concatenate([first * partitions + part, second * partitions + part]))
    yield from zip((wanted // partitions).tolist(), (wanted % partitions).tolist())


def pair_blocks(
    block: tuple[np.ndarray, np.ndarray], n_docs: int, partitions: int
) -> Iterator[tuple]:
    """A block of pair codes (and whether each pair shares a sentence window) by the
    partition that scores them."""
    codes, shares_window = block
    part = (codes // n_docs) % partitions
    for where in unique(part).tolist():
        mine = part == where
        yield where, (None, (codes[mine], shares_window[mine]))


def compare_partition(
    items: Iterable[tuple[int, tuple[Any, Any]]], n_docs: int, config: ScanConfig
) -> Iterator[tuple[int, int, PairScore, list[Alignment]]]:
    """Score the pairs of a partition, given the records of every document they name."""
    records: dict[int, DocumentRecord] = {}
    blocks = []
    for _, (doc, value) in items:
        if doc is None:
            blocks.append(value)
        else:
            records[doc] = value
    if not blocks:
        return
    codes = np.concatenate([codes for codes, _ in blocks])
    shares_window = np.concatenate([shares for _, shares in blocks])
    order = np.argsort(codes)
    batch: list[tuple[int, int, DocumentRecord, DocumentRecord, bool]] = []
    for code, windowed in zip(codes[order].tolist(), shares_window[order].tolist()):
        i, j = divmod(code, n_docs)
        batch.append((i, j, records[i], records[j], windowed))
        if len(batch) >= COMPARE_BATCH:
            yield from _compare_batch(batch, config)
            batch = []
    if batch:
        yield from _compare_batch(batch, config)


def _compare_batch(
    batch: list[tuple[int, int, DocumentRecord, DocumentRecord, bool]], config: ScanConfig
) -> Iterator[tuple[int, int, PairScore, list[Alignment]]]:
    """``(i, j, score, alignments)`` per pair, by :func:`~dedup.match.compare.compare` with
    the pair's TF-IDF cosine."""
    cosines = _batch_cosines(batch).tolist()
    for (i, j, a, b, windowed), cosine in zip(batch, cosines):
        score, found = compare(a.prepared, b.prepared, cosine, config, shares_window=windowed)
        yield i, j, score, found


def _batch_cosines(
    batch: list[tuple[int, int, DocumentRecord, DocumentRecord, bool]],
) -> np.ndarray:
    """:func:`~dedup.match.tfidf.pair_cosines` of a batch of pairs, on a matrix of their
    rows alone (columns renumbered, their order kept): the values the corpus matrix gives."""
    rows = [a.columns for _, _, a, _, _ in batch] + [b.columns for _, _, _, b, _ in batch]
    values = [a.values for _, _, a, _, _ in batch] + [b.values for _, _, _, b, _ in batch]
    flat = np.concatenate(rows)
    used = unique(flat)
    matrix = sparse.csr_matrix(
        (
            np.concatenate(values),
            np.searchsorted(used, flat).astype(np.int32),
            np.concatenate([[0], np.cumsum([len(r) for r in rows])]),
        ),
        shape=(len(rows), max(len(used), 1)),
    )
    m = len(batch)
    return pair_cosines(matrix, np.stack([np.arange(m), np.arange(m, 2 * m)], axis=1))
