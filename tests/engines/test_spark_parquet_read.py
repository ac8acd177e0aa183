"""Column-mapped Parquet exports (`format: parquet`, a lakehouse's tables) read on Spark
(`tieout.sources.spark_parquet`): a rich day written by pyarrow with every trusted Parquet type and NULLs gives
DuckDB's typed tables and DuckDB's findings; hostile text comes through as DuckDB reads it; each Parquet type (or
value) Spark is not trusted with leaves its table to DuckDB; a bad export is refused in DuckDB's words, naming
file, record and column, with the store unchanged.

All six tables are Parquet in one project, so a day is one read for six cases.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import new_project
from tests.engines.test_spark_read import DAY, _read_both, assert_refused_as_on_duckdb
from tests.engines.test_spark_vendor_read import assert_duckdbs_findings, assert_duckdbs_tables, assert_read_on_spark
from tieout.config import load_project
from tieout.engines import SparkEngine
from tieout.sources.layout import STANDARD_LAYOUT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

STORED = "2026-01-20"
YML = """\
timezone: Europe/Berlin
fx_rates: {EUR: 1.08}
sources:
  crm:
    format: parquet
    path: lake
    tables:
      crm_accounts: {file: accounts.parquet}
      crm_contracts:
        file: contracts.parquet
        columns: {annual_value: acv, contracted_fte: seats}
        statuses: {Signed: active, Ended: expired, Active: active}
  billing:
    format: parquet
    path: lake
    tables:
      billing_customers:
        file: customers.parquet
        columns: {customer_id: id, name: company, tax_id: registered}
      billing_invoices: {file: invoices.parquet}
  ops:
    format: parquet
    path: lake
    tables:
      ops_tenants: {file: tenants-*.parquet}
      ops_usage: {file: usage-*.parquet}
