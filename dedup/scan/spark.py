"""The batch scan on Apache Spark: the local engine's stages, run as Spark jobs.

``scan_spark`` gives the same :class:`~dedup.models.ScanResult` as
:func:`dedup.scan.local.scan` (the same pairs, scores, passages and groups) and only the work
is spread over a cluster. Every stage calls the local engine's code on Spark partitions; what
Spark adds is the movement of data between them:

1. **Load**: files are listed on the driver (the local walk, or Hadoop's file system for
   ``hdfs://``, ``s3a://``, ``file://`` URIs) and read on the executors by dedup's own
   loader, so every format, id and skipped input is as in a local scan. ``.parquet``
   datasets are read by Spark's Parquet reader, each row through ``record_document``.
   Documents are ordered as the local loader orders them and numbered.
2. **Clean**: lines repeated in three or more documents of one source are counted with a
   Spark aggregation over hashed lines; each document is then cleaned by ``clean_documents``
   with that count (see ``_clean_partition``).
3. **Prepare**: ``pipeline.prepare`` per partition (features, shingles, MinHash).
4. **LSH**: ``index.band_keys`` per partition; (key, band, document) rows are shuffled by
   key as numpy blocks, buckets are expanded into pairs with the rules of
   ``index.candidate_pairs`` (same ``max_bucket_size``), and pairs are deduplicated by a
   second shuffle.
5. **TF-IDF**: the document frequencies of the term keys are counted with Spark and
   collected to the driver; each row is then the exact float32 row ``score.tfidf_matrix``
   computes (columns in key order, as its rows), and pair cosines come from
   ``score.pair_cosines``: bit-identical to the local engine.
6. **Compare**: pairs are partitioned by their first document, each document's record is
   sent once to every partition that holds one of its pairs, and ``pipeline.compare``
   scores and aligns each pair there.
7. **Duplicate groups**: connected components of duplicate pairs by min-label propagation
   in Spark, until no label changes.
8. **Assemble**: documents, features, TF-IDF rows, scores and passages are streamed to the
   driver and ``pipeline.assemble`` builds provenance groups (passage-level reasoning over
   all links), derivation, story groups and the matrix, as locally. This bounds the corpus
   by the driver's memory as it bounds the local engine (9 GB for 30,000 articles);
   ``benchmarks/SPARK_PLAN.md`` says how the last stage splits for 100M articles.

pyspark is an optional extra (``pip install 'dedup[spark]'``), imported only here and only
when a scan runs.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from operator import add
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from scipy import sparse

from ..config import ScanConfig
from ..errors import ConfigError, InputError, NoDocumentsError
from ..group.cluster import Link
from ..match.align import char_spans
from ..match.compare import Prepared, compare, prepare
from ..match.lsh import CandidateStats, band_keys, lsh_params
from ..match.minhash import MinHasher
from ..match.score import pair_cosines
from ..models import Document, ScanResult, Skipped
from ..output.files import write_report, write_summary
from ..output.page import DEFAULT_MAX_PAIRS
from ..text.clean import REPEAT_MIN_DOCS, clean_documents, line_keys
from ..text.features import Features, term_counts
from ..text.load import (
    RECORD_FIELDS,
    LoadResult,
    folder_group,
    input_format,
    read_file,
    record_document,
    skip_kind,
    walk_files,
)
from ..util.arrays import unique
from ..util.progress import Progress, no_progress
from .local import assemble

log = logging.getLogger(__name__)

PYSPARK_MISSING = "the Spark engine needs pyspark: pip install 'dedup[spark]'"
# Documents per partition: about 30 KB each once prepared (features, shingles, signatures),
# so a partition of 5,000 stays near 150 MB in a Python worker.
DOCS_PER_PARTITION = 5_000
# Pairs scored at once in one task (both documents' records are in memory for each).
COMPARE_BATCH = 2_000
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# What SparkContext accepts (with the cluster managers spark-submit knows).
_MASTER_RE = re.compile(
    r"^(?:local(?:\[[^\]]+\])?|local-cluster\[[^\]]+\]|(?:spark|k8s)://.+|yarn)$"
)
_EMPTY_U32 = np.empty((0, 0), dtype=np.uint32)
_EMPTY_U64 = np.empty(0, dtype=np.uint64)


# --- session ---------------------------------------------------------------------------------


def _import_pyspark() -> Any:
    try:
        import pyspark
        from pyspark.sql import SparkSession  # noqa: F401
    except ImportError:
        raise ConfigError(PYSPARK_MISSING) from None
    return pyspark


def required_java(pyspark_version: str) -> int:
    """Oldest Java major version a pyspark release runs on (Spark 4 needs 17)."""
    major = int(re.match(r"\d+", pyspark_version).group()) if pyspark_version else 4
    return 17 if major >= 4 else 8


def check_java(need: int = 17) -> int:
    """Find the Java Spark will start (``JAVA_HOME``, else ``java`` on PATH) and check its
    version before any JVM starts.

    Returns:
        The Java major version.

    Raises:
        ConfigError: no Java, or one older than ``need``.
    """
    hint = f"install Java {need} (apt-get install openjdk-{need}-jre-headless) or set JAVA_HOME"
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not java.is_file():
            raise ConfigError(
                f"the Spark engine needs Java {need} or newer, but JAVA_HOME is {java_home!r} "
                f"and {java} does not exist: point JAVA_HOME at a Java installation, or unset it "
                "to use java on PATH"
            )
        command = str(java)
    else:
        found = shutil.which("java")
        if not found:
            raise ConfigError(
                f"the Spark engine needs Java {need} or newer, and none was found (JAVA_HOME "
                f"is not set and java is not on PATH): {hint}"
            )
        command = found
    try:
        run = subprocess.run(
            [command, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(
            f"the Spark engine cannot run {command} -version ({exc}): {hint}"
        ) from None
    output = (run.stderr or "") + (run.stdout or "")
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if run.returncode != 0 or not match:
        first = output.strip().splitlines()[0] if output.strip() else f"exit code {run.returncode}"
        raise ConfigError(
            f"the Spark engine needs Java {need} or newer, but {command} -version failed "
            f"({first}): {hint}"
        )
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_392" is Java 8
        major = int(match.group(2))
    if major < need:
        raise ConfigError(
            f"the Spark engine needs Java {need} or newer, but {command} is Java {major}: {hint}"
        )
    return major


def check_master(master: str) -> str:
    """Check a master URL against the forms Spark runs on before a JVM starts (Spark would
    answer with a Java stack trace).

    Raises:
        ConfigError: ``master`` is none of ``local``, ``local[N]``, ``local[N,F]``,
            ``local-cluster[...]``, ``spark://...``, ``k8s://...`` or ``yarn``.
    """
    if not _MASTER_RE.match(master):
        raise ConfigError(
            f"{master!r} is not a Spark master: give local[N], spark://host:7077, "
            "k8s://https://host:443 or yarn"
        )
    return master


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """A SparkSession for the scan (an active one is reused).

    Args:
        master: The master URL (``local[2]``, ``spark://host:7077``, ``yarn``, ...). None
            leaves it to Spark's own configuration: ``spark-defaults.conf`` under
            ``SPARK_CONF_DIR``, ``MASTER``, ``PYSPARK_SUBMIT_ARGS``, else ``local[*]``.
        conf: Extra Spark properties (``spark.executor.memory``, ...).

    Raises:
        ConfigError: pyspark is not installed, Java is missing or too old, or ``master`` is
            not a Spark master URL.
    """
    if master:
        check_master(master)
    pyspark = _import_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    check_java(required_java(pyspark.__version__))
    builder = SparkSession.builder.appName("dedup scan")
    if master:
        builder = builder.master(master)
    settings = {"spark.ui.showConsoleProgress": "false"}
    local = (master or os.environ.get("MASTER") or "local").startswith("local")
    if local and not os.environ.get("PYSPARK_PYTHON"):
        # Local workers run this interpreter (the one dedup is installed in), not any python3.
        settings["spark.pyspark.python"] = sys.executable
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # py4j and Spark raise many types when the JVM cannot start
        raise ConfigError(f"cannot start Spark ({type(exc).__name__}: {exc})") from None


# --- loading ---------------------------------------------------------------------------------


def is_uri(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a URI for Hadoop's file systems (``hdfs://``, ``s3a://``, ...)."""
    return bool(_URI_RE.match(str(path)))


@dataclass(frozen=True)
class _Task:
    """One input to read on an executor: a file (local path or URI) or a Parquet dataset."""

    order: int
    path: str
    rel: str
    kind: str  # "file", "uri" or "parquet"


def _walk_key(rel: str) -> list[tuple[int, str]]:
    """Sort key giving the local walk's order: a folder's files, then its subfolders."""
    parts = rel.split("/")
    return [(1, p) for p in parts[:-1]] + [(0, parts[-1])]


def _is_parquet(name: str) -> bool:
    return name.lower().rstrip("/").endswith(".parquet")


def _plan_inputs(spark: Any, paths: Sequence[str | os.PathLike[str]]) -> tuple[list[_Task], list]:
    """Files to read and inputs skipped on the driver, each with its place in input order."""
    tasks: list[_Task] = []
    skipped: list[tuple[tuple[int, int], Skipped]] = []
    order = 0

    def skip(item: Skipped) -> None:
        nonlocal order
        skipped.append(((order, 0), item))
        order += 1

    for raw in paths:
        text = str(raw)
        if is_uri(text) and _is_parquet(text):
            name = PurePosixPath(text.rstrip("/")).name
            tasks.append(_Task(order, text, name, "parquet"))
            order += 1
            continue
        if is_uri(text):
            for rel, uri in _list_uri(spark, text):
                if uri is None:
                    skip(Skipped(text, rel, "unreadable"))
                elif rel.rsplit("/", 1)[-1].startswith("_") and input_format(Path(rel)):
                    # Hadoop's input formats never read names starting with "_".
                    skip(
                        Skipped(rel, "not read: Hadoop skips names starting with '_'", "unreadable")
                    )
                else:
                    tasks.append(_Task(order, uri, rel, "uri"))
                    order += 1
            continue
        root = Path(raw)
        if _is_parquet(root.name) and root.exists():
            tasks.append(_Task(order, str(root.resolve()), root.name, "parquet"))
            order += 1
        elif root.is_dir():
            for path, problem in walk_files(root):
                rel = path.relative_to(root).as_posix()
                if problem:
                    skip(Skipped(rel, problem, "unreadable"))
                else:
                    tasks.append(_Task(order, str(path), rel, "file"))
                    order += 1
        elif root.exists():
            tasks.append(_Task(order, str(root), root.name, "file"))
            order += 1
        elif root.is_symlink():
            skip(Skipped(str(raw), "broken symbolic link", "unreadable"))
        else:
            skip(Skipped(str(raw), "no such file or folder", "unreadable"))
    return tasks, skipped


def _list_uri(spark: Any, uri: str) -> list[tuple[str, str | None]]:
    """``(rel, uri)`` of every file under ``uri`` in walk order; ``(reason, None)`` when it
    cannot be listed."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    root = jvm.org.apache.hadoop.fs.Path(uri)
    try:
        fs = root.getFileSystem(conf)
        if not fs.exists(root):
            return [("no such file or folder", None)]
        status = fs.getFileStatus(root)
    except Exception as exc:  # py4j wraps Hadoop's IOExceptions
        return [(f"unreadable ({_java_message(exc)})", None)]
    if not status.isDirectory():
        return [(root.getName(), status.getPath().toString())]
    base = status.getPath().toString().rstrip("/") + "/"
    found = []
    files = fs.listFiles(root, True)
    while files.hasNext():
        full = files.next().getPath().toString()
        rel = full[len(base) :] if full.startswith(base) else full.rsplit("/", 1)[-1]
        if any(part.startswith(".") for part in rel.split("/")):
            continue  # hidden, as in the local walk
        found.append((rel, full))
    return sorted(found, key=lambda item: _walk_key(item[0]))


def _java_message(exc: Exception) -> str:
    """One line on a Java exception: its own ``toString`` (py4j's first line names only the
    call that failed)."""
    text = str(exc)
    java = getattr(exc, "java_exception", None)
    if java is not None:
        with contextlib.suppress(Exception):  # the JVM may be gone
            text = str(java.toString())
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__


def _read_local(task: _Task, max_bytes: int) -> Iterator[tuple[tuple[int, int], Any]]:
    for number, item in enumerate(read_file(Path(task.path), task.rel, max_bytes)):
        yield (task.order, number), item


def _read_bytes(task: _Task, data: bytes, max_bytes: int) -> list[tuple[tuple[int, int], Any]]:
    """Read a remote file's bytes with the local loader (through a temporary file, so every
    format and every skip reason is the local one)."""
    with tempfile.TemporaryDirectory(prefix="dedup-") as folder:
        path = Path(folder) / task.rel.rsplit("/", 1)[-1]
        path.write_bytes(data)
        return [
            ((task.order, number), item)
            for number, item in enumerate(read_file(path, task.rel, max_bytes))
        ]


def _row_document(row: dict[str, Any], task: _Task, number: int) -> Document | Skipped:
    """One Parquet row through ``record_document`` (dates become ISO strings)."""
    record = {
        key: value.isoformat() if isinstance(value, (date, datetime)) else value
        for key, value in row.items()
    }
    try:
        return record_document(record, task.rel, str(number), folder_group(task.rel))
    except InputError as exc:
        return Skipped(task.rel, str(exc), skip_kind(exc), number)


def _load(spark: Any, paths: Sequence[str | os.PathLike[str]], config: ScanConfig) -> Any:
    """Every input item as ``((order, number), Document | Skipped)``, in any partition order."""
    sc = spark.sparkContext
    tasks, skipped = _plan_inputs(spark, paths)
    max_bytes = config.max_file_bytes
    parts = [sc.parallelize(skipped, 1)] if skipped else []
    files = [t for t in tasks if t.kind == "file"]
    if files:
        slices = max(1, min(len(files), sc.defaultParallelism * 4))
        parts.append(
            sc.parallelize(files, slices).flatMap(lambda task: _read_local(task, max_bytes))
        )
    uris = [t for t in tasks if t.kind == "uri"]
    if uris:
        by_uri = sc.broadcast({t.path: t for t in uris})
        parts.append(
            sc.binaryFiles(",".join(t.path for t in uris)).flatMap(
                lambda item: _read_bytes(by_uri.value[item[0]], item[1], max_bytes)
            )
        )
    for task in (t for t in tasks if t.kind == "parquet"):
        frame = spark.read.parquet(task.path)
        columns = [c for c in RECORD_FIELDS if c in frame.columns]
        if "text" not in columns:
            item = Skipped(task.rel, "Parquet data has no 'text' column", "malformed")
            parts.append(sc.parallelize([((task.order, 0), item)], 1))
            continue
        parts.append(
            frame.select(*columns)
            .rdd.zipWithIndex()
            .map(
                lambda row_index, task=task: (
                    (task.order, row_index[1] + 1),
                    _row_document(row_index[0].asDict(), task, row_index[1] + 1),
                )
            )
        )
    if not parts:
        return sc.parallelize([], 1)
    return sc.union(parts) if len(parts) > 1 else parts[0]


# --- cleaning --------------------------------------------------------------------------------


def _clean_partition(
    records: Iterable[tuple[int, tuple[Document, list[int]]]], repeated: set[int]
) -> Iterator[tuple[int, Document]]:
    """Clean each document as ``clean_documents`` does on the whole corpus, given the keys
    of the corpus's repeated lines (counted by Spark)."""
    for index, (doc, _) in records:
        yield index, clean_documents([doc], repeated)[0]


