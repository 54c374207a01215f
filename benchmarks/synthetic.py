"""A seeded synthetic syndication corpus built from Reuters-21578 stories, with ground truth.

Usage: python benchmarks/synthetic.py --size 100000 [--seed 1] [--out PATH.jsonl]
       [--truth PATH.truth.jsonl] [--data ../shared/data/reuters21578]

News outlets re-run wire stories: whole, trimmed (trailing paragraphs or sentences dropped),
lightly edited (the outlet's house style: word substitutions, number and date formats, curly
quotes; plus a few random word changes and typos), with a lede and closing lines of their own,
inside the outlet's page chrome (navigation, "Subscribe", comment widget, "You May Also Like"
teasers, copyright footer: different per outlet, fixed within an outlet); some articles mix two
wire stories; the rest are independent articles. The wire agency's own copy is published too,
for about half the stories.

Wire and independent stories are Reuters-21578 stories. There are 19,000 of them, fewer than a
large corpus needs, so each story also exists in *re-keyed* variants: key 0 is the original
text, key k > 0 replaces every content word by another word of similar corpus frequency (a
permutation of the vocabulary within frequency bands, seeded by k) and permutes the digits.
Function words, months and punctuation stay, so a variant reads like news prose with the
statistics of the original (length, sentences, word frequencies) but shares no run of content
words with it or with any other variant: distinct (story, key) pairs are independent texts.
Every wire story and independent article uses a (story, key) pair of its own.

Output: the corpus JSONL (``id``, ``source`` = outlet, ``title``, ``text``) and the ground
truth JSONL, one line per article in the same order: ``id``, ``source``, ``kind``
(``original``, ``rerun``, ``mixed`` or ``independent``), ``words`` (article words outside the
chrome) and ``reuses``: per wire story used, ``wire`` (its id), ``paragraphs`` (indices of the
wire paragraphs kept) and ``kept_words`` (words of each kept paragraph; a paragraph cut after
some sentences keeps a prefix). Two articles reuse the same text when they keep a common
paragraph of the same wire story (``reused_pairs`` in this module, used by ``bench.py``).

Output is streamed in blocks of a few thousand articles (shuffled within a block): memory
does not grow with ``--size``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reuters import DEFAULT_DATA, stories


def _words(text: str) -> list[str]:
    return text.split()


# Shares of the corpus and the shape of syndication.
INDEPENDENT_SHARE = 0.4  # articles that reuse no wire text
ORIGINAL_SHARE = 0.5  # wire stories whose agency copy is in the corpus too
MIXED_SHARE = 0.08  # re-runs that also carry paragraphs of a second wire story
RERUN_PARETO = 1.6  # re-runs per wire story: 2 x Pareto(1.6), at least 2 (mean about 5)
MAX_RERUNS = 40
BLOCK = 4000  # articles generated, shuffled and written together
BAND = 32  # words of similar frequency permuted among themselves in a re-keyed variant
FILLER_KEY = 1_000_000  # keys at and above this are never a wire or independent story
# Two articles reuse text when their common wire paragraphs hold at least this many words
# (a shorter overlap is one sentence of a few words: below dedup's 12-word passages).
MIN_SHARED_WORDS = 20

_PARAGRAPH_RE = re.compile(r"\n[ \t]+")
_WORD_RE = re.compile(r"[A-Za-z]+")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")
_DATELINE_RE = re.compile(r"^([A-Z][A-Z .,'&/-]{1,40}?),\s+([A-Z][a-z]{2,8}\.? \d{1,2})\s+-\s+")
_MONTHS = {
    "Jan": "January",
    "Feb": "February",
    "Mar": "March",
    "Apr": "April",
    "Jun": "June",
    "Jul": "July",
    "Aug": "August",
    "Sep": "September",
    "Sept": "September",
    "Oct": "October",
    "Nov": "November",
    "Dec": "December",
}
_MONTH_RE = re.compile(r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}\b)")
_QUOTE_RE = re.compile(r'"([^"\n]{1,400})"')
_APOSTROPHE_RE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])")
# Words a re-keyed variant keeps: function words, months and days, agency names.
_KEEP = frozenset(
    _words("""a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself
    said says say told mr mrs ms new last next first year years week month
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday
    friday saturday sunday reuters reuter""")
)
# House-style substitutions an outlet may use (on key-0 text; re-keyed text gets the outlet's
# random frequent-word substitutions instead).
_STYLE_WORDS = [
    ("pct", "percent"),
    ("pct", "per cent"),
    ("mln", "million"),
    ("bln", "billion"),
    ("dlrs", "dollars"),
    ("said", "says"),
    ("company", "firm"),
    ("tonnes", "tons"),
    ("rose", "climbed"),
    ("fell", "dropped"),
    ("about", "around"),
    ("expected", "forecast"),
    ("government", "administration"),
    ("shares", "stock"),
    ("told", "informed"),
    ("however", "but"),
]
_PLACES = _words("""Harbor Valley Metro Prairie Coastal Capital River Summit Lakeside Northern Southern
Eastern Western Bay Hill Forest Canyon Delta Granite Cedar Maple Pine Ocean Desert Iron Silver
Golden Union Liberty Pioneer Frontier Highland Lowland Midland Island Bridge Harbour Port""")
_PAPERS = _words("""Ledger Tribune Courier Gazette Post Herald Sentinel Chronicle Dispatch Times Journal
Observer Daily Wire Report Bulletin Monitor Register Examiner Star Record Standard Mirror
Messenger Press Review Telegraph Independent Voice Express""")
_SECTIONS = _words("""Home News World Business Markets Politics Tech Science Health Sports Opinion Culture
Lifestyle Travel Weather Video Podcasts Economy Energy Commodities Local National""")
_FIRST = _words("""Anna Ben Carla David Elena Frank Grace Henry Irene James Karen Leo Maria Nina Oscar
Paula Rafael Sara Tom Ursula Victor Wendy Yusuf Zoe Ahmed Chen Priya Kenji Olga Pedro""")
_LAST = _words("""Smith Jones Brown Garcia Miller Davis Lopez Wilson Taylor Moore Clark Lewis Walker Hall
Young King Wright Scott Green Baker Adams Nelson Carter Mitchell Perez Roberts Turner Phillips
Campbell Parker Evans Edwards Collins Stewart Morris Rogers Reed Cook Morgan Bell Murphy""")
# Own ledes and closing lines: fixed runs stay under 8 words, so two outlets using one template
# share no 12-word passage (dedup's shortest reuse).
_LEDES = [
    "{Place} readers have been asking about {topic}; here is the latest.",
    "Our {desk} desk has the details on {topic} as they came in today.",
    "What we know so far about {topic}, updated {day} afternoon.",
    "{Day} brought fresh developments on {topic}, which our {desk} team is tracking.",
    "In {place}, the talk of the {desk} world this {day} is {topic}.",
    "Analysts we spoke with in {place} say {topic} could matter for months.",
    "The {desk} picture shifted again on {day} with news on {topic}.",
    "For anyone following {topic}, {day} was another busy day.",
]
_CLOSERS = [
    "Reporting by {name}; editing by {name2}.",
    "Additional reporting by {name} in {place}.",
    "{name} contributed to this report from {place}.",
    "This story has been updated with {topic} details.",
    "Stay with the {outlet} {desk} desk for more on {topic}.",
    "Have a tip about {topic}? Contact {name} at the {desk} desk.",
]
_DESKS = _words("business markets economics energy world politics finance commodities")
_DAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
_SUBSCRIBE = [
    "Subscribe to the {outlet} newsletter for the day's top stories.",
    "Subscribe now and get unlimited access to {outlet}.",
    "Sign up for {outlet} Daily, our free morning briefing.",
    "Get {outlet} delivered to your inbox: subscribe today.",
]
_ALSO = [
    "You May Also Like",
    "Related Stories",
    "More from {outlet}",
    "Recommended for you",
    "Read next",
]
_COMMENTS = [
    ["Comments", "Sign in to join the conversation.", "Community guidelines apply."],
    ["Join the discussion", "Log in to comment.", "Comments are moderated."],
    ["Leave a comment", "You must be logged in to post a comment.", "Be respectful."],
    ["Reader comments", "Comments are closed for this article."],
]
_FOOTERS = [
    "© {year} {outlet}. All rights reserved.",
    "Copyright {year} {outlet} Media Group. All rights reserved.",
    "© {outlet} {year} | Privacy Policy | Terms of Use | Contact us",
    "All content © {year} {outlet}, a division of {place} Media Holdings.",
]


# --- wire stories and their re-keyed variants ---------------------------------------------


@dataclass
class BaseStory:
    """A Reuters story as paragraphs (dateline split off)."""

    title: str
    dateline: str
    paragraphs: list[str]


@dataclass
class WireStory:
    """One (story, key) variant: the text outlets copy."""

    wid: str
    title: str
    dateline: str
    paragraphs: list[str]
    words: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.words = [len(p.split()) for p in self.paragraphs]


def load_pool(data: Path, min_words: int = 40) -> list[BaseStory]:
    """Reuters stories usable as wire copy: prose (not tables), at least ``min_words``, each
    text once."""
    pool, seen = [], set()
    for story in stories(data):
        text = story["text"]
        paragraphs = [" ".join(p.split()) for p in _PARAGRAPH_RE.split(text)]
        while paragraphs and paragraphs[-1] in ("", "Reuter", "REUTER"):
            paragraphs.pop()
        paragraphs = [p for p in paragraphs if p]
        tokens = " ".join(paragraphs).split()
        function = sum(1 for w in tokens if w.lower() in _KEEP)
        key = " ".join(tokens[:60])
        if len(tokens) < min_words or function < 0.25 * len(tokens) or key in seen:
            continue  # short, a table (few function words) or a text already taken
        seen.add(key)
        dateline = ""
        match = _DATELINE_RE.match(paragraphs[0])
        if match:
            dateline = f"{match.group(1)}, {match.group(2)}"
            paragraphs[0] = paragraphs[0][match.end() :]
        title = story["title"] or paragraphs[0][:60]
        pool.append(BaseStory(" ".join(title.split()), dateline, paragraphs))
    return pool


class Rekeyer:
    """Re-keyed variants of texts: content words permuted within frequency bands, per key."""

    def __init__(self, pool: list[BaseStory], seed: int) -> None:
        counts: Counter[str] = Counter()
        for story in pool:
            for p in story.paragraphs:
                counts.update(w.lower() for w in _WORD_RE.findall(p))
        vocabulary = [w for w, _ in counts.most_common() if w not in _KEEP and len(w) > 2]
        self.vocabulary = vocabulary
        self.seed = seed
        self._maps: dict[int, tuple[dict[str, str], dict[int, int]]] = {}

    def _mapping(self, key: int) -> tuple[dict[str, str], dict[int, int]]:
        found = self._maps.get(key)
        if found is None:
            rng = random.Random(self.seed * 1_000_003 + key)
            mapping = {}
            for start in range(0, len(self.vocabulary), BAND):
                band = self.vocabulary[start : start + BAND]
                shuffled = band[:]
                rng.shuffle(shuffled)
                mapping.update(zip(band, shuffled))
            digits = list("0123456789")
            rng.shuffle(digits)
            found = (mapping, str.maketrans("0123456789", "".join(digits)))
            if len(self._maps) > 256:
                self._maps.clear()
            self._maps[key] = found
        return found

    def apply(self, text: str, key: int) -> str:
        """``text`` in variant ``key`` (key 0: unchanged)."""
        if key == 0:
            return text
        mapping, digits = self._mapping(key)

        def swap(match: re.Match[str]) -> str:
            word = match.group()
            lower = word.lower()
            new = mapping.get(lower)
            if new is None:
                return word
            if word.islower():
                return new
            if word.isupper() and len(word) > 1:
                return new.upper()
            return new.capitalize()

        return _WORD_RE.sub(swap, text).translate(digits)

    def story(self, base: BaseStory, index: int, key: int) -> WireStory:
        """The variant ``key`` of pool story ``index``."""
        joined = "\n".join([base.title, base.dateline, *base.paragraphs])
        lines = self.apply(joined, key).split("\n")
        return WireStory(f"w{index:05d}k{key}", lines[0], lines[1], lines[2:])


def story_sequence(pool_size: int, rng: random.Random) -> Iterator[tuple[int, int]]:
    """Distinct (story, key) pairs: every story in key 0 (shuffled), then key 1, and so on."""
    key = 0
    while key < FILLER_KEY:
        order = list(range(pool_size))
        rng.shuffle(order)
        for index in order:
            yield index, key
        key += 1


# --- outlets ---------------------------------------------------------------------------------


@dataclass
class Outlet:
    """A news site: its chrome and its house style, fixed for all its articles."""

    name: str
    place: str
    header: list[str]
    footer: list[str]
    also: str
    subscribe: str
    show_title: bool
    byline: bool
    ledes: list[str]
    closers: list[str]
    style: dict[str, str]
    curly: bool
    plain_numbers: bool
    full_months: bool
    keep_dateline: bool
    credit: str
    trim: float
    lede: float
    closer: float
    edit_rate: float
    typo_rate: float


def make_outlets(count: int, rng: random.Random, vocabulary: list[str]) -> list[Outlet]:
    """``count`` outlets with distinct names, chrome and styles."""
    names: list[str] = []
    taken = set()
    while len(names) < count:
        name = f"{rng.choice(_PLACES)} {rng.choice(_PAPERS)}"
        if name in taken:
            name = f"{name} {rng.choice(['Online', 'Today', 'Weekly', 'Now', 'News'])}"
        if name in taken:
            name = f"{name} {len(names)}"
        taken.add(name)
        names.append(name)
    frequent = vocabulary[:3000]
    outlets = []
    for name in names:
        place = rng.choice(_PLACES)
        sections = rng.sample(_SECTIONS, rng.randint(5, 9))
        sep = rng.choice([" | ", " · ", "  ", " / "])
        header = [name, sep.join(sections)]
        if rng.random() < 0.5:
            header.insert(0, rng.choice(["Skip to main content", "Menu", "Search", "Sign in"]))
        if rng.random() < 0.3:
            header.append(rng.choice(["Advertisement", "ADVERTISEMENT", "Sponsored"]))
        fill = {"outlet": name, "year": rng.randint(2019, 2025), "place": place}
        footer = [*rng.choice(_COMMENTS), rng.choice(_FOOTERS).format(**fill)]
        style = {}
        for old, new in rng.sample(_STYLE_WORDS, rng.randint(2, 7)):
            style.setdefault(old, new)
        for _ in range(rng.randint(5, 30)):
            style.setdefault(rng.choice(frequent), rng.choice(frequent))
        outlets.append(
            Outlet(
                name=name,
                place=place,
                header=header,
                footer=footer,
                also=rng.choice(_ALSO).format(**fill),
                subscribe=rng.choice(_SUBSCRIBE).format(**fill),
                show_title=rng.random() < 0.7,
                byline=rng.random() < 0.5,
                ledes=rng.sample(_LEDES, 3),
                closers=rng.sample(_CLOSERS, 2),
                style=style,
                curly=rng.random() < 0.5,
                plain_numbers=rng.random() < 0.4,
                full_months=rng.random() < 0.5,
                keep_dateline=rng.random() < 0.6,
                credit=rng.choice(["", "", "— Reuters", "Source: Reuters", "(Reuters)"]),
                trim=rng.uniform(0.2, 0.8),
                lede=rng.uniform(0.1, 0.7),
                closer=rng.uniform(0.2, 0.8),
                edit_rate=rng.uniform(0.0, 0.01),
                typo_rate=rng.uniform(0.0, 0.003),
            )
        )
    return outlets


# --- articles --------------------------------------------------------------------------------


@dataclass
class Article:
    """One generated article and its ground truth."""

    source: str
    title: str
    text: str
    kind: str
    words: int
    reuses: list[dict]


def _fill(template: str, rng: random.Random, outlet: Outlet, topic: str) -> str:
    return template.format(
        Place=outlet.place,
        place=rng.choice(_PLACES),
        topic=topic,
        desk=rng.choice(_DESKS),
        day=rng.choice(_DAYS),
        Day=rng.choice(_DAYS),
        outlet=outlet.name,
        name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        name2=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
    )


def _topic(title: str) -> str:
    words = title.split()
    return " ".join(words[: min(len(words), 6)]).lower().strip(" .,:;-")


def _edit(outlet: Outlet, text: str, rng: random.Random, vocabulary: list[str]) -> str:
    """The outlet's house style, then random word changes and typos at its rates."""
    style = outlet.style
    tokens = [style.get(t, t) for t in text.split(" ")]
    n = len(tokens)
    for rate, typo in ((outlet.edit_rate, False), (outlet.typo_rate, True)):
        expected = rate * n
        for _ in range(int(expected) + (rng.random() < expected % 1)):
            i = rng.randrange(n)
            word = tokens[i]
            if not typo:
                if word.isalpha() and word.islower():
                    tokens[i] = vocabulary[rng.randrange(min(5000, len(vocabulary)))]
            elif len(word) > 3 and word.isalpha():
                k = rng.randrange(len(word) - 1)
                kind = rng.random()
                if kind < 0.4:
                    word = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
                elif kind < 0.7:
                    word = word[:k] + word[k + 1 :]
                else:
                    word = word[:k] + word[k] + word[k:]
                tokens[i] = word
    text = " ".join(tokens)
    if outlet.plain_numbers:
        text = _THOUSANDS_RE.sub("", text)
    if outlet.full_months:
        text = _MONTH_RE.sub(lambda m: _MONTHS[m.group(1)], text)
    if outlet.curly:
        text = _QUOTE_RE.sub("“\\1”", text)
        text = _APOSTROPHE_RE.sub("’", text)
    return text


