"""The ingestion gate: a persistent index that answers, per incoming article, ``new``,
``duplicate`` (the same article as X) or ``syndicated`` (shares passages with X).

The gate runs the scan's stages on one document at a time: cleaning, features, MinHash
signatures of its sentence windows, LSH band keys looked up in the store, then the scan's
pair comparison (Jaccard, containment, alignment, coverage) against each candidate. The
relation rules and thresholds are the scan's (:class:`~dedup.config.ScanConfig`), so the gate
and ``dedup scan`` agree on the same data. Only one signal of the scan's cleaning is missing:
lines repeated across documents of one source, which a document arriving alone cannot show.

Band keys: an indexed document stores the keys of all its sentence windows (one starts at
every sentence); an incoming one looks up only the windows that tile it
(:func:`~dedup.text.features.tiling`). A passage two windows long that both share holds a
whole tiling window of the incoming text, and the indexed text has a window starting at the
same sentence, so it is still found; lookups are halved.

Example::

    with Gate("index.db") as gate:
        verdict = gate.add({"id": "a1", "text": "..."})
        print(verdict.verdict, verdict.duplicate_of, verdict.syndicated_from)
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..config import ScanConfig
from ..match.align import coverage
from ..match.minhash import MinHasher
from ..match.rewrite import rewrite_passages
from ..match.tfidf import TermCounts
from ..models import Document
from ..store import Store, StoredDocument, display_location, open_store
from ..text.language import comparable_languages
from .compare import Related, related_candidates, to_match, with_cosines
from .records import (
    GATE_TERM_MAX_BUCKET,
    Candidate,
    Incoming,
    candidates_of,
    checked_document,
    fingerprint,
    incoming_term_keys,
    index_keys,
    prepare_incoming,
    stored_document,
    with_term_keys,
)
from .settings import INDEX_SETTINGS, index_layout
from .verdict import Verdict

MAX_CANDIDATES = 50  # documents compared in full per check, those sharing most band keys
_INDEX_CHUNK = 100  # documents per task when index_many prepares in worker processes
# The text Gate.warm_up checks against itself: two sentences, long enough for a passage.
_SAMPLE = (
    "The central bank left its main interest rate unchanged on Thursday, saying inflation was "
    "easing but remained above its target. Officials said they would watch wage growth and "
    "energy prices closely before deciding whether to cut borrowing costs next year."
)


class Gate:
    """A persistent near-duplicate and syndication index.

    Args:
        index: A file path (embedded SQLite store) or a ``redis://host:port/db`` URL, or an
            open store.
        config: Matching parameters. Those that shape the index (num_perm, seed,
            lsh_threshold, shingle_size, seed_words, window_words) are recorded when the
            index is created; opening it with different ones raises ConfigError.
        max_candidates: How many candidates (most shared band keys first) are compared.
        bands: LSH bands of a new index (default ``GATE_BANDS``); recorded in the index.
        rows: Signature values per band of a new index (default ``GATE_ROWS``); recorded.
        max_bucket: A band key held by more indexed documents than this is not looked up:
            a stock sentence or page chrome, not evidence (default the config's
            ``max_bucket_size``, as the scan); it keeps a lookup's cost bounded as the index
            grows. None keeps the configured value; 0 turns the limit off.
        workers: Processes that prepare ``index_many``'s documents (1: in this process).
        create: Create a new index at ``index`` when there is none (the default); false
            raises :class:`~dedup.errors.MissingIndexError` instead, as the CLI's commands
            but ``add --create`` do.
    """

    def __init__(
        self,
        index: str | Path | Store,
        config: ScanConfig | None = None,
        *,
        max_candidates: int = MAX_CANDIDATES,
        bands: int | None = None,
        rows: int | None = None,
        max_bucket: int | None = None,
        workers: int = 1,
        create: bool = True,
    ) -> None:
        owned = isinstance(index, (str, Path))
        self.location = display_location(str(index)) if owned else repr(index)
        self.store: Store = (
            open_store(index, create=create) if isinstance(index, (str, Path)) else index
        )
        try:
            layout = index_layout(self.store, self.location, config, bands, rows)
        except BaseException:
            if owned:  # a store the caller passed in stays the caller's to close
                self.store.close()
            raise
        self.config = layout.config
        self._bands, self._rows = layout.bands, layout.rows
        self.max_candidates = max_candidates
        chosen = self.config.max_bucket_size if max_bucket is None else max_bucket
        self.max_bucket: int | None = chosen or None
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        self._hasher = _hasher(self.config.num_perm, self.config.seed)
        self.warm = False  # True once warm_up has loaded the compiled kernels

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store (and stop index_many's worker processes)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.store.close()

    def check(self, document: Document | Mapping[str, Any], *, exclude: str = "") -> Verdict:
        """The verdict for a document, without adding it (read-only); the indexed document
        ``exclude`` is not compared (an indexed article explained against the others)."""
        incoming = self._prepare_incoming(self._document(document))
        _, looked_up = incoming_term_keys(self.store, incoming)
        return self._verdict(incoming, fingerprint(incoming.doc.text), looked_up, exclude)

    def add(self, document: Document | Mapping[str, Any], *, update: bool = False) -> Verdict:
        """Check a document, then insert it; return the verdict.

        Adding the same id with the same text again changes nothing (``status: exists``).

        Raises:
            ConflictError: the id is indexed with another text (unless ``update``, which
                replaces it).
            InputError: the document has no id or no text, or is too large.
        """
        incoming = self._prepare_incoming(self._document(document))
        terms, looked_up = incoming_term_keys(self.store, incoming)
        stored = stored_document(incoming, self._bands, self._rows, terms)
        verdict = self._verdict(incoming, stored.fingerprint, looked_up)
        verdict.status = self.store.add(stored, replace=update)  # type: ignore[assignment]
        verdict.added = verdict.status in ("added", "updated")
        return verdict

    def index_many(self, documents: Sequence[Document | Mapping[str, Any]]) -> list[str]:
        """Insert many documents in one batch without checking them: for loading an archive
        into a new gate. Returns ``added``, ``exists`` or ``conflict`` per document.

        With ``workers`` > 1 the documents are cleaned and prepared in that many processes
        (chunks of ``_INDEX_CHUNK``); the insert stays here, one transaction for the batch."""
        docs = [self._document(d) for d in documents]
        work = (self.config, self._bands, self._rows)
        if self.workers == 1 or len(docs) <= _INDEX_CHUNK:
            stored = _stored_documents(docs, *work)
        else:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            chunks = [docs[i : i + _INDEX_CHUNK] for i in range(0, len(docs), _INDEX_CHUNK)]
            futures = [self._pool.submit(_stored_documents, chunk, *work) for chunk in chunks]
            stored = [s for future in futures for s in future.result()]
        with_term_keys(self.store, stored)
        return self.store.add_many([record for record, _ in stored])

    def remove(self, doc_id: str) -> bool:
        """Remove a document; False when it was not in the index."""
        return self.store.remove(doc_id)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """A stored document as a record (id, text, removed, title, url, ...), or None."""
        stored = self.store.get(doc_id)
        if stored is None:
            return None
        return {"id": stored.id, "text": stored.text, "removed": stored.removed, **stored.meta}

    def warm_up(self) -> None:
        """Run every stage of a check once on a sample text compared with itself (an empty
        index gives no candidate), adding nothing: the compiled kernels load now, not in the
        first real check (seconds when numba's cache is cold); then ``warm`` is true."""
        incoming = self._prepare_incoming(self._document({"id": "warm-up", "text": _SAMPLE}))
        self._lookup(incoming, incoming_term_keys(self.store, incoming)[0])
        itself = self._prepared_stored([stored_document(incoming, self._bands, self._rows)])
        related = self._related(incoming.prepared, itself)
        for found in with_cosines(incoming, related, self.store, self.config):
            to_match(incoming.prepared, found)
        rewrite_passages(incoming.prepared.features, itself[0].features, [], min_words=0)
        self.warm = True

    def stats(self) -> dict[str, Any]:
        """Number of documents, where the index is, and its parameters."""
        return {
            "documents": self.store.count(),
            "index": self.location,
            "backend": type(self.store).__name__,
            "settings": {k: getattr(self.config, k) for k in INDEX_SETTINGS},
            "bands": self._bands,
            "rows": self._rows,
        }

    def index_keys(self, incoming: Incoming, *, lookup: bool = False) -> list[int]:
        """Band keys to store (every window) or, with ``lookup``, to look up (tiling ones)."""
        return index_keys(incoming.windows, self._bands, self._rows, lookup=lookup)

    # The stages of a check, each a method so that a benchmark can time it.

    def _document(self, document: Document | Mapping[str, Any]) -> Document:
        return checked_document(document, self.config.max_file_bytes)

    def _prepare_incoming(self, doc: Document) -> Incoming:
        return prepare_incoming([doc], self.config, self._hasher)[0]

    def _lookup(self, incoming: Incoming, terms: Sequence[int] = ()) -> tuple[list[str], set[str]]:
        """The candidates' ids (most shared window band keys first, then up to
        ``neighbours`` more by shared ``terms`` keys, as in a scan), and those terms found."""
        keys = self.index_keys(incoming, lookup=True)
        hits = self.store.candidates(keys, max_bucket=self.max_bucket)
        chosen = _most_shared(hits, self.max_candidates)
        if not terms or not self.config.neighbours:
            return chosen, set()
        shared = self.store.candidates(terms, max_bucket=GATE_TERM_MAX_BUCKET)
        extra = _most_shared(
            {i: n for i, n in shared.items() if i not in hits}, self.config.neighbours
        )
        return chosen + extra, set(extra)

    def _prepared_stored(self, stored: Sequence[StoredDocument]) -> list[Candidate]:
        return candidates_of(stored)

    def _related(
        self, incoming: Any, candidates: list[Candidate], by_terms: Collection[str] = ()
    ) -> list[Related]:
        return related_candidates(incoming, candidates, self.config, by_terms=by_terms)

    def _verdict(
        self, incoming: Incoming, incoming_fingerprint: str, terms: Sequence[int], exclude: str = ""
    ) -> Verdict:
        ids, by_terms = self._lookup(incoming, terms)
        stored = self.store.get_many(ids, keys=False)
        fetched = [s for s in stored if _compared(s, incoming.doc, incoming_fingerprint, exclude)]
        related = self._related(incoming.prepared, self._prepared_stored(fetched), by_terms)
        related = with_cosines(incoming, related, self.store, self.config, by_terms)
        passages = [alignment for found in related for alignment in found.passages]
        shared = round(coverage(passages, len(incoming.prepared.features), "a"), 4)
        matches = [to_match(incoming.prepared, found) for found in related]
        return Verdict.of(incoming.doc.id, shared, incoming.doc.credits, matches)


def _compared(stored: StoredDocument, doc: Document, fingerprint: str, exclude: str) -> bool:
    """Whether an indexed candidate is compared with an incoming ``doc`` (whose text has
    ``fingerprint``), before its features are unpacked: not an older text under the same id
    (the version being replaced, or refused), not the document ``exclude`` names, and in the
    same language (or either's unknown), as a scan's candidate pairs."""
    if stored.id == exclude or (stored.id == doc.id and stored.fingerprint != fingerprint):
        return False
    return comparable_languages(stored.meta.get("language"), doc.language)


def _most_shared(hits: dict[str, int], count: int) -> list[str]:
    """The ``count`` ids of most shared keys (ties by id)."""
    return sorted(hits, key=lambda i: (-hits[i], i))[:count]


@lru_cache(maxsize=8)
def _hasher(num_perm: int, seed: int) -> MinHasher:
    """One MinHasher per parameters and process (its permutations take a while to make)."""
    return MinHasher(num_perm, seed)


def _stored_documents(
    docs: list[Document], config: ScanConfig, bands: int, rows: int
) -> list[tuple[StoredDocument, TermCounts]]:
    """Clean and prepare documents and make their index records (their term band keys
    aside) and term counts: ``index_many``'s work, run in the calling process or in a
    worker."""
    hasher = _hasher(config.num_perm, config.seed)
    return [
        (stored_document(i, bands, rows), i.counted) for i in prepare_incoming(docs, config, hasher)
    ]
