"""dedup: a near-duplicate and syndication detector for news text.

Library use::

    from dedup import scan, write_report
    result = scan(["seeds/"])
    write_report(result, "reports/seeds")
"""

from .config import ScanConfig
from .errors import ConfigError, DedupError, InputError, StoreError
from .models import Document, PairScore, Passage, ScanResult, Skipped
from .output.files import write_report
from .scan.local import scan
from .text.load import LoadResult, load_corpus

__all__ = [
    "ConfigError",
    "DedupError",
    "Document",
    "InputError",
    "LoadResult",
    "PairScore",
    "Passage",
    "ScanConfig",
    "ScanResult",
    "Skipped",
    "StoreError",
    "load_corpus",
    "scan",
    "write_report",
]
__version__ = "0.1.0"
