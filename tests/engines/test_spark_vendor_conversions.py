"""The vendor conversions Spark computes (`tieout.sources.spark_vendor.on_spark`: DuckDB's SQL transpiled) give
DuckDB's value on every input Spark is trusted with — thousands of drawn values per conversion (in and around
the trusted forms, printable ASCII and not), each computed once by each engine, the time conversions in five
zones — and hundreds of them at least are trusted; a conversion with no faithful Spark form is refused."""

from __future__ import annotations

import itertools
import random
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from tieout.sources import convert
from tieout.sources.convert import Conversion
from tieout.sources.formats import chargebee, zuora
from tieout.sources.formats.hubspot import HUBSPOT
from tieout.sources.formats.salesforce import CONTRACT_STATUS, OPPORTUNITIES, SALESFORCE
from tieout.sources.formats.zuora import ZUORA
from tieout.sources.spark_vendor import NotOnSparkRead, on_spark

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

ZONES = ("UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati")
# And a zone whose clocks skip and repeat midnight (a date's wall-clock midnight: Chargebee's ISO dates).
MIDNIGHT_ZONES = (*ZONES, "America/Havana")
_rng = random.Random(17)


def _times() -> list[str]:
    """Dates and times in and around the forms both engines read alike."""
    dates = ["2026-01-31", "2013-11-03", "2013-03-10", "2026-03-29", "2026-10-25",  # Havana's, Berlin's changes
             "2024-02-29", "2025-02-29", "2026-13-01", "1999-12-31", "1900-01-01", "2099-12-31",
             "1899-12-31", "0001-01-01", "9999-12-31", "2026-1-05", "2026-01-5"]
    times = ["", "T00:00:00", "T23:59:59", " 12:30:45", "T24:00:00", "T23:60:00", "T23:59:60", "T12:30", "t12:30:45",
             "T01:02:03.5", "T01:02:03.123456", "T01:02:03.1234567", "T1:02:03"]
    zones = ["", "Z", "z", "+05:30", "+0530", "-14", "+14:00", "+15", "-00:00", " Z", "+5", "+05:3"]
    out = [d + t + (z if t else "") for d, t, z in itertools.product(dates, times, zones)]
    return out + [" 2026-01-31", "2026-01-31 ", "", " ", "yesterday", "1767225600", "2026-01-31T23:00:00.000Z"]


def _unix() -> list[str]:
    """Unix seconds and milliseconds in and beyond 1970-2099, blanks around some."""
    drawn = [str(_rng.randint(0, 4102444800)) for _ in range(60)] + [
        str(_rng.randint(0, 4102444800000)) for _ in range(60)]
    return drawn + ["0", "1", "-1", "1767225600", "4102444799", "4102444800", "99999999999", "1767225600000",
                    " 1767225600000 ", " 1767225600", "4102444799999", "4102444800000", "999999999999999",
                    " 999999999999999", "9999999999999999", "0001767225600", "1.5", "1e9", "- 5"]


def _balances() -> list[str]:
    """Zuora's balances: plain decimals, and what each engine's cast to DECIMAL reads its own way."""
    return ["0", "0.00", "-5", "12.50", " 7 ", "0.0000000001", "0.00000000005", "-0.00000000005", "1e3", "+5", ".5",
            "5.", "-0", "9" * 28, "9" * 29, "1" * 28 + ".5", "abc", "", " ", "1,5", "0x10", "Infinity", "NaN"]


def _webs() -> list[str]:
    parts = itertools.product(["", "http://", "https://", "HTTP://", "ftp://"], ["", "user@", "a:b@"],
                              ["", "www.", "www2.", "WWW.", "ww.", "w."],
                              ["acme.com", "Acme.Co.UK", "x-y.io", "wwwx.com", "w", "ww", "10.0.0.1"],
                              ["", ":8080"], ["", "/", "/about", "?q=1", "#x", "/a b"])
    return [s + u + w + h + p + q for s, u, w, h, p, q in parts] + [" acme.com ", "\tacme.com", "acme.com\n",
                                                                    "bücher.de", "", "://", "@", "http://"]


