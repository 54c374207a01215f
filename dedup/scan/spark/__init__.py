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
   with that count.
3. **Prepare**: ``match.compare.prepare`` and ``match.windows.window_signatures`` per
   partition (features, shingles, MinHash).
4. **LSH** (:mod:`.candidates`): ``match.lsh.band_keys`` per partition; (key, band,
   document) rows are shuffled by key as numpy blocks, buckets are expanded into pairs by
   ``match.lsh.expand_buckets`` (the local rule), and pairs are made distinct by a second
   shuffle.
5. **TF-IDF** (:mod:`.pairs`): the document frequencies of the term keys are counted with
   Spark and collected to the driver; each partition's rows are then weighted by the same
   ``match.tfidf.Vocabulary`` as locally, and pair cosines come from
   ``match.tfidf.pair_cosines``: bit-identical to the local engine.
6. **Compare** (:mod:`.pairs`): pairs are partitioned by their first document, each
   document's record is sent once to every partition that holds one of its pairs, and
   ``match.compare.compare`` scores and aligns each pair there.
7. **Assemble**: documents, features, TF-IDF rows, scores and passages are streamed to the
   driver and ``scan.assemble.assemble`` builds the duplicate and provenance groups
   (passage-level reasoning over all links), derivation, story groups and the matrix, as
   locally. This bounds the corpus by the driver's memory as it bounds the local engine;
   ``benchmarks/SPARK_PLAN.md`` says how the last stage splits for 100M articles.

pyspark is an optional extra (``pip install 'dedup[spark]'``), imported only when a scan
runs (:mod:`.session`).
"""

from .engine import DOCS_PER_PARTITION, scan_spark
from .output import run_spark_scan, write_spark_report
from .session import PYSPARK_MISSING, check_java, check_master, required_java, spark_session

__all__ = [
    "DOCS_PER_PARTITION",
    "PYSPARK_MISSING",
    "check_java",
    "check_master",
    "required_java",
    "run_spark_scan",
    "scan_spark",
    "spark_session",
    "write_spark_report",
]
