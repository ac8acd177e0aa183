"""Small DuckDB helpers."""

from __future__ import annotations

from typing import Any

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one piece of work. DuckDB's own progress bar is off: it writes to stdout,
    which belongs to the command's output (JSON, CSV)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


_scratch: duckdb.DuckDBPyConnection | None = None


def scratch() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's scratch database, for work held in TEMP tables and registered
    Arrow data (private to the connection). Opening a database costs tens of milliseconds; a cursor of an open
    one costs nothing. Never lock its configuration down (that is what `connect` is for)."""
    global _scratch
    if _scratch is None:
        _scratch = connect()
    return _scratch.cursor()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...] | None:
    """The first row of `sql`, reading the result to the end: DuckDB 2 refuses new work on a connection
    while a result is only partly fetched."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None
