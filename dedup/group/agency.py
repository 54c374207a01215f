"""The agency of each provenance group, from its members' credit lines."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol


class Attributed(Protocol):
    """What naming a group needs of it: its members (document indices), and where the agency
    and the members that credit it go."""

    members: list[int]
    agency: str | None
    evidence: list[int]


def attribute_agencies(groups: Sequence[Attributed], credits: Sequence[Sequence[str]]) -> None:
    """Name each group's agency from its members' credit lines, using all the evidence.

    A member crediting one agency votes 1 for it; a member crediting several (``Reuters/afp``)
    splits its vote. Groups are named strongest evidence first; once a group is named, a
    member's credit already explained by another of its groups no longer votes elsewhere: a
    group whose members credit ``Reuters/afp`` and nothing else, beside a group of the same
    article that is already AFP's, is Reuters'.
    """
    explained: dict[int, set[str]] = defaultdict(set)
    groups_of: dict[int, list[int]] = defaultdict(list)
    for number, group in enumerate(groups):
        for member in group.members:
            groups_of[member].append(number)

    def ballot(group: Attributed) -> tuple[tuple[bool, float, float], str] | None:
        votes: dict[str, float] = defaultdict(float)
        for member in group.members:
            open_credits = [a for a in credits[member] if a not in explained[member]]
            for agency in open_credits:
                votes[agency] += 1.0 / len(open_credits)
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked:
            return None
        margin = ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)
        return (margin > 0, ranked[0][1], margin), ranked[0][0]

    # A heap of ballots, best first (ties: the earlier group); a group's ballot changes only
    # when a group sharing a member is named, so only those are counted again.
    version = [0] * len(groups)
    heap: list[tuple[bool, float, float, int, int, str]] = []

    def push(number: int) -> None:
        version[number] += 1
        counted = ballot(groups[number])
        if counted is not None:  # no open credits now means none later either
            (clear, top, margin), agency = counted
            heapq.heappush(heap, (not clear, -top, -margin, number, version[number], agency))

    for number in range(len(groups)):
        push(number)
    named: set[int] = set()
    while heap:
        unclear, _, _, number, stamp, agency = heapq.heappop(heap)
        if stamp != version[number]:
            continue
        if unclear:
            break  # no group left with a clear winner
        group = groups[number]
        group.agency = agency
        group.evidence = [member for member in group.members if agency in credits[member]]
        named.add(number)
        version[number] += 1
        for member in group.members:
            explained[member].add(agency)
        for other in sorted({o for m in group.members for o in groups_of[m]} - named):
            push(other)
