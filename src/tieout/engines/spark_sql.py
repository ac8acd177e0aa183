"""DuckDB's SQL as Spark SQL: sqlglot's `spark` dialect, plus what it writes word for word though Spark 3.5 has no
such thing, and the functions rules may call (`tieout_div`, `tieout_normalise`) written as Spark expressions.

Pure sqlglot, no PySpark: `tieout rules check --dialect spark` and the Spark engine read the same rewrites, so a
rule the check calls portable is a rule the engine runs. Like a sqlglot dialect, the rewrites are a table
(`REWRITES`), one small function per construct; a construct none can write raises `NotOnSpark` naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

# The table the Spark engine fills with the normalised form of the values rules compare (see `normalise`).
NORMALISE_KEYS = "tieout_normalise_keys"


class NotOnSpark(Exception):
    """A construct in DuckDB's SQL that the Spark engine cannot write; the message names it."""


def _spark(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="spark")


def _sql(node: exp.Expr) -> str:
    return node.sql(dialect="spark")


def _div(node: exp.Anonymous) -> exp.Expr:
    """`tieout_div(x, y)`: x / y rounded half up to four decimals in exact arithmetic, as the DuckDB engine's
    macro does. Spark's DECIMAL / DECIMAL rounds to a scale of its own choosing first (a double rounding), so the
    quotient is taken in whole ten-thousandths with `div`, which truncates as DuckDB's `//` does."""
    if len(node.expressions) != 2:
        raise NotOnSpark("tieout_div() with other than two arguments")
    x, y = (f"CAST(({_sql(a)}) * 10000 AS DECIMAL(38, 0))" for a in node.expressions)
    return _spark(f"CAST(({x} * 20000 + {y}) div (2 * {y}) AS DECIMAL(38, 0)) * CAST(0.0001 AS DECIMAL(5, 4))")


def _normalise(node: exp.Anonymous) -> exp.Expr:
    """`tieout_normalise(kind, v)`: the kinds DuckDB computes with SQL alone are that SQL, transpiled; the kinds
    that need the natural-key normalisers (the Public Suffix List, folding to ASCII: names, tax ids, domains) are
    looked up in `NORMALISE_KEYS`, which the engine fills before the rules run with every value of those kinds
    that the canonical tables hold, normalised by the DuckDB normalisers themselves."""
    from tieout.ownership.catalogue import KINDS  # the registry's kinds; a module of data, imported when used

    if len(node.expressions) != 2:
        raise NotOnSpark("tieout_normalise() with other than two arguments")
    kind_node, value_node = node.expressions
    value = _sql(value_node)

    def filled(node: exp.Expr) -> exp.Expr:
        return value_node.copy() if isinstance(node, exp.Column) and node.name == "tieout__v" else node

    cases = []
    for name, (duckdb_sql, _, _) in KINDS.items():
        if name in looked_up_kinds():
            found = (f"(SELECT max(k.tieout_key) FROM {NORMALISE_KEYS} AS k "
                     f"WHERE k.tieout_kind = '{name}' AND k.tieout_value = {value})")
        else:
            found = _sql(rewrite(sqlglot.parse_one(duckdb_sql % "tieout__v", read="duckdb").transform(filled)))
        cases.append(f"WHEN '{name}' THEN {found}")
    return _spark(f"CASE {_sql(kind_node)} {' '.join(cases)} END")


@lru_cache(maxsize=1)
def looked_up_kinds() -> frozenset[str]:
    """The registry kinds whose DuckDB SQL calls a natural-key normaliser (a `tieout_` macro)."""
    from tieout.ownership.catalogue import KINDS

    return frozenset(name for name, (sql, _, _) in KINDS.items() if re.search(r"\btieout_\w+\(", sql))


def _string_agg(node: exp.GroupConcat) -> exp.Expr:
    """`string_agg(x, sep [ORDER BY x])`: Spark 3.5 has no LISTAGG (what sqlglot writes), so the values are
    collected, sorted and joined. Unordered, DuckDB joins them in any order; here they are always sorted."""
    inner, order = node.this, None
    if isinstance(inner, exp.Order):
        inner, order = inner.this, inner
    distinct = isinstance(inner, exp.Distinct)
    value = inner.expressions[0] if distinct else inner
    if order is not None:
        keys = order.expressions
        if len(keys) != 1 or keys[0].this != value or keys[0].args.get("desc"):
            raise NotOnSpark("string_agg(... ORDER BY) ordered by anything but its own value, ascending")
    separator = node.args.get("separator") or exp.Literal.string(",")
    collect = "collect_set" if distinct else "collect_list"
    return _spark(f"array_join(array_sort({collect}({_sql(value)})), {_sql(separator)})")


