"""A vendor's CSV export (`sources:`, contract §3b) read on Spark: its conversions as Spark expressions.

Which tables Spark reads (`vendor_origin`): a file-based source in a CSV shape — the Salesforce Data Loader's
extracts, a column-mapped CSV (`format: csv`), Zuora's accounts and invoices, HubSpot's companies and deals,
Chargebee's customers and invoices — of one UTF-8 file (its related vendor tables loaded by DuckDB and handed
over: `related_tables`), one JSON Lines file of records (Stripe's customers and invoices:
`tieout.sources.spark_json`, its related tables too loaded by DuckDB and handed over), and a column-mapped Parquet
table (`format: parquet`, one file or several of one schema: `tieout.sources.spark_parquet`, its columns of the
Parquet types both engines write alike). Everything else stays DuckDB's on the driver, as before: databases
(`url:`), other JSON shapes, other encodings (decoded in Python).

Each conversion (`tieout.sources.convert`) is the very DuckDB SQL the driver runs, transpiled with sqlglot
(`tieout.engines.spark_sql.expression`); no Spark copy is kept by hand. A conversion is taken to Spark only when
every construct of it is one whose Spark form gives DuckDB's value (`_faithful_nodes`, checked on the parsed
SQL); any other (a JSON value, a list filtered, `arg_min` outside a related table's subquery) leaves the table
to DuckDB. A related table's value for a row (`(SELECT … FROM <table>__<related> AS r WHERE r.key = {0})`) is
written so that Spark fails where its value could differ from DuckDB's (`_lookups`: a key twice, a tie in
`arg_min`, a related value beyond printable ASCII or unix seconds beyond 1970-2099), and Spark's read failing,
DuckDB reads the file. Where the two engines read some inputs differently, the row is *untrusted* and the file
is read by DuckDB (`Converted.untrusted`):

- inputs of a conversion that does more than pass the value on must be printable ASCII (case folding, `trim`,
  `\\s` and `$` in a regular expression, lengths: the engines differ only outside it); those of a conversion of
  plain text only (`_unicode_alike_nodes`) may be any text without a space separator other than ' ';
- an input cast to a TIMESTAMPTZ or a TIMESTAMP must be a date (YYYY-MM-DD, year 1000 or later) or a date and
  time of 1900-2099 with seconds, hours below 24, at most six decimals and an offset of at most 14 hours or none
  — the forms both casts read alike (DuckDB also reads `T24:00`, a one-digit month, blanks around; Spark fewer, or
  otherwise), in years whose time-zone history both engines' databases agree on; where the conversion reads
  unix time too, a whole number of 7 digits or more is neither engine's time;
- unix seconds of 1970-2099 (milliseconds where every instant is `make_timestamp(n * 1000)`);
- a wall time cast to TIMESTAMP in a zone (`timezone(zone, CAST(x AS TIMESTAMP))`) not within a day of a change
  of the zone's offset (`_near_a_change`).

What comes out is checked exactly as a standard file is (`tieout.sources.spark_read`); where a converted value
is missing that the vendor wrote (DuckDB's "is not …" refusal), the file is read by DuckDB, which words it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from tieout.config import Project
from tieout.errors import InputError
from tieout.sources.convert import Conversion
from tieout.sources.formats import FORMATS, TableMap
from tieout.sources.layout import ExportFile
from tieout.sources.origin import duckdb_encoding
from tieout.sources.read import origin, shape
from tieout.sources.spark_json import input_column, json_lines_file
from tieout.sources.vendor import CsvReader, VendorTable

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from sqlglot import exp

# Java regular expressions of the inputs Spark is trusted with (`\z`: the very end of the text).
_ASCII = r"^[\x20-\x7e]*\z"
_OTHER_SPACES = r"[\p{Zs}&&[^ ]]"  # space separators but ' ': DuckDB's `trim` removes them, Spark's does not
_TIME_FORMS = (r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}\z",
               r"^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
               r"(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?\z")


def _faithful_nodes() -> tuple[type[exp.Expr], ...]:
    """The constructs (sqlglot node types of DuckDB's SQL) whose Spark form gives DuckDB's value on the inputs
    Spark is trusted with; casts, `strftime` and `timezone` are checked apart (`_not_faithful`)."""
    from sqlglot import exp

    return (exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Case, exp.If, exp.And,
            exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In, exp.Is,
            exp.Coalesce, exp.Nullif, exp.Lower, exp.Upper, exp.Trim, exp.Length, exp.Substring, exp.StartsWith,
            exp.EndsWith, exp.DPipe, exp.Add, exp.Sub, exp.RegexpFullMatch, exp.RegexpExtract, exp.Chr,
            exp.SplitPart, exp.DataType, exp.ConcatWs,
            # A value bound once (`list_transform([v], lambda x: ...)[1]`) and an instant's seconds
            # (`epoch`): `tieout.engines.spark_sql`'s rewrites.
            exp.Array, exp.TimeToUnix,
            # Lists (a JSON source's `[*]` fields) and numbers: list_transform, list_min/max, list elements,
            # greatest, products, a literal map's value; `list_bool_and`, `list_count`, `list_sum`,
            # `list_zip` and `len` of a list are `tieout.engines.spark_sql`'s rewrites (`_LIST_FUNCTIONS`).
            exp.Lambda, exp.Transform, exp.ArrayMin, exp.ArrayMax, exp.ArraySize, exp.Bracket, exp.Greatest,
            exp.Mul, exp.Neg, exp.Contains, exp.DataTypeParam, exp.ToMap, exp.Struct, exp.PropertyEQ,
            # Unix seconds as an instant (make_timestamp, to_timestamp): their inputs are guarded (`_guards`).
            exp.UnixToTime,
            # A related vendor table's first value for this row (Stripe's tax ids), handed to Spark as it is, or
            # computed there (`_lookup_problem`): HubSpot's deal's company (`arg_min`, a tie an error: `_lookups`),
            # its stage's flags, whether it has a company (`EXISTS`), Chargebee's seconds as dates.
            exp.Subquery, exp.Select, exp.From, exp.Table, exp.TableAlias, exp.Where, exp.First, exp.Order,
            exp.Ordered, exp.Min, exp.ArgMin, exp.Count, exp.Star, exp.LogicalOr, exp.Exists, exp.Pad,
            # A pattern replaced at the end of the text (Zuora's trailing zeros): `_java_replacement`.
            exp.RegexpReplace,
            # An expanded JSON object's id: trusted only where no input is such an object (`_guards`).
            exp.JSONExtractScalar, exp.JSONPath, exp.JSONPathRoot, exp.JSONPathKey)


# DuckDB's list functions written for Spark by `tieout.engines.spark_sql` (each held to DuckDB's value by
# tests/engines/test_spark_json_read.py).
_LIST_FUNCTIONS = frozenset({"list_bool_and", "list_count", "list_sum", "list_zip"})
# Casts whose Spark form gives DuckDB's value on what the formats' conversions hand them (text already matched
# by a regular expression, an instant, a number): to whole numbers, decimals, a list of whole numbers, a date
# and back to text.
_CASTS = frozenset({"BIGINT", "DECIMAL", "DATE", "VARCHAR", "TEXT"})
# Casts of a cell to a time (its form guarded, `_guards`): with a zone, and without (a wall time; the offset
# ignored by both engines).
_TIME_CASTS = frozenset({"TIMESTAMPTZ", "TIMESTAMP", "TIMESTAMPNTZ"})
# Unix seconds Spark is trusted with: 1970 to 2099 (what both engines' time-zone rules agree on).
_UNIX_LIMIT = 4102444800


def _unix_digits(tree: exp.Expr) -> tuple[int, int] | None:
    """For a conversion that makes an instant of unix time: at most how many digits, and below what number, a
    whole number read as one may be (1970 to 2099: seconds, or milliseconds where every such instant is
    `make_timestamp(n * 1000)`); None when it makes none."""
    from sqlglot import exp

    # (Unix time in a related table's subquery is a related value, guarded there: `_lookups`.)
    found = [u for u in tree.find_all(exp.UnixToTime) if u.find_ancestor(exp.Subquery) is None]
    if not found:
        return None
    millis = all(isinstance(u.this, exp.Mul) and u.this.expression == exp.Literal.number(1000)
                 and u.args.get("scale") is not None for u in found)
    return (13, _UNIX_LIMIT * 1000) if millis else (10, _UNIX_LIMIT)


class NotOnSparkRead(Exception):
    """A conversion Spark is not trusted to compute as DuckDB does; the message names the construct."""


@dataclass
class Converted:
    """A file's standard columns as Spark computes them from its cells: each standard column's text (before the
    standard checks), whether the row's inputs are ones Spark is not trusted with, which rows are records (`keep`;
    None: every row) and whether a row's `keep` inputs are untrusted; and, by standard column, where the vendor
    wrote a value (`missing`: a present value whose text is NULL did not convert, `VendorTable.relation`'s flag).
    `untrusted_with` puts them together over the text and `keep` once computed: an expression read twice is
    computed twice — a related table's lookup, a join each time."""

    text: dict[str, SparkColumn]
    untrusted: SparkColumn
    keep: SparkColumn | None = None
    missing: dict[str, SparkColumn] = field(default_factory=dict)
    keep_untrusted: SparkColumn | None = None

    def untrusted_with(self, text: dict[str, SparkColumn], keep: SparkColumn | None) -> SparkColumn:
        """True on a row Spark is not trusted with (or did not convert), `text` and `keep` being the columns
        that hold `self.text` and `self.keep`, computed."""
        from pyspark.sql import functions as F

        untrusted = self.untrusted
        for name, present in self.missing.items():
            untrusted = untrusted | (present & text[name].isNull())
        if self.keep is None or keep is None:
            return F.coalesce(untrusted, F.lit(True))
        # A row `keep` leaves out is no record: DuckDB converts nothing of it (`VendorTable.relation`).
        keep_untrusted = self.keep_untrusted if self.keep_untrusted is not None else F.lit(False)
        return F.coalesce(keep_untrusted | (keep & untrusted), F.lit(True))


# From the file's cells (header name -> the Spark column holding it) to its standard columns.
Convert = Callable[[dict[str, str]], Converted]


def as_written(spec: ExportFile) -> Convert:
    """A standard file: each standard column is the cell of its name."""
    from pyspark.sql import functions as F

    return lambda at: Converted({c.name: F.col(at[c.name]) for c in spec.columns}, F.lit(False))


def vendor_origin(con: duckdb.DuckDBPyConnection, project: Project, spec: ExportFile, folder: Path, as_of: date
                  ) -> VendorTable | None:
    """The vendor table of `spec` when Spark can read it (see the module), else None: DuckDB reads it. A JSON
    Lines table's related vendor tables (Stripe's tax ids) are loaded by DuckDB on `con`, as its own read loads
    them (`related_tables` hands them to Spark)."""
    from tieout.sources.spark_parquet import parquet_files

    source = project.sources.get(spec.system)  # type: ignore[call-overload]
    if source is None or source.format == "standard" or source.url is not None:
        return None
    fmt = shape(FORMATS[source.format], source, spec, folder)
    related = fmt.tables.get(spec.table, TableMap()).related
    if fmt.reader not in ("csv", "json", "parquet") or (
            fmt.reader in ("json", "parquet") and any(r.sql for r in related.values())):
        return None
    if fmt.reader != "parquet" and duckdb_encoding(source.encoding) != "utf-8":
        return None
    try:
        table = origin(con, project, spec, folder, as_of)
    except (InputError, duckdb.Error):  # no file, a bad related table: DuckDB's read refuses it in its words
        return None
    if not isinstance(table, VendorTable):
        return None
    if isinstance(table.reader, CsvReader) and table.reader.paths:
        return table
    if json_lines_file(table) is not None:
        return table
    if parquet_files(table) is not None:
        return table
    return None


def related_tables(project: Project, spec: ExportFile, folder: Path) -> list[str]:
    """The temp tables of `spec`'s related vendor tables that its conversions read (`<table>__<name>`)."""
    source = project.sources.get(spec.system)  # type: ignore[call-overload]
    fmt = shape(FORMATS[source.format], source, spec, folder)
    return [f"{spec.table}__{name}" for name in fmt.tables.get(spec.table, TableMap()).related]


def converter(table: VendorTable, tz: str) -> Convert:
    """How Spark computes `table`'s standard columns from its file's cells (or a JSON source's fields: a `[*]`
    field is a list); raises `NotOnSparkRead` (before any file is read) when a conversion has a construct Spark
    is not trusted with."""
    listed = list_fields(table)
    conversions = [*table.columns.values(), *([table.keep] if table.keep is not None else [])]
    for conversion in conversions:  # stand-ins, to check the SQL before the header is read
        names = [input_column(i) for i in range(len(conversion.inputs))]
        _spark_sql(conversion, names, tz, lists={n for n, c in zip(names, conversion.inputs, strict=True)
                                                 if c in listed})

    def convert(at: dict[str, str]) -> Converted:
        from pyspark.sql import functions as F

        lists = {at[c] for c in listed if c in at}

        def refs(conversion: Conversion) -> list[str]:
            return [at[c] if table.reader.has(c) else "CAST(NULL AS VARCHAR)" for c in conversion.inputs]

        text: dict[str, SparkColumn] = {}
        missing: dict[str, SparkColumn] = {}
        untrusted = F.lit(False)
        for col in table.spec.columns:
            conversion = table.columns.get(col.name)
            if conversion is None:
                text[col.name] = F.lit(None).cast("string")
                continue
            value, guards = on_spark(conversion, refs(conversion), tz, lists)
            text[col.name] = value
            untrusted = untrusted | guards
            if conversion.expected and table.reader.has(conversion.inputs[0]):  # as `VendorTable.relation` flags
                present, _ = _spark_sql(conversion, refs(conversion), tz, conversion.present_sql, lists)
                missing[col.name] = F.expr(present)
        if table.keep is None:
            return Converted(text, untrusted, missing=missing)
        keep, guards = on_spark(table.keep, refs(table.keep), tz, lists)
        return Converted(text, untrusted, F.coalesce(keep, F.lit(False)), missing, guards)

    return convert


def list_fields(table: VendorTable) -> set[str]:
    """The inputs of `table` that are lists: a JSON source's fields with `[*]` (one value per list element)."""
    from tieout.sources.vendor import JsonReader

    if not isinstance(table.reader, JsonReader):
        return set()
    conversions = [*table.columns.values(), *([table.keep] if table.keep is not None else [])]
    return {c for conversion in conversions for c in conversion.inputs if "[*]" in c}


def on_spark(conversion: Conversion, refs: list[str], tz: str, lists: set[str] | frozenset[str] = frozenset()
             ) -> tuple[SparkColumn, SparkColumn]:
    """`conversion` over the Spark columns `refs` (its inputs' cells; those named in `lists` are lists), and a
    column true on a row whose inputs Spark is not trusted with (see the module); raises `NotOnSparkRead`."""
    from pyspark.sql import functions as F

    sql, tree = _spark_sql(conversion, refs, tz, lists=lists)
    return F.expr(sql), _guards(tree, conversion, refs, lists)


def _spark_sql(conversion: Conversion, refs: list[str], tz: str,
               sql_of: Callable[[list[str], str], str] | None = None,
               lists: set[str] | frozenset[str] = frozenset()) -> tuple[str, exp.Expr]:
    """The Spark SQL of `conversion` over the cells `refs` (its `sql`, or `sql_of`), and its DuckDB SQL parsed;
    raises `NotOnSparkRead`. DuckDB's `len` of a list (a column in `lists`) is its `array_length`."""
    import sqlglot
    from sqlglot import exp

    from tieout.engines.spark_sql import NotOnSpark, expression

    sql = (sql_of or conversion.sql)(refs, tz)
    tree = sqlglot.parse_one(sql, read="duckdb")
    if lists:
        tree = tree.transform(lambda n: exp.ArraySize(this=n.this.copy()) if isinstance(n, exp.Length) and isinstance(
            n.this, exp.Column) and n.this.name in lists else n)
        sql = tree.sql("duckdb")
    found = _not_faithful(tree)
    if found:
        raise NotOnSparkRead(f"{found} in {sql[:80]}")
    try:
        spark = expression(_lookups(tree).sql("duckdb"))
    except NotOnSpark as e:
        raise NotOnSparkRead(str(e)) from e
    return spark, tree


def _java_replacement(node: exp.RegexpReplace) -> str | None:
    """The replacement of DuckDB's `regexp_replace(s, pattern, replacement)` as Spark's (Java's `$1` for RE2's
    `\\1`), where both replace alike: DuckDB replaces the first match, Spark every one, so the pattern must match
    at most once — anchored at the end (`$`) and never empty; else None."""
    import re

    from sqlglot import exp

    pattern, replacement = node.args.get("expression"), node.args.get("replacement")
    if node.args.get("modifiers") is not None or not (
            isinstance(pattern, exp.Literal) and pattern.is_string
            and isinstance(replacement, exp.Literal) and replacement.is_string):
        return None
    text = pattern.this
    if (not text.endswith("$") or text.endswith("\\$") or "|" in text
            or re.search(r"[$\\]", re.sub(r"\\[1-9]", "", replacement.this))):
        return None
    try:
        if re.fullmatch(text, "") is not None:
            return None
    except re.error:
        return None
    return re.sub(r"\\([1-9])", r"$\1", replacement.this)


def _lookups(tree: exp.Expr) -> exp.Expr:
    """A related table's value for this row, looked up by a value of this row (`(SELECT … FROM t AS b WHERE b.k =
    {0})`), written for Spark where it fails rather than differ — and Spark's read failing, DuckDB reads the file
    again: its answer, or its words, are the day's:

    - a row's value (Zuora's invoice periods, Chargebee's seconds as dates): Spark runs a correlated scalar
      subquery only aggregated. DuckDB refuses more than one row for a row that looks a key up (an error); the
      aggregate written for Spark — the one row's value, or NULL for none — fails where the related table holds
      any key twice (Spark aggregates every key);
    - `arg_min(v, k)` (HubSpot's deal's company): DuckDB's value where it is one, an error where rows of the least
      `k` hold different values (`tieout_unique_arg_min` of `tieout.engines.spark_sql`);
    - a related value that a computed value reads (not one passed on as it is) must be one both engines compute
      alike: printable ASCII text (`trim`, `lower`, `lpad`), unix seconds of 1970-2099 (`to_timestamp`); any other
      is an error (`_related_guard`)."""
    import sqlglot
    from sqlglot import exp

    def one(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.RegexpReplace):  # checked by `_not_faithful`
            return exp.Anonymous(this="regexp_replace", expressions=[
                node.this.transform(one), node.args["expression"].copy(),
                exp.Literal.string(_java_replacement(node) or "")])
        select = node.this if isinstance(node, exp.Subquery) else None
        if not (isinstance(select, exp.Select) and len(select.expressions) == 1 and select.args.get("where")
                and not select.args.get("group")):
            return node
        value = select.expressions[0]
        guard = _related_guard(value)
        untrusted = (f"WHEN bool_or({guard}) THEN raise_error('a related value Spark is not trusted with') "
                     if guard else "")
        if list(value.find_all(exp.AggFunc)):
            if not guard and not list(value.find_all(exp.ArgMin)):
                return node
            unique = value.copy().transform(lambda n: exp.Anonymous(
                this="tieout_unique_arg_min", expressions=[n.this.copy(), n.expression.copy()])
                if isinstance(n, exp.ArgMin) else n)
            computed = f"CASE {untrusted}ELSE {unique.sql('duckdb')} END" if guard else unique.sql("duckdb")
        else:
            computed = (f"CASE WHEN count(*) > 1 THEN CAST(raise_error('more than one row returned by a subquery') "
                        f"AS VARCHAR) {untrusted}ELSE max({value.sql('duckdb')}) END")
        node = node.copy()
        node.this.set("expressions", [sqlglot.parse_one(computed, read="duckdb")])
        return node

    return tree.transform(one)


def _aggregates() -> tuple[type[exp.Expr], ...]:
    from sqlglot import exp

    return exp.ArgMin, exp.Count, exp.LogicalOr, exp.Min, exp.First


def _as_it_is(value: exp.Expr) -> bool:
    """A related table's value passed on as it is: a column, the least of a column, the first by an order."""
    from sqlglot import exp

    inner = value.this.this if isinstance(value, exp.First) and isinstance(value.this, exp.Order) else (
        value.this if isinstance(value, exp.Min) else value)
    return isinstance(inner, exp.Column)


def _lookup_problem(select: exp.Select) -> str | None:
    """What keeps a related table's subquery from Spark, or None: whether a row exists (`EXISTS`), a value as it
    is, or a value computed from one table's columns (each named by the table, so that `_related_guard` finds
    them) looked up by equalities, with no grouping, order or limit; unix time there only as `to_timestamp` of a
    column. Its constructs are checked with the rest of the conversion (`_not_faithful`)."""
    from sqlglot import exp

    if isinstance(select.parent, exp.Exists):
        return None if not select.args.get("group") and not select.args.get("having") else "EXISTS of a grouping"
    if len(select.expressions) != 1:
        return "a related table's subquery of other than one value"
    value = select.expressions[0]
    if _as_it_is(value):
        return None
    source = select.args.get("from_") or select.args.get("from")
    if any(select.args.get(k) for k in ("group", "having", "order", "limit", "joins", "qualify", "distinct")) \
            or not isinstance(source, exp.From) or not isinstance(source.this, exp.Table):
        return "a related table's value computed in a subquery of a grouping, an order or a join"
    if not select.args.get("where"):  # `_lookups` writes only a row's lookup for Spark
        return "a related table's value computed in a subquery that looks up no row's key"
    if not all(c.table for c in value.find_all(exp.Column)):
        return "a related table's value computed from a column the subquery does not name by its table"
    if any(not isinstance(u.this, exp.Column) or u.args.get("scale") is not None
           for u in value.find_all(exp.UnixToTime)):
        return "unix time in a related table's subquery other than to_timestamp of a column"
    return None


def _related_guard(value: exp.Expr) -> str | None:
    """DuckDB SQL true on a related row whose values read by `value` (a related table's subquery's value) are
    not ones both engines compute alike: text beyond printable ASCII, unix seconds beyond 1970-2099. None where
    `value` passes its values on as they are (no guard), or a column cast to text (a number: DECIMAL, whole)."""
    from sqlglot import exp

    if _as_it_is(value) or (isinstance(value, exp.Cast) and isinstance(value.this, exp.Column)
                            and value.to.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT)):
        return None
    seconds = {c.sql("duckdb") for u in value.find_all(exp.UnixToTime) for c in u.find_all(exp.Column)}
    texts = {c.sql("duckdb") for c in value.find_all(exp.Column)} - seconds
    guards = [f"NOT ({c} >= 0 AND {c} < {_UNIX_LIMIT})" for c in sorted(seconds)]
    guards += [f"regexp_matches({c}, '[^ -~]')" for c in sorted(texts)]
    return " OR ".join(guards) or None


