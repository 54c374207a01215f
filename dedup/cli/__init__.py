"""The ``dedup`` command line: a thin Typer layer over the library, a module per command
family (``scan``, ``evaluate``, ``gate``). Only the CLI prints and exits.

Exit codes (documented in the docs, "scan" and "gate"):
    0  every input was read and the outputs were written
    1  error: nothing could be done (no readable document, unwritable output, no index at
       --index, an optional extra not installed, ...)
    2  usage error (bad option or value)
    3  finished, outputs written, but some inputs were skipped (see the summary); ``dedup
       gate get|remove``: an id was not in the index
    4  ``dedup gate add|check``: at least one document was a duplicate
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .common import EXIT_DUPLICATE, EXIT_ERROR, EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, err
from .evaluate import eval_command
from .gate import gate_app
from .scan import scan

__all__ = [
    "EXIT_DUPLICATE",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_USAGE",
    "app",
    "main",
]

app = typer.Typer(
    name="dedup",
    help="Find near-duplicate and syndicated news articles, and the wire copy they share.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help: the defaults shown, no type label on flags, and rich not imported
    # (a third of the start-up time of `dedup --help`).
    rich_markup_mode=None,
)


def _print_version(asked: bool) -> None:
    if asked:
        from ..util.version import dedup_version

        typer.echo(f"dedup {dedup_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print dedup's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Find near-duplicate and syndicated news articles, and the wire copy they share."""


app.command()(scan)
app.command("eval")(eval_command)
app.add_typer(gate_app, name="gate")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err("Interrupted")
        sys.exit(130)
