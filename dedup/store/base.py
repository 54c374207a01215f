"""What every backend of the gate's index stores (documents, LSH band keys and term
frequencies) and promises: the :class:`Store` base class documents the contract once, and
:class:`~dedup.store.SQLiteStore` and :class:`~dedup.store.redis.RedisStore` implement it.
"""

from __future__ import annotations

import base64
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..errors import StoreError
from ..text.features import term_key

# What an add does to a document (``add_many`` reports a conflict instead of raising it).
ADDED = "added"
EXISTS = "exists"
UPDATED = "updated"
CONFLICT = "conflict"


@dataclass
class StoredDocument:
    """What the index keeps of a document: enough to clean-free re-score and align it.

    Attributes:
        id: The document id.
        fingerprint: Hash of the text (same id and fingerprint = the same document).
        text: The document text (offsets refer to it).
        removed: Boilerplate spans found when it was added.
        meta: title, url, date, source, credits, language.
        band_keys: Its LSH band keys (to remove them with the document).
        terms: Its distinct TF-IDF term keys, uint64 (to keep document frequencies right on
            removal).
        added: Unix time of the add.
        features: The gate's packed token features (opaque bytes), or None (a document
            indexed before they were stored: the gate re-tokenises its text).
    """

    id: str
    fingerprint: str
    text: str
    removed: list[list[int]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    band_keys: list[int] = field(default_factory=list)
    terms: list[int] = field(default_factory=list)
    added: float = 0.0
    features: bytes | None = None

    def stamp(self) -> None:
        """Set :attr:`added` to now, unless the caller gave a time."""
        self.added = self.added or time.time()

    def to_json(self, *, features: bool = True, keys: bool = True) -> str:
        """Serialised form (one JSON object; ``features`` in base64, unless left out; band
        keys and terms unless left out: :meth:`pack_keys` keeps them apart)."""
        record = {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "text": self.text,
            "removed": self.removed,
            "meta": self.meta,
            "added": self.added,
        }
        if keys:
            record["band_keys"], record["terms"] = self.band_keys, self.terms
        if features and self.features is not None:
            record["features"] = base64.b64encode(self.features).decode("ascii")
        return json.dumps(record, ensure_ascii=False)

    @classmethod
    def from_json(
        cls, raw: str | bytes, features: bytes | None = None, keys: bytes | None = None
    ) -> StoredDocument:
        """Inverse of :meth:`to_json`; ``features`` and ``keys`` (:meth:`pack_keys`) when
        they were kept apart."""
        record = json.loads(raw)
        packed = record.pop("features", None)
        doc = cls(**record)
        doc.features = features if packed is None else base64.b64decode(packed)
        if keys is not None:
            values = np.frombuffer(keys, dtype="<u8")
            bands = int(values[0]) + 1 if len(values) else 0
            doc.band_keys, doc.terms = values[1:bands].tolist(), values[bands:].tolist()
        return doc

    def pack_keys(self) -> bytes:
        """The band keys and terms as bytes: their numbers of band keys, then both, uint64
        (what a comparison never reads, kept out of the JSON record so that reading a
        candidate decodes less)."""
        values = [len(self.band_keys), *self.band_keys, *self.terms]
        return np.array(values, dtype=np.uint64).astype("<u8").tobytes()


class ConflictError(StoreError):
    """A different text was added under an existing id."""

    @classmethod
    def of(cls, doc_id: str) -> ConflictError:
        """The error for ``doc_id`` (the same words from every backend)."""
        return cls(
            f"document {doc_id!r} is already in the index with a different text: remove it "
            "first, or replace it (--update on the command line, ?update=true over HTTP, "
            "update=True in Python)"
        )


class Store(ABC):
    """What the gate needs from a backend: the contract every backend implements, and the
    test suite (``tests/test_store.py``) runs on each.

    A backend implements :meth:`_add` (an add that reports a conflict) and the abstract
    methods below; :meth:`add` is written here, once.
    """

    @abstractmethod
    def settings(self) -> dict[str, Any] | None:
        """The index parameters recorded at creation (None for a new, empty index)."""

    @abstractmethod
    def init_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Record ``settings`` unless the index has some already; return the recorded ones.
        Two processes doing it at once record one of them, and both get it back."""

    def add(self, doc: StoredDocument, *, replace: bool = False) -> str:
        """Insert atomically: ``"added"``, ``"exists"`` (same id and fingerprint),
        ``"updated"`` (same id, other text, ``replace``: the old version is removed in the same
        transaction), or raise :class:`ConflictError` (same id, other text). Sets
        ``doc.added`` unless it is set.

        Raises:
            ConflictError: another text is indexed under ``doc.id`` (and not ``replace``).
            StoreError: the index cannot be written.
        """
        status = self._add(doc, replace=replace)
        if status == CONFLICT:
            raise ConflictError.of(doc.id)
        return status

    @abstractmethod
    def _add(self, doc: StoredDocument, *, replace: bool) -> str:
        """What :meth:`add` does, with ``"conflict"`` returned (nothing written), not raised."""

    @abstractmethod
    def add_many(self, docs: Sequence[StoredDocument]) -> list[str]:
        """Insert many documents in one batch (one transaction or one round trip); per
        document ``"added"``, ``"exists"`` or ``"conflict"`` (same id, other text: not
        inserted)."""

    @abstractmethod
    def remove(self, doc_id: str) -> bool:
        """Delete a document and its keys; False when it was not there."""

    def remove_many(self, doc_ids: Sequence[str]) -> int:
        """Delete documents, all or none of them (a backend whose removals are atomic one
        by one only, Redis, removes each atomically); how many were there."""
        return sum(self.remove(doc_id) for doc_id in doc_ids)

    @abstractmethod
    def get(self, doc_id: str) -> StoredDocument | None:
        """One document, or None."""

    @abstractmethod
    def get_many(self, doc_ids: Sequence[str], *, keys: bool = True) -> list[StoredDocument]:
        """Documents by id (missing ones left out), in the order asked; without ``keys`` their
        band keys and terms may be left empty (what a comparison needs, read faster)."""

    @abstractmethod
    def candidates(
        self, band_keys: Iterable[int], *, max_bucket: int | None = None
    ) -> dict[str, int]:
        """Ids of the documents sharing any band key, with the number of keys shared. A key
        held by more than ``max_bucket`` documents (a stock sentence, page chrome) is left
        out without reading its documents."""

    @abstractmethod
    def document_frequencies(self, terms: np.ndarray) -> tuple[int, np.ndarray]:
        """Number of documents and the document frequency of each of ``terms`` (distinct
        uint64 term keys; 0 for a term no document has), in their order, read together."""

    @abstractmethod
    def dates(self) -> list[tuple[str, Any, float]]:
        """Every document's id, its ``date`` as given (``meta``; None when it had none) and
        when it was added (Unix time; 0 when unknown): what a prune reads."""

    @abstractmethod
    def count(self) -> int:
        """Number of documents."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


def keyed_terms(terms: Iterable[int | str]) -> list[int]:
    """A record's distinct terms as keys, sorted, whether an index wrote them as keys or, before
    its schema had term keys, as text (``features.term_key``): what an upgrade stores."""
    return sorted({term_key(t) if isinstance(t, str) else int(t) for t in terms})


def settings_json(settings: dict[str, Any]) -> str:
    """The recorded form of an index's settings (keys sorted)."""
    return json.dumps(settings, sort_keys=True)


def unreadable_schema(
    index: str, found: object, reads: int, upgrades: Sequence[int], hint: str
) -> StoreError:
    """The error for an index whose schema version this dedup neither reads nor upgrades."""
    return StoreError(
        f"index {index} has schema version {found}, this dedup reads {reads} "
        f"(and upgrades {', '.join(map(str, upgrades))}): {hint}"
    )


class _Sliceable(Protocol):
    def __len__(self) -> int: ...

    def __getitem__(self, index: slice, /) -> Any: ...


_S = TypeVar("_S", bound=_Sliceable)


def chunks(items: _S, size: int) -> Iterator[_S]:
    """``items`` (a list, an array, bytes) in slices of ``size``: each server call or SQL
    statement gets a bounded number of parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def display_location(location: str) -> str:
    """An index location fit to show: a password in a URL replaced by ``***``."""
    parts = urlsplit(location)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return location
