"""Refuse rule SQL that is anything but one read-only SELECT over the canonical tables.

Checked on the parse tree before the SQL ever runs. The run also switches DuckDB's external access off
before any rule executes, so a construct this check misses still cannot read or write a file.
"""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp

from tieout.errors import UnsafeRuleError

# What a rule may read: the canonical views the run builds (docs/rules.md describes each).
CANONICAL_TABLES = frozenset({
    "accounts", "contracts", "customers", "invoices", "tenants", "usage",
    "source_records", "entities", "crm_active", "billing_active", "covering_invoices",
    "field_values", "ownership", "ownership_conditions", "tenant_activity", "corrections",
    "crm_accounts", "crm_contracts", "billing_customers", "billing_invoices", "ops_tenants", "ops_usage",
})

_WRITES = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command,
    exp.Copy, exp.Set, exp.Pragma, exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.LoadData,
    exp.Attach, exp.Detach, exp.Install, exp.Export,
)

# Functions that reach outside the canonical tables: files, settings, the environment, the catalogue.
_FORBIDDEN_PREFIXES = ("read_", "parquet_", "sniff_", "duckdb_", "pragma_", "glob", "getenv", "query",
                       "current_setting", "sql_auto_complete", "which_secret", "iceberg", "delta_",
                       "load_", "install_", "system", "shell")


def _refuse(name: str, path: Path | None, why: str) -> UnsafeRuleError:
    where = f"{path}: " if path else ""
    return UnsafeRuleError(f"{where}rule {name} refused: {why}")


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return (node.sql_name() if hasattr(node, "sql_name") else type(node).__name__).lower()


def check_rule_sql(sql: str, *, name: str, path: Path | None = None) -> set[str]:
    """Validate `sql` and return the names of the `$parameters` it uses."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as e:
        raise _refuse(name, path, f"not valid DuckDB SQL: {e}") from e
    if len(statements) != 1:
        raise _refuse(name, path, f"expected exactly one SELECT statement, found {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise _refuse(name, path, f"expected a SELECT, found {tree.key.upper()}")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, _WRITES):
            raise _refuse(name, path, f"{node.key.upper()} is not allowed: rules only read")
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                raise _refuse(name, path, f"reading from {node.this.sql('duckdb')} is not allowed: "
                                          "rules read the canonical tables only")
            if node.args.get("db") or node.args.get("catalog"):
                raise _refuse(name, path, f"qualified table {node.sql('duckdb')} is not allowed")
            table = node.name.lower()
            if table not in CANONICAL_TABLES and table not in ctes:
                raise _refuse(name, path, f"unknown table {node.name!r} (rules read: "
                                          f"{', '.join(sorted(CANONICAL_TABLES))})")
        if isinstance(node, exp.Func):
            fn = _function_name(node)
            if fn.startswith(_FORBIDDEN_PREFIXES):
                raise _refuse(name, path, f"function {fn}() is not allowed: it reaches outside the "
                                          "canonical tables")
    return {p.name for p in tree.find_all(exp.Placeholder) if p.name}
