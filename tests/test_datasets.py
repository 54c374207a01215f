"""Readers of the evaluation data sets, on tiny synthetic files imitating each format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from dedup.errors import InputError
from dedup.evaluation.datasets import (
    clean_pa_text,
    load_ecbplus,
    load_meter,
    load_tgnews,
    map_annotation,
    parse_meter_sgml,
)

from .support import METER_LABEL_COLUMNS

STORY = "courts/01.03.00/judge"
NEWS_TIMES = f"newspapers/rawtexts/{STORY}/judge1_times.txt"
NEWS_SUN = f"newspapers/rawtexts/{STORY}/judge2_sun.txt"
NEWS_MAIL = f"newspapers/rawtexts/{STORY}/judge3_mail.txt"
PA_ONE = f"PA/rawtexts/{STORY}/judge1.txt"
PA_TWO = f"PA/rawtexts/{STORY}/judge2.txt"

# Latin-1 with CRLF line ends, as the METER newspaper files are.
TIMES_TEXT = (
    "A JUDGE awarded £20,000 to the man.\r\n\r\n"
    "He lost 3½ stone, the court heard.\r\n\r\n"
    "The case continues.\r\n"
)
# Its annotation: other white space, an entity for '£', '?' for the '½' lost on conversion.
TIMES_SGML = """<!DOCTYPE meterdocument SYSTEM "meter.dtd" [
]>

<meterdocument \tfilename="/meter_corpus/newspapers/annotated/{story}/judge1_times.sgml" \
newspaper="times" domain="courts" classification="wholly-derived" date="01.03.00">

<body>


<Verbatim PAsource="" >A JUDGE awarded </Verbatim>
<Rewrite PAsource="" >&#163;20,000 to the man.
</Rewrite>

<New PAsource="" >He lost </New>
<Verbatim PAsource="" >3? stone, the court heard.</Verbatim>
<New PAsource="" >

