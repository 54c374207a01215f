"""The ``dedup`` command line: a thin Typer layer over the library.

Exit codes (documented in the README):
    0  every input was read and the outputs were written
    1  error: nothing could be done (no readable document, unwritable output, ...)
    2  usage error (bad option or value)
    3  finished, outputs written, but some inputs were skipped (see the summary)
    4  ``dedup gate add|check``: at least one document was a duplicate
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer

from .config import ScanConfig
from .errors import ConfigError, DedupError, InputError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_DUPLICATE = 4

app = typer.Typer(
    name="dedup",
    help="Find near-duplicate and syndicated news articles, and the wire copy they share.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Find near-duplicate and syndicated news articles, and the wire copy they share."""


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    _err(f"Error: {message}")
    return typer.Exit(code=code)


class _StageProgress:
    """A rich progress bar on stderr, silent when stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True)
        self.enabled = console.is_terminal
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=not self.enabled,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _StageProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)


def _config(**values: Any) -> ScanConfig:
    try:
        return ScanConfig(**{k: v for k, v in values.items() if v is not None})
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def _print_summary(data: dict[str, Any], inputs: list[Any]) -> None:
    relations = data["relations"]
    lines = [
        f"Read {data['documents']} documents from {', '.join(map(str, inputs))}"
        f" ({data['skipped']} skipped, {data['ignored_files']} other files ignored)",
        f"Candidate pairs: {data['candidate_pairs']}  duplicate: {relations['duplicate']}"
        f"  shares text: {relations['shares_text']}  none: {relations['none']}",
        f"Shared passages: {data['passages']}  duplicate groups: {data['duplicate_groups']}",
    ]
    if not data["matrix"]:
        lines.append(
            "matrix.csv not written: corpus above --matrix-limit (pairs.csv is the sparse form)"
        )
    if data["skipped"]:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(data["skipped_by_kind"].items()))
        lines.append(
            f"Skipped {data['skipped']} inputs: {kinds} (reasons above and in summary.json)"
        )
    lines.append(f"Wrote {data['out']}/: {', '.join(data['files'])}")
    typer.echo("\n".join(lines))


class Engine(str, Enum):
    """Where ``dedup scan`` runs."""

    local = "local"
    spark = "spark"


def _default_out(first: str) -> Path:
    """``reports/<name of the first input>``: a folder's name, a file's without its suffix."""
    from urllib.parse import urlsplit

    from .scan.spark import is_uri

    if is_uri(first):
        path = PurePosixPath(urlsplit(first).path.rstrip("/"))
        name = path.stem if path.suffix else path.name
    else:
        path = Path(first).resolve()
        name = path.name if path.is_dir() else path.stem
    return Path("reports") / (name or "scan")


@app.command()
def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Folders (walked recursively) and files to scan. With --engine spark also "
            "URIs (hdfs://, s3a://, file://) and Parquet datasets. Default: seeds/.",
            show_default=False,
        ),
    ] = None,
    *,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder (with --engine spark also a URI). "
            "Default: reports/<name of the first input>/.",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: in this process. spark: as Spark jobs (needs the 'spark' extra and "
            "Java 17)."
        ),
    ] = Engine.local,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the master URL (local[4], spark://host:7077, yarn, ...). "
            "Default: Spark's own configuration (spark-defaults.conf, SPARK_* environment)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    max_bytes: Annotated[
        int | None,
        typer.Option(help="Skip files (and JSONL lines, WARC records) larger than this."),
    ] = None,
    shingle_size: Annotated[
        int | None, typer.Option(help="Words per shingle (Jaccard, containment).")
    ] = None,
    num_perm: Annotated[int | None, typer.Option(help="MinHash permutations.")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="LSH Jaccard threshold for candidate sentence windows.")
    ] = None,
    min_passage_words: Annotated[
        int | None, typer.Option(help="Shortest shared passage that counts as reuse, in words.")
    ] = None,
    duplicate_coverage: Annotated[
        float | None, typer.Option(help="Share of both texts passages must cover for 'duplicate'.")
    ] = None,
    matrix_limit: Annotated[
        int | None, typer.Option(help="Largest corpus for which matrix.csv is written.")
    ] = None,
    report_max_pairs: Annotated[
        int, typer.Option(help="Most pairs (and groups) shown in report.html; bounds its size.")
    ] = 200,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes for the local engine (0: one per CPU core); the results do not "
            "depend on it."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage.")] = False,
) -> None:
    """Scan articles for near-duplicates and shared wire copy; write the report files."""
    from .output.files import summary

    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    inputs: list[Any] = paths or ["seeds"]
    if engine is Engine.local:
        _check_local(inputs, out, spark_master)
        inputs = [Path(p) for p in inputs]
    elif spark_master is not None:
        from .scan.spark import check_master

        try:
            check_master(spark_master)
        except ConfigError as exc:
            raise _fail(f"--spark-master: {exc}", EXIT_USAGE) from None
    config = _config(
        max_file_bytes=max_bytes,
        shingle_size=shingle_size,
        num_perm=num_perm,
        lsh_threshold=threshold,
        min_passage_words=min_passage_words,
        duplicate_coverage=duplicate_coverage,
        matrix_limit=matrix_limit,
        workers=workers,
    )
    out_dir = out or str(_default_out(str(inputs[0])))
    try:
        if engine is Engine.spark:
            result, data = _scan_spark(inputs, config, out_dir, spark_master, report_max_pairs)
        else:
            result, data = _scan_local(inputs, config, out_dir, report_max_pairs)
    except DedupError as exc:
        for skip in getattr(exc, "skipped", []):
            _err(f"skipped: {skip}")
        raise _fail(str(exc)) from None
    if as_json:
        data = summary(result, out_dir, data["files"])
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_summary(data, inputs)
    raise typer.Exit(code=EXIT_SKIPPED if result.skipped else EXIT_OK)


def _check_local(inputs: list[str], out: str | None, spark_master: str | None) -> None:
    """Usage errors of the local engine: Spark's options and URIs."""
    from .scan.spark import is_uri

    if spark_master is not None:
        raise _fail(
            f"--spark-master {spark_master} needs --engine spark (the local engine runs here)",
            EXIT_USAGE,
        )
    for given in [*inputs, *([out] if out else [])]:
        if is_uri(given):
            raise _fail(
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
        raise _fail(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None


def _scan_local(
    inputs: list[Path], config: ScanConfig, out_dir: str, report_max_pairs: int
) -> tuple[Any, dict[str, Any]]:
    from .output.files import write_report
    from .scan.local import scan as run_scan

    with _StageProgress() as progress:
        result = run_scan(inputs, config, progress=progress)
    for skip in result.skipped:
        _err(f"skipped: {skip}")
    with _writing(out_dir):
        data = write_report(result, out_dir, report_max_pairs=report_max_pairs)
    return result, data


def _scan_spark(
    inputs: list[str], config: ScanConfig, out_dir: str, master: str | None, report_max_pairs: int
) -> tuple[Any, dict[str, Any]]:
    from .scan.spark import run_spark_scan

    with _writing(out_dir), _StageProgress() as progress:
        result, data = run_spark_scan(
            inputs,
            config,
            out=out_dir,
            master=master,
            report_max_pairs=report_max_pairs,
            progress=progress,
        )
    for skip in result.skipped:
        _err(f"skipped: {skip}")
    return result, data


@app.command("eval")
def eval_command(
    *,
    meter: Annotated[
        Path, typer.Option(help="METER data set (labels.csv, PA/, newspapers/).")
    ] = Path("../shared/data/meter-dev"),
    ecbplus: Annotated[Path, typer.Option(help="ECB+ docs.jsonl or its folder.")] = Path(
        "../shared/data/ecbplus-dev"
    ),
    tgnews: Annotated[
        Path, typer.Option(help="tgnews pairs (en_train_pool.tsv or its folder).")
    ] = Path("../shared/data/tgnews-pairs"),
    seeds: Annotated[Path, typer.Option(help="The seed corpus (acceptance row).")] = Path("seeds"),
    only: Annotated[
        str | None,
        typer.Option(help="Comma-separated data sets to run: meter,ecbplus,tgnews,seeds."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Measure dedup on labeled data and print a metrics table.

    Exit code 1 when an acceptance row fails, 3 when a data set was not found, 0 otherwise.
    """
    from .evaluation.evaluate import EVALUATIONS, evaluate

    paths = {"meter": meter, "ecbplus": ecbplus, "tgnews": tgnews, "seeds": seeds}
    if only:
        wanted = [name.strip() for name in only.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(EVALUATIONS))
        if unknown:
            raise _fail(f"unknown data set(s) {unknown}; known: {sorted(EVALUATIONS)}", EXIT_USAGE)
        paths = {name: paths[name] for name in wanted}
    try:
        report = evaluate(paths)
    except DedupError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_eval(report)
    for missing in report.missing:
        _err(f"not found: {missing} (give its path with the option of that name)")
    raise typer.Exit(EXIT_ERROR if report.failed else EXIT_SKIPPED if report.missing else EXIT_OK)


def _print_eval(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dedup eval")
    for column in ("data set", "metric", "value", "anchor", "detail"):
        table.add_column(column, justify="right" if column in ("value", "anchor") else "left")
    for row in report.rows:
        value = row.value if isinstance(row.value, str) else f"{row.value:.3f}"
        anchor = "" if row.anchor is None else f"{row.anchor:.3f}"
        table.add_row(row.dataset, row.metric, value, anchor, row.detail)
    Console(width=140).print(table)


gate_app = typer.Typer(
    help="The ingestion gate: a persistent index answering new / duplicate / syndicated.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(gate_app, name="gate")

IndexOption = Annotated[
    str,
    typer.Option(
        "--index",
        "-i",
        envvar="DEDUP_INDEX",
        help="Index: a file path (embedded SQLite) or redis://host:port/db. Env: DEDUP_INDEX.",
    ),
]
MaxCandidatesOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Indexed documents compared in full per document, those sharing most LSH band "
        "keys first (default 50). Fewer answer faster and list fewer of the sources that share "
        "text: 20 took the p99 of a check from 15 to 9 ms at 100k documents (README).",
    ),
]
InputsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Files or folders to read (as `dedup scan`); default: JSONL on stdin."),
]


def _open_gate(index: str, max_candidates: int | None = None) -> Any:
    from .gate import Gate

    try:
        return Gate(index, **_gate_options(max_candidates))
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except DedupError as exc:
        raise _fail(str(exc)) from None


def _gate_options(max_candidates: int | None) -> dict[str, Any]:
    return {} if max_candidates is None else {"max_candidates": max_candidates}


def _gate_inputs(paths: list[Path] | None, max_bytes: int) -> Any:
    """Documents to check: ``(label, record or Document or Skipped)`` from stdin or files."""
    from .text.load import iter_inputs, iter_json_lines

    if not paths or paths == [Path("-")]:
        for number, obj in iter_json_lines(sys.stdin.buffer, "<stdin>", max_bytes):
            yield f"<stdin>:{number}", obj
        return
    for item in iter_inputs(paths, max_file_bytes=max_bytes):
        if getattr(item, "kind", None) == "ignored":
            continue
        yield getattr(item, "id", None) or str(item), item


def _run_gate(
    index: str,
    paths: list[Path] | None,
    *,
    add: bool,
    update: bool,
    max_candidates: int | None = None,
) -> None:
    from .models import Skipped
    from .store import ConflictError

    gate = _open_gate(index, max_candidates)
    duplicates = skipped = 0
    try:
        gate.warm_up()
        gc.freeze()  # as the server: start-up objects out of the collector's full passes
        for label, item in _gate_inputs(paths, gate.config.max_file_bytes):
            if isinstance(item, Skipped):
                skipped += 1
                _err(f"skipped: {item}")
                _emit({"input": label, "verdict": "error", "error": item.reason})
                continue
            try:
                verdict = gate.add(item, update=update) if add else gate.check(item)
            except (InputError, ConflictError) as exc:  # this document only; a store error ends
                skipped += 1
                doc_id = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
                _err(f"skipped: {label}: {exc}")
                _emit({"input": label, "id": doc_id, "verdict": "error", "error": str(exc)})
                continue
            duplicates += verdict["verdict"] == "duplicate"
            _emit(verdict)
    except DedupError as exc:
        raise _fail(str(exc)) from None
    finally:
        gc.unfreeze()
        gate.close()
    raise typer.Exit(EXIT_DUPLICATE if duplicates else EXIT_SKIPPED if skipped else EXIT_OK)


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@gate_app.command("add")
def gate_add(
    paths: InputsArgument = None,
    *,
    index: IndexOption,
    update: Annotated[
        bool, typer.Option(help="Replace a document whose id is indexed with another text.")
    ] = False,
    max_candidates: MaxCandidatesOption = None,
) -> None:
    """Check each document against the index, then add it; one JSONL verdict per document.

    Exit code 4 when a duplicate was found, 3 when an input was skipped, 0 otherwise.
    """
    _run_gate(index, paths, add=True, update=update, max_candidates=max_candidates)


@gate_app.command("check")
def gate_check(
    paths: InputsArgument = None,
    *,
    index: IndexOption,
    max_candidates: MaxCandidatesOption = None,
) -> None:
    """Check each document against the index without adding it (read-only).

    Exit code 4 when a duplicate was found, 3 when an input was skipped, 0 otherwise.
    """
    _run_gate(index, paths, add=False, update=False, max_candidates=max_candidates)


@gate_app.command("remove")
def gate_remove(
    ids: Annotated[list[str], typer.Argument(help="Ids of the documents to remove.")],
    *,
    index: IndexOption,
) -> None:
    """Remove documents; exit code 3 when an id was not in the index."""
    gate = _open_gate(index)
    missing = 0
    try:
        for doc_id in ids:
            removed = gate.remove(doc_id)
            missing += not removed
            _emit({"id": doc_id, "removed": removed})
    except DedupError as exc:
        raise _fail(str(exc)) from None
    finally:
        gate.close()
    raise typer.Exit(EXIT_SKIPPED if missing else EXIT_OK)


@gate_app.command("get")
def gate_get(
    doc_id: Annotated[str, typer.Argument(help="Id of the document.")], *, index: IndexOption
) -> None:
    """Print one indexed document as JSON."""
    gate = _open_gate(index)
    try:
        record = gate.get(doc_id)
    except DedupError as exc:
        raise _fail(str(exc)) from None
    finally:
        gate.close()
    if record is None:
        raise _fail(f"no document {doc_id!r} in the index {index}")
    _emit(record)


@gate_app.command("stats")
def gate_stats(*, index: IndexOption) -> None:
    """Print the number of documents and the index parameters as JSON."""
    gate = _open_gate(index)
    try:
        _emit(gate.stats())
    except DedupError as exc:
        raise _fail(str(exc)) from None
    finally:
        gate.close()


@gate_app.command("serve")
def gate_serve(
    *,
    index: IndexOption,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File holding the bearer token (else env DEDUP_TOKEN).", exists=True),
    ] = None,
    max_candidates: MaxCandidatesOption = None,
) -> None:
    """Serve the gate over HTTP (FastAPI under uvicorn); see /docs for the API."""
    try:
        from .gate.server import run

        run(
            index,
            host=host,
            port=port,
            token_file=token_file,
            gate_options=_gate_options(max_candidates),
        )
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except DedupError as exc:
        raise _fail(str(exc)) from None


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        _err("Interrupted")
        sys.exit(130)
