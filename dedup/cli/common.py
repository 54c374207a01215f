"""What every command shares: exit codes, error lines, the progress bar, JSON lines."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from ..errors import ConfigError, DedupError, MissingExtraError, MissingIndexError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_DUPLICATE = 4


def err(message: str) -> None:
    """One line on stderr."""
    typer.echo(message, err=True)


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Say ``Error: message`` on stderr; the exit to raise."""
    err(f"Error: {message}")
    return typer.Exit(code=code)


def failed(exc: DedupError) -> typer.Exit:
    """Say what went wrong in the library; the exit to raise: 2 for a bad parameter (a
    :class:`~dedup.errors.ConfigError`), 1 for the rest, a missing index or optional package
    among them."""
    message = str(exc)
    if isinstance(exc, MissingIndexError):
        message += ": check --index (or DEDUP_INDEX), or create it with `dedup gate add --create`"
    usage = isinstance(exc, ConfigError) and not isinstance(exc, MissingExtraError)
    return fail(message, EXIT_USAGE if usage else EXIT_ERROR)


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout, flushed (a stream's reader sees each answer at once)."""
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class StageProgress:
    """A rich progress bar on stderr, silent when stderr is not a terminal or not
    ``shown``."""

    def __init__(self, *, shown: bool = True) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True)
        self.enabled = shown and console.is_terminal
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=not self.enabled,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> StageProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._bar.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)
