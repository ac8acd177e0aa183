"""Vendor exports (`sources:`) read on Spark (`tieout.sources.spark_vendor`): Salesforce Data Loader extracts and
column-mapped CSV files give the very tables DuckDB's read gives (values, types, file order, deleted records left
out, 15-character ids read as 18); what Spark is not trusted with is read by DuckDB, with the same result; a bad
export is refused with exactly DuckDB's message and the store is left as it was; the vendor demo's CSV systems
are read by Spark.

Each case is one tiny project and one call (`read_day_on_spark`, or `tieout.run_day(..., spark=session)` for a
refusal, which stops at the read).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED, new_project
from tests.engines.test_engines_agree import DEMO_START
from tests.engines.test_spark_read import Refusal, _assert_same_tables, _read_both, assert_refused_as_on_duckdb, in_days
from tieout.config import Project, load_project
from tieout.db import connect
from tieout.engines import DuckDBEngine, SparkEngine
from tieout.sources.layout import STANDARD_LAYOUT
from tieout.sources.read import read_day
from tieout.sources.spark_read import SparkRead, read_day_on_spark

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

STORED, DAY = "2026-01-20", "2026-01-21"
REALDATA = SHARED / "realdata" / "salesforce"

# Every system from its own files: Salesforce, and the billing and product databases as column-mapped CSV.
SOURCES = """\
timezone: Europe/Berlin
fx_rates: {EUR: 1.08}
sources:
  crm:
    format: salesforce
    fields: {crm_accounts.tax_id: TAX_ID__C, crm_contracts.annual_value: ANNUAL_VALUE__C,
             crm_contracts.contracted_fte: SEATS__C}
  billing:
    format: csv
    path: billing
    tables:
      billing_customers:
        file: customers.csv
        columns: {customer_id: id, name: company, email: email, tax_id: vat, updated_at: modified}
      billing_invoices:
        file: invoices.csv
  ops:
    format: csv
    path: ops
    tables:
      ops_tenants:
        file: tenants.csv
        columns: {tenant_id: id, display_name: workspace, domain: primary_domain, created_on: created_at,
                  status: state}
      ops_usage:
        file: usage.csv
        columns: {tenant_id: tenant_id, date: day, active_users: dau, fte_count: seats_in_use}