def _full_match(node: exp.RegexpFullMatch) -> exp.Expr:
    """Spark has no regexp_full_match: RLIKE finds, so the pattern is anchored at both ends."""
    return _spark(f"({_sql(node.this)}) RLIKE concat('^(?:', {_sql(node.expression)}, ')$')")


def _byte_length(node: exp.Anonymous) -> exp.Expr:
    """DuckDB's `strlen(s)`, the length in bytes (`strlen(s) = length(s)`: s is ASCII), is Spark's octet_length."""
    return exp.Anonymous(this="octet_length", expressions=node.expressions)


# DuckDB's strftime specifiers that Spark's datetime patterns write alike (a four-digit year, two-digit fields,
# microseconds); everything else in a format is literal text, quoted for Spark.
_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%f": "SSSSSS"}


def spark_datetime_pattern(strftime: str) -> str | None:
    """DuckDB's strftime format as a Spark datetime pattern, or None when it has a specifier not in `_STRFTIME`.
    (sqlglot maps the specifiers but leaves letters such as the `T` and `Z` of an ISO instant unquoted, which
    Spark reads as pattern letters.)"""
    out = []
    for part in re.split(r"(%.)", strftime):
        if part.startswith("%") and len(part) == 2:
            if part not in _STRFTIME:
                return None
            out.append(_STRFTIME[part])
        elif re.search("[A-Za-z']", part):  # letters are pattern letters to Spark
            out.append("'" + part.replace("'", "''") + "'")
        else:
            out.append(part)
    return "".join(out)


def _strftime(node: exp.TimeToStr) -> exp.Expr:
    """`strftime(t, 'format')` as `date_format(t, pattern)` with the format's literal text quoted; a format of
    other specifiers is left to sqlglot."""
    fmt = node.args.get("format")
    pattern = spark_datetime_pattern(fmt.this) if isinstance(fmt, exp.Literal) and fmt.is_string else None
    if pattern is None:
        return node
    return exp.Anonymous(this="date_format", expressions=[rewrite(node.this), exp.Literal.string(pattern)])


def _timezone(node: exp.Anonymous) -> exp.Expr:
    """DuckDB's `timezone(zone, instant)` of a TIMESTAMPTZ (a cast to it): the wall time in `zone`. Spark's
    TIMESTAMP is the instant; `from_utc_timestamp` gives the value whose wall time in the session's zone — UTC
    in the engine's sessions — is the wall time in `zone`. Any other argument is left as it is."""
    if len(node.expressions) != 2:
        return node
    zone, value = node.expressions
    tz_cast = isinstance(value, exp.Cast) and value.to.this == exp.DataType.Type.TIMESTAMPTZ
    if isinstance(zone, exp.Literal) and zone.is_string and isinstance(value, exp.UnixToTime) \
            and value.args.get("scale") is None:
        return _unix_zone(node)
    if isinstance(zone, exp.Literal) and zone.is_string and isinstance(value, exp.Cast) \
            and value.to.this in _WALL_TIMES:
        return _wall_time_in(zone, value)
    if not (isinstance(zone, exp.Literal) and zone.is_string and tz_cast):
        return node
    return exp.Anonymous(this="from_utc_timestamp", expressions=[rewrite(value), zone.copy()])


# DuckDB's TIMESTAMP (a date and time without a zone), as sqlglot reads it.
_WALL_TIMES = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)


def _wall_time_in(zone: exp.Literal, value: exp.Cast) -> exp.Expr:
    """DuckDB's `timezone(zone, t)` of a TIMESTAMP (a cast to it): the instant whose wall time in `zone` is `t`.
    DuckDB's cast of text to TIMESTAMP reads the date and time and ignores an offset; Spark's cast to
    TIMESTAMP_NTZ (what sqlglot writes) does the same, and `to_utc_timestamp` of that wall time (as a TIMESTAMP
    in the session's zone, UTC in the engine's sessions) is the instant."""
    wall = f"CAST({_sql(rewrite(value))} AS TIMESTAMP)"
    return _spark(f"to_utc_timestamp({wall}, {_sql(zone)})")


