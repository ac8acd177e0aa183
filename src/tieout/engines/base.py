"""What an engine offers the run: statements, tables in and out, natural keys, the functions rules may call, the
lockdown.

An engine holds one open database for one piece of work (a day). The run loads and resolves the exports,
builds the canonical tables, locks the engine down, and only then runs rule SQL through `select_into`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # tables are pyarrow's, but the rules' metadata is read without it
    import pyarrow as pa



class EngineError(Exception):
    """The engine could not run a statement; the message is the engine's own."""


class NotOneStatement(EngineError):
    """Text given as one statement holds another number of them."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"it holds {count} statements")


class Engine(ABC):
    # The engine's name in tieout (`rules check` names it) and the sqlglot dialect its SQL is written in.
    name: ClassVar[str]
    dialect: ClassVar[str]
    # The functions beyond SQL that this engine provides to rules, each with what it does: its capabilities.
    # A rule that calls one declares it (`requires:` in its .yml), so `tieout rules check` can say which
    # engines it can run on.
    functions: ClassVar[Mapping[str, str]]

    @abstractmethod
    def execute(self, sql: str, params: Any = None) -> None:
        """Run one statement whose result is not wanted."""

    @abstractmethod
    def rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Every row of a query."""

    def one(self, sql: str, params: Any = None) -> tuple[Any, ...] | None:
        """The first row of a query, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """The column names of a table or view, in order."""

    @abstractmethod
    def select_into(self, table: str, select: str, params: Any = None) -> None:
        """(Re)create temporary `table` from `select`, which must be exactly one statement: rule SQL runs
        through here, so a second statement hidden in it never runs (`NotOneStatement`). Any failure is an
        `EngineError`."""

    @abstractmethod
    def read_table(self, table: str) -> pa.Table:
        """A table's rows as Arrow."""

    @abstractmethod
    def write_table(self, table: str, data: pa.Table) -> None:
        """(Re)create `table` holding `data`."""

    @abstractmethod
    def write_parquet(self, table: str, path: Path) -> None:
        """Write a table to a Parquet file (before the lockdown: afterwards no file can be reached)."""

    @abstractmethod
    def read_parquet(self, table: str, path: Path) -> None:
        """(Re)create `table` from a Parquet file (before the lockdown)."""

    @abstractmethod
    def install(self) -> None:
        """Define what resolution and the rules call: the natural-key normalisers and `functions`."""

    @abstractmethod
    def natural_keys(self, table: str, kind: str, values_sql: str) -> None:
        """(Re)create `table (v, key)`: each distinct value of the one-column query `values_sql` that has a
        natural key of `kind` (`tax_id`, `domain`, `legal_name`: contract §4), with that key. Entity resolution
        asks it only about few values (the pending records' and the mapped ones its prefilters keep)."""

    def define_functions(self) -> None:  # noqa: B027 (an engine that rewrites its functions defines nothing)
        """Define `functions` on their own, for SQL that calls them before `install` (the canonical tables)."""

    @abstractmethod
    def lock_down(self) -> None:
        """From now on only rule SQL runs: no file, URL or setting may be reached, and that cannot be undone."""

    @abstractmethod
    def close(self) -> None:
        """Release the database."""
