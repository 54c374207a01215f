"""The scan's HTML report and heatmap image.

``build_report`` turns a :class:`~dedup.models.ScanResult` into the report's data (plain
records, no markup); ``render_html`` renders it with Jinja2 into one self-contained page
(inline CSS and script, no request leaves the page); ``render_heatmap_png`` draws the
similarity matrix with matplotlib.

Article text is untrusted input. It reaches the page only through Jinja2's autoescape, inside
one ``<template>`` per document; the page's script clones those nodes into the pair views and
never parses text as HTML. A Content-Security-Policy allows only the page's own script (by
hash) and no network request.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import heapq
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from typing import Any, TypeVar

import jinja2
import numpy as np
from markupsafe import Markup

from ..errors import ConfigError
from ..match.align import PassageTable
from ..models import (
    Document,
    DuplicateGroup,
    PairScore,
    Passage,
    ProvenanceGroup,
    ScanResult,
    StoryGroup,
)
from ..util.version import dedup_version

DEFAULT_MAX_PAIRS = 200
HEATMAP_MAX_DOCS = 50  # an HTML table of 50 x 50 cells is still readable and small
ANNOTATE_MAX_DOCS = 15  # up to this many documents, heatmap cells show their value
OPTIMAL_ORDER_MAX_DOCS = 500  # leaf reordering costs O(n^3) time: cheap up to here
OPEN_MAX_PAIRS = 12  # up to this many pairs, every pair view starts open
TEXT_LIMIT = 30_000  # characters of one document's text embedded in the page
MEMBER_LIMIT = 50  # members listed per group
SKIPPED_LIMIT = 100  # skipped inputs listed
PALETTE_SIZE = 8  # group colours g0..g7 in report.css; "x" marks a passage without group
# viridis sampled at the centres of 10 equal bins: the HTML cells and the PNG use the same
HEAT_COLOURS = (
    "#471365",
    "#463480",
    "#3b528b",
    "#2f6c8e",
    "#25848e",
    "#1e9c89",
    "#2fb47c",
    "#5ec962",
    "#9bd93c",
    "#dfe318",
)
REMOVED = "#removed"  # segment label of boilerplate spans (passage ids never start with #)
RELATION_RANK = {"duplicate": 0, "shares_text": 1, "shares_quote": 2}


@dataclass
class Segment:
    """A piece of a document's text between two consecutive span boundaries."""

    start: int
    end: int
    text: str
    passages: tuple[str, ...] = ()
    removed: bool = False


@dataclass
class Part:
    """One stretch of a composition bar: a provenance group, unattributed reuse or own text."""

    name: str
    share: float
    width: float
    colour: str


@dataclass
class DocView:
    """A document as the report shows it (``index`` is its position in the scan)."""

    index: int
    id: str
    label: str
    title: str | None
    source: str | None
    date: str | None
    url: str | None
    credits: list[str]
    chars: int
    derivation: str | None
    bar: list[Part]
    language: str | None = None
    pairs: list[int] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    embedded: bool = False
    truncated: bool = False
    listed: bool = False

    @property
    def search(self) -> str:
        """Lower-case text the filter box matches against."""
        return f"{self.id} {self.title or ''}".lower()


@dataclass
class PassageView:
    """A shared passage of a pair, with ranges in the pair's ``a`` and ``b`` documents."""

    id: str
    a: tuple[int, int]
    b: tuple[int, int]
    group: str | None
    agency: str | None
    colour: str
    words: int
    similarity: float
    kind: str = "verbatim"

    @property
    def detail(self) -> str:
        """Its kind, where it comes from, its length and alignment quality."""
        origin = self.group or "no provenance group"
        if self.agency:
            origin += f" ({self.agency})"
        return f"{self.kind} · {origin} · {self.words} words · similarity {self.similarity:.2f}"


@dataclass
class PairView:
    """A pair the report shows: its number (its row in ``pairs.csv``, 1 the first pair), its
    scores, documents and passages."""

    number: int
    score: PairScore
    a: DocView
    b: DocView
    passages: list[PassageView]

    def highlights(self, side: str) -> list[tuple[int, int, str, str]]:
        """``(start, end, passage id, colour)`` highlighted in document ``side`` ('a'/'b')."""
        return [(*getattr(p, side), p.id, p.colour) for p in self.passages]


@dataclass
class Member:
    """A group member: its id, short label and whether the documents list shows it."""

    id: str
    label: str
    index: int | None
    title: str | None = None
    credits: list[str] = field(default_factory=list)


