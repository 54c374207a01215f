"""Parameters of a scan, with their defaults and validation.

Defaults were chosen on the development data (seeds/, METER, Reuters-21578); the docs'
"How it works" page says which value came from where.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class ScanConfig:
    """Everything a scan can be told.

    Attributes:
        shingle_size: Words per shingle for Jaccard, containment and document MinHash.
        num_perm: MinHash permutations (signature length).
        lsh_threshold: Jaccard similarity of two passage windows above which MinHash LSH
            reports them as candidates (a lower value finds more edited reuse, costs more pairs).
        window_words: Target length, in words, of the sentence windows indexed for passage reuse.
        seed_words: Length of the exact word runs that seed a passage alignment.
        min_passage_words: Shortest shared passage that counts as reuse (shorter runs are stock
            phrases: names, titles, quoted slogans).
        min_passage_similarity: Alignment-quality floor: share of a passage's words that match.
        duplicate_coverage: Two documents are duplicates when passages cover at least this share
            of both bodies.
        max_file_bytes: Files (and records inside JSONL/WARC) larger than this are skipped.
        matrix_limit: Largest corpus for which the dense similarity matrix is written.
        max_bucket_size: LSH buckets with more windows than this are treated as boilerplate and
            not expanded into pairs (keeps cost near-linear).
        seed: Random seed of the MinHash permutations.
        workers: Processes for the per-document and per-pair stages (cleaning, features,
            signatures, scoring, alignment); 0 is one per available CPU core. The results do
            not depend on it.
        neighbours: Besides the LSH's candidates, each document is compared with this many
            of its most similar documents by distinctive terms (they reach rewritten copy,
            which shares names, numbers and rare words more than sentences); 0 turns it off.
        neighbour_cosine: The least TF-IDF cosine of such a neighbour.
    """

    shingle_size: int = 5
    num_perm: int = 128
    lsh_threshold: float = 0.3
    window_words: int = 40
    seed_words: int = 3
    min_passage_words: int = 12
    min_passage_similarity: float = 0.5
    duplicate_coverage: float = 0.8
    max_file_bytes: int = 20_000_000
    matrix_limit: int = 5_000
    max_bucket_size: int = 1_000
    seed: int = 1
    workers: int = 0
    neighbours: int = 10
    neighbour_cosine: float = 0.2

    def __post_init__(self) -> None:
        _check_int("shingle_size", self.shingle_size, 1, 20, "word 3-5 is usual for news text")
        _check_int("num_perm", self.num_perm, 16, 1024, "try 128")
        _check_fraction("lsh_threshold", self.lsh_threshold, "try 0.3")
        _check_int("window_words", self.window_words, 10, 1000, "try 40 (about two sentences)")
        _check_int("seed_words", self.seed_words, 1, 10, "try 3")
        _check_int("min_passage_words", self.min_passage_words, 3, 10_000, "try 12")
        if self.min_passage_words < self.seed_words:
            raise ConfigError(
                f"min_passage_words ({self.min_passage_words}) must be at least seed_words "
                f"({self.seed_words}): a passage is built from seeds"
            )
        _check_fraction("min_passage_similarity", self.min_passage_similarity, "try 0.5")
        _check_fraction("duplicate_coverage", self.duplicate_coverage, "try 0.8")
        _check_int("max_file_bytes", self.max_file_bytes, 1, 1 << 40, "a size in bytes")
        _check_int("matrix_limit", self.matrix_limit, 0, 100_000, "0 turns the matrix off")
        _check_int("max_bucket_size", self.max_bucket_size, 2, 10_000_000, "try 1000")
        _check_int("seed", self.seed, 0, 2**32 - 1, "any 32-bit number")
        _check_int("workers", self.workers, 0, 1024, "0 means one per CPU core")
        _check_int("neighbours", self.neighbours, 0, 1000, "try 10; 0 turns them off")
        _check_fraction("neighbour_cosine", self.neighbour_cosine, "try 0.2")

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (written into the scan summary)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ScanConfig:
        """Build a config from a dict, rejecting unknown names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**values)


def _check_int(name: str, value: object, low: int, high: int, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r} ({hint})")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value} ({hint})")


def _check_fraction(name: str, value: object, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number between 0 and 1, got {value!r} ({hint})")
    if not 0.0 < float(value) <= 1.0:
        raise ConfigError(f"{name} must be in (0, 1], got {value} ({hint})")