def _epoch(node: exp.TimeToUnix) -> exp.Expr:
    """DuckDB's `epoch(t)`: the instant's seconds as a DOUBLE (microseconds / 1e6). Spark's `unix_timestamp`
    (what sqlglot writes) truncates to whole seconds; the same DOUBLE is `unix_micros / 1e6`."""
    return _spark(f"(unix_micros({_sql(rewrite(node.this))}) / CAST(1000000 AS DOUBLE))")


def _cast(node: exp.Cast) -> exp.Expr:
    """A cast of `epoch(t)` (a DOUBLE) to a whole number: DuckDB rounds half to even, Spark truncates; `rint` is
    Java's round half to even of a double. Every other cast is left to sqlglot."""
    if isinstance(node.this, exp.TimeToUnix) and node.to.this in (exp.DataType.Type.BIGINT, exp.DataType.Type.INT):
        return _spark(f"CAST(rint({_sql(_epoch(node.this))}) AS {node.to.sql(dialect='spark')})")
    return node


def _unix_zone(node: exp.Anonymous) -> exp.Expr:
    """`timezone(zone, to_timestamp(seconds))`: DuckDB's `to_timestamp` is the instant (a TIMESTAMPTZ), Spark's
    form of it the same instant in the session's zone (UTC in the engine's sessions): the wall time in `zone`
    is `from_utc_timestamp` of it, as for a cast to TIMESTAMPTZ."""
    zone, value = node.expressions
    return exp.Anonymous(this="from_utc_timestamp", expressions=[rewrite(value), zone.copy()])


# DuckDB's list functions that Spark 3.5 names otherwise or lacks, each written with Spark's higher-order
# functions to give DuckDB's value: NULL elements are skipped by the aggregates as DuckDB skips them, an empty
# list (or one of NULLs only) aggregates to NULL, and a NULL list gives NULL (Spark's `size` of NULL is -1).
# Lambda variables of names no vendor column or rule column takes.
_PRESENT = "tieout_v -> tieout_v IS NOT NULL"


def _list_arg(node: exp.Anonymous, count: int | None = 1) -> list[str]:
    if count is not None and len(node.expressions) != count:
        raise NotOnSpark(f"{node.name}() with {len(node.expressions)} arguments")
    return [f"({_sql(rewrite(a))})" for a in node.expressions]


def _list_bool_and(node: exp.Anonymous) -> exp.Expr:
    (x,) = _list_arg(node)
    return _spark(f"CASE WHEN exists({x}, {_PRESENT}) THEN forall(filter({x}, {_PRESENT}), tieout_v -> tieout_v) END")


def _list_count(node: exp.Anonymous) -> exp.Expr:
    (x,) = _list_arg(node)
    return _spark(f"CASE WHEN {x} IS NOT NULL THEN size(filter({x}, {_PRESENT})) END")


def _list_sum(node: exp.Anonymous) -> exp.Expr:
    """`list_sum` of DECIMAL(p, s) elements: DuckDB sums them as DECIMAL(38, s). The scale is read from the
    list's own cast to DECIMAL (the only sum of a list the conversions take); any other list is refused."""
    (x,) = _list_arg(node)
    scales = {int(c.to.expressions[1].this.this) for c in node.find_all(exp.Cast)
              if c.to.this == exp.DataType.Type.DECIMAL and len(c.to.expressions) == 2}
    if len(scales) != 1:
        raise NotOnSpark("list_sum() of anything but one DECIMAL type")
    total = f"DECIMAL(38, {scales.pop()})"
    return _spark(f"CASE WHEN exists({x}, {_PRESENT}) THEN aggregate({x}, CAST(0 AS {total}), "
                  f"(tieout_a, tieout_v) -> CAST(tieout_a + coalesce(tieout_v, 0) AS {total})) END")


def _list_zip(node: exp.Anonymous) -> exp.Expr:
    """`list_zip(a, b, ...)`: a list as long as the longest, NULL where a list is shorter (or NULL). Spark's
    `arrays_zip` makes structs, which DuckDB's `z[1]` cannot read: here each element is a list, so `z[1]` (Spark's
    `z[0]`) reads it. Its lists must be of one element type."""
    lists = _list_arg(node, None)
    if not lists:
        raise NotOnSpark("list_zip() of no list")
    longest = "greatest(" + ", ".join(f"coalesce(size({x}), 0)" for x in lists) + ", 0)"
    elements = ", ".join(f"{x}[tieout_i]" for x in lists)
    return _spark(f"transform(array_repeat(0, {longest}), (tieout_e, tieout_i) -> array({elements}))")