@dataclass
class GroupView:
    """A provenance, duplicate or story group."""

    id: str
    members: list[Member]
    more: int
    agency: str | None = None
    colour: str = "x"
    passages: int = 0
    origin: str | None = None
    origin_reason: str = ""


@dataclass
class Cell:
    """A heatmap cell: cosine, colour level and the pair view it links to."""

    value: float
    level: int
    pair: int | None
    title: str


@dataclass
class Heatmap:
    """The similarity matrix restricted to the documents shown, in clustered order."""

    available: bool
    docs: list[DocView]
    rows: list[list[Cell]]
    total: int
    annotate: bool


@dataclass
class Report:
    """Everything the page shows (see ``build_report``)."""

    overview: list[tuple[str, int]]
    parameters: list[tuple[str, Any]]
    skipped: list[str]
    skipped_total: int
    heatmap: Heatmap
    documents: list[DocView]
    documents_total: int
    texts: list[DocView]
    pairs: list[PairView]
    pairs_total: int
    provenance: list[GroupView]
    provenance_total: int
    duplicates: list[GroupView]
    stories: list[GroupView]
    max_pairs: int
    open_pairs: bool


# --- data ------------------------------------------------------------------------------------


def split_segments(
    length: int, spans: Iterable[tuple[int, int, str]]
) -> list[tuple[int, int, tuple[str, ...]]]:
    """Cut ``[0, length)`` at every boundary of ``spans``.

    Spans may overlap each other and run past the text (they are clipped).

    Returns:
        ``(start, end, labels)`` pieces covering the text in order; ``labels`` are those of the
        spans covering the piece, in the order the spans were given.
    """
    clipped = [
        (max(0, start), min(length, end), label)
        for start, end, label in spans
        if min(length, end) > max(0, start)
    ]
    cuts = sorted({0, length, *(s for s, _, _ in clipped), *(e for _, e, _ in clipped)})
    labels: list[list[str]] = [[] for _ in cuts[1:]]
    for start, end, label in clipped:
        for k in range(bisect.bisect_left(cuts, start), bisect.bisect_left(cuts, end)):
            if label not in labels[k]:
                labels[k].append(label)
    return [(cuts[k], cuts[k + 1], tuple(labels[k])) for k in range(len(cuts) - 1)]


def short_labels(ids: Sequence[str]) -> list[str]:
    """Short unique labels for axis ticks: ``000`` for ``000_46ed2123.txt`` when unique."""
    names = [i.rsplit("/", 1)[-1] for i in ids]
    for labels in (
        [re.split(r"[_\s.#-]", name, maxsplit=1)[0] for name in names],
        ["#" + name.rsplit("#", 1)[1] if "#" in name else name for name in names],
        [name if "#" in name else name.rsplit(".", 1)[0] for name in names],
        names,
    ):
        if all(0 < len(x) <= 16 for x in labels) and len(set(labels)) == len(labels):
            return labels
    return [str(k + 1) for k in range(len(ids))]


def ranked_pairs(
    pairs: Iterable[PairScore], limit: int | None = None
) -> list[tuple[int, PairScore]]:
    """Pairs that share text, each with its row in ``pairs.csv`` (1 is the first pair),
    duplicates first, then by the larger coverage and cosine (the first ``limit`` of them
    when given: only those are held, not every pair)."""
    shown = ((row, p) for row, p in enumerate(pairs, start=1) if p.relation != "none")
    if limit is not None:
        return heapq.nsmallest(limit, shown, key=_rank)
    return sorted(shown, key=_rank)


def _rank(row_and_pair: tuple[int, PairScore]) -> tuple[Any, ...]:
    p = row_and_pair[1]
    return (
        RELATION_RANK.get(p.relation, len(RELATION_RANK)),
        -max(p.coverage_a, p.coverage_b),
        -p.cosine,
        p.a,
        p.b,
    )


