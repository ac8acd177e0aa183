"""HubSpot's companies (`company.csv`), Chargebee's customers (`Customers.csv`) and Zuora's invoices (joined to
their items, charges and accounts) read on Spark (`tieout.sources.spark_vendor`, their conversions transpiled with
`tieout.engines.spark_sql`'s rewrites): a rich day gives DuckDB's tables and DuckDB's findings; what Spark is not
trusted with is read by DuckDB; a bad export is refused in DuckDB's words with the store unchanged; the realdata
HubSpot companies are read on Spark. HubSpot's deals and Chargebee's invoices (their related tables' values are
computed in their subqueries: `arg_min`, `EXISTS`, seconds as dates) stay DuckDB's.

One project holds HubSpot for the CRM and Chargebee for billing, so each of their cases is one read.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HEALTHY_DAY, SHARED, new_project
from tests.engines.test_engines_agree import on
from tests.engines.test_spark_read import DAY, _read_both, assert_refused_as_on_duckdb, in_days
from tests.engines.test_spark_vendor_read import assert_duckdbs_tables
from tests.sources.chargebee_shape import as_chargebee
from tests.sources.hubspot_shape import HUBSPOT, render_hubspot
from tests.sources.zuora_shape import standard_rows, zuora_shape
from tieout.config import load_project
from tieout.engines import SparkEngine
from tieout.run import reconcile_day

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

STORED = "2026-01-20"
TZ = "Europe/Berlin"
YML = f"timezone: {TZ}\nfx_rates: {{EUR: 1.08}}\n" + HUBSPOT + "  billing:\n    format: chargebee\n"
SPARK_READ = {"crm_accounts", "crm_contracts", "billing_customers", "billing_invoices", "ops_tenants", "ops_usage"}
COMPANY_HEADER = ["id", "is_deleted", "_fivetran_synced", "property_name", "property_domain",
                  "property_hs_additional_domains", "property_hubspot_owner_id", "property_tax_id",
                  "property_hs_lastmodifieddate"]

# What the vendors write beyond the healthy day: every form of web address, the main domain missing (the first
# additional one stands in), a deleted company with values no live one could hold, the deleted flag in any case
# and blanks, times as unix milliseconds and as the loader's text; customers that are people (first and last
# name), names in other scripts with blanks around, times as unix seconds, ISO dates (midnight in the project's
# zone), ISO date-times with offsets and half a second (rounded half to even, as DuckDB's cast does).
COMPANIES = [
    ["h-2", "FALSE", "", 'Zoë, "Analytics" GmbH', "https://www.Zoe-Analytics.de/about", "", "ow", "DE123456789",
     "1768950000000"],
    ["h-3", " false ", "", "Plain Co", "", "plain.io;alias.example", "", "", "2026-01-20 23:00:00"],
    ["h-4", "true", "", "Gone", "https://bücher.de", "", "", "", "not a time"],
    ["h-5", "", "", "No domain", "", "", "", "", ""],
    ["h-6", "0", "", "Sub Ltd", "HTTP://user@WWW.Example.COM:8080/x", " ; b.io", "", "", "2026-01-20T22:00:00Z"],
    ["h-7", "false", "", "Old", "www2.old.example", "", "", "", "1577836800000"],
]
CUSTOMERS = [
    ["cus_p", "Ada", "Lovelace", "ada@x.io", "", "", "on", "1735689600", "2026-01-20"],
    ["cus_z", "", "", "z@x.io", "  Zoë Ωmega  ", "", "on", "", "2026-01-20T17:30:00.5Z"],
    ["cus_f", " Émile ", "", "", "", "FR123", "off", "", "2026-01-20T23:00:01.5+05:30"],
    ["cus_u", "", "", "", "Unix Ltd", "", "on", "", "1768950000"],
    ["cus_b", "  ", " Bee ", "", "", "", "on", "", ""],
]


def _rows(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def _project(root: Path, days: list[str], companies: list[list[str]] = COMPANIES,
             customers: list[list[str]] = CUSTOMERS) -> Path:
    """The healthy day in HubSpot's and Chargebee's shapes, with `companies` and `customers` added."""
    new_project(root, dict.fromkeys(days, {}), YML)
    for day in days:
        folder = root / "exports" / day
        render_hubspot(folder, folder / "hubspot")
        for name in ("crm_accounts.csv", "crm_contracts.csv"):
            (folder / name).unlink()
        as_chargebee(folder, TZ)
        _append(folder / "hubspot" / "company.csv", companies)
        _append(folder / "chargebee" / "Customers.csv", customers)
    return root


def _append(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(path.read_text(encoding="utf-8") + out.getvalue(), encoding="utf-8")


def test_hubspot_companies_and_chargebee_customers_read_on_spark_give_duckdbs_tables_and_findings(
        spark: Any, tmp_path: Path) -> None:
    project = _project(tmp_path / "project", [DAY])
    loaded = load_project(project)
    engine = SparkEngine.open(loaded, session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert set(read.on_spark) == SPARK_READ
        assert read.counts["crm_accounts"] == 1 + 5 and read.counts["billing_customers"] == 1 + 5
        assert_duckdbs_tables(read, reference, on_spark, engine)
        names = dict(on_spark.execute("SELECT customer_id, name FROM billing_customers").fetchall())
        assert names["cus_p"] == "Ada Lovelace" and names["cus_z"] == "Zoë Ωmega" and names["cus_f"] == "Émile"
        domains = dict(on_spark.execute("SELECT account_id, domain FROM crm_accounts").fetchall())
        assert (domains["h-2"], domains["h-3"], domains["h-6"]) == ("zoe-analytics.de", "plain.io", "example.com")
    finally:
        engine.close()
    expected, _ = reconcile_day(loaded, date.fromisoformat(DAY))
    found, _ = reconcile_day(on(loaded, "spark"), date.fromisoformat(DAY), spark=spark)
    assert expected.num_rows > 0
    assert found.schema == expected.schema
    assert found.to_pylist() == expected.to_pylist()


# Values DuckDB reads that Spark is not trusted with: that table is read by DuckDB, the other by Spark, and every
# table is DuckDB's.
UNTRUSTED = {
    "a non-ASCII web address": ("crm_accounts", [["h-9", "false", "", "B", "bücher.de", "", "", "", ""]], []),
    "milliseconds past 2099": ("crm_accounts", [["h-9", "false", "", "B", "b.io", "", "", "", "4102444800000"]],
                               []),
    "hour 24": ("billing_customers", [], [["cus_9", "", "", "", "X", "", "on", "", "2026-01-20T24:00:00Z"]]),
    "a no-break space in a name": ("billing_customers", [], [["cus_9", "", "", "", "X\u00a0", "", "on", "", ""]]),
    "a date the zone's clocks change on": ("billing_customers", [],
                                           [["cus_9", "", "", "", "X", "", "on", "", "2026-03-29"]]),
}


# A company's case and a customer's share a day (one read for two tables).
@pytest.mark.parametrize("case", [["a non-ASCII web address", "hour 24"],
                                  ["milliseconds past 2099", "a no-break space in a name"],
                                  ["a date the zone's clocks change on"]], ids=" + ".join)
def test_what_spark_is_not_trusted_with_is_read_by_duckdb(case: list[str], spark: Any, tmp_path: Path) -> None:
    companies = [r for c in case for r in UNTRUSTED[c][1]]
    customers = [r for c in case for r in UNTRUSTED[c][2]]
    project = _project(tmp_path / "project", [DAY], companies, customers)
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert set(read.on_spark) == SPARK_READ - {UNTRUSTED[c][0] for c in case}
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with one day stored (on DuckDB: the refusals are of the next day)."""
    from tieout.run import run_day

    root = _project(tmp_path_factory.mktemp("spark-hubspot-chargebee") / "project", [STORED, DAY])
    run_day(load_project(root), date.fromisoformat(STORED))
    return root


