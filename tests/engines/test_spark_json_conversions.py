"""Stripe's conversions on Spark (`tieout.sources.spark_vendor.on_spark` over a JSON source's fields, lists
among them) give DuckDB's value on every row Spark is trusted with — 1500 drawn invoices per conversion
(unix seconds in and beyond 1970-2099, seat counts of every form, line items of the API before and since
2025-03-31, currencies of every exponent), the time conversions in five zones — and hundreds at least are
trusted. The rewrites they stand on (`tieout.engines.spark_sql`: `list_bool_and`, `list_count`, `list_sum`,
`list_zip`, `len` of a list, a literal map, `first(... ORDER BY ...)` of a related table) are held to DuckDB's
value on drawn lists, NULLs and empty lists among them."""

from __future__ import annotations

import random
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from tests.engines.test_spark_vendor_conversions import ZONES
from tieout.engines.spark_sql import expression
from tieout.sources.convert import Conversion
from tieout.sources.formats.stripe import STRIPE
from tieout.sources.spark_vendor import on_spark

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

_rng = random.Random(2026)

SECONDS = ["0", "1", "1767225600", "1767222000", "4102444799", "4102444800", "99999999999", "999999999999", "-5",
           "1.5", "", " 1767225600", "abc", "1e9", "0001767225600"] + [str(_rng.randint(0, 4102444800))
                                                                      for _ in range(60)]
QUANTITIES = ["0", "7", "2.50", "2.5000", "1.00001", "12345678901234.5", "123456789012345", "-1", "x", "1e3",
              "0.0", ".5", "5.", "00", "3.14159", "10.10"]
TYPES = ["subscription", "invoiceitem", "SUBSCRIPTION", "line_item"]
PARENTS = ["subscription_item_details", "invoice_item_details", "x"]
WORDS = ["false", "true", "False", "", "paid", " Paid ", "OPEN", "draft", "void", "uncollectible", "cus_1",
         '{"id": "cus_9"}', " {", "usd", "jpy", "KWD", "isk", "xx", "bücher"]
TOTALS = ["0", "-0", "1234567", "-1000", "999999999999999999", "9999999999999999999", "0012", "12.5", "x", ""]


def _draw(pool: list[str], none: float = 0.1) -> str | None:
    return None if _rng.random() < none else _rng.choice(pool)


def _pools(conversion: Conversion) -> list[tuple[list[str], bool]]:
    """Per input: the values to draw from, and whether it is a list (a `[*]` field)."""
    out = []
    for name in conversion.inputs:
        leaf = name.rsplit(".", 1)[-1]
        pool = (SECONDS if leaf in ("start", "end", "period_start", "period_end", "created", "finalized_at")
                else QUANTITIES if leaf.startswith("quantity") else TYPES if name.endswith("].type")
                else PARENTS if "parent" in name else TOTALS if leaf == "total" else WORDS)
        out.append((pool + WORDS[:4], "[*]" in name))
    return out


def _rows(conversion: Conversion, count: int) -> list[tuple[Any, ...]]:
    """Drawn invoices: every list of a row as long as its line items (0 to 4, or none at all)."""
    pools = _pools(conversion)
    rows = []
    for i in range(count):
        items = None if _rng.random() < 0.05 else _rng.randint(0, 4)
        rows.append((i, *(None if items is None else [_draw(pool) for _ in range(items)] if listed
                          else _draw(pool) for pool, listed in pools)))
    return rows


def _tables(names: list[str], lists: set[str], rows: list[tuple[Any, ...]], spark: Any) -> tuple[Any, Any]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("drawn", pa.table({"i": [r[0] for r in rows], **{
        n: pa.array([r[k + 1] for r in rows], type=pa.list_(pa.string()) if n in lists else pa.string())
        for k, n in enumerate(names)}}))
    schema = ", ".join(["i long", *(f"{n} {'array<string>' if n in lists else 'string'}" for n in names)])
    return con, spark.createDataFrame(rows, schema=schema)


# Each of Stripe's conversions (the tax id's lookup apart: test_the_first_of_a_related_table_by_its_order_is_duckdbs),
# and the kinds a column the project maps (`fields:`) is read by (its dates are not: a cast of an instant to
# TIMESTAMPTZ, test_a_conversion_with_no_faithful_spark_form_is_left_to_duckdb).
CONVERSIONS = {**{f"{table}.{column}": conversion for table, m in STRIPE.tables.items()
                  for column, conversion in [*m.columns.items(), ("keep", m.keep)]
                  if isinstance(conversion, Conversion) and column != "tax_id"},
               "kind timestamp": STRIPE.kinds["timestamp"]("created"), "kind money": STRIPE.kinds["money"]("total")}
TIMED = ("period_start", "period_end", "issued_on", "timestamp")


