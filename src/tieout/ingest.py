"""A day's exports read and resolved: the first two stages of a run (read the exports, resolve entities).

Once a day is stored, its tables and resolution are read from the store (`tieout.store.open_day`), never from
here: the exports of a past day may be archived, changed or (for a live database) no longer that day's. What
still reads an export folder: a run, `tieout entities` / `tieout golden` for a day not reconciled yet, the
map rows a vendor's own rows propose (`source_proposals`: the store keeps no deleted records), and the store's
own repair of a source history it cannot replay (a store from before source history).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb

from tieout.config import Project
from tieout.db import in_run
from tieout.engines import DuckDBEngine
from tieout.entities import load_entity_map, resolve
from tieout.errors import InputError
from tieout.sources.formats import FORMATS
from tieout.sources.read import normalise_map_ids, past_day_unreadable, proposals, read_day
from tieout.store.version import CACHE

# Told the name of each stage as it starts, for a person watching a long run.
Stage = Callable[[str], None]


def quiet(stage: str) -> None:
    del stage


def load_map(con: duckdb.DuckDBPyConnection, project: Project) -> None:
    """Load the entity map (`entity_map`) beside the day's tables, its ids in the form the exports' take."""
    # A run keeps the validated map in the store; any command reads it back while the map file is unchanged.
    load_entity_map(con, project.entity_map_path, cache=project.store_path / CACHE, keep=in_run())
    normalise_map_ids(con, project, project.entity_map_path)


def resolve_day(project: Project, as_of: date, *, stage: Stage = quiet
                ) -> tuple[duckdb.DuckDBPyConnection, dict[str, int]]:
    """Load `as_of`'s exports and resolve every source record to its canonical entity."""
    engine = DuckDBEngine.open()
    con = engine.con
    stage("reading exports")
    records = read_day(con, project, as_of)
    load_map(con, project)
    engine.install()
    stage("resolving entities")
    resolve(engine, as_of)
    return con, records


def reopen_day(project: Project, as_of: date) -> duckdb.DuckDBPyConnection | None:
    """`as_of`'s exports loaded and resolved, or None if they are gone or no longer readable."""
    if past_day_unreadable(project, as_of):
        return None
    try:
        return resolve_day(project, as_of)[0]
    except InputError:
        return None


def source_proposals(project: Project, as_of: date) -> dict[str, list[dict[str, object]]]:
    """Map rows the sources' own exports propose on `as_of` (Salesforce's merges), by format name: read from the
    day's exports, the only place that keeps the vendor rows they come from (deleted records, their survivors)
    — none when no source proposes anything, or the exports are gone."""
    if not any(FORMATS[s.format].proposals is not None for s in project.sources.values() if s.format in FORMATS):
        return {}
    con = reopen_day(project, as_of)
    if con is None:
        return {}
    try:
        return proposals(con, project, as_of)
    finally:
        con.close()
