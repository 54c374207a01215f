"""How long the command line takes to start: ``dedup --help``, ``dedup --version`` and a
one-document ``dedup gate check`` (its process: imports, index opened, kernels warmed, one
verdict), each run ``--runs`` times in a fresh process; the median and the fastest.

Usage: python benchmarks/startup.py [--runs 7] [--dedup-root DIR ...]

With several ``--dedup-root`` folders (a snapshot of the code before a change: ``git archive
REV dedup | tar -x -C DIR``), each is timed in the same run, one after the other, and the
table has a row per folder. The numba cache of each folder is warmed by one run first.
Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (
    "The central bank left its main interest rate unchanged on Thursday, saying inflation was "
    "easing but remained above its target. Officials said they would watch wage growth and "
    "energy prices closely before deciding whether to cut borrowing costs next year."
)


def timed(root: Path, args: list[str], stdin: str, runs: int) -> tuple[float, float]:
    """Median and fastest seconds of ``python -m dedup ARGS`` with ``root`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    seconds = []
    for _ in range(runs):
        clock = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dedup", *args],
            input=stdin,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),  # not a checkout: only PYTHONPATH's dedup is found
            capture_output=True,
            check=False,
        )
        seconds.append(time.perf_counter() - clock)
    return statistics.median(seconds), min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dedup-root", type=Path, action="append", default=None)
    args = parser.parse_args()
    roots = args.dedup_root or [ROOT]
    line = json.dumps({"id": "one", "text": ARTICLE}) + "\n"
    print("| code | `dedup --help` s | `dedup --version` s | one-document `gate check` s |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for root in roots:
            index = str(Path(folder) / f"{root.name}.db")
            env = {**os.environ, "PYTHONPATH": str(root)}
            for create in (
                ["gate", "add", "--create", "--index", index],
                ["gate", "add", "--index", index],
            ):
                subprocess.run([sys.executable, "-m", "dedup", *create], input=line, text=True, env=env, cwd=folder, capture_output=True)  # fmt: skip
            cells = []
            for command, stdin in (
                (["--help"], ""),
                (["--version"], ""),
                (["gate", "check", "--index", index], line),
            ):
                median, fastest = timed(root, command, stdin, args.runs)
                cells.append(f"{median:.2f} (fastest {fastest:.2f})")
            print(f"| {root} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
