"""What goes into the gate's index and comes out of it: an incoming article checked and
prepared, the record the index keeps of it, and an indexed article rebuilt for comparison."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np

from ..config import ScanConfig
from ..errors import InputError
from ..match.candidates import term_band_keys, top_terms
from ..match.compare import Prepared, prepare
from ..match.lsh import band_keys
from ..match.minhash import MinHasher
from ..match.tfidf import TermCounts, Vocabulary
from ..match.windows import Windows, window_signatures
from ..models import Document
from ..store import Store, StoredDocument
from ..text.clean import clean_documents
from ..text.features import Features, extract_features, term_counts, tiling
from ..text.load import record_document
from ..text.packed import pack_features, unpack_features
from ..util.arrays import unique

# Indexed documents below which an incoming article looks up no term band keys.
TERM_MIN_DOCUMENTS = 100
# A check looks up the keys of the first bands of the term LSH only (those of an LSH at
# threshold 0.1, the story groups'), and no key held by more documents than this: a lookup of
# every band's keys, with buckets up to the scan's 200, read thousands of rows per check.
GATE_TERM_BANDS = 15
GATE_TERM_MAX_BUCKET = 50


@dataclass
class Incoming:
    """An article cleaned and prepared for the gate: for comparison, its sentence windows
    for the index's band keys, and its TF-IDF term counts."""

    prepared: Prepared
    windows: Windows
    counted: TermCounts

    @property
    def doc(self) -> Document:
        """The cleaned article."""
        return self.prepared.doc


@dataclass
class Candidate:
    """An indexed article ready to compare: its Document and token features."""

    doc: Document
    features: Features


def fingerprint(text: str) -> str:
    """Content hash of a text: the same id with the same fingerprint is the same document."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def checked_document(document: Document | Mapping[str, Any], max_bytes: int) -> Document:
    """A copy of an incoming article (a Document or a JSON object with ``id`` and ``text``)
    that the gate can answer about.

    Raises:
        InputError: no id, no text, text that is not Unicode, or over ``max_bytes``.
    """
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
    if size > max_bytes:
        raise InputError(
            f"document {doc.id!r} is {size:,} bytes, over the size limit of {max_bytes:,}"
        )
    return doc


def prepare_incoming(docs: list[Document], config: ScanConfig, hasher: MinHasher) -> list[Incoming]:
    """Clean and prepare articles (in place) as the scan does, one at a time or many."""
    clean_documents(docs)
    prepared = prepare(docs, config, hasher)
    windows = window_signatures([p.features for p in prepared], config, hasher)
    return [Incoming(p, w, term_counts(p.features)) for p, w in zip(prepared, windows)]


def index_keys(windows: Windows, bands: int, rows: int, *, lookup: bool = False) -> list[int]:
    """Band keys to store (every window) or, with ``lookup``, to look up (the tiling ones:
    see :class:`~dedup.gate.gate.Gate`)."""
    signatures = windows.signatures
    if len(signatures) == 0:
        return []
    if lookup:
        signatures = signatures[tiling(windows.ranges)]
    return unique(band_keys(signatures, bands, rows).ravel()).tolist()


def term_keys(counted: TermCounts, documents: int, frequencies: np.ndarray) -> list[int]:
    """The band keys of an article's most distinctive terms in the term LSH
    (:func:`~dedup.match.candidates.term_band_keys`; the scan's second source of candidates,
    which reaches rewritten copy), its terms weighed with the document ``frequencies`` of
    ``documents`` indexed articles (the article itself counted among them, as in a scan)."""
    vocabulary = Vocabulary.from_frequencies(counted[0], frequencies, documents + 1, np.float64)
    return _term_keys([counted], vocabulary)[0]


def _term_keys(counted: Sequence[TermCounts], vocabulary: Vocabulary) -> list[list[int]]:
    """Each article's term band keys, its terms weighed by ``vocabulary`` (none for an
    article without terms)."""
    rows = vocabulary.weigh(counted)
    bounds = rows.indptr.tolist()
    tops = [
        top_terms(vocabulary.keys[rows.indices[start:end]], rows.data[start:end])
        for start, end in pairwise(bounds)
    ]
    keys = term_band_keys(tops)
    return [keys[i].tolist() if len(tops[i]) else [] for i in range(len(tops))]


def incoming_term_keys(store: Store, incoming: Incoming) -> tuple[list[int], list[int]]:
    """An incoming article's :func:`term_keys`, its terms weighed with the document
    frequencies of the index in ``store``: to store, and to look up (none while the index
    holds fewer than ``TERM_MIN_DOCUMENTS``: which terms are distinctive is told by how few
    documents hold them, and a handful of documents cannot tell)."""
    documents, frequencies = store.document_frequencies(incoming.counted[0])
    keys = term_keys(incoming.counted, documents, frequencies)
    return keys, keys[:GATE_TERM_BANDS] if documents >= TERM_MIN_DOCUMENTS else []


def stored_document(
    incoming: Incoming, bands: int, rows: int, terms: Sequence[int] = ()
) -> StoredDocument:
    """What the index keeps of an article (``terms``: its :func:`term_keys`, stored with
    its windows' band keys)."""
    doc = incoming.doc
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
            "language": doc.language,
        },
        band_keys=index_keys(incoming.windows, bands, rows) + list(terms),
        terms=incoming.counted[0].tolist(),
        features=pack_features(incoming.prepared.features),
    )


def document_of(stored: StoredDocument) -> Document:
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
        language=meta.get("language"),
    )


def candidates_of(stored: Sequence[StoredDocument]) -> list[Candidate]:
    """Indexed articles ready to compare, rebuilt from their packed features (no
    tokenising), or from their texts when they have none (an index built before features
    were stored).

    Nothing is cached between checks: rebuilding a candidate costs tens of microseconds, few
    come back soon, and every object a cache keeps is walked again by the cycle collector's
    older generations."""
    candidates = []
    for record in stored:
        doc = document_of(record)
        features = unpack_features(record.features) if record.features else None
        if features is not None:
            features.language = doc.language  # its stop words and stemmer
        candidates.append(Candidate(doc, features or extract_features(doc)))
    return candidates


def with_term_keys(store: Store, stored: list[tuple[StoredDocument, TermCounts]]) -> None:
    """Add each index record's :func:`term_keys` to its band keys (``stored``: the records
    of one batch and their term counts), its terms weighed with the document frequencies of
    the index and of the batch's other documents together (the first batch of a new index
    has only its own), as a single ``add`` weighs them."""
    every = [counted[0] for _, counted in stored]
    if not every:
        return
    keys, in_batch = np.unique(np.concatenate(every), return_counts=True)
    documents, frequencies = store.document_frequencies(keys)
    # For each record, the others' frequencies and number (``term_keys``): the same idf for
    # all of them, ``log((documents + batch) / frequency) + 1``.
    vocabulary = Vocabulary.from_frequencies(
        keys, frequencies + in_batch - 1, documents + len(stored), np.float64
    )
    found = _term_keys([counted for _, counted in stored], vocabulary)
    for (record, _), terms in zip(stored, found):
        record.band_keys = record.band_keys + terms
