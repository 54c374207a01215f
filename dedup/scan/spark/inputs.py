"""The Spark scan's inputs: files listed on the driver (the local loader's plan for local
paths, Hadoop's file systems for URIs) and read on the executors by dedup's own loader, so
every format, id and skipped input is as in a local scan; Parquet datasets read by Spark,
each row through :func:`~dedup.text.load.record_document`."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ...config import ScanConfig
from ...errors import InputError, NoDocumentsError
from ...models import Document, Skipped
from ...text.load import (
    RECORD_FIELDS,
    FirstIdWins,
    folder_group,
    input_format,
    is_uri,
    plan_inputs,
    read_file,
    record_document,
    skip_kind,
)
from .session import java_message

log = logging.getLogger(__name__)


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
    """Files to read and inputs skipped on the driver, each with its place in input order:
    local paths as the local loader plans them (:func:`~dedup.text.load.plan_inputs`), and
    URIs listed by Hadoop's file systems; Parquet datasets whole."""
    tasks: list[_Task] = []
    skipped: list[tuple[tuple[int, int], Skipped]] = []

    def add(path: str, rel: str, kind: str) -> None:
        tasks.append(_Task(len(tasks) + len(skipped), path, rel, kind))

    def skip(item: Skipped) -> None:
        skipped.append(((len(tasks) + len(skipped), 0), item))

    for raw in paths:
        text = str(raw)
        if is_uri(text) and _is_parquet(text):
            add(text, PurePosixPath(text.rstrip("/")).name, "parquet")
        elif is_uri(text):
            for rel, uri in _list_uri(spark, text):
                if uri is None:
                    skip(Skipped(text, rel, "unreadable"))
                elif rel.rsplit("/", 1)[-1].startswith("_") and input_format(Path(rel)):
                    # Hadoop's input formats never read names starting with "_".
                    why = "not read: Hadoop skips names starting with '_'"
                    skip(Skipped(rel, why, "unreadable"))
                else:
                    add(uri, rel, "uri")
        elif _is_parquet(Path(raw).name) and Path(raw).exists():
            add(str(Path(raw).resolve()), Path(raw).name, "parquet")
        else:
            for item in plan_inputs([raw]):
                if isinstance(item, Skipped):
                    skip(item)
                else:
                    add(str(item.path), item.rel, "file")
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
        return [(f"unreadable ({java_message(exc)})", None)]
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


def _load_summary(items: Iterable[tuple[tuple[int, int], Any]]) -> Iterator[tuple]:
    """A partition's skipped inputs with their places, and its number of documents."""
    documents = 0
    for key, item in items:
        if isinstance(item, Document):
            documents += 1
        else:
            yield key, item
    yield None, documents


@dataclass
class Loaded:
    """What the load stage gives: every document (``(place, Document)``, in any partition
    order; ``place`` is its ``(input, record)`` place in input order), how many, and the
    inputs skipped or ignored."""

    documents: Any
    count: int
    skipped: list[Skipped]
    ignored: int
    source: Any  # the persisted RDD the documents are read from: unpersist once they are used


def load_documents(
    spark: Any, paths: Sequence[str | os.PathLike[str]], config: ScanConfig
) -> Loaded:
    """Read every input on the executors; the skipped inputs (with the documents whose id an
    earlier one took: :class:`~dedup.text.load.FirstIdWins`) come back to the driver.

    Raises:
        NoDocumentsError: no document could be read.
    """
    from pyspark import StorageLevel

    items = _load(spark, paths, config).persist(StorageLevel.MEMORY_AND_DISK)
    found = items.mapPartitions(_load_summary).collect()
    read = sum(n for key, n in found if key is None)
    skipped_items = [(key, item) for key, item in found if key is not None]
    docs = items.filter(lambda kv: isinstance(kv[1], Document))
    repeats = (
        docs.map(lambda kv: (kv[1].id, (kv[0], kv[1].path)))
        .groupByKey()
        .filter(lambda kv: len(kv[1]) > 1)
        .collect()
    )
    ids = FirstIdWins()
    losers: dict[tuple[int, int], Skipped] = {}
    for doc_id, places in repeats:
        for key, path in sorted(places):
            repeat = ids.check(doc_id, path)
            if repeat is not None:
                losers[key] = repeat
    skipped_items.extend(losers.items())
    skipped_items.sort(key=lambda kv: kv[0])
    ignored = sum(1 for _, s in skipped_items if s.kind == "ignored")
    skipped = [s for _, s in skipped_items if s.kind != "ignored"]
    for skip in skipped:
        log.warning("skipped %s", skip)
    count = read - len(losers)
    if not count:
        reasons = f" ({len(skipped)} skipped)" if skipped else ""
        raise NoDocumentsError(
            f"no documents could be read from {', '.join(map(str, paths))}{reasons}", skipped
        )
    if losers:
        drop = spark.sparkContext.broadcast(set(losers))
        docs = docs.filter(lambda kv: kv[0] not in drop.value)
    return Loaded(docs, count, skipped, ignored, items)
