"""The Spark engine against the local engine on one corpus: time, memory, equal outputs, and
the sizes the 100M-article plan (``SPARK_PLAN.md``) is computed from.

Usage: python benchmarks/spark_bench.py CORPUS.jsonl [--master local[2]] [--partitions N]
       [--driver-memory 6g] [--engines local,spark] [--work /tmp/dedup-spark-bench]
       [--json OUT.json] [--no-assemble]

Make the corpus first, outside the repository, e.g. the 100k synthetic one:
``python benchmarks/synthetic.py --size 100000 --out /tmp/syn/synthetic-100000.jsonl``.

Each engine runs in a process of its own (``--worker``) that scans the corpus and writes the
report files; the parent samples the resident memory of the worker's process tree (Python,
the JVM, Spark's Python workers) every 0.2 s and then compares the two engines' files:
the (a, b, relation) rows of pairs.csv, the passages' offsets, the duplicate, provenance and
story groups. The Spark worker also reads from Spark's status API (the UI on a loopback port)
the shuffle bytes of every stage, and measures the pickled size of the per-document records.
Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    total, todo = 0, [pid]
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run_worker(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one engine in a subprocess and sample its memory."""
    out = args.work / engine
    result_file = args.work / f"{engine}.json"
    command = [
        sys.executable,
        __file__,
        str(args.corpus),
        "--worker",
        engine,
        "--out",
        str(out),
        "--result",
        str(result_file),
        "--master",
        args.master,
        "--driver-memory",
        args.driver_memory,
    ]
    if args.partitions:
        command += ["--partitions", str(args.partitions)]
    if args.no_assemble:
        command.append("--no-assemble")
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    sampler.join()
    if code != 0:
        raise SystemExit(f"{engine} worker failed with exit code {code}")
    data = json.loads(result_file.read_text())
    data["wall_total"] = time.perf_counter() - start
    data["peak_rss_tree"] = peak
    return data


def _shuffle_stats(spark: Any) -> list[dict[str, Any]]:
    """Per stage of the application: name, tasks, shuffle bytes written and read."""
    url = spark.sparkContext.uiWebUrl
    if not url:
        return []
    app = spark.sparkContext.applicationId
    with urllib.request.urlopen(f"{url}/api/v1/applications/{app}/stages", timeout=30) as r:
        stages = json.load(r)
    return [
        {
            "stage": s["stageId"],
            "name": s["name"].split(" at ")[0],
            "where": s.get("description") or s["name"],
            "tasks": s["numTasks"],
            "shuffle_write": s.get("shuffleWriteBytes", 0),
            "shuffle_write_records": s.get("shuffleWriteRecords", 0),
            "shuffle_read": s.get("shuffleReadBytes", 0),
            "input": s.get("inputBytes", 0),
        }
        for s in sorted(stages, key=lambda s: s["stageId"])
        if s.get("status") == "COMPLETE"
    ]


def _record_sizes(corpus: Path, sample: int = 2000) -> dict[str, float]:
    """Pickled bytes per document of what the Spark stages hold (sampled on the first
    ``sample`` documents): the cleaned document, the prepared record, a pair side."""
    import numpy as np

    from dedup.config import ScanConfig
    from dedup.match.compare import prepare
    from dedup.match.lsh import lsh_params
    from dedup.match.minhash import MinHasher
    from dedup.match.windows import window_signatures
    from dedup.scan.spark.pairs import DocumentRecord, pair_side
    from dedup.text.clean import clean_documents
    from dedup.text.load import load_corpus

    config = ScanConfig()
    loaded = load_corpus([corpus])
    docs = loaded.documents[:sample]
    clean_documents(docs)
    prepared = prepare(docs, config, MinHasher(config.num_perm, config.seed))
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    signed = window_signatures(
        [p.features for p in prepared], config, MinHasher(config.num_perm, config.seed)
    )
    windows = sum(len(w) for w in signed)
    empty = np.empty(0, dtype=np.int32)
    sides = [pair_side(DocumentRecord(p, empty, np.empty(0, dtype=np.float32))) for p in prepared]
    n = len(prepared)
    return {
        "documents_sampled": n,
        "text_chars_per_doc": sum(len(d.text) for d in docs) / n,
        "words_per_doc": sum(len(p.features) for p in prepared) / n,
        "windows_per_doc": windows / n,
        "bands": bands,
        "rows": rows,
        "signature_bytes": config.num_perm * 4,
        "band_row_bytes": 16,  # (key, band << 54 | document) as two uint64 in the LSH shuffle
        "document_pickle_bytes": sum(len(pickle.dumps(d, 5)) for d in docs) / n,
        "prepared_pickle_bytes": sum(len(pickle.dumps((p, w), 5)) for p, w in zip(prepared, signed))
        / n,
        "pair_side_pickle_bytes": sum(len(pickle.dumps(s, 5)) for s in sides) / n,
    }


