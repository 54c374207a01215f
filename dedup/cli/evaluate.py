"""``dedup eval``: quality on labeled data, as a metrics table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DedupError
from .common import EXIT_ERROR, EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, err, fail


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
    from ..evaluation.evaluate import EVALUATIONS, evaluate

    paths = {"meter": meter, "ecbplus": ecbplus, "tgnews": tgnews, "seeds": seeds}
    if only:
        wanted = [name.strip() for name in only.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(EVALUATIONS))
        if unknown:
            raise fail(f"unknown data set(s) {unknown}; known: {sorted(EVALUATIONS)}", EXIT_USAGE)
        paths = {name: paths[name] for name in wanted}
    try:
        report = evaluate(paths)
    except DedupError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_eval(report)
    for missing in report.missing:
        err(f"not found: {missing} (give its path with the option of that name)")
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
