"""Array helpers the stages share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numba import njit, typed, types


def unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D array, ascending: ``np.unique(values)`` by sorting.

    numpy 2.3 and later find the distinct values of an integer array with a hash table, which
    is several times slower than sorting on the shingle hashes and pair codes dedup makes
    distinct (docs/performance.md).
    """
    ordered = np.sort(values)
    return ordered[_run_starts(ordered)] if len(ordered) > 1 else ordered


def span_share(spans: Iterable[tuple[int, int]], length: int) -> float:
    """Share of ``length`` positions inside the union of ``[start, end)`` spans (within
    ``[0, length)``): the mean of a mask of them, without making one (a scan measures
    millions of a few spans each)."""
    if length <= 0:
        return 0.0
    covered = reach = 0  # positions in the union so far, and where it ends
    for start, end in sorted(spans):
        if end > reach:
            covered += end - max(start, reach)
            reach = end
    return covered / length


def runs(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal values of a sorted array starts, and its length."""
    if len(ordered) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    first = np.flatnonzero(_run_starts(ordered))
    return first, np.diff(np.append(first, len(ordered)))


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """For each value of a sorted, non-empty array, whether it starts a run of equal ones."""
    starts = np.empty(len(ordered), dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    return starts


@njit(cache=True, nogil=True)
def common(a, b):  # type: ignore[no-untyped-def]
    """Where the values both sorted unique arrays hold are: index arrays ``(in_a, in_b)``
    with ``a[in_a] == b[in_b]``, ascending (a compiled merge; callable from compiled code)."""
    in_a = np.empty(min(len(a), len(b)), dtype=np.int64)
    in_b = np.empty(len(in_a), dtype=np.int64)
    x = y = found = 0
    while x < len(a) and y < len(b):
        if a[x] < b[y]:
            x += 1
        elif a[x] > b[y]:
            y += 1
        else:
            in_a[found], in_b[found] = x, y
            found += 1
            x += 1
            y += 1
    return in_a[:found], in_b[:found]


# Open-addressing hash tables over uint64 keys for compiled code: one text's shingles or seed
# runs, probed with each of many other texts' instead of sorting those (the gate compares
# one incoming text with up to 50 stored ones, each used once). A table is an int64 array of
# slots, a power of two at least twice the keys, each -1 or the index of a key in ``keys``.
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing


@njit(cache=True, nogil=True)
def hash_table(keys):  # type: ignore[no-untyped-def]
    """The slots of distinct ``keys`` (uint64) for :func:`find`."""
    table = _empty_table(len(keys))
    for index in range(len(keys)):
        _insert(table, keys, index)
    return table


@njit(cache=True, nogil=True, inline="always")
def _empty_table(count):  # type: ignore[no-untyped-def]
    size = 2
    while size < 2 * count:
        size *= 2
    return np.full(size, -1, dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def _slot(key, size):  # type: ignore[no-untyped-def]
    # Bits 32 and up of the product: mixed by every bit of the key, enough for any table of
    # up to 2**32 slots (a text's runs).
    return np.int64((key * _MIX) >> np.uint64(32)) & (size - 1)


@njit(cache=True, nogil=True, inline="always")
def _probe(table, keys, key):  # type: ignore[no-untyped-def]
    """The slot holding ``key``, or the empty slot where it would go."""
    slot = _slot(key, len(table))
    while table[slot] >= 0 and keys[table[slot]] != key:
        slot = (slot + 1) & (len(table) - 1)
    return slot


@njit(cache=True, nogil=True, inline="always")
def _insert(table, keys, index):  # type: ignore[no-untyped-def]
    """Put ``keys[index]`` in ``table`` unless an equal key is there; whether it was put."""
    slot = _probe(table, keys, keys[index])
    if table[slot] >= 0:
        return False
    table[slot] = index
    return True


@njit(cache=True, nogil=True, inline="always")
def find(table, keys, key):  # type: ignore[no-untyped-def]
    """The index of ``key`` in ``keys`` (indexed by ``table``), or -1."""
    return table[_probe(table, keys, key)]


@njit(cache=True, nogil=True)
def distinct_shared(values, table, keys):  # type: ignore[no-untyped-def]
    """How many distinct values ``values`` (uint64) holds, and how many of those are in
    ``keys`` (indexed by ``table``): a set's size and its intersection with another's, without
    sorting it."""
    seen = _empty_table(len(values))
    distinct = shared = 0
    for index in range(len(values)):
        if _insert(seen, values, index):
            distinct += 1
            if find(table, keys, values[index]) >= 0:
                shared += 1
    return distinct, shared


def new_int_table() -> Any:
    """An empty numba typed dictionary of int64 to int64 (a cache that compiled loops read
    and write: the entries of a Python dictionary are objects scattered over memory, and
    looking up thousands of them per call is slow)."""
    return typed.Dict.empty(types.int64, types.int64)


@njit(cache=True, nogil=True)
def table_lookup(table, keys):  # type: ignore[no-untyped-def]
    """The value of each of ``keys`` (int64) in ``table``, -1 where it has none."""
    found = np.empty(len(keys), dtype=np.int64)
    for i in range(len(keys)):
        found[i] = table.get(keys[i], -1)
    return found


@njit(cache=True, nogil=True)
def table_store(table, keys, values):  # type: ignore[no-untyped-def]
    """Set ``table[keys[i]] = values[i]``."""
    for i in range(len(keys)):
        table[keys[i]] = values[i]
