"""The Spark engine (``dedup.spark``) on ``local[2]``: the same pairs, passages, groups and
files as the local engine, its inputs and outputs by URI and Parquet, and clear errors when
pyspark or Java is missing.

Needs pyspark (``pip install 'dedup[spark]'``) and Java 17; without them the tests fail with
the engine's own message, they do not skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup import scan, write_report
from dedup.cli import app
from dedup.errors import ConfigError
from dedup.models import ScanResult
from dedup.scan.spark import (
    PYSPARK_MISSING,
    check_java,
    run_spark_scan,
    scan_spark,
    spark_session,
)

from .support import ROOT, rerun_articles

# Every test here needs pyspark and Java 17 (they start Spark, or check its errors).
pytestmark = pytest.mark.spark

REUTERS_STORIES = 300
# Titles of Reuters stories that re-run each other often (dividends, stakes, oil, trade,
# banks): 300 of them share text in about a hundred pairs.
REUTERS_TOPICS = ("OIL", "TRADE", "DIVIDEND", "STAKE", "BANK")
OUTPUT_FILES = ("documents.jsonl", "matrix.csv", "pairs.csv", "passages.jsonl", "clusters.json")


@pytest.fixture(scope="module")
def spark():
    """One local[2] session for the module, with small shuffles and no UI."""
    try:
        session = spark_session(
            "local[2]",
            {
                "spark.sql.shuffle.partitions": "4",
                "spark.default.parallelism": "2",
                "spark.ui.enabled": "false",
                "spark.driver.memory": "1g",
            },
        )
    except ConfigError as exc:
        pytest.fail(f"the Spark tests need pyspark and Java 17: {exc}")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _reuters_module():
    spec = importlib.util.spec_from_file_location("reuters", ROOT / "benchmarks" / "reuters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reuters_stories() -> list[dict]:
    """300 Reuters-21578 stories on topics that re-run each other, or [] without the data."""
    reuters = _reuters_module()
    data = Path(os.environ.get("DEDUP_REUTERS", reuters.DEFAULT_DATA))
    if not any(data.glob("reut2-*.sgm")):
        return []
    picked = []
    for story in reuters.stories(data):
        if any(topic in (story["title"] or "") for topic in REUTERS_TOPICS):
            picked.append(story)
            if len(picked) == REUTERS_STORIES:
                break
    return picked


@pytest.fixture(scope="module")
def reuters_jsonl(tmp_path_factory) -> Path:
    """300 Reuters-21578 stories as JSONL, read from the research data (``$DEDUP_REUTERS`` or
    ../shared/data/reuters21578; never copied into the repository). Where the data is not
    there (a CI machine), 300 re-runs of the seeds' paragraphs stand in: the tests compare the
    engines on whatever corpus they get, and both corpora share text in many pairs."""
    picked = _reuters_stories() or rerun_articles(REUTERS_STORIES)
    path = tmp_path_factory.mktemp("reuters") / "reuters.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in picked), encoding="utf-8")
    return path


def pair_set(result: ScanResult) -> set:
    return {(p.a, p.b, p.relation) for p in result.pairs}


def passage_set(result: ScanResult) -> set:
    return {(p.a, p.a_start, p.a_end, p.b, p.b_start, p.b_end) for p in result.passages}


def group_sets(result: ScanResult) -> dict:
    return {
        "duplicates": {tuple(g["members"]) for g in result.duplicates},
        "provenance": {(tuple(g["members"]), g["agency"]) for g in result.provenance},
        "stories": {tuple(g["members"]) for g in result.stories},
    }


def assert_same_scan(spark_result: ScanResult, local: ScanResult) -> None:
    """Same pairs, passages and groups (order aside), documents, scores and statistics."""
    assert pair_set(spark_result) == pair_set(local)
    assert passage_set(spark_result) == passage_set(local)
    assert group_sets(spark_result) == group_sets(local)
    assert [d.to_record() for d in spark_result.documents] == [
        d.to_record() for d in local.documents
    ]
    scores = {(p.a, p.b): p for p in local.pairs}
    for pair in spark_result.pairs:
        other = scores[(pair.a, pair.b)]
        for name in ("cosine", "jaccard", "jaccard_estimate", "containment_a", "coverage_b"):
            assert round(getattr(pair, name), 4) == round(getattr(other, name), 4), name
    assert spark_result.candidates == local.candidates
    assert spark_result.skipped == local.skipped
    assert spark_result.ignored == local.ignored


def test_seeds_same_files_as_local(spark, seeds_dir, seeds_scan, tmp_path):
    result = scan_spark([seeds_dir], spark=spark)
    assert_same_scan(result, seeds_scan)
    assert result.duplicates == seeds_scan.duplicates
    assert result.provenance == seeds_scan.provenance
    spark_out, local_out = tmp_path / "spark", tmp_path / "local"
    write_report(result, spark_out)
    write_report(scan([seeds_dir]), local_out)
    for name in OUTPUT_FILES:
        assert (spark_out / name).read_bytes() == (local_out / name).read_bytes(), name


def test_reuters_same_as_local(spark, reuters_jsonl):
    local = scan([reuters_jsonl])
    assert len(local.pairs) > 50 and local.duplicates and local.provenance  # a real test
    assert any(d.removed for d in local.documents)  # repeated lines are removed
    result = scan_spark([reuters_jsonl], spark=spark, partitions=3)
    assert_same_scan(result, local)
    assert [p.cosine for p in result.pairs] == [p.cosine for p in local.pairs]  # bit-identical


def test_cosines_when_every_row_is_sorted(spark, tmp_path):
    # Words in alphabetical order: every TF-IDF row has sorted columns, and scipy then sums
    # the products of a pair in another order (a merge): the cosines still match.
    folder = tmp_path / "sorted"
    folder.mkdir()
    for name, text in [("a", "Apples beat cherries daily."), ("b", "Apples beat cherries daily.")]:
        (folder / f"{name}.txt").write_text(text + "\n")
    (folder / "c.txt").write_text("Apples beat cherries.\n")
    local = scan([folder])
    assert local.pairs
    result = scan_spark([folder], spark=spark)
    assert [(p.a, p.b, p.cosine) for p in result.pairs] == [
        (p.a, p.b, p.cosine) for p in local.pairs
    ]


def test_uri_input_and_output_with_bad_inputs(spark, seeds_copy, tmp_path):
    # Bad input is skipped as locally; lines repeated in three documents of one source are
    # boilerplate; a later document with an id already read is skipped.
    chrome = "Sign up for our newsletter to get the best of our reporting every morning today."
    records = [
        {"id": str(k), "source": "Daily", "text": f"{chrome}\n\nStory number {k} is here.\n"}
        for k in range(4)
    ]
    feed = seeds_copy / "feeds" / "daily.jsonl"
    feed.parent.mkdir()
    bad_lines = ["{not json", '{"id": "x"}', '{"id": "1", "text": "A second record 1."}']
    feed.write_text(
        "".join(json.dumps(r) + "\n" for r in records) + "\n".join(bad_lines) + "\n",
        encoding="utf-8",
    )
    (seeds_copy / "feeds" / "empty.txt").write_bytes(b"")
    (seeds_copy / "feeds" / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (seeds_copy / "feeds" / "photo.png").write_bytes(b"\x89PNG")
    local = scan([seeds_copy])
    assert len(local.skipped) == 5 and local.ignored == 1
    assert "duplicate-id" in {s.kind for s in local.skipped}
    assert any(d.removed for d in local.documents if d.source == "Daily")
    out = tmp_path / "out"
    result, summary = run_spark_scan(
        [seeds_copy.as_uri()], out=out.as_uri(), partitions=2, report_max_pairs=20
    )
    assert_same_scan(result, local)
    assert summary["out"] == out.as_uri()
    assert sorted(p.name for p in out.iterdir()) == sorted(summary["files"])
    written = [json.loads(line) for line in (out / "documents.jsonl").read_text().splitlines()]
    assert [d["id"] for d in written] == [d.id for d in local.documents]


def test_parquet_input(spark, reuters_jsonl, tmp_path):
    rows = [json.loads(line) for line in reuters_jsonl.read_text().splitlines()[:60]]
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    parquet = tmp_path / "stories.parquet"
    spark.createDataFrame(
        [*rows, {"id": "no-text", "title": "x", "date": "", "text": None}]
    ).coalesce(1).write.parquet(str(parquet))
    local = scan([subset])
    assert local.pairs
    result = scan_spark([parquet], spark=spark)
    rename = {f"subset.jsonl#{r['id']}": f"stories.parquet#{r['id']}" for r in rows}
    assert pair_set(result) == {(rename[a], rename[b], rel) for a, b, rel in pair_set(local)}
    assert [s.reason for s in result.skipped] == ["record has no 'text' field"]


def test_missing_pyspark_names_the_extra(monkeypatch, seeds_dir):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ConfigError) as caught:
        scan_spark([seeds_dir])
    assert (
        str(caught.value)
        == PYSPARK_MISSING
        == ("the Spark engine needs pyspark: pip install 'dedup[spark]'")
    )


# --- the command line --------------------------------------------------------------------------

runner = CliRunner()


def _dedup(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``dedup ARGS`` in a new process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def _sorted_lines(path: Path) -> list[str]:
    return sorted(path.read_text(encoding="utf-8").splitlines())


def test_cli_spark_engine_writes_what_the_local_engine_writes(seeds_dir, tmp_path):
    # Inputs and output as file:// URIs: the CLI hands them to Spark as they are.
    out = tmp_path / "spark"
    done = _dedup(
        "scan",
        seeds_dir.as_uri(),
        "--engine",
        "spark",
        "--spark-master",
        "local[2]",
        "--out",
        out.as_uri(),
    )
    assert done.returncode == 0, done.stderr
    local = runner.invoke(app, ["scan", str(seeds_dir), "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    assert "Traceback" not in done.stderr
    # The same summary, but for the input and output names.
    assert done.stdout.splitlines()[1:-1] == local.stdout.splitlines()[1:-1]
    assert done.stdout.startswith(f"Read 5 documents from {seeds_dir.as_uri()} (0 skipped")
    assert f"Wrote {out.as_uri()}/: documents.jsonl, matrix.csv, pairs.csv" in done.stdout
    for name in ("pairs.csv", "passages.jsonl", "documents.jsonl", "matrix.csv"):
        assert _sorted_lines(out / name) == _sorted_lines(tmp_path / "local" / name), name
    spark_clusters = json.loads((out / "clusters.json").read_text())
    assert spark_clusters == json.loads((tmp_path / "local" / "clusters.json").read_text())
    assert json.loads((out / "summary.json").read_text())["out"] == out.as_uri()


def test_cli_spark_engine_skips_inputs_as_the_local_engine(spark, seeds_copy, tmp_path):
    # In this process the command reuses the tests' running session and leaves it running.
    (seeds_copy / "broken.jsonl").write_text('{"text": "fine text here", "id": "ok"}\n{not json\n')
    (seeds_copy / "empty.txt").write_text("")
    local = runner.invoke(app, ["scan", str(seeds_copy), "--out", str(tmp_path / "local")])
    args = ["scan", str(seeds_copy), "--out", str(tmp_path / "spark"), "--engine", "spark"]
    result = runner.invoke(app, args)
    assert result.exit_code == local.exit_code == 3
    assert "skipped: broken.jsonl:2: malformed JSON" in result.stderr
    assert "skipped: empty.txt: empty file" in result.stderr
    assert result.stdout.splitlines()[:-1] == local.stdout.splitlines()[:-1]
    assert "Skipped 2 inputs" in result.stdout
    assert _sorted_lines(tmp_path / "spark" / "pairs.csv") == _sorted_lines(
        tmp_path / "local" / "pairs.csv"
    )
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert data["documents"] == 6 and data["skipped"] == 2
    assert spark.sparkContext._jsc is not None  # the tests' session is still running


def test_cli_spark_engine_nothing_readable_is_an_error(spark, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_bytes(b"\x00\x01\x02binary")
    result = runner.invoke(
        app, ["scan", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--engine", "spark"]
    )
    assert result.exit_code == 1
    assert "skipped: x.txt: binary file (NUL bytes), not text" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: no documents could be read from {tmp_path / 'in'} (1 skipped)"
    )
    assert not (tmp_path / "out").exists()


def test_cli_without_pyspark_says_which_extra(seeds_dir, tmp_path):
    # pyspark hidden from the import system, as on a machine without the extra.
    code = (
        "import sys; sys.modules['pyspark'] = None; from dedup.cli import main; "
        f"sys.argv = ['dedup', 'scan', {str(seeds_dir)!r}, '--engine', 'spark', "
        f"'--out', {str(tmp_path / 'out')!r}]; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr == "Error: the Spark engine needs pyspark: pip install 'dedup[spark]'\n"
    assert done.stdout == ""
    assert not (tmp_path / "out").exists()


def test_cli_without_java_says_so(seeds_dir, tmp_path):
    done = _dedup(
        "scan",
        str(seeds_dir),
        "--engine",
        "spark",
        "--out",
        str(tmp_path / "out"),
        env={"JAVA_HOME": str(tmp_path)},
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: the Spark engine needs Java 17 or newer, but JAVA_HOME is {str(tmp_path)!r} "
        f"and {tmp_path / 'bin' / 'java'} does not exist: point JAVA_HOME at a Java "
        "installation, or unset it to use java on PATH"
    ]


def test_java_home_without_java(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match=r"JAVA_HOME is .* does not exist"):
        check_java(17)


def test_no_java_at_all(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        check_java(17)
    assert "needs Java 17 or newer, and none was found" in str(caught.value)
    assert "openjdk-17-jre-headless" in str(caught.value)


def test_old_java(monkeypatch, tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.21\" 2023-10-17' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match=r"needs Java 17 or newer, but .*java is Java 11"):
        check_java(17)
    java.write_text("#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n")
    assert check_java(8) == 8


def test_installed_java_is_suitable():
    assert check_java(17) >= 17  # else a ConfigError says what is missing


def test_a_folder_of_several_languages_as_the_local_engine(spark, tmp_path):
    from .test_scripts import FR_WIRE, JA_COPY, JA_WIRE, ZH_RERUN, ZH_WIRE

    folder = tmp_path / "in"
    folder.mkdir()
    texts = {"zh_wire": ZH_WIRE, "zh_copy": ZH_RERUN, "ja_wire": JA_WIRE, "ja_copy": JA_COPY}
    texts["fr_wire"] = FR_WIRE
    texts["en_story"] = (
        "The French government on Monday presented a plan for farmers hit by the drought."
    )
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    result = scan_spark([folder], spark=spark)
    assert_same_scan(result, scan([folder]))
    linked = {
        frozenset(Path(x).name.split("_")[0] for x in (p.a, p.b))
        for p in result.pairs
        if p.relation != "none"
    }
    assert linked == {frozenset({"zh"}), frozenset({"ja"})}
    assert {d.language for d in result.documents} == {"zh", "ja", "fr", "en"}
