"""The state database's reads that read commands make, through Python's own sqlite3, read-only.

Every read of the timeline asks the state database for the corrections (a correction can be an exception's
cause), and the weekly review asks who resolved what. Through SQLAlchemy each such read first pays for its
import and an engine (about a fifth of a second) — more than the rest of most reads. When the database is the
default SQLite file (`<store>/state.db`) at the newest schema, `select` opens it read-only (`mode=ro`: a read
never creates, migrates or writes it) and returns the rows; it returns None for any other database — PostgreSQL,
a `state_url` or `TIEOUT_STATE_URL`, one still to migrate — which the caller reads through SQLAlchemy
(`tieout.state.open`), as it always did.

The SQL here is built from table and column names the caller gives, which are tieout.state.tables' names;
tests/state/test_sqlite_reads.py checks every name a caller uses against those tables and each read against
the SQLAlchemy one on the same database. Values come back as SQLAlchemy returns them on SQLite: a DateTime
column as a naive datetime (tieout stores UTC), a Date column as a date, a Boolean one as a bool.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from tieout.config import Project
from tieout.sql import quote_name
from tieout.state.location import BUSY_TIMEOUT_MS, HEAD_REVISION, configured_url, default_path

Row = dict[str, Any]
# How SQLAlchemy's SQLite types hand a stored text or number back.
_CONVERT: dict[str, Callable[[Any], Any]] = {"datetime": datetime.fromisoformat, "date": date.fromisoformat,
                                             "bool": bool}


def _connect(project: Project) -> sqlite3.Connection | None:
    """A read-only connection to the default SQLite database at the newest schema, else None."""
    if configured_url(project) is not None:
        return None  # a named database (PostgreSQL, another SQLite file) goes through SQLAlchemy
    path = default_path(project)
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                              isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        con.execute("BEGIN")  # one snapshot for the revision and the rows: a migration cannot come between
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        revision = None
    if revision is None or revision[0] != HEAD_REVISION:
        con.close()  # not migrated yet: SQLAlchemy's path migrates it first
        return None
    return con


def select(project: Project, table: str, columns: Sequence[str], *, where: Mapping[str, Any] | None = None,
           order_by: Sequence[str] = (), types: Mapping[str, str] | None = None) -> list[Row] | None:
    """`columns` of `table`'s rows where each column of `where` equals its value (or, for a collection, is one
    of its values), ordered by `order_by` (each ascending, or descending with a leading '-'), each row a dict;
    `types`: column -> 'datetime', 'date' or 'bool', converted as SQLAlchemy would. None: read it through
    SQLAlchemy instead (see the module docstring)."""
    con = _connect(project)
    if con is None:
        return None
    conditions, params = [], []
    for column, value in (where or {}).items():
        if isinstance(value, Collection) and not isinstance(value, str):
            values = list(value)
            conditions.append(f"{quote_name(column)} IN ({', '.join('?' * len(values))})" if values else "0")
            params += values
        else:
            conditions.append(f"{quote_name(column)} = ?")
            params.append(value)
    sql = f"SELECT {', '.join(quote_name(c) for c in columns)} FROM {quote_name(table)}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if order_by:
        sql += " ORDER BY " + ", ".join(f"{quote_name(c[1:])} DESC" if c.startswith("-") else quote_name(c)
                                        for c in order_by)
    try:
        got = con.execute(sql, params).fetchall()
    finally:
        con.close()
    convert = {c: _CONVERT[t] for c, t in (types or {}).items()}
    return [{c: (convert[c](v) if c in convert and v is not None else v) for c, v in zip(columns, row, strict=True)}
            for row in got]