"""


def dataloader(*rows: tuple[str, ...]) -> bytes:
    """A Data Loader extract: every cell quoted, CRLF line ends, UTF-8."""
    return "".join(",".join('"' + v.replace('"', '""') + '"' for v in row) + "\r\n" for row in rows).encode()


ACCOUNT_HEADER = ("ID", "ISDELETED", "MASTERRECORDID", "NAME", "WEBSITE", "OWNERID", "TAX_ID__C", "LASTMODIFIEDDATE")
CONTRACT_HEADER = ("ID", "ISDELETED", "ACCOUNTID", "STATUS", "STARTDATE", "ENDDATE", "CURRENCYISOCODE",
                   "ANNUAL_VALUE__C", "SEATS__C", "LASTMODIFIEDDATE")
ACCOUNT = ("A1", "false", "", "Acme Analytics Inc.", "https://www.acme.com", "005x0000000fNSi", "12-3456789",
           "2026-01-20T23:00:00.000Z")
CONTRACT = ("K1", "false", "A1", "Activated", "2025-06-01", "", "USD", "120000.00", "50", "2026-01-20T23:00:00.000Z")
TENANTS = "id,workspace,primary_domain,created_at,state\nt-1,acme-prod,acme.com,2025-06-01,active\n"
USAGE = "tenant_id,day,dau,seats_in_use\nt-1,2026-01-19,45,50\nt-1,2026-01-20,44,50\n"
CUSTOMERS = "id,company,email,vat,modified\ncus_1,Acme Analytics Inc.,ap@acme.com,12-3456789,2026-01-20T23:00:00Z\n"
INVOICES = ("invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
            "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,paid,10000.00,USD,50,2026-01-20T23:00:00Z\n")


def vendor_day(accounts: tuple[tuple[str, ...], ...] = (ACCOUNT,), contracts: tuple[tuple[str, ...], ...] = (CONTRACT,),
               **files: str | bytes) -> dict[str, str | bytes]:
    """A day in the vendors' shapes (the healthy day's records), with the files given replaced."""
    return {"salesforce/Account.csv": dataloader(ACCOUNT_HEADER, *accounts),
            "salesforce/Contract.csv": dataloader(CONTRACT_HEADER, *contracts),
            "billing/customers.csv": CUSTOMERS, "billing/invoices.csv": INVOICES,
            "ops/tenants.csv": TENANTS, "ops/usage.csv": USAGE,
            **{f"{k.replace('__', '/')}.csv": v for k, v in files.items()}}


def write_vendor_day(project: Path, day: str, files: dict[str, str | bytes]) -> None:
    folder = project / "exports" / day
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content.encode() if isinstance(content, str) else content)


def assert_duckdbs_tables(read: SparkRead, reference: Any, on_spark: Any, engine: SparkEngine) -> None:
    """Every table of the day, on the driver and on Spark, is DuckDB's read: those DuckDB read are handed to
    Spark first, as the day is."""
    engine.hand_over(DuckDBEngine(on_spark), [f.table for f in STANDARD_LAYOUT if f.table not in read.on_spark])
    _assert_same_tables(read, reference, on_spark, engine)


def assert_read_on_spark(project: Path, spark: Any, tables: set[str]) -> None:
    """The day's `tables` are read on Spark (the others by DuckDB), and every table is DuckDB's read."""
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert set(read.on_spark) == tables
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()


def assert_duckdbs_findings(loaded: Project, spark: Any) -> None:
    """The day reconciled on Spark finds what DuckDB finds (and finds something)."""
    from tests.engines.test_engines_agree import on
    from tieout.run import reconcile_day

    expected, _ = reconcile_day(loaded, date.fromisoformat(DAY))
    found, _ = reconcile_day(on(loaded, "spark"), date.fromisoformat(DAY), spark=spark)
    assert expected.num_rows > 0
    assert found.schema == expected.schema
    assert found.to_pylist() == expected.to_pylist()


def vendor_project(root: Path, days: dict[str, dict[str, str | bytes]], yml: str = SOURCES) -> Path:
    new_project(root, {}, yml)
    for day, files in days.items():
        write_vendor_day(root, day, files)
    return root


# A good day with what the vendors write: 15-character ids (read as 18), websites in every form, deleted rows
# (one with values no live row could hold, one whose id a live row reuses), the deleted flag in any case and
# blanks, date-times with offsets, without a zone and as dates, dates as date-times in the project's zone,
# status words in any case, custom fields, cells with quotes, commas and non-ASCII text.
RICH_DAY = vendor_day(
    accounts=(
        ("001x0000002xLCV", "false", "", 'Acme, "Analytics" Inc.', "https://www.Acme.com/about", "005x0000000fNSi",
         "12-3456789", "2026-01-20T23:00:00.000Z"),
        ("A2", "FALSE", "", "Zoë  Ltd", "acme.co.uk", "bo", "", "2026-01-20T23:00:00+05:30"),
        ("A3", "true", "A2", "Gone", "https://bücher.de", "x", "", "not a time"),
        ("A3", " False ", "", "Back", "www2.example.org:8080/x?y", "cy", "", "2026-01-20"),
        ("A5", "0", "", "No site", "", "dee", "", "2026-01-20 23:00:00.123456"),
        ("A6", "", "", "Blank flag", "HTTP://user@WWW.Example.COM", "eve", "", "1999-12-31T23:59:59-1400"),
    ),
    contracts=(
        ("8001x000000AbCd", "false", "001x0000002xLCV", "Activated", "2025-06-01", "", "usd", "120000.00", "50",
         "2026-01-20T23:00:00.000Z"),
        ("K2", "false", "A2", " in approval process ", "2025-06-01T22:30:00Z", "2026-05-31T21:59:59Z", "EUR",
         "-12.5", "", "2026-01-20T23:00:00Z"),
        ("K3", "true", "A2", "Bogus", "soon", "", "XXX", "lots", "many", ""),
        ("K4", "false", "A3", "TERMINATED", "2024-02-29", "2025-02-28T23:00:00.000+0000", "", "", "7", ""),
    ),
    ops__tenants=("id,workspace,primary_domain,created_at,state,extra\r\n"
                  't-1,"acme, prod",acme.com,2025-06-01,ACTIVE,\r\nt-2,"",b.io,2025-06-02,churned,x\r\n'),
    billing__customers=("\ufeffid,company,email,vat,modified\n"
                        "cus_1,Acme,ap@acme.com,12-3456789,2026-01-20T23:00:00+01:00\n"
                        "cus_2,Ω Corp,,,2026-01-20\n"),
)


def test_vendor_exports_read_on_spark_give_duckdbs_tables(spark: Any, tmp_path: Path) -> None:
    project = vendor_project(tmp_path / "project", {DAY: RICH_DAY})
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert sorted(read.on_spark) == sorted(f.table for f in STANDARD_LAYOUT)  # none left to DuckDB
        assert read.counts == {"crm_accounts": 5, "crm_contracts": 3, "billing_customers": 2, "billing_invoices": 1,
                               "ops_tenants": 2, "ops_usage": 2}
        assert_duckdbs_tables(read, reference, on_spark, engine)
        ids = [r[0] for r in on_spark.execute("SELECT account_id FROM crm_accounts").fetchall()]
        assert ids == ["001x0000002xLCVAA2", "A2", "A3", "A5", "A6"]  # file order, the deleted row left out
        # Salesforce's proposals read the vendor's own rows, deleted ones included, as on DuckDB.
        assert (on_spark.execute("SELECT count(*) FROM crm_accounts__vendor").fetchall()
                == reference.execute("SELECT count(*) FROM crm_accounts__vendor").fetchall() == [(6,)])
    finally:
        engine.close()


# Values DuckDB reads that Spark is not trusted with (it would read them otherwise, or not at all): those
# tables are read by DuckDB, the others by Spark, and every table is DuckDB's.
UNTRUSTED = {
    "a non-ASCII web address": ("crm_accounts", vendor_day(accounts=(
        ACCOUNT[:4] + ("https://www.bücher.de",) + ACCOUNT[5:],))),
    "hour 24": ("crm_contracts", vendor_day(contracts=(CONTRACT[:5] + ("2026-01-31T24:00:00Z",) + CONTRACT[6:],))),
    "a one-digit month": ("billing_customers", vendor_day(
        billing__customers=CUSTOMERS.replace("2026-01-20T23", "2026-1-20T23"))),
    "a time before 1900": ("crm_accounts", vendor_day(accounts=(ACCOUNT[:7] + ("1899-12-31T23:00:00Z",),))),
}


def _changed(files: dict[str, str | bytes]) -> dict[str, str | bytes]:
    """The files of a vendor day that are not the healthy day's."""
    healthy = vendor_day()
    return {k: v for k, v in files.items() if healthy.get(k) != v}