def _not_faithful(tree: exp.Expr) -> str | None:
    """The first construct of `tree` whose Spark form is not known to give DuckDB's value, or None."""
    from sqlglot import exp

    from tieout.engines.spark_sql import spark_datetime_pattern

    faithful = _faithful_nodes()
    aggregates = _aggregates()
    for node in tree.walk():
        if isinstance(node, exp.Cast):  # TRY_CAST too: a cell to a time with a zone (its form guarded), NULL to text
            to = node.to.this
            element = node.to.expressions[0].this if to == exp.DataType.Type.ARRAY and node.to.expressions else None
            if isinstance(node.this, exp.Null) or (isinstance(node.this, exp.Cast) and isinstance(node.this.this,
                                                                                             exp.Null)):
                continue  # NULL (a column the source does not have) as anything is NULL on both engines
            if not ((to.value in _TIME_CASTS and isinstance(node.this, exp.Column))
                    or (to == exp.DataType.Type.TIMESTAMPTZ and isinstance(node.this, exp.UnixToTime))
                    or (to in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT) and isinstance(node.this, exp.Null))
                    or to.value in _CASTS or element == exp.DataType.Type.BIGINT):
                return f"CAST(… AS {node.to.sql('duckdb')})"
        elif isinstance(node, exp.Select):
            # A related table's value (the engines agree on the related table, loaded by DuckDB) as it is — a
            # column, the least of a column, the first by an order (Stripe's tax ids) — or computed there of
            # faithful constructs, its related values guarded (`_lookup_problem`); or whether a row exists.
            found = _lookup_problem(node)
            if found:
                return found
        elif isinstance(node, aggregates) and node.find_ancestor(exp.Select) is None:
            return f"{type(node).__name__} outside a related table's subquery"
        elif isinstance(node, exp.Pad):  # a related value's padding (its inputs guarded: `_related_guard`)
            fill, length = node.args.get("fill_pattern"), node.expression
            if not (node.find_ancestor(exp.Select) is not None and isinstance(fill, exp.Literal) and fill.is_string
                    and fill.this and isinstance(length, exp.Literal) and length.is_number):
                return "lpad outside a related table's subquery, or of a padding that is not a literal"
        elif isinstance(node, exp.RegexpReplace):
            if _java_replacement(node) is None:
                return "regexp_replace of a pattern that may match twice, or empty"
        elif isinstance(node, exp.TimeToStr):
            fmt = node.args.get("format")
            if not (isinstance(fmt, exp.Literal) and spark_datetime_pattern(fmt.this) is not None):
                return "strftime with this format"
        elif isinstance(node, exp.Anonymous):
            zone = node.expressions[0] if node.expressions else None
            if node.name.lower() in _LIST_FUNCTIONS:
                continue
            if not (node.name.lower() == "timezone" and len(node.expressions) == 2 and isinstance(zone, exp.Literal)
                    and isinstance(node.expressions[1], (exp.Cast, exp.UnixToTime))):
                return f"{node.name}()"
        elif not isinstance(node, faithful):
            return type(node).__name__
    return None


