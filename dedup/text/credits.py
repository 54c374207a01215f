"""Credit lines that name a wire agency: ``– AFP``, ``Source: Reuters/afp``, ``Via AP news
wire``, ``BEIJING (AP) —``, ``Copyright 2020 The Associated Press``, ``By X, PA News``, and
wire headers (the Press Association's slug line ``16:54 01/03/00: Page 1 (ZSM) COURTS ...``);
in the agencies' own languages, ``新华社北京3月18日电`` (Xinhua's dateline), ``【東京共同】``
and a closing ``（共同）`` (Kyodo), ``(서울=연합뉴스)`` (Yonhap), a closing ``(AFP)`` or
``(dpa)`` of French or German copy, and ``dpa/afp`` alone on a line.

Only structural credits count: a sentence that mentions an agency ("Reuters reported
earlier") or a photo credit ("Photo: Reuters/Thomas Peter") is not a credit for the text.
"""

from __future__ import annotations

import re

from ..models import Credit

# Canonical agency name -> alias patterns. Upper-case acronyms that are also ordinary words or
# abbreviations (AP, PA, ANI) match only in upper case; the rest match in any case.
AGENCY_ALIASES: dict[str, tuple[str, ...]] = {
    "AP": (
        r"(?i:the\s+associated\s+press)",
        r"(?i:associated\s+press)",
        r"AP通信",
        r"美联社",
        r"AP",
    ),
    "AFP": (
        r"(?i:agence\s+france[-\s]presse)",
        r"AFP時事",
        r"法新社",
        r"فرانس\s+برس",
        r"أ\s*ف\s*ب",
        r"(?i:afp)",
    ),
    "Reuters": (r"(?i:thomson\s+reuters)", r"(?i:reuters)", r"路透社", r"ロイター", r"رويترز"),
    "PA": (r"(?i:press\s+association)", r"PA\s+Media", r"PA\s+News", r"PA"),
    "dpa": (r"(?i:deutsche\s+presse[-\s]agentur)", r"(?i:dpa)"),
    "Xinhua": (r"(?i:xinhua(?:\s+news\s+agency)?)", r"新华社", r"新華社"),
    "Bloomberg": (r"(?i:bloomberg(?:\s+news)?)",),
    "Kyodo": (r"(?i:kyodo(?:\s+news)?)", r"共同通信", r"共同"),
    "Yonhap": (r"(?i:yonhap)", r"연합뉴스"),
    "EFE": (r"(?i:agencia\s+)?EFE",),
    "ANSA": (r"ANSA",),
    "UPI": (r"(?i:united\s+press\s+international)", r"UPI"),
    "PTI": (r"(?i:press\s+trust\s+of\s+india)", r"PTI"),
    "IANS": (r"IANS",),
    "ANI": (r"ANI",),
    "Bernama": (r"(?i:bernama)",),
    "TASS": (r"TASS", r"ТАСС"),
    "RIA Novosti": (r"(?i:ria\s+novosti)", r"РИА\s+Новости"),
    "Anadolu": (r"(?i:anadolu(?:\s+agency)?)",),
    "CNA": (r"(?i:channel\s+newsasia)", r"中央社"),
}
# Aliases in scripts written without spaces, or followed by particles (Korean): no word
# boundary around them.
_UNBOUNDED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

_ALIAS_TO_AGENCY: list[tuple[str, str]] = [
    (alias, agency) for agency, aliases in AGENCY_ALIASES.items() for alias in aliases
]


def _bounded(alias: str) -> str:
    """An alias's pattern, inside word boundaries unless it is written in a script without
    them."""
    return alias if _UNBOUNDED.search(alias) else rf"(?<![\w-])(?:{alias})(?![\w-])"


_AGENCY = "|".join(f"(?P<a{i}>{_bounded(alias)})" for i, (alias, _) in enumerate(_ALIAS_TO_AGENCY))
_AGENCY_RE = re.compile(_AGENCY)
_LIST = rf"(?:{_AGENCY})(?:\s*(?:/|,|&|and|with)\s*(?:{_AGENCY}))*"
_LIST_RE_TEXT = re.sub(r"\(\?P<a\d+>", "(?:", _LIST)
_DASH = r"[-–—]"