# --- LSH -------------------------------------------------------------------------------------


_BAND_SHIFT = np.uint64(54)  # (band << 54) | document: up to 1024 bands, 2^54 documents


def _band_rows(
    records: Iterable[tuple[int, Prepared]], bands: int, rows: int, partitions: int
) -> Iterator[tuple[int, np.ndarray]]:
    """The partition's windows as unique rows (key, band << 54 | document), 16 bytes each,
    in one numpy block per destination partition (by key)."""
    signatures, docs = [], []
    for index, prepared in records:
        if len(prepared.window_signatures):
            signatures.append(prepared.window_signatures)
            docs.append(np.full(len(prepared.window_signatures), index, dtype=np.uint64))
    if not signatures:
        return
    keys = band_keys(np.concatenate(signatures), bands, rows)
    n = keys.shape[0]
    block = np.empty((n * bands, 2), dtype=np.uint64)
    block[:, 0] = keys.ravel()
    block[:, 1] = np.tile(np.arange(bands, dtype=np.uint64) << _BAND_SHIFT, n)
    block[:, 1] |= np.repeat(np.concatenate(docs), bands)
    block = np.unique(block, axis=0)
    destination = block[:, 0] % np.uint64(partitions)
    for part in unique(destination).tolist():
        yield part, block[destination == part]


