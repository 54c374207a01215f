"""The ingestion gate: a persistent index that answers, per incoming article, ``new``,
``duplicate`` (the same article as X) or ``syndicated`` (shares passages with X).

The gate runs the scan's stages on one document at a time: cleaning, features, MinHash
signatures of its sentence windows, LSH band keys looked up in the store, then the scan's
pair comparison (Jaccard, containment, alignment, coverage) against each candidate. The
relation rules and thresholds are the scan's (:class:`~dedup.config.ScanConfig`), so the gate
and ``dedup scan`` agree on the same data. Only one signal of the scan's cleaning is missing:
lines repeated across documents of one source, which a document arriving alone cannot show.

Example::

    with Gate("index.db") as gate:
        verdict = gate.add({"id": "a1", "text": "..."})
        print(verdict["verdict"], verdict["duplicate_of"], verdict["syndicated_from"])
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ScanConfig
from ..errors import ConfigError, InputError
from ..match.align import Alignment, SeedIndex, char_spans, coverage, excerpt
from ..match.compare import Prepared, pair_score, prepare
from ..match.lsh import band_keys, lsh_params
from ..match.minhash import MinHasher
from ..match.score import ShingleIndex, keyed_cosine, tfidf_weights
from ..models import Document, PairScore
from ..store import Store, StoredDocument, display_location, open_store
from ..text.clean import clean_documents
from ..text.features import Features, extract_features, term_counts, tiling
from ..text.load import record_document
from ..text.packed import pack_features, unpack_features
from ..util.arrays import unique

log = logging.getLogger(__name__)

# Settings that shape signatures and band keys: an index keeps the ones it was built with.
INDEX_SETTINGS = ("num_perm", "seed", "lsh_threshold", "shingle_size", "seed_words", "window_words")
MAX_CANDIDATES = 50  # documents compared in full per check, those sharing most band keys
# LSH bands x rows of the gate's index. Fewer, shorter bands than the scan's 37 x 3 (its
# threshold 0.3): on the synthetic syndication corpus (6,000 articles) 12 x 2 with tiling
# lookups finds 98.4 % of the reused pairs (37 x 3 with every window: 98.5 %) with 66 band
# keys stored and 36 looked up per document instead of 226 each; the extra candidates it lets
# in are ranked by shared keys and cut at max_candidates. Recorded in the index; an index
# without it (built before) keeps the scan's bands.
GATE_BANDS, GATE_ROWS = 12, 2
_INDEX_CHUNK = 100  # documents per task when index_many prepares in worker processes


@dataclass
class _Candidate:
    """An indexed document ready to compare: its Document and token features."""

    doc: Document
    features: Features


# The text Gate.warm_up checks against itself: two sentences, long enough for a passage.
_SAMPLE = (
    "The central bank left its main interest rate unchanged on Thursday, saying inflation was "
    "easing but remained above its target. Officials said they would watch wage growth and "
    "energy prices closely before deciding whether to cut borrowing costs next year."
)

_HASHERS: dict[tuple[int, int], MinHasher] = {}


def _hasher(config: ScanConfig) -> MinHasher:
    key = (config.num_perm, config.seed)
    if key not in _HASHERS:
        _HASHERS[key] = MinHasher(config.num_perm, config.seed)
    return _HASHERS[key]


def _stored_documents(
    docs: list[Document], config: ScanConfig, bands: int, rows: int
) -> list[StoredDocument]:
    """Clean and prepare documents and make their index records: ``index_many``'s work, run
    in the calling process or in a worker."""
    clean_documents(docs)
    return [stored_document(p, bands, rows) for p in prepare(docs, config, _hasher(config))]


def index_keys(prepared: Prepared, bands: int, rows: int, *, lookup: bool = False) -> list[int]:
    """Band keys to store (every window) or, with ``lookup``, to look up (tiling ones)."""
    signatures = prepared.window_signatures
    if len(signatures) == 0:
        return []
    if lookup:
        signatures = signatures[tiling(prepared.windows)]
    return unique(band_keys(signatures, bands, rows).ravel()).tolist()


def stored_document(prepared: Prepared, bands: int, rows: int) -> StoredDocument:
    """What the index keeps of a prepared document."""
    doc = prepared.doc
    return StoredDocument(
        id=doc.id,
        fingerprint=fingerprint(doc.text),
        text=doc.text,
        removed=[list(span) for span in doc.removed],
        meta={
            "title": doc.title,
            "url": doc.url,
            "date": doc.date,
            "source": doc.source,
            "credits": doc.credits,
        },
        band_keys=index_keys(prepared, bands, rows),
        terms=term_counts(prepared.features)[0].tolist(),
        features=pack_features(prepared.features),
    )


def fingerprint(text: str) -> str:
    """Content hash of a text: the same id with the same fingerprint is the same document."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _document_of(stored: StoredDocument) -> Document:
    """The Document of an index record (cleaned when it was added: removed spans kept)."""
    meta = stored.meta
    return Document(
        id=stored.id,
        path="",
        text=stored.text,
        title=meta.get("title"),
        url=meta.get("url"),
        date=meta.get("date"),
        source=meta.get("source"),
        credits=list(meta.get("credits") or []),
        removed=[(int(s), int(e)) for s, e in stored.removed],
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

    Band keys: an indexed document stores the keys of all its sentence windows (one starts
    at every sentence); an incoming one looks up only the windows that tile it
    (:func:`~dedup.text.features.tiling`). A passage two windows long that both share holds a
    whole tiling window of the incoming text, and the indexed text has a window starting at
    the same sentence, so it is still found; lookups are halved.
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
    ) -> None:
        self.location = (
            display_location(str(index)) if isinstance(index, (str, Path)) else repr(index)
        )
        owned = isinstance(index, (str, Path))
        self.store: Store = open_store(index) if owned else index
        wanted = config or ScanConfig()
        asked = {k: getattr(config, k) for k in INDEX_SETTINGS} if config is not None else {}
        asked.update({k: v for k, v in (("bands", bands), ("rows", rows)) if v is not None})
        try:
            layout = {"bands": bands or GATE_BANDS, "rows": rows or GATE_ROWS}
            if layout["bands"] < 1 or layout["rows"] < 1:
                raise ConfigError("bands and rows must be at least 1")
            if layout["bands"] * layout["rows"] > wanted.num_perm:
                raise ConfigError(
                    f"{layout['bands']} bands x {layout['rows']} rows need more than num_perm="
                    f"{wanted.num_perm} signature values"
                )
            recorded = self.store.init_settings(
                {k: getattr(wanted, k) for k in INDEX_SETTINGS} | layout
            )
            if "bands" not in recorded:  # built before the gate had its own bands
                recorded = recorded | dict(
                    zip(
                        ("bands", "rows"),
                        lsh_params(recorded["lsh_threshold"], recorded["num_perm"]),
                    )
                )
            differing = {k: (recorded.get(k), v) for k, v in asked.items() if recorded.get(k) != v}
            if differing:
                detail = ", ".join(f"{k}={old} (asked {v})" for k, (old, v) in differing.items())
                raise ConfigError(
                    f"index {self.location} was built with {detail}: open it without these "
                    "options, or build a new index"
                )
        except BaseException:
            if owned:  # a store the caller passed in stays the caller's to close
                self.store.close()
            raise
        self.config = replace(wanted, **{k: recorded[k] for k in INDEX_SETTINGS})
        self.max_candidates = max_candidates
        chosen = self.config.max_bucket_size if max_bucket is None else max_bucket
        self.max_bucket: int | None = chosen or None
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        self._hasher = _hasher(self.config)
        self._bands, self._rows = int(recorded["bands"]), int(recorded["rows"])

    # --- context manager --------------------------------------------------------------------

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

    # --- operations --------------------------------------------------------------------------

    def check(self, document: Document | Mapping[str, Any]) -> dict[str, Any]:
        """The verdict for a document, without adding it (read-only)."""
        prepared = self._prepare_incoming(self._document(document))
        verdict = self._verdict(prepared, fingerprint(prepared.doc.text))
        verdict["status"] = "checked"
        verdict["added"] = False
        return verdict

    def add(
        self, document: Document | Mapping[str, Any], *, update: bool = False
    ) -> dict[str, Any]:
        """Check a document, then insert it; return the verdict.

        Adding the same id with the same text again changes nothing (``status: exists``).

        Raises:
            ConflictError: the id is indexed with another text (unless ``update``, which
                replaces it).
            InputError: the document has no id or no text, or is too large.
        """
        doc = self._document(document)
        prepared = self._prepare_incoming(doc)
        stored = stored_document(prepared, self._bands, self._rows)
        verdict = self._verdict(prepared, stored.fingerprint)
        status = self.store.add(stored, replace=update)
        verdict["status"] = status
        verdict["added"] = status in ("added", "updated")
        return verdict

    def index_many(self, documents: Sequence[Document | Mapping[str, Any]]) -> list[str]:
        """Insert many documents in one batch without checking them: for loading an archive
        into a new gate. Returns ``added``, ``exists`` or ``conflict`` per document.

        With ``workers`` > 1 the documents are cleaned and prepared in that many processes
        (chunks of ``_INDEX_CHUNK``); the insert stays here, one transaction for the batch."""
        docs = [self._document(d) for d in documents]
        if self.workers == 1 or len(docs) <= _INDEX_CHUNK:
            stored = _stored_documents(docs, self.config, self._bands, self._rows)
        else:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn")
                )
            chunks = [docs[i : i + _INDEX_CHUNK] for i in range(0, len(docs), _INDEX_CHUNK)]
            futures = [
                self._pool.submit(_stored_documents, c, self.config, self._bands, self._rows)
                for c in chunks
            ]
            stored = [s for future in futures for s in future.result()]
        return self.store.add_many(stored)

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
        """Run every stage of a check once, on a sample text compared with itself, reading
        the index but adding nothing: the compiled kernels load (about 0.1 s, or seconds
        when numba's cache is cold) before the first real check instead of during it. A
        server or a stream calls it once at start."""
        prepared = self._prepare_incoming(self._document({"id": "warm-up", "text": _SAMPLE}))
        self.store.candidates(self.index_keys(prepared, lookup=True), max_bucket=self.max_bucket)
        itself = self._prepared_stored([stored_document(prepared, self._bands, self._rows)])
        related = self._related(prepared, itself)
        self._cosines(prepared, related)
        for candidate, score, found in related:
            self._match(prepared, candidate, score, found)

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

    # --- stages -------------------------------------------------------------------------------

    def _document(self, document: Document | Mapping[str, Any]) -> Document:
        if isinstance(document, Document):
            doc = replace(document, removed=list(document.removed), credits=list(document.credits))
        else:
            if not isinstance(document, Mapping):
                raise InputError(f"a document must be a JSON object, got {type(document).__name__}")
            doc_id = document.get("id")
            if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
                raise InputError("document has no 'id': the gate needs one to answer about it")
            if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
                raise InputError(f"'id' must be a string, got {type(doc_id).__name__}")
            doc = record_document(document, "", str(doc_id), "")
            doc.id = str(doc_id)
            doc.path = ""
        try:
            size = len(doc.text.encode("utf-8"))
            doc.id.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(
                f"document {doc.id!r} holds text that is not valid Unicode ({exc.reason})"
            ) from None
        if size > self.config.max_file_bytes:
            raise InputError(
                f"document {doc.id!r} is {size:,} bytes, over the size limit of "
                f"{self.config.max_file_bytes:,}"
            )
        return doc

    def _prepare_incoming(self, doc: Document) -> Prepared:
        clean_documents([doc])
        return prepare([doc], self.config, self._hasher)[0]

    def index_keys(self, prepared: Prepared, *, lookup: bool = False) -> list[int]:
        """Band keys to store (every window) or, with ``lookup``, to look up (tiling ones)."""
        return index_keys(prepared, self._bands, self._rows, lookup=lookup)

    def _prepared_stored(self, stored: Sequence[StoredDocument]) -> list[_Candidate]:
        """Indexed documents ready to compare, rebuilt from their packed features (no
        tokenising), or from their texts when they have none (an index built before features
        were stored).

        Nothing is cached between checks. A cache of 2,048 rebuilt candidates, kept while
        rebuilding meant tokenising, made a 1M-document gate slower once rebuilding took
        about 40 microseconds: few candidates come back within 2,048 (p99 unchanged with a
        warm cache), and every one kept is a dozen objects that the cycle collector walks
        again in its older generations (3 ms pauses at the 99th percentile of checks)."""
        candidates = []
        for record in stored:
            doc = _document_of(record)
            features = unpack_features(record.features) if record.features else None
            candidates.append(_Candidate(doc, features or extract_features(doc)))
        return candidates

    def _related(
        self, incoming: Prepared, candidates: list[_Candidate]
    ) -> list[tuple[_Candidate, PairScore, list[Alignment]]]:
        """The candidates that share text with ``incoming`` (relation not ``none``), scored
        and aligned as the scan's :func:`~dedup.match.compare.compare` does them, cosine aside
        (:meth:`_cosines`), and without the MinHash estimate of their Jaccard (NaN: the gate
        computes no signature of a candidate, and its answer has no estimate).

        The incoming text's seed runs and shingles are put in hash tables once, and each
        candidate's are looked up in them (:class:`~dedup.match.align.SeedIndex`,
        :class:`~dedup.match.score.ShingleIndex`): sorting them, as the scan does for a document
        it compares many times, was half of a candidate's cost."""
        config = self.config
        seeds = SeedIndex(incoming.features, config.seed_words)
        shingles = ShingleIndex(incoming.shingles, config.shingle_size)
        length = len(incoming.features)
        related = []
        for candidate in candidates:
            features = candidate.features
            chains = seeds.chains(features)
            overlap = shingles.overlap(features.hashes)
            if not len(chains) and overlap[0] < config.duplicate_coverage:
                continue  # no passage without a shared seed: ``none``
            found = seeds.align(
                features,
                min_words=config.min_passage_words,
                min_similarity=config.min_passage_similarity,
                chains=chains,
            )
            score = pair_score(
                (incoming.doc.id, length), (candidate.doc.id, len(features)), overlap, found, config
            )
            if score.relation != "none":
                related.append((candidate, score, found))
        return related

    def _verdict(self, incoming: Prepared, incoming_fingerprint: str) -> dict[str, Any]:
        hits = self.store.candidates(
            self.index_keys(incoming, lookup=True), max_bucket=self.max_bucket
        )
        ranked = sorted(hits, key=lambda i: (-hits[i], i))[: self.max_candidates]
        # An older text under the same id is the version being replaced (or refused), not a
        # document to compare with.
        fetched = [
            s
            for s in self.store.get_many(ranked, keys=False)
            if s.id != incoming.doc.id or s.fingerprint == incoming_fingerprint
        ]
        related = self._related(incoming, self._prepared_stored(fetched))
        passages = [alignment for _, _, found in related for alignment in found]
        self._cosines(incoming, related)
        matches = [
            self._match(incoming, candidate, score, found) for candidate, score, found in related
        ]
        matches.sort(key=lambda m: (m["relation"] != "duplicate", -m["coverage"], m["id"]))
        duplicate_of = next((m["id"] for m in matches if m["relation"] == "duplicate"), None)
        syndicated = [m["id"] for m in matches if m["relation"] == "shares_text"]
        agencies: list[str] = []
        for match in matches:
            if match["agency"] and match["agency"] not in agencies:
                agencies.append(match["agency"])
        return {
            "id": incoming.doc.id,
            "verdict": "duplicate" if duplicate_of else "syndicated" if syndicated else "new",
            "duplicate_of": duplicate_of,
            "syndicated_from": syndicated,
            "coverage": round(coverage(passages, len(incoming.features), "a"), 4),
            "agencies": agencies,
            "credits": incoming.doc.credits,
            "matches": matches,
        }

    def _cosines(
        self, incoming: Prepared, related: list[tuple[_Candidate, PairScore, list[Alignment]]]
    ) -> None:
        """Set the TF-IDF cosine of each related pair's score, with the index's document
        frequencies (read once for the terms of all of them; the incoming document counts in
        its own idf, as in a scan)."""
        if not related:
            return
        keys, counts = term_counts(incoming.features)
        others = [term_counts(candidate.features) for candidate, _, _ in related]
        every = unique(np.concatenate([keys, *(other_keys for other_keys, _ in others)]))
        documents, frequencies = self.store.document_frequencies(every)
        documents += 1

        def weights(of_keys: np.ndarray, of_counts: np.ndarray) -> np.ndarray:
            found = frequencies[np.searchsorted(every, of_keys)]
            return tfidf_weights(of_counts, found, documents)

        vector = weights(keys, counts)
        for (_, score, _), (other_keys, other_counts) in zip(related, others):
            score.cosine = keyed_cosine(keys, vector, other_keys, weights(other_keys, other_counts))

    @staticmethod
    def _match(
        incoming: Prepared, other: _Candidate, score: Any, found: list[Alignment]
    ) -> dict[str, Any]:
        text = incoming.doc.text
        credits = other.doc.credits or incoming.doc.credits
        spans = [char_spans(incoming.features, other.features, x) for x in found]
        return {
            "id": other.doc.id,
            "relation": score.relation,
            "cosine": round(score.cosine, 4),
            "jaccard": round(score.jaccard, 4),
            "containment": round(score.containment_a, 4),
            "containment_other": round(score.containment_b, 4),
            "coverage": round(score.coverage_a, 4),
            "coverage_other": round(score.coverage_b, 4),
            "agency": credits[0] if credits else None,
            "passages": [
                {
                    "start": start,
                    "end": end,
                    "other_start": other_start,
                    "other_end": other_end,
                    "words": x.words,
                    "similarity": round(x.similarity, 4),
                    "excerpt": excerpt(text[start:end]),
                }
                for x, (start, end, other_start, other_end) in zip(found, spans)
            ],
        }
