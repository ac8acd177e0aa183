"""The natural-key normalisers as DuckDB SQL macros, equal to `normalise.py` on every input.

`install_normalisers(con)` defines, on one connection:

- `tieout_tax_id(x)`, `tieout_legal_name(x)`, `tieout_host(x)`: pure scalar macros, vectorised;
- `tieout_domain(x)`: the registrable domain of one value (a scalar macro over the PSL tables, fine for
  thousands of rows);
- `registrable_domains_sql(relation, column)`: the set-based form for the hot path. It reduces each
  *distinct* host once with one hash join against the PSL node table, instead of a lookup per row; the
  resolver joins its result back. At a million distinct domains this is the difference between a join and
  a million correlated lookups.

`natural_keys(con, table, kind, values_sql)` is what the DuckDB engine offers the resolver (and, through the
Spark engine, what Spark's resolution asks DuckDB on the driver): the key of each distinct value of a query.
`tax_id_sql(x)` is the tax-id key as plain SQL: it needs no macro, so the resolver writes it inline and Spark
runs it transpiled.

Non-ASCII values are the exception in these exports. Python's and DuckDB's Unicode case mappings differ and
DuckDB has neither a full ASCII fold (`strip_accents` only drops accents) nor IDNA, so those values, and only
those, are computed in Python. DuckDB's Python UDFs need numpy, which tieout does not depend on, so instead
`fold_non_ascii(con, sql)` computes them once per distinct value into the table `tieout_fold(src, name_text,
domain)` and the macros look them up there. A non-ASCII value nobody folded yields NULL (no key, never a
wrong key). `strlen(x) = length(x)` (bytes = characters) is the cheap ASCII test that routes them.
"""

from __future__ import annotations

import weakref
from functools import cache
from typing import TYPE_CHECKING

import duckdb

import tieout.entities.normalise as n
from tieout.sql import literal

from .psl import psl_tables

if TYPE_CHECKING:
    import pyarrow as pa

_WS_SQL = " || ".join(f"chr({ord(c)})" for c in n.WHITESPACE)
# SQL, with {0} for a value: true when it is ASCII (bytes = characters), the values a SQL form of a key or a
# prefilter can reason about; the rest are keyed in Python.
ASCII = "strlen({0}) = length({0})"


# The kinds of natural key (contract §4), in the order the resolver tries them.
KEY_KINDS = ("tax_id", "domain", "legal_name")


def tax_id_sql(x: str) -> str:
    """SQL: the tax-id key of the expression `x` (`normalise.tax_id`). ASCII-only pattern and upper-casing of
    what is left (ASCII), so it means the same in every engine sqlglot writes it for."""
    return f"nullif(upper(regexp_replace({x}, {literal(n.TAX_ID_DROP)}, '', 'g')), '')"


def natural_keys(con: duckdb.DuckDBPyConnection, table: str, kind: str, values_sql: str) -> None:
    """Create `table (v, key)`: each distinct value of the one-column query `values_sql` that has a natural key
    of `kind` (one of `KEY_KINDS`), with that key. Installs the normalisers if need be.

    Domains: each distinct host is reduced once (`registrable_domains_sql`); non-ASCII values through Python,
    as non-ASCII names are (`fold_non_ascii`).
    """
    install_normalisers(con)
    values = f"SELECT DISTINCT v FROM (SELECT #1 AS v FROM ({values_sql}) q) d WHERE v IS NOT NULL"
    if kind == "tax_id":
        keyed = f"SELECT v, {tax_id_sql('v')} AS key FROM ({values})"
    elif kind == "legal_name":
        fold_non_ascii(con, values_sql)
        keyed = f"SELECT v, tieout_legal_name(v) AS key FROM ({values})"
    elif kind == "domain":
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT v, tieout_host(v) AS host FROM ({values})")
        fold_non_ascii(con, f"SELECT v FROM {table}")
        keyed = f"""
            SELECT h.v, CASE WHEN strlen(h.v) <> length(h.v) THEN f.domain ELSE r.domain END AS key
            FROM {table} h
            LEFT JOIN ({registrable_domains_sql(table, "host")}) r ON r.host = h.host
            LEFT JOIN tieout_fold f ON f.src = h.v
        """
    else:
        raise ValueError(f"no natural key of kind {kind!r}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT v, key FROM ({keyed}) k WHERE key IS NOT NULL")


