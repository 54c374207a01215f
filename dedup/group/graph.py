"""Connected components of a graph of documents (scipy), the groups' common ground."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(n: int, edges: Sequence[tuple[int, int]] | np.ndarray) -> list[list[int]]:
    """Connected components with at least two members, each sorted, ordered by first member.

    ``edges``: pairs of indices below ``n`` (a sequence of pairs or an ``(m, 2)`` array)."""
    pairs = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if n == 0 or len(pairs) == 0:
        return []
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")  # members of a component stay ascending
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [g.tolist() for g in np.split(order, bounds) if len(g) > 1]
    return sorted(groups, key=lambda g: g[0])
