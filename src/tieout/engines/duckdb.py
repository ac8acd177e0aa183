"""The embedded engine: an in-memory DuckDB per day (`tieout.db.connect`).

What it installs: the natural-key normalisers (macros, the Public Suffix List and free-mail tables, Python
UDFs; `tieout.entities.install_normalisers`) and the two functions rules may call beyond SQL, `tieout_div`
and `tieout_normalise` (macros); entity resolution's natural keys are those macros over distinct values
(`tieout.entities.sql.natural_keys`). Its lockdown: external access off, then the configuration locked, so rule
SQL can neither reach a file or URL nor switch access back on.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb

from tieout.db import connect
from tieout.engines.base import Engine, EngineError, NotOneStatement
from tieout.sql import literal, quote_name

if TYPE_CHECKING:  # tables are pyarrow's, but the rules' metadata is read without it
    import pyarrow as pa

# Exact division of money: round half up to four decimals in integer arithmetic, because DuckDB turns
# DECIMAL / DECIMAL into a DOUBLE.
_DIV_MACRO = """
CREATE OR REPLACE MACRO tieout_div(x, y) AS
    CAST((CAST(x * 10000 AS HUGEINT) * 20000 + CAST(y * 10000 AS HUGEINT))
         // (2 * CAST(y * 10000 AS HUGEINT)) AS DECIMAL(38, 0)) * CAST(0.0001 AS DECIMAL(5, 4))
"""

_ARROW_VIEWS = count()
# The connections `define_functions` has defined the functions on (nothing else defines or drops them).
_DEFINED: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


class DuckDBEngine(Engine):
    name: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"
    functions: ClassVar[Mapping[str, str]] = {
        "tieout_div": "exact division of money: x / y rounded half up to four decimals",
        "tieout_normalise": "a registry field's value in the form two systems are compared in (by its kind)",
    }

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @classmethod
    def open(cls) -> DuckDBEngine:
        """A fresh in-memory database for one piece of work."""
        return cls(connect())

    def execute(self, sql: str, params: Any = None) -> None:
        self.con.execute(sql, params)

    def rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        # Read to the end: DuckDB refuses new work on a connection while a result is only partly fetched.
        return self.con.execute(sql, params).fetchall()

    def columns(self, table: str) -> list[str]:
        return [row[0] for row in self.rows(f"DESCRIBE {quote_name(table)}")]

    def select_into(self, table: str, select: str, params: Any = None) -> None:
        try:
            statements = self.con.extract_statements(f"CREATE OR REPLACE TEMP TABLE {quote_name(table)} AS {select}")
            if len(statements) != 1:
                raise NotOneStatement(len(statements))
            self.con.execute(statements[0], params)
        except duckdb.OutOfMemoryException:
            raise  # the run's memory limit, not the rule (`tieout.run`)
        except duckdb.Error as e:
            raise EngineError(str(e)) from e

    def read_table(self, table: str) -> pa.Table:
        return self.con.sql(f"SELECT * FROM {quote_name(table)}").to_arrow_table()

    def write_table(self, table: str, data: pa.Table) -> None:
        view = f"tieout_arrow_{next(_ARROW_VIEWS)}"
        self.con.register(view, data)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {quote_name(table)} AS SELECT * FROM {view}")
        finally:
            self.con.unregister(view)

    def write_parquet(self, table: str, path: Path) -> None:
        self.con.execute(f"COPY {quote_name(table)} TO {literal(str(path))} (FORMAT parquet)")

    def read_parquet(self, table: str, path: Path) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {quote_name(table)} AS "
                         f"SELECT * FROM read_parquet({literal(str(path))})")

    def install(self) -> None:
        # Imported here: the normalisers are what the engine installs, not what it is.
        from tieout.entities.sql import install_normalisers

        install_normalisers(self.con)
        self.define_functions()

    def natural_keys(self, table: str, kind: str, values_sql: str) -> None:
        from tieout.entities.sql import natural_keys

        natural_keys(self.con, table, kind, values_sql)

    def define_functions(self) -> None:
        """Define `functions`, once per connection. The canonical tables use `tieout_div` themselves, so
        building them defines these on any connection; a run's connection has them from `install` already
        (defining them again cost a tiny day's run 2.6 ms)."""
        from tieout.ownership.sql import normalise_macro_sql

        if self.con in _DEFINED:
            return
        self.con.execute(_DIV_MACRO)
        self.con.execute(normalise_macro_sql())
        _DEFINED.add(self.con)

    def lock_down(self) -> None:
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def close(self) -> None:
        self.con.close()
