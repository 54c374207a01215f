"""The dedup command line, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dedup.cli import app

runner = CliRunner()


def test_scan_writes_the_report_and_exits_0(seeds_dir, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["scan", str(seeds_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in (
        "documents.jsonl",
        "matrix.csv",
        "pairs.csv",
        "passages.jsonl",
        "clusters.json",
        "summary.json",
    ):
        assert (out / name).is_file(), name
    assert "Read 5 documents" in result.stdout
    assert f"Wrote {out}/" in result.stdout
    assert "shares text: 6" in result.stdout


def test_scan_json_summary(seeds_dir, tmp_path):
    result = runner.invoke(app, ["scan", str(seeds_dir), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["documents"] == 5 and data["skipped"] == 0
    assert data["relations"]["shares_text"] == 6
    assert data["parameters"]["shingle_size"] == 5


def test_skipped_inputs_exit_3_with_reasons(seeds_copy, tmp_path):
    (seeds_copy / "broken.jsonl").write_text('{"text": "fine text here", "id": "ok"}\n{not json\n')
    (seeds_copy / "empty.txt").write_text("")
    result = runner.invoke(app, ["scan", str(seeds_copy), "--out", str(tmp_path)])
    assert result.exit_code == 3
    assert "skipped: broken.jsonl:2: malformed JSON" in result.stderr
    assert "skipped: empty.txt: empty file" in result.stderr
    assert "Skipped 2 inputs" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["documents"] == 6 and summary["skipped"] == 2


def test_invalid_option_is_a_usage_error(seeds_dir, tmp_path):
    result = runner.invoke(app, ["scan", str(seeds_dir), "--out", str(tmp_path), "--num-perm", "3"])
    assert result.exit_code == 2
    assert "Error: --num-perm must be between 16 and 1024, got 3" in result.stderr


def test_a_bad_value_is_named_by_its_option(seeds_dir, tmp_path):
    args = ["scan", str(seeds_dir), "--out", str(tmp_path), "--threshold", "1.5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == "Error: --threshold must be in (0, 1], got 1.5 (try 0.3)\n"


def test_version_is_printed():
    import dedup

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"dedup {dedup.__version__}\n"


HELPS = [
    [],
    ["scan"],
    ["eval"],
    *(["gate", c] for c in ("add", "check", "get", "remove", "stats", "serve")),
]


@pytest.mark.parametrize("command", HELPS, ids=lambda c: " ".join(c) or "dedup")
def test_help_gives_flags_no_type_label(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout and "-h, --help" in result.stdout


def test_scan_help_shows_every_default():
    lines = " ".join(runner.invoke(app, ["scan", "--help"]).stdout.split())
    for option, default in [
        ("--shingle-size <int>", "[default: 5]"),
        ("--num-perm <int>", "[default: 128]"),
        ("--threshold <float>", "[default: 0.3]"),
        ("--min-passage-words <int>", "[default: 12]"),
        ("--duplicate-coverage <float>", "[default: 0.8]"),
        ("--matrix-limit <int>", "[default: 5000]"),
        ("--report-max-pairs <int>", "[default: 200]"),
    ]:
        after = lines.split(option, 1)[1]
        assert default in after.split(" --", 1)[0], option


def test_help_imports_none_of_the_scan_s_libraries():
    code = (
        "import sys\n"
        "from dedup.cli import main\n"
        "sys.argv = ['dedup', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('numpy', 'sklearn', 'numba', 'datasketch', 'rich', 'fastapi', 'pyspark')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_one_document_is_said_in_the_singular(seeds_dir, tmp_path):
    one = seeds_dir / sorted(p.name for p in seeds_dir.iterdir())[0]
    result = runner.invoke(app, ["scan", str(one), "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Read 1 document from {one} (0 skipped, 0 other files")


STAGES = ["load", "clean", "features_minhash", "lsh", "tfidf", "candidates", "score_align"]


def test_verbose_logs_each_stage_with_its_time_and_counts(seeds_dir, tmp_path):
    import re

    result = runner.invoke(app, ["scan", str(seeds_dir), "--out", str(tmp_path), "-v"])
    assert result.exit_code == 0
    logged = re.findall(r"dedup\.stages: (\w+) +(\d+\.\d\d) s  (.+)", result.stderr)
    assert [stage for stage, _, _ in logged] == [*STAGES, "cluster", "write"]
    said = {stage: detail for stage, _, detail in logged}
    assert said["load"] == "5 documents read, 0 skipped"
    assert said["candidates"] == "8 candidate pairs"
    assert re.fullmatch(r"\d+ pairs related, \d+ passages", said["score_align"])
    assert said["write"] == f"8 files in {tmp_path}"
    assert result.stdout.startswith("Read 5 documents")


def test_quiet_prints_nothing_and_writes_the_files(seeds_copy, tmp_path):
    (seeds_copy / "broken.json").write_text("{not json", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["scan", str(seeds_copy), "--out", str(out), "-q"])
    assert result.exit_code == 3  # a skipped input, said by the exit code only
    assert result.stdout == "" and result.stderr == ""
    assert (out / "pairs.csv").is_file() and (out / "report.html").is_file()
    both = runner.invoke(app, ["scan", str(seeds_copy), "--out", str(out), "-q", "-v"])
    assert both.exit_code == 2


def test_nothing_readable_is_an_error_without_traceback(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_bytes(b"\x00\x01\x02binary")
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: no documents could be read")
    assert "skipped: x.txt: binary file (NUL bytes), not text" in result.stderr
    assert "Traceback" not in result.output


def test_default_input_and_output(seeds_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").symlink_to(seeds_dir)
    result = runner.invoke(app, ["scan"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "seeds" / "pairs.csv").is_file()


@pytest.mark.slow
def test_console_script_runs_as_a_subprocess(seeds_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "scan", str(seeds_dir), "--out", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] == 5
    assert done.stderr == ""  # no progress bar when stderr is not a terminal


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "scan" in result.stdout


def test_scan_help_names_the_engines():
    result = runner.invoke(app, ["scan", "--help"])
    assert result.exit_code == 0
    assert "--engine" in result.stdout and "--spark-master" in result.stdout
    assert "local|spark" in result.stdout


def test_spark_master_needs_the_spark_engine(seeds_dir, tmp_path):
    args = ["scan", str(seeds_dir), "--out", str(tmp_path), "--spark-master", "local[2]"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --spark-master local[2] needs --engine spark (the local engine runs here)\n"
    )
    assert not any(tmp_path.iterdir())


def test_uris_need_the_spark_engine(seeds_dir, tmp_path):
    result = runner.invoke(app, ["scan", seeds_dir.as_uri(), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {seeds_dir.as_uri()} is a URI: only --engine spark reads and writes URIs; "
        "give a local path, or add --engine spark\n"
    )
    result = runner.invoke(app, ["scan", str(seeds_dir), "--out", "s3a://bucket/reports"])
    assert result.exit_code == 2
    assert "s3a://bucket/reports is a URI" in result.stderr


def test_unknown_engine_is_a_usage_error(seeds_dir, tmp_path):
    result = runner.invoke(
        app, ["scan", str(seeds_dir), "--out", str(tmp_path), "--engine", "dask"]
    )
    assert result.exit_code == 2
    message = " ".join(result.stderr.replace("│", " ").split())  # rich wraps it in a box
    assert "Invalid value for '--engine'" in message
    assert "'dask' is not one of 'local', 'spark'" in message


def test_spark_master_is_checked_before_spark_starts(seeds_dir, tmp_path):
    args = ["scan", str(seeds_dir), "--out", str(tmp_path), "--engine", "spark"]
    result = runner.invoke(app, [*args, "--spark-master", "localhost:7077"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --spark-master: 'localhost:7077' is not a Spark master: give local[N], "
        "spark://host:7077, k8s://https://host:443 or yarn\n"
    )
    assert not any(tmp_path.iterdir())


def test_unwritable_output_is_one_line_and_exit_1(seeds_dir, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should go")
    result = runner.invoke(app, ["scan", str(seeds_dir), "--out", str(blocker / "report")])
    assert result.exit_code == 1
    assert f"Error: cannot write the report to {blocker / 'report'}" in result.output
    assert "Traceback" not in result.output
