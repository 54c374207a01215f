"""Rewritten passages: sentences that keep another text's wording, reworded."""

from __future__ import annotations

import numpy as np
import pytest

from dedup.config import ScanConfig
from dedup.match.compare import passages
from dedup.match.rewrite import rewrite_passages
from dedup.models import Document
from dedup.text.clean import clean_documents
from dedup.text.features import extract_features, match_key, sentence_ends

WIRE = (
    "The organisation accused the two directors of hiding losses of twelve million pounds from "
    "investors over three years, the court heard on Monday. Prosecutors said the directors had "
    "moved the money through companies registered in Jersey and Guernsey before the collapse. "
    "Both men deny fraud and the trial, expected to last eight weeks, continues."
)
# The same sentences reworded: clauses moved, inflections, American spelling, digits; no run
# of 12 words kept.
REWRITE = (
    "On Monday the court heard the organization accusing the two directors of hiding from "
    "investors, over three years, losses of 12 million pounds. Money was moved by the "
    "directors through companies registered in Jersey and in Guernsey ahead of the collapse, "
    "prosecutors said. The trial is expected to last eight weeks, and both men are denying "
    "the fraud."
)
# Reworded with synonyms too (charged, concealing, shifted, firms, prior to, hearing, jury)
# and clauses reordered.
SYNONYMS = (
    "On Monday the court was told the body charged the two directors with concealing from "
    "investors, over three years, losses of 12 million pounds. The money was shifted by the "
    "directors through firms registered in Jersey and in Guernsey prior to the collapse, "
    "prosecutors told the jury. The hearing is expected to last eight weeks, and both men are "
    "denying the fraud."
)
# Two unrelated stories that end with the same stock sentence.
STOCK = (
    "Shares of the company rose sharply after the results were published on Tuesday. The "
    "company did not immediately respond to a request for comment. Analysts expect more cuts.",
    "Flooding closed three roads in the north of the county overnight, the council said. The "
    "company did not immediately respond to a request for comment. Police urged drivers to "
    "stay at home.",
)
# The same event reported independently: its names, numbers and facts, not its wording.
INDEPENDENT = (
    "Investors lost twelve million pounds, jurors were told, after two company bosses hid the "
    "scale of the damage for three years. Money went via Jersey and Guernsey firms, according "
    "to the Crown. The pair, who face eight weeks in the dock, insist they are innocent of "
    "fraud."
)

# One outlet's closing line around two unrelated stories: a fixed frame of words, the story
# in its slot. The frames share six word pairs and no name or number.
FRAMES = (
    "Trading in the shares was halted. This story has been updated with details on the "
    "pension fund dispute at the docks today.",
    "The river burst its banks overnight. This story has been updated with details about "
    "flooding across three valley villages.",
)
# WIRE in French, and reworded with other inflections (accusé/accusait, pertes/perte,
# enregistrées/enregistrée, procureurs/procureur), which only French's stemmer folds.
WIRE_FR = (
    "L'organisation a accusé les deux dirigeants d'avoir caché aux investisseurs des pertes "
    "de douze millions d'euros pendant trois années, a appris le tribunal lundi. Selon les "
    "procureurs, les dirigeants avaient transféré l'argent par des sociétés enregistrées à "
    "Jersey et à Guernesey avant la faillite. Les deux hommes contestent la fraude et le "
    "procès, qui devrait durer huit semaines, se poursuit."
)
REWRITE_FR = (
    "Lundi, le tribunal a appris que l'organisation accusait les deux dirigeants de cacher "
    "aux investisseurs, pendant trois ans, une perte de 12 millions d'euros. L'argent a été "
    "transféré par les dirigeants via une société enregistrée à Jersey et à Guernesey avant "
    "cette faillite, selon le procureur. Le procès devrait durer huit semaines, et les deux "
    "hommes contestent toute fraude."
)


def features(text: str, language: str | None = None):
    (doc,) = clean_documents([Document(id="d", path="", text=text)])
    doc.language = language or doc.language
    return extract_features(doc)


