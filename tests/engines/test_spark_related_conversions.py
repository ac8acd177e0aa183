"""The conversions that compute a related vendor table's value in their subquery, on Spark
(`tieout.sources.spark_vendor.on_spark`: DuckDB's SQL transpiled, its lookups written by `_lookups`), give DuckDB's
value on every row Spark is trusted with — HubSpot's deal's company (`arg_min`, the primary association first),
its stage's flags, whether it is on a company (`EXISTS`), Chargebee's invoice's line items' seconds as dates in
six zones and seats as text — over drawn related tables (NULLs, a key twice, ties with one value, empty related
sets, ids that pad alike); and where DuckDB's value is not one Spark computes alike — rows of the least key that
hold different companies (DuckDB's is any), a key twice in a row's lookup, a related value beyond printable ASCII,
seconds beyond 1970-2099 — Spark fails, which leaves the file to DuckDB's read."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from tests.engines.test_spark_vendor_conversions import MIDNIGHT_ZONES
from tieout.sources import convert
from tieout.sources.convert import Conversion
from tieout.sources.formats import chargebee
from tieout.sources.formats.hubspot import HUBSPOT
from tieout.sources.spark_vendor import NotOnSparkRead, on_spark

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

_rng = random.Random(1717)

DEALS = HUBSPOT.tables["crm_contracts"]
COMPANY = DEALS.columns["account_id"]
assert isinstance(COMPANY, Conversion) and DEALS.keep is not None and DEALS.unmapped_status is not None
LIVE = DEALS.keep
STAGE = convert.status("x", DEALS.statuses, otherwise=DEALS.unmapped_status)
INVOICES = chargebee.CSV.tables["billing_invoices"]
PERIOD_START, PERIOD_END, SEATS = (INVOICES.columns[c] for c in ("period_start", "period_end", "billed_fte"))

# A related table: its name in the conversions, and its columns (name, DuckDB type, Spark type).
Table = tuple[str, tuple[tuple[str, str, str], ...]]
COMPANIES: Table = ("crm_contracts__companies", (("deal_id", "VARCHAR", "string"),
                                                 ("company_id", "VARCHAR", "string"), ("type_id", "VARCHAR", "string")))
STAGES: Table = ("crm_contracts__stages", (("stage_id", "VARCHAR", "string"), ("closed_won", "VARCHAR", "string"),
                                           ("is_closed", "VARCHAR", "string")))
SUMMARY: Table = ("billing_invoices__summary", (("invoice_id", "VARCHAR", "string"), ("first_second", "BIGINT", "long"),
                                                ("last_second", "BIGINT", "long"),
                                                ("seats", "DECIMAL(38, 4)", "decimal(38, 4)")))
# Company ids that trim or pad alike ("5", " 5", "05"), that lpad cuts alike (past 24 characters), blank, NULL.
COMPANY_IDS = ["5", " 5", "05", "5 ", "12", "0", "7", "x9", "A1", "", None, "1234567890123456789012345",
               "1234567890123456789012346", "99"]
TYPE_IDS = ["5", " 5 ", "341", "1", "", None, "05"]
FLAGS = ["TRUE", "true", " t ", "1", "yes", "YES", "false", "0", "", None, "no", "T"]
STAGE_IDS = ["Hlo/won==", "pq/lost==", "xt/open==", "s4", " s4", "S4", ""]


def _draw(pool: list[Any], none: float = 0.0) -> Any:
    return None if _rng.random() < none else _rng.choice(pool)


def _evaluate(spark: Any, conversion: Conversion, related: dict[Table, list[tuple]], rows: list[tuple[str | None, ...]],
              tz: str = "UTC") -> tuple[dict[int, Any], dict[int, tuple]]:
    """DuckDB's value of `conversion` for each of `rows` (its inputs), and Spark's with whether Spark is trusted
    with the row's inputs; `related`: each related table and its rows, as DuckDB loads them and hands them over.
    Spark's failure raises."""
    (expected,), (got,) = _evaluate_in_zones(spark, [(conversion, tz)], related, rows)
    return expected, got


def _evaluate_in_zones(spark: Any, conversions: list[tuple[Conversion, str]], related: dict[Table, list[tuple]],
                       rows: list[tuple[str | None, ...]]) -> tuple[list[dict[int, Any]], list[dict[int, tuple]]]:
    """`_evaluate` of several conversions of the same inputs, each in its zone: one query on each engine."""
    names = [f"c{k}" for k in range(len(conversions[0][0].inputs))]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for (table, columns), content in related.items():
        con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t, _ in columns)})")
        if content:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", content)
        spark.createDataFrame(content, ", ".join(f"{c} {t}" for c, _, t in columns)).createOrReplaceTempView(table)
    con.register("drawn", pa.table({"i": list(range(len(rows))),
                                    **{n: [r[k] for r in rows] for k, n in enumerate(names)}}))
    found = con.execute("SELECT i, " + ", ".join(c.sql(names, tz) for c, tz in conversions) + " FROM drawn").fetchall()
    expected = [{r[0]: r[k + 1] for r in found} for k in range(len(conversions))]
    df = spark.createDataFrame([(i, *r) for i, r in enumerate(rows)],
                               ", ".join(["i long", *(f"{n} string" for n in names)]))
    columns = []
    for k, (conversion, tz) in enumerate(conversions):
        value, untrusted = on_spark(conversion, names, tz)
        columns += [value.alias(f"v{k}"), untrusted.alias(f"u{k}")]
    collected = df.select("i", *columns).collect()
    return expected, [{r["i"]: (r[f"v{k}"], r[f"u{k}"]) for r in collected} for k in range(len(conversions))]