# Cases of other files share a day (`in_days`): one read on Spark for several.
@pytest.mark.parametrize("day", in_days({c: (_changed(f), t, "") for c, (t, f) in UNTRUSTED.items()}),
                         ids=" + ".join)
def test_what_spark_is_not_trusted_with_is_read_by_duckdb(day: list[str], spark: Any, tmp_path: Path) -> None:
    files = vendor_day() | {k: v for case in day for k, v in _changed(UNTRUSTED[case][1]).items()}
    project = vendor_project(tmp_path / "project", {DAY: files})
    assert_read_on_spark(project, spark, {f.table for f in STANDARD_LAYOUT} - {UNTRUSTED[case][0] for case in day})


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vendor project with one day stored (on DuckDB: the refusals are of the next day)."""
    from tieout.run import run_day

    root = vendor_project(tmp_path_factory.mktemp("spark-vendor") / "project", {STORED: vendor_day()})
    run_day(load_project(root), date.fromisoformat(STORED))
    return root


def _on_contract(**changed: str) -> tuple[tuple[str, ...], ...]:
    row = dict(zip(CONTRACT_HEADER, CONTRACT, strict=True)) | changed
    return (tuple(row.values()),)


# Each: the day's files, and the file and phrase DuckDB's refusal names.
_REFUSED: dict[str, Refusal] = {
    "a date in no form Salesforce writes": (vendor_day(contracts=_on_contract(STARTDATE="31/01/2026")),
                                            "Contract.csv", "is not a date"),
    "a status word no map lists": (vendor_day(contracts=_on_contract(STATUS="Pending")), "Contract.csv", "STATUS"),
    "a 15- and an 18-character id of one record": (vendor_day(accounts=(
        ("001x0000002xLCV",) + ACCOUNT[1:], ("001x0000002xLCVAA2",) + ACCOUNT[1:])), "Account.csv", "duplicate"),
    "every account deleted": (vendor_day(accounts=(ACCOUNT[:1] + ("true",) + ACCOUNT[2:],)), "Account.csv",
                              "holds no records"),
    "a missing custom field": (vendor_day(contracts=()) | {"salesforce/Contract.csv": dataloader(
        CONTRACT_HEADER[:-3] + CONTRACT_HEADER[-1:], CONTRACT[:-3] + CONTRACT[-1:])}, "Contract.csv",
                               "missing column"),
    "a NUL in a name": (vendor_day(accounts=(ACCOUNT[:3] + ("Acme\x00",) + ACCOUNT[4:],)), "Account.csv", "control"),
    "bytes that are not UTF-8": (vendor_day() | {"salesforce/Account.csv": dataloader(ACCOUNT_HEADER, ACCOUNT)
                                                 .replace(b"Acme", b"Acm\xe9")}, "Account.csv", "UTF-8"),
    "an unterminated quote": (vendor_day() | {"salesforce/Account.csv": dataloader(ACCOUNT_HEADER, ACCOUNT)
                                              .replace(b'"Acme', b'"Ac"me')}, "Account.csv", "quote"),
    "a currency with no rate": (vendor_day(contracts=_on_contract(CURRENCYISOCODE="GBP")), "Contract.csv",
                                "no rate"),
    "a negative count in a mapped column": (vendor_day(ops__usage=USAGE.replace(",45,", ",-45,")), "usage.csv",
                                            "dau"),
    "a duplicate key in a mapped file": (vendor_day(ops__usage=USAGE + "t-1,2026-01-20,1,1\n"), "usage.csv",
                                         "duplicate"),
    "a mapped timestamp in no ISO 8601 form": (vendor_day(
        billing__customers=CUSTOMERS.replace("2026-01-20T23:00:00Z", "yesterday")), "customers.csv", "modified"),
}


# Each case with only the files it changes, so that cases of other files share a day (`in_days`).
REFUSED = {case: (_changed(files), filename, phrase) for case, (files, filename, phrase) in _REFUSED.items()}


@pytest.mark.parametrize("day", in_days(REFUSED), ids=" + ".join)
def test_a_bad_vendor_export_is_refused_on_spark_with_duckdbs_words(day: list[str], stored: Path, spark: Any,
                                                                    tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(stored, project)
    write_vendor_day(project, DAY, vendor_day() | {k: v for case in day for k, v in REFUSED[case][0].items()})
    assert_refused_as_on_duckdb(project, spark, *(REFUSED[case][1:] for case in day))


# --- the realdata samples, read in place ------------------------------------------------------------------------

needs_realdata = pytest.mark.skipif(not (REALDATA / "dataloader_accountData.csv").is_file(),
                                    reason=f"the realdata Salesforce samples are not at {REALDATA}")


def _realdata(root: Path, encoding: str, accounts: bytes) -> Path:
    """The realdata Account and Opportunity extracts as a day's salesforce/ folder (no Contract.csv: the
    opportunities are the contracts), the other systems as the healthy day's."""
    project = new_project(root, {DAY: {}}, f"sources:\n  crm:\n    format: salesforce\n    encoding: {encoding}\n")
    write_vendor_day(project, DAY, {"salesforce/Account.csv": accounts,
                                    "salesforce/Opportunity.csv": (REALDATA / "dataloader_opportunityData.csv")
                                    .read_bytes()})
    return project


