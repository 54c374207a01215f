"""examples/seeds/ is the committed example output of the README's first command: it must be
byte for byte what the current code writes for ``seeds/``, its time taken from
``SOURCE_DATE_EPOCH`` (docs/development.md says how to write it again)."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.errors import ConfigError
from dedup.output.page import report_time

from .support import ROOT

EXAMPLE = ROOT / "examples" / "seeds"
# The time the committed example says it was made (2026-12-03 00:00 UTC).
EXAMPLE_EPOCH = "1796256000"


def test_committed_seeds_example_is_current(seeds_dir, tmp_path, monkeypatch):
    shutil.copytree(seeds_dir, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EXAMPLE_EPOCH)
    result = CliRunner().invoke(app, ["scan", "seeds/", "--out", "examples/seeds"])
    assert result.exit_code == 0, result.output
    fresh = tmp_path / "examples" / "seeds"
    written = sorted(p.name for p in fresh.iterdir())
    assert written == sorted(p.name for p in EXAMPLE.iterdir())
    assert {"report.html", "heatmap.png", "summary.json"} <= set(written)
    for name in written:
        assert (fresh / name).read_bytes() == (EXAMPLE / name).read_bytes(), (
            f"examples/seeds/{name} is stale: write it again (docs/development.md)"
        )


def test_the_report_time_is_source_date_epoch_when_set(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EXAMPLE_EPOCH)
    assert report_time() == datetime(2026, 12, 3, tzinfo=timezone.utc)
    page = (EXAMPLE / "report.html").read_text(encoding="utf-8")
    assert re.findall(r'<time datetime="([^"]+)"', page) == ["2026-12-03T00:00:00Z"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        report_time()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert abs((report_time() - datetime.now(timezone.utc)).total_seconds()) < 60
