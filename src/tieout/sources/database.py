"""Read a standard table's rows from any database SQLAlchemy can reach (the `sql` source format, contract §3b).

`fetch` runs one query (or reads one table) and returns every column as text, the way a CSV export would hold
it, so the same parsing and validation as for files applies afterwards. A database URL usually holds a
password: it is never part of an error message, and the database driver's own errors (which often quote the
host, the user or the whole URL) are re-raised with every form of the URL and its secret cut out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import sqlalchemy as sa
import sqlglot
from sqlalchemy.engine import URL, make_url
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from tieout.errors import ConfigError, InputError

# `${NAME}` only: `$NAME` and `${NAME:-default}` stay as written (a password may hold a `$`).
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# A bare table name, optionally qualified by schema (and catalog, as warehouses name them): plain identifiers
# only. Anything else is read as SQL and must parse as one SELECT.
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}")

# SQLAlchemy's backend name -> sqlglot's dialect, so the check reads the query as the database will.
# A backend not listed is read with sqlglot's generic dialect.
_SQLGLOT_DIALECTS = {
    "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite", "mssql": "tsql",
    "oracle": "oracle", "snowflake": "snowflake", "bigquery": "bigquery", "redshift": "redshift",
    "duckdb": "duckdb", "trino": "trino", "presto": "presto", "databricks": "databricks",
    "clickhouse": "clickhouse", "hive": "hive", "teradata": "teradata",
}

# Anything that writes, changes the session or locks rows: refused even inside a SELECT
# (`WITH d AS (DELETE … RETURNING *) SELECT …`, `SELECT … INTO new_table`, `SELECT … FOR UPDATE`).
_NOT_READING = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Copy,
    exp.Set, exp.Pragma, exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.LoadData, exp.Into, exp.Lock,
)

# URL query parameters that carry a secret in some driver (`?password=…`, `?sslpassword=…`, `?token=…`).
_SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|credential", re.IGNORECASE)

# Rows per round trip and per Arrow batch: only one batch of Python row objects is alive at a time.
BATCH_ROWS = 10_000


def expand_url(url: str, *, key: str) -> str:
    """`url` with each `${VAR}` replaced by that environment variable's value.

    The value goes in as it is: a password with URL-special characters (`@`, `/`, `:`, `%`) must be stored
    percent-encoded. A variable that is not set is a ConfigError naming `key` and the variable (never a value).
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = os.environ.get(name)
        if found is None:
            raise ConfigError(f"{key}: environment variable {name} is not set (the URL names it as ${{{name}}})")
        return found

    return _VARIABLE.sub(value, url)


def fetch(url: str, query: str, *, key: str) -> pa.Table:
    """Every row of `query` over the database at `url` (`${VAR}` expanded), every column as text.

    `query` is a table name (`account`, `zuora.account`) or one SELECT statement. Column names and order,
    and row order, are the database's. Values become the text a CSV export would hold: None stays null,
    Decimals exact (`1234.5600`), dates ISO, timestamps ISO 8601 (a naive one as `YYYY-MM-DD HH:MM:SS[.ffffff]`,
    an aware one with its offset or `Z`), booleans `true`/`false`.

    A URL or query that cannot be used is a ConfigError, refused before connecting; a database that cannot be
    reached or a query that fails is an InputError labelled with `key`. Neither message holds the URL's secret.
    """
    expanded = expand_url(url, key=key)
    secrets = _Secrets(expanded, _substituted_values(url))
    parsed = _parse_url(expanded, key=key, secrets=secrets)
    table = _table_name(query)
    if table is None:
        _check_select(query, backend=parsed.get_backend_name(), key=key)
    what = f"reading table {'.'.join(table)}" if table is not None else "running the query"
    try:
        # NullPool: the one connection is really closed when done, not kept in a pool.
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    except Exception as e:  # noqa: BLE001 - whatever the driver raises may quote the URL: never shown as raised
        shown = secrets.redact(parsed.render_as_string(hide_password=True))
        raise ConfigError(f"{key}: cannot use the database URL {shown}: {secrets.redact(_message(e))}") from None
    try:
        return _read(engine, query, table, key=key, what=what, secrets=secrets)
    finally:
        engine.dispose()


