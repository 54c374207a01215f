"""Running a stage on several processes of this machine.

A stage is a function ``work(state, chunk)`` mapped over chunks of its input. The workers are
forked from the calling process, so ``state`` (the corpus, its prepared documents) reaches
them without being pickled; only the chunks and the results travel. Where the platform cannot
fork (Windows), or one worker is asked for, the chunks are worked in the calling process:
the results are the same either way, in the order of the chunks.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

_state: Any = None  # the stage's state inside a worker, inherited from the parent
# Chunks a worker process works before a fresh one is forked in its place. Reading the
# parent's objects writes their reference counts, so a long-lived worker copies page after
# page of the inherited state until it holds most of it, and a scan of a million articles
# then runs out of memory. A fresh worker shares them again (forking costs a few tens of
# milliseconds).
TASKS_PER_WORKER = 32


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int) -> int:
    """``workers`` processes, or one per available core when it is 0."""
    return workers or available_cores()


def can_fork() -> bool:
    """Whether worker processes can inherit the caller's memory here."""
    return "fork" in multiprocessing.get_all_start_methods()


def spans(total: int, size: int) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of at most ``size`` covering ``range(total)``."""
    return [(start, min(start + size, total)) for start in range(0, total, max(1, size))]


def _install(state: Any) -> None:
    global _state
    _state = state


def _run(task: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    work, chunk = task
    return work(_state, chunk)


def fork_map(
    work: Callable[[Any, Chunk], Result],
    state: Any,
    chunks: Sequence[Chunk],
    workers: int,
) -> Iterator[Result]:
    """``work(state, chunk)`` for every chunk, on up to ``workers`` forked processes.

    Results come back in the order of ``chunks``, each as soon as it and those before it are
    done. ``work`` must be a module-level function (it is sent to the workers by name). An
    exception in a worker is raised here.
    """
    if workers <= 1 or len(chunks) <= 1 or not can_fork():
        for chunk in chunks:
            yield work(state, chunk)
        return
    # Objects that exist now are left out of the collector's passes: a collection in a worker
    # would otherwise touch (and so copy) every page of the inherited state.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(
            min(workers, len(chunks)), _install, (state,), maxtasksperchild=TASKS_PER_WORKER
        ) as pool:
            yield from pool.imap(_run, [(work, chunk) for chunk in chunks])
    finally:
        gc.unfreeze()
