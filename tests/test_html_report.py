"""The HTML report: its data (highlighted ranges, boilerplate, bounds) and its page (escaping,
no network, heatmap links), and the heatmap image."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import random
import re
from importlib import resources

import numpy as np
import pytest

from dedup import Document, PairScore, Passage, ScanConfig, ScanResult, scan, write_report
from dedup.errors import ConfigError
from dedup.output.page import (
    build_report,
    render_heatmap_png,
    render_html,
    short_labels,
    split_segments,
)

from .support import seed_id

SENTENCE = "Deepfakes use artificial intelligence to create hyper-realistic but fake videos"
EXTERNAL = re.compile(
    r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I
)


@pytest.fixture(scope="module")
def seeds_report(seeds_scan):
    return build_report(seeds_scan)


@pytest.fixture(scope="module")
def seeds_page(seeds_scan):
    return render_html(seeds_scan)


def pair_view(report, a: str, b: str):
    (found,) = [p for p in report.pairs if (p.a.id, p.b.id) == (seed_id(a), seed_id(b))]
    return found


def text_of(view) -> str:
    return "".join(s.text for s in view.segments)


def highlighted(pair, side: str) -> list[str]:
    whole = text_of(pair.a if side == "a" else pair.b)
    return [whole[start:end] for start, end, _, _ in pair.highlights(side)]


def passage_with(pair, sentence: str):
    (found,) = [p for p in pair.passages if sentence in text_of(pair.a)[p.a[0] : p.a[1]]]
    return found


def template_of(page: str, index: int) -> str:
    match = re.search(rf'<template id="text-{index}">(.*?)</template>', page, re.S)
    assert match, f"no text template for document {index}"
    return match.group(1)


# --- data ---------------------------------------------------------------------------------------


def test_split_segments_cuts_at_every_boundary_of_overlapping_spans():
    spans = [(2, 6, "x"), (4, 8, "y"), (0, 3, "rm"), (9, 20, "z")]
    assert split_segments(10, spans) == [
        (0, 2, ("rm",)),
        (2, 3, ("x", "rm")),
        (3, 4, ("x",)),
        (4, 6, ("x", "y")),
        (6, 8, ("y",)),
        (8, 9, ()),
        (9, 10, ("z",)),
    ]
    assert split_segments(5, []) == [(0, 5, ())]
    assert split_segments(0, [(0, 3, "x")]) == []


def test_short_labels_are_unique_and_short():
    assert short_labels(["000_46ed.txt", "001_5f73.txt"]) == ["000", "001"]
    assert short_labels(["feed.jsonl#1", "feed.jsonl#2"]) == ["#1", "#2"]
    assert short_labels(["a.jsonl#1", "a.jsonl#2", "b.jsonl#1"]) == [
        "a.jsonl#1",
        "a.jsonl#2",
        "b.jsonl#1",
    ]
    assert short_labels(["a/story.txt", "b/story.txt"]) == ["1", "2"]


def test_shared_sentence_is_highlighted_in_both_documents_with_one_colour(seeds_report):
    pair = pair_view(seeds_report, "002", "004")
    for side in ("a", "b"):
        assert any(SENTENCE in text for text in highlighted(pair, side)), side
    passage = passage_with(pair, SENTENCE)
    assert passage.a[0] == text_of(pair.a).index(SENTENCE)
    assert passage.b[0] == text_of(pair.b).index(SENTENCE)
    group = {g.id: g for g in seeds_report.provenance}[passage.group]
    assert passage.colour == group.colour
    assert group.agency == "Reuters"


def test_hyper_realistic_is_highlighted_in_001_for_both_its_reuters_pairs(seeds_report):
    for other in ("002", "004"):
        pair = pair_view(seeds_report, "001", other)
        assert any("hyper-realistic" in text for text in highlighted(pair, "a")), other
        assert not any("Subscribe" in text for text in highlighted(pair, "a"))


def test_highlights_are_only_the_pairs_own_passages(seeds_report, seeds_scan):
    pair = pair_view(seeds_report, "002", "003")
    own = {p.id for p in seeds_scan.passages if {p.a, p.b} == {seed_id("002"), seed_id("003")}}
    assert {p.id for p in pair.passages} == own
    assert not any(SENTENCE in text for text in highlighted(pair, "a"))


def test_removed_boilerplate_is_marked_and_not_a_passage(seeds_report):
    (doc,) = [d for d in seeds_report.documents if d.id == seed_id("000")]
    removed = "".join(s.text for s in doc.segments if s.removed)
    assert "Subscribe" in removed and "You May Also Like" in removed
    assert all(not s.passages for s in doc.segments if "Subscribe" in s.text)
    kept = "".join(s.text for s in doc.segments if not s.removed)
    assert kept.startswith("Chinese authorities on Thursday summoned 11 tech companies")


def test_segments_rebuild_the_documents_text_exactly(seeds_report, seeds_scan):
    for view in seeds_report.texts:
        assert "".join(s.text for s in view.segments) == seeds_scan.documents[view.index].text


def test_composition_bar_shows_groups_and_own_text(seeds_report):
    (doc,) = [d for d in seeds_report.documents if d.id == seed_id("001")]
    names = [p.name for p in doc.bar]
    assert names == ["prov-2 Reuters", "prov-1 AFP", "own text"]
    assert sum(p.width for p in doc.bar) == pytest.approx(100.0, abs=0.5)


def test_groups_show_agency_and_members(seeds_report):
    groups = {g.agency: [m.label for m in g.members] for g in seeds_report.provenance}
    assert groups == {
        "AFP": ["000", "001"],
        "Reuters": ["001", "002", "004"],
        "AP": ["002", "003", "004"],
    }


def test_heatmap_orders_similar_documents_together_and_links_pairs(seeds_report):
    heat = seeds_report.heatmap
    labels = [d.label for d in heat.docs]
    assert sorted(labels) == ["000", "001", "002", "003", "004"]
    assert abs(labels.index("002") - labels.index("003")) == 1  # the most similar two
    pair = pair_view(seeds_report, "002", "004")
    i, j = labels.index("002"), labels.index("004")
    assert heat.rows[i][j].pair == heat.rows[j][i].pair == pair.number
    assert sum(c.pair is not None for row in heat.rows for c in row) == 2 * len(seeds_report.pairs)
    assert all(heat.rows[k][k].value == 1.0 and heat.rows[k][k].pair is None for k in range(5))


def test_heatmap_of_a_large_corpus_keeps_the_documents_of_the_top_pairs():
    n = 80
    rng = np.random.default_rng(1)
    vectors = rng.random((n, 20))
    vectors /= np.linalg.norm(vectors, axis=1)[:, None]
    docs = [
        Document(id=f"feed.jsonl#{k}", path="feed.jsonl", text="Some words here. " * 5)
        for k in range(n)
    ]
    pair = PairScore(docs[70].id, docs[75].id, 0.9, 0.5, 0.5, 0.6, 0.6, 1, 0.5, 0.5, "shares_text")
    passage = Passage(docs[70].id, 0, 16, docs[75].id, 17, 33, 1.0, 3, "Some words here.", id="p1")
    result = ScanResult(docs, [], 0, [pair], [passage], [], vectors @ vectors.T, ScanConfig())
    report = build_report(result)
    labels = [d.label for d in report.heatmap.docs]
    assert len(labels) == 50 and {"#70", "#75"} <= set(labels)
    assert "Showing the 50 documents of the top pairs out of 80" in render_html(result)
    assert report.pairs[0].highlights("a") == [(0, 16, "p1", "x")]


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_max_pairs_must_be_a_whole_number(seeds_scan, bad, tmp_path):
    with pytest.raises(ConfigError, match="report_max_pairs"):
        build_report(seeds_scan, max_pairs=bad)
    with pytest.raises(ConfigError, match="report_max_pairs"):
        write_report(seeds_scan, tmp_path, report_max_pairs=bad)


# --- page ---------------------------------------------------------------------------------------


def test_page_embeds_each_text_once_with_passage_spans(seeds_page, seeds_report):
    pair = pair_view(seeds_report, "002", "004")
    assert seeds_page.count('<template id="text-') == len(seeds_report.texts) == 5
    spans = re.findall(
        r'<span data-p="([^"]*)">([^<]*)</span>', template_of(seeds_page, pair.a.index)
    )
    (ids,) = [ids.split() for ids, text in spans if text.startswith(SENTENCE)]
    assert passage_with(pair, SENTENCE).id in ids
    assert len(ids) == 2  # 002 shares the sentence with 001 as well: one span, both passages
    assert '<details class="pair" id="pair-' in seeds_page
    assert seeds_page.count('<details class="pair"') == len(seeds_report.pairs) == 6


def test_page_greys_out_boilerplate(seeds_page, seeds_report):
    (doc,) = [d for d in seeds_report.documents if d.id == seed_id("000")]
    assert re.search(r'<span class="rm">– AFP\s+Subscribe\s', template_of(seeds_page, doc.index))


def test_page_shows_overview_parameters_and_groups(seeds_page):
    for text in (
        "documents read",
        "provenance groups",
        "story groups",
        "min_passage_words",
        "report_max_pairs",
    ):
        assert text in seeds_page
    for agency in ("prov-1 · AFP", "prov-2 · Reuters", "prov-3 · AP"):
        assert agency in seeds_page


def test_timestamp_is_one_time_element(seeds_scan):
    from datetime import datetime, timezone

    first = render_html(seeds_scan, generated_at=datetime(2020, 1, 1, tzinfo=timezone.utc))
    second = render_html(seeds_scan, generated_at=datetime(2021, 6, 1, tzinfo=timezone.utc))
    assert first.count("<time") == 1 and first != second
    strip = lambda page: re.sub(r"<time[^>]*>[^<]*</time>", "<time></time>", page)  # noqa: E731
    assert strip(first) == strip(second)


def test_script_runs_under_the_pages_content_security_policy(seeds_page):
    (script,) = re.findall(r"<script>(.*?)</script>", seeds_page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', seeds_page).group(
        1
    )
    assert f"script-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy


def write_hostile_corpus(folder):
    """Two articles sharing a paragraph that carries markup, one with a URL and a hostile title."""
    shared = (
        "The ministry said on Monday that the new rules, which <script>alert(1)</script> take "
        "effect next month, would apply to every company that sells <img src=x onerror=alert(1)> "
        "devices in the country and to all of the importers that supply them with parts."
    )
    (folder / "a.txt").write_text(
        f"A local paper wrote about the rules.\n\n{shared}\n\n<script>alert(2)</script>\n",
        encoding="utf-8",
    )
    record = {
        "id": "x",
        "title": "Rules <script>alert(3)</script> & more",
        "url": "https://example.com/story?a=1&b=<b>",
        "text": f"A wire report on the same rules, as sent to clients.\n\n{shared}\n",
    }
    (folder / "b.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    result = scan([write_hostile_corpus(tmp_path_factory.mktemp("hostile"))])
    assert [p.relation != "none" for p in result.pairs] == [True]
    return render_html(result)


def test_article_markup_is_escaped(hostile):
    for raw in ("<script>alert", "<img src=x", "onerror=alert(1)>", "b=<b>"):
        assert raw not in hostile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile
    assert "Rules &lt;script&gt;alert(3)&lt;/script&gt; &amp; more" in hostile
    assert hostile.count("<script") == 1


@pytest.mark.parametrize("page", ["seeds", "hostile"])
def test_page_references_no_external_resource(page, seeds_page, hostile):
    html = seeds_page if page == "seeds" else hostile
    assert not EXTERNAL.search(html)
    assert not re.search(r"url\(|@import|<link|<iframe|<img|<object|<embed", html, re.I)
    if page == "hostile":  # the article's URL is shown as text, never fetched or linked
        assert "https://example.com/story?a=1&amp;b=&lt;b&gt;" in html


# --- size bound ---------------------------------------------------------------------------------

FUNCTION_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "that",
    "it",
    "was",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
]


@pytest.fixture(scope="module")
def many_pairs(tmp_path_factory):
    """30 articles that all re-run one wire paragraph: 435 pairs sharing text."""
    rng = random.Random(7)
    vocab = [
        "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3))
        for _ in range(3000)
    ]

    def sentence() -> str:
        words = [rng.choice(FUNCTION_WORDS) if k % 2 else rng.choice(vocab) for k in range(14)]
        return " ".join(words).capitalize() + "."

    wire = " ".join(sentence() for _ in range(4))
    folder = tmp_path_factory.mktemp("many")
    for k in range(30):
        own = " ".join(sentence() for _ in range(24))
        (folder / f"{k:03d}.txt").write_text(f"{own}\n\n{wire}\n", encoding="utf-8")
    result = scan([folder])
    assert result.relation_counts()["shares_text"] == 435
    return result


@pytest.mark.parametrize("max_pairs", [0, 5, 40])
def test_page_shows_at_most_max_pairs_and_stays_under_the_bound(many_pairs, max_pairs):
    page = render_html(many_pairs, max_pairs=max_pairs)
    assert page.count('<details class="pair"') == max_pairs
    assert page.count("<template id=") <= 2 * max_pairs
    assert page.count('<li class="doc"') <= max(2 * max_pairs, 20)
    longest = max(len(d.text) for d in many_pairs.documents)
    assert len(page.encode()) < 100_000 + max_pairs * (3_000 + 2 * longest)
    if max_pairs:
        assert f"Showing the top {max_pairs} of 435" in page


def test_page_grows_with_pairs_not_with_pairs_times_text(many_pairs):
    small, large = (render_html(many_pairs, max_pairs=n) for n in (100, 200))
    assert small.count("<template id=") == large.count("<template id=") == 30
    shortest = min(len(d.text) for d in many_pairs.documents)
    assert shortest > 2_000
    # 100 more pairs add their scores and passage lists, not their texts (embedded once)
    assert len(large.encode()) - len(small.encode()) < 100 * 2_000


# --- files --------------------------------------------------------------------------------------


def test_write_report_writes_page_and_image(seeds_scan, tmp_path):
    data = write_report(seeds_scan, tmp_path, report_max_pairs=2)
    assert {"report.html", "heatmap.png"} <= set(data["files"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('<details class="pair"') == 2
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matrix_the_page_says_so_and_no_image_is_written(seeds_scan, tmp_path):
    write_report(seeds_scan, tmp_path)
    assert (tmp_path / "heatmap.png").exists()
    result = dataclasses.replace(seeds_scan, matrix=None)
    data = write_report(result, tmp_path)
    assert "heatmap.png" not in data["files"] and not (tmp_path / "heatmap.png").exists()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "matrix was not computed" in page and '<table class="heat' not in page
    assert page.count('<details class="pair"') == 6
    assert render_heatmap_png(result) is None


def test_heatmap_png_is_deterministic_and_carries_no_metadata(seeds_scan):
    first, second = render_heatmap_png(seeds_scan), render_heatmap_png(seeds_scan)
    assert first == second and first[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"matplotlib" not in first.lower() and b"Software" not in first


def test_templates_are_package_data():
    templates = resources.files("dedup.output") / "templates"
    assert {"report.html", "report.css", "report.js"} <= {p.name for p in templates.iterdir()}


def test_a_pair_s_number_in_the_report_is_its_row_in_pairs_csv(seeds_scan, tmp_path):
    write_report(seeds_scan, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows = (tmp_path / "pairs.csv").read_text(encoding="utf-8").splitlines()[1:]
    shown = re.findall(
        r'<details class="pair" id="pair-(\d+)"[^>]* data-a="([^"]+)" data-b="([^"]+)"', page
    )
    assert len(shown) == sum(",none," not in row for row in rows) >= 5
    for number, a, b in shown:
        assert rows[int(number) - 1].split(",")[:2] == [a, b]
    # Ranked by reuse, not by row: the first shown pair is not row 1.
    assert [int(number) for number, _, _ in shown] != sorted(int(n) for n, _, _ in shown)
