"""The gate finds rewritten copy as the scan does: candidates by their distinctive terms
(the term LSH's band keys, stored with the windows'), rewritten passages, the same rule for
pairs found by terms alone."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from dedup.cli import app
from dedup.gate import Gate
from dedup.gate.records import TERM_MIN_DOCUMENTS, incoming_term_keys
from tests.support import filler_articles

# Enough other articles for the index's document frequencies to say which terms are rare.
FILLER = filler_articles(TERM_MIN_DOCUMENTS)

WIRE = (
    "The Financial Conduct Authority accused the two directors of Harcourt Lending of hiding "
    "losses of twelve million pounds from investors over three years, Southwark Crown Court "
    "heard on Monday. Prosecutors said the directors had moved the money through companies "
    "registered in Jersey and Guernsey before the lender collapsed in 2019. Both men deny "
    "fraud and the trial, expected to last eight weeks, continues.\n\n"
    "The court heard that Harcourt Lending raised money from about four thousand savers, many "
    "of them pensioners, who were promised returns of nine per cent a year. The regulator "
    "said the savers lost almost everything when the company went into administration."
)
# The same story rewritten by a newspaper: clauses moved, words changed, digits for numbers;
# it keeps no run of sentence windows' length with the wire.
REWRITE = (
    "On Monday Southwark Crown Court heard the Financial Conduct Authority accusing two "
    "Harcourt Lending directors of hiding from investors, over three years, losses of 12 "
    "million pounds. Money was moved by the directors through companies registered in "
    "Jersey and in Guernsey ahead of the lender's collapse in 2019, prosecutors said. The "
    "trial is expected to last eight weeks, and both men are denying the fraud.\n\n"
    "About 4,000 savers, many of them pensioners, put money into Harcourt Lending, having "
    "been promised returns of 9 per cent a year, the court heard. When the company went into "
    "administration the savers lost almost everything, the regulator said."
)
# Another story about a lender and its savers, written independently.
OTHER = (
    "A building society in Yorkshire has reported record lending to first-time buyers, with "
    "mortgage approvals up by a fifth on last year. Its chief executive said savers had also "
    "benefited from higher interest rates, and the society expected to open two new branches "
    "in Leeds and Bradford before the end of the year."
)


def test_a_rewritten_rerun_of_an_indexed_story_is_syndicated(location):
    with Gate(location) as gate:
        gate.index_many(FILLER)
        gate.add({"id": "wire", "text": WIRE})
        gate.add({"id": "other", "text": OTHER})
        verdict = gate.check({"id": "paper", "text": REWRITE})
        again = gate.check({"id": "again", "text": OTHER.replace("Yorkshire", "Kent")})
    assert verdict["verdict"] == "syndicated" and verdict["syndicated_from"] == ["wire"]
    (match,) = verdict["matches"]
    assert match["rewrite"] > 0.5 and match["verbatim"] < match["rewrite"]
    assert "rewrite" in {p["kind"] for p in match["passages"]}
    assert match["cosine"] >= 0.2
    # The other lender's story, one word changed: its own duplicate, nothing of the wire's.
    assert again["duplicate_of"] == "other" and "wire" not in again["syndicated_from"]


def test_without_its_terms_the_rewrite_is_no_candidate(tmp_path):
    # What the term band keys add: the windows' band keys alone do not find the rewrite.
    with Gate(str(tmp_path / "index.db")) as gate:
        gate.index_many(FILLER)
        gate.add({"id": "wire", "text": WIRE})
        incoming = gate._prepare_incoming(gate._document({"id": "paper", "text": REWRITE}))
        stored, looked_up = incoming_term_keys(gate.store, incoming)
        assert looked_up == stored[: len(looked_up)] and len(looked_up) > 0
        assert gate._lookup(incoming) == ([], set())
        ids, by_terms = gate._lookup(incoming, looked_up)
        assert ids[0] == "wire" and "wire" in by_terms  # the most term band keys shared


def test_a_small_index_looks_up_no_terms(tmp_path):
    # A handful of documents cannot tell which terms are distinctive: the seeds' gate
    # verdicts stay those of their sentence windows.
    with Gate(str(tmp_path / "index.db")) as gate:
        gate.index_many(FILLER[: TERM_MIN_DOCUMENTS - 2])
        gate.add({"id": "wire", "text": WIRE})
        incoming = gate._prepare_incoming(gate._document({"id": "paper", "text": REWRITE}))
        stored, looked_up = incoming_term_keys(gate.store, incoming)
        assert len(stored) > 0 and looked_up == []
        assert gate.check({"id": "paper", "text": REWRITE})["verdict"] == "new"


def test_a_bulk_loaded_index_finds_the_rewrite_as_one_added_at_a_time(tmp_path):
    with Gate(str(tmp_path / "bulk.db")) as gate:
        assert gate.index_many(
            [*FILLER, {"id": "wire", "text": WIRE}, {"id": "other", "text": OTHER}]
        )
        bulk = gate.check({"id": "paper", "text": REWRITE})
    assert bulk["verdict"] == "syndicated" and bulk["syndicated_from"] == ["wire"]


def test_the_gate_and_the_scan_agree_on_rewritten_copy(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    texts = {"wire": WIRE, "paper": REWRITE, "other": OTHER}
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    for article in FILLER:
        (folder / f"{article['id']}.txt").write_text(article["text"], encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    scanned = {
        frozenset((row["a"][:-4], row["b"][:-4])): row["relation"]
        for row in csv.DictReader((out / "pairs.csv").open(encoding="utf-8"))
        if row["relation"] != "none"
    }
    with Gate(str(tmp_path / "index.db")) as gate:
        gate.index_many(FILLER)
        gated = {}
        for name, text in texts.items():
            verdict = gate.add({"id": name, "text": text})
            for match in verdict["matches"]:
                gated[frozenset((name, match["id"]))] = match["relation"]
    assert scanned == gated == {frozenset(("wire", "paper")): "shares_text"}