The case </New><Verbatim PAsource="" >continues.</Verbatim>
</body>
</meterdocument>
""".replace("{story}", STORY)

PA_RAW = (
    "  ------------------------------------------------------------------------\n"
    "\n"
    "  ------------------------------------------------------------------------\n"
    "\n"
    "                16:54 01/03/00: Page 1 (ZSM) COURTS Judge\n"
    "  ------------------------------------------------------------------------\n"
    "JUDGE AWARDS DAMAGES<\n"
    "\x19By A Reporter, PA News<\n"
    "\x19A judge today awarded #20,000 to a man who lost\n"
    "3 1/2 stone, the High Court heard.<\n"
    "\x19``It was a shock,'' he said.<\n"
    "\x19end<\n"
    "\x19\n"
)
PA_CLEAN = (
    "JUDGE AWARDS DAMAGES\n\n"
    "By A Reporter, PA News\n\n"
    "A judge today awarded #20,000 to a man who lost 3 1/2 stone, the High Court heard.\n\n"
    "``It was a shock,'' he said."
)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def sgml_path(news: str) -> str:
    return news.replace("rawtexts", "annotated").replace(".txt", ".sgml")


def label_row(news: str, paper: str, label: str, pa: list[str], sgml: bool) -> list[str]:
    return [news, "courts", "01.03.00", "judge", paper, label, ";".join(pa),
            sgml_path(news) if sgml else ""]  # fmt: skip


def write_labels(root: Path, rows: list[list[str]]) -> None:
    with (root / "labels.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(METER_LABEL_COLUMNS)
        writer.writerows(rows)


@pytest.fixture
def meter(tmp_path: Path) -> Path:
    """A METER-like tree: three newspaper stories of one story, two PA files."""
    root = tmp_path / "meter"
    write(root / NEWS_TIMES, TIMES_TEXT.encode("latin-1"))
    # 0x97 is a Windows-1252 em dash, as in some METER newspaper files.
    write(root / NEWS_SUN, b"JUDGE gives man \xa320,000 \x97 and costs.\n\nEnd of story.\n")
    write(root / NEWS_MAIL, b"A MAN has won his case.\r\n")
    write(root / sgml_path(NEWS_TIMES), TIMES_SGML.encode("latin-1"))
    write(
        root / sgml_path(NEWS_MAIL),
        b"<body>\n<unclassified>\nA MAN has won his case.\n</unclassified>\n</body>\n",
    )
    write(root / PA_ONE, PA_RAW.encode("latin-1"))
    write(root / PA_TWO, PA_RAW.replace("JUDGE AWARDS", "JUDGE GIVES").encode("latin-1"))
    write_labels(
        root,
        [
            label_row(NEWS_TIMES, "times", "wholly_derived", [PA_ONE, PA_TWO], sgml=True),
            label_row(NEWS_SUN, "sun", "partially-derived", [PA_ONE], sgml=False),
            label_row(NEWS_MAIL, "mail", "non_derived", [PA_TWO], sgml=True),
        ],
    )
    return root


def test_pa_copy_becomes_clean_paragraphs():
    text, title, date = clean_pa_text(PA_RAW)
    assert text == PA_CLEAN
    assert title == "JUDGE AWARDS DAMAGES"
    assert date == "2000-03-01T16:54"


def test_pa_copy_wrapped_in_html_with_crlf_loses_the_markup():
    raw = (
        "\n<HTML><HEAD><TITLE>HSA Search utility</TITLE></HEAD>\n<CENTER>\n<PRE>\n"
        "<H1><P>02:59 12/07/99: Page 1 (HHH) COURTS Arm</P></H1></CENTER><HR>FIRM IN COURT<\r\n"
        "\x19The firm will be sentenced\r\ntoday.<\r\n\x19mfl<\r\n\x19\r\n</PRE>\n</HTML>"
    )
    text, title, date = clean_pa_text(raw)
    assert text == "FIRM IN COURT\n\nThe firm will be sentenced today."
    assert (title, date) == ("FIRM IN COURT", "1999-07-12T02:59")


def test_pa_copy_without_header_keeps_its_first_paragraph():
    text, title, date = clean_pa_text(
        "Mrs Hill's neighbour said he let himself\nin.<\n\x19He found her.<\n"
    )
    assert text == "Mrs Hill's neighbour said he let himself in.\n\nHe found her."
    assert (title, date) == (None, None)


def test_pa_notes_to_editors_before_the_story_are_dropped():
    raw = "(Reopens)<\n\x19(Corrected repetition (par 2)) JUDGE RULES<\n\x19He ruled (twice).<\n"
    assert clean_pa_text(raw)[:2] == ("JUDGE RULES\n\nHe ruled (twice).", "JUDGE RULES")
    # A file that is only a note keeps it.
    assert clean_pa_text("(Memo to CSEs: note language.)<\nend<\n")[0] == (
        "(Memo to CSEs: note language.)"
    )


def test_meter_labels_sources_and_stories(meter):
    data = load_meter(meter)
    assert [d.id for d in data.newspapers] == [NEWS_TIMES, NEWS_SUN, NEWS_MAIL]
    assert data.labels == {
        NEWS_TIMES: "wholly_derived",
        NEWS_SUN: "partially_derived",
        NEWS_MAIL: "non_derived",
    }
    assert data.sources[NEWS_TIMES] == [PA_ONE, PA_TWO]
    assert data.sources[NEWS_SUN] == [PA_ONE]
    assert set(data.story.values()) == {STORY}
    assert sorted(data.pa) == [PA_ONE, PA_TWO]  # PA_ONE is named twice, read once


def test_meter_texts_are_decoded_as_latin1_and_kept_as_they_are(meter):
    data = load_meter(meter)
    times = data.newspapers[0]
    assert times.text == TIMES_TEXT  # '£', '½' and CRLF intact
    assert (times.source, times.date, times.group) == (
        "times",
        "2000-03-01",
        f"folder:{Path(NEWS_TIMES).parent}",
    )
    assert data.newspapers[1].text == "JUDGE gives man £20,000 — and costs.\n\nEnd of story.\n"
    assert data.pa[PA_ONE].text == PA_CLEAN
    assert data.pa[PA_TWO].title == "JUDGE GIVES DAMAGES"
    assert data.pa[PA_ONE].source == "PA"


def test_meter_gold_spans_point_at_the_annotated_words(meter):
    data = load_meter(meter)
    text = data.newspapers[0].text
    spans = data.gold_spans[NEWS_TIMES]
    assert [(text[s:e], tag) for s, e, tag in spans] == [
        ("A JUDGE awarded", "verbatim"),
        ("£20,000 to the man.", "rewrite"),
        ("3½ stone, the court heard.", "verbatim"),
        ("continues.", "verbatim"),
    ]
    start = text.index("£")
    assert spans[1][:2] == (start, start + len("£20,000 to the man."))
    assert data.gold_mapped_share == 1.0
    assert (
        data.gold_chars
        == data.gold_chars_mapped
        == len("AJUDGEawarded£20,000totheman.3?stone,thecourtheard.continues.")
    )


def test_meter_gold_only_for_stories_annotated_span_by_span(meter):
    data = load_meter(meter)
    assert NEWS_SUN not in data.gold_spans  # no annotation file
    assert NEWS_MAIL not in data.gold_spans  # <unclassified> only
    assert data.problems == []


def test_meter_gold_words_missing_from_the_text_lower_the_mapped_share(meter):
    sgml = TIMES_SGML.replace("continues.</Verbatim>", "continues. Extra</Verbatim>")
    write(meter / sgml_path(NEWS_TIMES), sgml.encode("latin-1"))
    data = load_meter(meter)
    assert data.gold_chars - data.gold_chars_mapped == len("Extra")
    assert data.gold_mapped_share == pytest.approx(1 - 5 / data.gold_chars)


def test_meter_annotation_of_another_file_is_not_used(meter):
    sgml = TIMES_SGML.replace("judge1_times.sgml", "judge9_times.sgml")
    write(meter / sgml_path(NEWS_TIMES), sgml.encode("latin-1"))
    data = load_meter(meter)
    assert NEWS_TIMES not in data.gold_spans
    assert len(data.problems) == 1 and "judge9_times.sgml" in data.problems[0]
    assert data.gold_chars_mapped == 0 and data.gold_chars > 0


def test_meter_annotation_of_other_text_is_not_used(meter):
    sgml = "<body><Verbatim>Rain is expected over Spain for most of the week.</Verbatim></body>"
    write(meter / sgml_path(NEWS_TIMES), sgml.encode("latin-1"))
    data = load_meter(meter)
    assert NEWS_TIMES not in data.gold_spans
    assert len(data.problems) == 1 and "of its text matches" in data.problems[0]


def test_sgml_nested_tags_go_to_the_innermost_class():
    annotated, elements = parse_meter_sgml(
        '<body><unclassified><Verbatim a="1">x <Rewrite>y&amp;</Rewrite> z</Verbatim>'
        "</unclassified> B&H</body>"
    )
    assert annotated == "x y& z B&H"
    assert elements == [(0, 2, "verbatim"), (2, 4, "rewrite"), (4, 6, "verbatim")]


def test_map_annotation_ignores_white_space_and_reports_the_match():
    spans, mapped, share = map_annotation("one  two\nthree", [(5, 14, "rewrite")], "one two three")
    assert spans == [(4, 13, "rewrite")]
    assert (mapped, share) == (8, 1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda root: (root / "labels.csv").unlink(), "labels.csv"),
        (lambda root: (root / PA_TWO).unlink(), "judge2.txt"),
        (lambda root: (root / NEWS_SUN).unlink(), "judge2_sun.txt"),
    ],
)
def test_meter_missing_files_name_the_path(meter, change, message):
    change(meter)
    with pytest.raises(InputError, match=message) as info:
        load_meter(meter)
    assert "option" in str(info.value)


def test_meter_missing_folder_and_bad_label(tmp_path, meter):
    with pytest.raises(InputError, match=r"nowhere.*option"):
        load_meter(tmp_path / "nowhere")
    write_labels(meter, [label_row(NEWS_SUN, "sun", "copied", [PA_ONE], sgml=False)])
    with pytest.raises(InputError, match="unknown label 'copied'"):
        load_meter(meter)
    write_labels(meter, [label_row(NEWS_SUN, "", "non_derived", [PA_ONE], sgml=False)])
    with pytest.raises(InputError, match=r"labels\.csv:2: empty or missing value"):
        load_meter(meter)


# --- ECB+ ----------------------------------------------------------------------------------


def write_ecb(folder: Path, records: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "docs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


ECB = [
    {
        "doc_name": "1_1ecb.xml",
        "topic": 1,
        "subtopic": "1_ecb",
        "text": "A man was held .\nHe said .",
    },
    {"doc_name": "1_2ecbplus.xml", "topic": 1, "subtopic": "1_ecbplus", "text": "Fire ."},
]


def test_ecbplus_documents_and_subtopics(tmp_path):
    path = write_ecb(tmp_path / "ecb", ECB)
    loaded = load_ecbplus(path)
    assert [(d.id, d.text, s) for d, s in loaded] == [
        ("1_1ecb.xml", "A man was held .\nHe said .", "1_ecb"),
        ("1_2ecbplus.xml", "Fire .", "1_ecbplus"),
    ]
    assert [d.id for d, _ in load_ecbplus(tmp_path / "ecb")] == ["1_1ecb.xml", "1_2ecbplus.xml"]


def test_ecbplus_errors(tmp_path):
    with pytest.raises(InputError, match=r"docs\.jsonl.*option"):
        load_ecbplus(tmp_path)
    write_ecb(tmp_path, [ECB[0], {"doc_name": "x", "topic": 1, "text": "t"}])
    with pytest.raises(InputError, match=r"docs.jsonl:2: missing field\(s\) subtopic"):
        load_ecbplus(tmp_path)
    write_ecb(tmp_path, [ECB[0], ECB[0]])
    with pytest.raises(InputError, match="repeats"):
        load_ecbplus(tmp_path)


# --- tgnews --------------------------------------------------------------------------------

TG_HEADER = [
    "INPUT:first_url",
    "INPUT:first_text",
    "INPUT:second_url",
    "INPUT:similarity",
    "INPUT:first_title",
    "INPUT:second_text",
    "INPUT:second_title",
    "GOLDEN:quality",
    "HINT:text",
]
URL_A = "https://www.example.com/news/a.html"
URL_B = "https://news.example.org/b"
URL_C = "https://c.example.net/c"


def tg_row(first: str, second: str, label: str) -> list[str]:
    texts = {URL_A: 'He said "no" today.', URL_B: "Text B.", URL_C: "Text C."}
    return [first, texts[first], second, "0.9", f"Title {first[-1]}", texts[second],
            f"Title {second[-1]}", label, ""]  # fmt: skip


def write_tg(folder: Path, rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "en_train_pool.tsv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, delimiter="\t", lineterminator="\n")
        writer.writerow(TG_HEADER)
        writer.writerows(rows)
    return path


def test_tgnews_pairs(tmp_path):
    write_tg(
        tmp_path,
        [tg_row(URL_A, URL_B, "OK"), tg_row(URL_C, URL_B, ""), tg_row(URL_A, URL_C, "BAD")],
    )
    pairs = load_tgnews(tmp_path)
    assert [(p.first.id, p.second.id, p.label, p.same_thread) for p in pairs] == [
        (URL_A, URL_B, "OK", True),
        (URL_A, URL_C, "BAD", False),
    ]
    first = pairs[0].first
    assert first.text == 'He said "no" today.'
    assert (first.url, first.source, first.title) == (URL_A, "example.com", "Title l")
    assert pairs[0].second.source == "news.example.org"
    assert pairs[1].first is first  # one document per URL


def test_tgnews_errors(tmp_path):
    with pytest.raises(InputError, match=r"en_train_pool\.tsv.*option"):
        load_tgnews(tmp_path)
    write_tg(tmp_path, [tg_row(URL_A, URL_B, "MAYBE")])
    with pytest.raises(InputError, match=r"en_train_pool\.tsv:2: unknown GOLDEN:quality 'MAYBE'"):
        load_tgnews(tmp_path)
