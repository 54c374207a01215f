"""The scan on several processes gives exactly what it gives on one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.config import ScanConfig
from dedup.errors import ConfigError
from dedup.scan import corpus, pairs
from dedup.scan import local as pipeline
from dedup.util.parallel import fork_map, resolve_workers, spans

from .support import write_reruns

FOOTER = "Follow us for more news"  # a short line in every article: the site's chrome


@pytest.fixture(scope="module")
def reruns(tmp_path_factory) -> Path:
    return write_reruns(tmp_path_factory.mktemp("reruns") / "reruns.jsonl", FOOTER)


def _scan(path: Path, workers: int):
    return pipeline.scan([path], ScanConfig(workers=workers))


def test_two_workers_give_the_result_of_one(reruns, monkeypatch):
    # Small tasks, so that the 90 articles are cleaned and compared in many chunks and the
    # footer's count crosses chunks.
    monkeypatch.setattr(corpus, "DOCS_PER_TASK", 8)
    monkeypatch.setattr(pairs, "PAIRS_PER_TASK", 50)
    one = _scan(reruns, 1)
    two = _scan(reruns, 2)
    assert len(one.pairs) > 100 and len(one.passages) > 100  # a corpus with reuse to find
    assert [d.to_record() for d in two.documents] == [d.to_record() for d in one.documents]
    assert two.pairs == one.pairs
    assert two.passages == one.passages
    assert (two.duplicates, two.provenance, two.stories) == (
        one.duplicates,
        one.provenance,
        one.stories,
    )
    # The footer is chrome in every article, also in those whose chunk holds fewer than the
    # three documents the repeated-line signal needs.
    for doc in two.documents:
        start = doc.text.index(FOOTER)
        assert any(s <= start and start + len(FOOTER) <= e for s, e in doc.removed), doc.id


@pytest.mark.slow
def test_cli_workers_option(reruns, tmp_path):
    runner = CliRunner()
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / workers
        result = runner.invoke(app, ["scan", str(reruns), "--out", str(out), "--workers", workers])
        assert result.exit_code == 0, result.output
        outputs.append((out / "pairs.csv").read_text(encoding="utf-8"))
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["parameters"]["workers"] == int(workers)
    assert outputs[0] == outputs[1]
    bad = runner.invoke(app, ["scan", str(reruns), "--out", str(tmp_path / "x"), "--workers", "-1"])
    assert bad.exit_code == 2
    assert "workers must be between 0 and 1024, got -1" in bad.output


def test_workers_zero_means_every_core(monkeypatch):
    monkeypatch.setattr("dedup.util.parallel.available_cores", lambda: 6)
    assert resolve_workers(0) == 6
    assert resolve_workers(3) == 3
    with pytest.raises(ConfigError, match="workers must be between 0 and 1024, got 2000"):
        ScanConfig(workers=2000)


def _square_sum(offset: int, span: tuple[int, int]) -> int:
    return sum((offset + k) ** 2 for k in range(*span))


def test_fork_map_keeps_the_order_of_chunks():
    chunks = spans(1000, 37)
    assert chunks[0] == (0, 37) and chunks[-1] == (999, 1000) and len(chunks) == 28
    expected = [_square_sum(5, c) for c in chunks]
    assert list(fork_map(_square_sum, 5, chunks, 2)) == expected
    assert list(fork_map(_square_sum, 5, chunks, 1)) == expected


def _fail_on_seven(state: None, number: int) -> int:
    if number == 7:
        raise ValueError("seven")
    return number


def test_an_error_in_a_worker_reaches_the_caller():
    with pytest.raises(ValueError, match="seven"):
        list(fork_map(_fail_on_seven, None, list(range(10)), 2))


def test_pair_cosines_and_story_groups_on_two_workers(reruns, monkeypatch):
    from dedup.group import stories
    from dedup.group.stories import story_groups
    from dedup.match.tfidf import pair_cosines, tfidf_matrix
    from dedup.text.features import extract_features

    result = pipeline.scan([reruns], ScanConfig(workers=1))
    tfidf = tfidf_matrix([extract_features(d) for d in result.documents])
    n = tfidf.shape[0]
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
    dense = (tfidf @ tfidf.T).toarray()
    one = pair_cosines(tfidf, pairs, chunk=97, workers=1)
    two = pair_cosines(tfidf, pairs, chunk=97, workers=2)
    assert np.array_equal(one, two)
    assert np.allclose(one, np.clip(dense[pairs[:, 0], pairs[:, 1]], 0, 1))
    # Above the limit the candidates come from LSH and are scored in chunks on the workers.
    groups = story_groups(tfidf, limit=10, workers=1)
    monkeypatch.setattr(stories, "COMPONENTS_PER_TASK", 1)  # every component a task of its own
    assert groups and groups == story_groups(tfidf, limit=10, workers=2)


def _pid_and_square(state: int, chunk: int) -> tuple[int, int]:
    import os

    return os.getpid(), chunk * chunk + state


def test_workers_are_forked_afresh_after_their_share_of_chunks(monkeypatch):
    """A worker serves TASKS_PER_WORKER chunks, then a fresh process takes its place (so it
    does not go on copying the parent's pages); the results stay in chunk order."""
    from dedup.util import parallel

    monkeypatch.setattr(parallel, "TASKS_PER_WORKER", 3)
    results = list(fork_map(_pid_and_square, 1, list(range(40)), 2))
    assert [value for _, value in results] == [n * n + 1 for n in range(40)]
    pids = {pid for pid, _ in results}
    assert len(pids) >= 40 // 3  # no process worked more than 3 chunks
    assert all(sum(pid == p for p, _ in results) <= 3 for pid in pids)
