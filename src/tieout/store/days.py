"""The stored days: for each as-of date, the findings that changed since the stored day before it.

A day's file holds one row per exception that appeared, changed (impact, severity, team, details…) or went
away (`present = false`) since the previous stored day; the first day holds every finding. So the store
grows by what changed, and the timeline (episodes, first_seen, resolved_on) is read straight from the
changes, at a cost that follows the changes rather than days × findings.

Files are immutable and named after their content (`<date>.<hash>.parquet`). `manifest.json`
(tieout.store.manifest) lists the stored days in date order with the file of each; replacing it (one
`os.replace`) commits a day. Storing a
date between two stored days rewrites the next day's changes against it in the same commit, so every file
is always relative to the day listed just before it — whatever order the dates were run in. Files the
manifest no longer names are removed by the next run (under the run lock); a reader that lost that race
reads the manifest again.

The manifest also names a checkpoint: every finding of the last stored day (`state.<date>.<hash>.parquet`),
written in the same commit. The next day's changes are taken against it, so storing a day costs what that
day reported, not the length of the history; without one (re-running the last day, inserting an earlier
date) the day before is rebuilt from the change files.

Each day also records the *anchors* it was committed with: the head (seq and hash) of every hash-chained log
of the state database at that moment (tieout.state.anchors), written by the same `os.replace`. A log cut
short or rewritten after a day was committed no longer matches that day's anchors.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

import tieout.store.breaks as breaks
import tieout.store.episodes as episodes
from tieout.config import Project
from tieout.db import connect, scratch
from tieout.state.anchors import Anchor
from tieout.store.manifest import (
    ActiveCounts,
    Checkpoint,
    Manifest,
    StoredDay,
    days_dir,
    files,
    named_files,
    names,
    read,
    read_manifest,
    reading,
    write_manifest,
)

if TYPE_CHECKING:  # pyarrow only where a day is written or a table returned: reads never load it
    import pyarrow as pa

# A day's changes, the checkpoint, the stored timeline (tieout.store.episodes), the ownership breaks
# (tieout.store.breaks): content-named, immutable.
_DAY_FILE = re.compile(r"^(?:(?:state\.)?\d{4}-\d{2}-\d{2}|episodes\.(?:open|\d{4}-\d{2}))\.[0-9a-f]{16}\.parquet$"
                       r"|^ownership\.[0-9a-f]{16}\.json$")
# The layout before schema 3: every finding of a day in `<date>.parquet`.
LEGACY_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.parquet$")
# The columns `evaluate` gives every finding, in their order; a day's file adds `day` and `present`.
FINDING_COLUMNS = ("id", "rule", "canonical_id", "source_system", "source_id", "field", "impact", "severity",
                   "team", "details", "original_amount", "original_currency")
# Columns added after stores already held days without them, with their type: a file written before has none,
# and reads them as NULL (`complete`). Adding one needs no migration and no rewrite of an immutable file.
ADDED_COLUMNS = {"original_amount": "DECIMAL(20, 4)", "original_currency": "VARCHAR"}


def complete(relation: str) -> str:
    """`relation` (a table, or `read_parquet(…, union_by_name = true)` over day files of any age) as a
    subquery holding every column of ADDED_COLUMNS: NULL where no row of it has the column."""
    nulls = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in ADDED_COLUMNS.items())
    return f"(SELECT * FROM {relation} UNION ALL BY NAME SELECT {nulls} WHERE false)"


def read_sql(parameter: str) -> str:
    """SQL reading the day files whose paths are in `$parameter`, old and new alike, every column there."""
    return complete(f"read_parquet(${parameter}, union_by_name = true)")



# --- writing a day -----------------------------------------------------------------------------------------


def _latest_state(con: duckdb.DuckDBPyConnection, name: str, paths: list[str]) -> None:
    """Temp table `name`: every finding reported on the last of the days whose change files are `paths`."""
    if not paths:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {', '.join(FINDING_COLUMNS)} "
                    f"FROM {complete('new_findings')} LIMIT 0")
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT {", ".join(FINDING_COLUMNS)} FROM (
            SELECT * FROM {read_sql("paths")}
            QUALIFY row_number() OVER (PARTITION BY id ORDER BY day DESC) = 1
        ) WHERE present
    """, {"paths": paths})


