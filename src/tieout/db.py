"""Small DuckDB helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import duckdb

from tieout.errors import ConfigError
from tieout.sql import literal

_threads: int | None = None  # DuckDB's own choice (one per core) unless a parallel run shares the cores out

# What one run may hold in DuckDB's memory, all its processes together, before DuckDB spills to disk. DuckDB's
# own default is 80 % of the machine: a million companies' day then peaks at 4 GiB, most of it tables read once
# and kept for a later step. TIEOUT_MEMORY_LIMIT (DuckDB's notation: 4GB, 500MB) gives a run more or less.
RUN_MEMORY_LIMIT = "1GB"
_spill: Path | None = None  # where this process's run spills (`spill_into`); None: DuckDB's defaults
_processes = 1


def share_cores(processes: int) -> None:
    """Give each of `processes` processes working side by side its share of the cores: DuckDB threads
    beyond the cores only cost CPU time switching between them."""
    global _threads, _processes
    _threads = max(1, (os.cpu_count() or 1) // processes)
    _processes = processes


def in_run() -> bool:
    """Whether this process works for a run (`spill_into` gave it a folder): a run, under its lock, is the only
    writer of the store."""
    return _spill is not None


def spill_into(folder: Path | None) -> None:
    """From now on this process's connections hold at most the run's memory (its share, beside parallel
    workers) and spill the rest into `folder`; None: back to DuckDB's defaults. For a run only: `folder` is
    inside the store, which readers never write."""
    global _spill
    _spill = folder


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_limit_setting() -> str:
    """The run's memory limit as set, for a message: `TIEOUT_MEMORY_LIMIT=...`, or the default's words."""
    given = os.environ.get("TIEOUT_MEMORY_LIMIT")
    return f"TIEOUT_MEMORY_LIMIT={given}" if given else f"{RUN_MEMORY_LIMIT}, the default of TIEOUT_MEMORY_LIMIT"


def _memory_bytes() -> int:
    """This process's share of the run's memory limit, in bytes."""
    given = os.environ.get("TIEOUT_MEMORY_LIMIT", RUN_MEMORY_LIMIT)
    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", given)
    if found is None or found.group(2).lower() not in _UNITS:
        raise ConfigError(f"TIEOUT_MEMORY_LIMIT={given!r}: expected an amount such as 2GB or 1500MB")
    total = float(found.group(1)) * _UNITS[found.group(2).lower()]
    return max(int(total) // _processes, 64 * 2**20)


def _memory_limit() -> str:
    """This process's share of the run's memory limit, in DuckDB's notation."""
    return f"{_memory_bytes()}B"


# What a group of a hash aggregate may cost of the memory limit. DuckDB 2.0 spills a GROUP BY's input, but not
# the hash table of its groups: a statement with more groups than fit fails with "failed to pin block" however
# much could spill (measured: 1 M groups of an id and a number fail under 80 MB and pass under 120 MB; at 10 M
# companies, 10 M such groups or 30 M key hashes failed under 1 GB). Twice the ~120 bytes a group was seen to
# need leaves room for the tables that sit in the same memory and for keys longer than the bench's.
BYTES_PER_GROUP = 256


def slices(groups: int) -> int:
    """In how many slices a statement that groups about `groups` groups must run to keep its hash table within
    the run's memory limit; 1 outside a run (no limit is set: DuckDB's own is most of the machine)."""
    if _spill is None:
        return 1
    return max(1, -(-groups * BYTES_PER_GROUP // _memory_bytes()))


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one piece of work. DuckDB's own progress bar is off: it writes to stdout,
    which belongs to the command's output (JSON, CSV)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if _threads is not None:
        con.execute(f"SET threads = {_threads}")
    if _spill is not None:
        con.execute(f"SET temp_directory = {literal(str(_spill))}")
        con.execute(f"SET memory_limit = {literal(_memory_limit())}")
    return con


def reader() -> duckdb.DuckDBPyConnection:
    """`connect`, for reading stored files that several queries of the same piece of work scan again (a day's
    replay and a record's versions scan the same chain of history files once per table): their Parquet footers
    are read once per connection instead of once per query."""
    con = connect()
    con.execute("SET parquet_metadata_cache = true")
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
