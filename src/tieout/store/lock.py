"""The project's run lock: one run (or migration) writes to a store at a time.

Readers take no lock: every write goes to a temporary file moved into place with one `os.replace`, so a reader
(another command, a web page) never sees half a day.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

import tieout.store.days as days
from tieout.config import Project
from tieout.errors import RunInProgress
from tieout.store.version import CACHE, MANIFEST, schema_version

_locked_here = False  # this process holds the run lock


def held_here() -> bool:
    """Whether this process holds the run lock (a migration started under it needs not take it again)."""
    return _locked_here


def _sweep(project: Project) -> None:
    """A killed run's leftovers (SIGKILL skips every `finally`): temporary files that nothing would ever replace
    or remove again. The source history sweeps its own when the next run prepares a day (`repair`)."""
    import tieout.store.fingerprints as fingerprints  # imports the rule registry, which a store reader needs not load

    days.sweep(project)
    fingerprints.sweep(project)
    (project.store_path / f".{MANIFEST}.tmp").unlink(missing_ok=True)
    # The caches' temporary files (the run's validated entity map; the month-end active records and the
    # patterns' signatures, which reads write without the lock: a read whose file goes here keeps it uncached).
    for leftover in (project.store_path / CACHE).rglob(".*.tmp"):
        leftover.unlink(missing_ok=True)


@contextmanager
def run_lock(project: Project) -> Iterator[None]:
    """Hold the project's run lock, or stop at once if another run holds it.

    The lock is an OS lock on the project folder itself: it creates no file (a refused run writes
    nothing) and is released when the process ends, however it ends, so a killed run never leaves the
    project locked.
    """
    global _locked_here
    fd = os.open(project.root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(
                f"{project.root}: another tieout run is in progress on this project; nothing was done "
                "(try again when it has finished)"
            ) from None
        schema_version(project)  # a store from a newer tieout stops the run before any work
        _sweep(project)
        _locked_here = True
        yield
    finally:
        _locked_here = False
        os.close(fd)
