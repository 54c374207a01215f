"""Duplicate groups: the same article re-run (connected components of duplicate pairs)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..models import DuplicateGroup
from .graph import components


def duplicate_groups(
    ids: Sequence[str], duplicate_pairs: Sequence[tuple[int, int]] | np.ndarray
) -> list[DuplicateGroup]:
    """Duplicate groups (``dup-N``): connected components of the duplicate pairs
    (document indices), by first member.

    Duplicate pairs are strict (passages cover most of both documents), so connected
    components do not chain unrelated articles in practice.
    """
    return [
        DuplicateGroup(f"dup-{number}", [ids[i] for i in group])
        for number, group in enumerate(components(len(ids), duplicate_pairs), start=1)
    ]
