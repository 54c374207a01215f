"""dedup: a near-duplicate and syndication detector for news text.

Library use::

    from dedup import scan, write_report
    result = scan(["seeds/"])
    write_report(result, "reports/seeds")
"""

import importlib
from typing import Any

from .config import ScanConfig
from .errors import ConfigError, DedupError, InputError, StoreError
from .util.version import dedup_version

# The scan's modules and records (numpy, numba, scikit-learn) are imported when first asked
# for, so that ``dedup --help`` and ``import dedup.errors`` stay quick.
_LAZY = {
    **dict.fromkeys(
        [
            "Credit",
            "Document",
            "DuplicateGroup",
            "Evidence",
            "PairScore",
            "Passage",
            "ProvenanceGroup",
            "ScanResult",
            "Skipped",
            "StoryGroup",
        ],
        "models",
    ),
    "LoadResult": "text.load",
    "load_corpus": "text.load",
    "scan": "scan.local",
    "write_report": "output.files",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dedup' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


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
__version__ = dedup_version()