def _words() -> list[str]:
    """Printable ASCII and a few others, of every length up to 20; ids of 15 and 18 characters."""
    alphabet = [chr(c) for c in range(32, 127)] + ["é", "İ", "\u00a0", "\t", "\n", "ß"]
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    words = ["".join(_rng.choice(alphabet) for _ in range(_rng.randint(0, 20))) for _ in range(1500)]
    ids = ["".join(_rng.choice(alnum) for _ in range(n)) for n in (15, 15, 15, 18, 14, 16) for _ in range(100)]
    return words + ids + [f" {w} " for w in CONTRACT_STATUS] + [w.upper() for w in CONTRACT_STATUS] + [
        "true", "TRUE", " true ", "1", "0", "false", "yes", ""]


def _conversions() -> dict[str, tuple[Conversion, list[str]]]:
    accounts, contracts = SALESFORCE.tables["crm_accounts"], SALESFORCE.tables["crm_contracts"]
    assert accounts.keep is not None and OPPORTUNITIES.keep is not None and OPPORTUNITIES.unmapped_status
    words = _words()
    return {
        "salesforce id": (accounts.columns["account_id"], words),  # type: ignore[dict-item]
        "web host": (accounts.columns["domain"], _webs() + words),  # type: ignore[dict-item]
        "iso timestamp": (convert.iso_timestamp("x"), _times() + words[:300]),
        "iso date": (convert.iso_date("x"), _times() + words[:300]),
        "contract status": (convert.status("x", contracts.statuses), words),
        "status with the table's words": (convert.with_statuses(convert.status("x", contracts.statuses),
                                                                {"Live": "active"}), words + ["live", " LIVE"]),
        "live": (accounts.keep, words),
        "live and on an account": (OPPORTUNITIES.keep, words),
        "stage flags": (convert.status("x", {}, otherwise=OPPORTUNITIES.unmapped_status), words),
        "zuora's first address": (ZUORA.tables["billing_customers"].columns["email"],  # type: ignore[dict-item]
                                  words + ["a@b.io, c@d.io", " ,x", ",", "a@b.io,", " a@b.io ;c"]),
        "hubspot's domain": (HUBSPOT.tables["crm_accounts"].columns["domain"],  # type: ignore[dict-item]
                             _webs() + [f"{a};{b}" for a, b in zip(_webs()[::7], _webs()[3::11], strict=False)]
                             + words[:300] + [";acme.com", " ; ", "a.io;b.io"]),
        "hubspot's iso or unix time": (convert.iso_or_unix_timestamp("x"), _times() + _unix() + words[:300]),
        "hubspot's iso or unix date": (convert.iso_or_unix_date("x"), _times() + _unix() + words[:300]),
        "hubspot's live": (HUBSPOT.tables["crm_accounts"].keep, words),  # type: ignore[dict-item]
        "chargebee's name": (chargebee.name("c", "f", "l"), words + ["", " ", "  Ada ", "Lovelace"]),
        "chargebee's time": (chargebee.timestamp_of("x"), _times() + _unix() + words[:300]),
        "chargebee's date": (chargebee.date_of("x"), _times() + _unix() + words[:300]),
        "zuora's invoice status": (ZUORA.tables["billing_invoices"].columns["status"],  # type: ignore[dict-item]
                                   ["Posted", " posted ", "Draft", "Canceled", "cancelled", "Error"] * 100
                                   + _balances() * 40 + words[:100]),
        "zuora's decimal": (zuora.decimal("x"), _balances() * 10 + ["70.360000000", "106953453", "1.10", "10.0", "0.",
                                                                   "100", "-0.000", "5.05050", " 3.0 "] * 20
                            + words[:300]),
        "zuora's live": (ZUORA.tables["billing_customers"].keep, words + ["T", " Yes ", "t"]),  # type: ignore[dict-item]
    }