def _passages_between(
    result: ScanResult, shown: Sequence[PairScore]
) -> dict[tuple[str, str], list[Passage]]:
    """The passages of the ``shown`` pairs (either way round), by pair; a scan's table of
    passages is searched by its columns, not read passage by passage."""
    keys = {(p.a, p.b) for p in shown} | {(p.b, p.a) for p in shown}
    passages = result.passages
    if isinstance(passages, PassageTable):
        position = {doc.id: index for index, doc in enumerate(result.documents)}
        n = len(result.documents)
        wanted = np.array([position[a] * n + position[b] for a, b in keys], dtype=np.int64)
        codes = passages.rows[:, 0].astype(np.int64) * n + passages.rows[:, 1]
        found: Iterable[Passage] = (
            passages[k] for k in np.flatnonzero(np.isin(codes, wanted)).tolist()
        )
    else:
        found = (p for p in passages if (p.a, p.b) in keys)
    passages_of: dict[tuple[str, str], list[Passage]] = {}
    for passage in found:
        passages_of.setdefault((passage.a, passage.b), []).append(passage)
    return passages_of


def heatmap_order(result: ScanResult) -> list[int]:
    """Document indices in the leaf order of an average-linkage tree of cosine distance.

    Similar documents (and so groups) sit next to each other; document order without a matrix.
    """
    n = len(result.documents)
    if result.matrix is None or n < 3:
        return list(range(n))
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    distance = np.clip(1.0 - np.asarray(result.matrix, dtype=np.float64), 0.0, 1.0)
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    tree = linkage(
        squareform(distance, checks=False),
        method="average",
        optimal_ordering=n <= OPTIMAL_ORDER_MAX_DOCS,
    )
    return [int(k) for k in leaves_list(tree)]


def _level(value: float) -> int:
    return min(len(HEAT_COLOURS) - 1, max(0, int(value * len(HEAT_COLOURS))))


def _check_max_pairs(max_pairs: object) -> int:
    if isinstance(max_pairs, bool) or not isinstance(max_pairs, int) or max_pairs < 0:
        raise ConfigError(
            f"report_max_pairs must be a whole number of at least 0, got {max_pairs!r} "
            f"(the pairs the HTML report shows; try {DEFAULT_MAX_PAIRS})"
        )
    return max_pairs


def _bar(doc: Document, colour_of: dict[str, str]) -> list[Part]:
    """The composition bar: shares per provenance group, unattributed reuse, own text.

    Group shares can overlap (one passage reused by two groups), so their widths are scaled to
    add up to the reused share; the legend keeps the real shares.
    """
    derived = doc.derivation
    if not derived:
        return [Part("own text", 1.0, 100.0, "own")]
    groups = derived.get("groups", [])
    reused = float(derived.get("reused", 0.0))
    total = sum(float(g["share"]) for g in groups)
    scale = min(1.0, reused / total) if total else 0.0
    parts = []
    for g in groups:
        name = g["group"] + (f" {g['agency']}" if g.get("agency") else "")
        share = float(g["share"])
        parts.append(Part(name, share, 100 * share * scale, colour_of.get(g["group"], "x")))
    rest = reused - total * scale
    if rest > 0.0005:
        parts.append(Part("other reuse", rest, 100 * rest, "x"))
    own = float(derived.get("own", 1.0 - reused))
    parts.append(Part("own text", own, 100 * own, "own"))
    return parts


def _doc_view(index: int, doc: Document, label: str, colour_of: dict[str, str]) -> DocView:
    return DocView(
        index=index,
        id=doc.id,
        label=label,
        title=doc.title,
        source=doc.source,
        date=doc.date,
        url=doc.url,
        credits=list(doc.credits),
        chars=len(doc.text),
        derivation=(doc.derivation or {}).get("label"),
        bar=_bar(doc, colour_of),
        language=doc.language,
    )


def _embed_text(view: DocView, doc: Document, spans: list[tuple[int, int, str]]) -> None:
    """Cut the document's text into segments at passage and boilerplate boundaries."""
    limit = min(len(doc.text), TEXT_LIMIT)
    spans = [(s, e, REMOVED) for s, e in doc.removed] + spans
    view.segments = [
        Segment(
            start,
            end,
            doc.text[start:end],
            tuple(x for x in labels if x != REMOVED),
            REMOVED in labels,
        )
        for start, end, labels in split_segments(limit, spans)
    ]
    view.embedded = True
    view.truncated = limit < len(doc.text)


def _passage_view(
    passage: Passage,
    flipped: bool,
    group_of: dict[str, ProvenanceGroup],
    colour_of: dict[str, str],
) -> PassageView:
    a, b = (passage.a_start, passage.a_end), (passage.b_start, passage.b_end)
    group = group_of.get(passage.provenance or "")
    return PassageView(
        id=passage.id,
        a=b if flipped else a,
        b=a if flipped else b,
        group=passage.provenance,
        agency=group.agency if group else None,
        colour=colour_of.get(passage.provenance or "", "x"),
        words=passage.words,
        similarity=passage.similarity,
        kind=passage.kind,
    )


