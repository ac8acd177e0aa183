"""Small DuckDB helpers."""

from __future__ import annotations

import os
from typing import Any

import duckdb

_threads: int | None = None  # DuckDB's own choice (one per core) unless a parallel run shares the cores out


def share_cores(processes: int) -> None:
    """Give each of `processes` processes working side by side its share of the cores: DuckDB threads
    beyond the cores only cost CPU time switching between them."""
    global _threads
    _threads = max(1, (os.cpu_count() or 1) // processes)


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one piece of work. DuckDB's own progress bar is off: it writes to stdout,
    which belongs to the command's output (JSON, CSV)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if _threads is not None:
        con.execute(f"SET threads = {_threads}")
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
