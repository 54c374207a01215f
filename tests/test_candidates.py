"""Candidates besides the sentence windows' LSH: identical texts, and neighbours by terms."""

from __future__ import annotations

import numpy as np

from dedup import ScanConfig, scan
from dedup.match.candidates import identical_pairs, nearest

# A price table: every line a fragment, repeated in other reports of the same feed, so the
# cleaning keeps none of it; its re-run is still the same text.
TABLE = (
    "MAR8  --     -- MINNEAPOLIS WHEAT\n MAY7 284 3/4            UP  1 1/4\n"
    " JUL7 280 1/4            OFF   1/2\n SEP7     277            UP      1\n"
    " DEC7  --     --\n MAR8  --     --\n"
)


def test_identical_texts_are_linked_to_the_first_in_a_star():
    keys = np.array([7, 3, 7, 9, 3, 7], dtype=np.uint64)
    assert identical_pairs(keys).tolist() == [[0, 2], [0, 5], [1, 4]]
    assert identical_pairs(np.array([1, 2, 3], dtype=np.uint64)).tolist() == []


def test_nearest_keeps_each_documents_k_best_neighbours():
    pairs = np.array([[0, 1], [0, 2], [0, 3], [2, 3]])
    cosines = np.array([0.9, 0.5, 0.7, 0.1])
    # The best of 0 is 1, of 2 and of 3 is 0: (2, 3) is nobody's best.
    assert nearest(pairs, cosines, 4, 1).tolist() == [True, True, True, False]
    assert nearest(pairs, cosines, 4, 2).tolist() == [True, True, True, True]
    # Ties go to the lower document.
    assert nearest(np.array([[0, 1], [0, 2]]), np.array([0.5, 0.5]), 3, 1).tolist() == [
        True,
        True,
    ]
    assert nearest(np.array([[0, 2], [1, 2]]), np.array([0.5, 0.5]), 3, 1).tolist() == [
        True,
        True,
    ]


def test_identical_tables_are_duplicates_whatever_the_cleaning_keeps(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        "\n".join(
            f'{{"id": "{n}", "source": "feed", "text": {text!r}}}'.replace("'", '"')
            for n, text in [
                ("14011", TABLE.replace("\n", "\\n")),
                ("14012", "MAR8 -- -- MINNEAPOLIS WHEAT\\n MAY7 290 UP 2\\n DEC7 -- --"),
                ("14013", "MAR8 -- -- MINNEAPOLIS WHEAT\\n JUL7 281 OFF 1\\n DEC7 -- --"),
                ("14014", TABLE.replace("\n", "\\n")),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = scan([tmp_path])
    relations = {(p.a[-5:], p.b[-5:]): p.relation for p in result.pairs}
    assert relations[("14011", "14014")] == "duplicate"
    assert [g.members for g in result.duplicates] == [["a.jsonl#14011", "a.jsonl#14014"]]


WIRE = (
    "Keith Burstein, a composer of classical music, sued The Times at the High Court in London "
    "over a diary item published in June 1997. The item said Burstein had organised hecklers "
    "to wreck performances of modern atonal music by Sir Harrison Birtwistle at Covent Garden. "
    "David Price, solicitor advocate for Burstein, asked the jury to award damages of between "
    "20,000 and 50,000 pounds. Justin Rushbrooke, for the newspaper, said the booing in March "
    "1994 had upset members of the audience."
)
# The same facts, names and numbers, every sentence rewritten: no sentence window shared.
REWRITE = (
    "Birtwistle's music was booed at Covent Garden in March 1994, and Times diarists later "
    "blamed composer Keith Burstein. In June 1997 the paper said he organised hecklers. "
    "Burstein has now taken The Times to the High Court in London. His solicitor advocate, "
    "David Price, wants the jury to give him between 20,000 and 50,000 pounds in damages, "
    "while Justin Rushbrooke, representing the paper, told the court the audience was upset."
)
OTHER = (
    "Farmers in the north of the county reported a late harvest after weeks of rain, and "
    "grain prices rose on the local exchange as merchants waited for dry weather to return."
)


def test_a_rewrite_sharing_names_and_numbers_is_a_candidate_by_its_terms(tmp_path):
    for name, text in (("wire", WIRE), ("rewrite", REWRITE), ("other", OTHER)):
        (tmp_path / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    with_terms = scan([tmp_path])
    assert {(p.a, p.b) for p in with_terms.pairs} == {("rewrite.txt", "wire.txt")}
    assert with_terms.candidates["window_pairs"] == 0
    assert with_terms.candidates["term_pairs"] == 1
    without = scan([tmp_path], ScanConfig(neighbours=0))
    assert list(without.pairs) == []


def test_the_story_groups_read_the_term_pairs_they_would_find_off_the_candidates(tmp_path):
    from tests.support import write_reruns

    reruns = write_reruns(tmp_path / "reruns.jsonl")
    from dedup.group.stories import STORY_LSH_THRESHOLD, STORY_MAX_BUCKET, story_groups
    from dedup.match.candidates import TERM_LSH_THRESHOLD, TERM_MAX_BUCKET, term_pairs
    from dedup.match.tfidf import tfidf_matrix
    from dedup.text.features import extract_features

    result = scan([reruns], ScanConfig(workers=1))
    tfidf = tfidf_matrix([extract_features(d) for d in result.documents])
    wide = term_pairs(
        tfidf, threshold=TERM_LSH_THRESHOLD, max_bucket=TERM_MAX_BUCKET, min_cosine=0.1
    )
    own = term_pairs(
        tfidf, threshold=STORY_LSH_THRESHOLD, max_bucket=STORY_MAX_BUCKET, min_cosine=0.2
    )
    narrowed = wide.narrowed(
        threshold=STORY_LSH_THRESHOLD, max_bucket=STORY_MAX_BUCKET, min_cosine=0.2
    )
    assert narrowed is not None and len(own.pairs) < len(wide.pairs)
    assert np.array_equal(narrowed[0], own.pairs) and np.array_equal(narrowed[1], own.cosines)
    # What cannot be read off them is not: a lower cosine, or other buckets.
    assert (
        wide.narrowed(threshold=STORY_LSH_THRESHOLD, max_bucket=STORY_MAX_BUCKET, min_cosine=0.05)
        is None
    )
    assert wide.narrowed(threshold=STORY_LSH_THRESHOLD, max_bucket=3, min_cosine=0.2) is None
    groups = story_groups(tfidf, limit=10, terms=wide)
    assert groups and groups == story_groups(tfidf, limit=10)
