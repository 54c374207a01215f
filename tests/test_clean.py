"""Encoding repair, boilerplate removal and credit lines."""

from __future__ import annotations

import json

import pytest

from dedup.models import Document
from dedup.scan.local import scan
from dedup.text.clean import clean_documents, repair_text
from dedup.text.credits import agencies_in, find_credits
from dedup.text.load import load_corpus

from .support import seed_id


def kept_text(doc: Document) -> str:
    parts, pos = [], 0
    for start, end in doc.removed:
        parts.append(doc.text[pos:start])
        pos = end
    parts.append(doc.text[pos:])
    return "".join(parts)


def removed_text(doc: Document) -> str:
    return "\n".join(doc.text[s:e] for s, e in doc.removed)


@pytest.fixture(scope="module")
def cleaned(seeds_dir):
    docs = clean_documents(load_corpus([seeds_dir]).documents)
    return {d.id[:3]: d for d in docs}


def test_gbk_mojibake_of_seed_004_is_repaired(cleaned):
    text = cleaned["004"].text
    assert "‘deepfake’" in text
    assert "Copyright © 1999- Shanghai Daily" in text
    assert "鈥" not in text and "漏" not in text


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("over 鈥榙eepfake鈥\n", "over ‘deepfake’\n"),
        ("use of 鈥渄eep fake鈥 tech.", "use of “deep fake” tech."),
        ("Copyright 漏 2021", "Copyright © 2021"),
        ("the countryâ€™s firms", "the country’s firms"),  # UTF-8 read as Windows-1252
        ("café", "café"),
    ],
)
def test_repair_text(broken, fixed):
    assert repair_text(broken) == fixed


def test_genuine_chinese_text_is_left_alone():
    chinese = "中国国家互联网信息办公室约谈了十一家企业。" * 3
    assert repair_text(chinese) == chinese


def test_line_endings_are_kept_in_text():
    assert repair_text("one line.\r\nsecond line.\r\n") == "one line.\r\nsecond line.\r\n"


@pytest.mark.parametrize(
    ("doc", "chrome"),
    [
        (
            "000",
            [
                "Subscribe",
                "Notify of",
                "Newest",
                "Oldest Most Voted",
                "You May Also Like",
                "View all comments",
                "Library books should not have",
                "Hong Kong’s leader, John Lee, stated",
            ],
        ),
        (
            "001",
            [
                "Skip to main content",
                "READ: China asks Alibaba",
                "Also worth reading",
                "FILE PHOTO",
            ],
        ),
        ("002", ["Follow author on", "Representational Image", "Related:"]),
        (
            "003",
            [
                "Your support helps us to tell the story",
                "Your donation allows us",
                "we choose not to lock Americans out",
                "Thank you for registering",
                "Please refresh the page",
                "Notifications can be managed",
            ],
        ),
        (
            "004",
            [
                "GET this page in PDF",
                "Free for subscribers",
                "View shopping cart",
                "All rights reserved",
                "Email this to your friend",
            ],
        ),
    ],
)
def test_seed_chrome_is_removed(cleaned, doc, chrome):
    kept = kept_text(cleaned[doc])
    removed = removed_text(cleaned[doc])
    for line in chrome:
        assert line not in kept, f"{line!r} should be removed from {doc}"
        assert line in removed


@pytest.mark.parametrize(
    ("doc", "body"),
    [
        ("000", "Authorities last year halted a record $34 billion initial public offering"),
        ("001", "Deep fakes use artificial intelligence to create hyper-realistic"),
        ("002", "Twelve technology companies, including Tencent and Baidu, were fined"),
        ("003", "China in 2019 banned online video and audio providers"),
        ("004", "Other new offerings include Kuaishou’s invitation-based Feichuan app"),
    ],
)
def test_seed_article_bodies_are_kept(cleaned, doc, body):
    assert body in kept_text(cleaned[doc])


def test_removed_spans_are_sorted_and_inside_the_text(cleaned):
    for doc in cleaned.values():
        assert doc.removed == sorted(doc.removed)
        for start, end in doc.removed:
            assert 0 <= start < end <= len(doc.text)


def test_headline_of_a_text_file_becomes_its_title(cleaned):
    assert cleaned["004"].title == "Regulators hold talks with tech firms over ‘deepfake’"
    assert cleaned["001"].title.startswith("China summons tech giants")


STORY_A = (
    "Flood waters rose across the river valley on Monday as heavy rain fell for a third day, "
    "forcing hundreds of families from their homes.\n\nEmergency crews used boats to reach "
    "villages cut off by the water, and the army opened shelters in two schools.\n\n"
    "The weather service said more rain was expected before the weekend and warned of "
    "landslides on the hills above the town.\n"
)
STORY_B = (
    "The central bank raised its main interest rate by half a point on Thursday, its fourth "
    "increase this year, citing stubborn inflation in food and energy prices.\n\nThe governor "
    "told reporters the bank was ready to act again if prices kept climbing through the summer."
    "\n\nMarkets had expected a smaller move, and the currency gained against the dollar.\n"
)
CHROME_TOP = "Skip to main content\nHome | World | Business | Sport\nSubscribe now\n\n"
APPEAL = (
    "Your support helps us to tell the story\n\nFrom local councils to national politics, our "
    "newsroom is on the ground when the story is developing, and we know how important it is "
    "to parse out the facts from the messaging for you.\n\nAt such a critical moment, we need "
    "reporters on the ground. Your donation allows us to keep sending journalists to speak to "
    "both sides of the story.\n\nYour support makes all the difference.\n\n"
)
CHROME_BOTTOM = (
    "\nSubscribe\nNotify of\n0 Comments\nNewest\nOldest Most Voted\nInline Feedbacks\n"
    "View all comments\nYou May Also Like\n\nMayor opens new bridge after two years of works\n\n"
    "Copyright © 2024 Example News Ltd. All rights reserved.\n"
)