"""
ENTITY_MAP = ("canonical_id,source_system,source_id,effective_from,effective_to,notes\n"
              "ACME,crm,A1,2025-01-01,,\nACME,billing,1001,2025-01-01,,\nACME,ops,7,2025-01-01,,\n")

# Hostile text: quotes and commas, a formula, markup, a tab, blanks around, other scripts and an emoji.
HOSTILE = ['Acme, "Analytics" Inc.', '=HYPERLINK("http://evil.example","x")', " Zoë Ωmega 😀 ", None,
           "<script>alert(1)</script>\tand a tab"]
UTC = "UTC"


def _ts(*values: str | None) -> list[datetime | None]:
    return [None if v is None else datetime.fromisoformat(v) for v in values]


def _dates(*values: str | None) -> list[date | None]:
    return [None if v is None else date.fromisoformat(v) for v in values]


def _decimals(*values: str | None) -> list[Decimal | None]:
    return [None if v is None else Decimal(v) for v in values]


Tables = dict[str, dict[str, pa.Array]]


def rich_tables() -> Tables:
    """A day's six tables as a lakehouse keeps them: typed columns, NULLs, unsigned ids, dictionary-encoded and
    large strings, decimals of several scales, dates of any year, timestamps with and without a zone in
    milliseconds and microseconds; columns nobody reads of types Spark cannot read (a time, a double)."""
    return {
        "accounts": {
            "account_id": pa.array(["A1", "A2", "A3", "A4", "A5"]),
            "legal_name": pa.array(HOSTILE),
            "domain": pa.array(["acme.com", None, "bücher.de", "", "b.io"]),
            "tax_id": pa.array(["12-3456789", None, "12-3456789", None, "DE1"]).dictionary_encode(),
            "owner": pa.array(["ana", "bo", None, "", "ñ"], pa.large_string()),
            "updated_at": pa.array(_ts("2026-01-20T23:00:00", "2026-01-20T22:59:59.123456", None,
                                       "1999-12-31T23:59:59.5", "1900-01-01T00:00:00"), pa.timestamp("us", UTC)),
            "synced_at": pa.array([None, None, None, None, None], pa.time64("us")),
            "score": pa.array([1e20, 0.1, None, -0.0, 1.5], pa.float64()),
            # a lakehouse's lineage column, named as DuckDB's read names the column it adds unless told otherwise
            "filename": pa.array(["s3://lake/part-0.parquet"] * 5),
        },
        "contracts": {
            "contract_id": pa.array([1, 2, 3, -4], pa.int64()),
            "account_id": pa.array(["A1", "A2", "A3", "A4"]),
            "status": pa.array([" Signed ", "ENDED", "active", "Signed"]),
            "start_date": pa.array(_dates("2025-06-01", "2024-02-29", "0999-01-01", "1582-10-04"), pa.date32()),
            "end_date": pa.array(_dates(None, "2025-02-28", None, "9999-12-31"), pa.date32()),
            "acv": pa.array(_decimals("120000.00", "-12.50", None, "0.00"), pa.decimal128(18, 2)),
            "currency": pa.array(["USD", "eur", None, "USD"]),
            "seats": pa.array([50, None, 7, 0], pa.int16()),
            "updated_at": pa.array(_ts("2026-01-20T23:00:00.5", None, "2026-01-20T00:00:00", "1900-01-01T00:00:00"),
                                   pa.timestamp("ms")),
        },
        "customers": {
            "id": pa.array([1001, 1002, -3], pa.int64()),
            "company": pa.array(["Acme Analytics Inc.", "Ω Corp", None]),
            "email": pa.array(["ap@acme.com", None, "x@y.z"]),
            "tax_id": pa.array([None, None, None], pa.string()),
            # An instant read as text: DuckDB writes it in UTC with +00.
            "registered": pa.array(_ts("2026-01-20T23:00:00.5", None, "1969-07-20T20:17:40"), pa.timestamp("us", UTC)),
            "updated_at": pa.array(_ts("2026-01-20T23:00:00.123", "2026-01-20T00:00:00", None),
                                   pa.timestamp("ms", "Europe/Berlin")),
        },
        "invoices": {
            "invoice_id": pa.array(["in_1", "in_2", "in_3"]),
            "customer_id": pa.array([1001, 1001, 2**64 - 1], pa.uint64()),
            "period_start": pa.array(_dates("2026-01-01", "2025-12-01", "2026-01-01"), pa.date32()),
            "period_end": pa.array(_dates("2026-01-31", "2025-12-31", "2026-01-31"), pa.date32()),
            "issued_on": pa.array(_dates("2026-01-01", None, "2026-01-02"), pa.date32()),
            "status": pa.array(["paid", "OPEN", "void"]),
            "amount": pa.array(_decimals("10000.00", "0.01", "-5.00"), pa.decimal128(12, 2)),
            "currency": pa.array(["USD", "EUR", "usd"]).dictionary_encode(),
            "billed_fte": pa.array(_decimals("50.0", None, "0.5"), pa.decimal128(9, 1)),
            "updated_at": pa.array(_ts("2026-01-20T23:00:00", "2026-01-20T23:00:00.000001", None), pa.timestamp("us")),
        },
        "tenants": {
            "tenant_id": pa.array([7, 8, 2**32 - 1], pa.uint32()),
            "display_name": pa.array(["acme-prod", None, "Ünïcode ✓"]),
            "domain": pa.array(["acme.com", "b.io", None]),
            "created_on": pa.array(_dates("2025-06-01", None, "1970-01-01"), pa.date32()),
            "status": pa.array([True, False, None]),
        },
        "usage-1": {
            "tenant_id": pa.array([7, 7, 8], pa.uint32()),
            "date": pa.array(_dates("2026-01-19", "2026-01-20", "2026-01-20"), pa.date32()),
            "active_users": pa.array([45, 44, 255], pa.uint8()),
            "fte_count": pa.array(_decimals("50.0000", "49.5000", None), pa.decimal128(18, 4)),
        },
        "usage-2": {
            "tenant_id": pa.array([2**32 - 1], pa.uint32()),
            "date": pa.array(_dates("2026-01-20"), pa.date32()),
            "active_users": pa.array([0], pa.uint8()),
            "fte_count": pa.array(_decimals("0.0001"), pa.decimal128(18, 4)),
        },
    }


# How pyarrow writes each table beyond its defaults: the invoices' decimals as INT32 and INT64, not bytes.
WRITE = {"invoices": {"store_decimal_as_integer": True}}
# Tables written in two files (`<name>-1`, `<name>-2`), split before the row given: a record table's order is the
# files' in turn, then each file's.
SPLIT = {"tenants": 2}


def write_tables(project: Path, day: str, tables: Tables, **options: Any) -> None:
    folder = project / "exports" / day / "lake"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, columns in tables.items():
        table, write = pa.table(columns), (WRITE | options).get(name, {})
        if name in SPLIT:
            pq.write_table(table.slice(0, SPLIT[name]), folder / f"{name}-1.parquet", **write)
            pq.write_table(table.slice(SPLIT[name]), folder / f"{name}-2.parquet", **write)
        else:
            pq.write_table(table, folder / f"{name}.parquet", **write)


def parquet_project(root: Path, days: dict[str, Tables]) -> Path:
    new_project(root, {}, YML)
    (root / "entity_map.csv").write_text(ENTITY_MAP)
    for day, tables in days.items():
        write_tables(root, day, tables)
    return root


def test_a_rich_parquet_day_on_spark_gives_duckdbs_tables_and_findings(spark: Any, tmp_path: Path) -> None:
    project = parquet_project(tmp_path / "project", {DAY: rich_tables()})
    loaded = load_project(project)
    engine = SparkEngine.open(loaded, session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert sorted(read.on_spark) == sorted(f.table for f in STANDARD_LAYOUT)  # none left to DuckDB
        assert read.counts == {"crm_accounts": 5, "crm_contracts": 4, "billing_customers": 3, "billing_invoices": 3,
                               "ops_tenants": 3, "ops_usage": 4}
        assert_duckdbs_tables(read, reference, on_spark, engine)
        names = [r[0] for r in on_spark.execute("SELECT legal_name FROM crm_accounts").fetchall()]
        assert names == HOSTILE  # in file order, as written
        usage = on_spark.execute("SELECT tenant_id, active_users, fte_count FROM ops_usage ORDER BY ALL").fetchall()
        assert ("7", 45, Decimal("50.0000")) in usage and ("4294967295", 0, Decimal("0.0001")) in usage
        tenants = [r[0] for r in on_spark.execute("SELECT tenant_id FROM ops_tenants").fetchall()]
        assert tenants == ["7", "8", "4294967295"]  # the two files in turn, each in its order
        ids = [r[0] for r in on_spark.execute("SELECT customer_id FROM billing_invoices").fetchall()]
        assert sorted(ids) == ["1001", "1001", "18446744073709551615"]
    finally:
        engine.close()
    assert_duckdbs_findings(loaded, spark)


def _with(table: str, column: str, array: pa.Array) -> Callable[[Tables], None]:
    def change(tables: Tables) -> None:
        tables[table][column] = array
    return change


def _extra_usage_column(tables: Tables) -> None:
    tables["usage-2"]["note"] = pa.array(["another schema"])


# What DuckDB reads that Spark is not trusted with, one table each: the Parquet type (or a value) a conversion
# reads, and the write options. The table is read by DuckDB, the others by Spark, and every table is DuckDB's.
UNTRUSTED: dict[str, tuple[str, Callable[[Tables], None], dict[str, Any]]] = {
    "INT96 timestamps": ("crm_accounts", lambda t: None,
                         {"accounts": {"use_deprecated_int96_timestamps": True}}),
    "a double": ("crm_contracts", _with("contracts", "acv", pa.array([120000.0, -12.5, None, 0.1], pa.float64())),
                 {}),
    "nanosecond timestamps": ("billing_customers", _with("customers", "updated_at", pa.array(
        _ts("2026-01-20T23:00:00", None, "2026-01-20T00:00:00"), pa.timestamp("ns"))), {}),
    "a decimal of 40 digits": ("billing_invoices", _with("invoices", "amount", pa.array(
        _decimals("10000.00", "0.01", "-5.00"), pa.decimal256(40, 2))), {}),
    "a nested column": ("ops_tenants", _with("tenants", "display_name", pa.array(
        [{"n": "acme-prod"}, None, {"n": "x"}])), {}),
    "files whose schemas differ": ("ops_usage", _extra_usage_column, {}),
    # Values: Spark writes a decimal under 10^-6 in scientific notation, a date past 9999 with a sign.
    "a decimal Spark writes as 0E-10": ("crm_accounts", _with("accounts", "tax_id", pa.array(
        _decimals("1.5", None, "0", None, "2"), pa.decimal128(38, 10))), {}),
    "a binary column": ("crm_contracts", _with("contracts", "currency", pa.array([b"USD", b"EUR", None, b"USD"])),
                        {}),
    "a time": ("ops_tenants", _with("tenants", "status", pa.array([None, None, None], pa.time64("us"))), {}),
    "a column of NULLs of no type": ("billing_customers", _with("customers", "email", pa.nulls(3)), {}),
}


@pytest.mark.parametrize("case", [["INT96 timestamps", "a double", "nanosecond timestamps", "a decimal of 40 digits",
                                   "a nested column", "files whose schemas differ"],
                                  ["a decimal Spark writes as 0E-10", "a binary column", "a time",
                                   "a column of NULLs of no type"]],
                         ids=" + ".join)
def test_what_spark_is_not_trusted_with_is_read_by_duckdb(case: list[str], spark: Any, tmp_path: Path) -> None:
    tables = rich_tables()
    options: dict[str, Any] = {}
    for name in case:
        UNTRUSTED[name][1](tables)
        options |= UNTRUSTED[name][2]
    project = parquet_project(tmp_path / "project", {})
    write_tables(project, DAY, tables, **options)
    assert_read_on_spark(project, spark, {f.table for f in STANDARD_LAYOUT} - {UNTRUSTED[c][0] for c in case})


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Parquet project with one day stored (on DuckDB: the refusals are of the next day)."""
    from tieout.run import run_day

    root = parquet_project(tmp_path_factory.mktemp("spark-parquet") / "project", {STORED: rich_tables()})
    run_day(load_project(root), date.fromisoformat(STORED))
    return root