class _Secrets:
    """Every form in which the URL's secret may show up in a driver's message, longest first: the URL as
    expanded and as SQLAlchemy renders it, its `user:password@host` part, the password (decoded, as written,
    percent-encoded), secret-looking query parameters (`?password=…`) and every substituted variable's value."""

    def __init__(self, expanded: str, substituted: Iterable[str]) -> None:
        forms = {expanded, *substituted}
        netloc = re.match(r"[^:/]*://([^/?#]*)", expanded)
        if netloc and "@" in netloc.group(1):
            forms.add(netloc.group(1))
            userinfo = netloc.group(1).rsplit("@", 1)[0]
            if ":" in userinfo:
                forms.add(userinfo.split(":", 1)[1])
        try:
            parsed: URL | None = make_url(expanded)
        except Exception:  # noqa: BLE001 - unparsable: the forms above still go
            parsed = None
        if parsed is not None:
            forms.add(parsed.render_as_string(hide_password=False))
            if parsed.password:
                forms |= {str(parsed.password), quote(str(parsed.password), safe="")}
            for name, value in parsed.query.items():
                if _SECRET_PARAMETER.search(name):
                    forms.update([value] if isinstance(value, str) else value)
        self._forms = sorted((f for f in forms if f), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, "***")
        return text


def _substituted_values(url: str) -> list[str]:
    return [os.environ.get(m.group(1), "") for m in _VARIABLE.finditer(url)]


def _parse_url(expanded: str, *, key: str, secrets: _Secrets) -> URL:
    try:
        return make_url(expanded)
    except Exception as e:  # noqa: BLE001 - SQLAlchemy's message may quote the URL
        raise ConfigError(f"{key}: not a database URL SQLAlchemy can read ({secrets.redact(_message(e))}); "
                          "expected dialect+driver://user:password@host/database") from None


def _table_name(query: str) -> list[str] | None:
    """The parts of a bare (optionally qualified) table name, or None when `query` is SQL."""
    stripped = query.strip()
    if not _TABLE_NAME.fullmatch(stripped):
        return None
    return stripped.split(".")


def _check_select(query: str, *, backend: str, key: str) -> None:
    """Refuse anything but one read-only SELECT, before any connection is made."""
    dialect = Dialect.get_or_raise(_SQLGLOT_DIALECTS.get(backend))

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"{key}: the query is refused: {why}; expected a table name or one SELECT statement")

    try:
        tokens = dialect.tokenize(query)
        # Whether `/* a /* b */ c */` ends at the first `*/` differs between SQL parsers: never guess.
        if any("/*" in comment for token in tokens for comment in token.comments):
            raise refuse("a comment inside a /* comment */")
        # A comment after the final `;` is not a statement (sqlglot keeps it as a Semicolon).
        statements = [s for s in dialect.parser().parse(tokens, query)
                      if s is not None and not isinstance(s, exp.Semicolon)]
    except sqlglot.errors.SqlglotError as e:
        first = e.errors[0] if isinstance(e, sqlglot.errors.ParseError) and e.errors else {}
        where = f" at line {first['line']}, column {first['col']}" if "line" in first else ""
        raise refuse(f"it is not SQL that can be read{where} ({first.get('description', type(e).__name__)})") from None
    except RecursionError:
        raise refuse("it is nested too deeply to check") from None
    if not statements:
        raise refuse("it is empty")
    if len(statements) != 1:
        raise refuse(f"it holds {len(statements)} statements")
    tree = statements[0]
    if isinstance(tree, (exp.Column, exp.Identifier, exp.Dot, exp.Table)):
        raise refuse("a table name is letters, digits, `_` and `$`, dotted (schema.table): for any other, "
                     "write a SELECT")
    if not isinstance(tree, exp.Query):
        raise refuse(f"it is {_statement(tree)}, not SELECT")
    for node in tree.walk():
        if isinstance(node, _NOT_READING):
            raise refuse(f"it holds {_statement(node)}, and a source only reads")