# (kind, pattern); each pattern is matched against one line of text.
_CREDIT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # "– AFP", "— Reuters", "-AP" alone on a line (end-of-story sign-off)
    ("signoff", re.compile(rf"^\W*{_DASH}+\s*(?P<list>{_LIST_RE_TEXT})\s*\W*$")),
    # "Source: Reuters/afp", "Sources: AFP, Reuters", "Via AP news wire", "Credit: AP"
    (
        "source",
        re.compile(
            rf"^\W*(?:(?i:sources?|via|credit|courtesy(?:\s+of)?|wire(?:\s+service)?s?|"
            rf"with\s+(?:agency\s+)?inputs\s+from|additional\s+reporting\s+by|"
            rf"reporting\s+by|compiled\s+from))\s*:?\s*(?P<list>{_LIST_RE_TEXT})"
            rf"(?:\s+(?i:news\s+wire|newswire|wire|news|reports?|agencies))?\s*\W*$"
        ),
    ),
    # "BEIJING (AP) —", "LONDON, March 18 (Reuters) -", "Paris (AFP) -", "القاهرة (رويترز) -",
    # EFE's "Madrid, 3 dic (EFE).-", and the agency first: ANSA's "(ANSA) - ROMA, 3 DIC -"
    (
        "dateline",
        re.compile(
            rf"^\W*(?:(?![a-z])[^\W\d_][\w.'’ -]{{1,40}}(?:,\s*[\w.'’ ]{{1,30}})?\s*)?"
            rf"\((?P<list>{_LIST_RE_TEXT})\)\s*\.?\s*{_DASH}"
        ),
    ),
    # "Copyright 2020 The Associated Press. All rights reserved.", "© 2021 Reuters"
    (
        "copyright",
        re.compile(
            rf"(?:(?i:copyright)|©|\((?i:c)\))\s*(?:\d{{4}}\s*)?(?P<list>{_LIST_RE_TEXT})(?![\w-])"
        ),
    ),
    # "By Emma Hibbs, PA News", "By Jane Doe, Associated Press"
    ("byline", re.compile(rf"^\W*(?i:by)\s+[^,]{{2,60}},\s*(?P<list>{_LIST_RE_TEXT})\b")),
    # Xinhua's "新华社北京3月18日电", CNA's "（中央社記者…台北18日電）", Kyodo's "【東京共同】",
    # Yonhap's "(서울=연합뉴스)"
    (
        "dateline",
        re.compile(
            rf"^\W*(?:(?P<list>{_LIST_RE_TEXT})[^\s，。、]{{0,24}}[电電]"
            rf"|[（(]?(?P<list2>{_LIST_RE_TEXT})[^）)。]{{0,30}}[电電][）)]"
            rf"|【[^】]{{0,20}}?(?P<list3>{_LIST_RE_TEXT})】"
            rf"|[（(][^=）)]{{1,20}}=(?P<list4>{_LIST_RE_TEXT})[）)])"
        ),
    ),
    # TASS's and RIA Novosti's "МОСКВА, 18 марта. /ТАСС/."
    (
        "dateline",
        re.compile(
            rf"^\W*[^\W\d_][\w.'’ -]{{1,40}}(?:,\s*[\w.'’ ]{{1,30}})?\.?\s*/\s*"
            rf"(?P<list>{_LIST_RE_TEXT})\s*/"
        ),
    ),
    # A closing "(AFP)", "(dpa)", "（共同）" at the end of the copy's last line
    ("signoff", re.compile(rf"[（(]\s*(?P<list>{_LIST_RE_TEXT})\s*[）)]\W*$")),
    # "dpa/afp", "AFP/Reuters" alone on a line (a short line with a slash: scanned)
    (
        "signoff",
        _SLASHED_LIST_RE := re.compile(rf"^\W*(?P<list>{_LIST_RE_TEXT}\s*/\s*{_LIST_RE_TEXT})\W*$"),
    ),
]

