"""Write a scan's results as files: documents.jsonl, matrix.csv, pairs.csv, passages.jsonl,
clusters.json, report.html, heatmap.png and summary.json (their names, columns and fields are a
public contract)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from ..models import ScanResult
from .page import DEFAULT_MAX_PAIRS, heatmap_order, render_heatmap_png, render_html

PAIR_COLUMNS = (
    "a",
    "b",
    "cosine",
    "jaccard",
    "containment_a",
    "containment_b",
    "relation",
    "jaccard_estimate",
    "passages",
    "coverage_a",
    "coverage_b",
    "origin",
    "origin_reason",
    "verbatim_a",
    "verbatim_b",
    "rewrite_a",
    "rewrite_b",
    "quote_a",
    "quote_b",
)


def _atomic_writer(path: Path, binary: bool = False):
    """Open ``path`` for writing through a temporary file renamed into place on success."""

    class _Writer:
        def __enter__(self):
            self.tmp = path.with_name(path.name + ".tmp")
            if binary:
                self.handle = self.tmp.open("wb")
            else:
                self.handle = self.tmp.open("w", encoding="utf-8", newline="")
            return self.handle

        def __exit__(self, kind, value, traceback):
            self.handle.close()
            if kind is None:
                os.replace(self.tmp, path)
            else:
                self.tmp.unlink(missing_ok=True)

    return _Writer()


def _number(value: float) -> str:
    return f"{value:.4f}"


def summary(
    result: ScanResult, out_dir: str | Path | None = None, files: list[str] | None = None
) -> dict[str, Any]:
    """The machine-readable summary of a scan (``summary.json`` and ``--json``)."""
    skipped_kinds: dict[str, int] = {}
    for skip in result.skipped:
        skipped_kinds[skip.kind] = skipped_kinds.get(skip.kind, 0) + 1
    return {
        "documents": len(result.documents),
        "skipped": len(result.skipped),
        "skipped_by_kind": skipped_kinds,
        "skipped_inputs": [s.to_record() for s in result.skipped],
        "ignored_files": result.ignored,
        "candidate_pairs": len(result.pairs),
        "relations": result.relation_counts(),
        "passages": len(result.passages),
        "duplicate_groups": len(result.duplicates),
        "provenance_groups": len(result.provenance),
        "story_groups": len(result.stories),
        "matrix": result.matrix is not None,
        "out": str(out_dir) if out_dir is not None else None,
        "files": files or [],
        "parameters": result.config.to_dict(),
        "lsh": dict(result.candidates),
        "seconds": {stage: round(t, 4) for stage, t in result.timings.items()},
    }


def write_documents(result: ScanResult, path: Path) -> None:
    """``documents.jsonl``: one object per document, in scan order."""
    with _atomic_writer(path) as handle:
        for doc in result.documents:
            handle.write(json.dumps(doc.to_record(), ensure_ascii=False) + "\n")


def write_matrix(result: ScanResult, path: Path) -> None:
    """``matrix.csv``: header ``id,<id1>,...``, one row per document (TF-IDF cosine)."""
    assert result.matrix is not None
    ids = [d.id for d in result.documents]
    with _atomic_writer(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", *ids])
        for doc_id, row in zip(ids, result.matrix):
            writer.writerow([doc_id, *(_number(v) for v in row)])


def write_pairs(result: ScanResult, path: Path) -> None:
    """``pairs.csv``: one row per scored candidate pair."""
    with _atomic_writer(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PAIR_COLUMNS)
        for p in result.pairs:
            writer.writerow(
                [
                    p.a,
                    p.b,
                    _number(p.cosine),
                    _number(p.jaccard),
                    _number(p.containment_a),
                    _number(p.containment_b),
                    p.relation,
                    _number(p.jaccard_estimate),
                    p.passages,
                    _number(p.coverage_a),
                    _number(p.coverage_b),
                    p.origin,
                    p.origin_reason,
                    _number(p.verbatim_a),
                    _number(p.verbatim_b),
                    _number(p.rewrite_a),
                    _number(p.rewrite_b),
                    _number(p.quote_a),
                    _number(p.quote_b),
                ]
            )


def write_passages(result: ScanResult, path: Path) -> None:
    """``passages.jsonl``: one object per shared passage."""
    with _atomic_writer(path) as handle:
        for passage in result.passages:
            handle.write(json.dumps(passage.to_record(), ensure_ascii=False) + "\n")


def write_clusters(result: ScanResult, path: Path) -> None:
    """``clusters.json``: the groups (duplicates now; provenance and stories extend it)."""
    with _atomic_writer(path) as handle:
        groups = {
            "duplicates": [group.to_dict() for group in result.duplicates],
            "provenance": [group.to_dict() for group in result.provenance],
            "stories": [group.to_dict() for group in result.stories],
        }
        json.dump(groups, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def write_html(
    result: ScanResult,
    path: Path,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    order: list[int] | None = None,
) -> None:
    """``report.html``: the self-contained page (overview, heatmap, groups, pairs)."""
    page = render_html(result, max_pairs=max_pairs, order=order)
    with _atomic_writer(path) as handle:
        handle.write(page)


def write_heatmap(result: ScanResult, path: Path, *, order: list[int] | None = None) -> bool:
    """``heatmap.png``; without a matrix, removes a stale one and returns False."""
    image = render_heatmap_png(result, order)
    if image is None:
        path.unlink(missing_ok=True)
        return False
    with _atomic_writer(path, binary=True) as handle:
        handle.write(image)
    return True


def write_report(
    result: ScanResult,
    out_dir: str | os.PathLike[str],
    *,
    report_max_pairs: int = DEFAULT_MAX_PAIRS,
) -> dict[str, Any]:
    """Write every output file of a scan into ``out_dir`` and return the summary.

    Args:
        result: The scan.
        out_dir: The output folder (created when missing).
        report_max_pairs: Most pairs ``report.html`` shows (it also bounds the groups and
            documents listed, and so the page's size).

    Raises:
        ConfigError: ``report_max_pairs`` is not a whole number of at least 0.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = ["documents.jsonl", "pairs.csv", "passages.jsonl", "clusters.json"]
    write_documents(result, out / "documents.jsonl")
    matrix_path = out / "matrix.csv"
    if result.matrix is not None:
        write_matrix(result, matrix_path)
        files.insert(1, "matrix.csv")
    elif matrix_path.exists():
        matrix_path.unlink()  # a stale matrix from an earlier, smaller scan would mislead
    write_pairs(result, out / "pairs.csv")
    write_passages(result, out / "passages.jsonl")
    write_clusters(result, out / "clusters.json")
    order = heatmap_order(result)
    write_html(result, out / "report.html", max_pairs=report_max_pairs, order=order)
    files.append("report.html")
    if write_heatmap(result, out / "heatmap.png", order=order):
        files.append("heatmap.png")
    files.append("summary.json")
    data = summary(result, out, files)
    write_summary(data, out / "summary.json")
    return data


def write_summary(data: dict[str, Any], path: Path) -> None:
    """``summary.json``: the summary without its timings (the file is the same run to run)."""
    with _atomic_writer(path) as handle:
        json.dump(
            {k: v for k, v in data.items() if k != "seconds"}, handle, ensure_ascii=False, indent=2
        )
        handle.write("\n")
