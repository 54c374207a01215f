"""Shared fixtures: the seed corpus and helpers to write small article folders."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_IDS = sorted(p.name for p in SEEDS.iterdir() if p.suffix == ".txt")


def seed_id(prefix: str) -> str:
    """The seed file whose name starts with ``prefix`` ('000' .. '004')."""
    (name,) = [s for s in SEED_IDS if s.startswith(prefix)]
    return name


# The columns of METER's labels.csv (the fixtures of the METER loader and of dedup eval).
METER_LABEL_COLUMNS = [
    "newspaper_file",
    "domain",
    "date",
    "catchline",
    "newspaper",
    "label",
    "pa_source_files",
    "annotated_sgml",
]


def rerun_articles(count: int, seed: int = 7, footer: str | None = None) -> list[dict]:
    """``count`` articles re-running the seeds' paragraphs (kept, dropped, reordered, lightly
    edited, mixed from two seeds) between paragraphs of their own: a corpus with reuse of every
    kind, built from files in the repository. ``footer``, when given, ends every article (a
    site's chrome line)."""
    paragraphs = [
        [p for p in (SEEDS / name).read_text(encoding="utf-8").split("\n\n") if len(p) > 80]
        for name in SEED_IDS
    ]
    words = sorted({w for ps in paragraphs for p in ps for w in p.split() if w.isalpha()})
    rng = random.Random(seed)
    articles = []
    for number in range(count):
        body = []
        for source in rng.sample(paragraphs, rng.choice((1, 1, 2))):
            for paragraph in rng.sample(source, max(1, len(source) // rng.choice((1, 2, 3)))):
                tokens = paragraph.split()
                for _ in range(rng.randrange(3)):  # a light edit
                    tokens[rng.randrange(len(tokens))] = rng.choice(words)
                body.append(" ".join(tokens))
        for _ in range(rng.randrange(1, 4)):  # the outlet's own paragraphs
            own = " ".join(rng.choice(words) for _ in range(rng.randrange(15, 40)))
            body.insert(rng.randrange(len(body) + 1), own.capitalize() + ".")
        if footer:
            body.append(footer)
        articles.append(
            {"id": f"a{number}", "title": f"Article {number}", "text": "\n\n".join(body)}
        )
    return articles


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The committed seed corpus (read-only: copy it before changing anything)."""
    return SEEDS


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ a test may add files to."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def seeds_scan():
    """The scan result of seeds/ with the default parameters (computed once)."""
    from dedup import scan

    return scan([SEEDS])
