"""Groups of documents: duplicate groups (the same article re-run)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(n: int, edges: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Connected components with at least two members, each sorted, ordered by first member."""
    if n == 0 or not edges:
        return []
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(index)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def duplicate_groups(ids: Sequence[str], duplicate_pairs: Sequence[tuple[int, int]]) -> list[dict]:
    """Duplicate groups as ``{"id": "dup-N", "members": [...]}`` (public contract).

    Duplicate pairs are strict (passages cover most of both documents), so connected
    components do not chain unrelated articles in practice.
    """
    return [
        {"id": f"dup-{number}", "members": [ids[i] for i in group]}
        for number, group in enumerate(components(len(ids), duplicate_pairs), start=1)
    ]
