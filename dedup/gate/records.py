"""What goes into the gate's index and comes out of it: an incoming article checked and
prepared, the record the index keeps of it, and an indexed article rebuilt for comparison."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..config import ScanConfig
from ..errors import InputError
from ..match.compare import Prepared, prepare
from ..match.lsh import band_keys
from ..match.minhash import MinHasher
from ..match.windows import Windows, window_signatures
from ..models import Document
from ..store import StoredDocument
from ..text.clean import clean_documents
from ..text.features import Features, extract_features, term_counts, tiling
from ..text.load import record_document
from ..text.packed import pack_features, unpack_features
from ..util.arrays import unique


@dataclass
class Incoming:
    """An article cleaned and prepared for the gate: for comparison, and its sentence
    windows for the index's band keys."""

    prepared: Prepared
    windows: Windows

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
    return [Incoming(p, w) for p, w in zip(prepared, windows)]


def index_keys(windows: Windows, bands: int, rows: int, *, lookup: bool = False) -> list[int]:
    """Band keys to store (every window) or, with ``lookup``, to look up (the tiling ones:
    see :class:`~dedup.gate.gate.Gate`)."""
    signatures = windows.signatures
    if len(signatures) == 0:
        return []
    if lookup:
        signatures = signatures[tiling(windows.ranges)]
    return unique(band_keys(signatures, bands, rows).ravel()).tolist()


def stored_document(incoming: Incoming, bands: int, rows: int) -> StoredDocument:
    """What the index keeps of an article."""
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
        },
        band_keys=index_keys(incoming.windows, bands, rows),
        terms=term_counts(incoming.prepared.features)[0].tolist(),
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
        candidates.append(Candidate(doc, features or extract_features(doc)))
    return candidates