def fold_non_ascii(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """Fold the distinct non-ASCII values of the one-column query `sql` into `tieout_fold`; returns how many.

    Only values not folded before are computed, so calling it for every input is cheap.
    """
    rows = con.execute(f"""
        SELECT DISTINCT v FROM (SELECT #1 AS v FROM ({sql})) q
        WHERE v IS NOT NULL AND strlen(v) <> length(v) AND v NOT IN (SELECT src FROM tieout_fold)
    """).fetchall()
    if not rows:
        return 0
    import pyarrow as pa

    values = [r[0] for r in rows]
    folded = pa.table(
        {
            "src": pa.array(values, pa.string()),
            "name_text": pa.array([n.name_text(v) for v in values], pa.string()),
            "domain": pa.array([n.registrable_domain(v) for v in values], pa.string()),
        }
    )
    con.register("tieout_fold_new", folded)
    try:
        con.execute("INSERT INTO tieout_fold SELECT * FROM tieout_fold_new")
    finally:
        con.unregister("tieout_fold_new")
    return len(values)


def _host_expr(x: str) -> str:
    h = f"trim(lower({x}), {_WS_SQL})"
    for pattern in n.HOST_STEPS:
        h = f"regexp_replace({h}, {literal(pattern)}, '')"
    return h


def registrable_domains_sql(relation: str, column: str = "host") -> str:
    """SELECT host, domain for the distinct non-null ASCII hosts of `relation.column` (see module doc).

    The PSL walk of tldextract, as data: K is the longest host suffix that is a trie node, E the longest
    that is a rule. If the walk stopped below a wildcard node (`*.ck`), the public suffix is one label
    longer than K, or exactly K when `!label.K` is an exception; otherwise it is E. The registrable domain
    is the public suffix plus one label, and none when the host is no longer than its suffix.
    """
    return f"""
    WITH hosts AS (
        SELECT DISTINCT {column} AS host, string_split({column}, '.') AS labels
        FROM {relation} WHERE {column} IS NOT NULL
    ), suffixes AS (
        SELECT host, labels, len(labels) AS n, k,
               array_to_string(labels[len(labels) - k + 1:], '.') AS suffix
        FROM (SELECT host, labels, unnest(range(1, len(labels) + 1)) AS k FROM hosts)
    ), walked AS (
        SELECT s.host, any_value(s.labels) AS labels, any_value(s.n) AS n,
               coalesce(max(s.k) FILTER (WHERE nd.suffix IS NOT NULL), 0) AS kk,
               max(s.k) FILTER (WHERE nd.is_rule) AS e,
               coalesce(arg_max(nd.has_wildcard, s.k) FILTER (WHERE nd.suffix IS NOT NULL), false) AS wild,
               list(s.k) FILTER (WHERE ex.suffix IS NOT NULL) AS exc
        FROM suffixes s
        LEFT JOIN tieout_psl_node nd ON nd.suffix = s.suffix
        LEFT JOIN tieout_psl_exception ex ON ex.suffix = s.suffix
        GROUP BY s.host
    ), reduced AS (
        SELECT host, labels, n,
               CASE WHEN kk < n AND wild THEN (CASE WHEN list_contains(exc, kk + 1) THEN kk ELSE kk + 1 END)
                    ELSE e END AS p
        FROM walked
    )
    SELECT host,
           CASE WHEN p IS NOT NULL AND p < n
                 AND array_to_string(labels[n - p:], '.') NOT IN (SELECT domain FROM tieout_free_mail)
                THEN array_to_string(labels[n - p:], '.') END AS domain
    FROM reduced
    """


# The connections `install_normalisers` has installed them on.
_INSTALLED: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


@cache
def _arrow_tables() -> dict[str, pa.Table]:
    """The PSL and free-mail tables as Arrow, built once per process (pyarrow tables are immutable)."""
    import pyarrow as pa  # only here and in fold_non_ascii: a read that opens a day without normalisers skips it

    nodes, exceptions = psl_tables()
    free_mail = sorted(n.free_mail_domains())
    return {
        "tieout_psl_node": pa.table(
            {
                "suffix": pa.array([r[0] for r in nodes], pa.string()),
                "is_rule": pa.array([r[1] for r in nodes], pa.bool_()),
                "has_wildcard": pa.array([r[2] for r in nodes], pa.bool_()),
            }
        ),
        "tieout_psl_exception": pa.table({"suffix": pa.array(exceptions, pa.string())}),
        "tieout_free_mail": pa.table({"domain": pa.array(free_mail, pa.string())}),
    }


def install_normalisers(con: duckdb.DuckDBPyConnection) -> None:
    """Define the normaliser macros, their PSL and free-mail tables and the Python UDFs on `con`.

    Idempotent: a second call on the same connection is a no-op.
    """
    # Only this function defines them, as TEMP objects, which only the connection they were made on sees (not
    # even a cursor of it): the connections it completed on are all there are. Asking DuckDB instead (calling
    # the marker macro, defined last) fails on a new connection, and a failed lookup there costs 5 ms (DuckDB's
    # search for a name to suggest), a third of installing.
    if con in _INSTALLED:
        return
    for name, data in _arrow_tables().items():
        # Loaded from Arrow in one statement: executemany of ~8,000 PSL rows takes seconds.
        con.register(f"{name}_arrow", data)
        try:
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        finally:
            con.unregister(f"{name}_arrow")
    con.execute("CREATE TEMP TABLE tieout_fold (src VARCHAR PRIMARY KEY, name_text VARCHAR, domain VARCHAR)")

    con.execute(f"CREATE OR REPLACE TEMP MACRO tieout_tax_id(x) AS {tax_id_sql('x')}")

    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO tieout__name_text(x) AS CASE
            WHEN strlen(x) = length(x) THEN trim(regexp_replace(lower(x), {literal(n.NAME_DROP)}, ' ', 'g'), ' ')
            ELSE (SELECT f.name_text FROM tieout_fold f WHERE f.src = x)
        END
    """)
    # A macro's argument is copied wherever the body names it, and DuckDB plans each copy of the name text's
    # lookup in `tieout_fold` (a correlated subquery) as a join of its own: the name text is computed once, as
    # the one element of a list a lambda reads (planning 3.5 ms -> 1.5 ms, a million names 1.8 s -> 1.0 s).
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO tieout_legal_name(x) AS list_transform([tieout__name_text(x)], lambda t: CASE
            WHEN coalesce(t, '') = '' THEN NULL
            WHEN regexp_full_match(t, {literal(n.NAME_ALL_FORMS)}) THEN t
            ELSE regexp_replace(t, {literal(n.NAME_TRAILING_FORMS)}, '')
        END)[1]
    """)

    # The host of an ASCII value (NULL for a non-ASCII one: those take the Python path). The chain of
    # replacements is computed once, as above (a million values 1.6 s -> 1.0 s).
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO tieout_host(x) AS CASE
            WHEN strlen(x) <> length(x) THEN NULL
            ELSE list_transform([{_host_expr("x")}], lambda h: CASE
                WHEN regexp_full_match(h, {literal(n.HOST_SHAPE)}) THEN rtrim(h, '.') END)[1]
        END
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO tieout_domain(x) AS CASE
            WHEN x IS NULL THEN NULL
            WHEN strlen(x) <> length(x) THEN (SELECT f.domain FROM tieout_fold f WHERE f.src = x)
            ELSE (SELECT domain FROM ({registrable_domains_sql("(SELECT tieout_host(x) AS host)")}))
        END
    """)
    _INSTALLED.add(con)
