"""How fast ``dedup gate prune`` removes documents: an SQLite index of ``--size`` made-up
articles, half dated 2001 and half today, pruned ``--older-than 30d`` (one atomic removal
per document); prints the build and prune times and the removals per second.

Usage: python benchmarks/prune.py [--size 20000] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dedup.gate import Gate
from dedup.gate.retention import prune

SYLLABLES = ["ka", "lo", "mi", "ter", "van", "dus", "pre", "sol", "nik", "ba", "ro", "lem"]


def article(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))

    return " ".join(
        f"The {word()} of {word()} said the {word()} would {word()} the {word()} in {word()}."
        for _ in range(6)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--redis", default="", help="a Redis index URL instead of SQLite")
    args = parser.parse_args()
    rng = random.Random(7)
    today = date.today().isoformat()
    docs = [
        {"id": f"d{i}", "text": article(rng), "date": "2001-05-01" if i % 2 else today}
        for i in range(args.size)
    ]
    with tempfile.TemporaryDirectory() as folder:
        location = args.redis or str(Path(folder) / "index.db")
        with Gate(location) as gate:
            clock = time.perf_counter()
            for start in range(0, len(docs), 1000):
                gate.index_many(docs[start : start + 1000])
            built = time.perf_counter() - clock
            clock = time.perf_counter()
            done = prune(gate.store, older_than=30 * 86400)
            pruned = time.perf_counter() - clock
    print("| index | documents | build s | removed | prune s | removals/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    kind = "Redis" if args.redis else "SQLite"
    print(
        f"| {kind} | {args.size:,} | {built:.1f} | {done['removed']:,} | {pruned:.1f} "
        f"| {done['removed'] / pruned:,.0f} |"
    )


if __name__ == "__main__":
    main()
