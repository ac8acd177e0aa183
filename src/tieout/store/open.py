"""Open a stored day: the one way to read a past day's records.

`open_day` gives a DuckDB connection holding the day's six standard typed tables — the names, columns and types
`tieout.sources.read.read_day` loads — and how each source record resolved that day (`source_records`, with
the natural-key normalisers the resolution installs), replayed from the stored source history. Never from the
exports: those of a past day may be archived, edited since, or (a live database) no longer that day's. So a
reader gets exactly the records the run reconciled, and `canonical.build` on this connection gives that day's
canonical tables again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb

import tieout.store.history_files as history_files
import tieout.store.source_history as source_history
from tieout.config import Project
from tieout.db import reader
from tieout.entities import install_normalisers
from tieout.entities.resolver import SOURCE_RECORDS_DDL
from tieout.errors import NotFound, StoreError
from tieout.sources.layout import BY_TABLE
from tieout.sources.standard import TYPED_KINDS
from tieout.sql import quote_name
from tieout.store.migrations import stored_days

# Every table a stored day holds, in the order they are loaded.
DAY_TABLES = (*BY_TABLE, "source_records")


def _create(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The empty table with the types a run gives it: the typed export's columns, the resolver's own DDL."""
    if table == "source_records":
        con.execute(SOURCE_RECORDS_DDL)
        return
    columns = ", ".join(f"{quote_name(c.name)} {TYPED_KINDS[c.kind]}" for c in BY_TABLE[table].columns)
    con.execute(f"CREATE TABLE {table} ({columns})")


def _order(table: str) -> str:
    key = ("source_system", "source_id") if table == "source_records" else BY_TABLE[table].primary_key
    return ", ".join(quote_name(c) for c in key)


def open_day(project: Project, day: date, *, tables: Iterable[str] | None = None,
             normalisers: bool = True, ordered: bool = True) -> duckdb.DuckDBPyConnection:
    """A new connection holding stored `day`'s tables (`tables`, default every one of `DAY_TABLES`), rows in
    primary key order unless `ordered` is False, and the natural-key normalisers unless `normalisers` is False
    (for a reader that calls none of them: installing them costs more than loading a small day). The caller
    closes it. A reader whose every query says its order passes `ordered=False`: at a million companies the
    sort is ~5 of the ~7 s that loading a day takes.

    Raises NotFound when `day` is not a stored day, StoreError when its source history cannot be replayed
    (missing — a store migrated after its exports were gone — or damaged).

    >>> con = open_day(load_project("my-recon"), date(2026, 2, 16))            # doctest: +SKIP
    >>> con.sql("SELECT status, count(*) FROM source_records GROUP BY ALL")    # doctest: +SKIP
    """
    wanted = DAY_TABLES if tables is None else tuple(tables)
    unknown = sorted(set(wanted) - set(DAY_TABLES))
    if unknown:
        raise ValueError(f"not a table of a stored day: {', '.join(unknown)}")
    if day not in stored_days(project):
        raise NotFound(f"{day} is not a reconciled day of {project.store_path} (run it first: "
                       f"tieout run --as-of {day})")
    rels = source_history.day_relations(project, day)
    if rels is None:
        raise StoreError(f"{history_files.history_dir(project)}: the source history of {day} is missing or "
                         "broken, so its records cannot be read from the store (the next run repairs what its "
                         "exports still allow)")
    con = reader()
    try:
        for table in wanted:
            _create(con, table)
            rel = rels[table]
            if rel is not None:  # None: no row that day
                columns = ", ".join(quote_name(c) for c in source_history.TABLES[table][0])
                order = f" ORDER BY {_order(table)}" if ordered else ""
                con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {rel}{order}")
        if normalisers:
            install_normalisers(con)
    except duckdb.IOException as e:
        con.close()
        raise StoreError(f"{history_files.history_dir(project)}: the source history of {day} cannot be read "
                         f"({e})") from e
    except BaseException:
        con.close()
        raise
    return con


def open_or_read_day(project: Project, day: date, *, tables: Iterable[str] | None = None,
                     normalisers: bool = True) -> duckdb.DuckDBPyConnection:
    """`day` as the store holds it (`tables` and `normalisers` as `open_day` takes them); a day not reconciled
    yet, read from its exports and resolved, every table (what `tieout entities --as-of` and `tieout golden
    --as-of` offer for a day before running it). Raises InputError when such a day's exports cannot be read."""
    if day in stored_days(project):
        return open_day(project, day, tables=tables, normalisers=normalisers)
    from tieout.ingest import resolve_day  # the exports' readers, only for a day the store does not hold

    return resolve_day(project, day)[0]
