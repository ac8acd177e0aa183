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
from tieout.systems import CATALOGUE

# Every table a stored day holds, in the order they are loaded.
DAY_TABLES = (*BY_TABLE, "source_records")
# The source records' tables and how each resolved: what names and a record's candidates are read from.
RECORD_TABLES = (*(s.record_table for s in CATALOGUE), "source_records")


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
             normalisers: bool = True) -> duckdb.DuckDBPyConnection:
    """A new connection holding stored `day`'s tables (`tables`, default every one of `DAY_TABLES`), rows in
    primary key order, and the natural-key normalisers unless `normalisers` is False (for a reader that calls
    none of them: installing them costs more than loading a small day). The caller closes it. A reader of one
    entity's rows takes a `PartDay`.

    Raises NotFound when `day` is not a stored day, StoreError when its source history cannot be replayed
    (missing — a store migrated after its exports were gone — or damaged).

    >>> con = open_day(load_project("my-recon"), date(2026, 2, 16))            # doctest: +SKIP
    >>> con.sql("SELECT status, count(*) FROM source_records GROUP BY ALL")    # doctest: +SKIP
    """
    wanted = DAY_TABLES if tables is None else tuple(tables)
    unknown = sorted(set(wanted) - set(DAY_TABLES))
    if unknown:
        raise ValueError(f"not a table of a stored day: {', '.join(unknown)}")
    rels = _relations(project, day)
    con = reader()
    try:
        for table in wanted:
            _create(con, table)
            rel = rels[table]
            if rel is not None:  # None: no row that day
                _insert(con, table, rel, order=_order(table))
        if normalisers:
            install_normalisers(con)
    except duckdb.IOException as e:
        con.close()
        raise _unreadable(project, day, e) from e
    except BaseException:
        con.close()
        raise
    return con


def _relations(project: Project, day: date) -> dict[str, str | None]:
    """The relations replaying stored `day`'s tables (`source_history.day_relations`); NotFound when `day` is
    not stored, StoreError when its history cannot be replayed."""
    if day not in stored_days(project):
        raise NotFound(f"{day} is not a reconciled day of {project.store_path} (run it first: "
                       f"tieout run --as-of {day})")
    rels = source_history.day_relations(project, day)
    if rels is None:
        raise StoreError(f"{history_files.history_dir(project)}: the source history of {day} is missing or "
                         "broken, so its records cannot be read from the store (the next run repairs what its "
                         "exports still allow)")
    return rels


def _unreadable(project: Project, day: date, e: duckdb.IOException) -> StoreError:
    return StoreError(f"{history_files.history_dir(project)}: the source history of {day} cannot be read ({e})")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rel: str, where: str = "true", order: str = "") -> None:
    """Insert the rows of `rel` (a replay of `table`) WHERE `where`, in `order` (default none)."""
    columns = ", ".join(quote_name(c) for c in source_history.TABLES[table][0])
    order_by = f" ORDER BY {order}" if order else ""
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {rel} WHERE {where}{order_by}")


class PartDay:
    """A stored day loaded as far as its readers ask: how every source record resolved (`source_records`)
    whole, and of the six typed tables only the rows of the entities and records asked for so far (`load`) —
    each record with its contracts, invoices or usage. A story shows one entity of a day that may hold
    millions: at a million companies loading every row took ~2 s, and the web page's owned fields built the
    canonical tables over all of them; one entity's rows load in ~0.1 s. What is derived from the tables (the
    canonical tables) holds only the rows loaded when it was built.

    Raises NotFound and StoreError as `open_day` does; `load` raises StoreError on a history file that cannot
    be read. The caller closes it.
    """

    def __init__(self, project: Project, day: date, *, normalisers: bool = True) -> None:
        self.project, self.day = project, day
        self._rels = _relations(project, day)
        self.con = reader()
        self._loaded: set[tuple[str, str]] = set()  # (system, source id) whose rows are in
        try:
            for table in DAY_TABLES:
                _create(self.con, table)
            if self._rels["source_records"] is not None:
                _insert(self.con, "source_records", self._rels["source_records"])
            if normalisers:
                install_normalisers(self.con)
        except duckdb.IOException as e:
            self.con.close()
            raise _unreadable(project, day, e) from e
        except BaseException:
            self.con.close()
            raise

    def load(self, entities: Iterable[str] = (), records: Iterable[tuple[str, str]] = ()) -> duckdb.DuckDBPyConnection:
        """The connection, with the rows of `entities` (every record of theirs in `source_records`) and of
        `records` (system, source id) loaded too."""
        ids = sorted(set(entities))
        found = self.con.execute("SELECT source_system, source_id FROM source_records "
                                 "WHERE canonical_id IN (SELECT unnest($ids))", {"ids": ids}).fetchall() if ids else []
        new = sorted({*found, *records} - self._loaded)
        if not new:
            return self.con
        self.con.execute("CREATE OR REPLACE TEMP TABLE tieout_part AS "
                         "SELECT unnest($systems) AS source_system, unnest($ids) AS source_id",
                         {"systems": [s for s, _ in new], "ids": [i for _, i in new]})
        try:
            for system in CATALOGUE:
                wanted = (f"{quote_name(system.id_column)} IN "
                          f"(SELECT source_id FROM tieout_part WHERE source_system = '{system.name}')")
                for table in (system.record_table, system.child_table):
                    rel = self._rels[table]
                    if rel is not None:  # None: no row that day
                        _insert(self.con, table, rel, wanted)
        except duckdb.IOException as e:
            raise _unreadable(self.project, self.day, e) from e
        self._loaded.update(new)
        return self.con

    def close(self) -> None:
        self.con.close()


def open_or_read_day(project: Project, day: date, *, tables: Iterable[str] | None = None,
                     normalisers: bool = True) -> duckdb.DuckDBPyConnection:
    """`day` as the store holds it (`tables` and `normalisers` as `open_day` takes them); a day not reconciled
    yet, read from its exports and resolved, every table (what `tieout entities --as-of` and `tieout golden
    --as-of` offer for a day before running it). Raises InputError when such a day's exports cannot be read."""
    if day in stored_days(project):
        return open_day(project, day, tables=tables, normalisers=normalisers)
    from tieout.ingest import resolve_day  # the exports' readers, only for a day the store does not hold

    return resolve_day(project, day)[0]
