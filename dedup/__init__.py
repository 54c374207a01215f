"""dedup: a near-duplicate and syndication detector for news text.

Library use::

    from dedup import scan, write_report
    result = scan(["seeds/"])
    write_report(result, "reports/seeds")
"""

from .config import ScanConfig
from .errors import ConfigError, DedupError, InputError, StoreError
from .models import (
    Credit,
    Document,
    DuplicateGroup,
    Evidence,
    PairScore,
    Passage,
    ProvenanceGroup,
    ScanResult,
    Skipped,
    StoryGroup,
)
from .output.files import write_report
from .scan.local import scan
from .text.load import LoadResult, load_corpus

__all__ = [
    "ConfigError",
    "Credit",
    "DedupError",
    "Document",
    "DuplicateGroup",
    "Evidence",
    "InputError",
    "LoadResult",
    "PairScore",
    "Passage",
    "ProvenanceGroup",
    "ScanConfig",
    "ScanResult",
    "Skipped",
    "StoreError",
    "StoryGroup",
    "load_corpus",
    "scan",
    "write_report",
]
__version__ = "0.1.0"
