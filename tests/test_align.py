"""Passage alignment: robust to small edits, blind to stock phrases, exact offsets."""

from __future__ import annotations

from dedup.match.align import align, coverage, to_passage
from dedup.models import Document
from dedup.text.features import extract_features

WIRE = (
    "Chinese authorities on Thursday summoned eleven technology companies including Alibaba "
    "and Tencent for talks about the security of voice software, as regulators step up "
    "scrutiny of the internet sector and its fast growing platforms."
)
SECOND = (
    "The companies were told to carry out security assessments of new functions and to report "
    "them to the government before launching products that could mobilise society."
)


def doc(doc_id: str, text: str) -> Document:
    return Document(id=doc_id, path=doc_id, text=text)


def passages(a_text: str, b_text: str, **kwargs):
    a, b = doc("a", a_text), doc("b", b_text)
    fa, fb = extract_features(a), extract_features(b)
    return [to_passage(a, fa, b, fb, x) for x in align(fa, fb, **kwargs)], fa, fb


def test_identical_paragraph_is_one_passage_with_exact_offsets():
    a_text = "An outlet's own lede about the day.\n\n" + WIRE
    b_text = WIRE + "\n\nAnd its own closing line here."
    (p,), _, _ = passages(a_text, b_text)
    assert a_text[p.a_start : p.a_end] == WIRE[:-1]
    assert b_text[p.b_start : p.b_end] == WIRE[:-1]
    assert p.similarity == 1.0
    assert p.words == len(WIRE.split())


def test_edits_do_not_break_a_passage():
    edited = (
        WIRE.replace("eleven", "11")
        .replace("security", "securty")  # typo
        .replace(" and its fast growing platforms", "")  # dropped clause
        .replace("Thursday", "Thursday (Mar 18)")
    )
    (p,), _, _ = passages(WIRE, edited)
    assert p.words >= 25
    assert 0.6 < p.similarity < 1.0
    assert p.a_start == 0 and p.b_start == 0


def test_reordered_paragraphs_give_two_passages():
    found, _, _ = passages(WIRE + "\n\n" + SECOND, SECOND + "\n\n" + WIRE)
    assert len(found) == 2
    assert {p.excerpt[:20] for p in found} == {WIRE[:20], SECOND[:20]}


def test_trimmed_ending_and_different_lede():
    trimmed = "A new lede written by the outlet itself today. " + WIRE[: WIRE.index(", as")] + "."
    (p,), _, _ = passages(WIRE, trimmed)
    assert p.a_start == 0
    assert WIRE[p.a_start : p.a_end].endswith("voice software")


def test_stock_phrases_are_not_passages():
    a_text = (
        "The Cyberspace Administration of China said the firms must take effective "
        "rectification measures, in a statement on its website about the new rules for apps."
    )
    b_text = (
        "Officials at the Cyberspace Administration of China met executives from several firms "
        "and asked that they take effective rectification measures before the end of the month."
    )
    found, _, _ = passages(a_text, b_text)
    assert found == []


def test_min_words_and_quality_floor_are_parameters():
    shorter = "Regulators said eleven technology companies including Alibaba and Tencent met."
    assert passages(WIRE, shorter)[0] == []
    assert len(passages(WIRE, shorter, min_words=5)[0]) == 1


def test_coverage_counts_each_token_once():
    a_text = WIRE + "\n\n" + SECOND
    _, fa, fb = passages(a_text, WIRE)
    alignments = align(fa, fb)
    assert coverage(alignments, len(fa), "a") == len(WIRE.split()) / len(fa)
    assert coverage(alignments, len(fb), "b") == 1.0
    assert coverage([], 10, "a") == 0.0


def test_compound_written_as_one_or_two_words_stays_in_the_passage():
    a_text = "Deep fakes use artificial intelligence to create hyper-realistic but fake videos or audios."
    b_text = (
        "Deepfakes use artificial intelligence to create hyper-realistic but fake videos or audios."
    )
    (p,), _, _ = passages(a_text, b_text)
    assert a_text[p.a_start : p.a_end].startswith("Deep fakes use")
    assert b_text[p.b_start : p.b_end].startswith("Deepfakes use")


def test_excerpt_of_a_long_text_equals_collapsing_all_of_it():
    import random

    from dedup.match.align import excerpt

    def collapsed(text: str, limit: int) -> str:
        flat = " ".join(text.split())
        return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

    rng = random.Random(7)
    pieces = ["a", "word ", " ", "\n\n  ", "\t", "é", "   \n   "]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 400)))
        limit = rng.choice([5, 20, 160])
        assert excerpt(text, limit) == collapsed(text, limit)
