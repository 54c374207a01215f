"""Retention: `dedup gate prune` and the service's scheduled prune remove old documents, and
nothing else, even when killed half way."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import httpx
import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.errors import ConfigError
from dedup.gate import Gate
from dedup.gate.retention import document_time, parse_duration, prune_plan

from .test_server import TOKEN, article, dedup_serve, free_port

runner = CliRunner()
NOW = datetime(2026, 12, 3, tzinfo=timezone.utc).timestamp()
DAY = 86400.0


def test_durations_take_a_unit():
    assert parse_duration("30d") == 30 * DAY
    assert parse_duration("12h") == 12 * 3600
    assert parse_duration("2w") == 14 * DAY
    assert parse_duration("1.5m") == 90
    for bad in ("30", "d", "30 days", "-3d", ""):
        with pytest.raises(ConfigError, match="not a duration"):
            parse_duration(bad)


@pytest.mark.parametrize(
    ("date", "added", "expected"),
    [
        ("2026-11-02", 0.0, datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()),
        ("2026-11-02T10:00:00Z", 0.0, datetime(2026, 11, 2, 10, tzinfo=timezone.utc).timestamp()),
        (
            "2026-11-02T12:00:00+02:00",
            0.0,
            datetime(2026, 11, 2, 10, tzinfo=timezone.utc).timestamp(),
        ),
        (
            "Mon, 02 Nov 2026 10:00:00 GMT",
            0.0,
            datetime(2026, 11, 2, 10, tzinfo=timezone.utc).timestamp(),
        ),
        ("last Tuesday", 123.0, 123.0),  # not a date: when it was added
        (None, 456.0, 456.0),
        (None, 0.0, None),  # indexed before the time was kept: no time
    ],
)
def test_a_document_s_time_is_its_date_else_when_it_was_added(date, added, expected):
    assert document_time(date, added) == expected


def test_the_plan_removes_the_old_and_keeps_the_newest_and_the_undated():
    dates = [
        ("old", "2026-01-01", 0.0),
        ("older", "2025-01-01", 0.0),
        ("recent", "2026-12-01", 0.0),
        ("added-long-ago", None, NOW - 90 * DAY),
        ("undated", None, 0.0),
    ]
    plan = prune_plan(dates, older_than=30 * DAY, now=NOW)
    assert plan.remove == ["older", "old", "added-long-ago"]  # oldest first
    assert (plan.documents, plan.undated) == (5, 1)
    # keep: the newest; an undated document goes first.
    assert prune_plan(dates, keep=2, now=NOW).remove == ["undated", "older", "old"]
    both = prune_plan(dates, older_than=30 * DAY, keep=1, now=NOW).remove
    assert sorted(both) == ["added-long-ago", "old", "older", "undated"]
    with pytest.raises(ConfigError, match="say what to prune"):
        prune_plan(dates, now=NOW)


def fill(location: str, old: int, new: int) -> None:
    """An index of ``old`` documents dated 2001 and ``new`` dated now."""
    today = datetime.now(timezone.utc).date().isoformat()
    docs = [
        {"id": f"old-{i}", "text": article(f"o{i}", 3), "date": "2001-05-01"} for i in range(old)
    ]
    docs += [{"id": f"new-{i}", "text": article(f"n{i}", 3), "date": today} for i in range(new)]
    with Gate(location) as gate:
        gate.index_many(docs)


def test_prune_removes_the_old_documents_and_says_how_many(location):
    fill(location, 3, 2)
    dry = runner.invoke(
        app, ["gate", "prune", "--index", location, "--older-than", "30d", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout) == {
        "removed": 0, "to_remove": 3, "documents": 5, "remaining": 5, "undated": 0, "dry_run": True,
    }  # fmt: skip
    done = runner.invoke(app, ["gate", "prune", "--index", location, "--older-than", "30d"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["removed"] == 3
    with Gate(location) as gate:
        assert sorted(d[0] for d in gate.store.dates()) == ["new-0", "new-1"]
        assert gate.get("old-0") is None and gate.get("new-0")["date"]
    kept = runner.invoke(app, ["gate", "prune", "--index", location, "--keep", "1"])
    assert json.loads(kept.stdout)["remaining"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "30"], "--older-than: '30' is not a duration"),
        ([], "say what to prune"),
    ],
)
def test_prune_without_a_valid_rule_is_a_usage_error(tmp_path, args, message):
    fill(str(tmp_path / "i.db"), 1, 1)
    result = runner.invoke(app, ["gate", "prune", "--index", str(tmp_path / "i.db"), *args])
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.slow
def test_a_prune_killed_half_way_loses_nothing_else_and_the_index_opens(location):
    fill(location, 600, 50)
    process = subprocess.Popen(
        [sys.executable, "-m", "dedup", "gate", "prune", "--index", location, "--older-than", "1d"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with Gate(location) as watcher:
            deadline = time.monotonic() + 120
            while watcher.store.count() > 640 and time.monotonic() < deadline:
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    with Gate(location) as gate:  # opens
        left = {d[0] for d in gate.store.dates()}
        assert {f"new-{i}" for i in range(50)} <= left  # none of what was to stay went
        assert 50 < len(left) < 650, "the prune ended before the kill: not a half-way test"
        assert gate.store.count() == len(left)
        old = sorted(left - {f"new-{i}" for i in range(50)})
        assert gate.get(old[0])["text"] == article(old[0].replace("old-", "o"), 3)
        assert gate.check({"id": "q", "text": article("n7", 3)})["duplicate_of"] == "new-7"


@pytest.mark.slow
def test_serve_prunes_on_a_schedule_and_counts_it(tmp_path):
    index = str(tmp_path / "index.db")
    fill(index, 4, 2)
    port = free_port()
    args = [
        "--index",
        index,
        "--port",
        str(port),
        "--prune-older-than",
        "30d",
        "--prune-every",
        "1s",
    ]
    with dedup_serve(*args) as wait_for:
        assert "dedup gate pruned 4 documents, 2 remain" in wait_for("dedup gate pruned")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert httpx.get(f"{url}/stats", headers=auth).json()["documents"] == 2
        metrics = httpx.get(f"{url}/metrics", headers=auth).text
        assert "dedup_gate_pruned_total 4.0" in metrics
        assert "dedup_gate_prune_runs_total" in metrics
