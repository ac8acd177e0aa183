"""Run a function in several spawned processes started together, and report what each one raised."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any

# Spawned interpreters import tieout afresh: seconds each on a loaded 2-core machine, so be generous.
TIMEOUT = 300


def _call(target: Callable[..., None], args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    try:
        target(*args, barrier)
        results.put("ok")
    except BaseException:
        results.put(traceback.format_exc())
        barrier.abort()  # a sibling still waiting at the barrier fails at once instead of hanging


def run_together(target: Callable[..., None], *arg_sets: tuple[Any, ...]) -> list[str]:
    """Call `target(*args, barrier)` in one process per argument tuple; each waits at `barrier` before the part
    that must happen at the same moment. Returns "ok" or the traceback of each."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(arg_sets), timeout=TIMEOUT)
    results = context.Queue()
    workers = [context.Process(target=_call, args=(target, args, barrier, results)) for args in arg_sets]
    for worker in workers:
        worker.start()
    try:
        return [results.get(timeout=TIMEOUT) for _ in workers]
    finally:
        for worker in workers:
            worker.join(TIMEOUT)