def _agree(expected: dict[int, Any], got: dict[int, tuple], rows: list[tuple], at_least: int) -> list[int]:
    """The rows Spark is trusted with, each DuckDB's value; at least `at_least` of them."""
    trusted = [i for i, (_, u) in got.items() if not u]
    wrong = [(rows[i], expected[i], got[i][0]) for i in trusted if expected[i] != got[i][0]]
    assert not wrong, (len(wrong), wrong[:5])
    assert len(trusted) >= at_least, len(trusted)
    return trusted


def _fails_on_spark(spark: Any, conversion: Conversion, related: dict, rows: list[tuple], message: str) -> None:
    with pytest.raises(Exception, match=message):
        _evaluate(spark, conversion, related, rows)


def _tied_deals(companies: list[tuple]) -> set[str]:
    """The deals whose companies of the least key (DuckDB's `arg_min` order of the format) differ: DuckDB's
    `arg_min` gives any of them."""
    key = sqlglot.parse_one(COMPANY.template, read="duckdb").find(exp.ArgMin).expression.sql("duckdb")  # type: ignore[union-attr]
    con = duckdb.connect()
    con.execute("CREATE TABLE a (deal_id VARCHAR, company_id VARCHAR, type_id VARCHAR)")
    con.executemany("INSERT INTO a VALUES (?, ?, ?)", companies)
    return {d for (d,) in con.execute(
        f"SELECT deal_id FROM (SELECT deal_id, company_id, {key} AS k, min({key}) OVER (PARTITION BY deal_id) AS m "
        f"FROM a WHERE company_id IS NOT NULL AND {key} IS NOT NULL) WHERE k = m GROUP BY deal_id "
        "HAVING count(DISTINCT company_id) > 1").fetchall()}


def test_hubspots_deal_company_is_duckdbs_and_a_tie_between_companies_fails_on_spark(spark: Any) -> None:
    deals = [f"d{i}" for i in range(60)]
    drawn = [(_draw(deals, 0.03), _draw(COMPANY_IDS), _draw(TYPE_IDS)) for _ in range(240)]
    # The same company twice as the primary one (a tie of one value), and a deal of NULL companies only.
    drawn += [("d-dup", "12", "5"), ("d-dup", "12", "5"), ("d-dup", "7", "341"), ("d-null", None, "5")]
    tied = _tied_deals(drawn)
    assert len(tied) >= 3  # the pools make ties: " 5" and "5", "05" and "5", ids alike in their first 24
    companies = [r for r in drawn if r[0] not in tied]
    rows = [(d,) for d in [*deals, "d-dup", "d-null", "dx", None, " d1", "dé", ""]] * 2
    expected, got = _evaluate(spark, COMPANY, {COMPANIES: companies}, rows)
    trusted = _agree(expected, got, rows, at_least=100)
    values = {expected[i] for i in trusted}
    assert {"12", None} <= values and len(values) > 5, values
    assert expected[rows.index(("d-dup",))] == "12" and expected[rows.index(("d-null",))] is None
    # A tie between different companies: DuckDB gives one of them, Spark fails (the file is DuckDB's).
    deal = sorted(tied)[0]
    tie = [r for r in drawn if r[0] == deal]
    duck, _ = _evaluate_on_duckdb(COMPANY, {COMPANIES: tie}, [(deal,)])
    assert duck[0] in {c for _, c, _ in tie}
    _fails_on_spark(spark, COMPANY, {COMPANIES: tie}, [(deal,)], "arg_min of a tie")
    # A company id beyond printable ASCII (trim and lpad tell characters apart differently): Spark fails.
    _fails_on_spark(spark, COMPANY, {COMPANIES: [("d1", "5\u00a0", "5")]}, [("d1",)], "not trusted")


def _evaluate_on_duckdb(conversion: Conversion, related: dict, rows: list[tuple], tz: str = "UTC"
                        ) -> tuple[dict[int, Any], None]:
    names = [f"c{k}" for k in range(len(conversion.inputs))]
    con = duckdb.connect()
    for (table, columns), content in related.items():
        con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t, _ in columns)})")
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", content)
    con.register("drawn", pa.table({"i": list(range(len(rows))),
                                    **{n: [r[k] for r in rows] for k, n in enumerate(names)}}))
    return dict(con.execute(f"SELECT i, {conversion.sql(names, tz)} FROM drawn").fetchall()), None


