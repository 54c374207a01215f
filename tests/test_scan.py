"""End to end on seeds/: the similarity matrix, pairs, passages and groups."""

from __future__ import annotations

import csv
import itertools
import json

import numpy as np
import pytest

from dedup import ScanConfig, scan, write_report
from dedup.errors import ConfigError, InputError

from .support import SEED_IDS, seed_id

SHARING = {
    ("000", "001"),
    ("001", "002"),
    ("001", "004"),
    ("002", "003"),
    ("002", "004"),
    ("003", "004"),
}
STOCK_ONLY = {("000", "002"), ("001", "003")}


@pytest.fixture(scope="module")
def seeds_report(tmp_path_factory, seeds_scan):
    out = tmp_path_factory.mktemp("report")
    write_report(seeds_scan, out)
    return out


def read_pairs(out):
    with (out / "pairs.csv").open(newline="") as handle:
        return {(row["a"][:3], row["b"][:3]): row for row in csv.DictReader(handle)}


def test_matrix_is_square_symmetric_with_unit_diagonal(seeds_report):
    with (seeds_report / "matrix.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", *SEED_IDS]
    assert [r[0] for r in rows[1:]] == SEED_IDS
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    assert values.shape == (5, 5)
    assert np.allclose(values, values.T)
    assert np.all(np.diag(values) == 1.0)
    assert np.all((values >= 0) & (values <= 1))
    assert all(len(v.split(".")[1]) == 4 for r in rows[1:] for v in r[1:])


def test_wire_sharing_pairs_are_shares_text(seeds_report):
    pairs = read_pairs(seeds_report)
    for key in SHARING:
        row = pairs[key]
        assert row["relation"] == "shares_text", key
        assert float(row["containment_a"]) > 0 and float(row["containment_b"]) > 0
        assert int(row["passages"]) >= 1


def test_stock_phrases_alone_are_not_reuse(seeds_report):
    pairs = read_pairs(seeds_report)
    for key in STOCK_ONLY:
        assert key not in pairs or pairs[key]["relation"] == "none", key


def test_pairs_csv_columns(seeds_report):
    with (seeds_report / "pairs.csv").open(newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:7] == [
        "a",
        "b",
        "cosine",
        "jaccard",
        "containment_a",
        "containment_b",
        "relation",
    ]
    assert {"passages", "coverage_a", "coverage_b", "jaccard_estimate"} <= set(header)


def test_passage_offsets_slice_the_shared_text(seeds_report):
    docs = {}
    with (seeds_report / "documents.jsonl").open() as handle:
        for line in handle:
            record = json.loads(line)
            docs[record["id"]] = record["text"]
    passages = [json.loads(line) for line in (seeds_report / "passages.jsonl").open()]
    assert passages
    for p in passages:
        a = docs[p["a"]][p["a_start"] : p["a_end"]]
        b = docs[p["b"]][p["b_start"] : p["b_end"]]
        assert p["kind"] in ("verbatim", "rewrite")
        if p["kind"] == "rewrite":  # sentences sharing word pairs, not words in a row
            assert p["words"] >= 12 and 0 < p["similarity"] <= 1
            continue
        assert p["words"] >= 12 and 0.5 <= p["similarity"] <= 1
        words_a, words_b = a.lower().split(), b.lower().split()
        assert words_a[-1].strip('.,”"') == words_b[-1].strip('.,”"') or p["similarity"] < 1
        assert p["excerpt"].startswith(" ".join(a.split())[:40])
    # the Reuters sentence 001, 002 and 004 all carry
    deepfakes = [p for p in passages if "hyper-realistic but fake videos" in p["excerpt"]]
    assert {(p["a"][:3], p["b"][:3]) for p in deepfakes} >= {("001", "002"), ("002", "004")}


def test_documents_jsonl_contract(seeds_report):
    records = [json.loads(line) for line in (seeds_report / "documents.jsonl").open()]
    assert [r["id"] for r in records] == SEED_IDS
    for r in records:
        assert {"id", "path", "title", "source", "credits", "chars", "text", "removed"} <= set(r)
        assert r["chars"] == len(r["text"])
    by_id = {r["id"]: r for r in records}
    assert by_id[seed_id("001")]["credits"] == ["Reuters", "AFP"]
    assert "‘deepfake’" in by_id[seed_id("004")]["text"]


def test_clusters_json(seeds_report):
    clusters = json.loads((seeds_report / "clusters.json").read_text())
    assert clusters["duplicates"] == []


def test_a_rerun_with_light_edits_is_a_duplicate(seeds_copy):
    original = (seeds_copy / seed_id("003")).read_text()
    edited = original.replace("Thursday", "on Thursday").replace(
        "anticompetitive", "anti-competitive"
    )
    (seeds_copy / "005_rerun.txt").write_text(edited)
    result = scan([seeds_copy])
    (group,) = result.duplicates
    assert group["members"] == [seed_id("003"), "005_rerun.txt"]
    relations = {(p.a[:3], p.b[:3]): p.relation for p in result.pairs}
    assert relations[("003", "005")] == "duplicate"
    assert relations[("002", "005")] == "shares_text"


