"""Array helpers the stages share."""

from __future__ import annotations

import numpy as np


def unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D array, ascending: ``np.unique(values)`` by sorting.

    numpy 2.3 and later find the distinct values of an integer array with a hash table, which
    is 5x slower than sorting for 500 values and 25x slower for 100,000 (measured with numpy
    2.4 on this project's shingle hashes and pair codes).
    """
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
