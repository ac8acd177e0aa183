"""The project's store: its schema version and migrations, and the run lock.

The stored days themselves are `tieout.days` (findings) and `tieout.source_history` (source records).
Every write goes to a temporary file moved into place with one `os.replace`, so readers (another command,
a web page) never see half a day, and need no lock.

`store.json` records the layout's schema version. A newer tieout migrates an older store forward, step by
step, before its first write; an older tieout refuses a store written by a newer one rather than
misreading it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from tieout import days
from tieout.config import Project
from tieout.errors import ConfigError, RunInProgress

SCHEMA_VERSION = 4
MANIFEST = "store.json"


def _v1_days_folder(project: Project) -> None:
    days.days_dir(project).mkdir(parents=True, exist_ok=True)


def _v2_source_history(project: Project) -> None:
    """Source history (`history/`) for the days already stored, from their exports where they are still
    there; a day whose exports are gone has none (the day after it starts a new baseline)."""
    from tieout.run import reopen_day  # run imports store
    from tieout.source_history import history_dir, repair

    history_dir(project).mkdir(parents=True, exist_ok=True)
    stored = [d for d, _ in days.legacy_days(project)] or [d.day for d in days.read_manifest(project)]
    repair(project, stored, lambda day: reopen_day(project, day))


def _v4_usage_window(project: Project) -> None:
    """Nothing to convert: from version 4 on, usage rows that merely left the trailing window are no longer
    stored as removals (a file records where its window starts instead), and the latest state is kept per part
    (`state.json` "tables"). Files of version 2 stay valid — they store those removals and carry no window — and
    the old state manifest is read as it is. The version moves so that an older tieout, which would replay the
    usage window without the window starts, refuses the store rather than misreading it."""
    del project


# version -> the step that turns a store of the version before into this version
_MIGRATIONS: dict[int, Callable[[Project], None]] = {
    1: _v1_days_folder,
    2: _v2_source_history,
    3: days.convert_legacy,  # a file of changes per day instead of every finding
    4: _v4_usage_window,
}
_locked_here = False  # this process holds the run lock


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


def stored_days(project: Project, *, until: date | None = None) -> list[date]:
    """The stored as-of dates, oldest first. A store from an older tieout is migrated first (under the run
    lock, so this stops with exit 6 while another run is writing to it)."""
    if 0 < schema_version(project) < SCHEMA_VERSION or days.legacy_days(project):
        if _locked_here:
            migrate(project)
        else:
            with run_lock(project):
                migrate(project)
    return [d.day for d in days.read_manifest(project) if until is None or d.day <= until]


def _sweep(project: Project) -> None:
    """A killed run's leftovers (SIGKILL skips every `finally`): temporary files that nothing would ever replace
    or remove again. The source history sweeps its own when the next run prepares a day (`repair`)."""
    from tieout import fingerprints  # imports the rule registry, which a store reader needs not load

    days.sweep(project)
    fingerprints.sweep(project)
    (project.store_path / f".{MANIFEST}.tmp").unlink(missing_ok=True)


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
