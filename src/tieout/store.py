"""The project's state: one Parquet file of findings per as-of date under `<store>/days/`.

Each day is written to a temporary file and moved into place with one `os.replace`, so a day is either
stored whole or not at all, and re-running a date replaces it (idempotent).
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tieout.config import Project
from tieout.errors import RunInProgress

_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.parquet$")


def days_dir(project: Project) -> Path:
    return project.store_path / "days"


def day_path(project: Project, as_of: date) -> Path:
    return days_dir(project) / f"{as_of.isoformat()}.parquet"


def stored_days(project: Project, *, until: date | None = None) -> list[date]:
    folder = days_dir(project)
    if not folder.is_dir():
        return []
    found = sorted(date.fromisoformat(m.group(1)) for p in folder.iterdir() if (m := _DAY_FILE.match(p.name)))
    return [d for d in found if until is None or d <= until]


def write_day(findings: pa.Table, project: Project, as_of: date) -> Path:
    """Store `findings` as the observations of `as_of`, atomically."""
    target = day_path(project, as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(findings, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


@contextmanager
def run_lock(project: Project) -> Iterator[None]:
    """Hold the project's run lock, or stop at once if another run holds it.

    The lock is an OS lock on the project folder itself: it creates no file (a refused run writes
    nothing) and is released when the process ends, however it ends, so a killed run never leaves the
    project locked.
    """
    fd = os.open(project.root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(
                f"{project.root}: another tieout run is in progress on this project; nothing was done "
                "(try again when it has finished)"
            ) from None
        _sweep(project)
        yield
    finally:
        os.close(fd)


def _sweep(project: Project) -> None:
    """Remove the temporary files of a run that was killed mid-write. Safe only under the run lock."""
    folder = days_dir(project)
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
