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
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .align import Alignment, excerpt
from .clean import clean_documents
from .config import ScanConfig
from .corpus import record_document
from .errors import ConfigError, InputError
from .features import tiling
from .index import band_keys, lsh_params
from .models import Document
from .pipeline import Prepared, compare, prepare
from .score import terms, tfidf_vector, vector_cosine
from .signatures import MinHasher
from .store import Store, StoredDocument, display_location, open_store

log = logging.getLogger(__name__)

# Settings that shape signatures and band keys: an index keeps the ones it was built with.
INDEX_SETTINGS = ("num_perm", "seed", "lsh_threshold", "shingle_size", "seed_words", "window_words")
MAX_CANDIDATES = 50  # documents compared in full per check, those sharing most band keys
# LSH bands x rows of the gate's index. Fewer, shorter bands than the scan's 37 x 3 (its
# threshold 0.3): on the synthetic syndication corpus (6,000 articles) 12 x 2 with tiling
# lookups finds 98.4 % of the reused pairs (37 x 3 with every window: 98.5 %) with 66 band
# keys stored and 36 looked up per document instead of 226 each; the extra candidates it lets
# in are ranked by shared keys and cut at max_candidates. Recorded in the index; an index without it (built before)
# keeps the scan's bands.
GATE_BANDS, GATE_ROWS = 12, 2
_CACHE_SIZE = 2048


def fingerprint(text: str) -> str:
    """Content hash of a text: the same id with the same fingerprint is the same document."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


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

    Band keys: an indexed document stores the keys of all its sentence windows (one starts
    at every sentence); an incoming one looks up only the windows that tile it
    (:func:`~dedup.features.tiling`). A passage two windows long that both share holds a
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
        self._hasher = MinHasher(self.config.num_perm, self.config.seed)
        self._bands, self._rows = int(recorded["bands"]), int(recorded["rows"])
        self._cache: OrderedDict[tuple[str, str], Prepared] = OrderedDict()
        self._lock = threading.Lock()

    # --- context manager --------------------------------------------------------------------

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store."""
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
        stored = self._stored(prepared)
        verdict = self._verdict(prepared, stored.fingerprint)
        status = self.store.add(stored, replace=update)
        verdict["status"] = status
        verdict["added"] = status in ("added", "updated")
        return verdict

    def index_many(self, documents: list[Document | Mapping[str, Any]]) -> list[str]:
        """Insert many documents in one batch without checking them: for loading an archive
        into a new gate. Returns ``added``, ``exists`` or ``conflict`` per document."""
        docs = [self._document(d) for d in documents]
        clean_documents(docs)
        prepared = prepare(docs, self.config, self._hasher)
        return self.store.add_many([self._stored(p) for p in prepared])

    def remove(self, doc_id: str) -> bool:
        """Remove a document; False when it was not in the index."""
        return self.store.remove(doc_id)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """A stored document as a record (id, text, removed, title, url, ...), or None."""
        stored = self.store.get(doc_id)
        if stored is None:
            return None
        return {"id": stored.id, "text": stored.text, "removed": stored.removed, **stored.meta}

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
        signatures = prepared.window_signatures
        if len(signatures) == 0:
            return []
        if lookup:
            signatures = signatures[tiling(prepared.windows)]
        return np.unique(band_keys(signatures, self._bands, self._rows)).tolist()

    def _stored(self, prepared: Prepared) -> StoredDocument:
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
            band_keys=self.index_keys(prepared),
            terms=sorted(set(terms(prepared.features))),
        )

    def _prepared_stored(self, stored: StoredDocument) -> Prepared:
        key = (stored.id, stored.fingerprint)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        meta = stored.meta
        doc = Document(
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
        prepared = prepare([doc], self.config, self._hasher, windows=False)[0]
        with self._lock:
            self._cache[key] = prepared
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return prepared

    def _verdict(self, incoming: Prepared, incoming_fingerprint: str) -> dict[str, Any]:
        hits = self.store.candidates(self.index_keys(incoming, lookup=True))
        ranked = sorted(hits, key=lambda i: (-hits[i], i))[: self.max_candidates]
        # An older text under the same id is the version being replaced (or refused), not a
        # document to compare with.
        candidates = [
            self._prepared_stored(s)
            for s in self.store.get_many(ranked)
            if s.id != incoming.doc.id or s.fingerprint == incoming_fingerprint
        ]
        incoming_terms = terms(incoming.features)
        documents, frequencies = self.store.document_frequencies(
            incoming_terms + [t for c in candidates for t in terms(c.features)]
        )
        documents += 1  # the incoming document counts in its own idf
        vector = tfidf_vector(incoming_terms, documents, frequencies)
        matches = []
        covered = np.zeros(len(incoming.features), dtype=bool)
        for candidate in candidates:
            cosine = vector_cosine(
                vector, tfidf_vector(terms(candidate.features), documents, frequencies)
            )
            score, found = compare(incoming, candidate, cosine, self.config)
            if score.relation == "none":
                continue
            for alignment in found:
                covered[alignment.a_start : alignment.a_end] = True
            matches.append(self._match(incoming, candidate, score, found))
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
            "coverage": round(float(covered.mean()) if len(covered) else 0.0, 4),
            "agencies": agencies,
            "credits": incoming.doc.credits,
            "matches": matches,
        }

    @staticmethod
    def _match(
        incoming: Prepared, other: Prepared, score: Any, found: list[Alignment]
    ) -> dict[str, Any]:
        text = incoming.doc.text
        fa, fb = incoming.features, other.features
        credits = other.doc.credits or incoming.doc.credits
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
                    "start": int(fa.starts[x.a_start]),
                    "end": int(fa.ends[x.a_end - 1]),
                    "other_start": int(fb.starts[x.b_start]),
                    "other_end": int(fb.ends[x.b_end - 1]),
                    "words": x.words,
                    "similarity": round(x.similarity, 4),
                    "excerpt": excerpt(text[int(fa.starts[x.a_start]) : int(fa.ends[x.a_end - 1])]),
                }
                for x in found
            ],
        }