def _bucket_pairs(
    blocks: Iterable[tuple[int, np.ndarray]], n_docs: int, max_bucket_size: int, partitions: int
) -> Iterator[tuple[int, Any]]:
    """Expand a partition's buckets into document pairs as ``index.candidate_pairs`` does
    (pair codes ``i * n + j``, ``i < j``; buckets over ``max_bucket_size`` left out), as one
    block per destination partition; and the partition's bucket counts (key -1)."""
    arrays = [block for _, block in blocks]
    if not arrays:
        return
    rows = np.unique(np.concatenate(arrays), axis=0)  # sorted by (key, band, document)
    key, band = rows[:, 0], rows[:, 1] >> _BAND_SHIFT
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (band[1:] != band[:-1])])
    sizes = np.diff(np.r_[starts, len(rows)])
    oversized = sizes > max_bucket_size
    yield -1, (int(np.count_nonzero(sizes > 1)), int(np.count_nonzero(oversized)))
    doc = (rows[:, 1] & ((np.uint64(1) << _BAND_SHIFT) - np.uint64(1))).astype(np.int64)
    codes = []
    for size in unique(sizes[(sizes > 1) & ~oversized]).tolist():
        members = doc[starts[sizes == size][:, None] + np.arange(size)]
        first, second = np.triu_indices(size, k=1)
        codes.append(members[:, first].ravel() * n_docs + members[:, second].ravel())
    if codes:
        found = unique(np.concatenate(codes))
        # By first document: its partition then holds every pair scored in one place later.
        destination = (found // n_docs) % partitions
        for part in unique(destination).tolist():
            yield part, found[destination == part]


def _candidates(
    spark: Any, prepared: Any, n_docs: int, windows: int, config: ScanConfig, partitions: int
) -> tuple[Any, CandidateStats]:
    """Candidate pairs as numpy blocks of unique pair codes, and the LSH statistics."""
    stats = CandidateStats(windows=windows)
    if not stats.windows:
        return spark.sparkContext.parallelize([], 1), stats
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    stats.bands, stats.rows = bands, rows
    limit = config.max_bucket_size
    expanded = (
        prepared.mapPartitions(lambda records: _band_rows(records, bands, rows, partitions))
        .partitionBy(partitions, lambda part: part)
        .mapPartitions(lambda blocks: _bucket_pairs(blocks, n_docs, limit, partitions))
        .persist()
    )
    for buckets, oversized in expanded.filter(lambda kv: kv[0] == -1).values().collect():
        stats.buckets += buckets
        stats.oversized_buckets += oversized
    pairs = (
        expanded.filter(lambda kv: kv[0] >= 0)
        .partitionBy(partitions, lambda part: part)
        .mapPartitions(_unique_codes)
        .persist()
    )
    stats.pairs = pairs.map(len).sum()
    expanded.unpersist()
    if stats.oversized_buckets:
        log.info(
            "%d LSH buckets held more than %d documents and were not expanded into pairs",
            stats.oversized_buckets,
            limit,
        )
    return pairs, stats


def _unique_codes(blocks: Iterable[tuple[int, np.ndarray]]) -> Iterator[np.ndarray]:
    arrays = [block for _, block in blocks]
    if arrays:
        yield unique(np.concatenate(arrays))


# --- TF-IDF ----------------------------------------------------------------------------------


def _vocabulary_entries(prepared: Prepared) -> Iterator[tuple[int, int]]:
    for key in term_counts(prepared.features)[0].tolist():
        yield key, 1


@dataclass
class _Vocabulary:
    """The corpus vocabulary as ``score.tfidf_matrix`` holds it: a column per term key,
    ascending, and idf in float32."""

    keys: np.ndarray
    idf: np.ndarray

    @classmethod
    def build(cls, entries: list[tuple[int, int]], n_docs: int) -> _Vocabulary:
        keys = np.fromiter((key for key, _ in entries), dtype=np.uint64, count=len(entries))
        order = np.argsort(keys)
        # TfidfTransformer.fit with dtype float32 and smooth_idf, step by step.
        df = np.fromiter((n for _, n in entries), dtype=np.float32, count=len(entries))[order]
        df += 1.0
        idf = np.full_like(df, fill_value=n_docs + 1, dtype=np.float32)
        idf /= df
        np.log(idf, out=idf)
        idf += 1.0
        return cls(keys[order], idf)

    def row(self, features: Features) -> tuple[np.ndarray, np.ndarray]:
        """The document's L2-normalised TF-IDF row (columns ascending, float32 values), as
        TfidfTransformer computes it."""
        keys, counts = term_counts(features)
        if not len(keys):
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        columns = np.searchsorted(self.keys, keys)
        values = counts.astype(np.float32)
        np.log(values, out=values)  # sublinear tf
        values += 1.0
        values *= self.idf[columns]
        # sklearn's inplace_csr_row_normalize_l2: float32 squares summed in double, in order.
        norm = float(np.cumsum((values * values).astype(np.float64))[-1])
        if norm > 0.0:
            values = (values.astype(np.float64) / math.sqrt(norm)).astype(np.float32)
        return columns.astype(np.int32), values


@dataclass
class _Record:
    """What later stages need of a prepared document: no window signatures, and its TF-IDF
    row."""

    prepared: Prepared
    columns: np.ndarray
    values: np.ndarray

    @property
    def sorted_row(self) -> bool:
        return bool(np.all(np.diff(self.columns) > 0))


def _records(prepared: Iterable[tuple[int, Prepared]], vocabulary: Any) -> Iterator[tuple]:
    vocab = vocabulary.value  # unpickled once per Python worker, then cached by pyspark
    for index, p in prepared:
        columns, values = vocab.row(p.features)
        light = Prepared(p.doc, p.features, p.shingles, p.signature, _EMPTY_U32)
        yield index, _Record(light, columns, values)


def _pair_side(record: _Record) -> _Record:
    """A record without the document text (a pair needs only the id and the features)."""
    p = record.prepared
    doc = Document(id=p.doc.id, path="", text="")
    light = Prepared(doc, p.features, p.shingles, p.signature, _EMPTY_U32)
    return _Record(light, record.columns, record.values)


# --- scoring ---------------------------------------------------------------------------------


def _batch_cosines(batch: list[tuple[int, int, _Record, _Record]], canonical: bool) -> np.ndarray:
    """``score.pair_cosines`` of a batch of pairs, on a matrix of their rows in the corpus
    matrix's entry order (columns renumbered, order kept): the same float32 operations, so
    the same values as on the whole corpus's matrix.

    scipy multiplies two sparse matrices by a merge when every row of both has sorted
    columns (``canonical``), else by a linked list, and the two sum the products in different
    orders; one extra unsorted row forces the second.
    """
    rows = [r.columns for _, _, r, _ in batch] + [r.columns for _, _, _, r in batch]
    values = [r.values for _, _, r, _ in batch] + [r.values for _, _, _, r in batch]
    if not canonical:
        rows.append(np.array([1, 0], dtype=np.int32))
        values.append(np.ones(2, dtype=np.float32))
    flat = np.concatenate(rows)
    used = unique(flat)
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    matrix = sparse.csr_matrix(
        (
            np.concatenate(values).astype(np.float32),
            np.searchsorted(used, flat).astype(np.int32),
            indptr,
        ),
        shape=(len(rows), max(len(used), 2)),
    )
    m = len(batch)
    pairs = np.stack([np.arange(m), np.arange(m, 2 * m)], axis=1)
    if not canonical:
        pairs = np.vstack([pairs, [[2 * m, 2 * m]]])
    return pair_cosines(matrix, pairs)[:m]


def _requests(codes: np.ndarray, n_docs: int, partitions: int) -> Iterator[tuple[int, int]]:
    """``(document, partition)`` for both documents of each pair: a pair is scored in the
    partition of its first document, which needs both records. The pairs of one such
    partition are all in one block, so each request is made once."""
    first, second = codes // n_docs, codes % n_docs
    part = first % partitions
    wanted = unique(np.concatenate([first * partitions + part, second * partitions + part]))
    yield from zip((wanted // partitions).tolist(), (wanted % partitions).tolist())


def _pair_blocks(codes: np.ndarray, n_docs: int, partitions: int) -> Iterator[tuple]:
    part = (codes // n_docs) % partitions
    for where in unique(part).tolist():
        yield where, (None, codes[part == where])


def _compare_partition(
    items: Iterable[tuple[int, tuple[Any, Any]]], n_docs: int, config: ScanConfig
) -> Iterator[tuple]:
    """Score the pairs of a partition, given the records of every document they name."""
    records: dict[int, _Record] = {}
    blocks = []
    for _, (doc, value) in items:
        if doc is None:
            blocks.append(value)
        else:
            records[doc] = value
    if not blocks:
        return
    batch: list[tuple[int, int, _Record, _Record]] = []
    for code in np.sort(np.concatenate(blocks)).tolist():
        i, j = divmod(code, n_docs)
        batch.append((i, j, records[i], records[j]))
        if len(batch) >= COMPARE_BATCH:
            yield from _compare_batch(batch, config)
            batch = []
    if batch:
        yield from _compare_batch(batch, config)


def _compare_batch(
    batch: list[tuple[int, int, _Record, _Record]], config: ScanConfig
) -> Iterator[tuple]:
    """``(i, j, score, alignments, cosine)`` per pair: scored and aligned by
    ``pipeline.compare`` with the cosine scipy gives when some row of the pairs scored with
    it is unsorted (the usual case); the last item is the cosine it gives when all are, for
    a pair whose two rows are sorted (else None)."""
    cosines = _batch_cosines(batch, canonical=False).tolist()
    both_sorted = [k for k, (_, _, a, b) in enumerate(batch) if a.sorted_row and b.sorted_row]
    merged: dict[int, float] = {}
    if both_sorted:
        values = _batch_cosines([batch[k] for k in both_sorted], canonical=True).tolist()
        merged = dict(zip(both_sorted, values))
    for number, ((i, j, a, b), cosine) in enumerate(zip(batch, cosines)):
        score, found = compare(a.prepared, b.prepared, cosine, config)
        yield i, j, score, found, merged.get(number)


# --- groups ----------------------------------------------------------------------------------


def connected_components(edges: Any, partitions: int) -> list[list[int]]:
    """Connected components of an RDD of ``(i, j)`` edges by min-label propagation: every
    vertex takes the smallest label among its own and its neighbours' until no label changes
    (as many rounds as the widest component's diameter, plus one; duplicate groups are near
    cliques, so two or three). Every RDD shares one hash partitioning, so a round shuffles
    only the labels sent along edges.

    Returns:
        Components of at least two vertices, each sorted, ordered by first member.
    """
    both = (
        edges.flatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
        .distinct(partitions)
        .partitionBy(partitions)
        .persist()
    )
    labels = both.reduceByKey(min, partitions).map(
        lambda kv: (kv[0], min(kv)), preservesPartitioning=True
    )
    held = None  # the persisted RDD the current labels are read from
    rounds = 0
    while True:
        rounds += 1
        sent = both.join(labels, partitions).map(lambda kv: kv[1])  # (neighbour, my label)
        updated = labels.cogroup(sent, partitions).mapValues(_relabel).persist()
        if rounds % 5 == 0:
            updated.localCheckpoint()  # keep the lineage short on long chains
        changed = updated.filter(lambda kv: kv[1][1]).count()
        if held is not None:
            held.unpersist()
        held = updated
        labels = updated.mapValues(lambda label_changed: label_changed[0])
        if not changed:
            break
    groups = labels.map(lambda kv: (kv[1], kv[0])).groupByKey(partitions).values().map(sorted)
    found = sorted((g for g in groups.collect() if len(g) > 1), key=lambda g: g[0])
    both.unpersist()
    held.unpersist()
    log.info("connected components: %d rounds, %d components", rounds, len(found))
    return found


def _relabel(old_proposed: tuple[Iterable[int], Iterable[int]]) -> tuple[int, bool]:
    """The smallest label offered, and whether it is new."""
    old, proposed = old_proposed
    (current,) = old
    best = min(proposed, default=current)
    return (best, True) if best < current else (current, False)


# --- the scan --------------------------------------------------------------------------------


def scan_spark(
    paths: Iterable[str | os.PathLike[str]],
    config: ScanConfig | None = None,
    *,
    spark: Any = None,
    master: str | None = None,
    conf: dict[str, str] | None = None,
    partitions: int | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan files and folders with Spark; the same result as :func:`dedup.scan.local.scan`.

    Args:
        paths: Folders, files, Parquet datasets (``*.parquet``), local or URIs Hadoop reads
            (``hdfs://``, ``s3a://``, ``file://``).
        config: Parameters; the defaults when None.
        spark: A SparkSession to use (left running); else one is started with ``master`` and
            ``conf`` (see :func:`spark_session`) and stopped at the end.
        master: Spark master URL when a session is started.
        conf: Extra Spark properties when a session is started.
        partitions: Partitions of the document and pair stages; default one per
            DOCS_PER_PARTITION documents, at least twice the default parallelism.
        progress: Called as ``progress(stage, done, total)`` after each stage.

    Raises:
        ConfigError: pyspark, or a suitable Java, is missing.
        NoDocumentsError: no document could be read.
    """
    config = config or ScanConfig()
    paths = list(paths)
    owned = spark is None
    if owned:
        _import_pyspark()
        from pyspark.sql import SparkSession

        owned = SparkSession.getActiveSession() is None
        spark = spark_session(master, conf)
    try:
        return _scan(spark, paths, config, partitions, progress or no_progress)
    finally:
        if owned:
            spark.stop()


def _load_summary(items: Iterable[tuple[tuple[int, int], Any]]) -> Iterator[tuple]:
    """A partition's skipped inputs with their places, and its number of documents."""
    documents = 0
    for key, item in items:
        if isinstance(item, Document):
            documents += 1
        else:
            yield key, item
    yield None, documents


def _scan(
    spark: Any,
    paths: list[str | os.PathLike[str]],
    config: ScanConfig,
    partitions: int | None,
    report: Progress,
) -> ScanResult:
    from pyspark import StorageLevel

    sc = spark.sparkContext
    keep = StorageLevel.MEMORY_AND_DISK
    timings: dict[str, float] = {}
    cached: list[Any] = []

    def persist(rdd: Any) -> Any:
        cached.append(rdd)
        return rdd.persist(keep)

    clock = time.perf_counter()
    items = persist(_load(spark, paths, config))
    found = items.mapPartitions(_load_summary).collect()
    read = sum(n for key, n in found if key is None)
    skipped_items = [(key, item) for key, item in found if key is not None]
    docs = items.filter(lambda kv: isinstance(kv[1], Document))
    # The local loader keeps the first document of an id and skips the later ones.
    repeats = (
        docs.map(lambda kv: (kv[1].id, (kv[0], kv[1].path)))
        .groupByKey()
        .filter(lambda kv: len(kv[1]) > 1)
        .collect()
    )
    losers: dict[tuple[int, int], Skipped] = {}
    for doc_id, places in repeats:
        for key, path in sorted(places)[1:]:
            losers[key] = Skipped(path, f"duplicate document id {doc_id!r}", "duplicate-id")
    skipped_items.extend(losers.items())
    skipped_items.sort(key=lambda kv: kv[0])
    ignored = sum(1 for _, s in skipped_items if s.kind == "ignored")
    skipped = [s for _, s in skipped_items if s.kind != "ignored"]
    for skip in skipped:
        log.warning("skipped %s", skip)
    n_docs = read - len(losers)
    if not n_docs:
        reasons = f" ({len(skipped)} skipped)" if skipped else ""
        raise NoDocumentsError(
            f"no documents could be read from {', '.join(map(str, paths))}{reasons}", skipped
        )
    if losers:
        drop = sc.broadcast(set(losers))
        docs = docs.filter(lambda kv: kv[0] not in drop.value)
    parts = partitions or max(sc.defaultParallelism, math.ceil(n_docs / DOCS_PER_PARTITION))
    # Sorted into the local loader's order and numbered: partition k holds the k-th range of
    # numbers, and every later per-document stage keeps that layout (narrow maps only).
    numbered = docs.sortByKey(numPartitions=parts).values().zipWithIndex()
    lined = persist(numbered.map(lambda kv: (kv[1], (kv[0], line_keys(kv[0])))))
    timings["load"] = time.perf_counter() - clock
    report("load", n_docs, n_docs)

    clock = time.perf_counter()
    repeated = (
        lined.flatMap(lambda kv: [(key, 1) for key in kv[1][1]])
        .reduceByKey(add)
        .filter(lambda kv: kv[1] >= REPEAT_MIN_DOCS)
        .keys()
        .collect()
    )
    items.unpersist()
    shared_lines = sc.broadcast(set(repeated))
    cleaned = lined.mapPartitions(
        lambda records: _clean_partition(records, shared_lines.value), preservesPartitioning=True
    )
    timings["clean"] = time.perf_counter() - clock  # the cleaning itself runs with the next stage

    clock = time.perf_counter()
    num_perm, seed = config.num_perm, config.seed

    def prepare_partition(records: Iterable[tuple[int, Document]]) -> Iterator[tuple]:
        records = list(records)
        hasher = MinHasher(num_perm, seed)
        done = prepare([doc for _, doc in records], config, hasher)
        return zip((index for index, _ in records), done)

    prepared = persist(cleaned.mapPartitions(prepare_partition, preservesPartitioning=True))
    windows = prepared.map(lambda kv: len(kv[1].window_signatures)).sum()
    lined.unpersist()
    timings["features_minhash"] = time.perf_counter() - clock
    report("features", n_docs, n_docs)

    clock = time.perf_counter()
    pairs, stats = _candidates(spark, prepared, n_docs, windows, config, parts)
    timings["lsh"] = time.perf_counter() - clock
    report("lsh", stats.pairs, stats.pairs)

    clock = time.perf_counter()
    entries = prepared.flatMap(lambda kv: _vocabulary_entries(kv[1])).reduceByKey(add).collect()
    vocabulary = sc.broadcast(_Vocabulary.build(entries, n_docs))
    width = len(entries)
    del entries
    records = persist(
        prepared.mapPartitions(lambda rs: _records(rs, vocabulary), preservesPartitioning=True)
    )
    timings["tfidf"] = time.perf_counter() - clock  # the rows are computed with the next stage

    clock = time.perf_counter()
    # Each record travels once to every partition that scores a pair of it (not once per
    # pair): pairs are scored in the partition of their first document.
    shipped = (
        pairs.flatMap(lambda codes: _requests(codes, n_docs, parts))
        .join(records.mapValues(_pair_side), parts)
        .map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
    )
    blocks = pairs.flatMap(lambda codes: _pair_blocks(codes, n_docs, parts))
    results = persist(
        shipped.union(blocks)
        .partitionBy(parts, lambda part: part)
        .mapPartitions(lambda items: _compare_partition(items, n_docs, config))
    )
    scored = sorted(results.map(lambda r: r[:5]).collect(), key=lambda r: (r[0], r[1]))
    prepared.unpersist()
    # scipy sums a pair's products in another order when every row of the pairs it is given
    # at once (pair_cosines' chunk) has sorted columns; pairs of sorted rows brought both sums.
    chunk = inspect.signature(pair_cosines).parameters.get("chunk")
    size = chunk.default if chunk is not None else max(len(scored), 1)
    for start in range(0, len(scored), size):
        part = scored[start : start + size]
        if all(r[4] is not None for r in part):
            for r in part:
                r[2].cosine = r[4]
    timings["score_align"] = time.perf_counter() - clock
    report("align", len(scored), len(scored))

    clock = time.perf_counter()
    duplicate_edges = results.filter(lambda r: r[2].relation == "duplicate").map(
        lambda r: (r[0], r[1])
    )
    has_duplicates = any(r[2].relation == "duplicate" for r in scored)
    components = connected_components(duplicate_edges, parts) if has_duplicates else []
    timings["components"] = time.perf_counter() - clock

    clock = time.perf_counter()
    documents: list[Document] = []
    light: list[Prepared] = []
    indptr, columns, values = [0], [], []
    rows = records.map(lambda kv: (kv[0], kv[1].prepared.doc, kv[1].prepared.features, kv[1]))
    stream = rows.collect() if n_docs <= 20_000 else rows.toLocalIterator(prefetchPartitions=True)
    for index, doc, features, record in stream:
        if index != len(documents):
            raise RuntimeError(f"document {index} arrived out of order")  # a bug, not input
        documents.append(doc)
        light.append(Prepared(doc, features, _EMPTY_U64, _EMPTY_U64, _EMPTY_U32))
        columns.append(record.columns)
        values.append(record.values)
        indptr.append(indptr[-1] + len(record.columns))
    tfidf = sparse.csr_matrix(
        (
            np.concatenate(values),
            np.concatenate(columns),
            np.asarray(indptr, dtype=np.int32 if indptr[-1] < 2**31 else np.int64),
        ),
        shape=(n_docs, max(width, 1)),
        dtype=np.float32,
    )
    for rdd in cached:
        rdd.unpersist()
    pairs.unpersist()
    timings["collect"] = time.perf_counter() - clock
    scores = [score for _, _, score, _, _ in scored]
    links = [Link(i, j, found) for i, j, _, alignments, _ in scored for found in alignments]
    chars = np.array(
        [char_spans(light[x.a].features, light[x.b].features, x.alignment) for x in links],
        dtype=np.int64,
    ).reshape(-1, 4)
    result = assemble(
        LoadResult(documents, skipped, ignored),
        [p.features.hashes for p in light],
        scores,
        links,
        chars,
        tfidf,
        config,
        candidates=asdict(stats),
        timings=timings,
    )
    ids = [d.id for d in documents]
    result.duplicates = [
        {"id": f"dup-{number}", "members": [ids[i] for i in group]}
        for number, group in enumerate(components, start=1)
    ]
    return result


# --- output ----------------------------------------------------------------------------------


def write_spark_report(
    result: ScanResult,
    out: str | os.PathLike[str],
    *,
    spark: Any = None,
    report_max_pairs: int = DEFAULT_MAX_PAIRS,
) -> dict[str, Any]:
    """Write the scan's files to ``out``: a local folder, or a URI Hadoop writes
    (``hdfs://``, ``s3a://``, ``file://``; the files are written locally, then copied).

    Returns:
        The summary (``report.summary``), with ``out`` as given.

    Raises:
        OSError: the files cannot be written (for a URI, with Hadoop's reason).
    """
    if not is_uri(out):
        return write_report(result, out, report_max_pairs=report_max_pairs)
    if spark is None:
        spark = spark_session()
    with tempfile.TemporaryDirectory(prefix="dedup-out-") as folder:
        data = write_report(result, folder, report_max_pairs=report_max_pairs)
        data["out"] = str(out)
        write_summary(data, Path(folder) / "summary.json")  # it names the URI, not the copy
        jvm = spark.sparkContext._jvm
        hadoop_path = jvm.org.apache.hadoop.fs.Path
        try:
            target = hadoop_path(str(out))
            fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
            if not fs.mkdirs(target):
                raise OSError(f"cannot create the folder {out}")
            for name in data["files"]:
                fs.copyFromLocalFile(
                    False, True, hadoop_path(str(Path(folder) / name)), hadoop_path(target, name)
                )
            if "heatmap.png" not in data["files"]:
                fs.delete(hadoop_path(target, "heatmap.png"), False)  # a stale one would mislead
            if "matrix.csv" not in data["files"]:
                fs.delete(hadoop_path(target, "matrix.csv"), False)
        except OSError:
            raise
        except Exception as exc:  # py4j wraps Hadoop's IOExceptions
            raise OSError(_java_message(exc)) from None
    return data


def run_spark_scan(
    paths: Sequence[str | os.PathLike[str]],
    config: ScanConfig | None = None,
    *,
    out: str | os.PathLike[str],
    master: str | None = None,
    conf: dict[str, str] | None = None,
    partitions: int | None = None,
    report_max_pairs: int = DEFAULT_MAX_PAIRS,
    progress: Progress | None = None,
) -> tuple[ScanResult, dict[str, Any]]:
    """What ``dedup scan --engine spark`` runs: scan with Spark, write the files to ``out``
    (local or a URI), stop the session it started.

    Returns:
        The result and the summary ``write_report`` returns.

    Raises:
        ConfigError: pyspark or Java is missing, or Spark cannot start.
        NoDocumentsError: no document could be read.
        OSError: the output cannot be written.
    """
    _import_pyspark()
    from pyspark.sql import SparkSession

    owned = SparkSession.getActiveSession() is None
    spark = spark_session(master, conf)
    try:
        result = scan_spark(paths, config, spark=spark, partitions=partitions, progress=progress)
        data = write_spark_report(result, out, spark=spark, report_max_pairs=report_max_pairs)
    finally:
        if owned:
            spark.stop()
    return result, data