@needs_realdata
def test_the_realdata_extracts_in_utf8_are_read_on_spark(spark: Any, tmp_path: Path) -> None:
    """The latin-1 sample's text written as UTF-8 (as an org exporting UTF-8 writes it): read by Spark."""
    accounts = (REALDATA / "dataloader_accountData.csv").read_bytes().decode("latin-1").encode()
    project = _realdata(tmp_path / "project", "utf-8", accounts)
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert {"crm_accounts", "crm_contracts"} <= set(read.on_spark)
        assert (read.counts["crm_accounts"], read.counts["crm_contracts"]) == (423, 38)
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()


@needs_realdata
def test_the_realdata_in_latin1_is_read_by_duckdb(spark: Any, tmp_path: Path) -> None:
    """Spark reads UTF-8 only: a latin-1 source is DuckDB's, as before; the ASCII opportunities too (the
    source's encoding is the format's, for every file of it)."""
    project = _realdata(tmp_path / "project", "latin-1", (REALDATA / "dataloader_accountData.csv").read_bytes())
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert not {"crm_accounts", "crm_contracts"} & set(read.on_spark)
        assert "ops_usage" in read.on_spark
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()


@needs_realdata
def test_the_realdata_latin1_read_as_utf8_is_refused_on_spark_with_duckdbs_words(spark: Any, tmp_path: Path
                                                                                 ) -> None:
    project = _realdata(tmp_path / "project", "utf-8", (REALDATA / "dataloader_accountData.csv").read_bytes())
    assert_refused_as_on_duckdb(project, spark, ("Account.csv, row 87, column 'NAME'", "not UTF-8"))


