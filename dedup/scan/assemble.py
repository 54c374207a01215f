"""The last stage of every engine (local or Spark): the groups, the passages' records, each
document's derivation, the story groups and the dense matrix, from the scored pairs."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import ScanConfig
from ..group.derivation import document_derivations
from ..group.duplicates import duplicate_groups
from ..group.origin import group_origin, origin_of_links, set_pair_origins
from ..group.provenance import Link, LinkTable, provenance_groups
from ..group.stories import story_groups
from ..match.align import PassageTable
from ..match.candidates import TermPairs
from ..match.tfidf import cosine_matrix
from ..models import (
    RELATIONS,
    Document,
    PairScore,
    PairTable,
    ProvenanceGroup,
    ScanResult,
    StoryGroup,
)
from ..text.load import LoadResult
from ..util.parallel import resolve_workers
from ..util.progress import record_stage
from ..util.wording import counted

log = logging.getLogger(__name__)


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
    terms: TermPairs | None = None,
) -> ScanResult:
    """The scan's result from its scored pairs.

    Args:
        loaded: The documents (cleaned) and the skipped inputs.
        hashes: Each document's token hashes
            (:attr:`~dedup.text.features.Features.hashes`, in ``loaded.documents`` order):
            nothing else of the prepared documents is needed here, so an engine lets the
            rest go before this stage (most of its memory at a million articles).
        scores: The pairs' scores.
        links: Their passages (document indices, token coordinates).
        chars: The passages' character offsets (:func:`~dedup.match.align.char_spans`,
            one row per link).
        tfidf: The documents' TF-IDF rows.
        config: The parameters.
        candidates: Statistics of candidate generation.
        timings: Seconds per stage; this one's is added as ``cluster``.
        terms: The candidate stage's term pairs, which the story groups read theirs off.
    """
    timings = timings if timings is not None else {}
    docs = loaded.documents
    ids = [d.id for d in docs]
    table = scores if isinstance(scores, PairTable) else PairTable.from_scores(ids, scores)
    clock = time.perf_counter()
    duplicates = duplicate_groups(ids, table.docs[table.relations == RELATIONS.index("duplicate")])
    set_pair_origins(table, docs)
    groups, passages = _provenance(docs, hashes, LinkTable.of(links), chars, table)
    stories = _stories(ids, tfidf, config, terms)
    matrix = _matrix(tfidf, len(docs), config.matrix_limit)
    said = functools.partial(_said_groups, duplicates, groups, stories)
    record_stage(timings, "cluster", time.perf_counter() - clock, said)
    return ScanResult(
        documents=docs,
        skipped=loaded.skipped,
        ignored=loaded.ignored,
        pairs=table,
        passages=passages,
        duplicates=duplicates,
        provenance=groups,
        stories=stories,
        matrix=matrix,
        config=config,
        candidates=candidates or {},
        timings=timings,
    )


def _stories(
    ids: list[str], tfidf: Any, config: ScanConfig, terms: TermPairs | None
) -> list[StoryGroup]:
    """The story groups, numbered from 1 (their members as ids)."""
    groups = story_groups(tfidf, workers=resolve_workers(config.workers), terms=terms)
    return [
        StoryGroup(f"story-{number}", [ids[m] for m in members])
        for number, members in enumerate(groups, start=1)
    ]


def _provenance(
    docs: list[Document],
    hashes: Sequence[np.ndarray],
    links: LinkTable,
    chars: np.ndarray,
    table: PairTable,
) -> tuple[list[ProvenanceGroup], PassageTable]:
    """The provenance groups (with their origins) and the passages' records (each naming
    its group); each document's derivation is set on it. The passages of a pair that shares
    only quotations (``shares_quote``) are in no group and make no text derived."""
    every = links
    kept = np.flatnonzero(~_quote_only(links, table))
    links = LinkTable(every.rows[kept])
    groups = provenance_groups(links, [d.credits for d in docs])
    group_of_link = np.full(len(every), -1, dtype=np.int32)
    for number, group in enumerate(groups):
        group.links = kept[group.links].tolist()  # as passages of the whole table
        group_of_link[group.links] = number
    passages = PassageTable(docs, every.rows, chars, group_of_link, [g.id for g in groups])
    origins = (
        origin_of_links(table, links.rows[:, :2], sure=True),
        origin_of_links(table, links.rows[:, :2]),
    )
    derived = document_derivations(docs, hashes, links, groups, group_of_link[kept], origins, table)
    for doc, found in zip(docs, derived):
        doc.derivation = found
    records = []
    for group in groups:
        record = group.to_group(docs)
        origin, record.origin_reason = group_origin(group.members, table)
        record.origin = docs[origin].id if origin is not None else None
        records.append(record)
    return records, passages


def _quote_only(links: LinkTable, table: PairTable) -> np.ndarray:
    """Which links belong to a pair whose relation is ``shares_quote``."""
    quoting = table.docs[table.relations == RELATIONS.index("shares_quote")].astype(np.int64)
    if not len(quoting) or not len(links):
        return np.zeros(len(links), dtype=bool)
    n = len(table.ids)
    rows = links.rows[:, :2].astype(np.int64)
    return np.isin(rows[:, 0] * n + rows[:, 1], quoting[:, 0] * n + quoting[:, 1])


def _matrix(tfidf: Any, n: int, limit: int) -> np.ndarray | None:
    """The dense cosine matrix, or None above ``limit`` documents (said in the log)."""
    if 0 < n <= limit:
        return cosine_matrix(tfidf)
    if n:
        log.warning(
            "%d documents exceed the dense matrix limit of %d: matrix.csv is not written, "
            "pairs.csv is the sparse form",
            n,
            limit,
        )
    return None


def _said_groups(duplicates: Sequence[Any], groups: Sequence[Any], stories: Sequence[Any]) -> str:
    """What the cluster stage made, for its log line."""
    return (
        f"{counted(len(duplicates), 'duplicate group')}, "
        f"{counted(len(groups), 'provenance group')}, "
        f"{counted(len(stories), 'story', 'stories')}"
    )