def _changes(con: duckdb.DuckDBPyConnection, before: str, after: str, day: date) -> None:
    """Temp table `changes`: the rows of `after` new or different since `before`, and a `present = false`
    row for each id of `before` that `after` no longer has."""
    cols = ", ".join(f"a.{c}" for c in FINDING_COLUMNS)
    differs = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in FINDING_COLUMNS[1:])
    nulls = ", ".join(f"NULL AS {c}" for c in FINDING_COLUMNS[1:])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE changes AS
        SELECT * FROM (
            SELECT {cols}, CAST($day AS DATE) AS day, true AS present
            FROM {after} AS a LEFT JOIN {before} AS b ON a.id = b.id
            WHERE b.id IS NULL OR {differs}
            UNION ALL BY NAME
            SELECT b.id, {nulls}, CAST($day AS DATE) AS day, false AS present
            FROM {before} AS b ANTI JOIN {after} AS a ON a.id = b.id
        ) ORDER BY id
    """, {"day": day})


def _content_name(con: duckdb.DuckDBPyConnection, table: str, prefix: str) -> tuple[str, int]:
    """The file name for the rows of `table` (`<prefix>.<hash of the rows>.parquet`), and how many rows."""
    rows = con.execute(f"SELECT CAST(t AS VARCHAR) FROM {table} AS t ORDER BY id").fetchall()
    digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()[:16]
    return f"{prefix}.{digest}.parquet", len(rows)


def _write_file(con: duckdb.DuckDBPyConnection, project: Project, name: str, select: str,
                params: dict[str, object] | None = None) -> None:
    """Write the rows of `select` into the day store as `name`, unless a file of that name (so of that
    content) is there already; durable before the manifest that will name it."""
    target = days_dir(project) / name
    if target.is_file():
        return
    tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
    import pyarrow.parquet as pq

    try:
        pq.write_table(con.sql(select, params=params).to_arrow_table(), tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _store_changes(con: duckdb.DuckDBPyConnection, project: Project, day: date, findings: int) -> StoredDay:
    """Write table `changes` as `day`'s file, named after its content (an identical file is reused)."""
    name, changes = _content_name(con, "changes", day.isoformat())
    _write_file(con, project, name, f"SELECT {', '.join(FINDING_COLUMNS)}, day, present FROM changes ORDER BY id")
    return StoredDay(day=day, file=name, findings=findings, changes=changes)


def _store_checkpoint(con: duckdb.DuckDBPyConnection, project: Project, day: date) -> Checkpoint:
    """Write table `reported` (every finding of `day`) as the checkpoint."""
    name, _ = _content_name(con, "reported", f"state.{day.isoformat()}")
    _write_file(con, project, name, f"SELECT {', '.join(FINDING_COLUMNS)} FROM reported ORDER BY id")
    return Checkpoint(day, name)


def _store_episodes(con: duckdb.DuckDBPyConnection, project: Project, old: Manifest,
                    stored: list[StoredDay]) -> tuple[str, ...]:
    """Write the stored timeline of the days `stored` (tieout.store.episodes), updated from `old`'s."""
    def write(name: str, select: str, params: dict[str, object]) -> None:
        _write_file(con, project, name, select, params)

    return episodes.store(con, days_dir(project), old.days, old.episodes, stored, read_sql("files"),
                          FINDING_COLUMNS, write)


def _previous_state(con: duckdb.DuckDBPyConnection, project: Project, before: list[StoredDay],
                    checkpoint: Checkpoint | None) -> None:
    """Temp table `previous`: every finding of the last day of `before`."""
    if before and checkpoint is not None and checkpoint.day == before[-1].day:
        con.execute(f"CREATE OR REPLACE TEMP TABLE previous AS SELECT {', '.join(FINDING_COLUMNS)} "
                    f"FROM {read_sql('path')}", {"path": [str(days_dir(project) / checkpoint.file)]})
    else:
        _latest_state(con, "previous", files(project, before))