def _kept(wire: WireStory, outlet: Outlet, rng: random.Random) -> tuple[list[int], list[str]]:
    """Paragraph indices an outlet keeps of a wire story, and their (possibly cut) text."""
    m = len(wire.paragraphs)
    keep = m
    if m > 1 and rng.random() < outlet.trim:
        keep = rng.randint(max(1, math.ceil(m * 0.3)), m)
    indices = list(range(keep))
    if len(indices) > 3 and rng.random() < 0.1:
        indices.pop(rng.randrange(1, len(indices) - 1))  # a dropped middle paragraph
    texts = [wire.paragraphs[i] for i in indices]
    if rng.random() < 0.3:
        sentences = _SENTENCE_RE.split(texts[-1])
        if len(sentences) > 1:
            texts[-1] = " ".join(sentences[: rng.randint(1, len(sentences) - 1)])
    return indices, texts


def _reuse(wire: WireStory, indices: list[int], texts: list[str]) -> dict:
    return {"wire": wire.wid, "paragraphs": indices, "kept_words": [len(t.split()) for t in texts]}


def _teasers(rng: random.Random, titles: list[str]) -> list[str]:
    return [t.title() for t in rng.sample(titles, min(len(titles), rng.randint(3, 5)))]


def _page(
    outlet: Outlet, title: str, body: list[str], rng: random.Random, titles: list[str]
) -> str:
    lines = list(outlet.header)
    if outlet.show_title:
        lines.append(title)
    if outlet.byline:
        lines.append(f"By {rng.choice(_FIRST)} {rng.choice(_LAST)}")
    lines.extend(body)
    lines.append(outlet.subscribe)
    lines.append(outlet.also)
    lines.extend(_teasers(rng, titles))
    lines.extend(outlet.footer)
    return "\n\n".join(lines)