def _members(ids: Sequence[str], views: dict[str, DocView], labels: dict[str, str]) -> list:
    return [
        Member(
            id=i,
            label=labels[i],
            index=views[i].index if i in views else None,
            title=views[i].title if i in views else None,
        )
        for i in ids[:MEMBER_LIMIT]
    ]


Group = TypeVar("Group", DuplicateGroup, ProvenanceGroup, StoryGroup)


def _group_views(
    groups: Sequence[Group], limit: int, views: dict[str, DocView], labels: dict[str, str]
) -> list[tuple[GroupView, Group]]:
    """The ``limit`` largest groups in their original order (members cut at MEMBER_LIMIT)."""
    keep = sorted(range(len(groups)), key=lambda k: (-len(groups[k].members), k))[:limit]
    return [
        (
            GroupView(
                id=groups[k].id,
                members=_members(groups[k].members, views, labels),
                more=max(0, len(groups[k].members) - MEMBER_LIMIT),
            ),
            groups[k],
        )
        for k in sorted(keep)
    ]


def _heatmap(
    result: ScanResult, order: Sequence[int], views: _Views, pairs: list[PairView]
) -> Heatmap:
    n = len(result.documents)
    if result.matrix is None:
        return Heatmap(False, [], [], n, False)
    # Up to HEATMAP_MAX_DOCS: the documents of the top pairs first, shown in clustered order
    wanted = [k for pair in pairs for k in (pair.a.index, pair.b.index)] + list(order)
    chosen = set(list(dict.fromkeys(wanted))[:HEATMAP_MAX_DOCS])
    shown = [k for k in order if k in chosen]
    pair_of = {}
    for pair in pairs:
        pair_of[pair.a.index, pair.b.index] = pair_of[pair.b.index, pair.a.index] = pair
    rows = []
    for i in shown:
        row = []
        for j in shown:
            value = float(result.matrix[i, j])
            shared = pair_of.get((i, j))
            title = f"{views[i].label} × {views[j].label}: cosine {value:.2f}"
            if shared is not None:
                title += f", {shared.score.relation.replace('_', ' ')}"
            row.append(Cell(value, _level(value), shared.number if shared else None, title))
        rows.append(row)
    return Heatmap(True, [views[k] for k in shown], rows, n, len(shown) <= ANNOTATE_MAX_DOCS)


def _pair_views(
    result: ScanResult, views: _Views, max_pairs: int, colour_of: dict[str, str]
) -> tuple[list[PairView], int]:
    """The top ``max_pairs`` pairs with their passages, and how many pairs share text.

    Embeds the text of every document of a shown pair, cut at its passages' boundaries.
    """
    position = {doc.id: index for index, doc in enumerate(result.documents)}
    group_of = {g.id: g for g in result.provenance}
    ranked = ranked_pairs(result.pairs, max_pairs)
    passages_of = _passages_between(result, [score for _, score in ranked])
    pairs: list[PairView] = []
    spans_of: dict[int, set[tuple[int, int, str]]] = {}
    for number, score in ranked:
        a, b = views[position[score.a]], views[position[score.b]]
        found = [(p, False) for p in passages_of.get((score.a, score.b), [])]
        found += [(p, True) for p in passages_of.get((score.b, score.a), [])]
        found.sort(key=lambda x: x[0].b_start if x[1] else x[0].a_start)
        shown = [_passage_view(p, flipped, group_of, colour_of) for p, flipped in found]
        pairs.append(PairView(number, score, a, b, shown))
        a.pairs.append(number)
        b.pairs.append(number)
        spans_of.setdefault(a.index, set()).update((*x.a, x.id) for x in shown)
        spans_of.setdefault(b.index, set()).update((*x.b, x.id) for x in shown)
    for index, spans in spans_of.items():
        _embed_text(views[index], result.documents[index], sorted(spans))
    counts = result.relation_counts()
    return pairs, sum(counts.values()) - counts["none"]


def _listed(views: _Views, limit: int) -> list[DocView]:
    """Up to ``limit`` documents in scan order: those in the shown pairs first, then the
    first documents of the scan."""
    in_pairs = sorted((v for v in views.built() if v.pairs), key=lambda v: (min(v.pairs), v.index))
    chosen = in_pairs[:limit]
    taken = {v.index for v in chosen}
    for index in range(len(views)):
        if len(chosen) >= limit:
            break
        if index not in taken:
            chosen.append(views[index])
    for view in chosen:
        view.listed = True
    return sorted(chosen, key=lambda v: v.index)


