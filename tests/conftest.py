"""Shared fixtures: the seed corpus and helpers to write small article folders."""

from __future__ import annotations

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
