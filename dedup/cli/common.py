"""What every command shares: exit codes, error lines, the progress bar, JSON lines."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

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


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout, flushed (a stream's reader sees each answer at once)."""
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class StageProgress:
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