def _count_only(data: dict[str, Any]) -> Any:
    """A stand-in for ``scan.assemble.assemble`` (``--no-assemble``): the distributed stages
    only, for corpora whose last, single-machine stage does not fit in memory."""
    from dedup.models import ScanResult

    def assemble(loaded, hashes, scores, links, chars, tfidf, config, *, candidates, timings):
        data["links"] = len(links)
        return ScanResult(
            documents=loaded.documents,
            skipped=loaded.skipped,
            ignored=loaded.ignored,
            pairs=scores,
            passages=[],
            duplicates=[],
            matrix=None,
            config=config,
            candidates=candidates or {},
            timings=timings,
        )

    return assemble


def worker(args: argparse.Namespace) -> None:
    from dedup.output.files import write_report

    data: dict[str, Any] = {"engine": args.worker}
    clock = time.perf_counter()
    if args.worker == "local":
        from dedup.scan.local import scan

        result = scan([args.corpus])
    else:
        from dedup.scan.spark import engine, scan_spark, spark_session

        if args.no_assemble:
            engine.assemble = _count_only(data)

        spark = spark_session(
            args.master,
            {
                "spark.driver.memory": args.driver_memory,
                "spark.ui.enabled": "true",
                "spark.ui.host": "127.0.0.1",
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.driver.maxResultSize": "4g",
            },
        )
        spark.sparkContext.setLogLevel("ERROR")
        data["session_seconds"] = time.perf_counter() - clock
        result = scan_spark([args.corpus], spark=spark, partitions=args.partitions)
        data["partitions"] = args.partitions
        data["stages"] = _shuffle_stats(spark)
        spark.stop()
    data["scan_seconds"] = time.perf_counter() - clock
    if not args.no_assemble:
        write_report(result, args.out)
    data["seconds"] = time.perf_counter() - clock
    data["timings"] = result.timings
    data["documents"] = len(result.documents)
    data["pairs"] = len(result.pairs)
    data["relations"] = result.relation_counts()
    data["passages"] = len(result.passages)
    data["groups"] = {
        "duplicates": len(result.duplicates),
        "provenance": len(result.provenance),
        "stories": len(result.stories),
    }
    data["candidates"] = result.candidates
    if args.worker == "spark":
        data["record_sizes"] = _record_sizes(args.corpus)
    args.result.write_text(json.dumps(data, indent=1))


def _outputs(folder: Path) -> dict[str, Any]:
    with (folder / "pairs.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    passages = [json.loads(line) for line in (folder / "passages.jsonl").open()]
    clusters = json.loads((folder / "clusters.json").read_text())
    return {
        "pairs": {(r["a"], r["b"], r["relation"]) for r in rows},
        "cosines": {(r["a"], r["b"]): r["cosine"] for r in rows},
        "passages": {
            (p["a"], p["a_start"], p["a_end"], p["b"], p["b_start"], p["b_end"]) for p in passages
        },
        "duplicates": {tuple(g["members"]) for g in clusters["duplicates"]},
        "provenance": {(tuple(g["members"]), g["agency"]) for g in clusters["provenance"]},
        "stories": {tuple(g["members"]) for g in clusters["stories"]},
        "documents": (folder / "documents.jsonl").read_bytes(),
    }


def compare(work: Path) -> dict[str, bool]:
    local, spark = _outputs(work / "local"), _outputs(work / "spark")
    return {key: local[key] == spark[key] for key in local}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dedup-spark-bench"))
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--no-assemble",
        action="store_true",
        help="Spark only: stop before the driver's last stage (assemble) and write no "
        "report; measures the distributed stages on corpora whose assembly does not fit",
    )
    parser.add_argument("--worker", choices=["local", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    results = {
        "corpus": str(args.corpus),
        "master": args.master,
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    for engine in args.engines.split(","):
        results[engine] = run_worker(engine, args)
        print(
            f"{engine}: {results[engine]['seconds']:.1f} s scan+report, "
            f"peak RSS {results[engine]['peak_rss_tree'] / 2**20:.0f} MiB",
            flush=True,
        )
    results["load_average_end"] = os.getloadavg()
    if {"local", "spark"} <= set(results) and not args.no_assemble:
        results["equal"] = compare(args.work)
    text = json.dumps(results, indent=1, default=str)
    if args.json:
        args.json.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