def _unicode_alike_nodes() -> tuple[type[exp.Expr], ...]:
    """Constructs that treat any text alike on both engines but for `trim` (`_OTHER_SPACES`): a conversion of
    only these (Chargebee's name: the company, else first and last name) is trusted with any text."""
    from sqlglot import exp

    return (exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Case, exp.If, exp.And,
            exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.Is, exp.In, exp.Coalesce, exp.Nullif, exp.Trim, exp.ConcatWs,
            exp.DPipe, exp.SplitPart)


def _wall_times(tree: exp.Expr) -> list[tuple[str, str]]:
    """The (cell, zone) of each `timezone(zone, CAST(cell AS TIMESTAMP))`: a wall time in `zone`."""
    from sqlglot import exp

    found = []
    for node in tree.find_all(exp.Anonymous):
        if node.name.lower() == "timezone" and len(node.expressions) == 2:
            zone, value = node.expressions
            if isinstance(value, exp.Cast) and value.to.this.value in ("TIMESTAMP", "TIMESTAMPNTZ") \
                    and isinstance(value.this, exp.Column) and isinstance(zone, exp.Literal):
                found.append((value.this.name, zone.this))
    return found


def _near_a_change(cell: str, zone: str) -> SparkColumn:
    """True where the wall time `cell` is within a day of a change of `zone`'s offset: a wall time the clocks skip
    or show twice is an instant of DuckDB's choosing (ICU's) that Spark's `to_utc_timestamp` need not choose (of
    a midnight shown twice, DuckDB takes the later)."""
    from pyspark.sql import functions as F

    from tieout.sql import literal

    instant = f"to_utc_timestamp(CAST(try_cast({cell} AS TIMESTAMP_NTZ) AS TIMESTAMP), {literal(zone)})"

    def offset(at: str) -> str:
        return f"(unix_seconds(from_utc_timestamp({at}, {literal(zone)})) - unix_seconds({at}))"

    changes = (f"{offset(f'{instant} - INTERVAL 26 HOURS')} <> {offset(instant)} "
               f"OR {offset(instant)} <> {offset(f'{instant} + INTERVAL 26 HOURS')}")
    return F.coalesce(F.expr(changes), F.lit(False))


