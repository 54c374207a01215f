"""Speed, memory and recall of dedup's pipeline against datasketch and rensa, on one corpus.

Usage: python benchmarks/bench.py --corpus reuters|synthetic --size N
       [--engines plain,windows,best,rensa,dedup] [--seed 1] [--data ../shared/data/reuters21578]
       [--work /tmp/dedup-bench] [--results benchmarks/results] [--no-report]
       [--matrix-limit N] [--dedup-root SNAPSHOT] [--max-rss-gb 20] [--tag NAME]

Engines, each run in a process of its own on the same documents (so that peak memory is the
engine's alone):

- ``plain``: the datasketch code a user writes first: word 5-gram shingles, ``MinHash.update``
  per shingle (default SHA-1 hash), ``MinHashLSH(threshold=0.5)`` with a query and an insert
  per document, then scikit-learn TF-IDF cosine of the candidate pairs.
- ``windows``: the plain way (``MinHash.update``, default hash, a query and an insert per
  set) applied to what finds a paragraph re-run inside another article: ~40-word windows
  starting at every sentence, word 3-gram shingles, ``MinHashLSH(threshold=0.3)``; the same
  TF-IDF. The plain way at dedup's recall, to compare speed at equal recall.
- ``best``: datasketch at its best: the same shingles, ``MinHash.bulk`` with xxh32 as
  ``hashfunc``, ``MinHashLSH.insertion_session``, one query per document; the same TF-IDF.
- ``rensa``: rensa's Rust ``RMinHash.from_token_sets`` and ``RMinHashLSH`` (``insert_many``,
  ``query_all``) on the same shingles; 125 permutations in 25 bands of 5 rows, datasketch's
  banding for threshold 0.5 (rensa needs the bands to divide the permutations); same TF-IDF.
- ``dedup``: ``dedup.text.load.load_corpus``, ``dedup.scan.local.analyse`` (stage times from
  ``ScanResult.timings``) and ``dedup.report.write_report`` (unless ``--no-report``).

Measured per stage: wall time, CPU time (user + system, all threads) and peak resident
memory. A stage the worker marks itself gets its exact peak: the kernel's high-water mark
(``VmHWM``), reset at the stage start through ``/proc/self/clear_refs``. dedup's stages inside
``analyse`` are placed on the clock from ``ScanResult.timings``; their CPU time and peak come
from the parent, which samples the worker's ``/proc/PID/stat`` and ``VmRSS`` every 20 ms.
No tracemalloc: it slows Python code down several times and misses numpy's own buffers.

Recall is of *reused pairs*, on the same documents for every engine:

- synthetic (``benchmarks/synthetic.py``): pairs of articles that keep a common paragraph of
  the same wire story, at least 20 words of it (the generator's ground truth);
- reuters: pairs whose word 5-gram shingle sets (dedup's tokens and shingles, on the raw text
  without boilerplate removal) have exact Jaccard >= 0.5, found on the whole corpus by an
  exact all-pairs join (prefix filtering, every candidate verified), plus pairs with
  identical text.

An engine finds a pair when it is a candidate pair; for dedup also reported: pairs it says
share a passage (``relation`` ``shares_text`` or ``duplicate``). Results: a markdown table on
stdout and ``RESULTS/CORPUS-SIZE[-ENGINES].json``. Corpora, ground truth and candidate pairs
are cached in ``--work`` (outside the repository: research data is never copied into it).
An engine that dies or whose process tree's PSS (proportional set size: pages shared by forked
workers split between them, read every 0.5 s) passes ``--max-rss-gb`` (stopped by the
benchmark before the kernel's out-of-memory killer picks a process) is reported as failed, with its largest RSS, the time it
ran and, for dedup, when it reached its features and align stages. ``--dedup-root`` benchmarks
the dedup package of another folder (a snapshot of a commit: ``git archive REV dedup | tar -x
-C DIR``). The results record the load average before and after each engine: on a shared
machine, compare CPU seconds rather than wall seconds. Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from reuters import DEFAULT_DATA, stories  # noqa: E402

ENGINES = ("plain", "windows", "best", "rensa", "dedup")
STAGES = (
    "load",
    "clean",
    "features_minhash",
    "lsh",
    "tfidf",
    "candidates",
    "score_align",
    "cluster",
    "report",
)
NUM_PERM = 128
BASELINE_THRESHOLD = 0.5
SHINGLE = 5
RENSA_PERM, RENSA_BANDS = 125, 25
REUTERS_JACCARD = 0.5
SAMPLE_SECONDS = 0.02
_TOKEN_RE = re.compile(r"\w+")
# The plain way applied to sentence windows (engine "windows"): what it takes datasketch,
# used as a user first would, to find a paragraph re-run inside another article.
WINDOW_WORDS, WINDOW_SHINGLE, WINDOW_THRESHOLD = 40, 3, 0.3
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+|\n+")


# --- measurement inside a worker ---------------------------------------------------------


def _cpu_now() -> float:
    """CPU seconds of this process and of its children that have ended (dedup's forked
    workers end with each parallel stage)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


PSS_EVERY = 25  # samples (every 0.5 s)


