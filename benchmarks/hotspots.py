"""Profile ``dedup scan`` with py-spy and print its hot spots as markdown tables.

Usage: python benchmarks/hotspots.py [--corpus /tmp/dedup-bench/reuters-all.jsonl]
       [--profile OUT.speedscope.json] [--top 25] [--rate 100] [-- SCAN OPTIONS...]
       python benchmarks/hotspots.py --summarise PROFILE.speedscope.json

The first form runs ``py-spy record --format speedscope`` on ``python -m dedup scan CORPUS``
(the corpus defaults to the Reuters JSONL that ``bench.py --corpus reuters`` caches; make it
with ``python benchmarks/reuters.py OUT.jsonl`` otherwise), then summarises the profile:

- *self*: samples whose innermost Python frame is the function;
- *total*: samples with the function anywhere on the stack;
- *dedup*: each sample charged to the innermost frame inside the ``dedup`` package, so time
  spent in numpy, scikit-learn or the standard library counts for the dedup function that
  called it: where an optimisation of dedup's own code would act.

Shares are of all samples of the main thread. Run by hand (py-spy: ``pip install py-spy``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

DEFAULT_CORPUS = Path(tempfile.gettempdir()) / "dedup-bench" / "reuters-all.jsonl"


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3" and "/" in tail else tail
    return path


def summarise(profile: Path, top: int = 25) -> str:
    """Markdown tables of the hot spots of a speedscope profile written by py-spy."""
    data = json.loads(profile.read_text())
    frames = data["shared"]["frames"]
    keys = [f"{f['name']} ({_short(f.get('file', '?'))})" for f in frames]
    in_dedup = [
        "/dedup/" in f.get("file", "") and "site-packages" not in f.get("file", "") for f in frames
    ]
    # The thread with most samples is the scan's main thread.
    main = max(data["profiles"], key=lambda p: sum(p.get("weights", [1] * len(p["samples"]))))
    self_time: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    charged: Counter[str] = Counter()
    total = 0.0
    weights = main.get("weights") or [1] * len(main["samples"])
    for stack, weight in zip(main["samples"], weights):
        total += weight
        if not stack:
            continue
        self_time[keys[stack[-1]]] += weight
        for key in {keys[i] for i in stack}:
            total_time[key] += weight
        owner = next((keys[i] for i in reversed(stack) if in_dedup[i]), keys[stack[-1]])
        charged[owner] += weight
    unit = main.get("unit", "samples")
    seconds = total if unit == "seconds" else None
    lines = [
        f"Profile {profile.name}: {total:,.0f} {unit} on the main thread"
        + (f" ({seconds:.1f} s)" if seconds else "")
        + "."
    ]
    for title, counter in (
        ("dedup functions (library time charged to the dedup caller)", charged),
        ("self time (innermost Python frame)", self_time),
        ("total time (anywhere on the stack)", total_time),
    ):
        lines += ["", f"Top {top}, {title}:", "", "| share | function (module) |", "| ---: | --- |"]
        for key, weight in counter.most_common(top):
            lines.append(f"| {100 * weight / total:.1f} % | {key} |")
    return "\n".join(lines)


def record(corpus: Path, profile: Path, rate: int, scan_args: list[str]) -> None:
    """Run ``dedup scan`` under py-spy, writing a speedscope profile."""
    with tempfile.TemporaryDirectory(prefix="dedup-profile-") as out:
        command = [
            "py-spy",
            "record",
            "--format",
            "speedscope",
            "--rate",
            str(rate),
            "-o",
            str(profile),
            "--",
            sys.executable,
            "-m",
            "dedup",
            "scan",
            str(corpus),
            "--out",
            out,
            *scan_args,
        ]
        completed = subprocess.run(command, check=False)
        if completed.returncode not in (0, 3):  # 3: written, some inputs skipped
            raise SystemExit(f"py-spy/dedup failed with exit code {completed.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--profile",
        type=Path,
        default=Path(tempfile.gettempdir()) / "dedup-bench" / "scan.speedscope.json",
    )
    parser.add_argument("--summarise", type=Path, help="only summarise this speedscope profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("scan_args", nargs="*", help="extra options of dedup scan (after --)")
    args = parser.parse_args()
    if args.summarise:
        print(summarise(args.summarise, args.top))
        return
    if not args.corpus.exists():
        raise SystemExit(
            f"no corpus at {args.corpus}: run bench.py --corpus reuters first, or pass --corpus"
        )
    args.profile.parent.mkdir(parents=True, exist_ok=True)
    record(args.corpus, args.profile, args.rate, args.scan_args)
    print(summarise(args.profile, args.top))


if __name__ == "__main__":
    main()
