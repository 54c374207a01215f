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


def record_stage(timings: dict[str, float], stage: str, seconds: float, detail: str = "") -> None:
    """``seconds`` of ``stage`` into ``timings``, and a line on the ``dedup.stages`` logger
    (INFO: what ``dedup scan -v`` shows) with the stage's ``detail`` (its counts)."""
    timings[stage] = seconds
    _stages.info("%-16s %8.2f s%s", stage, seconds, f"  {detail}" if detail else "")
