"""How long stages report their progress, ``progress(stage, done, total)``, and say how
long they took (:func:`record_stage`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A ``Progress`` that reports nothing (the default of every engine)."""
    return None


_stages = logging.getLogger("dedup.stages")


def record_stage(
    timings: dict[str, float],
    stage: str,
    seconds: float,
    detail: Callable[[], str] | None = None,
) -> None:
    """``seconds`` of ``stage`` into ``timings``, and a line on the ``dedup.stages`` logger
    (INFO: what ``dedup scan -v`` shows) with the stage's ``detail()`` (its counts, counted
    only when the line is logged: a scan without ``-v`` does not walk its corpus for them)."""
    timings[stage] = seconds
    if _stages.isEnabledFor(logging.INFO):
        said = detail() if detail is not None else ""
        _stages.info("%-16s %8.2f s%s", stage, seconds, f"  {said}" if said else "")
