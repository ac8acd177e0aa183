"""HubSpot's companies (`company.csv`) and deals (`deal.csv`, their companies and stages looked up in
`deal_company.csv` and `deal_pipeline_stage.csv`), Chargebee's customers (`Customers.csv`) and invoices
(`Invoices.csv`, their periods and seats computed from `LineItems.csv`), and Zuora's invoices (joined to their
items, charges and accounts) read on Spark (`tieout.sources.spark_vendor`, their conversions transpiled with
`tieout.engines.spark_sql`'s rewrites): a rich day gives DuckDB's tables and DuckDB's findings; what Spark is not
trusted with (a tie between a deal's companies, a related value beyond ASCII, seconds past 2099, …) is read by
DuckDB; a bad export is refused in DuckDB's words with the store unchanged; the realdata HubSpot companies, deal
companies and stages are read on Spark in place.

One project holds HubSpot for the CRM and Chargebee for billing, so each of their cases is one read.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HEALTHY_DAY, SHARED, new_project
from tests.engines.test_spark_read import DAY, _read_both, assert_refused_as_on_duckdb, in_days
from tests.engines.test_spark_vendor_read import assert_duckdbs_findings, assert_duckdbs_tables, assert_read_on_spark
from tests.sources.chargebee_shape import as_chargebee
from tests.sources.hubspot_shape import HUBSPOT, render_hubspot
from tests.sources.zuora_shape import as_csv, standard_rows, zuora_shape
from tieout.config import load_project
from tieout.engines import SparkEngine

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

STORED = "2026-01-20"
TZ = "Europe/Berlin"
YML = (f"timezone: {TZ}\nfx_rates: {{EUR: 1.08, JPY: 0.0067, KWD: 3.25}}\n" + HUBSPOT
       + "  billing:\n    format: chargebee\n")
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
# Deals: on a company beside a lower, not primary one; on two primary ones (the lowest id); deleted with values no
# live deal could hold; on no company (not read, whatever it holds); on a stage the stage table holds twice (any
# row's flags); on a company of an association type with blanks; beside a blank company (skipped); on the same
# company twice; stages by HubSpot's words in any case, by the project's map and by their flags; times as unix
# milliseconds, loader text and ISO dates with offsets; a deal id with a comma and quotes (quoted in both files).
DEALS = [
    ["k-2", "false", "default", "Hlo/won==", "5000.50", "1767225600000", "2026-12-31", "12", "EUR",
     "2026-01-20 23:00:00"],
    ["k-3", " FALSE ", "default", " ClosedLost ", "0", "2025-12-31T23:30:00Z", "", "", "", "1768950000000"],
    ["k-4", " TRUE ", "default", "nope", "lots", "soon", "", "", "", ""],
    ["k-5", "false", "default", "nope", "1", "", "", "", "", ""],
    ["k-6", "false", "default", "s-dup", "99.99", "2026-01-15", "", "3.5", "USD", ""],
    ["k-7", "false", "default", "contractexpired", "10", "2024-02-29", "2025-02-28", "", "", ""],
    ["k-8", "0", "default", "xt/open==", "1", "2026-01-20T01:00:00+02:00", "", "", "", ""],
    ['k,9 "q"', "false", "default", "closedwon", "7", "2026-01-02", "", "", "", ""],
]
LINKS = [["h-2", "k-2", "5", "HUBSPOT_DEFINED"], ["0", "k-2", "341", "HUBSPOT_DEFINED"],
         ["h-6", "k-3", "5", "HUBSPOT_DEFINED"], ["h-3", "k-3", "5", "HUBSPOT_DEFINED"],
         ["h-2", "k-4", "5", "HUBSPOT_DEFINED"], ["h-7", "k-6", " 5 ", "HUBSPOT_DEFINED"],
         ["h-2", "k-6", "1", "USER_DEFINED"], ["", "k-7", "5", "HUBSPOT_DEFINED"], ["h-5", "k-7", "341", ""],
         ["h-6", "k-8", "5", "HUBSPOT_DEFINED"], ["h-6", "k-8", "5", "HUBSPOT_DEFINED"],
         ["h-3", 'k,9 "q"', "5", ""]]
STAGE_ROWS = [["FALSE", "s-dup", "false", "TRUE"], ["FALSE", "s-dup", " true ", "true"]]
# Invoices in three currencies (zero and three decimals), every status; line items with seats on two plan lines
# (decimals), an addon beside them (not seats), a one-off charge (date_to = date_from), a plan line without a
# quantity, dates as unix seconds, ISO dates (midnight in the project's zone) and ISO date-times.
INVOICES = [
    ["inv_2", "cus_p", "sub_p", "payment_due", "2026-01-05", "", "12050", "0", "EUR", "2026-01-20T17:30:00Z"],
    ["inv_3", "cus_z", "", "voided", "1767225600", "", "1200", "0", "JPY", "1768950000"],
    ["inv_4", "cus_u", "", "pending", "2026-01-19T23:30:00+05:30", "", "0", "0", "KWD", ""],
    ["inv_5", "cus_f", "", "not_paid", "1767225600", "", "1234567", "0", "kwd", ""],
]
LINES = [
    ["li_2a", "inv_2", "1767222000", "1769900400", "plan_item_price", "seat", "2.50", "100", "Seats"],
    ["li_2b", "inv_2", "2026-01-15", "2026-02-01", "plan", "seat", "3", "100", "More seats"],
    ["li_2c", "inv_2", "1767222000", "1769900400", "addon", "support", "1", "5", "Support"],
    ["li_3a", "inv_3", "1767225600", "1767225600", "charge", "setup", "1", "1200", "Setup"],
    ["li_3b", "inv_3", "1767225600", "1769904000", "plan_item_price", "seat", "", "0", "No seats"],
    ["li_4a", "inv_4", "2026-01-01", "2026-01-01", "plan_item_price", "seat", "10.0000", "0", "Seats"],
    ["li_5a", "inv_5", "2026-01-01T00:00:00Z", "2026-01-31T23:00:00Z", "plan", "seat", "7", "1234567", "Seats"],
]
# The rows each file of the day gets beyond the healthy day's.
RICH = {"hubspot/company.csv": COMPANIES, "hubspot/deal.csv": DEALS, "hubspot/deal_company.csv": LINKS,
        "hubspot/deal_pipeline_stage.csv": STAGE_ROWS, "chargebee/Customers.csv": CUSTOMERS,
        "chargebee/Invoices.csv": INVOICES, "chargebee/LineItems.csv": LINES}


def _rows(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def _project(root: Path, days: list[str], added: dict[str, list[list[str]]] | None = None) -> Path:
    """The healthy day in HubSpot's and Chargebee's shapes, with the rows of `added` (file -> rows; default
    the rich day's) added to its files."""
    new_project(root, dict.fromkeys(days, {}), YML)
    for day in days:
        folder = root / "exports" / day
        render_hubspot(folder, folder / "hubspot")
        for name in ("crm_accounts.csv", "crm_contracts.csv"):
            (folder / name).unlink()
        as_chargebee(folder, TZ)
        for name, rows in (RICH if added is None else added).items():
            _append(folder / name, rows)
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
        assert read.counts == {"crm_accounts": 1 + 5, "crm_contracts": 1 + 6, "billing_customers": 1 + 5,
                               "billing_invoices": 1 + 4, "ops_tenants": 1, "ops_usage": 2}
        assert_duckdbs_tables(read, reference, on_spark, engine)
        names = dict(on_spark.execute("SELECT customer_id, name FROM billing_customers").fetchall())
        assert names["cus_p"] == "Ada Lovelace" and names["cus_z"] == "Zoë Ωmega" and names["cus_f"] == "Émile"
        domains = dict(on_spark.execute("SELECT account_id, domain FROM crm_accounts").fetchall())
        assert (domains["h-2"], domains["h-3"], domains["h-6"]) == ("zoe-analytics.de", "plain.io", "example.com")
        deals = {r[0]: r[1:] for r in on_spark.execute(
            "SELECT contract_id, account_id, status FROM crm_contracts WHERE contract_id LIKE 'k%'").fetchall()}
        assert deals == {"k-2": ("h-2", "active"), "k-3": ("h-3", "cancelled"), "k-6": ("h-7", "active"),
                         "k-7": ("h-5", "expired"), "k-8": ("h-6", "draft"), 'k,9 "q"': ("h-3", "active")}
        invoices = {r[0]: r[1:] for r in on_spark.execute(
            "SELECT invoice_id, period_start, period_end, billed_fte, amount FROM billing_invoices "
            "WHERE invoice_id <> 'in_1'").fetchall()}
        assert invoices["inv_2"][:3] == (date(2026, 1, 1), date(2026, 1, 31), Decimal("5.5"))
        assert invoices["inv_3"][:3] == (date(2026, 1, 1), date(2026, 2, 1), None)
        assert invoices["inv_4"][:3] == (date(2026, 1, 1), date(2026, 1, 1), Decimal(10))
        assert (invoices["inv_3"][3], invoices["inv_5"][3]) == (Decimal(1200), Decimal("1234.567"))
    finally:
        engine.close()
    assert_duckdbs_findings(loaded, spark)


# Values DuckDB reads that Spark is not trusted with: that table is read by DuckDB, the others by Spark, and
# every table is DuckDB's. Each: the table, and the rows added to the day's files.
UNTRUSTED: dict[str, tuple[str, dict[str, list[list[str]]]]] = {
    "a non-ASCII web address": ("crm_accounts", {"hubspot/company.csv": [
        ["h-9", "false", "", "B", "bücher.de", "", "", "", ""]]}),
    "milliseconds past 2099": ("crm_accounts", {"hubspot/company.csv": [
        ["h-9", "false", "", "B", "b.io", "", "", "", "4102444800000"]]}),
    "hour 24": ("billing_customers", {"chargebee/Customers.csv": [
        ["cus_9", "", "", "", "X", "", "on", "", "2026-01-20T24:00:00Z"]]}),
    "a no-break space in a name": ("billing_customers", {"chargebee/Customers.csv": [
        ["cus_9", "", "", "", "X\u00a0", "", "on", "", ""]]}),
    "a date the zone's clocks change on": ("billing_customers", {"chargebee/Customers.csv": [
        ["cus_9", "", "", "", "X", "", "on", "", "2026-03-29"]]}),
    # Two primary companies whose ids pad alike: DuckDB's arg_min takes either.
    "a tie between a deal's companies": ("crm_contracts", {
        "hubspot/deal.csv": [["k-t", "false", "default", "closedwon", "1", "2026-01-01", "", "", "", ""]],
        "hubspot/deal_company.csv": [["7", "k-t", "5", ""], ["07", "k-t", "5", ""]]}),
    "a stage's flag beyond ASCII": ("crm_contracts", {"hubspot/deal_pipeline_stage.csv": [
        ["FALSE", "s-x", "TRUE\u00a0", "TRUE"]]}),
    "a line item's seconds past 2099": ("billing_invoices", {"chargebee/LineItems.csv": [
        ["li_x", "in_1", "1767222000", "4102444801", "addon", "x", "1", "0", "Far"]]}),
    "an invoice id beyond ASCII": ("billing_invoices", {
        "chargebee/Invoices.csv": [["inv_é", "cus_p", "", "paid", "2026-01-05", "", "100", "0", "EUR", ""]],
        "chargebee/LineItems.csv": [["li_é", "inv_é", "1767222000", "1769900400", "plan", "seat", "1", "1", "S"]]}),
}


def _added(each: list[dict[str, list[list[str]]]]) -> dict[str, list[list[str]]]:
    """The rows added to each file by the cases of one day."""
    out: dict[str, list[list[str]]] = {}
    for files in each:
        for name, rows in files.items():
            out.setdefault(name, []).extend(rows)
    return out


# Cases of four tables share a day (one read for them all).
@pytest.mark.parametrize("case", [["a non-ASCII web address", "hour 24", "a tie between a deal's companies",
                                   "a line item's seconds past 2099"],
                                  ["milliseconds past 2099", "a no-break space in a name",
                                   "a stage's flag beyond ASCII", "an invoice id beyond ASCII"],
                                  ["a date the zone's clocks change on"]], ids=" + ".join)
def test_what_spark_is_not_trusted_with_is_read_by_duckdb(case: list[str], spark: Any, tmp_path: Path) -> None:
    project = _project(tmp_path / "project", [DAY], _added([UNTRUSTED[c][1] for c in case]))
    assert_read_on_spark(project, spark, SPARK_READ - {UNTRUSTED[c][0] for c in case})


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with one day stored (on DuckDB: the refusals are of the next day)."""
    from tieout.run import run_day

    root = _project(tmp_path_factory.mktemp("spark-hubspot-chargebee") / "project", [STORED, DAY])
    run_day(load_project(root), date.fromisoformat(STORED))
    return root


# Each: the rows added to the day's files, and the file and phrase DuckDB's refusal names.
REFUSED: dict[str, tuple[dict[str, list[list[str]]], str, str]] = {
    "a company's time in no form": ({"hubspot/company.csv": [["h-9", "false", "", "B", "b.io", "", "", "", "soon"]]},
                                    "company.csv", "property_hs_lastmodifieddate"),
    "a company id twice": ({"hubspot/company.csv": [["h-2", "false", "", "B", "b.io", "", "", "", ""]]},
                           "company.csv", "duplicate"),
    "a customer's time in no form": ({"chargebee/Customers.csv": [
        ["cus_9", "", "", "", "X", "", "on", "", "yesterday"]]}, "Customers.csv", "customers.updated_at"),
    "a NUL in a customer's name": ({"chargebee/Customers.csv": [["cus_9", "", "", "", "X\x00", "", "on", "", ""]]},
                                   "Customers.csv", "control"),
    "a deal on a stage no table holds": ({
        "hubspot/deal.csv": [["k-9", "false", "default", "nope", "1", "2026-01-01", "", "", "", ""]],
        "hubspot/deal_company.csv": [["h-2", "k-9", "5", ""]]}, "deal.csv", "deal_pipeline_stage_id"),
    "a deal's close date in no form": ({
        "hubspot/deal.csv": [["k-9", "false", "default", "closedwon", "1", "31/01/2026", "", "", "", ""]],
        "hubspot/deal_company.csv": [["h-2", "k-9", "5", ""]]}, "deal.csv", "property_closedate"),
    "an invoice without line items": ({"chargebee/Invoices.csv": [
        ["inv_9", "cus_p", "", "paid", "2026-01-05", "", "100", "0", "EUR", ""]]}, "Invoices.csv", "line items"),
    "a line item's date in no form": ({"chargebee/LineItems.csv": [
        ["li_9", "in_1", "31/01/2026", "1769900400", "plan", "seat", "1", "1", "S"]]}, "LineItems.csv",
        "line_items.date_from"),
}
# The table each case's files are read for: a day holds one case a table (its refusal names each table's).
_TABLES = {"company": "crm_accounts", "deal": "crm_contracts", "Customers": "billing_customers",
           "Invoices": "billing_invoices", "LineItems": "billing_invoices"}


@pytest.mark.parametrize("day", in_days({c: ({_TABLES[Path(next(iter(r[0]))).stem]: "x"}, r[1], r[2])
                                         for c, r in REFUSED.items()}), ids=" + ".join)
def test_a_bad_export_is_refused_on_spark_with_duckdbs_words(day: list[str], stored: Path, spark: Any,
                                                             tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(stored, project)
    folder = project / "exports" / DAY
    for name, rows in _added([REFUSED[c][0] for c in day]).items():
        _append(folder / name, rows)
    assert_refused_as_on_duckdb(project, spark, *((REFUSED[c][1], REFUSED[c][2]) for c in day))


REALDATA = SHARED / "realdata" / "hubspot"


# The realdata tables read in place (the day's files are links to them) -> their file there.
REALDATA_FILES = {"company.csv": "fivetran_company_data.csv", "deal_company.csv": "fivetran_deal_company_data.csv",
                  "deal_pipeline_stage.csv": "fivetran_deal_pipeline_stage_data.csv"}


@pytest.mark.skipif(not all((REALDATA / f).is_file() for f in REALDATA_FILES.values()),
                    reason=f"the realdata HubSpot tables are not at {REALDATA}")
def test_the_realdata_hubspot_tables_are_read_on_spark(spark: Any, tmp_path: Path) -> None:
    """Fivetran's HubSpot companies, deal companies and pipeline stages (hashed stage ids such as
    `/n0+plNHbWErNq8Ek+NM3g==`, flags in upper case), read in place, and deals on them read by Spark, as DuckDB
    reads them. The deals are the test's: the realdata ones hold no stage, amount or close date and are on no
    company (no contract), so they are written on the realdata deal companies' deal ids and stages."""
    project = new_project(tmp_path / "project", {DAY: {}}, "sources:\n  crm:\n    format: hubspot\n")
    folder = project / "exports" / DAY
    render_hubspot(folder, folder / "hubspot")
    for name, real in REALDATA_FILES.items():
        (folder / "hubspot" / name).unlink()
        (folder / "hubspot" / name).symlink_to(REALDATA / real)
    header = (folder / "hubspot" / "deal.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    (folder / "hubspot" / "deal.csv").write_text(_rows(header, [
        ["6789", "false", "default", "/n0+plNHbWErNq8Ek+NM3g==", "1200", "2026-01-01", "", "", "USD",
         "2026-01-20 23:00:00"],
        ["1234", "false", "default", "hVXu1Iul7Cc7DcPuxQpOfg==", "300", "1767225600000", "", "", "", ""],
        ["1244495215", "false", "default", "", "", "", "", "", "", ""]]), encoding="utf-8")
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert {"crm_accounts", "crm_contracts"} <= set(read.on_spark)
        assert read.counts["crm_accounts"] > 20 and read.counts["crm_contracts"] == 2
        assert_duckdbs_tables(read, reference, on_spark, engine)
        deals = {r[0]: r[1:] for r in on_spark.execute(
            "SELECT contract_id, account_id, status FROM crm_contracts").fetchall()}
        assert deals == {"6789": ("12345", "active"), "1234": ("56789", "draft")}
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


def test_a_related_tables_own_c0_is_never_taken_for_the_rows(spark: Any, tmp_path: Path) -> None:
    """Spark names a file's inputs by position; a related table with columns of such names is still looked up by
    this row's: here each account's `c0` … `c15` hold another account's id, so a lookup that took its own `c1`
    for the invoice's account id would find no account, and no currency for the invoice that names none."""
    accounts = list(csv.DictReader(io.StringIO(_zuora_files()["account"])))
    named = [f"c{i}" for i in range(16)]
    other = {a["id"]: accounts[(i + 1) % len(accounts)]["id"] for i, a in enumerate(accounts)}
    project = _zuora_project(tmp_path / "project", [DAY], account=as_csv(
        [*accounts[0], *named], [{**a, **dict.fromkeys(named, other[a["id"]])} for a in accounts]))
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert "billing_invoices" in read.on_spark and read.counts["billing_invoices"] == 5
        assert_duckdbs_tables(read, reference, on_spark, engine)
        assert on_spark.execute("SELECT currency FROM billing_invoices WHERE invoice_id = 'in_4'").fetchall() == [
            ("USD",)]  # its account's
    finally:
        engine.close()


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
