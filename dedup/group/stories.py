"""Story groups: articles about the same event, shared text or not (TF-IDF cosine, average
linkage)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix

from ..match.candidates import TermPairs, term_pairs
from ..util.parallel import fork_map
from .graph import components

# Average-linkage TF-IDF cosine above which two articles are the same story (tuned on ECB+).
STORY_THRESHOLD = 0.2


def story_groups(
    tfidf: csr_matrix,
    threshold: float = STORY_THRESHOLD,
    limit: int = 5000,
    workers: int = 1,
    *,
    terms: TermPairs | None = None,
) -> list[list[int]]:
    """Articles about the same event: average-linkage clusters of TF-IDF cosine.

    Average linkage, unlike single link, does not chain two stories through one article that
    mentions both. Up to ``limit`` documents the clustering is exact. Above it, no N x N matrix
    is built: candidate pairs come from MinHash LSH over each document's top TF-IDF terms,
    pairs whose cosine reaches the threshold form a graph, and the clustering runs inside each
    connected component (a component still larger than ``limit`` is split at a higher
    similarity first). Those pairs are read off ``terms`` (the candidate stage's term pairs)
    when they can be (:meth:`~dedup.match.candidates.TermPairs.narrowed`), the same pairs.

    Returns:
        Every group of at least two documents (sorted lists of indices), by first member.
        The same for any number of ``workers`` (processes scoring the candidate pairs and
        clustering the components).
    """
    n = tfidf.shape[0]
    if n < 2:
        return []
    if n <= limit:
        return _average_linkage(tfidf, np.arange(n), threshold)
    pairs, similarity = _story_pairs(tfidf, threshold, workers, terms)
    groups: list[list[int]] = []
    to_link: list[np.ndarray] = []
    _cluster_components(tfidf, pairs, similarity, threshold, limit, groups, to_link)
    # Components are clustered independently: on the workers, a few hundred at a time.
    step = COMPONENTS_PER_TASK
    chunks = [to_link[start : start + step] for start in range(0, len(to_link), step)]
    for found in fork_map(_link_components, (tfidf, threshold), chunks, workers):
        groups.extend(found)
    return sorted(groups, key=lambda g: g[0])


def _link_components(
    state: tuple[csr_matrix, float], components: list[np.ndarray]
) -> list[list[int]]:
    tfidf, threshold = state
    return [
        group for members in components for group in _average_linkage(tfidf, members, threshold)
    ]


STORY_MAX_BUCKET = 200  # more documents than this with the same top terms: a genre, not a story
STORY_LSH_THRESHOLD = 0.1  # same-story articles share more of their top terms (ECB+)
COMPONENTS_PER_TASK = 200  # story components clustered per task of a worker process


def _story_pairs(
    tfidf: csr_matrix, threshold: float, workers: int, terms: TermPairs | None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of documents sharing enough of their top TF-IDF terms whose cosine reaches
    ``threshold``, sorted, and their cosines."""
    lsh, bucket = STORY_LSH_THRESHOLD, STORY_MAX_BUCKET
    if terms is not None:
        found = terms.narrowed(threshold=lsh, max_bucket=bucket, min_cosine=threshold)
        if found is not None:
            return found
    computed = term_pairs(
        tfidf, threshold=lsh, max_bucket=bucket, min_cosine=threshold, workers=workers
    )
    return computed.pairs, computed.cosines


def _cluster_components(
    tfidf: csr_matrix,
    pairs: np.ndarray,
    similarity: np.ndarray,
    cut: float,
    limit: int,
    groups: list[list[int]],
    to_link: list[np.ndarray],
) -> None:
    """The components of the graph of pairs at or above ``cut`` to cluster by average
    linkage (``to_link``); a component of two is a group as it is (``groups``), one larger
    than ``limit`` is split at a higher cut first."""
    n = tfidf.shape[0]
    for component in components(n, pairs):
        members = np.array(component)
        if len(members) > limit and cut < 0.95:
            inside = np.isin(pairs[:, 0], members) & np.isin(pairs[:, 1], members)
            stronger = inside & (similarity >= cut + 0.1)
            _cluster_components(
                tfidf, pairs[stronger], similarity[stronger], cut + 0.1, limit, groups, to_link
            )
            continue
        if len(members) == 2:
            # Joined by a pair at or above ``cut`` (>= threshold): one group, as linkage says.
            groups.append(sorted(component))
            continue
        to_link.append(members)


def _average_linkage(tfidf: csr_matrix, members: np.ndarray, threshold: float) -> list[list[int]]:
    rows = tfidf[members]
    similarity = np.asarray((rows @ rows.T).todense(), dtype=np.float64)
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    condensed = distance[np.triu_indices(len(members), k=1)]
    tree = linkage(condensed, method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    clusters: dict[int, list[int]] = defaultdict(list)
    for member, label in zip(members.tolist(), labels.tolist()):
        clusters[label].append(member)
    return sorted((sorted(c) for c in clusters.values() if len(c) > 1), key=lambda g: g[0])
