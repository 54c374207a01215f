"""``dedup eval``: run the pipeline on labeled data and measure it.

- METER (wire copy reuse, Press Association vs UK newspapers), :mod:`dedup.evaluation.meter`:
  first the folder scan (every text scanned together, nothing told), then the METER protocol
  (each story compared with its PA copy): the three-way and binary derivation labels'
  macro-F1, the passages' characters against the annotated ``<Verbatim>``/``<Rewrite>``
  spans, and how often a story's PA copy is a candidate and is linked.
- ECB+ (story groups): adjusted Rand index of the story groups against the events.
- tgnews pairs (a modern smoke test): how often "same story group" agrees with the label.
- seeds/: the acceptance of the provenance groups, as a pass/fail row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config import ScanConfig
from ..models import Document, ScanResult
from ..scan.local import analyse, scan
from ..text.load import LoadResult
from .datasets import load_ecbplus, load_tgnews
from .meter import evaluate_meter
from .metrics import adjusted_rand
from .rows import ANCHORS, EvalReport, Row

DEFAULT_DATA = Path("../shared/data")
SEED_GROUPS = {
    ("000", "001"): "AFP",
    ("001", "002", "004"): "Reuters",
    ("002", "003", "004"): "AP",
}


def _run(docs: list[Document], config: ScanConfig) -> ScanResult:
    return analyse(LoadResult(documents=docs), config)


def evaluate_ecbplus(path: Path, config: ScanConfig) -> list[Row]:
    """Adjusted Rand index of the story groups against ECB+'s events (subtopics)."""
    loaded = load_ecbplus(path)
    docs = [doc for doc, _ in loaded]
    result = _run(docs, config)
    group_of = {m: s.id for s in result.stories for m in s.members}
    predicted = [group_of.get(d.id, f"alone:{d.id}") for d in docs]
    gold = [subtopic for _, subtopic in loaded]
    return [
        Row(
            "ecbplus",
            "story groups ARI",
            adjusted_rand(gold, predicted),
            ANCHORS["ecbplus_ari_tfidf_average_linkage"],
            f"{len(docs)} docs, {len(set(gold))} events, {len(result.stories)} groups",
        ),
    ]


def evaluate_tgnews(path: Path, config: ScanConfig) -> list[Row]:
    """Share of labeled pairs where 'same story group' agrees with same/different thread,
    and how many same-thread pairs share text."""
    pairs = load_tgnews(path)
    agree = copies = 0
    for pair in pairs:
        result = _run([pair.first, pair.second], config)
        same_story = bool(result.stories)
        agree += same_story == pair.same_thread
        copies += any(p.relation != "none" for p in result.pairs) and pair.same_thread
    ok = sum(p.same_thread for p in pairs)
    return [
        Row(
            "tgnews",
            "story agreement",
            agree / len(pairs) if pairs else 0.0,
            None,
            f"{len(pairs)} pairs ({ok} same thread)",
        ),
        Row(
            "tgnews",
            "same-thread pairs sharing text",
            float(copies),
            None,
            "verbatim wire copies on different sites",
        ),
    ]


def evaluate_seeds(path: Path, config: ScanConfig) -> list[Row]:
    """The seeds' acceptance: three provenance groups with their agencies, one story,
    000 and 003 single-source, 001, 002 and 004 mixed."""
    result = scan([path], config)
    groups = {
        tuple(sorted(Path(m).name[:3] for m in g.members)): g.agency for g in result.provenance
    }
    stories = [sorted(Path(m).name[:3] for m in s.members) for s in result.stories]
    sources = {d.id[:3]: len((d.derivation or {}).get("groups", [])) for d in result.documents}
    checks = {
        "provenance groups and agencies": groups == SEED_GROUPS,
        "one story group of all five": stories == [["000", "001", "002", "003", "004"]],
        "000 and 003 single-source": sources.get("000") == 1 and sources.get("003") == 1,
        "001, 002, 004 mixed": all(sources.get(k) == 2 for k in ("001", "002", "004")),
    }
    failed = [name for name, ok in checks.items() if not ok]
    return [
        Row(
            "seeds",
            "acceptance",
            "pass" if not failed else "fail",
            None,
            "; ".join(failed) if failed else ", ".join(checks),
        ),
    ]


EVALUATIONS: dict[str, tuple[str, Callable[[Path, ScanConfig], list[Row]]]] = {
    "meter": ("meter-dev", evaluate_meter),
    "ecbplus": ("ecbplus-dev", evaluate_ecbplus),
    "tgnews": ("tgnews-pairs", evaluate_tgnews),
    "seeds": ("", evaluate_seeds),
}


def evaluate(paths: dict[str, Path], config: ScanConfig | None = None) -> EvalReport:
    """Run every evaluation whose data set exists.

    Args:
        paths: Data set name (``meter``, ``ecbplus``, ``tgnews``, ``seeds``) -> its path.
        config: Parameters (the defaults when None).
    """
    config = config or ScanConfig()
    report = EvalReport()
    for name, path in paths.items():
        if not Path(path).exists():
            report.missing.append(f"{name}: {path}")
            continue
        _, run = EVALUATIONS[name]
        rows = run(Path(path), config)
        report.rows.extend(rows)
        report.failed.extend(f"{r.dataset}: {r.detail}" for r in rows if r.value == "fail")
    return report