def test_a_french_story_reworded_is_matched_by_french_stems():
    wire, rewrite = features(WIRE_FR), features(REWRITE_FR)
    assert (wire.language, rewrite.language) == ("fr", "fr")
    found = passages(wire, rewrite, ScanConfig())
    assert [(x.kind, x.a_start, x.a_end) for x in found] == [(1, 0, len(wire))]
    # English's stemmer (what every text had) pairs only the middle sentence.
    english = passages(features(WIRE_FR, "en"), features(REWRITE_FR, "en"), ScanConfig())
    assert [(x.kind, x.a_end - x.a_start < len(wire) // 2) for x in english] == [(1, True)]


def test_a_reworded_story_is_one_rewrite_passage():
    wire = features(WIRE)
    found = passages(wire, features(REWRITE), ScanConfig())
    assert [x.kind for x in found] == [1]  # rewritten, nothing verbatim
    (rewrite,) = found
    assert (rewrite.a_start, rewrite.a_end) == (0, len(wire))  # all three sentences
    assert rewrite.words >= 12


def test_a_story_reworded_with_synonyms_is_one_rewrite_passage():
    wire = features(WIRE)
    found = passages(wire, features(SYNONYMS), ScanConfig())
    assert [(x.kind, x.a_start, x.a_end) for x in found] == [(1, 0, len(wire))]


def test_a_shared_stock_sentence_is_neither_a_rewrite_nor_a_passage():
    first, second = (features(text) for text in STOCK)
    assert rewrite_passages(first, second, [], min_words=12) == []
    assert passages(first, second, ScanConfig()) == []


def test_an_outlet_s_sentence_frame_around_two_stories_is_not_a_rewrite():
    first, second = (features(text) for text in FRAMES)
    assert rewrite_passages(first, second, [], min_words=3) == []
    # The same frame carrying the same story is.
    same = features(FRAMES[0].replace("Trading in", "Dealing in"))
    assert [x.kind for x in rewrite_passages(first, same, [], min_words=3)] == [1]


def test_the_same_event_in_other_words_is_not_a_rewrite():
    assert passages(features(WIRE), features(INDEPENDENT), ScanConfig()) == []


def test_a_sentence_inside_a_verbatim_passage_is_not_paired_again():
    wire, copy = features(WIRE), features(WIRE)
    verbatim = passages(wire, copy, ScanConfig())
    assert [x.kind for x in verbatim] == [0]
    assert rewrite_passages(wire, copy, verbatim, min_words=12) == []


def test_lines_of_two_tables_of_one_form_are_not_rewrites():
    table = "Shr {} cts vs 57 cts net profit\nNet {} vs 2,437,914 dlrs\nRevs {} mln vs 23.1 mln\n"
    first = features(table.format(81, "3,660,273", 28.5))
    second = features(table.format(29, "1,325,755", 31.7))
    assert rewrite_passages(first, second, [], min_words=3) == []


@pytest.mark.parametrize("text", ["Carryforwards", "", "Net 12 vs 9", "Up. Down. Out."])
def test_a_text_without_word_pairs_has_no_rewrites(text):
    one = features(text)
    assert rewrite_passages(one, features(WIRE), [], min_words=0) == []
    assert rewrite_passages(features(WIRE), one, [], min_words=0) == []


def test_match_keys_compare_variants():
    assert match_key("organisation") == match_key("organization")
    assert match_key("accused") == match_key("accusing")
    assert match_key("twelve") == match_key("12")
    assert match_key("courts") == match_key("court")
    assert match_key("court") != match_key("crown")
    assert match_key("enregistrées", "fr") == match_key("enregistrée", "fr")
    assert match_key("Anschläge".casefold(), "de") == match_key("anschlag", "de")
    assert match_key("新华", "zh") != match_key("新闻", "zh")  # no stemmer: the pair itself
    assert match_key("organisation", None) == match_key("organization")  # unknown: English


def test_sentences_end_at_punctuation_and_at_lines_that_do_not_wrap():
    text = (
        "HOUSTON, March 3 - Tenneco Inc said it will redeem on April\n"
        "eight all outstanding shares. It paid 2.5 dlrs\n"
        "Short line\n"
        "Next."
    )
    ends = np.flatnonzero(sentence_ends(text)).tolist()
    assert ends == [
        text.index("shares.") + 6,  # "." before white space
        text.index("dlrs\n") + 4,  # a short line's break
        text.index("line\n") + 4,
        len(text) - 1,  # "." at the end
    ]
    assert text.index("2.5") + 1 not in ends  # not inside a number