# Characters of the credits in other scripts that the patterns below the anchored ones look
# for.
_SCANNED_CHARS = frozenset("（【电電")
# An agency between slashes (TASS's "/ТАСС/"): a line with one is scanned too.
_SLASHED_AGENCY_RE = re.compile(rf"/\s*(?:{_LIST_RE_TEXT})\s*/")
# The patterns anchored at the start of the line. The others, datelines, copyright lines and
# a closing "(AFP)", try many positions of a line or need a bracket: they run only on lines
# with "(", "©", "copyr" (in any case) or one of ``_SCANNED_CHARS``, text none can match
# without.
_ANCHORED_PATTERNS = [
    (k, p)
    for k, p in _CREDIT_PATTERNS
    if p.pattern.startswith("^")
    and k not in ("dateline", "copyright")
    and p is not _SLASHED_LIST_RE
]
SHORT_LINE = 40  # a line with a slash this short may be "dpa/afp": it is scanned


# Wire headers: the slug line an agency's system puts above its copy, naming the agency by
# its format alone. The Press Association's: "16:54 01/03/00: Page 1 (ZSM) COURTS Burstein".
_WIRE_HEADERS: list[tuple[str, re.Pattern[str]]] = [
    (
        "PA",
        re.compile(
            r"^\W*(?P<hour>\d{1,2}):(?P<minute>\d{2}) (?P<day>\d{2})/(?P<month>\d{2})/"
            r"(?P<year>\d{2}): Page \d+ \([A-Z0-9]{2,5}\) "
        ),
    ),
]

_PHOTO_RE = re.compile(r"(?i)\b(?:photo|picture|image|file\s+photo|pic|video)\s*:")


def agencies_in(fragment: str) -> list[str]:
    """Canonical agency names mentioned in ``fragment``, in order, without repeats."""
    found: list[str] = []
    for match in _AGENCY_RE.finditer(fragment):
        index = int(match.lastgroup[1:])  # type: ignore[index]
        agency = _ALIAS_TO_AGENCY[index][1]
        if agency not in found:
            found.append(agency)
    return found


LONG_LINE = 2000  # a line longer than this is read for credits at its start only
LONG_LINE_HEAD = 300


def find_credits(text: str) -> list[Credit]:
    """Every structural credit line in ``text``, in text order."""
    credits: list[Credit] = []
    pos = 0
    for raw_line in text.splitlines(keepends=True):
        start, line = pos, raw_line.rstrip("\r\n")
        pos += len(raw_line)
        if not line.strip():
            continue
        if len(line) > LONG_LINE:
            # A whole article on one line (many JSON sources): its dateline is at its start.
            line = line[:LONG_LINE_HEAD]
        header = next((agency for agency, pattern in _WIRE_HEADERS if pattern.match(line)), None)
        if header is not None:
            credits.append(Credit(header, "header", start, start + len(line), line.strip()))
            continue
        # line.lower() has "copyr" wherever (?i:copyright) matches: re's IGNORECASE gives c, o,
        # p, y and r no forms but their ASCII ones.
        scanning = (
            "(" in line
            or "©" in line
            or "copyr" in line.lower()
            or not _SCANNED_CHARS.isdisjoint(line)
            or (
                "/" in line
                and (len(line) <= SHORT_LINE or _SLASHED_AGENCY_RE.search(line) is not None)
            )
        )
        for kind, pattern in _CREDIT_PATTERNS if scanning else _ANCHORED_PATTERNS:
            match = pattern.search(line)
            if match is None:
                continue
            group = next(name for name, value in match.groupdict().items() if value is not None)
            if kind != "copyright" and _PHOTO_RE.search(line[: match.start(group)]):
                continue
            for agency in agencies_in(match.group(group)):
                credits.append(Credit(agency, kind, start, start + len(line), line.strip()))
            break
    return credits


def filed_at(credits: list[Credit]) -> str | None:
    """When the copy was filed, as its wire header says (ISO ``YYYY-MM-DDTHH:MM``), or None."""
    for credit in credits:
        if credit.kind != "header":
            continue
        for _, pattern in _WIRE_HEADERS:
            match = pattern.match(credit.line)
            if match:
                year = int(match["year"])
                century = 2000 if year < 50 else 1900
                return (
                    f"{century + year:04d}-{match['month']}-{match['day']}"
                    f"T{int(match['hour']):02d}:{match['minute']}"
                )
    return None


def credited_agencies(credits: list[Credit]) -> list[str]:
    """The agencies of ``credits`` in order of first appearance."""
    seen: list[str] = []
    for credit in credits:
        if credit.agency not in seen:
            seen.append(credit.agency)
    return seen