def _pss(pid: int) -> int:
    """Proportional set size of a process in bytes (0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _status(field: str, pid: int | str = "self") -> int:
    """A memory field of /proc/PID/status in bytes (0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    """Reset this process's VmHWM (Linux >= 4.0); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class Meter:
    """Stage marks of one worker: wall and CPU time, exact peak RSS of the stage."""

    def __init__(self, partial: Path | None = None) -> None:
        self.marks: list[dict[str, Any]] = []
        self.exact_peaks = _reset_peak()
        self.partial = partial
        self.progress: dict[str, list[float]] = {}

    def save(self) -> None:
        """Marks so far, for the parent when the worker dies (out of memory, say)."""
        if self.partial is not None:
            self.partial.write_text(json.dumps({"marks": self.marks, "progress": self.progress}))

    def report(self, stage: str, done: int, total: int) -> None:
        """dedup's progress callback: when each inner stage was first and last reported."""
        now = time.perf_counter()
        self.progress.setdefault(stage, [now, now])[1] = now
        self.save()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        _reset_peak()
        rss = _status("VmRSS")
        start, cpu = time.perf_counter(), _cpu_now()
        yield
        end, cpu_end = time.perf_counter(), _cpu_now()
        self.marks.append(
            {
                "stage": name,
                "start": start,
                "end": end,
                "wall": end - start,
                "cpu": cpu_end - cpu,
                "rss_start": rss,
                "peak_rss": _status("VmHWM") if self.exact_peaks else None,
            }
        )
        self.save()

    def add(self, name: str, wall: float, cpu: float, **extra: Any) -> None:
        """A stage timed by accumulators (no clock window, no memory)."""
        self.marks.append({"stage": name, "wall": wall, "cpu": cpu, **extra})


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def shingles(text: str) -> set[str]:
    """Word 5-gram shingles, the way a first script makes them."""
    words = _TOKEN_RE.findall(text.lower())
    return {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def tfidf_cosines(texts: list[str], pairs: np.ndarray) -> np.ndarray:
    """scikit-learn TF-IDF (English stop words out) and the cosine of each candidate pair."""
    matrix = TfidfVectorizer(stop_words="english").fit_transform(texts).tocsr()
    if len(pairs) == 0:
        return np.empty(0)
    return np.asarray(matrix[pairs[:, 0]].multiply(matrix[pairs[:, 1]]).sum(axis=1)).ravel()


def _pairs(found: list[tuple[int, int]] | np.ndarray) -> np.ndarray:
    array = np.asarray(found, dtype=np.int64).reshape(-1, 2)
    array = np.sort(array, axis=1)
    array = array[array[:, 0] != array[:, 1]]
    return np.unique(array, axis=0) if len(array) else array


def _load_texts(corpus: Path, meter: Meter) -> list[str]:
    with meter.stage("load"):
        return [r["text"] for r in read_jsonl(corpus)]


def _scored(
    texts: list[str], found: list[tuple[int, int]], meter: Meter, out: dict
) -> dict[str, np.ndarray]:
    """Candidate pairs, scored with TF-IDF cosine (the baselines' last stage)."""
    pairs = _pairs(found)
    with meter.stage("tfidf"):
        out["cosine_mean"] = float(tfidf_cosines(texts, pairs).mean()) if len(pairs) else None
    return {"candidates": pairs}


def run_plain(corpus: Path, meter: Meter, out: dict) -> dict[str, np.ndarray]:
    texts = _load_texts(corpus, meter)
    found = _plain_datasketch(texts, lambda text: [shingles(text)], BASELINE_THRESHOLD, meter, out)
    return _scored(texts, found, meter, out)


def _plain_datasketch(
    texts: list[str],
    sets_of: Callable[[str], list[set[str]]],
    threshold: float,
    meter: Meter,
    out: dict,
) -> list[tuple[int, int]]:
    """The datasketch code a user writes first, over the sets ``sets_of`` makes of each text:
    ``MinHash.update`` per shingle (default SHA-1 hash), then a query and an insert per set in
    ``MinHashLSH``. Returns the pairs of texts whose sets share a bucket; records the time of
    the shingling, the hashing and the LSH apart."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    found: set[tuple[int, int]] = set()
    shingle_wall = shingle_cpu = sig_wall = sig_cpu = lsh_wall = lsh_cpu = 0.0
    count = 0
    with meter.stage("features_minhash+lsh"):
        for i, text in enumerate(texts):
            w0, c0 = time.perf_counter(), _cpu_now()
            sets = sets_of(text)
            w1, c1 = time.perf_counter(), _cpu_now()
            hashes = []
            for items in sets:
                m = MinHash(num_perm=NUM_PERM)
                for item in items:
                    m.update(item.encode("utf-8"))
                hashes.append(m)
            w2, c2 = time.perf_counter(), _cpu_now()
            for number, m in enumerate(hashes):
                found.update((j, i) for j, _ in lsh.query(m) if j != i)
                lsh.insert((i, number), m)
            w3, c3 = time.perf_counter(), _cpu_now()
            count += len(sets)
            shingle_wall += w1 - w0
            shingle_cpu += c1 - c0
            sig_wall += w2 - w1
            sig_cpu += c2 - c1
            lsh_wall += w3 - w2
            lsh_cpu += c3 - c2
            if i % 1000 == 0:
                meter.report("features", i, len(texts))
    loop = meter.marks.pop()
    meter.add(
        "features_minhash",
        shingle_wall + sig_wall,
        shingle_cpu + sig_cpu,
        peak_rss=loop["peak_rss"],
    )
    meter.add("lsh", lsh_wall, lsh_cpu, peak_rss=loop["peak_rss"])
    out["signature"] = {"wall": sig_wall, "cpu": sig_cpu, "sets": len(texts), "minhashes": count}
    return sorted(found)


def windows(text: str) -> list[set[str]]:
    """Word 3-gram shingles of ~40-word windows, one starting at every sentence."""
    sentences = [_TOKEN_RE.findall(s.lower()) for s in _SENTENCE_SPLIT_RE.split(text)]
    sentences = [s for s in sentences if s]
    found = []
    for first in range(len(sentences)):
        words: list[str] = []
        for sentence in sentences[first:]:
            if len(words) >= WINDOW_WORDS:
                break
            words.extend(sentence)
        if len(words) >= WINDOW_SHINGLE:
            found.append(
                {
                    " ".join(words[i : i + WINDOW_SHINGLE])
                    for i in range(len(words) - WINDOW_SHINGLE + 1)
                }
            )
    return found


def run_windows(corpus: Path, meter: Meter, out: dict) -> dict[str, np.ndarray]:
    """The plain way on sentence windows, threshold 0.3: the recall of dedup's candidates,
    reached with datasketch as documented."""
    texts = _load_texts(corpus, meter)
    found = _plain_datasketch(texts, windows, WINDOW_THRESHOLD, meter, out)
    return _scored(texts, found, meter, out)


def run_best(corpus: Path, meter: Meter, out: dict) -> dict[str, np.ndarray]:
    import xxhash
    from datasketch import MinHash, MinHashLSH

    texts = _load_texts(corpus, meter)
    with meter.stage("shingles"):
        sets = [[s.encode("utf-8") for s in shingles(t)] for t in texts]
    with meter.stage("minhash"):
        signatures = MinHash.bulk(sets, num_perm=NUM_PERM, hashfunc=xxhash.xxh32_intdigest)
    with meter.stage("lsh"):
        lsh = MinHashLSH(threshold=BASELINE_THRESHOLD, num_perm=NUM_PERM)
        with lsh.insertion_session() as session:
            for i, m in enumerate(signatures):
                session.insert(i, m, check_duplication=False)
        found = [(j, i) for i, m in enumerate(signatures) for j in lsh.query(m) if j < i]
    _merge_features(meter, "shingles", "minhash", out)
    return _scored(texts, found, meter, out)


def run_rensa(corpus: Path, meter: Meter, out: dict) -> dict[str, np.ndarray]:
    from rensa import RMinHash, RMinHashLSH

    texts = _load_texts(corpus, meter)
    with meter.stage("shingles"):
        sets = [shingles(t) for t in texts]
    with meter.stage("minhash"):
        signatures = RMinHash.from_token_sets(sets, RENSA_PERM, 42)
    with meter.stage("lsh"):
        lsh = RMinHashLSH(BASELINE_THRESHOLD, RENSA_PERM, RENSA_BANDS)
        lsh.insert_many(signatures)
        results = lsh.query_all(signatures)
        found = [(j, i) for i, keys in enumerate(results) for j in keys if j < i]
    _merge_features(meter, "shingles", "minhash", out)
    return _scored(texts, found, meter, out)


def _merge_features(meter: Meter, first: str, second: str, out: dict) -> None:
    """Fold the shingle and MinHash marks into one features_minhash stage (kept as detail)."""
    marks = {m["stage"]: m for m in meter.marks}
    a, b = marks[first], marks[second]
    out["signature"] = {"wall": b["wall"], "cpu": b["cpu"], "sets": None}
    meter.marks = [m for m in meter.marks if m["stage"] not in (first, second)]
    merged = {
        "stage": "features_minhash",
        "start": a["start"],
        "end": b["end"],
        "wall": a["wall"] + b["wall"],
        "cpu": a["cpu"] + b["cpu"],
        "rss_start": a["rss_start"],
        "peak_rss": max(a["peak_rss"] or 0, b["peak_rss"] or 0) or None,
        "parts": {first: a["wall"], second: b["wall"]},
    }
    meter.marks.insert(1, merged)


def run_dedup(corpus: Path, meter: Meter, out: dict, options: dict) -> dict[str, np.ndarray]:
    from dedup.config import ScanConfig
    from dedup.scan.local import analyse
    from dedup.text.load import load_corpus

    config = ScanConfig(
        **(
            {"matrix_limit": options["matrix_limit"]}
            if options.get("matrix_limit") is not None
            else {}
        )
    )
    out["config"] = config.to_dict()
    with meter.stage("load"):
        loaded = load_corpus([corpus], max_file_bytes=config.max_file_bytes)
    timings: dict[str, float] = {}
    with meter.stage("analyse"):
        meter.save()
        result = analyse(loaded, config, timings=timings, progress=meter.report)
    mark = meter.marks[-1]
    clock = mark["start"]
    for name, seconds in timings.items():
        if name == "load":
            continue
        meter.marks.append(
            {"stage": name, "start": clock, "end": clock + seconds, "wall": seconds, "inner": True}
        )
        clock += seconds
    out["analyse_unattributed"] = mark["wall"] - sum(v for k, v in timings.items() if k != "load")
    out["timings"] = timings
    out["candidate_stats"] = result.candidates
    if options.get("report", True):
        from dedup.output.files import write_report

        with (
            tempfile.TemporaryDirectory(prefix="dedup-bench-report-") as folder,
            meter.stage("report"),
        ):
            write_report(result, folder)
            out["report_bytes"] = sum(f.stat().st_size for f in Path(folder).iterdir())
    out["relations"] = result.relation_counts()
    out["dedup_package"] = str(Path(sys.modules["dedup"].__file__).parent)
    out["passages"] = len(result.passages)
    out["signature"] = _dedup_signature_time(result.documents, config)
    position = _positions(corpus)
    index = np.array([position[d.id.rsplit("#", 1)[1]] for d in result.documents], dtype=np.int64)
    of = {d.id: i for i, d in enumerate(result.documents)}
    candidates = np.array([(of[p.a], of[p.b]) for p in result.pairs], dtype=np.int64).reshape(-1, 2)
    detected = np.array([p.relation != "none" for p in result.pairs], dtype=bool)
    candidates = index[candidates] if len(candidates) else candidates
    return {"candidates": _pairs(candidates), "detected": _pairs(candidates[detected])}


def _dedup_signature_time(documents: list, config: Any) -> dict:
    """CPU time of dedup's signature work alone: ``prepare`` (features, shingle sets, MinHash
    of each document and sentence window) minus ``extract_features`` on the same documents,
    so that it follows whatever ``prepare`` does now. Run after the timed scan."""
    try:
        from dedup.match.compare import prepare
        from dedup.match.minhash import MinHasher
        from dedup.match.windows import window_signatures
        from dedup.text.features import extract_features, shingle_set

        hasher = MinHasher(config.num_perm, config.seed)
        w0, c0 = time.perf_counter(), _cpu_now()
        features = [extract_features(doc) for doc in documents]
        w1, c1 = time.perf_counter(), _cpu_now()
        prepared = prepare(documents, config, hasher)
        windows = window_signatures([p.features for p in prepared], config, hasher)
        w2, c2 = time.perf_counter(), _cpu_now()
        sets = [shingle_set(f.hashes, config.shingle_size) for f in features]
        c3 = _cpu_now()
        hasher.signatures(sets)
        c4 = _cpu_now()
        return {
            "wall": (w2 - w1) - (w1 - w0),
            "cpu": (c2 - c1) - (c1 - c0),
            "features_cpu": c1 - c0,
            "windows": int(sum(len(w) for w in windows)),
            "method": "prepare() and window_signatures() minus extract_features()",
            # What the other engines' signature time is: MinHash of every document's
            # shingle set, the sets given.
            "documents_cpu": c4 - c3,
        }
    except Exception as exc:  # the pipeline changed: report why, measure the rest
        return {"error": f"{type(exc).__name__}: {exc}"}


def _positions(corpus: Path) -> dict[str, int]:
    """Record id -> line position in the corpus JSONL."""
    ids = {}
    with corpus.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if line.strip():
                ids[str(json.loads(line)["id"])] = number
    return ids


def worker(args: argparse.Namespace) -> None:
    if args.dedup_root:
        sys.path.insert(0, str(args.dedup_root.resolve()))
    meter = Meter(args.result_out.with_suffix(".partial.json"))
    out: dict[str, Any] = {"engine": args.worker}
    started = time.perf_counter()
    runner = {
        "plain": run_plain,
        "windows": run_windows,
        "best": run_best,
        "rensa": run_rensa,
    }.get(args.worker)
    if runner is not None:
        arrays = runner(args.corpus, meter, out)
    else:
        options = {"matrix_limit": args.matrix_limit, "report": not args.no_report}
        arrays = run_dedup(args.corpus, meter, out, options)
    out["total_wall"] = sum(m["wall"] for m in meter.marks if not m.get("inner"))
    out["total_cpu"] = sum(m["cpu"] for m in meter.marks if "cpu" in m and not m.get("inner"))
    out["worker_wall"] = time.perf_counter() - started
    out["marks"] = meter.marks
    out["exact_peaks"] = meter.exact_peaks
    # ru_maxrss is reset with VmHWM at each stage start, and dedup's signature timing runs
    # after the timed stages: the run's peak is the largest stage peak.
    peaks = [m.get("peak_rss") or 0 for m in meter.marks]
    out["max_rss"] = (
        max(peaks)
        if meter.exact_peaks
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    out["timed_end"] = max(m["end"] for m in meter.marks if "end" in m)
    np.savez(args.pairs_out, **arrays)
    args.result_out.write_text(json.dumps(out))


# --- the parent: corpora, ground truth, workers, tables ------------------------------------


def _source_stamp(*paths: Path) -> str:
    digest = hashlib.sha1()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def prepare_corpus(args: argparse.Namespace) -> tuple[Path, Path]:
    """The corpus JSONL and its ground-truth pairs (``.npz``), made once and cached."""
    args.work.mkdir(parents=True, exist_ok=True)
    if args.corpus == "synthetic":
        import synthetic

        stamp = _source_stamp(HERE / "synthetic.py", HERE / "reuters.py")
        corpus = args.work / f"synthetic-{args.size}-s{args.seed}-{stamp}.jsonl"
        answers = corpus.with_suffix(".truth.jsonl")
        truth = corpus.with_suffix(".pairs.npz")
        if not corpus.exists() or not answers.exists():
            print(f"generating {corpus} ...", file=sys.stderr)
            counts = synthetic.write(args.size, corpus, answers, args.seed, args.data)
            print(f"  {counts}", file=sys.stderr)
        if not truth.exists():
            pairs, share = synthetic.reused_pairs(synthetic.read_truth(answers))
            np.savez(truth, pairs=pairs, share=share)
        return corpus, truth
    stamp = _source_stamp(HERE / "reuters.py", HERE / "bench.py")
    label = args.size if args.size > 0 else "all"
    corpus = args.work / f"reuters-{label}.jsonl"
    truth = args.work / f"reuters-{label}-{stamp}.pairs.npz"
    if not corpus.exists():
        with corpus.open("w", encoding="utf-8") as handle:
            for number, story in enumerate(stories(args.data)):
                if 0 < args.size <= number:
                    break
                handle.write(json.dumps(story) + "\n")
    if not truth.exists():
        print("computing exact Jaccard ground truth ...", file=sys.stderr)
        started = time.perf_counter()
        pairs, jaccard = reuters_truth(corpus)
        print(f"  {len(pairs)} pairs in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        np.savez(truth, pairs=pairs, share=jaccard)
    return corpus, truth


def reuters_truth(
    corpus: Path, threshold: float = REUTERS_JACCARD
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair with exact Jaccard >= ``threshold`` of dedup's word 5-gram shingle sets (raw
    text), or identical text: an exact all-pairs set-similarity join with prefix filtering.

    With tokens ordered rarest first, two sets with Jaccard >= t share a token among the first
    ``|x| - ceil(t |x|) + 1`` of each (Chaudhuri et al. 2006; Bayardo et al. 2007), so only
    pairs sharing a prefix token are verified, with exact set intersection.
    """
    from dedup.models import Document
    from dedup.text.features import extract_features, shingle_set

    records = read_jsonl(corpus)
    sets = []
    for record in records:
        features = extract_features(Document(id=str(record["id"]), path="", text=record["text"]))
        sets.append(shingle_set(features.hashes, SHINGLE))
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    tokens, inverse, df = np.unique(np.concatenate(sets), return_inverse=True, return_counts=True)
    rank = np.empty(len(tokens), dtype=np.int64)
    rank[np.lexsort((tokens, df))] = np.arange(len(tokens))  # rarest first
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    prefix_tokens, prefix_docs = [], []
    ranked_sets = []
    for doc, size in enumerate(sizes.tolist()):
        ranks = np.sort(rank[inverse[offsets[doc] : offsets[doc + 1]]])
        ranked_sets.append(ranks)
        length = size - math.ceil(threshold * size) + 1 if size else 0
        prefix_tokens.append(ranks[:length])
        prefix_docs.append(np.full(len(ranks[:length]), doc, dtype=np.int64))
    token = np.concatenate(prefix_tokens)
    docs = np.concatenate(prefix_docs)
    order = np.lexsort((docs, token))
    token, docs = token[order], docs[order]
    starts = np.flatnonzero(np.r_[True, token[1:] != token[:-1]])
    ends = np.r_[starts[1:], len(token)]
    candidates = set()
    for start, end in zip(starts.tolist(), ends.tolist()):
        if end - start < 2:
            continue
        members = docs[start:end].tolist()
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                candidates.add((members[x], members[y]))
    found, scores = [], []
    for a, b in candidates:
        small, large = sorted((sizes[a], sizes[b]))
        if small < threshold * large:
            continue  # length filter
        shared = len(np.intersect1d(ranked_sets[a], ranked_sets[b], assume_unique=True))
        jaccard = shared / (sizes[a] + sizes[b] - shared)
        if jaccard >= threshold:
            found.append((a, b))
            scores.append(jaccard)
    by_text: dict[str, list[int]] = {}
    for number, record in enumerate(records):
        by_text.setdefault(record["text"], []).append(number)
    for members in by_text.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                if (members[x], members[y]) not in candidates:
                    found.append((members[x], members[y]))
                    scores.append(1.0)
    pairs = np.array(found, dtype=np.int64).reshape(-1, 2)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return pairs[order], np.array(scores)[order]


def page_jaccard(corpus: Path, truth: np.ndarray, sample: int = 2000) -> dict[str, float]:
    """Exact Jaccard of the baselines' 5-gram shingles (whole text) on a sample of the ground
    truth pairs: how far apart the reused pairs are for a whole-document MinHash."""
    if len(truth) == 0:
        return {}
    chosen = truth[
        np.random.default_rng(0).choice(len(truth), min(sample, len(truth)), replace=False)
    ]
    wanted = set(chosen.ravel().tolist())
    sets = {}
    with corpus.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number in wanted:
                sets[number] = shingles(json.loads(line)["text"])
    values = np.array([len(sets[a] & sets[b]) / len(sets[a] | sets[b]) for a, b in chosen.tolist()])
    quartiles = np.percentile(values, [25, 50, 75]).round(3).tolist()
    return {
        "p25": quartiles[0],
        "median": quartiles[1],
        "p75": quartiles[2],
        "share_ge_0.5": round(float((values >= 0.5).mean()), 3),
    }


class Sampler:
    """Samples a child's CPU time and RSS from /proc while it runs, with its own children
    (dedup's forked workers): CPU of the live ones plus what the reaped ones left in the
    parent's ``cutime``/``cstime``; RSS of the whole tree (pages the workers share with the
    parent are counted once per process: an upper bound of the tree's memory), the main
    process's own RSS apart."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.samples: list[tuple[float, float, int]] = []
        self.main_rss: list[int] = []
        # PSS of the tree (shared pages split between the processes sharing them: what the
        # tree really holds), read every PSS_EVERY samples (smaps_rollup walks page tables).
        self.tree_pss: list[int] = []
        self._count = 0

    def _children(self) -> list[int]:
        found: list[int] = []
        try:
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{task}/children", encoding="ascii") as handle:
                    found.extend(int(p) for p in handle.read().split())
        except OSError:
            pass
        return found

    def _cpu(self, pid: int, reaped: bool) -> float:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        if reaped:
            ticks += int(fields[13]) + int(fields[14])
        return ticks / self.ticks

    def sample(self) -> None:
        try:
            cpu = self._cpu(self.pid, reaped=True)
        except (OSError, IndexError):
            return
        rss = _status("VmRSS", self.pid)
        if not rss:
            return
        tree = rss
        for child in self._children():
            with contextlib.suppress(OSError, IndexError):
                cpu += self._cpu(child, reaped=False)
                tree += _status("VmRSS", child)
        self.samples.append((time.perf_counter(), cpu, tree))
        self.main_rss.append(rss)
        if self._count % PSS_EVERY == 0:
            self.tree_pss.append(sum(_pss(p) for p in [self.pid, *self._children()]))
        self._count += 1

    def cpu_at(self, when: float) -> float | None:
        if not self.samples:
            return None
        times = [s[0] for s in self.samples]
        return float(np.interp(when, times, [s[1] for s in self.samples]))

    def peak(self, start: float, end: float) -> int | None:
        inside = [s[2] for s in self.samples if start <= s[0] <= end]
        before = [s[2] for s in self.samples if s[0] < start][-1:]
        values = inside + before
        return max(values) if values else None


def run_engine(
    engine: str, corpus: Path, args: argparse.Namespace
) -> tuple[dict, dict[str, np.ndarray]]:
    """Run one engine in a worker process, sampling it; its result and pairs."""
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as folder:
        result_out, pairs_out = Path(folder) / "result.json", Path(folder) / "pairs.npz"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            engine,
            "--corpus-file",
            str(corpus),
            "--result-out",
            str(result_out),
            "--pairs-out",
            str(pairs_out),
        ]
        if args.no_report:
            command.append("--no-report")
        if args.matrix_limit is not None:
            command += ["--matrix-limit", str(args.matrix_limit)]
        if args.dedup_root:
            command += ["--dedup-root", str(args.dedup_root)]
        load_before = os.getloadavg()
        started = time.perf_counter()
        process = subprocess.Popen(command)
        sampler = Sampler(process.pid)
        capped = False
        while process.poll() is None:
            sampler.sample()
            # The tree's PSS: its RSS counts the pages forked workers share once per process.
            if sampler.tree_pss and sampler.tree_pss[-1] > args.max_rss_gb * 2**30 and not capped:
                process.kill()  # before the kernel's OOM killer picks a process, maybe not ours
                capped = True
            time.sleep(SAMPLE_SECONDS)
        if process.returncode != 0:
            failure = _failure(engine, process.returncode, started, sampler, result_out)
            if capped:
                failure["failed"] = (
                    f"stopped by the benchmark: PSS above --max-rss-gb {args.max_rss_gb}"
                )
            return failure, {}
        result = json.loads(result_out.read_text())
        result["load_average"] = {"before": load_before, "after": os.getloadavg()}
        with np.load(pairs_out) as data:
            arrays = {k: data[k] for k in data.files}
    for mark in result["marks"]:
        if "start" not in mark:
            continue
        if mark.get("cpu") is None:
            a, b = sampler.cpu_at(mark["start"]), sampler.cpu_at(mark["end"])
            mark["cpu"] = None if a is None or b is None else b - a
        if mark.get("peak_rss") is None:
            mark["peak_rss"] = sampler.peak(mark["start"], mark["end"])
            mark["peak_sampled"] = True
    result["samples"] = len(sampler.samples)
    sampled = max((s[2] for s in sampler.samples if s[0] <= result["timed_end"]), default=0)
    result["sampled_max_rss"] = sampled
    result["main_max_rss"] = max(sampler.main_rss, default=0)  # the engine's process alone
    result["tree_max_pss"] = max(sampler.tree_pss, default=0)
    result["max_rss"] = max(result["max_rss"], sampled)
    return result, arrays


def _failure(engine: str, code: int, started: float, sampler: Sampler, result_out: Path) -> dict:
    """What is known of a worker that died: how long it ran, its largest sampled RSS, the
    stages it finished and the dedup stage it was in."""
    partial_path = result_out.with_suffix(".partial.json")
    partial = json.loads(partial_path.read_text()) if partial_path.exists() else {}
    last = max(sampler.samples[-1][0] if sampler.samples else started, started)
    reason = "killed (SIGKILL: out of memory?)" if code == -9 else f"exit code {code}"
    progress = partial.get("progress", {})
    return {
        "engine": engine,
        "failed": reason,
        "seconds_until_failure": last - started,
        "sampled_max_rss": max((s[2] for s in sampler.samples), default=0),
        "tree_max_pss": max(sampler.tree_pss, default=0),
        "cpu_until_failure": sampler.samples[-1][1] if sampler.samples else None,
        "finished_stages": [
            {k: m.get(k) for k in ("stage", "wall", "cpu", "peak_rss")}
            for m in partial.get("marks", [])
        ],
        "dedup_progress_seconds_after_start": {
            stage: [round(t - started, 1) for t in times] for stage, times in progress.items()
        },
    }


def recall(truth: np.ndarray, found: np.ndarray, n: int) -> float | None:
    if len(truth) == 0:
        return None
    codes = truth[:, 0] * n + truth[:, 1]
    return float(np.isin(codes, found[:, 0] * n + found[:, 1]).mean()) if len(found) else 0.0


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value / 2**20:,.0f}"


def _memory(engine: dict) -> str:
    """Peak RSS of the engine's process tree, and of its main process when that is less (the
    tree counts pages forked workers share with it once per process)."""
    tree, main = engine["max_rss"], engine.get("main_max_rss")
    text = f"{_mb(tree)} ({_mb(main)} main)" if main and main < 0.95 * tree else _mb(tree)
    pss = engine.get("tree_max_pss")
    return f"{text}; PSS {_mb(pss)}" if pss else text


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def report(results: dict[str, Any]) -> str:
    """The markdown tables of one benchmark run."""
    n = results["documents"]
    page = results.get("truth_page_jaccard") or {}
    lines = [
        f"## {results['corpus']} ({n:,} documents, {results['truth_pairs']:,} reused pairs in the ground truth)",
        "",
        f"Ground truth: {results['truth']}. Whole-text 5-gram Jaccard of these pairs (sample): "
        f"median {page.get('median')}, quartiles {page.get('p25')}-{page.get('p75')}, "
        f"{page.get('share_ge_0.5')} of them >= 0.5.",
        "",
        "| engine | end to end s | CPU s | docs/s | signature docs/s/core | candidate pairs | recall (candidates) | recall (passages) | peak RSS MB (tree; PSS: shared pages split) | time / plain |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    plain = results["engines"].get("plain")
    if plain and "failed" in plain:
        plain = None
    for name, engine in results["engines"].items():
        if "failed" in engine:
            lines.append(
                f"| {name} | {engine['failed']} after {engine['seconds_until_failure']:,.0f} s "
                f"(CPU {_num(engine['cpu_until_failure'], 0)} s) |  |  |  |  |  |  | "
                f"~{_mb(engine['sampled_max_rss'])} |  |"
            )
            continue
        signature = engine.get("signature") or {}
        sig_cpu = signature.get("documents_cpu") or signature.get("cpu")
        sig_rate = n / sig_cpu if sig_cpu else None
        ratio = engine["total_wall"] / plain["total_wall"] if plain else None
        lines.append(
            f"| {name} | {_num(engine['total_wall'])} | {_num(engine['total_cpu'])} | "
            f"{_num(n / engine['total_wall'], 0)} | {_num(sig_rate, 0)} | {engine['candidate_pairs']:,} | "
            f"{_num(engine['recall'], 3)} | {_num(engine.get('recall_detected'), 3)} | "
            f"{_memory(engine)} | {_num(ratio, 2)} |"
        )
    lines += [
        "",
        "Per stage (wall s / CPU s / peak RSS MB; `~` = RSS sampled every 20 ms, else the exact high-water mark):",
        "",
        "| engine | " + " | ".join(STAGES) + " |",
        "| --- | " + " | ".join("---:" for _ in STAGES) + " |",
    ]
    for name, engine in results["engines"].items():
        if "failed" in engine:
            engine["marks"] = []
            continue
        by_stage = {m["stage"]: m for m in engine["marks"]}
        cells = []
        for stage in STAGES:
            mark = by_stage.get(stage)
            if mark is None:
                cells.append("")
                continue
            peak = _mb(mark.get("peak_rss"))
            tilde = "~" if mark.get("peak_sampled") else ""
            cells.append(f"{_num(mark['wall'])} / {_num(mark.get('cpu'))} / {tilde}{peak}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    buckets = results.get("recall_buckets")
    if buckets:
        lines += ["", f"Recall by {results['bucket_label']}:", ""]
        labels = list(dict.fromkeys(label for values in buckets.values() for label in values))
        lines.append("| engine | " + " | ".join(labels) + " |")
        lines.append("| --- | " + " | ".join("---:" for _ in labels) + " |")
        for name, values in buckets.items():
            lines.append(f"| {name} | " + " | ".join(_num(values.get(k), 3) for k in labels) + " |")
    return "\n".join(lines)


def _git_commit() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "dedup"], cwd=ROOT, capture_output=True, text=True
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["reuters", "synthetic"], default="reuters")
    parser.add_argument("--size", type=int, default=0, help="documents (reuters: 0 = all)")
    parser.add_argument(
        "--engines", default=",".join(ENGINES), help="comma-separated: " + ",".join(ENGINES)
    )
    parser.add_argument("--seed", type=int, default=1, help="synthetic corpus seed")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Reuters-21578 folder")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "dedup-bench")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--no-report", action="store_true", help="dedup: do not write the report")
    parser.add_argument("--matrix-limit", type=int, help="dedup: ScanConfig.matrix_limit")
    parser.add_argument("--tag", default="", help="suffix of the results file name")
    parser.add_argument(
        "--max-rss-gb",
        type=float,
        default=20.0,
        help="stop an engine whose resident memory passes this (GiB), recorded as a failure",
    )
    parser.add_argument(
        "--dedup-root",
        type=Path,
        help="benchmark the dedup package in this folder (a snapshot, another checkout) instead of the repository's",
    )
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--corpus-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pairs-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.corpus = args.corpus_file
        worker(args)
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engine(s) {unknown}; choose from {', '.join(ENGINES)}")
    if args.corpus == "synthetic" and args.size <= 0:
        args.size = 10_000
    corpus, truth_path = prepare_corpus(args)
    with truth_path.open("rb") as handle, np.load(handle) as data:
        truth, share = data["pairs"], data["share"]
    with corpus.open("rb") as handle:
        n = sum(1 for line in handle if line.strip())
    results: dict[str, Any] = {
        "corpus": f"{args.corpus}" + (f" seed {args.seed}" if args.corpus == "synthetic" else ""),
        "corpus_file": corpus.name,
        "documents": n,
        "truth_pairs": len(truth),
        "truth": (
            "articles keeping >= 20 words of common wire paragraphs"
            if args.corpus == "synthetic"
            else f"exact 5-gram shingle Jaccard >= {REUTERS_JACCARD} (raw text) or identical text"
        ),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": _git_commit(),
        "dedup_root": str(args.dedup_root) if args.dedup_root else None,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "options": {"no_report": args.no_report, "matrix_limit": args.matrix_limit},
        "engines": {},
    }
    results["truth_page_jaccard"] = page_jaccard(corpus, truth)
    if args.corpus == "synthetic":
        edges, labels = [0.0, 0.5, 0.8, 1.01], ["shared < 50%", "50-80%", ">= 80% of the smaller"]
        results["bucket_label"] = "shared wire text as a share of the smaller article's words"
    else:
        edges, labels = [0.5, 0.8, 0.95, 1.01], ["J 0.5-0.8", "J 0.8-0.95", "J >= 0.95"]
        results["bucket_label"] = "exact Jaccard"
    buckets: dict[str, dict[str, float | None]] = {}
    for engine in engines:
        print(f"running {engine} on {n:,} documents ...", file=sys.stderr)
        result, arrays = run_engine(engine, corpus, args)
        if "failed" in result:
            results["engines"][engine] = result
            print(f"  {engine} failed: {result}", file=sys.stderr)
            continue
        result["candidate_pairs"] = len(arrays["candidates"])
        result["recall"] = recall(truth, arrays["candidates"], n)
        if "detected" in arrays:
            result["detected_pairs"] = len(arrays["detected"])
            result["recall_detected"] = recall(truth, arrays["detected"], n)
        buckets[engine] = {}
        for low, high, label in zip(edges, edges[1:], labels):
            mask = (share >= low) & (share < high)
            buckets[engine][label] = recall(truth[mask], arrays["candidates"], n)
            if "detected" in arrays:
                buckets[engine][label + " (passages)"] = recall(truth[mask], arrays["detected"], n)
        results["engines"][engine] = result
        print(
            f"  {result['total_wall']:.1f} s, {result['candidate_pairs']:,} candidate pairs, recall {result['recall']}",
            file=sys.stderr,
        )
    results["recall_buckets"] = {k: v for k, v in buckets.items() if v}
    results["bucket_counts"] = {
        label: int(((share >= low) & (share < high)).sum())
        for low, high, label in zip(edges, edges[1:], labels)
    }
    table = report(results)
    print(table)
    args.results.mkdir(parents=True, exist_ok=True)
    name = f"{args.corpus}-{n}" + (f"-{args.tag}" if args.tag else "") + ".json"
    for engine in results["engines"].values():
        for mark in engine.get("marks", []):
            for key in ("start", "end"):
                mark.pop(key, None)
    (args.results / name).write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.results / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
