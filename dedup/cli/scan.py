"""``dedup scan``: scan files for near-duplicates and shared wire copy, write the report."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer

from ..config import ScanConfig
from ..errors import ConfigError, DedupError
from ..util.progress import record_stage
from ..util.wording import counted
from .common import EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, StageProgress, err, fail


class Engine(str, Enum):
    """Where ``dedup scan`` runs."""

    local = "local"
    spark = "spark"


PathsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Folders (walked recursively) and files to scan. With --engine spark also "
        "URIs (hdfs://, s3a://, file://) and Parquet datasets. Default: seeds/.",
        show_default=False,
    ),
]
OutOption = Annotated[
    str | None,
    typer.Option(
        "--out",
        "-o",
        help="Output folder (with --engine spark also a URI). "
        "Default: reports/<name of the first input>/.",
    ),
]
EngineOption = Annotated[
    Engine,
    typer.Option(
        help="local: in this process. spark: as Spark jobs (needs the 'spark' extra and Java 17)."
    ),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        help="With --engine spark: the master URL (local[4], spark://host:7077, yarn, ...). "
        "Default: Spark's own configuration (spark-defaults.conf, SPARK_* environment)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]
_DEFAULTS = ScanConfig()


def _help(field: str, text: str) -> str:
    """The help of an option setting ScanConfig's ``field``, with its default (ScanConfig's;
    the option's own default, None, means "ScanConfig's")."""
    return f"{text}  [default: {getattr(_DEFAULTS, field)}]"


MaxBytesOption = Annotated[
    int | None,
    typer.Option(
        help=_help("max_file_bytes", "Skip files (and JSONL lines, WARC records) larger than this.")
    ),
]
ShingleSizeOption = Annotated[
    int | None,
    typer.Option(help=_help("shingle_size", "Words per shingle (Jaccard, containment).")),
]
NumPermOption = Annotated[int | None, typer.Option(help=_help("num_perm", "MinHash permutations."))]
ThresholdOption = Annotated[
    float | None,
    typer.Option(
        help=_help("lsh_threshold", "LSH Jaccard threshold for candidate sentence windows.")
    ),
]
MinPassageWordsOption = Annotated[
    int | None,
    typer.Option(
        help=_help("min_passage_words", "Shortest shared passage that counts as reuse, in words.")
    ),
]
DuplicateCoverageOption = Annotated[
    float | None,
    typer.Option(
        help=_help("duplicate_coverage", "Share of both texts passages must cover for 'duplicate'.")
    ),
]
MatrixLimitOption = Annotated[
    int | None,
    typer.Option(help=_help("matrix_limit", "Largest corpus for which matrix.csv is written.")),
]
ReportMaxPairsOption = Annotated[
    int, typer.Option(help="Most pairs (and groups) shown in report.html; bounds its size.")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        help=_help(
            "workers",
            "Processes for the local engine (0: one per CPU core); the results do not "
            "depend on it.",
        )
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Log each stage on stderr, with its time and counts."),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing but errors (the files are written).")
]

# The options that set a parameter of the scan: option name -> ScanConfig field.
CONFIG_OPTIONS = {
    "max_bytes": "max_file_bytes",
    "shingle_size": "shingle_size",
    "num_perm": "num_perm",
    "threshold": "lsh_threshold",
    "min_passage_words": "min_passage_words",
    "duplicate_coverage": "duplicate_coverage",
    "matrix_limit": "matrix_limit",
    "workers": "workers",
}


