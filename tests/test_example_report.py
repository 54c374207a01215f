"""reports/seeds/ is the committed example output of the README's first command: it must be
what the current code writes (apart from the output path recorded in summary.json)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dedup.cli import app

from .conftest import ROOT

EXAMPLE = ROOT / "reports" / "seeds"


def test_committed_seeds_report_is_current(seeds_dir, tmp_path):
    result = CliRunner().invoke(app, ["scan", str(seeds_dir), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in EXAMPLE.iterdir())
    for name in written:
        fresh, committed = (tmp_path / name).read_text(), (EXAMPLE / name).read_text()
        if name == "summary.json":
            fresh_data, committed_data = json.loads(fresh), json.loads(committed)
            fresh_data.pop("out"), committed_data.pop("out")
            assert fresh_data == committed_data
        else:
            assert fresh == committed, f"reports/seeds/{name} is stale: run `dedup scan seeds/`"