def _statement(node: exp.Expr) -> str:
    """The SQL keyword a person wrote for `node` (sqlglot's class names differ: TruncateTable, Command)."""
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return {"truncatetable": "TRUNCATE", "into": "SELECT … INTO", "lock": "FOR UPDATE / FOR SHARE"}.get(
        node.key, node.key.upper())


def _read(engine: sa.Engine, query: str, table: list[str] | None, *, key: str, what: str,
          secrets: _Secrets) -> pa.Table:
    def failed(step: str, e: Exception) -> InputError:
        return InputError(f"{step} failed: {secrets.redact(_message(e))}", file=key)

    try:
        connection = engine.connect()
    except Exception as e:  # noqa: BLE001 - the driver's errors name the host and user: redacted, never chained
        raise failed("connecting to the database", e) from None
    try:
        if engine.dialect.name == "postgresql":
            # A reading session: whatever the check above missed cannot write. Nothing is ever committed.
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        sql = query if table is None else _select_all(engine.dialect, table)
        # No parameters: `:name` and `%` in the user's SQL reach the database untouched.
        # stream_results: a server-side cursor where the driver has one, fetched BATCH_ROWS at a time.
        result = connection.execution_options(stream_results=True, no_parameters=True).exec_driver_sql(sql)
        names = list(result.keys())
        batches = [_batch(names, rows) for rows in result.yield_per(BATCH_ROWS).partitions()]
    except Exception as e:  # noqa: BLE001 - as above
        raise failed(what, e) from None
    finally:
        # Closing rolls the reading transaction back. An error while closing (a connection already lost)
        # must not replace the one being raised, nor quote the URL.
        try:
            connection.close()
        except Exception:  # noqa: BLE001
            pass
    schema = pa.schema([pa.field(name, pa.string()) for name in names])
    return pa.Table.from_batches(batches, schema=schema)


def _select_all(dialect: sa.Dialect, parts: list[str]) -> str:
    # quote() leaves a name bare unless the dialect needs it quoted (a reserved word such as `order`, upper
    # case on PostgreSQL): the name is taken as the database stores it, in SQLAlchemy's convention.
    preparer = dialect.identifier_preparer
    return "SELECT * FROM " + ".".join(preparer.quote(part) for part in parts)


def _batch(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
    arrays = [pa.array([_text(v) for v in column], type=pa.string()) for column in zip(*rows, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(n, pa.string()) for n in names]))


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.isoformat(sep=" ")
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _decimal(value: Decimal) -> str:
    # Fixed-point, every digit kept: `1234.5600` stays so, and 1E-7 is written 0.0000001 (str() would not).
    return format(value, "f") if value.is_finite() else str(value)


def _bytes(value: bytes | bytearray | memoryview) -> str:
    return bytes(value).hex()


def _json(value: dict[str, Any] | list[Any]) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# type -> text; looked up along the value's class hierarchy (bool before int, datetime before date).
_TEXT: dict[type, Callable[[Any], str]] = {
    bool: lambda v: "true" if v else "false",
    int: str,
    float: repr,
    Decimal: _decimal,
    dt.datetime: _timestamp,
    dt.date: dt.date.isoformat,
    dt.time: dt.time.isoformat,
    bytes: _bytes, bytearray: _bytes, memoryview: _bytes,
    dict: _json, list: _json,
}


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    for kind in type(value).__mro__:
        convert = _TEXT.get(kind)
        if convert is not None:
            return convert(value)
    return str(value)


def _message(error: BaseException) -> str:
    """The database's own words: the driver's error rather than SQLAlchemy's wrapper (which appends the SQL
    and a link), on one line."""
    original = getattr(error, "orig", None)
    source = original if original is not None else error
    # PostgreSQL's message without its `LINE 1: DECLARE "c_…" CURSOR FOR …` context, which quotes the
    # server-side cursor this module opened rather than the user's query.
    diag = getattr(source, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        parts = [primary, getattr(diag, "message_detail", None), getattr(diag, "message_hint", None)]
        text = ". ".join(str(part).strip().rstrip(".") for part in parts if part)
    else:
        text = str(source).strip() or type(error).__name__
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