def test_candidates_come_from_lsh_not_all_pairs(seeds_scan):
    all_pairs = set(itertools.combinations(range(5), 2))
    assert 0 < len(seeds_scan.pairs) < len(all_pairs)
    assert seeds_scan.candidates["windows"] > 5


def test_dense_matrix_is_skipped_above_the_limit(seeds_dir, tmp_path):
    result = scan([seeds_dir], ScanConfig(matrix_limit=3))
    files = write_report(result, tmp_path)["files"]
    assert result.matrix is None and "matrix.csv" not in files
    assert not (tmp_path / "matrix.csv").exists()
    assert (tmp_path / "pairs.csv").exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"num_perm": 3}, "num_perm must be between 16 and 1024, got 3"),
        ({"lsh_threshold": 1.5}, "lsh_threshold must be in (0, 1], got 1.5"),
        ({"shingle_size": "5"}, "shingle_size must be a whole number, got '5'"),
        (
            {"min_passage_words": 4, "seed_words": 5},
            "min_passage_words (4) must be at least seed_words (5)",
        ),
    ],
)
def test_config_is_validated(values, message):
    with pytest.raises(ConfigError) as caught:
        ScanConfig(**values)
    assert message in str(caught.value)


def test_unknown_parameter_is_rejected():
    with pytest.raises(ConfigError, match="unknown parameter"):
        ScanConfig.from_dict({"shingle": 4})


def test_no_readable_document_is_an_error(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="no documents could be read"):
        scan([tmp_path])


def test_prepare_from_kept_features_compares_the_same():
    # The scan keeps features between stages and prepares each chunk's documents from them;
    # the gate rebuilds candidates from stored features: both must compare as a fresh
    # prepare does. The windows the LSH indexes are signed apart, one signature each.
    from dedup.match.compare import compare, prepare
    from dedup.match.minhash import MinHasher
    from dedup.match.windows import window_signatures
    from dedup.text.clean import clean_documents
    from dedup.text.features import extract_features
    from dedup.text.load import load_corpus

    from .support import SEEDS

    config = ScanConfig()
    docs = load_corpus([SEEDS]).documents
    clean_documents(docs)
    hasher = MinHasher(config.num_perm, config.seed)
    full = prepare(docs, config, hasher)
    kept = prepare(docs, config, hasher, features=[extract_features(d) for d in docs])
    windows = window_signatures([p.features for p in full], config, hasher)
    assert all(len(w.signatures) == len(w.ranges) > 0 for w in windows)
    for (a, b), (ka, kb) in zip(
        itertools.combinations(full, 2), itertools.combinations(kept, 2), strict=True
    ):
        assert np.array_equal(a.signature, ka.signature)
        score, found = compare(a, b, 0.5, config)
        kept_score, kept_found = compare(ka, kb, 0.5, config)
        assert score == kept_score and found == kept_found


def test_the_cycle_collector_is_back_on_after_a_scan_even_a_failed_one(seeds_dir, tmp_path):
    import gc

    from dedup.scan.local import analyse

    assert gc.isenabled()
    scan([seeds_dir])
    assert gc.isenabled()
    with pytest.raises(AttributeError):
        analyse(None, ScanConfig())  # type: ignore[arg-type]
    assert gc.isenabled()


def test_pair_and_passage_tables_read_back_as_the_records_they_hold(seeds_scan):
    """A scan keeps pairs and passages as columns; read as records, built again from those
    records, they are the same, and they index like lists."""
    from dedup.match.align import PassageTable
    from dedup.models import PairScore, PairTable, Passage

    pairs, passages = seeds_scan.pairs, seeds_scan.passages
    assert isinstance(pairs, PairTable) and isinstance(passages, PassageTable)
    records = list(pairs)
    assert len(records) == len(pairs) > 0 and all(isinstance(p, PairScore) for p in records)
    ids = [d.id for d in seeds_scan.documents]
    again = PairTable.from_scores(ids, records)
    assert np.array_equal(again.docs, pairs.docs) and np.array_equal(again.scores, pairs.scores)
    assert list(again) == records and pairs[-1] == records[-1] and pairs[1:3] == records[1:3]
    with pytest.raises(IndexError):
        pairs[len(pairs)]
    counts = {
        r: sum(p.relation == r for p in records)
        for r in ("duplicate", "shares_text", "shares_quote", "none")
    }
    assert seeds_scan.relation_counts() == counts
    shown = list(passages)
    assert [p.id for p in shown] == [f"p{k}" for k in range(1, len(shown) + 1)]
    assert all(isinstance(p, Passage) for p in shown) and passages[-1] == shown[-1]
    text = {d.id: d.text for d in seeds_scan.documents}
    for p in shown:  # offsets and excerpts come from the documents' texts
        assert p.excerpt.split()[0] in text[p.a][p.a_start : p.a_end]
    groups = {k: g["id"] for g in seeds_scan.provenance for k in g["passages"]}
    assert {p.id: p.provenance for p in shown} == {p.id: groups.get(p.id) for p in shown}
