"""Retention: which indexed documents a prune removes, so that an ingestion index does not
grow forever (``dedup gate prune``, and ``dedup gate serve --prune-*`` on a schedule).

A document's time is its ``date`` (ISO 8601, ``2026-11-02`` or ``2026-11-02T10:00:00Z``, or
RFC 2822, ``Mon, 02 Nov 2026 10:00:00 GMT``; a date without a zone is UTC), else the time it
was added to the index. A document with neither (indexed by a version that did not record
the time) is never removed by age, and goes first when only ``keep`` are kept.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ..errors import ConfigError
from ..store import Store

# Documents removed in one transaction: 213 removals a second one transaction each,
# 550 in batches of this many (benchmarks/prune.py, 20k SQLite documents); a service's adds
# wait for one batch at most.
PRUNE_BATCH = 200
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*")


def parse_duration(text: str) -> float:
    """Seconds in ``30d``, ``12h``, ``90m``, ``2w`` or ``3600s``.

    Raises:
        ConfigError: no number with one of those units.
    """
    found = _DURATION_RE.fullmatch(text)
    if found is None:
        raise ConfigError(
            f"{text!r} is not a duration: give a number and a unit, s, m, h, d or w (30d)"
        )
    return float(found.group(1)) * _UNITS[found.group(2)]


def document_time(date: Any, added: float) -> float | None:
    """A document's time for retention (Unix seconds): its ``date`` when it reads as one,
    else when it was added, else None."""
    if isinstance(date, str) and date.strip():
        parsed = _parsed_date(date.strip())
        if parsed is not None:
            return parsed
    return added if added > 0 else None


def _parsed_date(text: str) -> float | None:
    for parse in (_iso, parsedate_to_datetime):
        try:
            when = parse(text)
        except (ValueError, TypeError, IndexError, OverflowError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return None


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class PrunePlan:
    """What a prune removes.

    Attributes:
        remove: The ids to remove, oldest first.
        documents: How many documents the index held.
        undated: How many of them have no time (kept by ``older_than``).
    """

    remove: list[str]
    documents: int
    undated: int


def prune_plan(
    dates: Sequence[tuple[str, Any, float]],
    *,
    older_than: float | None = None,
    keep: int | None = None,
    now: float,
) -> PrunePlan:
    """The documents to remove of those ``dates`` lists (id, date, added: the store's
    ``dates()``): those whose time is more than ``older_than`` seconds before ``now``, and
    all but the ``keep`` newest.

    Raises:
        ConfigError: neither rule, or a negative one.
    """
    if older_than is None and keep is None:
        raise ConfigError("say what to prune: --older-than (30d) or --keep (a number), or both")
    if (older_than is not None and older_than < 0) or (keep is not None and keep < 0):
        raise ConfigError("--older-than and --keep cannot be negative")
    timed = sorted(
        ((document_time(date, added), doc_id) for doc_id, date, added in dates),
        key=lambda item: (-math.inf if item[0] is None else item[0], item[1]),
    )
    doomed: set[str] = set()
    if older_than is not None:
        cutoff = now - older_than
        doomed.update(doc_id for when, doc_id in timed if when is not None and when < cutoff)
    if keep is not None:
        doomed.update(doc_id for _, doc_id in timed[: max(0, len(timed) - keep)])
    undated = sum(when is None for when, _ in timed)
    return PrunePlan([i for _, i in timed if i in doomed], len(timed), undated)


def prune(
    store: Store,
    *,
    older_than: float | None = None,
    keep: int | None = None,
    now: float | None = None,
    lock: AbstractContextManager[Any] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Remove what :func:`prune_plan` says, ``PRUNE_BATCH`` documents at a time (each batch
    one SQLite transaction, each document one Redis script: a prune killed half way has
    removed some of the documents it was to remove and nothing else, and leaves an index
    that opens), each batch under ``lock`` when given (a service's write lock: checks and
    adds go on between batches).

    Returns:
        ``removed`` (0 with ``dry_run``, which removes nothing), ``to_remove``,
        ``documents`` (before), ``remaining`` and ``undated``.
    """
    plan = prune_plan(
        store.dates(), older_than=older_than, keep=keep, now=time.time() if now is None else now
    )
    removed = 0
    doomed = [] if dry_run else plan.remove
    for start in range(0, len(doomed), PRUNE_BATCH):
        with lock or nullcontext():
            removed += store.remove_many(doomed[start : start + PRUNE_BATCH])
    return {
        "removed": removed,
        "to_remove": len(plan.remove),
        "documents": plan.documents,
        "remaining": plan.documents - removed,
        "undated": plan.undated,
        "dry_run": dry_run,
    }