def scan(
    paths: PathsArgument = None,
    *,
    out: OutOption = None,
    engine: EngineOption = Engine.local,
    spark_master: SparkMasterOption = None,
    as_json: JsonOption = False,
    max_bytes: MaxBytesOption = None,
    shingle_size: ShingleSizeOption = None,
    num_perm: NumPermOption = None,
    threshold: ThresholdOption = None,
    min_passage_words: MinPassageWordsOption = None,
    duplicate_coverage: DuplicateCoverageOption = None,
    matrix_limit: MatrixLimitOption = None,
    report_max_pairs: ReportMaxPairsOption = 200,
    workers: WorkersOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Scan articles for near-duplicates and shared wire copy; write the report files."""
    options = dict(locals())  # the options by name, for CONFIG_OPTIONS
    from ..output.files import summary

    _logging(verbose, quiet)
    inputs = _checked_inputs(paths or ["seeds"], engine, out, spark_master)
    config = _config(**{field: options[name] for name, field in CONFIG_OPTIONS.items()})
    out_dir = out or str(_default_out(str(inputs[0])))
    try:
        if engine is Engine.spark:
            result, data = _scan_spark(
                inputs, config, out_dir, spark_master, report_max_pairs, quiet
            )
        else:
            result, data = _scan_local(inputs, config, out_dir, report_max_pairs, quiet)
    except DedupError as exc:
        for skip in getattr(exc, "skipped", []):
            err(f"skipped: {skip}")
        raise fail(str(exc)) from None  # a problem met while running: 1, usage or not
    for skip in [] if quiet else result.skipped:
        err(f"skipped: {skip}")
    if as_json:
        data = summary(result, out_dir, data["files"])
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif not quiet:
        _print_summary(data, inputs)
    raise typer.Exit(code=EXIT_SKIPPED if result.skipped else EXIT_OK)


def _logging(verbose: bool, quiet: bool) -> None:
    """dedup's log lines on stderr: each stage with its time and counts, and warnings
    (``-v``), or errors only (what the CLI says itself covers the warnings: a skipped
    input's ``skipped:`` line); other libraries' only when they are errors."""
    if verbose and quiet:
        raise fail("--verbose and --quiet cannot be given together", EXIT_USAGE)
    logging.basicConfig(
        level=logging.ERROR,
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,  # again at each call: a test runs many commands in one process
    )
    logging.getLogger("dedup").setLevel(logging.INFO if verbose else logging.ERROR)


def _checked_inputs(
    inputs: list[str], engine: Engine, out: str | None, spark_master: str | None
) -> list[Any]:
    """The inputs as the engine takes them (local paths, or URIs for Spark); usage errors
    of the engine's options as exit code 2."""
    if engine is Engine.local:
        _check_local(inputs, out, spark_master)
        return [Path(p) for p in inputs]
    if spark_master is not None:
        from ..scan.spark import check_master

        try:
            check_master(spark_master)
        except ConfigError as exc:
            raise fail(f"--spark-master: {exc}", EXIT_USAGE) from None
    return list(inputs)


def _config(**values: Any) -> ScanConfig:
    """The scan's parameters; a bad one named by its option (``--threshold``, not
    ``lsh_threshold``)."""
    try:
        return ScanConfig(**{k: v for k, v in values.items() if v is not None})
    except ConfigError as exc:
        message = str(exc)
        for option, field in CONFIG_OPTIONS.items():
            flag = "--" + option.replace("_", "-")
            message = re.sub(rf"(?<![\w-]){field}(?![\w-])", flag, message)
        raise fail(message, EXIT_USAGE) from None


def _print_summary(data: dict[str, Any], inputs: list[Any]) -> None:
    relations = data["relations"]
    lines = [
        f"Read {counted(data['documents'], 'document')} from {', '.join(map(str, inputs))}"
        f" ({data['skipped']} skipped, {counted(data['ignored_files'], 'other file')} ignored)",
        f"Candidate pairs: {data['candidate_pairs']}  duplicate: {relations['duplicate']}"
        f"  shares text: {relations['shares_text']}"
        f"  shares quotes: {relations.get('shares_quote', 0)}  none: {relations['none']}",
        f"Shared passages: {data['passages']}  duplicate groups: {data['duplicate_groups']}",
    ]
    if not data["matrix"]:
        lines.append(
            "matrix.csv not written: corpus above --matrix-limit (pairs.csv is the sparse form)"
        )
    if data["skipped"]:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(data["skipped_by_kind"].items()))
        lines.append(
            f"Skipped {counted(data['skipped'], 'input')}: {kinds}"
            " (reasons above and in summary.json)"
        )
    lines.append(f"Wrote {data['out']}/: {', '.join(data['files'])}")
    typer.echo("\n".join(lines))


def _default_out(first: str) -> Path:
    """``reports/<name of the first input>``: a folder's name, a file's without its suffix."""
    from urllib.parse import urlsplit

    from ..text.load import is_uri

    if is_uri(first):
        remote = PurePosixPath(urlsplit(first).path.rstrip("/"))
        name = remote.stem if remote.suffix else remote.name
    else:
        local = Path(first).resolve()
        name = local.name if local.is_dir() else local.stem
    return Path("reports") / (name or "scan")


def _check_local(inputs: list[str], out: str | None, spark_master: str | None) -> None:
    """Usage errors of the local engine: Spark's options and URIs."""
    from ..text.load import is_uri

    if spark_master is not None:
        raise fail(
            f"--spark-master {spark_master} needs --engine spark (the local engine runs here)",
            EXIT_USAGE,
        )
    for given in [*inputs, *([out] if out else [])]:
        if is_uri(given):
            raise fail(
                f"{given} is a URI: only --engine spark reads and writes URIs; "
                "give a local path, or add --engine spark",
                EXIT_USAGE,
            )


@contextmanager
def _writing(out_dir: str) -> Iterator[None]:
    """An OSError while the report files are written as one line naming the folder."""
    try:
        yield
    except OSError as exc:
        raise fail(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None


def _scan_local(
    inputs: list[Path], config: ScanConfig, out_dir: str, report_max_pairs: int, quiet: bool
) -> tuple[Any, dict[str, Any]]:
    from ..output.files import write_report
    from ..scan.local import scan as run_scan

    with StageProgress(shown=not quiet) as progress:
        result = run_scan(inputs, config, progress=progress)
    clock = time.perf_counter()
    with _writing(out_dir):
        data = write_report(result, out_dir, report_max_pairs=report_max_pairs)
    written = f"{counted(len(data['files']), 'file')} in {out_dir}"
    record_stage({}, "write", time.perf_counter() - clock, lambda: written)
    return result, data


def _scan_spark(
    inputs: list[str],
    config: ScanConfig,
    out_dir: str,
    master: str | None,
    report_max_pairs: int,
    quiet: bool,
) -> tuple[Any, dict[str, Any]]:
    from ..scan.spark import run_spark_scan

    with _writing(out_dir), StageProgress(shown=not quiet) as progress:
        result, data = run_spark_scan(
            inputs,
            config,
            out=out_dir,
            master=master,
            report_max_pairs=report_max_pairs,
            progress=progress,
        )
    return result, data