def _headline(title: str, rng: random.Random) -> str:
    title = title.title() if title.isupper() else title
    if rng.random() < 0.1:
        title = f"UPDATE: {title}"
    return title


def original(wire: WireStory) -> Article:
    """The agency's own copy: dateline with the agency, every paragraph, no chrome."""
    body = list(wire.paragraphs)
    if wire.dateline:
        body[0] = f"{wire.dateline} (Reuters) - {body[0]}"
    return Article(
        "Reuters",
        wire.title,
        "\n\n".join(body),
        "original",
        sum(wire.words),
        [_reuse(wire, list(range(len(body))), wire.paragraphs)],
    )


def rerun(
    wire: WireStory,
    outlet: Outlet,
    rng: random.Random,
    vocabulary: list[str],
    titles: list[str],
    second: WireStory | None = None,
) -> Article:
    """An outlet's re-run of ``wire`` (mixed with part of ``second`` when given)."""
    indices, texts = _kept(wire, outlet, rng)
    reuses = [_reuse(wire, indices, texts)]
    if outlet.keep_dateline and wire.dateline and indices[0] == 0:
        texts[0] = f"{wire.dateline} - {texts[0]}"
    if second is not None:
        m = len(second.paragraphs)
        start = rng.randrange(m)
        stop = min(m, start + rng.randint(1, 4))
        more = list(range(start, stop))
        extra = [second.paragraphs[i] for i in more]
        reuses.append(_reuse(second, more, extra))
        texts = [
            *texts,
            _fill("In related news on {topic}:", rng, outlet, _topic(second.title)),
            *extra,
        ]
    topic = _topic(wire.title)
    body = [_edit(outlet, t, rng, vocabulary) for t in texts]
    if rng.random() < outlet.lede:
        body.insert(0, _fill(rng.choice(outlet.ledes), rng, outlet, topic))
    if rng.random() < outlet.closer:
        body.append(_fill(rng.choice(outlet.closers), rng, outlet, topic))
    if outlet.credit:
        body.append(outlet.credit)
    title = _headline(wire.title, rng)
    return Article(
        outlet.name,
        title,
        _page(outlet, title, body, rng, titles),
        "mixed" if second is not None else "rerun",
        sum(len(t.split()) for t in body),
        reuses,
    )