# Each: the rows added to company.csv and Customers.csv, and the file and phrase DuckDB's refusal names.
REFUSED = {
    "a company's time in no form": ([["h-9", "false", "", "B", "b.io", "", "", "", "soon"]], [], "company.csv",
                                    "property_hs_lastmodifieddate"),
    "a company id twice": ([["h-2", "false", "", "B", "b.io", "", "", "", ""]], [], "company.csv", "duplicate"),
    "a customer's time in no form": ([], [["cus_9", "", "", "", "X", "", "on", "", "yesterday"]], "Customers.csv",
                                     "customers.updated_at"),
    "a NUL in a customer's name": ([], [["cus_9", "", "", "", "X\x00", "", "on", "", ""]], "Customers.csv",
                                   "control"),
}


@pytest.mark.parametrize("day", in_days({c: ({"company": "x"} if r[0] else {"customers": "x"}, r[2], r[3])
                                         for c, r in REFUSED.items()}), ids=" + ".join)
def test_a_bad_export_is_refused_on_spark_with_duckdbs_words(day: list[str], stored: Path, spark: Any,
                                                             tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(stored, project)
    folder = project / "exports" / DAY
    _append(folder / "hubspot" / "company.csv", [r for c in day for r in REFUSED[c][0]])
    _append(folder / "chargebee" / "Customers.csv", [r for c in day for r in REFUSED[c][1]])
    assert_refused_as_on_duckdb(project, spark, *((REFUSED[c][2], REFUSED[c][3]) for c in day))


REALDATA = SHARED / "realdata" / "hubspot"


@pytest.mark.skipif(not (REALDATA / "fivetran_company_data.csv").is_file(),
                    reason=f"the realdata HubSpot tables are not at {REALDATA}")
def test_the_realdata_hubspot_companies_are_read_on_spark(spark: Any, tmp_path: Path) -> None:
    """Fivetran's HubSpot companies, read in place, by Spark; the healthy day's deals (joined to deal_company and
    the stages: the realdata deals are on no company, so they hold no contract) by DuckDB; both DuckDB's tables."""
    project = new_project(tmp_path / "project", {DAY: {}}, "sources:\n  crm:\n    format: hubspot\n")
    folder = project / "exports" / DAY
    render_hubspot(folder, folder / "hubspot")
    (folder / "hubspot" / "company.csv").write_bytes((REALDATA / "fivetran_company_data.csv").read_bytes())
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert "crm_accounts" in read.on_spark and "crm_contracts" not in read.on_spark
        assert read.counts["crm_accounts"] > 20
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()



# --- Zuora's invoices, joined to their items, rate plan charges and accounts ---------------------------------------

ZUORA_YML = "fx_rates: {EUR: 1.08}\nsources:\n  billing:\n    format: zuora\n"
ZUORA_CUSTOMERS = (HEALTHY_DAY["billing_customers.csv"]
                   + "cus_2,Zoë GmbH,ap@zoe.de,DE123456789,2026-01-20T23:00:00Z\n")
# Every status, a balance left and none, an invoice naming no currency (its account's), seats of a charge
# changed inside the period (two segments), a flat fee, usage and deleted items beside them (zuora_shape).
ZUORA_INVOICES = (HEALTHY_DAY["billing_invoices.csv"]
                  + "in_2,cus_1,2025-12-01,2025-12-31,2025-12-01,open,120.50,USD,12.5,2026-01-20T23:00:00Z\n"
                  + "in_3,cus_2,2026-01-01,2026-01-31,2026-01-02,void,-10.00,EUR,3,2026-01-20T23:00:00Z\n"
                  + "in_4,cus_2,2026-01-01,2026-01-31,2026-01-20,draft,0,EUR,,\n"
                  + "in_5,cus_2,2025-11-01,2026-01-31,2025-11-01,open,0.01,EUR,7,2026-01-20T23:00:00Z\n")


def _zuora_files() -> dict[str, str]:
    return zuora_shape(standard_rows(ZUORA_CUSTOMERS), standard_rows(ZUORA_INVOICES))


def _with_balance(balance: str) -> str:
    """The invoice table with in_2's balance (120.50, on a Posted invoice) written as `balance`."""
    invoices = _zuora_files()["invoice"]
    assert invoices.count(",120.500000,120.50,") == 1
    return invoices.replace(",120.500000,120.50,", f",120.500000,{balance},")


def _zuora_project(root: Path, days: list[str], **changed: str) -> Path:
    new_project(root, dict.fromkeys(days, {}), ZUORA_YML)
    files = _zuora_files() | changed
    for day in days:
        folder = root / "exports" / day
        for name in ("billing_customers.csv", "billing_invoices.csv"):
            (folder / name).unlink()
        (folder / "zuora").mkdir()
        for name, content in files.items():
            (folder / "zuora" / f"{name}.csv").write_text(content, encoding="utf-8")
    return root


def test_zuora_invoices_joined_to_their_items_read_on_spark_give_duckdbs_tables(
        spark: Any, tmp_path: Path) -> None:
    project = _zuora_project(tmp_path / "project", [DAY])
    loaded = load_project(project)
    engine = SparkEngine.open(loaded, session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert {"billing_customers", "billing_invoices"} <= set(read.on_spark)
        assert read.counts["billing_invoices"] == 5
        assert_duckdbs_tables(read, reference, on_spark, engine)
        status = dict(on_spark.execute("SELECT invoice_id, status FROM billing_invoices").fetchall())
        assert status == {"in_1": "paid", "in_2": "open", "in_3": "void", "in_4": "draft", "in_5": "open"}
    finally:
        engine.close()
    # DuckDB's tables make DuckDB's findings: the day after the read is the same on Spark whatever read it
    # (the HubSpot and Chargebee day above, tests/engines/test_spark_engine.py); a second whole Spark day here
    # would cost the suite about 45 s for no new path.


def test_a_balance_spark_is_not_trusted_with_leaves_zuoras_invoices_to_duckdb(spark: Any, tmp_path: Path
                                                                              ) -> None:
    """`1e3` is a balance to both casts, each its own way: the file is DuckDB's (which reads it as open)."""
    project = _zuora_project(tmp_path / "project", [DAY], invoice=_with_balance("1e3"))
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert "billing_customers" in read.on_spark and "billing_invoices" not in read.on_spark
        assert_duckdbs_tables(read, reference, on_spark, engine)
    finally:
        engine.close()


@pytest.fixture(scope="module")
def zuora_stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Zuora project with one day stored (on DuckDB: the refusals are of the next day)."""
    from tieout.run import run_day

    project = _zuora_project(tmp_path_factory.mktemp("spark-zuora") / "project", [STORED, DAY])
    run_day(load_project(project), date.fromisoformat(STORED))
    return project


def _with_item_start(start: str) -> str:
    items = _zuora_files()["invoice_item"]
    assert items.count(",2025-12-01,") >= 1
    return items.replace(",2025-12-01,", f",{start},", 1)


# Each: the Zuora file replaced, its text, and the file and phrase of DuckDB's refusal.
ZUORA_REFUSED = {
    "a Posted invoice's balance in no form": ("invoice", _with_balance("lots"), "invoice.csv", "status"),
    "an invoice item's service start in no form": ("invoice_item", _with_item_start("01/12/2025"),
                                                   "invoice_item.csv", "service_start_date"),
}


@pytest.mark.parametrize("case", ZUORA_REFUSED)
def test_a_bad_zuora_invoice_is_refused_on_spark_with_duckdbs_words(case: str, zuora_stored: Path, spark: Any,
                                                                    tmp_path: Path) -> None:
    name, text, filename, phrase = ZUORA_REFUSED[case]
    project = tmp_path / "project"
    shutil.copytree(zuora_stored, project)
    (project / "exports" / DAY / "zuora" / f"{name}.csv").write_text(text, encoding="utf-8")
    assert_refused_as_on_duckdb(project, spark, (filename, phrase))
