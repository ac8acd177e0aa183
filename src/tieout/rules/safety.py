"""Refuse rule SQL that is anything but one read-only SELECT over the canonical tables.

Checked before the SQL ever runs, twice: on sqlglot's parse tree (here) and on DuckDB's own
(`duckdb_view`), so a construct the two parsers read differently is refused rather than trusted. Only
allow-listed functions may be called (`functions`). The run also switches DuckDB's external access off
before any rule executes, so a construct both checks miss still cannot read or write a file.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token

from tieout.errors import UnsafeRuleError
from tieout.rules import duckdb_view
from tieout.rules.duckdb_view import Refuse
from tieout.rules.functions import ALLOWED_FUNCTIONS
from tieout.rules.tables import CANONICAL_TABLES

# Tables and views the run keeps beside the canonical ones (the findings being collected, loading's
# scratch tables, each named `<export table>__<purpose>`). A CTE may not take one of these names either:
# whatever either parser thinks a reference means, the name then has one meaning.
# tests/security/test_rule_sql_corpus.py keeps this list complete against a real run.
INTERNAL_TABLES = frozenset({"raw_findings", "rule_out", "findings", "entity_map", "fx_rates"})
_INTERNAL_PREFIX, _SCRATCH_MARK = "tieout_", "__"

_WRITES = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command,
    exp.Copy, exp.Set, exp.Pragma, exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.LoadData,
    exp.Attach, exp.Detach, exp.Install, exp.Export, exp.Into,
)

# sqlglot's names for syntax, not a function called by name (`CAST(x AS INT)`, `CASE`, `[1, 2]`, `a AND b`).
_SYNTAX = frozenset({"cast", "try_cast", "case", "if", "and", "or", "exists", "extract", "array", "struct"})
# sqlglot's names for an allowed DuckDB function it reads as one of its own (`position('a' IN b)`).
_SQLGLOT_NAMES = {"percentile_cont": "quantile_cont", "percentile_disc": "quantile_disc",
                  "str_position": "position", "array_contains_all": "list_has_all"}


# C0 controls but tab, newline and carriage return; DEL and C1 (NEL among them); line and paragraph
# separators; bidirectional embeddings, overrides and isolates; zero-width characters and the BOM (the
# registry drops one at the start of a file, where editors put it).
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


_DUCKDB = Dialect.get_or_raise("duckdb")


def _refuse(name: str, path: Path | None, why: str) -> UnsafeRuleError:
    where = f"{path}: " if path else ""
    return UnsafeRuleError(f"{where}rule {name} refused: {why}")


def is_internal(table: str) -> bool:
    return table in INTERNAL_TABLES or table.startswith(_INTERNAL_PREFIX) or _SCRATCH_MARK in table


def _written(sql: str, node: exp.Expr) -> str | None:
    """The text `node` was parsed from (a function's name, an identifier), when sqlglot kept its place."""
    start, end = node.meta.get("start"), node.meta.get("end")
    return sql[start:end + 1] if start is not None and end is not None else None


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('""', '"')
    return name.lower()


def _function_names(sql: str, node: exp.Func) -> set[str]:
    """What DuckDB will be asked to call: the name as written where known, else sqlglot's names for it."""
    if isinstance(node, exp.Anonymous):
        return {node.name.lower()}
    written = _written(sql, node)
    if written is not None:
        return {_unquote(written)}
    return {_SQLGLOT_NAMES.get(n.lower(), n.lower()) for n in node.sql_names()}


def _check_function(sql: str, node: exp.Func, refuse: Refuse) -> None:
    names = _function_names(sql, node)
    if isinstance(node.parent, exp.Dot) and node.arg_key == "expression":
        raise refuse(f"qualified function {node.parent.sql('duckdb')} is not allowed: call it by its name")
    if not names & (ALLOWED_FUNCTIONS | _SYNTAX):
        raise refuse(f"function {sorted(names)[0]}() is not allowed: rules may call only the functions "
                     "listed in docs/rules.md")


def _cte_names(with_: exp.With, upto: exp.Expr | None = None) -> set[str]:
    names = set()
    for cte in with_.expressions:
        if cte is upto:
            break
        names.add(cte.alias_or_name.lower())
    return names


def visible_ctes(table: exp.Table) -> set[str]:
    """The CTE names in scope where `table` is read: a CTE sees the ones before it (and itself and every
    other if RECURSIVE); the query a WITH belongs to, and everything inside it, sees them all."""
    names: set[str] = set()
    child: exp.Expr = table
    parent = table.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            names |= _cte_names(parent, None if parent.args.get("recursive") else child)
        else:
            with_ = parent.args.get("with_")
            if isinstance(with_, exp.With) and child is not with_:
                names |= _cte_names(with_)
        child, parent = parent, parent.parent
    return names


def _check_table(sql: str, node: exp.Table, refuse: Refuse) -> None:
    if not isinstance(node.this, exp.Identifier):
        raise refuse(f"reading from {node.this.sql('duckdb')} is not allowed: rules read the canonical tables only")
    if node.args.get("db") or node.args.get("catalog"):
        raise refuse(f"qualified table {node.sql('duckdb')} is not allowed")
    # DuckDB reads `FROM 'x.csv'` (a string, not a name) as a file. Where sqlglot kept no place, refuse too.
    written = _written(sql, node.this) or "?"
    if not (written[0] == '"' or written[0].isidentifier()):
        raise refuse(f"reading from {written} is not allowed: a file or URL, not a canonical table")
    table = node.name.lower()
    if table in visible_ctes(node):
        return
    if table not in CANONICAL_TABLES:
        raise refuse(f"unknown table {node.name!r} (rules read: {', '.join(sorted(CANONICAL_TABLES))}, "
                     "and their own CTEs where the CTE is in scope)")


def _check_cte(node: exp.CTE, refuse: Refuse) -> None:
    cte = node.alias_or_name.lower()
    if cte in CANONICAL_TABLES or is_internal(cte):
        raise refuse(f"CTE {node.alias_or_name!r} takes the name of a table: name it something else")


def _check_characters(sql: str, refuse: Refuse) -> None:
    """Refuse characters that parsers (and people reviewing a rule) read differently: control characters,
    Unicode line separators that may or may not end a `--` comment, bidirectional overrides."""
    found = _INVISIBLE.search(sql)
    if found is not None:
        offset = found.start()
        line = sql.count("\n", 0, offset) + 1
        column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
        raise refuse(f"character U+{ord(found.group()):04X} at line {line}, column {column} is not allowed in rule SQL")


def _check_comments(tokens: list[Token], refuse: Refuse) -> None:
    # Whether `/* a /* b */ c */` ends at the first `*/` differs between SQL parsers.
    if any("/*" in comment for token in tokens for comment in token.comments):
        raise refuse("a comment inside a /* comment */ is not allowed: SQL parsers disagree where it ends")


def _parse(sql: str, refuse: Refuse) -> exp.Expr:
    try:
        tokens = _DUCKDB.tokenize(sql)
        _check_comments(tokens, refuse)
        statements = [s for s in _DUCKDB.parser().parse(tokens, sql) if s is not None]
    except sqlglot.errors.SqlglotError as e:
        # DuckDB's reason comes first: it runs the SQL, and it says where (the tokenizer does not).
        problem = duckdb_view.statement_problem(sql)
        first = e.errors[0] if isinstance(e, sqlglot.errors.ParseError) and e.errors else {}
        where = f" at line {first['line']}, column {first['col']}" if "line" in first else ""
        raise refuse(problem or f"not SQL the rule check can read{where}: {first.get('description', e)}") from e
    except RecursionError as e:
        raise refuse("nested too deeply to check") from e
    if len(statements) != 1:
        raise refuse(f"expected exactly one SELECT statement, found {len(statements)}")
    return statements[0]


# The verdict depends on the SQL text alone, so a text that passed once passes again: a long-lived process
# (the web server, a test run) checks each rule once, not on every load of the rules (~40 ms a rule).
# Refusals are not kept: each one is raised again with the name and file of the rule that brings it.
_PASSED: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
_PASSED_MAX = 512


def check_rule_sql(sql: str, *, name: str, path: Path | None = None) -> set[str]:
    """Validate `sql` and return the names of the `$parameters` it uses."""
    return inspect_rule_sql(sql, name=name, path=path)[0]


def inspect_rule_sql(sql: str, *, name: str, path: Path | None = None) -> tuple[set[str], set[str]]:
    """Validate `sql`; return the names of the `$parameters` it uses and of the functions it calls that
    sqlglot does not know (DuckDB's own and the engine's, lower case)."""
    passed = _PASSED.get(sql)
    if passed is not None:
        return set(passed[0]), set(passed[1])
    refuse: Refuse = partial(_refuse, name, path)
    try:
        used, called = _check(sql, refuse)
    except UnsafeRuleError:
        raise
    except Exception as e:  # noqa: BLE001 - hostile input: a check that trips over it refuses, never lets it by
        raise refuse(f"the rule check could not read it ({type(e).__name__}: {e})") from e
    if len(_PASSED) >= _PASSED_MAX:
        _PASSED.clear()
    _PASSED[sql] = (frozenset(used), frozenset(called))
    return used, called


def _check(sql: str, refuse: Refuse) -> tuple[set[str], set[str]]:
    _check_characters(sql, refuse)
    tree = _parse(sql, refuse)
    if not isinstance(tree, exp.Query):
        raise refuse(f"expected a SELECT, found {tree.key.upper()}")
    for node in tree.walk():
        if isinstance(node, _WRITES):
            raise refuse(f"{node.key.upper()} is not allowed: rules only read")
        if isinstance(node, exp.Pivot):
            raise refuse("PIVOT and UNPIVOT are not allowed: DuckDB runs a query of its own to plan them")
        if isinstance(node, exp.CTE):
            _check_cte(node, refuse)
        if isinstance(node, exp.Table):
            _check_table(sql, node, refuse)
        if isinstance(node, exp.Func):
            _check_function(sql, node, refuse)
    duckdb_view.check(sql, refuse, tables=CANONICAL_TABLES)
    return ({p.name for p in tree.find_all(exp.Placeholder) if p.name},
            {f.name.lower() for f in tree.find_all(exp.Anonymous)})
