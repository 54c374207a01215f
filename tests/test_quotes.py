"""Quotations: two outlets quoting one speaker share words without copying each other."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.gate import Gate
from dedup.text.quotes import quoted_chars

QUOTE = (
    "We have taken the difficult decision to close the plant at the end of the year, and we "
    "will support every one of the workers who lose their jobs. Nobody in this government "
    "wanted this day to come, but the market for these cars has gone and it is not coming "
    "back"
)
# Two reports of one press conference, written independently: the minister's sentence is all
# they share word for word.
FIRST = (
    "The car maker will shut its factory in the north of England, the business minister "
    f'announced on Tuesday. "{QUOTE}," Jane Holt told reporters in London. Unions called the '
    "closure a betrayal of the town and promised to fight it in the courts."
)
SECOND = (
    "Hundreds of jobs are to go at the Sunderland car plant. Speaking at a news conference, "
    f"business minister Jane Holt said: '{QUOTE}.' Local councillors said the region had been "
    "abandoned and asked the government for an urgent rescue package."
)
# A re-run of the first report's opening: the quotation comes with the wire's own words.
RERUN = (
    "The car maker will shut its factory in the north of England, the business minister "
    f'announced on Tuesday. "{QUOTE}," Jane Holt told reporters in London. Shares in the '
    "company fell two per cent in early trading, and analysts at two banks cut their "
    "forecasts for the rest of the year. The plant opened in 1986 and built more than eight "
    "million cars for markets across Europe and Asia before demand for its models collapsed."
)


def quoted_runs(text: str) -> list[str]:
    """The runs of ``text`` inside quotation marks."""
    flags = quoted_chars(text)
    runs, current = [], ""
    for char, quoted in zip(text, flags):
        if quoted:
            current += char
        elif current:
            runs.append(current)
            current = ""
    return runs + ([current] if current else [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('He said "we will win" and left.', ["we will win"]),
        ("'I was shocked,' she said. 'We weren't told.'", ["I was shocked,", "We weren't told."]),
        ("«Non», dit-il. „Ja“, sagte er.", ["Non", "Ja"]),
        ("“First paragraph goes on.\n“Second.”", ["First paragraph goes on.", "Second."]),
        ("“A line wrapped\ninside a sentence.” Then", ["A line wrapped\ninside a sentence."]),
        ("It's the players' day, isn't it?", []),
        ("新华社报道：「我们会赢」。", ["我们会赢"]),
    ],
)
def test_quotation_marks_enclose_what_a_speaker_said(text, expected):
    assert quoted_runs(text) == expected


def _scan(tmp_path, texts: dict[str, str]):
    folder = tmp_path / "news"
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pairs = list(csv.DictReader((out / "pairs.csv").open(encoding="utf-8")))
    passages = [json.loads(line) for line in (out / "passages.jsonl").open(encoding="utf-8")]
    clusters = json.loads((out / "clusters.json").read_text(encoding="utf-8"))
    return pairs, passages, clusters


def test_two_reports_quoting_one_speaker_share_a_quote_not_a_provenance(tmp_path):
    pairs, passages, clusters = _scan(tmp_path, {"first.txt": FIRST, "second.txt": SECOND})
    (pair,) = pairs
    assert pair["relation"] == "shares_quote"
    assert float(pair["quote_a"]) > 0.3 and float(pair["quote_b"]) > 0.3
    assert float(pair["verbatim_a"]) == 0.0 and float(pair["rewrite_a"]) == 0.0
    (passage,) = passages
    assert passage["kind"] == "quote" and passage["provenance"] is None
    assert QUOTE[:40] in FIRST[passage["a_start"] : passage["a_end"]]
    assert QUOTE[:40] in SECOND[passage["b_start"] : passage["b_end"]]
    assert clusters["provenance"] == []


def test_a_copy_that_carries_the_quotation_with_the_wire_text_is_verbatim(tmp_path):
    pairs, passages, clusters = _scan(tmp_path, {"first.txt": FIRST, "rerun.txt": RERUN})
    (pair,) = pairs
    assert pair["relation"] == "shares_text"
    assert float(pair["quote_a"]) == 0.0
    assert [p["kind"] for p in passages] == ["verbatim"]
    assert [sorted(g["members"]) for g in clusters["provenance"]] == [["first.txt", "rerun.txt"]]


def test_the_gate_does_not_call_a_shared_quotation_syndication(tmp_path):
    with Gate(str(tmp_path / "index.db")) as gate:
        gate.add({"id": "first", "text": FIRST})
        quoting = gate.check({"id": "second", "text": SECOND})
        copying = gate.check({"id": "rerun", "text": RERUN})
    assert quoting["verdict"] == "new" and quoting["syndicated_from"] == []
    (match,) = quoting["matches"]
    assert match["relation"] == "shares_quote" and match["quote"] > 0.3
    assert [p["kind"] for p in match["passages"]] == ["quote"]
    assert copying["verdict"] == "syndicated" and copying["syndicated_from"] == ["first"]
