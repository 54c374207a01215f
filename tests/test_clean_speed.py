"""The cleaning stage's shortcuts give the same answers as the plain patterns they spare."""

from __future__ import annotations

import re

import pytest

from dedup.text import clean, credits
from dedup.text.clean import _QUOTED_RE
from dedup.text.scripts import SPACED_TOKEN_RE

# The patterns as they read before the shortcuts, each run on the whole line.
LINK_RE = re.compile(r"(?i)https?\s*:\s*/\s*/|\bwww\s*\.|\S+@\S+\.\w{2,}")
TERMINAL_RE = re.compile(r"[.!?。！？｡؟۔।॥။።](?:[\"'”’»)\]]*)\s*$")
ELLIPSIS_RE = re.compile(r"(?:…|\.\.\.)[\"'”’»)\]]*\s*$")

LINES = [
    "See http://example.com for more.",
    "HTTPS : / / example.com",
    "Visit wWw . example . com today",
    "_www.example",
    "xwww.example",
    "Write to jane.doe@example.org please",
    "a@b.c and @ alone",
    "Copyright 2020 The Associated Press. All rights reserved.",
    "COPYRİGHT 2021 AFP",
    "copyrıght notice",
    "all rightſ reſerved",
    "ALL  RIGHTS RESERVED",
    "(c) 2020 Reuters",
    "(C)1999",
    "© Reuters",
    "He said (quietly) that it was over.",
    "Kelvin K and long ſ in a plain line",
    'He left.")  ',
    "Read more …”",
    "Read more...)\t",
    "An open line with no end",
    "Ends with a question?’\u2028",
    "国家统计局发布数据。",
    "",
]


@pytest.mark.parametrize("line", LINES)
def test_line_tests_agree_with_the_plain_patterns(line):
    assert clean._has_link(line, line.lower()) == bool(LINK_RE.search(line))
    assert clean._has_copyright(line, line.lower()) == bool(clean._COPYRIGHT_RE.search(line))
    end = clean._line_end(line)
    assert end.endswith(clean.SENTENCE_ENDS) == bool(TERMINAL_RE.search(line))
    assert end.endswith(clean._ELLIPSES) == bool(ELLIPSIS_RE.search(line))


@pytest.mark.parametrize(
    "text",
    [
        "We told you so.",
        "‘x y’our point is taken.",  # cutting the quote out leaves "our"
        "``I said you''re wrong, and you''re.",
        "“We will fight,” he said to us.",
        "Business is just about hours of power.",
        "_we and we_ and O'Brien’s us’s.",
    ],
)
def test_address_words_match_a_full_count(text):
    unit = clean._units(text)[0]
    unquoted = SPACED_TOKEN_RE.findall(_QUOTED_RE.sub(" ", text))
    expected = sum(1 for w in unquoted if w.lower() in clean._ADDRESS_WORDS)
    assert clean._address_words(unit) == expected


def test_wrapped_paragraph_has_the_words_of_its_lines():
    lines = ["A long line of a hard-wrapped paragraph that goes on and", "on until it’s done."]
    (unit,) = clean._units("\r\n".join(lines))
    assert unit.text == " ".join(lines)
    assert list(unit.words) == SPACED_TOKEN_RE.findall(lines[0]) + SPACED_TOKEN_RE.findall(lines[1])
    assert unit.normal == " ".join(w.lower() for w in unit.words)


def all_patterns_credits(line: str) -> list[tuple[str, str]]:
    """find_credits on one line, every pattern tried."""
    for kind, pattern in credits._CREDIT_PATTERNS:
        match = pattern.search(line)
        if match is None:
            continue
        if kind != "copyright" and credits._PHOTO_RE.search(line[: match.start("list")]):
            continue
        return [(agency, kind) for agency in credits.agencies_in(match.group("list"))]
    return []


@pytest.mark.parametrize(
    "line",
    [
        "– AFP",
        "LONDON (Reuters) - Shares fell.",
        "BEIJING, March 18 (AP) — Officials said",
        "By Jane Doe, PA News",
        "Photo: Reuters/Thomas Peter",
        "Source: Reuters/afp",
        "Copyright 2020 The Associated Press.",
        "COPYRİGHT 2020 AFP",
        "CopyRight Reuters",
        "© 2021 Reuters",
        "(c) Xinhua",
        "Reuters reported earlier that the talks had failed.",
    ],
)
def test_find_credits_agrees_with_trying_every_pattern(line):
    found = [(c.agency, c.kind) for c in credits.find_credits(line)]
    assert found == all_patterns_credits(line)
