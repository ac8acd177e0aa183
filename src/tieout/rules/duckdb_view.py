"""The rule check's second reading: the SQL as DuckDB's own parser sees it, since DuckDB is what runs it.

sqlglot and DuckDB are different parsers. Where they could disagree — a comment, a newline or a quote one
of them reads differently — the text might hold a second statement, a function or a table only DuckDB
sees. So DuckDB parses it too (parsing only: `json_serialize_sql` returns the parse tree, nothing runs,
in a connection of its own with no tables) and the same rules apply to what it found.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any, Protocol

import duckdb

from tieout.errors import UnsafeRuleError
from tieout.rules.functions import ALLOWED_FUNCTIONS, DUCKDB_SYNTAX_FUNCTIONS

# Table references that are not a table: `FROM read_csv(...)`, `PIVOT`, `SUMMARIZE`/`DESCRIBE`/`SHOW`.
_REFUSED_REFS = {"TABLE_FUNCTION": "a table function", "PIVOT": "PIVOT or UNPIVOT",
                 "SHOW_REF": "SUMMARIZE, DESCRIBE or SHOW", "COLUMN_DATA": "a data scan"}
_OPERATOR = re.compile(r"^[^a-z0-9_]+$")
_WHERE = re.compile(r"LINE (\d+): (.*)\n( *)\^")


_CONNECTIONS: dict[int, duckdb.DuckDBPyConnection] = {}


def _parser() -> duckdb.DuckDBPyConnection:
    """A cursor on an empty in-memory database, one per process (a database is not to be shared across a
    fork), opened once: opening one costs more than a check."""
    pid = os.getpid()
    if pid not in _CONNECTIONS:
        _CONNECTIONS[pid] = duckdb.connect()
    return _CONNECTIONS[pid].cursor()


class Refuse(Protocol):
    def __call__(self, why: str) -> UnsafeRuleError: ...


def _statements(sql: str) -> tuple[list[duckdb.Statement], str | None]:
    """DuckDB's statements in `sql`, or its parse error as ' at line L, column C: problem'."""
    try:
        return _parser().extract_statements(sql), None
    except duckdb.Error as e:
        problem, _, rest = str(e).removeprefix("Parser Error: ").partition("\n")
        return [], f"{_place(sql, rest)}: {problem}"


def _place(sql: str, context: str) -> str:
    """' at line L, column C' from DuckDB's error context: `LINE L: <part of the line>` over a caret.

    DuckDB shows a long line as a window ('...' at a cut end), so the column is found by locating the window."""
    found = _WHERE.search(context)
    if found is None:
        return ""
    line, shown, caret = found.groups()
    at = len(caret) - len(f"LINE {line}: ")
    if shown.startswith("..."):
        shown, at = shown[3:], at - 3
    shown = shown.removesuffix("...")
    lines = sql.splitlines()
    start = lines[int(line) - 1].find(shown) if 0 < int(line) <= len(lines) else -1
    return f" at line {line}" + (f", column {start + at + 1}" if start >= 0 else "")


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def statement_problem(sql: str) -> str | None:
    """Why DuckDB does not read `sql` as exactly one SELECT, or None if it does."""
    statements, where = _statements(sql)
    if where is not None:
        return f"not valid DuckDB SQL{where}"
    if len(statements) != 1:
        return f"expected exactly one SELECT statement, DuckDB reads {len(statements)}"
    if statements[0].type != duckdb.StatementType.SELECT:
        return f"expected a SELECT, DuckDB reads {statements[0].type.name}"
    return None


def _parse_tree(sql: str, refuse: Refuse) -> list[dict[str, Any]]:
    problem = statement_problem(sql)
    if problem is not None:
        raise refuse(problem)
    row = _parser().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        raise refuse(f"DuckDB cannot read it as one SELECT: {tree.get('error_message', 'no parse tree')}")
    return list(_nodes(tree))


def _check_function(node: dict[str, Any], refuse: Refuse) -> None:
    name = str(node["function_name"]).lower()
    if node.get("schema") or node.get("catalog"):
        qualified = ".".join(part for part in (node.get("catalog"), node.get("schema"), name) if part)
        raise refuse(f"qualified function {qualified}() is not allowed: call it by its name")
    if node.get("is_operator") and _OPERATOR.match(name):
        return
    if name not in ALLOWED_FUNCTIONS | DUCKDB_SYNTAX_FUNCTIONS:
        raise refuse(f"function {name}() is not allowed: rules may call only the functions listed in docs/rules.md")


def check(sql: str, refuse: Refuse, *, tables: frozenset[str]) -> None:
    """Refuse `sql` unless DuckDB also reads one SELECT over `tables` (and CTEs) calling allowed functions.

    CTE scope is sqlglot's check; here a name counts as a CTE wherever the SQL defines it."""
    nodes = _parse_tree(sql, refuse)
    ctes = {str(entry["key"]).lower() for node in nodes if "cte_map" in node
            for entry in node["cte_map"].get("map", [])}
    for node in nodes:
        kind = node.get("type") if isinstance(node.get("type"), str) else None
        if kind in _REFUSED_REFS:
            raise refuse(f"{_REFUSED_REFS[kind]} is not allowed: rules read the canonical tables only")
        if kind == "BASE_TABLE":
            table = str(node["table_name"]).lower()
            if node.get("schema_name") or node.get("catalog_name"):
                raise refuse(f"qualified table {node['schema_name']}.{table} is not allowed")
            if table not in tables and table not in ctes:
                raise refuse(f"unknown table {node['table_name']!r}: rules read the canonical tables only")
        if "function_name" in node:
            _check_function(node, refuse)
