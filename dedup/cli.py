"""The ``dedup`` command line: a thin Typer layer over the library.

Exit codes (documented in the README):
    0  every input was read and the outputs were written
    1  error: nothing could be done (no readable document, unwritable output, ...)
    2  usage error (bad option or value)
    3  finished, outputs written, but some inputs were skipped (see the summary)
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .config import ScanConfig
from .errors import ConfigError, DedupError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3

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


def _print_summary(data: dict[str, Any], inputs: list[Path]) -> None:
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


@app.command()
def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Folders (walked recursively) and files to scan. Default: seeds/."),
    ] = None,
    *,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Output folder. Default: reports/<name of the first input>/."
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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage.")] = False,
) -> None:
    """Scan articles for near-duplicates and shared wire copy; write the report files."""
    from .pipeline import scan as run_scan
    from .report import summary, write_report

    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    inputs = paths or [Path("seeds")]
    config = _config(
        max_file_bytes=max_bytes,
        shingle_size=shingle_size,
        num_perm=num_perm,
        lsh_threshold=threshold,
        min_passage_words=min_passage_words,
        duplicate_coverage=duplicate_coverage,
        matrix_limit=matrix_limit,
    )
    first = inputs[0]
    name = (first.resolve().name if first.is_dir() else first.resolve().stem) or "scan"
    out_dir = out or Path("reports") / name
    try:
        with _StageProgress() as progress:
            result = run_scan(inputs, config, progress=progress)
        for skip in result.skipped:
            _err(f"skipped: {skip}")
        try:
            data = write_report(result, out_dir)
        except OSError as exc:
            raise _fail(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
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


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        _err("Interrupted")
        sys.exit(130)
