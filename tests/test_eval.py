"""`dedup eval` on tiny labeled fixtures written here (never the research data)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.evaluation.evaluate import evaluate

from .support import METER_LABEL_COLUMNS

STORY = "courts/01.01.00/bakery"
PA = f"PA/rawtexts/{STORY}/bakery1.txt"
PARAGRAPHS = [
    "A baker who poisoned three rivals with contaminated flour was jailed for twelve years at "
    "Exeter Crown Court today.",
    "Martin Oldfield, 52, of Topsham, Devon, had denied three charges of administering a noxious "
    "substance but was convicted by a jury after a two week trial.",
    "The court heard that Oldfield slipped a cleaning chemical into sacks of flour delivered to "
    "the competing bakeries over a period of four months last winter.",
    "Judge Helen Marsh told him his jealousy had put dozens of customers at risk and that only "
    "luck had prevented a death.",
    "Detective Sergeant Paul Finch said after the case that the investigation had involved "
    "testing more than two hundred loaves from shops across the county.",
]
PA_TEXT = (
    "  ------------------------------------------------------------------------\n\n"
    "                  14:02 01/01/00: Page 1 (HHH) COURTS Bakery\n"
    "  ------------------------------------------------------------------------\n"
    "BAKER JAILED FOR POISONING RIVALS<\n"
    "\x19By Anne Reporter, PA News<\n" + "".join(f"\x19{p}<\n" for p in PARAGRAPHS)
)
NEWSPAPERS = {
    # copies the wire almost whole
    "bakery10_times": (
        "wholly_derived",
        "\r\n\r\n".join(PARAGRAPHS[:4]).replace("today", "yesterday"),
    ),
    # its own story around one wire paragraph
    "bakery11_sun": (
        "partially_derived",
        "CRUSTY villain Martin Oldfield is behind bars tonight after his bitter bread war left "
        "neighbours sick and frightened in their own kitchens.\r\n\r\n"
        + PARAGRAPHS[2]
        + "\r\n\r\nLocals cheered outside as the van took him away, and one shop owner said she "
        "would never forgive the man she once called a friend and colleague.",
    ),
    # written independently
    "bakery12_mail": (
        "non_derived",
        "Village shopkeepers spoke of relief on Saturday evening. For months, families had "
        "wondered why bread made them ill; tests eventually revealed industrial bleach. One "
        "grandmother recalled hospital visits, sleepless nights and fear whenever buying loaves.",
    ),
}
SGML = """<!DOCTYPE meterdocument SYSTEM "meter.dtd" [
]>
<meterdocument filename="/meter_corpus/newspapers/annotated/{story}/bakery10_times.sgml">
<body>
<Verbatim PAsource="">{text}</Verbatim>
</body>
</meterdocument>
"""


def write_meter(root: Path) -> Path:
    (root / PA).parent.mkdir(parents=True)
    (root / PA).write_bytes(PA_TEXT.encode("latin-1"))
    rows = []
    for name, (label, text) in NEWSPAPERS.items():
        rel = f"newspapers/rawtexts/{STORY}/{name}.txt"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(text.encode("latin-1"))
        sgml = ""
        if name == "bakery10_times":
            sgml = f"newspapers/annotated/{STORY}/{name}.sgml"
            (root / sgml).parent.mkdir(parents=True, exist_ok=True)
            (root / sgml).write_bytes(SGML.format(story=STORY, text=text).encode("latin-1"))
        rows.append([rel, "courts", "01.01.00", "bakery", name.split("_")[1], label, PA, sgml])
    with (root / "labels.csv").open("w", newline="", encoding="latin-1") as handle:
        writer = csv.writer(handle)
        writer.writerow(METER_LABEL_COLUMNS)
        writer.writerows(rows)
    return root


EVENTS = {
    "1_ecb": [
        "Floods swept through Tewkesbury on Monday after the Severn burst its banks. Residents of "
        "Tewkesbury were evacuated by boat as the Severn kept rising.",
        "The Severn flooded Tewkesbury again, and rescuers in Tewkesbury moved families from "
        "homes near the abbey as water from the Severn rose.",
        "Tewkesbury abbey stood above the Severn flood waters while the town of Tewkesbury was cut "
        "off, officials said.",
    ],
    "1_ecbplus": [
        "The Danube flooded Passau on Tuesday, and the old town of Passau was under water as the "
        "Danube and Inn met.",
        "Passau recorded its highest Danube level in five centuries; soldiers filled sandbags in "
        "Passau along the Danube.",
        "Residents of Passau cleaned mud from streets once the Danube fell, the mayor of Passau "
        "said.",
    ],
}


def write_ecb(folder: Path) -> Path:
    folder.mkdir()
    with (folder / "docs.jsonl").open("w") as handle:
        for subtopic, texts in EVENTS.items():
            for n, text in enumerate(texts):
                record = {
                    "doc_name": f"{subtopic}_{n}.xml",
                    "topic": 1,
                    "subtopic": subtopic,
                    "text": text,
                }
                handle.write(json.dumps(record) + "\n")
    return folder


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return {"meter": write_meter(root / "meter"), "ecbplus": write_ecb(root / "ecb")}


def rows_by_metric(report) -> dict[tuple[str, str], object]:
    return {(r.dataset, r.metric): r.value for r in report.rows}


def test_meter_labels_spans_and_scores(fixtures):
    report = evaluate({"meter": fixtures["meter"]})
    values = rows_by_metric(report)
    assert values[("meter", "3-way macro-F1")] == 1.0
    assert values[("meter", "binary macro-F1 (derived vs not)")] == 1.0
    assert values[("meter", "F1 non_derived")] == 1.0
    # the times story copies four wire paragraphs: annotated as Verbatim, found as passages
    assert values[("meter", "reused-span precision (chars)")] == 1.0
    assert values[("meter", "reused-span recall (chars)")] > 0.95
    assert values[("meter", "LSH candidate recall (derived stories)")] == 1.0


def test_ecbplus_story_groups(fixtures):
    values = rows_by_metric(evaluate({"ecbplus": fixtures["ecbplus"]}))
    assert values[("ecbplus", "story groups ARI")] == 1.0


def test_seeds_acceptance_row(seeds_dir):
    (row,) = evaluate({"seeds": seeds_dir}).rows
    assert row.value == "pass", row.detail


def test_cli_json_and_exit_codes(fixtures, seeds_dir, tmp_path):
    runner = CliRunner()
    args = [
        "eval",
        "--meter",
        str(fixtures["meter"]),
        "--ecbplus",
        str(fixtures["ecbplus"]),
        "--seeds",
        str(seeds_dir),
        "--only",
        "meter,ecbplus,seeds",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {r["dataset"] for r in data["rows"]} == {"meter", "ecbplus", "seeds"}
    missing = runner.invoke(app, ["eval", "--only", "meter", "--meter", str(tmp_path / "none")])
    assert missing.exit_code == 3
    assert "not found: meter" in missing.stderr
    bad = runner.invoke(app, ["eval", "--only", "nope"])
    assert bad.exit_code == 2 and "unknown data set" in bad.stderr


def test_a_failing_acceptance_exits_1(tmp_path):
    (tmp_path / "a.txt").write_text("Only one article here, nothing to compare it with at all.")
    result = CliRunner().invoke(app, ["eval", "--only", "seeds", "--seeds", str(tmp_path)])
    assert result.exit_code == 1
    assert "fail" in result.stdout
