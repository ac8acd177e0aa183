"""Whether a rule runs on another engine's SQL: its DuckDB SQL transpiled with sqlglot, and per dialect what
blocks it, or nothing (`tieout rules check --dialect`).

sqlglot rewrites much of DuckDB's syntax for other dialects (QUALIFY, SEMI JOIN, FILTER, string_agg, `//`), and
says so where it cannot (its unsupported-level errors). Some things it carries over word for word, though the
other dialect has no such thing; those are named here: a function only an engine provides (a rule's `requires:`),
a DuckDB function sqlglot does not know, and a few forms of DuckDB syntax (`_SYNTAX`). The check reads the
syntax only: a column's type is unknown to it (BigQuery cannot GROUP BY an array column, say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from tieout.engines import ENGINES, engine_functions
from tieout.engines.spark_sql import NotOnSpark, spark_sql
from tieout.rules.registry import Rule

DIALECTS = ("postgres", "spark", "snowflake", "bigquery")
_READ = "duckdb"


def _is_date(node: exp.Expr) -> bool:
    if isinstance(node, exp.Paren):
        return _is_date(node.this)
    if isinstance(node, exp.Placeholder):
        return node.name == "as_of"  # always a DATE (docs/rules.md)
    return isinstance(node, (exp.Cast, exp.TryCast)) and node.to.is_type(exp.DataType.Type.DATE)


def _date_plus_days(node: exp.Expr) -> bool:
    """`$as_of - n`, `CAST(x AS DATE) + n`: days added as a bare number, not an INTERVAL."""
    if not isinstance(node, (exp.Add, exp.Sub)):
        return False
    left, right = node.left, node.right
    return (_is_date(left) and not isinstance(right, exp.Interval)) or \
           (isinstance(node, exp.Add) and _is_date(right) and not isinstance(left, exp.Interval))


@dataclass(frozen=True)
class _Syntax:
    name: str
    found: Callable[[exp.Expr], bool]
    # The dialects that have it themselves (sqlglot writes it unchanged for every dialect).
    native: frozenset[str]


_SYNTAX = (
    _Syntax("UNION ... BY NAME (columns matched by name)",
            lambda n: isinstance(n, exp.SetOperation) and bool(n.args.get("by_name")), frozenset({"snowflake"})),
    _Syntax("GROUP BY ALL", lambda n: isinstance(n, exp.Group) and bool(n.args.get("all")),
            frozenset({"snowflake", "bigquery"})),
    _Syntax("SELECT * EXCLUDE/REPLACE",
            lambda n: isinstance(n, exp.Star) and bool(n.args.get("except_") or n.args.get("except")
                                                       or n.args.get("replace")),
            frozenset({"snowflake", "bigquery"})),
    _Syntax("a lambda (x -> ...)", lambda n: isinstance(n, exp.Lambda), frozenset({"spark", "snowflake"})),
    _Syntax("the HUGEINT type", lambda n: isinstance(n, exp.DataType) and n.this == exp.DataType.Type.INT128,
            frozenset({"spark"})),  # the spark engine writes it as DECIMAL(38, 0)
    _Syntax("a DATE plus or minus a bare number of days", _date_plus_days,
            frozenset({"postgres", "spark", "snowflake"})),
)

# The dialects an engine of tieout runs, written as that engine writes them (its rewrites on top of sqlglot's).
_ENGINE_WRITERS: dict[str, Callable[[exp.Expr], str]] = {"spark": spark_sql}

# A CTE's MATERIALIZED only tells the planner what to do: dropped where the dialect has no such hint.
_MATERIALIZED_HINT = frozenset({"postgres"})


@dataclass(frozen=True)
class Portability:
    """One rule in one dialect: what blocks it (empty: it is portable) and, when sqlglot could write it, its SQL
    in that dialect (`$parameters` as the dialect's placeholders)."""

    rule: str
    dialect: str
    blockers: tuple[str, ...]
    sql: str | None

    @property
    def portable(self) -> bool:
        return not self.blockers


def _only(engines: tuple[str, ...]) -> str:
    return f"only the {' and '.join(engines)} engine{'s provide' if len(engines) > 1 else ' provides'}"


def _blockers(tree: exp.Expr, requires: tuple[str, ...], dialect: str) -> list[str]:
    provided = engine_functions()
    found: list[str] = []
    for function in requires:
        if not any(ENGINES[name].dialect == dialect for name in provided[function]):
            found.append(f"{function}(), a function {_only(provided[function])}")
    for node in tree.walk():
        if isinstance(node, exp.Anonymous) and node.name.lower() not in provided:
            found.append(f"{node.name.lower()}(), a DuckDB function sqlglot cannot write for {dialect}")
        found.extend(f"{s.name} (DuckDB syntax {dialect} does not have)" for s in _SYNTAX
                     if dialect not in s.native and s.found(node))
    return list(dict.fromkeys(found))  # each once, in the order met


def _without_materialized(tree: exp.Expr) -> exp.Expr:
    def drop(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
            node = node.copy()
            node.set("materialized", None)
        return node

    return tree.transform(drop)


def check_portability(rule: Rule, dialect: str) -> Portability:
    """What blocks `rule` in `dialect` (one of DIALECTS), and its SQL there when sqlglot can write it."""
    return _check(rule.name, rule.sql, rule.requires, dialect)


@lru_cache(maxsize=512)
def _check(name: str, sql: str, requires: tuple[str, ...], dialect: str) -> Portability:
    # Once per rule text: a Spark run checks every rule before each day, and a backfill runs many days.
    tree = sqlglot.parse_one(sql, read=_READ)
    blockers = _blockers(tree, requires, dialect)
    if dialect not in _MATERIALIZED_HINT:
        tree = _without_materialized(tree)
    try:
        if dialect in _ENGINE_WRITERS:
            # What the engine itself would run: sqlglot's dialect and the engine's own rewrites.
            sql = sqlglot.transpile(_ENGINE_WRITERS[dialect](tree), read=dialect, write=dialect, pretty=True)[0]
        else:
            sql = tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE, comments=False, pretty=True)
    except NotOnSpark as e:
        return Portability(name, dialect, (*blockers, f"the spark engine cannot run it: {e}"), None)
    except SqlglotError as e:
        return Portability(name, dialect, (*blockers, f"sqlglot cannot write it for {dialect}: {e}"), None)
    try:
        sqlglot.parse_one(sql, read=dialect)
    except SqlglotError as e:
        blockers.append(f"what sqlglot writes for {dialect} does not parse as {dialect}: {e}")
    return Portability(name, dialect, tuple(blockers), sql)


def check_portability_of(rules: dict[str, Rule], dialect: str) -> list[Portability]:
    return [check_portability(rule, dialect) for rule in rules.values()]
