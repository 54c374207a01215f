"""``dedup gate``: the ingestion gate's commands (add, check, remove, get, stats, serve)."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DedupError, InputError
from .common import EXIT_DUPLICATE, EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, emit, err, fail, failed

gate_app = typer.Typer(
    help="The ingestion gate: a persistent index answering new / duplicate / syndicated.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,  # as the main app's
)

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
        "text (timings: docs/performance.md).",
    ),
]
CreateOption = Annotated[
    bool,
    typer.Option(
        "--create",
        help="Create the index when there is none at --index (its folder must exist). "
        "Without it a missing index is an error, so a mistyped path cannot pass every "
        "article as new.",
    ),
]
InputsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Files or folders to read (as `dedup scan`); default: JSONL on stdin."),
]


def _open_gate(index: str, max_candidates: int | None = None, *, create: bool = False) -> Any:
    from ..gate import Gate

    try:
        return Gate(index, create=create, **_gate_options(max_candidates))
    except DedupError as exc:
        raise failed(exc) from None


def _gate_options(max_candidates: int | None) -> dict[str, Any]:
    return {} if max_candidates is None else {"max_candidates": max_candidates}


def _gate_inputs(paths: list[Path] | None, max_bytes: int) -> Any:
    """Documents to check: ``(label, record or Document or Skipped)`` from stdin or files."""
    from ..text.load import iter_inputs, iter_json_lines

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
    create: bool = False,
) -> None:
    from ..models import Skipped
    from ..store import ConflictError

    gate = _open_gate(index, max_candidates, create=create)
    duplicates = skipped = 0
    try:
        gate.warm_up()
        gc.freeze()  # as the server: start-up objects out of the collector's full passes
        for label, item in _gate_inputs(paths, gate.config.max_file_bytes):
            if isinstance(item, Skipped):
                skipped += 1
                err(f"skipped: {item}")
                emit({"input": label, "verdict": "error", "error": item.reason})
                continue
            try:
                verdict = gate.add(item, update=update) if add else gate.check(item)
            except (InputError, ConflictError) as exc:  # this document only; a store error ends
                skipped += 1
                doc_id = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
                err(f"skipped: {label}: {exc}")
                emit({"input": label, "id": doc_id, "verdict": "error", "error": str(exc)})
                continue
            duplicates += verdict.verdict == "duplicate"
            emit(verdict.to_dict())
    except DedupError as exc:
        raise failed(exc) from None
    finally:
        gc.unfreeze()
        gate.close()
    raise typer.Exit(EXIT_DUPLICATE if duplicates else EXIT_SKIPPED if skipped else EXIT_OK)


@gate_app.command("add")
def gate_add(
    paths: InputsArgument = None,
    *,
    index: IndexOption,
    update: Annotated[
        bool, typer.Option(help="Replace a document whose id is indexed with another text.")
    ] = False,
    max_candidates: MaxCandidatesOption = None,
    create: CreateOption = False,
) -> None:
    """Check each document against the index, then add it; one JSONL verdict per document.

    Exit code 4 when a duplicate was found, 3 when an input was skipped, 0 otherwise.
    """
    _run_gate(index, paths, add=True, update=update, max_candidates=max_candidates, create=create)


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
            emit({"id": doc_id, "removed": removed})
    except DedupError as exc:
        raise failed(exc) from None
    finally:
        gate.close()
    raise typer.Exit(EXIT_SKIPPED if missing else EXIT_OK)


@gate_app.command("get")
def gate_get(
    doc_id: Annotated[str, typer.Argument(help="Id of the document.")], *, index: IndexOption
) -> None:
    """Print one indexed document as JSON; exit code 3 when the id is not in the index (as
    ``remove``)."""
    gate = _open_gate(index)
    try:
        record = gate.get(doc_id)
    except DedupError as exc:
        raise failed(exc) from None
    finally:
        gate.close()
    if record is None:
        raise fail(f"no document {doc_id!r} in the index {index}", EXIT_SKIPPED)
    emit(record)


@gate_app.command("stats")
def gate_stats(*, index: IndexOption) -> None:
    """Print the number of documents and the index parameters as JSON."""
    gate = _open_gate(index)
    try:
        emit(gate.stats())
    except DedupError as exc:
        raise failed(exc) from None
    finally:
        gate.close()


DurationOption = Annotated[
    str | None,
    typer.Option(
        help="Remove documents older than this: 30d, 12h, 2w, 90m (by their date, else by "
        "when they were added)."
    ),
]
KeepOption = Annotated[int | None, typer.Option(min=0, help="Keep only the N newest documents.")]


@gate_app.command("prune")
def gate_prune(
    *,
    index: IndexOption,
    older_than: DurationOption = None,
    keep: KeepOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say how many would go; remove nothing.")
    ] = False,
) -> None:
    """Remove old documents, by age (--older-than), by number (--keep) or both; one JSON
    line says how many. Each removal is atomic: a prune stopped half way loses nothing else."""
    from ..gate.retention import prune

    seconds = _duration("--older-than", older_than)
    gate = _open_gate(index)
    try:
        emit(prune(gate.store, older_than=seconds, keep=keep, dry_run=dry_run))
    except DedupError as exc:
        raise failed(exc) from None
    finally:
        gate.close()


def _duration(option: str, text: str | None) -> float | None:
    """Seconds of a duration option (``30d``); a bad one is a usage error naming it."""
    from ..gate.retention import parse_duration

    try:
        return None if text is None else parse_duration(text)
    except DedupError as exc:
        raise fail(f"{option}: {exc}", EXIT_USAGE) from None


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
    create: CreateOption = False,
    prune_older_than: DurationOption = None,
    prune_keep: KeepOption = None,
    prune_every: Annotated[
        str, typer.Option(help="How often the prune runs, with --prune-older-than or --prune-keep.")
    ] = "1h",
) -> None:
    """Serve the gate over HTTP (FastAPI under uvicorn); the routes are in docs/gate.md.
    With --prune-older-than or --prune-keep it prunes at start and then every --prune-every."""
    retention = None
    if prune_older_than is not None or prune_keep is not None:
        retention = {
            "older_than": _duration("--prune-older-than", prune_older_than),
            "keep": prune_keep,
            "every": _duration("--prune-every", prune_every),
        }
    try:
        from ..gate.server import run

        run(
            index,
            host=host,
            port=port,
            token_file=token_file,
            gate_options={**_gate_options(max_candidates), "create": create},
            retention=retention,
        )
    except DedupError as exc:
        raise failed(exc) from None