def _first_ordered(node: exp.First) -> exp.Expr:
    """`first(v ORDER BY a, b)`: the value of the first row by (a, b), NULL or not; Spark's `min_by` of the
    struct of the keys (ascending, as written; keys that are never NULL, such as a file and a position)."""
    order = node.this
    if not isinstance(order, exp.Order) or any(o.args.get("desc") for o in order.expressions):
        raise NotOnSpark("first() without ORDER BY, or ordered descending")
    keys = ", ".join(_sql(rewrite(o.this)) for o in order.expressions)
    return _spark(f"min_by({_sql(rewrite(order.this))}, struct({keys}))")


def _arg_extreme(node: exp.ArgMin | exp.ArgMax) -> exp.Expr:
    """`arg_min(v, k)` / `arg_max(v, k)`: DuckDB skips the rows whose `v` or `k` is NULL; Spark's `min_by` and
    `max_by` skip only a NULL `k` — so `k` is made NULL where `v` is."""
    name = "min_by" if isinstance(node, exp.ArgMin) else "max_by"
    v, k = _sql(rewrite(node.this)), _sql(rewrite(node.expression))
    return _spark(f"{name}({v}, CASE WHEN ({v}) IS NOT NULL THEN {k} END)")


def _array_size(node: exp.ArraySize) -> exp.Expr:
    """`array_length(x)` (and `len` of a list, `tieout.sources.spark_vendor`): NULL for a NULL list."""
    x = _sql(rewrite(node.this))
    return _spark(f"CASE WHEN ({x}) IS NOT NULL THEN size({x}) END")


def _map(node: exp.ToMap) -> exp.Expr:
    """DuckDB's `MAP {k: v, ...}` (and `MAP {...}[key]`, the value of `key` or NULL) as Spark's `map(k, v, ...)`."""
    inner, key = node.this, None
    if isinstance(inner, exp.Bracket) and len(inner.expressions) == 1:
        inner, key = inner.this, inner.expressions[0]
    if not isinstance(inner, exp.Struct) or not all(isinstance(e, exp.PropertyEQ) for e in inner.expressions):
        raise NotOnSpark("a MAP that is not a literal {key: value, ...}")
    pairs = ", ".join(f"{_sql(rewrite(e.this))}, {_sql(rewrite(e.expression))}" for e in inner.expressions)
    return _spark(f"map({pairs})" + (f"[{_sql(rewrite(key))}]" if key is not None else ""))


def _unique_arg_min(node: exp.Anonymous) -> exp.Expr:
    """`tieout_unique_arg_min(v, k)`: DuckDB's `arg_min(v, k)` where DuckDB's value is one value — the `v` of the
    least `k`, rows with a NULL `v` or `k` skipped (DuckDB's `arg_min` skips both; Spark's `min_by` keeps a NULL
    `v`), NULL for none — and an error (`raise_error`) where rows of the least `k` hold different values, of which
    DuckDB's is any. A vendor table's read on Spark writes its `arg_min` so (`tieout.sources.spark_vendor`): the
    error leaves the file to DuckDB's read. The distinct (k, v) pairs sorted: the first is the value, and a second
    of the same `k` a tie."""
    v, k = _list_arg(node, 2)
    pairs = (f"array_sort(array_distinct(collect_list(CASE WHEN {v} IS NOT NULL AND {k} IS NOT NULL "
             f"THEN named_struct('k', {k}, 'v', {v}) END)))")
    return _spark(f"CASE WHEN size({pairs}) > 1 AND {pairs}[0].k = {pairs}[1].k "
                  "THEN raise_error('arg_min of a tie between different values') "
                  f"WHEN size({pairs}) > 0 THEN {pairs}[0].v END")


def _on_anonymous(node: exp.Anonymous) -> exp.Expr:
    rewritten = _FUNCTIONS.get(node.name.lower())
    return rewritten(node) if rewritten else node


_FUNCTIONS: dict[str, Callable[[exp.Anonymous], exp.Expr]] = {
    "tieout_div": _div,
    "tieout_normalise": _normalise,
    "strlen": _byte_length,
    "timezone": _timezone,
    "list_bool_and": _list_bool_and,
    "list_count": _list_count,
    "list_sum": _list_sum,
    "list_zip": _list_zip,
    "tieout_unique_arg_min": _unique_arg_min,
}

