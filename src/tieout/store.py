"""The project's state: one Parquet file of findings per as-of date under `<store>/days/`.

Each day is written to a temporary file and moved into place with one `os.replace`, so a day is either
stored whole or not at all, and re-running a date replaces it (idempotent). Readers (another command, a
web page) never see half a day, and need no lock.

`store.json` records the layout's schema version. A newer tieout migrates an older store forward, step by
step, before its first write; an older tieout refuses a store written by a newer one rather than
misreading it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tieout.config import Project
from tieout.errors import ConfigError, RunInProgress

_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.parquet$")


SCHEMA_VERSION = 3
MANIFEST = "store.json"


def _v1_days_folder(project: Project) -> None:
    days_dir(project).mkdir(parents=True, exist_ok=True)


def _v2_source_history(project: Project) -> None:
    """Source history (`history/`) for the days already stored, from their exports where they are still
    there; a day whose exports are gone has none (the day after it starts a new baseline)."""
    from tieout.run import reopen_day  # run imports store
    from tieout.source_history import history_dir, repair

    history_dir(project).mkdir(parents=True, exist_ok=True)
    repair(project, stored_days(project), lambda day: reopen_day(project, day))


def _v3_usage_window(project: Project) -> None:
    """Nothing to convert: from version 3 on, usage rows that merely left the trailing window are no longer
    stored as removals (a file records where its window starts instead), and the latest state is kept per part
    (`state.json` "tables"). Files of version 2 stay valid — they store those removals and carry no window — and
    the old state manifest is read as it is. The version moves so that an older tieout, which would replay the
    usage window without the window starts, refuses the store rather than misreading it."""
    del project


# version -> the step that turns a store of the version before into this version
_MIGRATIONS: dict[int, Callable[[Project], None]] = {1: _v1_days_folder, 2: _v2_source_history,
                                                     3: _v3_usage_window}


def schema_version(project: Project) -> int:
    """The store's schema version; 0 for a store with no manifest (none yet, or older than manifests)."""
    manifest = project.store_path / MANIFEST
    if not manifest.is_file():
        return 0
    try:
        version = json.loads(manifest.read_text(encoding="utf-8"))["schema_version"]
    except (ValueError, KeyError) as e:
        raise ConfigError(f"{manifest}: not a tieout store manifest ({e})") from e
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ConfigError(f"{manifest}: store schema {version!r} was written by a newer tieout (this one reads "
                          f"up to {SCHEMA_VERSION}); upgrade tieout")
    return version


def migrate(project: Project) -> int:
    """Bring the store to `SCHEMA_VERSION`; call only under the run lock. Returns the version it found."""
    found = schema_version(project)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        _MIGRATIONS[version](project)
        tmp = project.store_path / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps({"schema_version": version}) + "\n", encoding="utf-8")
        os.replace(tmp, project.store_path / MANIFEST)
    return found


def days_dir(project: Project) -> Path:
    return project.store_path / "days"


def day_path(project: Project, as_of: date) -> Path:
    return days_dir(project) / f"{as_of.isoformat()}.parquet"


def stored_days(project: Project, *, until: date | None = None) -> list[date]:
    schema_version(project)  # refuses a store this version cannot read
    folder = days_dir(project)
    if not folder.is_dir():
        return []
    found = sorted(date.fromisoformat(m.group(1)) for p in folder.iterdir() if (m := _DAY_FILE.match(p.name)))
    return [d for d in found if until is None or d <= until]


def write_day(findings: pa.Table, project: Project, as_of: date) -> Path:
    """Store `findings` as the observations of `as_of`, atomically."""
    migrate(project)
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
        schema_version(project)  # a store from a newer tieout stops the run before any work
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
