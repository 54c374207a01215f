"""The gate on each backend (the ``location`` fixture gives a fresh SQLite and Redis index):
verdicts on the seeds, batches, its recorded LSH layout, the bucket limit, its comparison of
candidates against the scan's, worker processes and warm-up."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dedup.errors import ConfigError
from dedup.gate import Gate
from dedup.store import open_store
from tests.support import SEED_IDS, SEEDS, seed_id


def test_gate_gives_the_seed_verdicts(location: str) -> None:
    ids = {p: seed_id(p) for p in ("000", "001", "002", "003", "004")}
    texts = {p: (SEEDS / name).read_text(encoding="utf-8") for p, name in ids.items()}
    with Gate(location) as gate:
        verdicts = {p: gate.add({"id": ids[p], "text": texts[p]}) for p in ids}
        again = gate.add({"id": ids["000"], "text": texts["000"]})
        count = gate.store.count()

    assert verdicts["000"]["verdict"] == "new"
    assert verdicts["000"]["syndicated_from"] == []
    assert verdicts["001"]["verdict"] == "syndicated"
    assert verdicts["001"]["syndicated_from"] == [ids["000"]]
    assert verdicts["001"]["agencies"] == ["AFP"]
    assert verdicts["002"]["verdict"] == "syndicated"
    assert verdicts["002"]["syndicated_from"] == [ids["001"]]
    assert verdicts["003"]["verdict"] == "syndicated"
    assert verdicts["003"]["syndicated_from"] == [ids["002"]]
    assert verdicts["004"]["verdict"] == "syndicated"
    assert sorted(verdicts["004"]["syndicated_from"]) == [ids["001"], ids["002"], ids["003"]]
    assert all(v["status"] == "added" for v in verdicts.values())

    assert again["verdict"] == "duplicate"
    assert again["duplicate_of"] == ids["000"]
    assert again["status"] == "exists"
    assert again["added"] is False
    assert count == 5


def test_gate_index_many_then_check(location: str) -> None:
    records = [{"id": n[:3], "text": (SEEDS / n).read_text()} for n in SEED_IDS]
    with Gate(location) as gate:
        assert gate.index_many(records) == ["added"] * 5
        again = gate.check(records[3])
        assert again["verdict"] == "duplicate" and again["duplicate_of"] == "003"
        assert gate.stats()["documents"] == 5


def test_gate_records_its_bands_and_keeps_them(location: str) -> None:
    from dedup.gate import GATE_BANDS, GATE_ROWS

    with Gate(location) as gate:
        assert (gate.stats()["bands"], gate.stats()["rows"]) == (GATE_BANDS, GATE_ROWS)
    with pytest.raises(ConfigError, match="bands=12 \\(asked 20\\)"):
        Gate(location, bands=20)
    with Gate(location, bands=GATE_BANDS) as gate:  # the recorded value is fine
        assert gate.stats()["bands"] == GATE_BANDS


def test_gate_index_built_before_gate_bands_keeps_the_scans_bands(location: str) -> None:
    from dedup.config import ScanConfig
    from dedup.gate import INDEX_SETTINGS
    from dedup.match.lsh import lsh_params

    config = ScanConfig()
    store = open_store(location)
    store.init_settings({k: getattr(config, k) for k in INDEX_SETTINGS})  # no bands/rows
    with Gate(store) as gate:
        stats = gate.stats()
    assert (stats["bands"], stats["rows"]) == lsh_params(config.lsh_threshold, config.num_perm)


def test_gate_finds_a_passage_lifted_from_the_middle_of_a_long_story(location: str) -> None:
    # The incoming article quotes three sentences from the middle of an indexed story, inside
    # text of its own: only its tiling windows are looked up, and the indexed story's windows
    # start at every sentence, so the passage is found wherever it falls.
    story = [
        "The city council approved the new transport budget late on Tuesday after a long debate.",
        "Councillors voted by a narrow margin to fund two new tram lines in the eastern suburbs.",
        "The mayor said the plan would cut commuting times for tens of thousands of residents.",
        "Opposition members argued that the cost estimates were far too optimistic.",
        "Construction of the first line is expected to begin in the spring of next year.",
        "The second line depends on a grant that the national government has yet to confirm.",
        "Local businesses along the planned route have asked for compensation during the works.",
        "Cyclists' groups welcomed the decision but called for safer lanes beside the tracks.",
        "The budget also sets aside money for repairs to three bridges over the river.",
        "A final vote on the detailed design is scheduled for the council's meeting in March.",
        "Officials said public consultations would be held in every affected district.",
        "The transport authority will publish a timetable for the works within a month.",
    ]
    own = [
        "Residents of our town have followed the debate in the capital with great interest.",
        "Many of them travel to the city every morning and spend hours on crowded buses.",
        "The head of our chamber of commerce said the news came as a pleasant surprise.",
        "We will keep our readers informed as the plans take shape over the coming months.",
    ]
    incoming = "\n\n".join(own[:2] + story[5:8] + own[2:])
    with Gate(location) as gate:
        gate.add({"id": "wire", "text": "\n\n".join(story)})
        verdict = gate.check({"id": "local", "text": incoming})
    assert verdict["verdict"] == "syndicated"
    assert verdict["syndicated_from"] == ["wire"]
    shared = verdict["matches"][0]["passages"]
    assert any(story[6] in incoming[p["start"] : p["end"]] for p in shared)


def test_gate_bucket_limit_skips_a_text_the_index_holds_too_often(location: str) -> None:
    text = (SEEDS / seed_id("000")).read_text(encoding="utf-8")
    with Gate(location, max_bucket=2) as gate:
        gate.index_many([{"id": f"copy{n}", "text": text} for n in range(3)])
        capped = gate.check({"id": "again", "text": text})
    with Gate(location) as gate:  # the default limit (the scan's 1000)
        assert gate.max_bucket == 1000
        found = gate.check({"id": "again", "text": text})
    assert capped["verdict"] == "new" and capped["matches"] == []
    assert found["verdict"] == "duplicate" and found["duplicate_of"] == "copy0"


def test_the_gates_comparison_of_candidates_is_the_scans(location: str) -> None:
    """Candidates rebuilt from the index and compared through the incoming text's hash
    tables score and align as ``match.compare.compare`` scores fully prepared documents;
    those it leaves out are the ones compare calls ``none``."""
    from dataclasses import asdict

    from dedup.gate.compare import related_candidates
    from dedup.gate.records import candidates_of, checked_document, document_of, prepare_incoming
    from dedup.match.compare import compare, prepare
    from dedup.match.minhash import MinHasher

    texts = {name: (SEEDS / name).read_text(encoding="utf-8") for name in SEED_IDS}
    texts["unrelated"] = "Markets fell sharply on Monday. Traders blamed the weather in Chicago."
    with Gate(location) as gate:
        gate.index_many([{"id": n, "text": t} for n, t in texts.items()])
        config = gate.config
        records = gate.store.get_many(list(texts))
        candidates = candidates_of(records)
        # The same documents tokenised again (as cleaned when added), signatures included.
        docs = [document_of(record) for record in records]
        hasher = MinHasher(config.num_perm, config.seed)
        full = {p.doc.id: p for p in prepare(docs, config, hasher)}
        related_pairs = 0
        for name, text in texts.items():
            doc = checked_document({"id": f"q-{name}", "text": text}, config.max_file_bytes)
            incoming = prepare_incoming([doc], config, hasher)[0].prepared
            compared = related_candidates(incoming, candidates, config)
            related = {r.candidate.doc.id: (r.score, r.passages) for r in compared}
            for other, prepared in full.items():
                score, found = compare(incoming, prepared, 0.0, config)
                if score.relation == "none":
                    assert other not in related
                    continue
                got, got_found = related[other]
                assert got_found == found
                expected = asdict(score) | {"jaccard_estimate": None}
                assert asdict(got) | {"jaccard_estimate": None} == expected
                related_pairs += 1
            assert ("unrelated" in related) == (name == "unrelated")
    assert related_pairs > len(texts)  # each text with itself, and pairs of seeds


def test_a_candidate_rebuilt_from_the_index_keeps_its_language(location: str) -> None:
    """A French article read back from the index is stemmed as French, as the scan stems
    it: a French rewrite of it is one rewritten passage over the whole story."""
    from dedup.gate.compare import related_candidates
    from dedup.gate.records import candidates_of, checked_document, prepare_incoming
    from dedup.match.minhash import MinHasher
    from tests.test_rewrite import REWRITE_FR, WIRE_FR

    with Gate(location) as gate:
        gate.add({"id": "wire", "text": WIRE_FR})
        (candidate,) = candidates_of(gate.store.get_many(["wire"]))
        assert candidate.features.language == "fr"
        hasher = MinHasher(gate.config.num_perm, gate.config.seed)
        doc = checked_document({"id": "rewrite", "text": REWRITE_FR}, gate.config.max_file_bytes)
        incoming = prepare_incoming([doc], gate.config, hasher)[0].prepared
        (related,) = related_candidates(incoming, [candidate], gate.config)
    words = len(candidate.features)
    assert [(p.kind, p.b_start, p.b_end) for p in related.passages] == [(1, 0, words)]


@pytest.mark.slow
def test_index_many_in_worker_processes_stores_what_one_process_does(tmp_path: Path) -> None:
    texts = [(SEEDS / name).read_text(encoding="utf-8") for name in SEED_IDS]
    records = [
        {"id": f"d{n:03d}", "text": f"Story {n}, part {n % 7}.\n\n" + texts[n % len(texts)]}
        for n in range(230)
    ]
    stored = {}
    for workers in (1, 2):
        with Gate(tmp_path / f"w{workers}.db", workers=workers) as gate:
            assert gate.index_many(records) == ["added"] * len(records)
            stored[workers] = [gate.store.get(r["id"]) for r in records]
    for one, two in zip(stored[1], stored[2]):
        one.added = two.added = 0.0
        assert one == two


@pytest.mark.slow
def test_warm_up_loads_a_checks_kernels_and_changes_nothing(tmp_path: Path) -> None:
    """In a fresh process (no kernel loaded yet), warm_up runs every compiled step of a check
    and leaves the index as it was."""
    import subprocess

    index = tmp_path / "gate.db"
    texts = {name: (SEEDS / name).read_text(encoding="utf-8") for name in SEED_IDS}
    with Gate(index) as gate:
        gate.index_many([{"id": n, "text": t} for n, t in texts.items()])
    script = """
import json, sys
from dedup.match import align
from dedup.text import features
from dedup.gate import gate as gate_module
from dedup.text import packed
from dedup.match import score
from dedup.util import arrays
from dedup.match import rewrite
kernels = [align._probe_kernel, align._extend_kernel, score._overlap_kernel,
           features._term_counts_kernel, packed._unpack_arrays, arrays.table_lookup, arrays.table_store,
           rewrite._sentence_pair_keys, rewrite._rewrites]
before = [len(k.signatures) for k in kernels]
with gate_module.Gate(sys.argv[1]) as gate:
    gate.warm_up()
    print(json.dumps({"before": before, "after": [len(k.signatures) for k in kernels],
                      "count": gate.stats()["documents"], "warm": gate.get("warm-up")}))
"""
    run = subprocess.run(
        [sys.executable, "-c", script, str(index)], capture_output=True, text=True, check=True
    )
    report = json.loads(run.stdout)
    assert report["before"] == [0] * 9 and all(report["after"])
    assert report["count"] == len(texts) and report["warm"] is None