# What sqlglot's spark dialect leaves to Spark 4 or writes unchanged, by node type.
REWRITES: dict[type[exp.Expr], Callable[..., exp.Expr]] = {
    exp.Anonymous: _on_anonymous,
    exp.GroupConcat: _string_agg,
    exp.RegexpFullMatch: _full_match,
    exp.TimeToStr: _strftime,
    exp.First: _first_ordered,
    exp.ArgMin: _arg_extreme,
    exp.ArgMax: _arg_extreme,
    exp.ArraySize: _array_size,
    exp.ToMap: _map,
    exp.TimeToUnix: _epoch,
    exp.Cast: _cast,
}


def rewrite(tree: exp.Expr) -> exp.Expr:
    """`tree` (parsed as DuckDB) with every construct of `REWRITES` written for Spark."""

    def one(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
            return exp.DataType.build("DECIMAL(38, 0)")  # DuckDB's HUGEINT
        # A CTE's MATERIALIZED is a hint to DuckDB's planner; Spark has none.
        # (Changed in place: sqlglot's transform does not descend into a node it is handed back anew.)
        if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
            node.set("materialized", None)
            return node
        rewritten = REWRITES.get(type(node))
        return rewritten(node) if rewritten else node

    return tree.copy().transform(one)


@lru_cache(maxsize=1024)
def to_spark(sql: str) -> str:
    """One statement of DuckDB's SQL as Spark SQL (`$name` parameters as Spark's `:name`), cached per text."""
    statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    if len(statements) != 1:
        raise NotOnSpark(f"it holds {len(statements)} statements")
    return spark_sql(statements[0])


def spark_sql(tree: exp.Expr) -> str:
    """A parsed DuckDB statement written for Spark; raises `NotOnSpark` (naming what) when it cannot be."""
    try:
        return rewrite(tree).sql(dialect="spark", unsupported_level=ErrorLevel.RAISE, comments=False)
    except sqlglot.errors.SqlglotError as e:
        raise NotOnSpark(f"sqlglot cannot write it for spark: {e}") from e


@lru_cache(maxsize=1024)
def expression(sql: str) -> str:
    """One expression of DuckDB's SQL (a vendor conversion, `tieout.sources.spark_vendor`) as Spark SQL, cached
    per text; raises `NotOnSpark`."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as e:
        raise NotOnSpark(f"not SQL sqlglot reads: {e}") from e
    return spark_sql(tree)


@dataclass(frozen=True)
class Statement:
    """One statement of the run's own SQL as the Spark engine runs it: `action` on the temporary view `name`
    (`table`: a computed table, `view`, `empty`: a table of `sql`'s columns and no rows, `insert`, `drop`) with
    `sql`, the Spark SQL of its query (or the columns of an empty table)."""

    action: str
    name: str
    sql: str = ""


@lru_cache(maxsize=1024)
def statement(sql: str) -> Statement:
    """`sql` read and written for Spark once per text: a day's INSERTs of each rule's rows, and every day's rule
    SQL, are the same text day after day. Raises `NotOnSpark` for what the Spark engine does not run."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW"):
        name = tree.this.this.name if isinstance(tree.this, exp.Schema) else tree.this.name
        if isinstance(tree.expression, exp.Query):
            return Statement(tree.kind.lower(), name, spark_sql(tree.expression))
        if isinstance(tree.this, exp.Schema):
            return Statement("empty", name, ", ".join(c.sql(dialect="spark") for c in tree.this.expressions))
    if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Query):
        return Statement("insert", tree.this.name, spark_sql(tree.expression))
    if isinstance(tree, exp.Drop) and (dropped := tree.find(exp.Table)) is not None:
        return Statement("drop", dropped.name)
    raise NotOnSpark(f"the spark engine does not run this statement: {sql.strip()[:80]}")


class NotOneSelect(NotOnSpark):
    """Text given as one rule's SQL that holds `count` statements."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"it holds {count} statements")


@lru_cache(maxsize=1024)
def one_select(sql: str) -> str:
    """Rule SQL as Spark SQL, refused unless it is exactly one SELECT (`NotOneSelect`: another number of
    statements); read and written once per text, since the rules are the same text day after day."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as e:
        raise NotOnSpark(f"not SQL sqlglot reads: {e}") from e
    if len(statements) != 1:
        raise NotOneSelect(len(statements))
    if not isinstance(statements[0], exp.Query):
        raise NotOnSpark(f"rule SQL must be one SELECT, not {statements[0].key.upper()}")
    return spark_sql(statements[0])
