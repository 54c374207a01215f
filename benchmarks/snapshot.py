"""Snapshot what dedup answers, to prove a refactoring changed nothing.

Usage: python benchmarks/snapshot.py OUT_DIR [--synthetic 30000] [--gate-index 11000]
       [--queries 1000] [--data ../shared/data/reuters21578] [--only seeds,reuters,...]

Writes, through the public API only (``dedup.scan``, ``dedup.write_report``,
``dedup.gate.Gate``), so that it runs against any version of the code:

- ``seeds/``, ``reuters/``, ``synthetic/``: the scan's output files of ``seeds/``,
  Reuters-21578 (every story with a body) and the seeded synthetic corpus;
- ``gate.jsonl``: the gate's full verdict for each of ``--queries`` articles of the synthetic
  corpus checked against an SQLite index of the ``--gate-index`` articles before them.

Compare two snapshots with ``diff -r OLD NEW`` (``report.html`` carries the time it was
written; the other files must be byte-identical).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from reuters import DEFAULT_DATA  # noqa: E402


def _scan(inputs: list[Path], out: Path) -> None:
    from dedup import ScanConfig, scan, write_report

    clock = time.perf_counter()
    result = scan(inputs, ScanConfig())
    write_report(result, out)
    print(
        f"{out.name}: {len(result.documents)} documents, {len(result.pairs)} pairs "
        f"in {time.perf_counter() - clock:.1f} s"
    )


def _gate(corpus: Path, out: Path, indexed: int, queries: int) -> None:
    from dedup.gate import Gate

    records = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    if len(records) < indexed + queries:
        raise SystemExit(f"the corpus has {len(records)} articles, fewer than {indexed + queries}")
    with tempfile.TemporaryDirectory() as folder:
        clock = time.perf_counter()
        with Gate(Path(folder) / "index.db") as gate:
            for start in range(0, indexed, 500):
                gate.index_many(records[start : min(start + 500, indexed)])
            with out.open("w", encoding="utf-8") as handle:
                for record in records[indexed : indexed + queries]:
                    verdict = gate.check(record)
                    if hasattr(verdict, "to_dict"):  # a Verdict since the gate's typed answers
                        verdict = verdict.to_dict()
                    handle.write(json.dumps(verdict, ensure_ascii=False) + "\n")
    print(f"gate: {queries} verdicts on {indexed} documents in {time.perf_counter() - clock:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--synthetic", type=int, default=30_000, help="synthetic articles")
    parser.add_argument("--gate-index", type=int, default=11_000, help="articles indexed")
    parser.add_argument("--queries", type=int, default=1000, help="articles checked")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Reuters-21578 folder")
    parser.add_argument("--only", default="seeds,reuters,synthetic,gate")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if "seeds" in wanted:
            _scan([ROOT / "seeds"], args.out / "seeds")
        if "reuters" in wanted:
            corpus = work / "reuters.jsonl"
            subprocess.run(
                [sys.executable, str(HERE / "reuters.py"), str(corpus), "--data", str(args.data)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            _scan([corpus], args.out / "reuters")
        if wanted & {"synthetic", "gate"}:
            corpus = work / "synthetic.jsonl"
            size = max(args.synthetic, args.gate_index + args.queries)
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "synthetic.py"),
                    "--size",
                    str(size),
                    "--seed",
                    "1",
                    "--out",
                    str(corpus),
                    "--truth",
                    str(work / "truth.jsonl"),
                    "--data",
                    str(args.data),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            if "synthetic" in wanted:
                lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
                sized = work / "synthetic" / "corpus.jsonl"
                sized.parent.mkdir()
                sized.write_text("".join(lines[: args.synthetic]), encoding="utf-8")
                _scan([sized.parent], args.out / "synthetic")
            if "gate" in wanted:
                _gate(corpus, args.out / "gate.jsonl", args.gate_index, args.queries)


if __name__ == "__main__":
    main()