class _Views:
    """The documents' views, each built when first asked for: a report shows a few hundred
    of a scan's documents, which can be a hundred thousand."""

    def __init__(
        self, documents: Sequence[Document], labels: Sequence[str], colours: dict[str, str]
    ) -> None:
        self._documents, self._labels, self._colours = documents, labels, colours
        self._built: dict[int, DocView] = {}

    def __len__(self) -> int:
        return len(self._documents)

    def __getitem__(self, index: int) -> DocView:
        view = self._built.get(index)
        if view is None:
            doc = self._documents[index]
            view = self._built[index] = _doc_view(index, doc, self._labels[index], self._colours)
        return view

    def built(self) -> list[DocView]:
        """The views built so far, in scan order."""
        return [self._built[index] for index in sorted(self._built)]


def _provenance_views(
    result: ScanResult, limit: int, listed: dict[str, DocView], labels: dict[str, str]
) -> list[GroupView]:
    colours = _colours(result)
    shown = []
    for view, group in _group_views(result.provenance, limit, listed, labels):
        view.agency = group.agency
        view.origin = labels.get(group.origin, group.origin) if group.origin else None
        view.origin_reason = group.origin_reason
        view.colour = colours[group.id]
        view.passages = len(group.passages)
        credits: dict[str, list[str]] = {}
        for evidence in group.evidence:
            credits.setdefault(evidence.id, []).extend(evidence.credits)
        for member in view.members:
            member.credits = credits.get(member.id, [])
        shown.append(view)
    return shown


def _colours(result: ScanResult) -> dict[str, str]:
    """Colour class of each provenance group (g0 .. g7, repeating)."""
    return {g.id: str(k % PALETTE_SIZE) for k, g in enumerate(result.provenance)}


def _overview(result: ScanResult) -> list[tuple[str, int]]:
    counts = result.relation_counts()
    return [
        ("documents read", len(result.documents)),
        ("inputs skipped", len(result.skipped)),
        ("other files ignored", result.ignored),
        ("candidate pairs", len(result.pairs)),
        ("duplicate pairs", counts.get("duplicate", 0)),
        ("pairs sharing text", counts.get("shares_text", 0)),
        ("pairs sharing only quotations", counts.get("shares_quote", 0)),
        ("shared passages", len(result.passages)),
        ("duplicate groups", len(result.duplicates)),
        ("provenance groups", len(result.provenance)),
        ("story groups", len(result.stories)),
    ]


def build_report(
    result: ScanResult,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    order: Sequence[int] | None = None,
) -> Report:
    """The report's data: what the page shows, bounded by ``max_pairs``.

    Args:
        result: The scan.
        max_pairs: Most pairs shown (duplicates first, then by coverage); also bounds the
            groups (``max_pairs`` largest of each kind) and the documents listed
            (``2 * max_pairs``, at least 20).
        order: Document order of the heatmap (``heatmap_order`` when None).

    Raises:
        ConfigError: ``max_pairs`` is not a whole number of at least 0.
    """
    max_pairs = _check_max_pairs(max_pairs)
    labels = short_labels([d.id for d in result.documents])
    colours = _colours(result)
    views = _Views(result.documents, labels, colours)
    pairs, pairs_total = _pair_views(result, views, max_pairs, colours)
    documents = _listed(views, max(2 * max_pairs, 20))
    listed = {v.id: v for v in documents}
    label_of = dict(zip((d.id for d in result.documents), labels))
    if order is None:
        order = heatmap_order(result)
    return Report(
        overview=_overview(result),
        parameters=[*result.config.to_dict().items(), ("report_max_pairs", max_pairs)],
        skipped=[str(s) for s in result.skipped[:SKIPPED_LIMIT]],
        skipped_total=len(result.skipped),
        heatmap=_heatmap(result, order, views, pairs),
        documents=documents,
        documents_total=len(views),
        texts=[v for v in views.built() if v.embedded],
        pairs=pairs,
        pairs_total=pairs_total,
        provenance=_provenance_views(result, max_pairs, listed, label_of),
        provenance_total=len(result.provenance),
        duplicates=[v for v, _ in _group_views(result.duplicates, max_pairs, listed, label_of)],
        stories=[v for v, _ in _group_views(result.stories, max_pairs, listed, label_of)],
        max_pairs=max_pairs,
        open_pairs=len(pairs) <= OPEN_MAX_PAIRS,
    )


