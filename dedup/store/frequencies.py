"""The SQLite store's cache of document frequencies, and the compiled loops that read and
write it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from numba import njit

from ..util.arrays import new_int_table, table_lookup, table_store


class FrequencyCache:
    """Document frequencies already read (signed term keys; 0 for terms no document has)
    and the number of documents, for one state of the index
    (:meth:`~dedup.store.SQLiteStore._state`).

    A check reads the frequencies of a few thousand terms; most come back in the next
    checks (the words of the news), so they are kept instead of read again. The cache is
    dropped when another connection commits, and follows this connection's own writes.

    The frequencies are a numba typed dictionary read and written by compiled loops: the
    entries of a Python dictionary are objects scattered over memory, and looking up
    thousands of them per check is slow.
    """

    LIMIT = 2_000_000  # terms kept (bounds the memory: about 120 MB); starts again beyond

    def __init__(self) -> None:
        self.frequencies = _new_frequencies()
        self.documents = 0
        self.state: tuple[int, int] | None = None

    def clear(self) -> None:
        self.frequencies = _new_frequencies()
        self.state = None

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The cached frequency of each key (int64), -1 where unknown."""
        return table_lookup(self.frequencies, keys)

    def store(self, keys: np.ndarray, frequencies: np.ndarray) -> None:
        """Keep the frequencies read for ``keys`` (int64 arrays)."""
        if len(self.frequencies) + len(keys) > self.LIMIT:
            self.frequencies = _new_frequencies()
        table_store(self.frequencies, keys, frequencies)

    def update(self, state: tuple[int, int], terms: Counter[int], documents: int) -> None:
        """Take a committed write's changes; ``state`` is the index's after it."""
        keys = np.fromiter(terms.keys(), dtype=np.int64, count=len(terms))
        deltas = np.fromiter(terms.values(), dtype=np.int64, count=len(terms))
        _adjust(self.frequencies, keys, deltas)
        self.documents += documents
        self.state = state


def _new_frequencies() -> Any:
    return new_int_table()


@njit(cache=True, nogil=True)
def _adjust(frequencies, keys, deltas):  # type: ignore[no-untyped-def]
    for i in range(len(keys)):
        if keys[i] in frequencies:
            frequencies[keys[i]] += deltas[i]
