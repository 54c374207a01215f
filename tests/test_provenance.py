"""Provenance groups, agency attribution, derivation and story groups."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

import pytest

from dedup import scan
from dedup.group.agency import attribute_agencies
from dedup.group.provenance import Link, provenance_groups, reuse_units
from dedup.group.provenance import ProvenanceCluster as ProvenanceGroup
from dedup.match.align import Alignment


def short(ids):
    return sorted(i[:3] for i in ids)


def test_seed_provenance_groups_and_agencies(seeds_scan):
    groups = {tuple(short(g["members"])): g["agency"] for g in seeds_scan.provenance}
    assert groups == {
        ("000", "001"): "AFP",
        ("001", "002", "004"): "Reuters",
        ("002", "003", "004"): "AP",
    }


def test_every_seed_passage_is_in_one_group(seeds_scan):
    group_passages = [p for g in seeds_scan.provenance for p in g["passages"]]
    assert sorted(group_passages) == sorted(p.id for p in seeds_scan.passages)
    for passage in seeds_scan.passages:
        (group,) = [g for g in seeds_scan.provenance if passage.id in g["passages"]]
        assert passage.provenance == group["id"]
        assert {passage.a, passage.b} <= set(group["members"])


def test_seed_story_group(seeds_scan):
    assert [short(s["members"]) for s in seeds_scan.stories] == [
        ["000", "001", "002", "003", "004"]
    ]


def test_seed_derivation(seeds_scan):
    derivation = {d.id[:3]: d.derivation for d in seeds_scan.documents}
    for single in ("000", "003"):
        assert len(derivation[single]["groups"]) == 1, single
    for mixed in ("001", "002", "004"):
        shares = [g["share"] for g in derivation[mixed]["groups"]]
        assert len(shares) == 2 and min(shares) > 0.1, mixed
    assert set(derivation["001"]["agencies"]) == {"AFP", "Reuters"}
    assert set(derivation["004"]["agencies"]) == {"AP", "Reuters"}
    for d in derivation.values():
        assert d["reused"] + d["own"] == pytest.approx(1.0)
        assert d["label"] in {"wholly_derived", "partially_derived", "independent"}


def test_evidence_names_the_credit_lines(seeds_scan):
    afp = next(g for g in seeds_scan.provenance if g["agency"] == "AFP")
    lines = {e["id"][:3]: e["credits"] for e in afp["evidence"]}
    assert lines == {"000": ["– AFP"], "001": ["Source: Reuters/afp"]}


def link(a, b, a_span, b_span):
    return Link(a, b, Alignment(a_span[0], a_span[1], b_span[0], b_span[1], 10, 10))


def test_a_sentence_carried_by_two_wires_does_not_chain_them():
    # doc 1 carries the same sentence (tokens 0-20) as doc 0 (wire X) and doc 2 (wire Y);
    # 0 and 2 do not share it, so the triangle does not close.
    links = [link(0, 1, (0, 20), (0, 20)), link(1, 2, (2, 20), (5, 23))]
    assert reuse_units(links) == [[0], [1]]


def test_a_closed_triangle_is_one_unit():
    links = [
        link(0, 1, (0, 20), (0, 20)),
        link(1, 2, (2, 20), (5, 23)),
        link(0, 2, (0, 18), (3, 21)),
    ]
    assert reuse_units(links) == [[0, 1, 2]]


def test_trimmed_reruns_join_the_story_of_their_full_copies():
    # A wire story in docs 0,1,2 (two closed triangles) and a paragraph only 1 and 2 kept.
    links = [
        link(0, 1, (0, 20), (0, 20)),
        link(0, 2, (0, 20), (0, 20)),
        link(1, 2, (0, 20), (0, 20)),
        link(1, 2, (30, 50), (30, 50)),
    ]
    (group,) = provenance_groups(links, [[], [], []])
    assert group.members == [0, 1, 2] and group.links == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("credits", "expected"),
    [
        # the seeds' case: "Reuters/afp" beside an AFP group of the same article is Reuters
        ([["AFP"], ["Reuters", "AFP"], []], {"g1": "AFP", "g2": "Reuters"}),
        ([[], [], []], {"g1": None, "g2": None}),
        ([["AP"], ["AP"], ["AP"]], {"g1": "AP", "g2": "AP"}),
    ],
)
def test_agency_attribution_uses_all_the_evidence(credits, expected):
    groups = [ProvenanceGroup("g1", [0, 1], []), ProvenanceGroup("g2", [1, 2], [])]
    attribute_agencies(groups, credits)
    assert {g.id: g.agency for g in groups} == expected


WIRE_A = (
    "Rescue teams in the mountain province searched through the night for eleven climbers "
    "missing after an avalanche swept across the northern route on Saturday afternoon. "
    "The provincial governor said helicopters would resume flights at first light if the "
    "weather allowed, and that two climbers had been found alive near the lower camp. "
    "Officials said the route had been closed twice this season because of unstable snow."
)
WIRE_B = (
    "The national football federation sacked its head coach on Monday after the team failed "
    "to qualify for the continental championship for the second time in a row. "
    "A spokesman said the board had voted unanimously and that an interim coach would lead "
    "the squad in next month's friendly matches against two neighbouring countries. "
    "Supporters had called for the coach to go after a home defeat in the final qualifier."
)


def test_datelines_and_credit_lines_name_the_groups(tmp_path):
    (tmp_path / "wire_a.txt").write_text(f"KATHMANDU (AFP) - {WIRE_A}\n")
    (tmp_path / "outlet1.txt").write_text(
        f"Our own introduction to the day's news, written here.\n\n{WIRE_A}\n\n{WIRE_B}\n\nSource: AFP, Reuters\n"
    )
    (tmp_path / "wire_b.txt").write_text(f"LAGOS, March 3 (Reuters) - {WIRE_B}\n")
    (tmp_path / "outlet2.txt").write_text(f"{WIRE_B}\n\n— Reuters\n")
    result = scan([tmp_path])
    groups = {tuple(sorted(g["members"])): g["agency"] for g in result.provenance}
    assert groups == {
        ("outlet1.txt", "wire_a.txt"): "AFP",
        ("outlet1.txt", "outlet2.txt", "wire_b.txt"): "Reuters",
    }
    outlet1 = next(d for d in result.documents if d.id == "outlet1.txt")
    assert set(outlet1.derivation["agencies"]) == {"AFP", "Reuters"}
    assert outlet1.derivation["label"] == "wholly_derived"


def test_unrelated_articles_are_independent_and_in_no_group(tmp_path):
    (tmp_path / "a.txt").write_text(WIRE_A)
    (tmp_path / "b.txt").write_text(WIRE_B)
    result = scan([tmp_path])
    assert result.provenance == [] and result.stories == []
    assert [d.derivation["label"] for d in result.documents] == ["independent", "independent"]


def test_clusters_json_has_provenance_and_stories(seeds_scan, tmp_path):
    from dedup import write_report

    write_report(seeds_scan, tmp_path)
    clusters = json.loads((tmp_path / "clusters.json").read_text())
    assert set(clusters) == {"duplicates", "provenance", "stories"}
    for group in clusters["provenance"]:
        assert set(group) == {
            *("id", "members", "agency", "passages", "evidence"),
            *("origin", "origin_reason"),  # added 2026-12-02
        }
    record = json.loads((tmp_path / "documents.jsonl").read_text().splitlines()[1])
    assert record["derivation"]["label"] in {"wholly_derived", "partially_derived", "independent"}
    passage = json.loads((tmp_path / "passages.jsonl").read_text().splitlines()[0])
    assert passage["provenance"].startswith("prov-")


def test_story_groups_do_not_depend_on_the_matrix_limit(seeds_dir):
    from dedup import ScanConfig

    result = scan([seeds_dir], ScanConfig(matrix_limit=0))
    assert result.matrix is None
    assert [short(s["members"]) for s in result.stories] == [["000", "001", "002", "003", "004"]]


def test_story_groups_above_the_dense_limit_match_the_exact_ones(seeds_dir, tmp_path):
    import shutil

    from dedup.group.stories import story_groups
    from dedup.match.tfidf import tfidf_matrix
    from dedup.text.features import extract_features

    shutil.copytree(seeds_dir, tmp_path / "in")
    (tmp_path / "in" / "x1.txt").write_text(WIRE_A)
    (tmp_path / "in" / "x2.txt").write_text(WIRE_B)
    result = scan([tmp_path / "in"])
    tfidf = tfidf_matrix([extract_features(d) for d in result.documents])
    exact = story_groups(tfidf)
    assert exact == [[0, 1, 2, 3, 4]]
    assert story_groups(tfidf, limit=5) == exact  # 7 documents: the candidate path


# The pure-Python reuse units that the compiled union-find replaced: the reference it must
# reproduce exactly.
SAME_TEXT_OVERLAP = 0.5


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.parent[max(rx, ry)] = min(rx, ry)


def overlap(x: tuple[int, int], y: tuple[int, int]) -> float:
    # Comparisons rather than min()/max(): called for every pair of passages in a document.
    (x0, x1), (y0, y1) = x, y
    shared = (x1 if x1 < y1 else y1) - (x0 if x0 > y0 else y0)
    shorter = x1 - x0 if x1 - x0 < y1 - y0 else y1 - y0
    return shared / shorter if shared > 0 and shorter > 0 else 0.0


def reference_units(links: Sequence[Link]) -> list[list[int]]:
    """Cluster passages into units: each unit is one stretch of reused text.

    Two passages that overlap in a document they share (x–d and d–y) are the same text only
    when the triangle closes: x and y share that text too. A document that carries two wires'
    versions of one sentence therefore does not chain the two wires together.
    """
    union = UnionFind(len(links))
    parent = union.parent
    by_doc: dict[int, list[int]] = defaultdict(list)
    by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k, link in enumerate(links):
        by_doc[link.a].append(k)
        by_doc[link.b].append(k)
        by_pair[(min(link.a, link.b), max(link.a, link.b))].append(k)
    for doc, ks in by_doc.items():
        # Sweep by start: a passage overlaps only those starting before it ends. A pair whose
        # passages are already one unit needs no test: every union a triangle implies is also
        # tested from the triangle's other corners, so the units come out the same.
        ks = sorted(ks, key=lambda k: links[k].span(doc))
        spans = [links[k].span(doc) for k in ks]
        for first_index, k1 in enumerate(ks):
            l1 = links[k1]
            end1 = spans[first_index][1]
            root = union.find(k1)  # a member of k1's unit, even after later unions
            for second_index in range(first_index + 1, len(ks)):
                if spans[second_index][0] >= end1:
                    break
                k2 = ks[second_index]
                # The direct parent first: in a doc re-run by many, most pairs are one unit.
                if parent[k2] == root or union.find(k2) == union.find(k1):
                    continue
                if overlap(spans[first_index], spans[second_index]) < SAME_TEXT_OVERLAP:
                    continue
                l2 = links[k2]
                x, y = l1.other(doc), l2.other(doc)
                if x == y:
                    union.union(k1, k2)
                    continue
                for k3 in by_pair.get((min(x, y), max(x, y)), ()):
                    l3 = links[k3]
                    if (
                        overlap(l3.span(x), l1.span(x)) >= SAME_TEXT_OVERLAP
                        and overlap(l3.span(y), l2.span(y)) >= SAME_TEXT_OVERLAP
                    ):
                        union.union(k1, k2)
                        union.union(k1, k3)
                        break
    units: dict[int, list[int]] = defaultdict(list)
    for k in range(len(links)):
        units[union.find(k)].append(k)
    return sorted(units.values(), key=lambda u: u[0])


@pytest.mark.parametrize("seed", range(40))
def test_reuse_units_are_those_of_the_python_reference(seed):
    import random

    rng = random.Random(seed)
    docs = rng.randint(2, 9)
    links = []
    for _ in range(rng.randint(1, 60)):
        a, b = rng.sample(range(docs), 2)
        start_a, start_b = rng.randint(0, 60), rng.randint(0, 60)
        length = rng.randint(1, 30)
        links.append(
            link(
                a, b, (start_a, start_a + length), (start_b, start_b + length + rng.randint(-3, 3))
            )
        )
    assert reuse_units(links) == reference_units(links)