# --- rendering -------------------------------------------------------------------------------


def template_source(name: str) -> str:
    """A file of ``dedup/output/templates``."""
    return (resources.files("dedup.output") / "templates" / name).read_text(encoding="utf-8")


def inline_script(name: str) -> tuple[Markup, str]:
    """A template script to put inside a page's ``<script>``, and its CSP source
    (``sha256-...``): the page runs that script and nothing else."""
    script = template_source(name)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return Markup(script), f"sha256-{digest}"


def template_environment() -> jinja2.Environment:
    """The pages' Jinja environment: autoescaped, strict, with the report's filters."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(template_source),
        autoescape=True,  # every article string is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = lambda x: f"{100 * x:.0f}%"
    env.filters["num"] = lambda x: f"{x:.2f}"
    env.filters["count"] = lambda x: f"{x:,}"
    env.filters["words"] = lambda x: str(x).replace("_", " ")
    return env


def report_time() -> datetime:
    """The time a report says it was made: ``SOURCE_DATE_EPOCH`` (seconds since 1970, the
    reproducible-builds convention) when set, so that a scan of the same files writes the
    same bytes (the committed example is made so), else now.

    Raises:
        ConfigError: ``SOURCE_DATE_EPOCH`` is not a whole number of seconds.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.now(timezone.utc)
    if not epoch.isdigit():
        raise ConfigError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch!r}")
    return datetime.fromtimestamp(int(epoch), timezone.utc)


def render_html(
    result: ScanResult,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    order: Sequence[int] | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The report as one self-contained HTML page (see ``build_report`` for the arguments).

    The only varying part, the generation time (``generated_at``, else :func:`report_time`),
    is the page's one ``<time>`` element.
    """
    report = build_report(result, max_pairs=max_pairs, order=order)
    when = (generated_at or report_time()).astimezone(timezone.utc)
    script, script_hash = inline_script("report.js")
    return (
        template_environment()
        .get_template("report.html")
        .render(
            r=report,
            script=script,
            csp=Markup(  # ours, not article text: no " in it
                f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                f"script-src '{script_hash}'; base-uri 'none'; form-action 'none'"
            ),
            generated=when.strftime("%Y-%m-%d %H:%M UTC"),
            generated_iso=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            version=dedup_version(),
        )
    )


def render_heatmap_png(result: ScanResult, order: Sequence[int] | None = None) -> bytes | None:
    """The similarity matrix as a PNG in the heatmap's order; None without a matrix.

    Same colours as the HTML heatmap (ten bins of viridis); the bytes depend only on the
    matrix and the ids (no software or date metadata), so the committed example stays current.
    """
    if result.matrix is None:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure

    order = list(order) if order is not None else heatmap_order(result)
    n = len(order)
    matrix = np.asarray(result.matrix, dtype=np.float64)[np.ix_(order, order)]
    labels = short_labels([result.documents[k].id for k in order])
    side = min(12.0, max(4.5, 1.5 + 0.3 * n))
    figure = Figure(figsize=(side + 1.2, side), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    colours = ListedColormap(list(HEAT_COLOURS))
    norm = BoundaryNorm(np.linspace(0.0, 1.0, len(HEAT_COLOURS) + 1), len(HEAT_COLOURS))
    # above a few hundred documents a cell is smaller than a pixel: average rather than alias
    smooth = "nearest" if n <= 300 else "antialiased"
    image = axes.imshow(matrix, cmap=colours, norm=norm, interpolation=smooth)
    if n <= 60:
        ticks = np.arange(n)
        axes.set_xticks(ticks, labels, rotation=90 if max(map(len, labels)) > 4 else 0)
        axes.set_yticks(ticks, labels)
    else:
        axes.set_xticks([])
        axes.set_yticks([])
    if n <= ANNOTATE_MAX_DOCS:
        for (i, j), value in np.ndenumerate(matrix):
            colour = "black" if _level(value) >= 6 else "white"
            axes.text(j, i, f"{value:.2f}", ha="center", va="center", color=colour, fontsize=8)
    axes.set_xlabel("document (clustered order)")
    axes.set_ylabel("document (clustered order)")
    axes.set_title("Similarity: TF-IDF cosine")
    figure.colorbar(image, ax=axes, label="TF-IDF cosine", fraction=0.046, pad=0.04)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
