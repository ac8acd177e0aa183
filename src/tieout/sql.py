"""Quoting for SQL assembled from text: one place, so every name and value is quoted the same way.

Values a statement can take as bound parameters should be bound; these are for what cannot be bound —
a column or table name, a constant inside a generated CASE or macro, a view's definition.
"""

from __future__ import annotations


def quote_name(name: str) -> str:
    """`name` as a quoted SQL identifier (a double quote inside it doubled): any text is then one name."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as a SQL string literal (a single quote inside it doubled)."""
    return "'" + text.replace("'", "''") + "'"