def _guards(tree: exp.Expr, conversion: Conversion, refs: list[str], lists: set[str] | frozenset[str] = frozenset()
            ) -> SparkColumn:
    """True on a row where an input is outside the forms both engines read alike (see the module); a list input
    where any of its elements is."""
    from pyspark.sql import functions as F
    from sqlglot import exp

    from tieout.sources.spark_json import each as _each

    used = {c.name for c in tree.find_all(exp.Column)}  # a culprit's input (read on refusal only) is not
    cells = [r for r in refs if not r.startswith("CAST(") and r in used]
    timed = {c.name for cast in tree.find_all(exp.Cast) if cast.to.this.value in _TIME_CASTS
             for c in cast.find_all(exp.Column)}
    unix = _unix_digits(tree)
    json = {c.name for node in tree.find_all(exp.JSONExtractScalar) for c in node.find_all(exp.Column)}
    # A product of decimals overflows DuckDB's DECIMAL(18) (an error: DuckDB refuses the file) where Spark's
    # wider one does not: at most 15 digits go into one.
    scaled = {c.name for mul in tree.find_all(exp.Mul) for cast in mul.find_all(exp.Cast)
              if cast.to.this == exp.DataType.Type.DECIMAL for c in cast.find_all(exp.Column)}
    # A TRY_CAST of text to DECIMAL(p, s) (Zuora's balance): the engines read exponents, signs and digits beyond
    # the scale each its own way; a plain decimal of at most p - s integer digits and s decimals they read alike.
    decimals = {}
    for cast in tree.find_all(exp.TryCast):
        if cast.to.this == exp.DataType.Type.DECIMAL and len(cast.to.expressions) == 2:
            p, s = (int(e.this.this) for e in cast.to.expressions)
            for c in cast.find_all(exp.Column):
                decimals[c.name] = rf"^-?[0-9]{{1,{p - s}}}(\.[0-9]{{1,{s}}})?\z" if s else rf"^-?[0-9]{{1,{p}}}\z"
    out = F.lit(False)
    if conversion.template == "{0}":  # passed on as written: checked as a standard cell is
        return out

    unicode_alike = all(isinstance(node, _unicode_alike_nodes()) for node in tree.walk())

    def untrusted(v: SparkColumn, cell: str) -> SparkColumn:
        # Only `trim` of these tells characters apart: DuckDB's removes every space separator, Spark's ' ' alone.
        trusted = ~v.rlike(_OTHER_SPACES) if unicode_alike else v.rlike(_ASCII)
        if cell in timed:
            # A whole number of 7 digits or more is no time to either cast (of 4 to 6, Spark reads a year).
            number_form = v.rlike(rf"^[0-9]{{7,{unix[0]}}}\z") if unix else F.lit(False)
            trusted = trusted & (v.rlike(_TIME_FORMS[0]) | v.rlike(_TIME_FORMS[1]) | number_form)
        if unix:  # whole numbers only of unix seconds (or milliseconds) from 1970 to 2099, blanks around or not
            digits, limit = unix
            number = F.trim(v)
            trusted = trusted & (~number.rlike(r"^-?[0-9]+\z") | (number.rlike(rf"^[0-9]{{1,{digits}}}\z")
                                                                  & (number.cast("long") < limit)))
        if cell in scaled:
            trusted = trusted & ~v.rlike(r"[0-9]{16}")
        if cell in decimals:
            trusted = trusted & ((F.trim(v) == "") | F.trim(v).rlike(decimals[cell]))
        if cell in json:  # never an expanded object: its JSON-path branch is not taken on either engine
            trusted = trusted & ~v.contains("{")
        return v.isNotNull() & ~trusted

    for cell, zone in _wall_times(tree):
        if cell in cells and cell not in lists:
            out = out | _near_a_change(cell, zone)
    for cell in dict.fromkeys(cells):
        if cell in lists:
            out = out | F.coalesce(F.exists(F.col(cell), _each(untrusted, cell)), F.lit(False))
        else:
            out = out | untrusted(F.col(cell), cell)
    return out
