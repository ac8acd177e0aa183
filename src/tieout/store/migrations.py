"""Migrations of the store's layout, step by step from the schema version it records (tieout.store.version).

Each step runs under the run lock, before the first write of a newer tieout (or the first read: `stored_days`
migrates an older store first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import tieout.store.days as days
import tieout.store.history_files as history_files
import tieout.store.source_history as source_history
from tieout.config import Project
from tieout.store.lock import held_here, run_lock
from tieout.store.manifest import read_manifest
from tieout.store.version import SCHEMA_VERSION, schema_version, write_version


def _v1_days_folder(project: Project) -> None:
    days.days_dir(project).mkdir(parents=True, exist_ok=True)


def _v2_source_history(project: Project) -> None:
    """Source history (`history/`) for the days already stored, from their exports where they are still
    there; a day whose exports are gone has none (the day after it starts a new baseline). The one reading of
    past exports left in the store: a store from before source history has nothing else to build it from."""
    from tieout.ingest import reopen_day  # the exports' readers, only for a store this old

    history_files.history_dir(project).mkdir(parents=True, exist_ok=True)
    stored = [d for d, _ in days.legacy_days(project)] or [d.day for d in read_manifest(project)]
    source_history.repair(project, stored, lambda day: reopen_day(project, day))


def _v4_usage_window(project: Project) -> None:
    """Nothing to convert: from version 4 on, usage rows that merely left the trailing window are no longer
    stored as removals (a file records where its window starts instead), and the latest state is kept per part
    (`state.json` "tables"). Files of version 2 stay valid — they store those removals and carry no window — and
    the old state manifest is read as it is. The version moves so that an older tieout, which would replay the
    usage window without the window starts, refuses the store rather than misreading it."""
    del project


def _v5_table_baselines(project: Project) -> None:
    """Nothing to convert: from version 5 on, a baseline history file holds no row itself, only the names of
    its tables' files (each table's rows with only its own columns, `source_history._write_tables`); readers
    read history files of both layouts (`history_files.scan`). The version moves so that an older tieout,
    which would read such a baseline as empty, refuses the store rather than misreading it."""
    del project


# version -> the step that turns a store of the version before into this version
_MIGRATIONS: dict[int, Callable[[Project], None]] = {
    1: _v1_days_folder,
    2: _v2_source_history,
    3: days.convert_legacy,  # a file of changes per day instead of every finding
    4: _v4_usage_window,
    5: _v5_table_baselines,
}


def migrate(project: Project) -> int:
    """Bring the store to `SCHEMA_VERSION`; call only under the run lock. Returns the version it found."""
    found = schema_version(project)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        _MIGRATIONS[version](project)
        write_version(project, version)
    return found


def stored_days(project: Project, *, until: date | None = None) -> list[date]:
    """The stored as-of dates, oldest first. A store from an older tieout is migrated first (under the run
    lock, so this stops with exit 6 while another run is writing to it)."""
    if 0 < schema_version(project) < SCHEMA_VERSION or days.legacy_days(project):
        if held_here():
            migrate(project)
        else:
            with run_lock(project):
                migrate(project)
    return [d.day for d in read_manifest(project) if until is None or d.day <= until]
