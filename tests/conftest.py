"""Shared fixtures: the seed corpus, a real redis-server, and an index location per backend.

The constants and helpers test modules import are in ``tests/support.py``; they are imported
here too, so that modules still importing them from ``conftest`` keep working.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    ARGS,
    CHROMIUM,
    DESKTOP,
    METER_LABEL_COLUMNS,
    ROOT,
    SEED_IDS,
    SEEDS,
    RedisServer,
    rerun_articles,
    seed_id,
)

# Re-exported for test modules that import them from here (tests.support is their home).
__all__ = ["METER_LABEL_COLUMNS", "ROOT", "SEEDS", "SEED_IDS", "rerun_articles", "seed_id"]


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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a redis-server started for this test session (on a free loopback port, no
    persistence, in a temporary folder). A missing redis-server fails the tests that need
    it (CI installs it): mark them ``@pytest.mark.redis``."""
    with tempfile.TemporaryDirectory(prefix="dedup-redis-") as folder:
        try:
            server = RedisServer(Path(folder))
        except (FileNotFoundError, RuntimeError) as exc:
            problem = str(exc)
        else:
            problem = ""
        if problem:
            pytest.fail(problem, pytrace=False)
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: str, request: pytest.FixtureRequest) -> str:
    """The session server's URL with a key prefix of this test's own."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid).strip("-")
    return f"{redis_server}?prefix=test-{name}"


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh index lives, for each backend (the Redis one marked ``redis``)."""
    if request.param == "sqlite":
        return str(tmp_path / "gate.db")
    return request.getfixturevalue("redis_url")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A persistent Chromium context with a fresh profile (a page's requests are recorded by
    ``tests.test_browser.Opened``)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get update && apt-get install -y chromium chromium-driver; .ci/run does it)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport=DESKTOP,
        )
        context.set_default_timeout(10_000)
        yield context
        context.close()
