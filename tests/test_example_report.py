"""reports/seeds/ is the committed example output of the README's first command: it must be
what the current code writes (apart from the output path recorded in summary.json and the
generation time in report.html)."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from dedup.cli import app

from .support import ROOT

EXAMPLE = ROOT / "reports" / "seeds"


def comparable(name: str, content: bytes) -> object:
    """The part of an output file that must not change between two scans of seeds/."""
    if name.endswith(".png"):
        return content
    text = content.decode("utf-8")
    if name == "summary.json":
        data = json.loads(text)
        data.pop("out")
        return data
    if name == "report.html":
        (stamp,) = re.findall(r"<time[^>]*>[^<]*</time>", text)
        return text.replace(stamp, "<time></time>")
    return text


def test_committed_seeds_report_is_current(seeds_dir, tmp_path):
    result = CliRunner().invoke(app, ["scan", str(seeds_dir), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in EXAMPLE.iterdir())
    assert {"report.html", "heatmap.png"} <= set(written)
    for name in written:
        fresh = comparable(name, (tmp_path / name).read_bytes())
        committed = comparable(name, (EXAMPLE / name).read_bytes())
        assert fresh == committed, f"reports/seeds/{name} is stale: run `dedup scan seeds/`"
