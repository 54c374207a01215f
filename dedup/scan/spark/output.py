"""Writing a Spark scan's files: to a local folder, or to a URI Hadoop writes; and
``run_spark_scan``, what ``dedup scan --engine spark`` runs."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...config import ScanConfig
from ...models import ScanResult
from ...output.files import write_report, write_summary
from ...output.page import DEFAULT_MAX_PAIRS
from ...text.load import is_uri
from ...util.progress import Progress
from .engine import scan_spark
from .session import import_pyspark, java_message, spark_session


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
            raise OSError(java_message(exc)) from None
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
    import_pyspark()
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