def _not_utf8() -> pa.Array:
    """Text whose bytes are not UTF-8 (pyarrow writes a string column's bytes as they are)."""
    good = "Acme"
    data = good.encode() + b"Acm\xe9" + b"x"
    offsets = pa.array([0, 4, 8, 9], pa.int32()).buffers()[1]
    return pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(data)])


# Each: the change, and the file and phrase DuckDB's refusal names (file, record and column).
REFUSED: dict[str, tuple[Callable[[Tables], None], str, str]] = {
    "an account without its id": (_with("accounts", "account_id", pa.array(["A1", "A2", None, "A4", "A5"])),
                                  "accounts.parquet, record 3, column 'account_id'", "required"),
    "a status no map lists": (_with("contracts", "status", pa.array(["Signed", "Pending", "active", "Signed"])),
                              "contracts.parquet, record 2, column 'status'", "Pending"),
    "a NUL in a customer's name": (_with("customers", "company", pa.array(["Acme", "Ω\x00Corp", None])),
                                   "customers.parquet, record 2, column 'company'", "control"),
    "an amount of five decimals": (_with("invoices", "amount", pa.array(
        _decimals("10000.00000", "0.00001", "-5.00000"), pa.decimal128(14, 5))),
        "invoices.parquet, record 1, column 'amount'", "amount like"),
    "bytes that are not UTF-8": (_with("tenants", "display_name", _not_utf8()), "tenants-1.parquet", "UTF8"),
    "a usage key in both files": (_with("usage-2", "tenant_id", pa.array([7], pa.uint32())), "usage-2.parquet",
                                  "duplicate"),
    # DuckDB's read adds a column `file_row_number` (each row's place): a file with its own is refused (Spark could
    # read it).
    "a column named file_row_number": (_with("accounts", "File_Row_Number", pa.array([1, 2, 3, 4, 5])),
                                       "accounts.parquet", "column 'File_Row_Number'"),
}


@pytest.mark.parametrize("cases", [list(REFUSED)[:-1], list(REFUSED)[-1:]], ids=" + ".join)
def test_a_bad_parquet_export_is_refused_on_spark_with_duckdbs_words(cases: list[str], stored: Path, spark: Any,
                                                                     tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(stored, project)
    tables = rich_tables()
    for case in cases:
        REFUSED[case][0](tables)
    write_tables(project, DAY, tables)
    assert_refused_as_on_duckdb(project, spark, *(REFUSED[c][1:] for c in cases))