def test_hubspots_stage_flags_and_live_deals_are_duckdbs(spark: Any) -> None:
    """A stage by its flags (a stage id twice: any of its rows' flags; none: no status) and a deal on a company
    (`EXISTS`, deleted or not)."""
    stages = [(_draw(STAGE_IDS), _draw(FLAGS), _draw(FLAGS)) for _ in range(40)]
    stage_rows = [(s,) for s in [*STAGE_IDS, "closedwon", " ClosedLost ", "contractsent", "unknown", None, "s4 ",
                                 "é", "Hlo/won== "]] * 3
    expected, got = _evaluate(spark, STAGE, {STAGES: stages}, stage_rows)
    trusted = _agree(expected, got, stage_rows, at_least=30)
    assert {expected[i] for i in trusted} == {"active", "cancelled", "draft", None}
    _fails_on_spark(spark, STAGE, {STAGES: [("s4", "tru\u00e9", "")]}, [("s4",)], "not trusted")

    deals = [f"d{i}" for i in range(20)]
    companies = [(_draw(deals, 0.05), _draw(COMPANY_IDS), "5") for _ in range(25)]
    words = ["false", "true", " TRUE ", "1", "0", "", None, "yes", "no", "t"]
    live_rows = [(_draw(words), _draw(words), _draw([*deals, "dx", "", None])) for _ in range(300)]
    expected, got = _evaluate(spark, LIVE, {COMPANIES: companies}, live_rows)
    trusted = _agree(expected, got, live_rows, at_least=250)
    assert {expected[i] for i in trusted} == {True, False}
    on_company = {d for d, _, _ in companies}
    assert any(expected[i] is False and live_rows[i][2] not in on_company and live_rows[i][0] == "false"
               for i in trusted)


def _seconds() -> list[int | None]:
    """Unix seconds of 1970-2099, midnights and the hours around the zones' changes among them, and NULL."""
    edges = [0, 1, 4102444799, 1767225600, 1767225599, 1383451200, 1383447600, 1362891600, 1774746000,
             1774742400, 1792882800, 1792886400, 946684799, 951782400]
    return [*edges, *(_rng.randint(0, 4102444799) for _ in range(120)),
            *(e + _rng.randint(-7200, 7200) for e in edges for _ in range(4) if 7200 < e < 4102444799 - 7200), None]


SEAT_VALUES = [Decimal("0.0000"), Decimal("1.0000"), Decimal("12.5000"), Decimal("0.0001"),
               Decimal("99999999999999999999999999999999.9999"), Decimal("-3.2500"), None]


def test_chargebees_invoice_periods_and_seats_are_duckdbs(spark: Any) -> None:
    seconds = _seconds()
    summary = [(f"inv_{i}", _draw(seconds), _draw(seconds), _draw(SEAT_VALUES)) for i in range(300)]
    summary.append((None, 5, 6, Decimal("1.0000")))  # line items of no invoice
    rows = [(f"inv_{i}",) for i in range(300)] + [("inv_x",), (None,), ("",), ("inv_é",)]
    conversions = [*((PERIOD_START, tz) for tz in MIDNIGHT_ZONES), *((PERIOD_END, tz) for tz in MIDNIGHT_ZONES),
                   (SEATS, "UTC")]
    for expected, got in zip(*_evaluate_in_zones(spark, conversions, {SUMMARY: summary}, rows), strict=True):
        trusted = _agree(expected, got, rows, at_least=280)
        assert sum(expected[i] is not None for i in trusted) > 200
        assert expected[rows.index(("inv_x",))] is None
    # An invoice twice in the summary: DuckDB fails on a row looking it up, Spark on any; seconds past 2099.
    twice = [("inv_1", 5, 6, None), ("inv_1", 7, 8, None)]
    with pytest.raises(duckdb.Error, match="More than one row"):
        _evaluate_on_duckdb(PERIOD_START, {SUMMARY: twice}, [("inv_1",)])
    _fails_on_spark(spark, PERIOD_START, {SUMMARY: twice}, [("inv_2",)], "more than one row")
    for second in (-1, 4102444800):
        _fails_on_spark(spark, PERIOD_END, {SUMMARY: [("inv_1", 5, second, None)]}, [("inv_1",)], "not trusted")


def test_a_related_tables_value_spark_has_no_faithful_form_of_is_left_to_duckdb() -> None:
    """`arg_min` of no row's lookup (`_lookups` writes only a row's), `lpad` outside a related table's subquery or
    of an empty padding (DuckDB and Spark pad or refuse it differently), an aggregate of a computed value (`max`),
    an aggregate outside a subquery: `on_spark` refuses them before any data is read."""
    for template in ("(SELECT arg_min(a.v, a.k) FROM t AS a)", "lpad({0}, 5, '0')",
                     "(SELECT lpad(a.v, 5, '') FROM t AS a WHERE a.k = {0})",
                     "(SELECT max(lower(a.v)) FROM t AS a WHERE a.k = {0})", "count({0})",
                     "(SELECT arg_min(a.v, {0}) FROM t AS a WHERE a.k = {0})"):
        with pytest.raises(NotOnSparkRead):
            on_spark(Conversion(template, ("x",)), ["c0"], "UTC")