@pytest.mark.parametrize("case", CONVERSIONS)
def test_a_stripe_conversion_on_spark_gives_duckdbs_value_where_trusted(case: str, spark: Any) -> None:
    conversion = CONVERSIONS[case]
    names = [f"c{k}" for k in range(len(conversion.inputs))]
    lists = {n for n, field in zip(names, conversion.inputs, strict=True) if "[*]" in field}
    rows = _rows(conversion, 1500)
    con, df = _tables(names, lists, rows, spark)
    for tz in ZONES if case.endswith(TIMED) else ZONES[:1]:
        value, untrusted = on_spark(conversion, names, tz, lists)
        expected = _on_duckdb(con, conversion.sql(names, tz), len(rows))
        got = {r["i"]: (r["v"], r["u"]) for r in df.select("i", value.alias("v"), untrusted.alias("u")).collect()}
        trusted = [i for i, (_, u) in got.items() if not u]
        assert len(trusted) >= 300, (case, tz, len(trusted))
        refused = [i for i in trusted if expected[i] is _REFUSED]
        assert not refused, (case, tz, [rows[i] for i in refused][:5])  # DuckDB stops where Spark reads on
        wrong = [(rows[i], expected[i], got[i][0]) for i in trusted if expected[i] != got[i][0]]
        assert not wrong, (case, tz, len(wrong), wrong[:5])
        assert any(got[i][0] is not None for i in trusted), (case, tz)  # values, not only NULLs, agree


_REFUSED = object()  # DuckDB stops the read at this row (a malformed expanded object, an overflow)


def _on_duckdb(con: Any, sql: str, count: int) -> dict[int, Any]:
    """`sql` over every drawn row on DuckDB; a row where DuckDB raises an error is `_REFUSED`."""
    try:
        return dict(con.execute(f"SELECT i, {sql} FROM drawn").fetchall())
    except duckdb.Error:
        out = {}
        for i in range(count):
            try:
                out[i] = con.execute(f"SELECT {sql} FROM drawn WHERE i = ?", [i]).fetchall()[0][0]
            except duckdb.Error:
                out[i] = _REFUSED
        return out


def _lists(count: int) -> list[list[str | None] | None]:
    pool = ["1", "2", "10", "-3", "0.5", "2.25", None, "7"]
    return [None if _rng.random() < 0.1 else [_rng.choice(pool) for _ in range(_rng.randint(0, 4))]
            for _ in range(count)]


REWRITTEN = [
    "list_bool_and(list_transform(a, lambda v: v > '1'))",
    "list_bool_and(list_transform(a, lambda v: coalesce(v > '1', false)))",
    "list_count(a)",
    "list_count(list_transform(a, lambda v: CASE WHEN v > '1' THEN v END))",
    "CAST(list_sum(list_transform(a, lambda v: TRY_CAST(v AS DECIMAL(18, 4)))) AS VARCHAR)",
    "list_zip(a, b)",
    "list_transform(list_zip(a, b), lambda z: z[2] || '/' || z[1])",
    "array_length(a)",
    "MAP {'1': 'one', '2': 'two', '10': 'ten'}[a[1]]",
]


def test_the_list_rewrites_give_duckdbs_value(spark: Any) -> None:
    a, b = _lists(2000), _lists(2000)
    rows = [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True))]
    con, df = _tables(["a", "b"], {"a", "b"}, rows, spark)
    for sql in REWRITTEN:
        expected = {i: _plain(v) for i, v in con.execute(f"SELECT i, {sql} FROM drawn").fetchall()}
        got = {r["i"]: _plain(r["v"]) for r in df.selectExpr("i", f"{expression(sql)} AS v").collect()}
        assert got == expected, (sql, [(rows[i], expected[i], got[i]) for i in got if got[i] != expected[i]][:5])


def _plain(value: Any) -> Any:
    """A list of DuckDB's (tuples of list_zip) and of Spark's (Rows, lists) alike."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def test_the_first_of_a_related_table_by_its_order_is_duckdbs(spark: Any) -> None:
    """`first(v ORDER BY file, position)` over the related rows of each key (none, NULL values, many)."""
    related = [(f"k{_rng.randint(0, 40)}", _draw(["x", "y", "z"], 0.3), f"f{_rng.randint(0, 2)}", p)
               for p in range(300)]
    keys = [(i, f"k{i}") for i in range(50)]
    con = duckdb.connect()
    con.register("rel", pa.table({n: [r[k] for r in related] for k, n in enumerate(("k", "v", "f", "p"))}))
    con.register("keys", pa.table({"i": [k[0] for k in keys], "c": [k[1] for k in keys]}))
    spark.createDataFrame(related, "k string, v string, f string, p long").createOrReplaceTempView("rel")
    sql = "(SELECT first(t.v ORDER BY t.f, t.p) FROM rel AS t WHERE t.k = c)"
    expected = dict(con.execute(f"SELECT i, {sql} FROM keys").fetchall())
    got = {r["i"]: r["v"] for r in spark.createDataFrame(keys, "i long, c string")
           .selectExpr("i", f"{expression(sql)} AS v").collect()}
    assert got == expected
    assert sum(v is not None for v in got.values()) > 10
