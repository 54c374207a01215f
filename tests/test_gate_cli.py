"""`dedup gate add|check|remove|get|stats` as a pipeline uses them: JSONL in, JSONL out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dedup.cli import app

from .support import SEED_IDS, SEEDS

runner = CliRunner()


def seed_lines(ids=None) -> str:
    records = [
        {"id": name[:3], "text": (SEEDS / name).read_text(encoding="utf-8")}
        for name in SEED_IDS
        if ids is None or name[:3] in ids
    ]
    return "".join(json.dumps(r) + "\n" for r in records)


def verdicts(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.fixture
def index(tmp_path):
    """An empty index, made as an operator makes one."""
    path = tmp_path / "index.db"
    result = runner.invoke(app, ["gate", "add", "--create", "--index", str(path)], input="")
    assert result.exit_code == 0 and result.stdout == "", result.output
    return str(path)


def test_seeds_added_in_order_get_the_expected_verdicts(index):
    result = runner.invoke(app, ["gate", "add", "--index", index], input=seed_lines())
    assert result.exit_code == 0, result.output
    got = {v["id"]: (v["verdict"], v["syndicated_from"]) for v in verdicts(result.stdout)}
    assert got == {
        "000": ("new", []),
        "001": ("syndicated", ["000"]),
        "002": ("syndicated", ["001"]),
        "003": ("syndicated", ["002"]),
        "004": ("syndicated", ["001", "002", "003"]),
    }
    first = verdicts(result.stdout)[1]
    assert first["agencies"] == ["AFP"] and first["matches"][0]["passages"]


def test_adding_a_document_again_is_a_duplicate_exit_4_and_not_counted_twice(index):
    runner.invoke(app, ["gate", "add", "--index", index], input=seed_lines())
    again = runner.invoke(app, ["gate", "add", "--index", index], input=seed_lines({"000"}))
    assert again.exit_code == 4
    (verdict,) = verdicts(again.stdout)
    assert verdict["verdict"] == "duplicate" and verdict["duplicate_of"] == "000"
    assert verdict["status"] == "exists" and verdict["added"] is False
    stats = runner.invoke(app, ["gate", "stats", "--index", index])
    assert json.loads(stats.stdout)["documents"] == 5


def test_max_candidates_compares_only_those_sharing_most_keys(index):
    runner.invoke(app, ["gate", "add", "--index", index], input=seed_lines({"001", "002", "003"}))
    every = runner.invoke(app, ["gate", "check", "--index", index], input=seed_lines({"004"}))
    one = runner.invoke(
        app, ["gate", "check", "--index", index, "--max-candidates", "1"], input=seed_lines({"004"})
    )
    assert every.exit_code == one.exit_code == 0
    ((all_sources,), (first_only,)) = verdicts(every.stdout), verdicts(one.stdout)
    assert sorted(all_sources["syndicated_from"]) == ["001", "002", "003"]
    assert len(first_only["syndicated_from"]) == 1
    assert first_only["syndicated_from"][0] in all_sources["syndicated_from"]
    bad = runner.invoke(app, ["gate", "check", "--index", index, "--max-candidates", "0"])
    assert bad.exit_code == 2


def test_check_is_read_only(index):
    result = runner.invoke(app, ["gate", "check", "--index", index], input=seed_lines())
    assert result.exit_code == 0
    assert {v["verdict"] for v in verdicts(result.stdout)} == {"new"}
    assert (
        json.loads(runner.invoke(app, ["gate", "stats", "--index", index]).stdout)["documents"] == 0
    )


def test_folders_are_read_like_scan(index):
    result = runner.invoke(app, ["gate", "add", str(SEEDS), "--index", index])
    assert result.exit_code == 0
    assert [v["id"] for v in verdicts(result.stdout)] == SEED_IDS


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"id": "e", "text": ""}', "record 'text' is empty"),
        (b'{"id": "m"}', "record has no 'text' field"),
        (b'{"text": "A story without an id, long enough to be a story."}', "document has no 'id'"),
        (b'{"id": "b", "text": "\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005"}', "binary data"),
        (b'{"id": "u", "text": "caf\xe9"}', "invalid UTF-8 in JSON line"),
        (b'{"id": "j", "text": ', "malformed JSON"),
        (b'["id", "text"]', "a document must be a JSON object, got list"),
    ],
)
def test_bad_input_gets_an_error_line_and_exit_3(index, line, message):
    good = seed_lines({"000"}).encode()
    result = runner.invoke(app, ["gate", "add", "--index", index], input=line + b"\n" + good)
    assert result.exit_code == 3, result.output
    error, ok = verdicts(result.stdout)
    assert error["verdict"] == "error" and message in error["error"]
    assert error["input"] == "<stdin>:1"
    assert ok["id"] == "000" and ok["verdict"] == "new"
    assert f"skipped: <stdin>:1: {message}" in result.stderr


def test_huge_document_is_refused_without_reading_it_whole(index):
    huge = json.dumps({"id": "h", "text": "word " * 4_200_000}) + "\n"  # 21 MB > 20 MB limit
    result = runner.invoke(app, ["gate", "add", "--index", index], input=huge)
    assert result.exit_code == 3
    (error,) = verdicts(result.stdout)
    assert "over the size limit of 20,000,000" in error["error"]


def test_same_id_with_another_text_is_an_error_unless_update(index):
    runner.invoke(app, ["gate", "add", "--index", index], input=seed_lines({"000"}))
    changed = json.dumps({"id": "000", "text": (SEEDS / SEED_IDS[3]).read_text()}) + "\n"
    result = runner.invoke(app, ["gate", "add", "--index", index], input=changed)
    assert result.exit_code == 3
    (error,) = verdicts(result.stdout)
    assert "already in the index with a different text" in error["error"]
    assert "--update on the command line" in error["error"]  # the flag's name, not "update"
    updated = runner.invoke(app, ["gate", "add", "--index", index, "--update"], input=changed)
    assert updated.exit_code == 0
    assert verdicts(updated.stdout)[0]["status"] == "updated"
    got = json.loads(runner.invoke(app, ["gate", "get", "000", "--index", index]).stdout)
    assert got["text"] == (SEEDS / SEED_IDS[3]).read_text()


def test_remove_get_and_missing_ids(index):
    runner.invoke(app, ["gate", "add", "--index", index], input=seed_lines({"000", "001"}))
    result = runner.invoke(app, ["gate", "remove", "000", "nope", "--index", index])
    assert result.exit_code == 3
    assert verdicts(result.stdout) == [
        {"id": "000", "removed": True},
        {"id": "nope", "removed": False},
    ]
    missing = runner.invoke(app, ["gate", "get", "000", "--index", index])
    assert missing.exit_code == 3  # as remove's for an id not in the index
    assert "Error: no document '000' in the index" in missing.stderr
    assert (
        json.loads(runner.invoke(app, ["gate", "stats", "--index", index]).stdout)["documents"] == 1
    )


COMMANDS = [
    ["check"],
    ["add"],
    ["get", "some-id"],
    ["stats"],
    ["remove", "some-id"],
    ["serve", "--port", "0"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_missing_index_is_an_error_and_nothing_is_created(tmp_path, command):
    missing = tmp_path / "doesnotexist.db"
    result = runner.invoke(
        app,
        ["gate", *command, "--index", str(missing)],
        input='{"id": "a", "text": "some text"}\n',
        env={"DEDUP_TOKEN": "t"},
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: no index at {missing}")
    assert "--create" in line
    assert list(tmp_path.iterdir()) == []


def test_add_creates_an_index_only_with_create_and_never_a_folder(tmp_path):
    line = '{"id": "a", "text": "some text of an article"}\n'
    path = tmp_path / "new.db"
    created = runner.invoke(app, ["gate", "add", "--create", "--index", str(path)], input=line)
    assert created.exit_code == 0 and verdicts(created.stdout)[0]["verdict"] == "new"
    # Once made, the index is added to without --create.
    again = runner.invoke(app, ["gate", "add", "--index", str(path)], input=line)
    assert again.exit_code == 4 and verdicts(again.stdout)[0]["duplicate_of"] == "a"
    nested = tmp_path / "nodir" / "x.db"
    refused = runner.invoke(app, ["gate", "add", "--create", "--index", str(nested)], input=line)
    assert refused.exit_code == 1
    assert f"no folder {nested.parent}" in refused.stderr
    assert not nested.parent.exists()


def test_a_file_that_is_not_an_index_is_refused_and_left_as_it_was(tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = other.read_bytes()
    result = runner.invoke(app, ["gate", "stats", "--index", str(other)])
    assert result.exit_code == 1
    assert "is not a dedup index" in result.stderr
    assert other.read_bytes() == before and sorted(tmp_path.iterdir()) == [other]


@pytest.mark.redis
def test_a_missing_redis_index_is_an_error(redis_url):
    line = '{"id": "a", "text": "x"}'
    result = runner.invoke(app, ["gate", "check", "--index", redis_url], input=line)
    assert result.exit_code == 1
    assert "Error: no index at redis://" in result.stderr
    created = runner.invoke(app, ["gate", "add", "--create", "--index", redis_url], input="")
    assert created.exit_code == 0
    assert runner.invoke(app, ["gate", "stats", "--index", redis_url]).exit_code == 0


def test_index_option_is_required():
    result = runner.invoke(app, ["gate", "stats"], env={"DEDUP_INDEX": ""})
    assert result.exit_code == 2


def test_index_built_with_other_parameters_is_refused(tmp_path):
    from dedup import ScanConfig
    from dedup.errors import ConfigError
    from dedup.gate import Gate

    with Gate(tmp_path / "i.db", ScanConfig(num_perm=64)):
        pass
    with pytest.raises(ConfigError, match="was built with num_perm=64"):
        Gate(tmp_path / "i.db", ScanConfig(num_perm=128))
    with Gate(tmp_path / "i.db") as gate:  # no config: the index's own parameters
        assert gate.config.num_perm == 64


@pytest.mark.slow
def test_verdicts_stream_one_line_per_document(index):
    """A verdict comes out as soon as its document is read, before stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dedup", "gate", "add", "--index", index],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lines = seed_lines().splitlines()
    try:
        for number, line in enumerate(lines[:2]):
            process.stdin.write((line + "\n").encode())
            process.stdin.flush()
            verdict = json.loads(process.stdout.readline())
            assert verdict["id"] == f"00{number}"
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert process.returncode == 0


def test_an_update_is_not_compared_with_its_own_old_version(tmp_path):
    from dedup.gate import Gate

    text = (SEEDS / SEED_IDS[0]).read_text()
    with Gate(tmp_path / "i.db") as gate:
        gate.add({"id": "a", "text": text})
        verdict = gate.add(
            {"id": "a", "text": text + "\n\nOne more closing sentence of ours."}, update=True
        )
        assert verdict["status"] == "updated"
        assert verdict["verdict"] == "new" and verdict["matches"] == []
        assert gate.stats()["documents"] == 1
        assert gate.get("a")["text"].endswith("closing sentence of ours.")


def test_text_that_is_not_valid_unicode_is_an_input_error(tmp_path):
    from dedup.errors import InputError
    from dedup.gate import Gate

    with Gate(tmp_path / "i.db") as gate, pytest.raises(InputError, match="not valid Unicode"):
        gate.check({"id": "s", "text": "A lone surrogate \ud800 in an article text."})


def test_stats_do_not_show_a_password():
    from dedup.store import display_location

    assert display_location("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert display_location("index.db") == "index.db"