# --- the vendor demo ---------------------------------------------------------------------------------------------

def test_the_vendor_demos_csv_systems_are_read_by_spark(spark: Any, tmp_path_factory: pytest.TempPathFactory
                                                        ) -> None:
    """`tieout demo --vendor`: Salesforce's extracts and the product database's column-mapped CSV are read by
    Spark (not by DuckDB and handed over); Stripe's JSON is DuckDB's."""
    from tests.conftest import built_once
    from tieout.demo import MIN_COMPANIES, MIN_DAYS, generate_world

    world = built_once(tmp_path_factory, "engines-vendor-demo", lambda folder: generate_world(
        folder, companies=MIN_COMPANIES, days=MIN_DAYS, start=DEMO_START, vendor=True))
    project = load_project(world)
    day = date.fromordinal(DEMO_START.toordinal() + MIN_DAYS // 2)
    engine = SparkEngine.open(project, session=spark)
    try:
        on_spark = connect()
        read = read_day_on_spark(engine, on_spark, project, day)
        assert sorted(read.on_spark) == ["crm_accounts", "crm_contracts", "ops_tenants", "ops_usage"]
        reference = connect()
        assert read.counts == read_day(reference, project, day)
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()


ZUORA_REALDATA = SHARED / "realdata" / "zuora"


@pytest.mark.skipif(not ZUORA_REALDATA.is_dir(), reason=f"the realdata Zuora samples are not at {ZUORA_REALDATA}")
def test_the_realdata_zuora_accounts_and_invoices_are_read_on_spark(spark: Any, tmp_path: Path) -> None:
    """Zuora's warehouse tables, read in place: its accounts and its invoices (joined to their items, charges and
    accounts, which DuckDB loads and hands over) by Spark; both DuckDB's tables."""
    project = new_project(tmp_path / "project", {DAY: {}}, "sources:\n  billing:\n    format: zuora\n")
    write_vendor_day(project, DAY, {f"zuora/{name}.csv": (ZUORA_REALDATA / f"zuora_{name}_data.csv").read_bytes()
                                    for name in ("account", "invoice", "invoice_item", "rate_plan_charge")})
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert "billing_customers" in read.on_spark and "billing_invoices" in read.on_spark
        assert read.counts["billing_customers"] > 0 and read.counts["billing_invoices"] > 0
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()


# A table in parts (`file: customers_*.csv`, a loader's export split in pages of one header), read on Spark one
# part after the other as DuckDB reads them; parts of different line endings are left to DuckDB.
PARTS = SOURCES.replace("file: customers.csv", "file: customers_*.csv")
CUSTOMER_PARTS = {
    "billing/customers_1.csv": "id,company,email,vat,modified\ncus_3,Gamma GmbH,,,2026-01-20T23:00:00Z\n"
                               + CUSTOMERS.split("\n", 1)[1],
    "billing/customers_2.csv": "id,company,email,vat,modified\ncus_2,Beta Ltd,ap@beta.io,,2026-01-20T23:00:00Z\n"}


@pytest.mark.parametrize("crlf", [(), (2,), (1, 2)], ids=["LF parts", "parts of two line endings", "CRLF parts"])
def test_a_table_in_parts_is_read_on_spark_in_duckdbs_order(crlf: tuple[int, ...], spark: Any, tmp_path: Path
                                                            ) -> None:
    files = {k: v for k, v in vendor_day().items() if k != "billing/customers.csv"} | CUSTOMER_PARTS
    for part in crlf:
        name = f"billing/customers_{part}.csv"
        files[name] = CUSTOMER_PARTS[name].replace("\n", "\r\n")
    project = vendor_project(tmp_path / "project", {DAY: files}, PARTS)
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert ("billing_customers" in read.on_spark) is (len(crlf) != 1)
        assert_duckdbs_tables(read, reference, on_spark, engine)
        got = [r[0] for r in on_spark.execute("SELECT customer_id FROM billing_customers").fetchall()]
        assert got == ["cus_3", "cus_1", "cus_2"]  # part after part, each in its order
    finally:
        engine.close()
