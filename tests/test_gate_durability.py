"""The gate's index under crashes and concurrent writers, with real processes.

A writer process adds synthetic documents through ``Gate.add`` and prints each id once
``add`` has returned (acknowledged). Killed with SIGKILL at some point, it must leave a sound
SQLite index holding every acknowledged document; two writers adding overlapping documents
to one index (SQLite, Redis) must leave each document there exactly once.
"""

from __future__ import annotations

import random
import runpy
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from dedup.gate import Gate
from dedup.store import SQLiteStore, open_store

WRITER = '''
"""Add synthetic documents to an index through Gate.add, printing "id status" per ack.

Usage: python writer.py INDEX NUMBERS [--wait]  (NUMBERS: comma-separated document numbers;
--wait: print "ready", then start on a "go" line on stdin)
"""

import random
import sys

FUNCTION_WORDS = ["the", "of", "and", "to", "in", "a", "that", "is", "for", "on", "was", "with"]
_rng = random.Random(2026)
VOCABULARY = sorted({
    "".join(_rng.choice("bcdfghjklmnprstvz") + _rng.choice("aeiou") for _ in range(_rng.randint(2, 4)))
    for _ in range(3000)
})


def synthetic_document(number):
    """A deterministic document of 5 to 9 sentences of random words, with function words."""
    rng = random.Random(number)
    sentences = []
    for _ in range(rng.randint(5, 9)):
        words = [
            rng.choice(FUNCTION_WORDS) if rng.random() < 0.4 else rng.choice(VOCABULARY)
            for _ in range(rng.randint(10, 18))
        ]
        sentences.append(" ".join(words).capitalize() + ".")
    return {"id": f"doc-{number:04d}", "text": " ".join(sentences)}


def main():
    from dedup.gate import Gate

    location, numbers = sys.argv[1], [int(n) for n in sys.argv[2].split(",")]
    with Gate(location) as gate:
        if "--wait" in sys.argv:
            print("ready", flush=True)
            if sys.stdin.readline().strip() != "go":
                return
        for number in numbers:
            document = synthetic_document(number)
            verdict = gate.add(document)
            print(document["id"], verdict["status"], flush=True)


if __name__ == "__main__":
    main()
'''


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The writer script, in a temporary folder."""
    path = tmp_path_factory.mktemp("writer") / "writer.py"
    path.write_text(WRITER, encoding="utf-8")
    return path


def synthetic(writer: Path, number: int) -> dict:
    """Document ``number`` exactly as the writer makes it."""
    return runpy.run_path(str(writer))["synthetic_document"](number)


def start(writer: Path, location: str | Path, numbers: list[int], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(writer), str(location), ",".join(map(str, numbers)), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_consistent(store, ids: list[str]) -> list[str]:
    """Documents, band keys, term frequencies and count agree; returns the ids present."""
    present = [doc.id for doc in store.get_many(ids)]
    assert len(present) == len(set(present))
    assert store.count() == len(present)
    docs = store.get_many(present)
    expected_df: Counter[int] = Counter()
    for doc in docs:
        # Each present document is found by all of its own band keys, and nothing absent is.
        hits = store.candidates(doc.band_keys)
        assert hits.get(doc.id) == len(set(doc.band_keys)), doc.id
        assert set(hits) <= set(present)
        expected_df.update(set(doc.terms))
    terms = np.array(list(expected_df), dtype=np.uint64)
    count, frequencies = store.document_frequencies(terms)
    assert count == len(present)
    assert dict(zip(terms.tolist(), frequencies.tolist())) == dict(expected_df)
    return present


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_keeps_every_acknowledged_add(writer: Path, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    numbers = list(range(120))
    ids = [f"doc-{n:04d}" for n in numbers]
    index = tmp_path / "gate.db"
    process = start(writer, index, numbers)
    acknowledged = []
    kill_after = rng.randint(3, 40)
    try:
        while len(acknowledged) < kill_after:
            line = process.stdout.readline()
            assert line, f"the writer stopped before the kill: {process.stderr.read()}"
            acknowledged.append(line.split()[0])
        time.sleep(rng.uniform(0, 0.02))  # land somewhere inside the next add
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    # Lines printed before the kill are acknowledgements too.
    acknowledged += [line.split()[0] for line in process.stdout.read().splitlines()]
    process.stdout.close()
    process.stderr.close()
    process.stdin.close()
    assert process.returncode == -signal.SIGKILL
    assert len(acknowledged) < len(numbers), "the writer finished before it was killed"

    store = SQLiteStore(index)
    try:
        assert store.integrity() == "ok"
        present = assert_consistent(store, ids)
        assert set(acknowledged) <= set(present)
        assert len(present) <= len(acknowledged) + 1  # at most the add in flight got in
    finally:
        store.close()

    with Gate(index) as gate:
        statuses = {n: gate.add(synthetic(writer, n))["status"] for n in numbers}
        assert {ids[n] for n, s in statuses.items() if s == "exists"} == set(present)
        assert gate.store.count() == len(numbers)
        assert_consistent(gate.store, ids)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_two_writers_add_overlapping_documents_once(
    writer: Path, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    location = (
        str(tmp_path / "gate.db") if backend == "sqlite" else request.getfixturevalue("redis_url")
    )
    first, second = list(range(0, 30)), list(range(44, 14, -1))  # 15..29 in both, met midway
    processes = [start(writer, location, numbers, "--wait") for numbers in (first, second)]
    try:
        for process in processes:
            assert process.stdout.readline() == "ready\n", process.stderr.read()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
        assert "Traceback" not in err, err

    statuses: dict[str, list[str]] = {}
    for out, _err in outputs:
        for line in out.splitlines():
            doc_id, status = line.split()
            statuses.setdefault(doc_id, []).append(status)
    every = sorted({f"doc-{n:04d}" for n in first + second})
    assert sorted(statuses) == every
    for doc_id, seen in statuses.items():
        # Added by exactly one writer; the other found it there ("exists").
        assert seen.count("added") == 1, (doc_id, seen)
        assert set(seen) <= {"added", "exists"}, (doc_id, seen)

    store = open_store(location)
    try:
        assert assert_consistent(store, every) == every
        assert store.count() == len(every)
    finally:
        store.close()
