"""Each stored day's active records (`tieout.active_customers.Activity`), kept once built.

The month-end pack reads the active records of three or more stored days (its period's end, the month end
before, every earlier month end for the reactivated), and a stored day's are built again from its source
history — the day's six tables replayed and its canonical tables built: ~0.2 s each on the demo, more with
every company. They only change when the day's records do, so the first read that builds a day's keeps them in
`<store>/cache/activity/<day>.<key>.parquet` and later reads take them from there.

`key` is a digest of everything the records are a function of: the day, the ops window, the content of the
day as its history file records it (the file's *tokens*, a fingerprint of each table's rows, and where its
usage window starts: `tieout.store.source_history`), this file format's version, tieout's, and the source of
the modules that build them. A day re-run with
other records, re-resolved, or repaired into other content has other tokens, hence another key: the old file is
never read again (and is removed when the new one is written). A day run out of order rebases the next day's
history file but leaves its content, and so its tokens and its cached records, as they were. A read that cannot
write the store (read-only, full) builds the records as before, every time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
from datetime import date
from pathlib import Path

import duckdb

import tieout
from tieout.active_customers import Activity, sorted_records
from tieout.config import Project
from tieout.db import scratch
from tieout.sql import literal
from tieout.store.source_history import history_path, read_meta
from tieout.store.version import CACHE
from tieout.systems import SYSTEMS

_FORMAT = 1  # of the cached files: (system, source id, canonical id) rows


# The modules the records come from — the replay of a stored day, the canonical tables, the definitions of active.
CODE = ("tieout.canonical", "tieout.active_customers", "tieout.store.open", "tieout.store.source_history")


@functools.cache
def _code() -> str:
    """A digest of the source of `CODE`, so that a tieout whose code changed (a development checkout, whatever its
    version says) never takes records an earlier one built."""
    digest = hashlib.blake2b(digest_size=12)
    for name in CODE:
        try:
            digest.update(Path(importlib.import_module(name).__file__ or "").read_bytes())
        except OSError:
            digest.update(tieout.__version__.encode())  # no source to read: the version says
    return digest.hexdigest()


def cache_dir(project: Project) -> Path:
    return project.store_path / CACHE / "activity"


def key(project: Project, day: date, window_days: int) -> str | None:
    """The key of stored `day`'s active records over `window_days`; None when its history file's footer cannot
    be read (nothing is cached then: the day is built, and fails, as without a cache)."""
    meta = read_meta(history_path(project, day))
    if meta is None or meta.day != day:
        return None
    what = {"format": _FORMAT, "tieout": tieout.__version__, "code": _code(), "day": day.isoformat(),
            "window_days": window_days, "tokens": meta.tokens, "usage_window": meta.window}
    return hashlib.blake2b(json.dumps(what, sort_keys=True).encode(), digest_size=12).hexdigest()


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
    folder = cache_dir(project)
    target = _path(project, day, key_)
    tmp = folder / f".{target.name}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY ({sql}) TO {literal(str(tmp))} (FORMAT parquet)", params)
        os.replace(tmp, target)
        for old in folder.glob(f"{day.isoformat()}.*.parquet"):
            if old != target:
                old.unlink(missing_ok=True)
    except (OSError, duckdb.Error):
        tmp.unlink(missing_ok=True)