def independent(
    story: WireStory, outlet: Outlet, rng: random.Random, vocabulary: list[str], titles: list[str]
) -> Article:
    """An outlet's own article (a story no one else carries), in its page chrome."""
    body = [_edit(outlet, p, rng, vocabulary) for p in story.paragraphs]
    if story.dateline and outlet.keep_dateline:
        body[0] = f"{story.dateline} - {body[0]}"
    if rng.random() < outlet.closer:
        body.append(_fill(rng.choice(outlet.closers), rng, outlet, _topic(story.title)))
    title = _headline(story.title, rng)
    return Article(
        outlet.name,
        title,
        _page(outlet, title, body, rng, titles),
        "independent",
        sum(len(t.split()) for t in body),
        [],
    )


# --- the corpus ------------------------------------------------------------------------------


def reruns_per_story(rng: random.Random) -> int:
    """Outlets re-running one wire story: heavy-tailed (most stories few, some many)."""
    return max(2, min(MAX_RERUNS, int(2 * rng.paretovariate(RERUN_PARETO))))


def generate(
    size: int, seed: int = 1, data: Path = DEFAULT_DATA, outlets: int | None = None
) -> Iterator[Article]:
    """``size`` articles, in blocks shuffled within themselves (deterministic for a seed)."""
    rng = random.Random(seed)
    pool = load_pool(data)
    rekeyer = Rekeyer(pool, seed)
    vocabulary = rekeyer.vocabulary
    count = outlets or max(20, min(2000, size // 200))
    sites = make_outlets(count, rng, vocabulary)
    weights = [1.0 / (rank + 1) ** 0.7 for rank in range(count)]
    cumulative = list(itertools.accumulate(weights))
    sequence = story_sequence(len(pool), rng)
    filler_titles = [
        rekeyer.apply(pool[i].title, FILLER_KEY + k)
        for k in range(4)
        for i in rng.sample(range(len(pool)), min(500, len(pool)))
    ]
    made = independents = 0
    while made < size:
        block: list[Article] = []
        wires: list[WireStory] = []
        plans: list[tuple[WireStory, Outlet]] = []
        target = min(BLOCK, size - made)
        planned = 0
        while planned < target:
            index, key = next(sequence)
            story = rekeyer.story(pool[index], index, key)
            if independents < INDEPENDENT_SHARE * (made + planned + 1):
                site = rng.choices(sites, cum_weights=cumulative)[0]
                block.append(independent(story, site, rng, vocabulary, filler_titles))
                planned += 1
                independents += 1
                continue
            wires.append(story)
            if rng.random() < ORIGINAL_SHARE:
                block.append(original(story))
                planned += 1
            k = min(reruns_per_story(rng), count)
            for site in rng.sample(sites, k):
                plans.append((story, site))
            planned += k
        for wire, site in plans:
            second = None
            if len(wires) > 1 and rng.random() < MIXED_SHARE:
                second = rng.choice(wires)
                if second is wire:
                    second = None
            block.append(rerun(wire, site, rng, vocabulary, filler_titles, second))
        rng.shuffle(block)
        for article in block[: size - made]:
            yield article
            made += 1


def write(size: int, out: Path, truth: Path, seed: int = 1, data: Path = DEFAULT_DATA) -> dict:
    """Write the corpus and its ground truth (streamed); returns counts."""
    out.parent.mkdir(parents=True, exist_ok=True)
    kinds: Counter[str] = Counter()
    started = time.perf_counter()
    with out.open("w", encoding="utf-8") as corpus, truth.open("w", encoding="utf-8") as answers:
        for number, article in enumerate(generate(size, seed, data)):
            article_id = f"a{number:07d}"
            corpus.write(
                json.dumps(
                    {
                        "id": article_id,
                        "source": article.source,
                        "title": article.title,
                        "text": article.text,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            answers.write(
                json.dumps(
                    {
                        "id": article_id,
                        "source": article.source,
                        "kind": article.kind,
                        "words": article.words,
                        "reuses": article.reuses,
                    }
                )
                + "\n"
            )
            kinds[article.kind] += 1
    return {"articles": size, "seconds": round(time.perf_counter() - started, 1), **kinds}


# --- ground truth ----------------------------------------------------------------------------


def read_truth(path: Path) -> Iterator[dict]:
    """The ground-truth records, in corpus order."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def reused_pairs(
    records: Iterable[dict], min_shared_words: int = MIN_SHARED_WORDS
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of articles (corpus positions, ``i < j``) that reuse the same wire paragraphs.

    A pair counts when the wire paragraphs both keep hold at least ``min_shared_words`` words
    (a cut paragraph keeps a prefix, so the shared part is the shorter of the two). Returns
    the ``(n, 2)`` pairs and, per pair, the shared words as a share of the smaller article's
    words (1.0: one carries nothing else).
    """
    by_wire: dict[str, list[tuple[int, dict[int, int]]]] = defaultdict(list)
    words: list[int] = []
    for position, record in enumerate(records):
        words.append(record["words"])
        for reuse in record["reuses"]:
            by_wire[reuse["wire"]].append(
                (position, dict(zip(reuse["paragraphs"], reuse["kept_words"])))
            )
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for carriers in by_wire.values():
        for x in range(len(carriers)):
            i, kept_i = carriers[x]
            for y in range(x + 1, len(carriers)):
                j, kept_j = carriers[y]
                if i == j:
                    continue
                common = sum(min(kept_i[p], kept_j[p]) for p in kept_i.keys() & kept_j.keys())
                if common:
                    shared[(min(i, j), max(i, j))] += common
    kept = [(pair, n) for pair, n in shared.items() if n >= min_shared_words]
    kept.sort()
    pairs = np.array([pair for pair, _ in kept], dtype=np.int64).reshape(-1, 2)
    share = np.array([n / max(1, min(words[a], words[b])) for (a, b), n in kept], dtype=np.float64)
    return pairs, np.minimum(share, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="number of articles")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="corpus JSONL (default synthetic-SIZE.jsonl)")
    parser.add_argument("--truth", type=Path, help="ground truth JSONL (default OUT.truth.jsonl)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Reuters-21578 folder")
    args = parser.parse_args()
    out = args.out or Path(f"synthetic-{args.size}.jsonl")
    truth = args.truth or out.with_suffix(".truth.jsonl")
    counts = write(args.size, out, truth, args.seed, args.data)
    print(f"wrote {out} and {truth}: {counts}")


if __name__ == "__main__":
    main()
