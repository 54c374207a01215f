"""Which text of a pair, and which member of a provenance group, is the origin."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from dedup import scan
from dedup.cli import app
from dedup.group.origin import pair_origin
from dedup.models import Credit, Document
from dedup.text.credits import filed_at, find_credits

WIRE_BODY = (
    "Composer Keith Burstein, seeking damages from The Times which accused him of organising "
    "hecklers to wreck performances by modernists, told the High Court today that he did voice "
    "disapproval at the end of a performance of Sir Harrison Birtwistle's work.\n\n"
    "Justin Rushbrooke, representing the newspaper in the libel case, asked whether Mr Burstein "
    "agreed that he heckled and booed at the end of the concert at Covent Garden in March "
    "1994.\n\n"
    "Mr Burstein replied that it was perfectly acceptable to voice pleasure or disapproval at "
    "the end of a concert but he would never tolerate anyone who disrupted a performance.\n"
)
WIRE = "COMPOSER CHALLENGED OVER DISAPPROVAL AT CONCERT\nBy Stephen Howard, PA News\n" + WIRE_BODY
# A newspaper's trimmed re-run: two of the wire's paragraphs and a lede of its own.
COPY = (
    "A COMPOSER who sued a newspaper over a diary item said yesterday he had been dismayed by "
    "what he read about his conduct at a London concert hall.\n\n"
    + WIRE_BODY.split("\n\n")[0]
    + "\n\n"
    + WIRE_BODY.split("\n\n")[1]
    + "\n"
)


def doc(doc_id: str, *, date: str | None = None, credits: list[tuple[str, str]] = ()) -> Document:
    lines = [Credit(agency, kind, 0, 1, "") for agency, kind in credits]
    return Document(doc_id, doc_id, "text", date=date, credit_lines=lines)


@pytest.mark.parametrize(
    ("a", "b", "coverage", "expected"),
    [
        # The earlier text, whatever else they show.
        (
            doc("a", date="2000-03-02"),
            doc("b", date="2000-03-01", credits=[("PA", "byline")]),
            (0.5, 0.5),
            ("b", "earlier date"),
        ),
        # Times of day count only when both texts give one.
        (
            doc("a", date="2000-03-01T09:00"),
            doc("b", date="2000-03-01T16:40"),
            (0.5, 0.5),
            ("a", "earlier date"),
        ),
        (
            doc("a", date="2000-03-01"),
            doc("b", date="2000-03-01T16:40"),
            (0.5, 0.5),
            ("unknown", ""),
        ),
        # The wire's own byline, dateline or header against a text without one.
        (
            doc("a"),
            doc("b", credits=[("PA", "header")]),
            (0.5, 0.5),
            ("b", "the wire's byline or dateline"),
        ),
        (
            doc("a", credits=[("AP", "source")]),
            doc("b", credits=[("AP", "dateline")]),
            (0.5, 0.5),
            ("b", "the wire's byline or dateline"),
        ),
        # A credit at all, against none.
        (
            doc("a", credits=[("Reuters", "source")]),
            doc("b"),
            (0.2, 0.9),
            ("a", "credits an agency"),
        ),
        # Containment: the text mostly inside the other is the copy.
        (doc("a"), doc("b"), (0.9, 0.4), ("b", "the other text lies within it")),
        (doc("a"), doc("b"), (0.5, 0.4), ("unknown", "")),
    ],
)
def test_pair_origin(a, b, coverage, expected):
    assert pair_origin(a, b, *coverage) == expected


def test_a_pa_wire_header_credits_pa_and_dates_the_copy():
    text = (
        "  ------------------------------------------------------------------------\n"
        "                16:40 01/03/00: Page 2 (HHH) COURTS Burstein\n"
        "  ------------------------------------------------------------------------\n"
        "Mr Rushbrooke said The Times had offered to pay.<\n"
    )
    credits = find_credits(text)
    assert [(c.agency, c.kind) for c in credits] == [("PA", "header")]
    assert credits[0].line == "16:40 01/03/00: Page 2 (HHH) COURTS Burstein"
    assert filed_at(credits) == "2000-03-01T16:40"
    # A time and a date in a sentence are not a header.
    assert find_credits("At 16:40 01/03/00: Page 2 (HHH) the court rose.\n") == []


@pytest.fixture
def wire_and_copy(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "copy.txt").write_text(COPY, encoding="utf-8")
    (folder / "wire.txt").write_text(WIRE, encoding="utf-8")
    return folder


def test_the_wire_credited_text_is_the_origin_and_not_derived(wire_and_copy, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(wire_and_copy), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (pair,) = csv.DictReader((out / "pairs.csv").open(encoding="utf-8"))
    assert (pair["a"], pair["b"], pair["relation"]) == ("copy.txt", "wire.txt", "shares_text")
    assert (pair["origin"], pair["origin_reason"]) == ("b", "the wire's byline or dateline")
    (group,) = json.loads((out / "clusters.json").read_text())["provenance"]
    assert (group["agency"], group["origin"]) == ("PA", "wire.txt")
    assert group["origin_reason"] == "the wire's byline or dateline"
    labels = {
        record["id"]: record["derivation"]["label"]
        for record in map(json.loads, (out / "documents.jsonl").read_text().splitlines())
    }
    assert labels["wire.txt"] == "independent"  # not derived from its own re-run
    assert labels["copy.txt"] in ("wholly_derived", "partially_derived")


def test_without_evidence_the_origin_is_unknown(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text(WIRE_BODY, encoding="utf-8")
    (folder / "b.txt").write_text(WIRE_BODY.replace("today", "on Tuesday"), encoding="utf-8")
    (pair,) = scan([folder]).pairs
    assert (pair.origin, pair.origin_reason) == ("unknown", "")
    (group,) = scan([folder]).provenance
    assert (group.origin, group.origin_reason) == (None, "")
