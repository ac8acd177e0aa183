"""Where one `tieout run` spends its time, statement by statement: every DuckDB statement the run executes, with
its wall and CPU seconds, the costliest first (and each stage's total, as `bench/stages.py` prints it).

    python bench/statements.py --companies 1000000              # a re-run of the stored day (bench/run_day.py first)
    python bench/statements.py --companies 1000000 --top 40 --width 200
    TIEOUT_MEMORY=1 python bench/statements.py --companies 1000000      # + what DuckDB holds and spills, per stage
    TIEOUT_EXPLAIN="TABLE tenant_activity" python bench/statements.py ...  # + that statement's DuckDB profile

Every connection DuckDB opens in the run's process is wrapped in a proxy that times `execute` and `sql` (a
relation's time is its fetch's, counted where it is fetched: `fetchall`, `to_arrow_table` and the like on the
relation are timed too). CPU is the process's user + system time, all its threads, so a statement's CPU covers
DuckDB's threads working for it; Python work between statements is counted in no statement. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import types
from collections import defaultdict
from typing import Any

import duckdb
from measure import self_cpu, world_options, world_project


class _Tally:
    def __init__(self) -> None:
        self.stage = "starting"
        self.con: Any = None  # the connection of the latest statement
        self.rows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])  # type: ignore[arg-type]

    def add(self, sql: str, wall: float, cpu: float) -> None:
        key = (self.stage, re.sub(r"\s+", " ", sql).strip())
        row = self.rows[key]
        row[0] += wall
        row[1] += cpu
        row[2] += 1


TALLY = _Tally()


def _timed(sql: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    wall, cpu = time.perf_counter(), self_cpu()
    try:
        return call(*args, **kwargs)
    finally:
        TALLY.add(sql, time.perf_counter() - wall, self_cpu() - cpu)


_FETCHES = ("fetchall", "fetchone", "fetchmany", "to_arrow_table", "fetch_arrow_table", "arrow", "df", "fetchdf",
            "to_arrow_reader", "fetch_record_batch", "record_batch", "pl", "fetchnumpy")


class Relation:
    """A DuckDB relation whose fetches are timed under the SQL that made it."""

    def __init__(self, rel: Any, sql: str) -> None:
        self._rel, self._sql = rel, sql

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._rel, name)
        if name in _FETCHES and callable(attr):
            return lambda *a, **k: _timed(f"[{name}] {self._sql}", attr, *a, **k)
        return attr


class Connection:
    """A DuckDB connection whose statements are timed."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self._last = ""

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._last = str(getattr(sql, "query", sql))
        TALLY.con = self._con
        explain = os.environ.get("TIEOUT_EXPLAIN")  # a piece of a statement: its DuckDB profile, to stderr
        if explain and explain in self._last:
            self._con.execute("PRAGMA enable_profiling = 'query_tree'")
        try:
            result = _timed(self._last, self._con.execute, sql, *args, **kwargs)
        finally:
            if explain and explain in self._last:
                self._con.execute("PRAGMA disable_profiling")
        return self if result is self._con else result

    def sql(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        rel = _timed(f"[sql] {sql}", self._con.sql, sql, *args, **kwargs)
        return Relation(rel, sql) if rel is not None else rel

    query = sql

    def cursor(self) -> Connection:
        return Connection(self._con.cursor())

    def __enter__(self) -> Connection:
        self._con.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._con.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._con, name)
        if name in _FETCHES and callable(attr):
            return lambda *a, **k: _timed(f"[{name}] {self._last}", attr, *a, **k)
        return attr


def _install() -> None:
    real = duckdb.connect
    duckdb.connect = lambda *a, **k: Connection(real(*a, **k))  # type: ignore[assignment]
    # isinstance(con, duckdb.DuckDBPyConnection) must still hold for a wrapped connection
    shim = types.ModuleType("duckdb_timed")
    shim.__dict__.update(duckdb.__dict__)
    shim.DuckDBPyConnection = (duckdb.DuckDBPyConnection, Connection)  # type: ignore[attr-defined]
    for name, module in list(sys.modules.items()):
        if name.startswith("tieout") and getattr(module, "duckdb", None) is duckdb:
            module.duckdb = shim  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    world_options(parser)
    parser.add_argument("--top", type=int, default=30, help="how many statements to print")
    parser.add_argument("--width", type=int, default=160, help="how much of each statement to print")
    args = parser.parse_args()
    project_dir = world_project(args)

    import tieout.run  # noqa: F401  (the modules that use duckdb, before the shim replaces it in them)
    from tieout.config import load_project
    from tieout.run import run_day

    _install()
    project = load_project(project_dir)
    stages: list[tuple[str, float, float]] = [("starting", time.perf_counter(), self_cpu())]

    def stage(name: str) -> None:
        if os.environ.get("TIEOUT_MEMORY") and TALLY.con is not None:  # what DuckDB holds as the stage starts
            try:
                TALLY.con.execute("SELECT 1")
            except duckdb.ConnectionException:  # the day's connection is closed (storing the day)
                TALLY.con = None
        if os.environ.get("TIEOUT_MEMORY") and TALLY.con is not None:
            held = TALLY.con.execute(
                "SELECT tag, round(memory_usage_bytes / 2 ** 20), round(temporary_storage_bytes / 2 ** 20) "
                "FROM duckdb_memory() WHERE memory_usage_bytes + temporary_storage_bytes > 0").fetchall()
            print(f"before {name}: " + ", ".join(f"{t} {m:.0f} MiB (+{d:.0f} spilled)" for t, m, d in held))
            tables = TALLY.con.execute(
                "SELECT table_name, estimated_size, column_count FROM duckdb_tables() ORDER BY 2 DESC").fetchall()
            print("  tables: " + ", ".join(f"{t} {n:,}x{c}" for t, n, c in tables if n > 100_000))
        TALLY.stage = name
        stages.append((name, time.perf_counter(), self_cpu()))

    run_day(project, args.date, stage=stage)
    stages.append(("", time.perf_counter(), self_cpu()))
    for (name, wall, cpu), (_, wall_after, cpu_after) in zip(stages, stages[1:], strict=False):
        timed = sum(r[1] for (s, _), r in TALLY.rows.items() if s == name)
        print(f"{name:28} {wall_after - wall:7.2f} s wall  {cpu_after - cpu:7.2f} s CPU  "
              f"(statements {timed:6.2f} s CPU)")
    print(f"{'the whole run':28} {stages[-1][1] - stages[0][1]:7.2f} s wall  {stages[-1][2] - stages[0][2]:7.2f} s CPU")
    print()
    print(f"{'CPU s':>7} {'wall s':>7} {'calls':>5}  stage: statement")
    for (name, sql), (wall, cpu, calls) in sorted(TALLY.rows.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{cpu:7.2f} {wall:7.2f} {calls:5d}  {name}: {sql[:args.width]}")


if __name__ == "__main__":
    main()
