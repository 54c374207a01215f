"""How the stores write 64-bit band keys and term keys (both uint64 in dedup).

SQLite's integers are signed 64-bit, so the SQLite store keeps each key's bits as an int64
(:func:`signed`). Redis names a band set and a term's hash field with 8 raw big-endian bytes
(:func:`key_bytes`, :func:`term_fields`). A document's own keys column is little-endian
(:meth:`~dedup.store.base.StoredDocument.pack_keys`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_UINT64 = (1 << 64) - 1


def signed(keys: Iterable[int]) -> list[int]:
    """uint64 keys as SQLite's signed 64-bit integers (the same bits)."""
    return np.asarray(list(keys), dtype=np.uint64).view(np.int64).tolist()


def _big_endian(values: Iterable[int] | np.ndarray) -> bytes:
    """uint64 values as one string of 8 big-endian bytes each."""
    return np.asarray(values, dtype=np.uint64).astype(">u8").tobytes()


def key_bytes(keys: Iterable[int]) -> bytes:
    """Band keys, distinct and sorted, as one string of 8-byte big-endian unsigned integers."""
    values = list(keys)
    try:
        array = np.asarray(values, dtype=np.uint64)
    except OverflowError:  # signed int64 keys (as SQLite keeps them)
        array = np.asarray([int(k) & _UINT64 for k in values], dtype=np.uint64)
    return _big_endian(np.unique(array))


def term_fields(terms: Iterable[int] | np.ndarray, *, distinct: bool = False) -> list[bytes]:
    """Term keys (uint64) as their fields of the term frequency hash, 8 bytes big-endian
    each, in order, or sorted and each once with ``distinct``."""
    packed = _big_endian(terms if isinstance(terms, np.ndarray) else list(terms))
    fields = [packed[i : i + 8] for i in range(0, len(packed), 8)]
    return sorted(set(fields)) if distinct else fields
