"""Plain data records passed between the pipeline stages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

if TYPE_CHECKING:
    from .config import ScanConfig


class Record(Mapping[str, Any]):
    """A typed record of dedup's output (a dataclass). :meth:`to_dict` is its JSON form, the
    public contract. It also reads as that dict (``record["members"]``, ``record.get(...)``,
    ``dict(record)``), as the dicts earlier versions returned did, so code written against
    them keeps working."""

    def to_dict(self) -> dict[str, Any]:
        """The record as its JSON object (fields in declaration order)."""
        return asdict(self)  # type: ignore[call-overload]

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


@dataclass(frozen=True)
class Credit(Record):
    """One agency credited by one line of a document (offsets into ``text``): an item of
    ``credit_lines`` in ``documents.jsonl``."""

    agency: str
    kind: str
    start: int
    end: int
    line: str


@dataclass
class Document:
    """One article.

    ``text`` is the exact text every character offset in dedup's output refers to: the file's
    decoded text with broken encodings repaired (or the article text extracted from HTML).
    Normalisation for matching (case, quotes, whitespace, line endings) happens on tokens and
    never changes ``text``.

    Attributes:
        id: Stable id: the path relative to the scanned folder, ``path#id`` or ``path#n`` for
            records inside JSON, JSONL and WARC files.
        path: The file the document came from, relative to the scanned folder.
        text: The article text (see above).
        title: Title from the record, the HTML page, or the headline line of a text file.
        url: Source URL when the input names one.
        date: Publication or crawl date when the input names one.
        source: Publisher: the record's ``source`` field or the URL's host name.
        credits: Wire agencies the text credits (``AP``, ``AFP``, ``Reuters``, ...).
        credit_lines: The lines that credit them (set by cleaning), in text order.
        removed: ``[start, end)`` spans of ``text`` dropped as page boilerplate.
        group: Key of the documents that share page chrome (source, host or folder).
        derivation: Share of the body that is reused text, per provenance group and agency,
            and the label (``wholly_derived``, ``partially_derived``, ``independent``).
        language: ISO 639-1 code of the language the text is written in (set by cleaning:
            :mod:`dedup.text.language`), None when it has too few letters to tell.
    """

    id: str
    path: str
    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = None
    source: str | None = None
    credits: list[str] = field(default_factory=list)
    removed: list[tuple[int, int]] = field(default_factory=list)
    group: str = ""
    derivation: dict[str, Any] | None = None
    credit_lines: list[Credit] = field(default_factory=list)
    language: str | None = None
    # What the derivation label model read of the document (not written out): for fitting
    # and measuring the model.
    label_features: list[float] | None = field(default=None, repr=False, compare=False)

    def to_record(self) -> dict[str, Any]:
        """The document as the ``documents.jsonl`` object (public contract)."""
        return {
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "url": self.url,
            "date": self.date,
            "source": self.source,
            "credits": list(self.credits),
            "chars": len(self.text),
            "text": self.text,
            "removed": [list(span) for span in self.removed],
            "derivation": self.derivation,
            "credit_lines": [line.to_dict() for line in self.credit_lines],
            "language": self.language,
        }


@dataclass(frozen=True)
class Skipped:
    """An input that was not read, and why (one line, naming the file and line)."""

    path: str
    reason: str
    kind: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"

    def to_record(self) -> dict[str, Any]:
        """The skip as a JSON object."""
        return {"path": self.path, "line": self.line, "kind": self.kind, "reason": self.reason}


@dataclass(slots=True)
class Passage:
    """A stretch of text shared by two documents (offsets are ``[start, end)`` into ``text``).

    ``id`` numbers the passage in ``passages.jsonl``; ``provenance`` is the id of the
    provenance group it belongs to; ``kind`` is ``verbatim``, ``rewrite`` or ``quote``.
    """

    a: str
    a_start: int
    a_end: int
    b: str
    b_start: int
    b_end: int
    similarity: float
    words: int
    excerpt: str
    id: str = ""
    provenance: str | None = None
    kind: str = "verbatim"

    def to_record(self) -> dict[str, Any]:
        """The passage as the ``passages.jsonl`` object (public contract)."""
        return {
            "id": self.id,
            "a": self.a,
            "a_start": self.a_start,
            "a_end": self.a_end,
            "b": self.b,
            "b_start": self.b_start,
            "b_end": self.b_end,
            "similarity": round(self.similarity, 4),
            "words": self.words,
            "excerpt": self.excerpt,
            "provenance": self.provenance,
            "kind": self.kind,
        }


@dataclass(slots=True)
class PairScore:
    """Scores of one candidate pair (``a`` precedes ``b`` in document order)."""

    a: str
    b: str
    cosine: float
    jaccard: float
    jaccard_estimate: float
    containment_a: float
    containment_b: float
    passages: int = 0
    coverage_a: float = 0.0
    coverage_b: float = 0.0
    relation: str = "none"
    origin: str = "unknown"
    origin_reason: str = ""
    verbatim_a: float = 0.0
    verbatim_b: float = 0.0
    rewrite_a: float = 0.0
    rewrite_b: float = 0.0
    quote_a: float = 0.0
    quote_b: float = 0.0


# PairTable's relation codes, in order: ``shares_quote`` is a pair whose passages are all
# quotations of one speaker (:func:`dedup.match.compare.mark_quotes`).
RELATIONS = ("none", "shares_text", "duplicate", "shares_quote")
# Which text of a pair is the origin, and why (PairTable's codes, in order;
# :mod:`dedup.group.origin` says how they are told).
ORIGINS = ("unknown", "a", "b")
ORIGIN_REASONS = (
    "",
    "earlier date",
    "the wire's byline or dateline",
    "credits an agency",
    "the other text lies within it",
)
# PairTable's score columns, in order.
SCORE_COLUMNS = (
    "cosine",
    "jaccard",
    "jaccard_estimate",
    "containment_a",
    "containment_b",
    "coverage_a",
    "coverage_b",
    "verbatim_a",
    "verbatim_b",
    "rewrite_a",
    "rewrite_b",
    "quote_a",
    "quote_b",
)


Item = TypeVar("Item")


class RecordTable(Sequence[Item]):
    """Records kept as numpy columns and built one at a time when read (by index, slice or
    iteration): a scan of a million articles has millions of pairs and passages, gigabytes as
    objects. A subclass says how many rows it has and builds the record of one row."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _record(self, row: int) -> Item:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        rows = range(len(self))[index]  # IndexError out of range; negative indices count back
        if isinstance(rows, range):
            return [self._record(row) for row in rows]
        return self._record(rows)

    def __iter__(self) -> Iterator[Item]:
        return (self._record(row) for row in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class PairTable(RecordTable[PairScore]):
    """Scores of many pairs as numpy columns, read as :class:`PairScore` records.

    As columns a pair takes about 90 bytes (against about 400 as an object).

    Attributes:
        ids: Every document id, in document order.
        docs: ``(n, 2)`` document indices of each pair (into ``ids``).
        scores: ``(n, 13)`` float64, the columns of ``SCORE_COLUMNS``.
        passages: Passages of each pair.
        relations: Each pair's relation, as its index in ``RELATIONS``.
        origins: Each pair's origin, as its index in ``ORIGINS`` (0, unknown, until the
            groups stage tells them).
        origin_reasons: Why, as an index in ``ORIGIN_REASONS``.
    """

    def __init__(
        self,
        ids: Sequence[str],
        docs: np.ndarray,
        scores: np.ndarray,
        passages: np.ndarray,
        relations: np.ndarray,
        origins: np.ndarray | None = None,
        origin_reasons: np.ndarray | None = None,
    ) -> None:
        self.ids = ids
        self.docs = docs
        self.scores = scores
        self.passages = passages
        self.relations = relations
        unknown = np.zeros(len(docs), dtype=np.uint8)
        self.origins = unknown if origins is None else origins
        self.origin_reasons = unknown.copy() if origin_reasons is None else origin_reasons
        self._by_doc: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_scores(cls, ids: Sequence[str], scores: Sequence[PairScore]) -> PairTable:
        """The table of records (whose ``a`` and ``b`` are among ``ids``)."""
        position = {doc_id: index for index, doc_id in enumerate(ids)}
        docs = np.array([(position[s.a], position[s.b]) for s in scores], dtype=np.int32)
        origins = [ORIGINS.index(s.origin) for s in scores]
        reasons = [ORIGIN_REASONS.index(s.origin_reason) for s in scores]
        return cls(
            ids,
            docs.reshape(-1, 2),
            *cls.columns(scores),
            np.array(origins, dtype=np.uint8),
            np.array(reasons, dtype=np.uint8),
        )

    @staticmethod
    def columns(scores: Sequence[PairScore]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The score, passage and relation columns of records."""
        code = {name: number for number, name in enumerate(RELATIONS)}
        values = [[getattr(s, column) for column in SCORE_COLUMNS] for s in scores]
        return (
            np.array(values, dtype=np.float64).reshape(-1, len(SCORE_COLUMNS)),
            np.array([s.passages for s in scores], dtype=np.int32),
            np.array([code[s.relation] for s in scores], dtype=np.uint8),
        )

    def __len__(self) -> int:
        return len(self.docs)

    def rows_of(self, doc: int) -> np.ndarray:
        """The rows of the pairs that have document ``doc`` at one end."""
        if self._by_doc is None:
            ends = self.docs.ravel(order="F")
            order = np.argsort(ends, kind="stable")
            bounds = np.searchsorted(ends[order], np.arange(len(self.ids) + 1))
            self._by_doc = (order % max(len(self.docs), 1), bounds)
        rows, bounds = self._by_doc
        return rows[bounds[doc] : bounds[doc + 1]]

    def _record(self, row: int) -> PairScore:
        a, b = self.docs[row].tolist()
        values = dict(zip(SCORE_COLUMNS, self.scores[row].tolist()))
        return PairScore(
            self.ids[a],
            self.ids[b],
            passages=int(self.passages[row]),
            relation=RELATIONS[self.relations[row]],
            origin=ORIGINS[self.origins[row]],
            origin_reason=ORIGIN_REASONS[self.origin_reasons[row]],
            **values,
        )


@dataclass
class DuplicateGroup(Record):
    """Documents that are the same article (``clusters.json``, ``duplicates``)."""

    id: str
    members: list[str]


@dataclass
class Evidence(Record):
    """A member of a provenance group that credits the group's agency, and its credit lines."""

    id: str
    agency: str
    credits: list[str]


@dataclass
class ProvenanceGroup(Record):
    """Documents that carry text of one source story (``clusters.json``, ``provenance``).

    Attributes:
        id: ``prov-N``.
        members: The documents' ids.
        agency: The agency the members credit for it, or None.
        passages: Ids of the passages of the reused text.
        evidence: The members that credit the agency.
        origin: The member that is most likely the text the others copy, or None when the
            evidence does not tell (:mod:`dedup.group.origin`).
        origin_reason: Why that member.
    """

    id: str
    members: list[str]
    agency: str | None
    passages: list[str]
    evidence: list[Evidence] = field(default_factory=list)
    origin: str | None = None
    origin_reason: str = ""


@dataclass
class StoryGroup(Record):
    """Documents about the same event, shared text or not (``clusters.json``, ``stories``)."""

    id: str
    members: list[str]


@dataclass
class ScanResult:
    """Everything a scan found; the report writers turn it into files.

    Attributes:
        documents: Loaded and cleaned documents, in input order.
        skipped: Inputs that could not be read, with reasons.
        ignored: Files skipped silently because they are not an article format.
        pairs: Scores of every candidate pair.
        passages: Shared passages of every candidate pair.
        duplicates: Duplicate groups.
        provenance: Provenance groups.
        stories: Story groups.
        matrix: Dense cosine matrix in document order, or None above the size limit.
        config: The parameters used.
        candidates: Statistics of candidate generation (windows, buckets, ...).
        timings: Seconds spent per stage.
    """

    documents: list[Document]
    skipped: list[Skipped]
    ignored: int
    pairs: Sequence[PairScore]
    passages: Sequence[Passage]
    duplicates: list[DuplicateGroup]
    matrix: np.ndarray | None
    config: ScanConfig
    provenance: list[ProvenanceGroup] = field(default_factory=list)
    stories: list[StoryGroup] = field(default_factory=list)
    candidates: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def relation_counts(self) -> dict[str, int]:
        """Number of scored pairs per relation."""
        counts = {"duplicate": 0, "shares_text": 0, "shares_quote": 0, "none": 0}
        if isinstance(self.pairs, PairTable):
            for code, name in enumerate(RELATIONS):
                counts[name] = int((self.pairs.relations == code).sum())
            return counts
        for pair in self.pairs:
            counts[pair.relation] = counts.get(pair.relation, 0) + 1
        return counts