def test_same_site_chrome_does_not_match_two_different_stories(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "flood.txt").write_text(CHROME_TOP + APPEAL + STORY_A + CHROME_BOTTOM)
    (folder / "bank.txt").write_text(CHROME_TOP + APPEAL + STORY_B + CHROME_BOTTOM)
    result = scan([folder])
    assert [p.relation for p in result.pairs if p.relation != "none"] == []
    assert result.passages == []
    # ...while the same two pages without the cleaning step would share the appeal:
    for doc in result.documents:
        assert "Your donation allows us" in removed_text(doc)


def test_repeated_lines_of_one_source_are_chrome(tmp_path):
    footer = "Follow us on social media for the latest updates from our team"
    records = [
        {"id": str(n), "source": "Daily Example", "text": f"{story}\n{footer}\n"}
        for n, story in enumerate([STORY_A, STORY_B, STORY_A.replace("Monday", "Tuesday")])
    ]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    docs = clean_documents(load_corpus([path]).documents)
    for doc in docs:
        assert footer in removed_text(doc)


def test_wire_paragraph_repeated_across_a_folder_is_not_chrome(tmp_path):
    wire = STORY_A.split("\n\n")[0]
    for n, own in enumerate(
        [
            STORY_B,
            STORY_B.replace("Thursday", "Friday"),
            "A third outlet "
            "wrote its own introduction to the story, with a quote from a local "
            "official who said the town was ready.",
        ]
    ):
        (tmp_path / f"outlet{n}.txt").write_text(f"{own}\n\n{wire}\n")
    docs = clean_documents(load_corpus([tmp_path]).documents)
    for doc in docs:
        assert wire in kept_text(doc)


@pytest.mark.parametrize(
    ("line", "agencies"),
    [
        ("– AFP", ["AFP"]),
        ("Source: Reuters/afp", ["Reuters", "AFP"]),
        ("Via AP news wire", ["AP"]),
        ("BEIJING (AP) — Chinese authorities on Thursday", ["AP"]),
        ("LONDON, March 18 (Reuters) - Shares fell", ["Reuters"]),
        ("Copyright 2020 The Associated Press. All rights reserved.", ["AP"]),
        ("By Emma Hibbs, PA News", ["PA"]),
        ("(With inputs from PTI)", ["PTI"]),
        ("— dpa", ["dpa"]),
        ("Sources: Xinhua, Bloomberg", ["Xinhua", "Bloomberg"]),
        ("© 2021 Reuters/afp", ["Reuters", "AFP"]),
        ("(c) 2019 AFP.", ["AFP"]),
    ],
)
def test_credit_lines(line, agencies):
    assert [c.agency for c in find_credits("Some story text.\n" + line + "\n")] == agencies


@pytest.mark.parametrize(
    "line",
    [
        "FILE PHOTO: The logo of Alibaba (Photo: Reuters/Thomas Peter)",
        "TikTok owner ByteDance is working on apps, Reuters reported earlier this month.",
        "Copyright © 1999- Shanghai Daily. All rights reserved.",
        "The AP style guide says so.",
        "He lives in PA and works for a bank.",
        "Copyright 2020 APPLE Inc. All rights reserved.",  # a name that starts like an agency's
        "© APTN 2020",
    ],
)
def test_mentions_that_are_not_credits(line):
    assert find_credits(line) == []


def test_credit_offsets_point_at_the_line():
    text = "First paragraph of the story.\n\n– AFP\n"
    (credit,) = find_credits(text)
    assert text[credit.start : credit.end] == "– AFP"


def test_agency_aliases_are_normalised():
    assert agencies_in("Agence France-Presse and the Associated Press and Thomson Reuters") == [
        "AFP",
        "AP",
        "Reuters",
    ]


def test_seed_credits(cleaned):
    assert cleaned["000"].credits == ["AFP"]
    assert cleaned["001"].credits == ["Reuters", "AFP"]
    assert cleaned["002"].credits == []
    assert cleaned["003"].credits == ["AP"]
    assert cleaned["004"].credits == []
    assert seed_id("003") == cleaned["003"].id


EARNINGS = (
    "KILLINGTON, Vt., March 2 - Shr 81 cts vs 57 cts\n    Net 3,660,273 vs 2,437,914\n"
    "    Rev 28.5 mln vs 23.1 mln\n    Six months\n    Shr 29 cts vs 12 cts\n"
    "    Net 1,325,755 vs 483,559\n    Rev 31.7 mln vs 26.4 mln\n Reuter\n"
)


def test_an_article_that_is_a_table_keeps_its_lines():
    (doc,) = clean_documents([Document(id="t", path="", text=EARNINGS)])
    assert doc.removed == []
    # Beside prose the same lines are furniture.
    prose = "The company said its results improved on higher sales in the quarter, it said."
    (mixed,) = clean_documents([Document(id="m", path="", text=prose + "\n\n" + EARNINGS)])
    net = mixed.text.index("Net 3,660,273")
    assert any(s <= net < e for s, e in mixed.removed)


def test_identical_tables_are_duplicates(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(EARNINGS, encoding="utf-8")
    (tmp_path / "c.txt").write_text(EARNINGS.replace("81 cts", "18 cts").replace("Rev", "Sales"))
    result = scan([tmp_path])
    relations = {(p.a, p.b): p.relation for p in result.pairs}
    assert relations[("a.txt", "b.txt")] == "duplicate"
    assert [g["members"] for g in result.duplicates] == [["a.txt", "b.txt"]]