CASES = _conversions()
# Conversions of constructs that treat any text alike but for `trim` (`spark_vendor._unicode_alike_nodes`).
ANY_TEXT = ("chargebee's name", "zuora's first address")


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_conversion_on_spark_gives_duckdbs_value_where_trusted(case: str, spark: Any) -> None:
    conversion, values = CASES[case]
    # Each input a value of its own, from the drawn ones, NULL among them.
    inputs = len(conversion.inputs)
    rows = [(i, *(None if _rng.random() < 0.03 else _rng.choice(values) if k else v for k in range(inputs)))
            for i, v in enumerate(values * 2)]
    names = [f"c{k}" for k in range(inputs)]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("drawn", pa.table({"i": [r[0] for r in rows],
                                    **{n: [r[k + 1] for r in rows] for k, n in enumerate(names)}}))
    df = spark.createDataFrame(rows, schema=", ".join(["i long", *(f"{n} string" for n in names)]))
    for tz in (MIDNIGHT_ZONES if "chargebee" in case else ZONES) if ("time" in case or "date" in case) else ZONES[:1]:
        expected = dict(con.execute(f"SELECT i, {conversion.sql(names, tz)} FROM drawn").fetchall())
        value, untrusted = on_spark(conversion, names, tz)
        got = {r["i"]: (r["v"], r["u"]) for r in df.select("i", value.alias("v"), untrusted.alias("u")).collect()}
        trusted = [i for i, (_, u) in got.items() if not u]
        assert len(trusted) >= 500, (case, tz, len(trusted))  # many values are computed on Spark
        wrong = [(rows[i], expected[i], got[i][0]) for i in trusted if expected[i] != got[i][0]]
        assert not wrong, (case, tz, len(wrong), wrong[:5])
        if case in ANY_TEXT:  # trusted with text beyond ASCII, though not with other space separators
            beyond = [rows[i] for i in trusted if any(v and not v.isascii() for v in rows[i][1:])]
            assert beyond and not any(v and "\u00a0" in v for r in beyond for v in r[1:]), case


def test_a_conversion_with_no_faithful_spark_form_is_left_to_duckdb() -> None:
    """A JSON value, a list filtered, an instant's seconds as a DOUBLE, `arg_min`, `regexp_replace`: `on_spark`
    refuses them before any data is read."""
    for conversion in (Conversion("json_extract({0}, '$.id')", ("x",)),
                       Conversion("list_filter([{0}, 'x'], lambda v: v IS NOT NULL)[1]", ("x",)),
                       Conversion("CAST(epoch(TRY_CAST({0} AS TIMESTAMP)) AS DOUBLE)", ("x",)),
                       Conversion("arg_min({0}, {0})", ("x",)), Conversion("regexp_replace({0}, 'a', 'b')", ("x",))):
        with pytest.raises(NotOnSparkRead):
            on_spark(conversion, ["c0"] * len(conversion.inputs), "UTC")


def test_a_related_tables_row_looked_up_is_duckdbs_and_a_key_twice_fails_on_spark(spark: Any) -> None:
    """`(SELECT b.v FROM t AS b WHERE b.k = {0})` (Zuora's invoice periods) is written for Spark as an aggregate:
    the one row's value, NULL for none, as DuckDB's scalar subquery gives them. Where the related table holds a
    key twice, DuckDB fails on a row that looks it up; Spark (which aggregates every key) fails whatever is looked
    up, so the file is read by DuckDB, whose answer is the day's."""
    conversion = Conversion("(SELECT b.v FROM tieout_lookup AS b WHERE b.k = {0})", ("x",))
    rows = [(0, "a"), (1, "z"), (2, None), (3, "b")]
    for related in ([("a", "1"), ("b", "2")], [("a", "1"), ("b", "2"), ("b", "3")]):
        spark.createDataFrame(related, "k string, v string").createOrReplaceTempView("tieout_lookup")
        con = duckdb.connect()
        con.execute("CREATE TABLE tieout_lookup (k VARCHAR, v VARCHAR)")
        con.executemany("INSERT INTO tieout_lookup VALUES (?, ?)", related)
        con.register("drawn", pa.table({"i": [r[0] for r in rows], "c0": [r[1] for r in rows]}))
        value, _ = on_spark(conversion, ["c0"], "UTC")
        looked_up = spark.createDataFrame(rows, "i long, c0 string").select("i", value.alias("v"))
        if len(related) == 2:
            got = {r["i"]: r["v"] for r in looked_up.collect()}
            expected = dict(con.execute(f"SELECT i, {conversion.sql(['c0'], 'UTC')} FROM drawn").fetchall())
            assert got == expected == {0: "1", 1: None, 2: None, 3: "2"}
            continue
        with pytest.raises(duckdb.Error, match="More than one row"):
            con.execute(f"SELECT {conversion.sql(['c0'], 'UTC')} FROM drawn").fetchall()
        with pytest.raises(Exception, match="more than one row"):
            looked_up.where("i = 0").collect()
