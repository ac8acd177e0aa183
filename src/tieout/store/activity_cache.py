"""Each stored day's active records (`tieout.active_customers.Activity`), kept once built.

The month-end pack reads the active records of three or more stored days (its period's end, the month end
before, every earlier month end for the reactivated), and a stored day's are built again from its source
history — the day's six tables replayed and its canonical tables built: ~0.2 s each on the demo, more with
every company. They only change when the day's records do, so the first read that builds a day's keeps them in
`<store>/cache/activity/<day>.<key>.parquet` and later reads take them from there.

`key` names the day's content, the ops window, this file format's version, tieout's, and the source of the
modules that build them (`tieout.store.day_cache`): a day re-run with other records, re-resolved, or repaired
into other content has another key, a day run out of order before it leaves it valid. A read that cannot
write the store (read-only, full) builds the records as before, every time.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from tieout.active_customers import Activity, sorted_records
from tieout.config import Project
from tieout.db import scratch
from tieout.sql import literal
from tieout.store import day_cache
from tieout.systems import SYSTEMS

_FORMAT = 1  # of the cached files: (system, source id, canonical id) rows


# The modules the records come from — the replay of a stored day, the canonical tables, the definitions of active.
CODE = ("tieout.canonical", "tieout.active_customers", "tieout.store.open", "tieout.store.source_history")


def cache_dir(project: Project) -> Path:
    return day_cache.folder(project, "activity")


def key(project: Project, day: date, window_days: int) -> str | None:
    """The key of stored `day`'s active records over `window_days`; None when its history file's footer cannot
    be read (nothing is cached then: the day is built, and fails, as without a cache)."""
    what = day_cache.content(project, day)
    if what is None:
        return None
    return day_cache.key({**what, "format": _FORMAT, "window_days": window_days}, CODE)


def _path(project: Project, day: date, key_: str) -> Path:
    return cache_dir(project) / f"{day.isoformat()}.{key_}.parquet"


def read(project: Project, day: date, key_: str) -> Activity | None:
    """The cached records of `day` under `key_`; None when there are none (or the file cannot be read)."""
    path = _path(project, day, key_)
    if not path.is_file():
        return None
    try:
        with scratch() as con:
            rows = con.execute(f"SELECT * FROM read_parquet({literal(str(path))})").fetchall()
    except (OSError, duckdb.Error):
        return None
    records: dict[str, list[tuple[str, str | None]]] = {s: [] for s in SYSTEMS}
    for system, source_id, canonical_id in rows:
        records[system].append((source_id, canonical_id))
    return Activity({s: sorted_records(r) for s, r in records.items()})


def write(project: Project, day: date, key_: str, sql: str, params: dict[str, object],
          con: duckdb.DuckDBPyConnection) -> None:
    """Keep the rows of `sql` (`active_customers.records_query`, on `con`, the day's canonical tables) as
    `day`'s records under `key_`, replacing any other key's; quietly nothing when the store cannot be written."""
    target = _path(project, day, key_)

    def copy(tmp: Path) -> None:
        con.execute(f"COPY ({sql}) TO {literal(str(tmp))} (FORMAT parquet)", params)

    day_cache.replace(cache_dir(project), day, target, copy, errors=(duckdb.Error,))