def commit_day(project: Project, as_of: date, findings: pa.Table, anchors: tuple[Anchor, ...] = (),
               find_breaks: breaks.Finder | None = None, active: ActiveCounts | None = None) -> None:
    """Store `findings` as the observations of `as_of`, replacing an earlier run of that date, with the heads
    of the logs (`anchors`, tieout.state.anchors.current_heads) at this moment, and the ownership breaks of
    the days whose source history was just moved (`find_breaks`; without it the store keeps none, and readers
    find them in the history), and each system's `active` customers as the run counted them. Call under the
    run lock. The manifest's replacement is the commit: until then, readers see the store as it was."""
    old = read(project)
    days, checkpoint = old.days, old.checkpoint
    before = [d for d in days if d.day < as_of]
    after = [d for d in days if d.day > as_of]
    days_dir(project).mkdir(parents=True, exist_ok=True)
    with scratch() as con:
        con.register("new_findings", findings)
        # Findings of any age: a legacy day converted by `convert_legacy` has none of the added columns.
        con.execute(f"CREATE TEMP TABLE reported AS SELECT {', '.join(FINDING_COLUMNS)} "
                    f"FROM {complete('new_findings')}")
        _previous_state(con, project, before, checkpoint)
        _changes(con, "previous", "reported", as_of)
        stored = [*before, replace(_store_changes(con, project, as_of, findings.num_rows), anchors=anchors,
                                   active=active)]
        if after:  # the next day's changes, now against this day (the last day's findings stay as they were)
            _latest_state(con, "following", files(project, days[: days.index(after[0]) + 1]))
            _changes(con, "reported", "following", after[0].day)
            # …which keeps the anchors and counts it was committed with.
            changed = _store_changes(con, project, after[0].day, after[0].findings)
            rebased = replace(after[0], file=changed.file, changes=changed.changes)
            stored += [rebased, *after[1:]]
        new_checkpoint = checkpoint if after else _store_checkpoint(con, project, as_of)
        ownership = None if find_breaks is None else breaks.write(
            project, old.ownership, [d.day for d in stored], [as_of, *(d.day for d in after[:1])], find_breaks)
        new = Manifest(stored, new_checkpoint, _store_episodes(con, project, old, stored), ownership)
    if new != old:
        write_manifest(project, new)
    if checkpoint is not None and checkpoint != new_checkpoint:
        # Only a commit reads a checkpoint, under the run lock: the one replaced can go at once.
        (days_dir(project) / checkpoint.file).unlink(missing_ok=True)
    for replaced in names(old) - names(new) - {d.file for d in days}:
        # The stored timeline and breaks replaced (day files go with the next run's sweep): a reader that read
        # the manifest before reads it again (`reading`), which names the new ones.
        (days_dir(project) / replaced).unlink(missing_ok=True)


def sweep(project: Project) -> None:
    """Remove files of the day store that the manifest does not name: a killed run's temporary files, the
    changes files a later commit replaced, the old layout's leftovers. Safe only under the run lock."""
    folder = days_dir(project)
    if not folder.is_dir():
        return
    named = named_files(project)
    for path in folder.iterdir():
        if path.name not in named and (path.name.endswith(".tmp") or _DAY_FILE.match(path.name)):
            path.unlink(missing_ok=True)


def legacy_days(project: Project) -> list[tuple[date, Path]]:
    """The days of a store from before schema 3, oldest first."""
    folder = days_dir(project)
    if not folder.is_dir():
        return []
    return sorted((date.fromisoformat(m.group(1)), p) for p in folder.iterdir() if (m := LEGACY_DAY_FILE.match(p.name)))


def convert_legacy(project: Project) -> None:
    """Schema 3: turn each full day file of the old layout into a changes file, then remove the old files.
    Re-running it after a crash redoes the same commits (content-named files, identical manifest)."""
    import pyarrow.parquet as pq

    old = legacy_days(project)
    for day, path in old:
        commit_day(project, day, pq.read_table(path))
    for _, path in old:
        path.unlink()


def findings_on(project: Project, day: date) -> pa.Table:
    """Every finding reported on stored `day` (the full list, rebuilt from the changes)."""
    return reading(lambda: _findings_on(project, day, FINDING_COLUMNS, lambda rel: rel.to_arrow_table()))


def finding_rows(project: Project, day: date, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """`findings_on` as tuples of `columns`, in the same order: for a reader that wants no pyarrow."""
    return reading(lambda: _findings_on(project, day, columns, lambda rel: rel.fetchall()))


T = TypeVar("T")


def _findings_on(project: Project, day: date, columns: tuple[str, ...],
                 fetch: Callable[[duckdb.DuckDBPyRelation], T]) -> T:
    days = [d for d in read_manifest(project) if d.day <= day]
    if not days or days[-1].day != day:
        raise KeyError(day)
    with connect() as con:
        _latest_state(con, "day_findings", files(project, days))
        return fetch(con.sql(f"SELECT {', '.join(columns)} FROM day_findings "
                             "ORDER BY rule, canonical_id, source_system, source_id, field"))
