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


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...] | None:
    """The first row of `sql`, reading the result to the end: DuckDB 2 refuses new work on a connection
    while a result is only partly fetched."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None
