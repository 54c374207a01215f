"""The gate's answer for one article, as typed records: the CLI's JSON lines and the HTTP
service's responses are both :meth:`Verdict.to_dict` (its keys and their order are a public
contract)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..models import Record

VerdictName = Literal["new", "duplicate", "syndicated"]
Status = Literal["checked", "added", "exists", "updated"]


MatchRelation = Literal["duplicate", "shares_text", "shares_quote"]


@dataclass
class MatchPassage(Record):
    """A passage the incoming article shares with a matched one (character offsets, end
    exclusive: ``start``/``end`` in the incoming text, ``other_*`` in the indexed one), and
    its ``kind``: ``verbatim``, ``rewrite`` or ``quote`` (inside quotation marks in both)."""

    start: int
    end: int
    other_start: int
    other_end: int
    words: int
    similarity: float
    excerpt: str
    kind: str = "verbatim"


@dataclass
class Match(Record):
    """An indexed article the incoming one duplicates or shares text with.

    ``containment`` and ``coverage`` are the incoming article's (the share of its shingles
    found in the other, of its words inside shared passages); ``*_other`` the indexed one's.
    ``verbatim``, ``rewrite`` and ``quote`` split the incoming article's coverage by passage
    kind. ``shares_quote``: every shared passage is a quotation both articles carry (both
    quote one speaker), which does not make the incoming article syndicated.
    """

    id: str
    relation: MatchRelation
    cosine: float
    jaccard: float
    containment: float
    containment_other: float
    coverage: float
    coverage_other: float
    agency: str | None
    passages: list[MatchPassage]
    verbatim: float = 0.0
    rewrite: float = 0.0
    quote: float = 0.0


@dataclass
class Verdict(Record):
    """The gate's answer for one article.

    Attributes:
        id: The article's id.
        verdict: ``duplicate`` (the same article as ``duplicate_of``), ``syndicated`` (shares
            passages with ``syndicated_from``) or ``new``.
        duplicate_of: The indexed article it duplicates, or None.
        syndicated_from: The indexed articles it shares text with.
        coverage: Share of its words inside passages shared with any of them.
        agencies: The agencies the matches are credited to, in match order.
        credits: The agencies the article itself credits.
        matches: Every related indexed article, duplicates first, then by coverage.
        status: ``checked`` (nothing added), ``added``, ``exists`` (the same id and text
            were indexed already) or ``updated`` (the id's text was replaced).
        added: Whether the article is now indexed by this call.
    """

    id: str
    verdict: VerdictName
    duplicate_of: str | None
    syndicated_from: list[str]
    coverage: float
    agencies: list[str]
    credits: list[str]
    matches: list[Match]
    status: Status
    added: bool

    @classmethod
    def of(cls, doc_id: str, coverage: float, credits: list[str], matches: list[Match]) -> Verdict:
        """The verdict given the article's matches (in any order) and its coverage."""
        matches = sorted(matches, key=lambda m: (m.relation != "duplicate", -m.coverage, m.id))
        duplicate_of = next((m.id for m in matches if m.relation == "duplicate"), None)
        syndicated = [m.id for m in matches if m.relation == "shares_text"]
        agencies: list[str] = []
        for match in matches:
            if match.agency and match.agency not in agencies:
                agencies.append(match.agency)
        return cls(
            id=doc_id,
            verdict="duplicate" if duplicate_of else "syndicated" if syndicated else "new",
            duplicate_of=duplicate_of,
            syndicated_from=syndicated,
            coverage=coverage,
            agencies=agencies,
            credits=credits,
            matches=matches,
            status="checked",
            added=False,
        )
