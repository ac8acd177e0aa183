"""The `zuora` billing format (contract §3b): accounts and invoices as a warehouse loader lands Zuora's tables,
from files or through `url:`; read on the real samples in ../shared/realdata/zuora/, on the PostgreSQL
warehouse holding them, and on a generated world rendered in Zuora's shape (the standard layout's typed tables
and findings). Every refusal names Zuora's file, row and column, and a refused run writes nothing."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import HEALTHY_DAY, SHARED, invoke, new_project, tree_digest
from tests.sources.zuora_shape import INVOICE, ITEM, as_csv, healthy_zuora, standard_rows, zuora_shape
from tests.store_checks import seen
from tieout.config import load_project
from tieout.errors import InputError, each_input_error
from tieout.sources.read import read_day

REALDATA = SHARED / "realdata" / "zuora"
DAY = "2026-01-20"
# The warehouse seeds' names -> the default file names of the format.
SEEDS = {"account": "zuora_account_data.csv", "invoice": "zuora_invoice_data.csv",
         "invoice_item": "zuora_invoice_item_data.csv", "rate_plan_charge": "zuora_rate_plan_charge_data.csv"}
ZUORA = "sources:\n  billing:\n    format: zuora\n"
BILLING = ("billing_customers", "billing_invoices")

needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(), reason=f"{REALDATA} is absent: the real Zuora "
                                    "samples (fivetran/dbt_zuora_source seeds) are not on this machine")


def _project(root: Path, zuora_files: dict[str, str], yml: str = ZUORA, day: str = DAY) -> Path:
    """A project whose day holds the standard CRM and ops files and Zuora's files (text) in `zuora/`."""
    if not (root / "tieout.yml").exists():
        new_project(root, {}, yml)
    folder = root / "exports" / day
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in HEALTHY_DAY.items():
        if not name.startswith("billing_"):
            (folder / name).write_text(content)
    (folder / "zuora").mkdir(exist_ok=True)
    for name, content in zuora_files.items():
        (folder / "zuora" / f"{name}.csv").write_text(content, encoding="utf-8")
    return root


def _read(root: Path, day: str = DAY) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(day))
    return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in BILLING}


def _refusal(root: Path, day: str = DAY) -> InputError:
    with pytest.raises(InputError) as caught:
        read_day(duckdb.connect(), load_project(root), date.fromisoformat(day))
    return caught.value


# --- the real samples ---------------------------------------------------------------------------------------

def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


USD = Decimal("70.3600")
CUSTOMER = "dff38ac00240057303623f9ba5542afa"
# What the samples say, read by hand: account 2c92c0f86763fb0a0167834d6c5e086b is `_fivetran_deleted`; every
# invoice is Posted with balance 0 (paid), in USD, and its service period is its items' (Zuora's service end is
# the last day of service: 2015-08-01 to 2015-08-31 is August); the items bill usage (rate plan charges not in
# the sample), so no seats are billed.
REAL_CUSTOMERS = [
    ("2c92c0f967640caa0167836a3e396a3b", "Test Name 1", None, None, _ts("2022-12-31 09:40:57")),
    ("8ad088718262bc1701826340a8720972", "Test Name 2", None, None, _ts("2022-08-03 10:29:18")),
    ("dff38ac05ae066e479f6ba9b68a23d47", "Test Name 5", None, None, _ts("2023-01-01 13:14:34")),
    ("dff38ac0e09e5a914e7cddb66f92e2af", "Test Name 4", None, None, _ts("2023-01-01 13:14:34")),
]
REAL_INVOICES = [
    ("dff38ac0465fa8828673ba7d616b6ea1", CUSTOMER, date(2017, 8, 1), date(2017, 11, 30), date(2015, 2, 15), "paid",
     USD, "USD", None, _ts("2016-01-15 22:46:13")),
    ("dff38ac0a531a01100012160a3061ef6", CUSTOMER, date(2015, 8, 1), date(2015, 8, 31), date(2015, 10, 15), "paid",
     USD, "USD", None, _ts("2016-01-15 22:49:09")),
    ("dff38ac0dfa53a25cf026658c1631e92", CUSTOMER, date(2015, 9, 1), date(2015, 9, 30), date(2016, 1, 15), "paid",
     USD, "USD", None, _ts("2016-01-15 22:50:05")),
    ("dff38ac0ea5bbc65bce34ebdb935e174", CUSTOMER, date(2015, 10, 1), date(2015, 10, 31), date(2015, 7, 15), "paid",
     USD, "USD", None, _ts("2016-01-15 22:48:11")),
    ("dff38ac0f3f8366b90ae206d1d20ab4e", CUSTOMER, date(2015, 11, 1), date(2015, 11, 30), date(2015, 9, 15), "paid",
     USD, "USD", None, _ts("2016-01-15 22:48:50")),
]


def _realdata_project(root: Path) -> Path:
    _project(root, {})
    for name, seed in SEEDS.items():  # into the test's own folder, under the format's default names
        shutil.copyfile(REALDATA / seed, root / "exports" / DAY / "zuora" / f"{name}.csv")
    return root


@needs_realdata
def test_the_real_samples_read_with_the_default_file_names(tmp_path: Path) -> None:
    tables = _read(_realdata_project(tmp_path / "p"))
    assert tables == {"billing_customers": REAL_CUSTOMERS, "billing_invoices": REAL_INVOICES}


@needs_realdata
def test_the_real_samples_reconcile(tmp_path: Path) -> None:
    root = _realdata_project(tmp_path / "p")
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output


def test_the_warehouse_tables_read_as_the_files_do(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Through `url:`, the format's default queries (zuora.account, zuora.invoice, …) over the PostgreSQL
    warehouse holding the same samples, typed as a loader types them (numeric, boolean, date, timestamp)."""
    try:
        url = request.getfixturevalue("warehouse_url")
    except pytest.FixtureLookupError:
        pytest.skip("the PostgreSQL warehouse fixture (tests/sources/conftest.py, branch sqlsrc) is not here yet")
    root = _project(tmp_path / "p", {}, ZUORA + f"    url: {json.dumps(url)}\n")
    assert _read(root) == {"billing_customers": REAL_CUSTOMERS, "billing_invoices": REAL_INVOICES}


def test_a_bad_warehouse_value_is_named_by_the_query_row_and_column(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    try:
        url = request.getfixturevalue("warehouse_url")
    except pytest.FixtureLookupError:
        pytest.skip("the PostgreSQL warehouse fixture (tests/sources/conftest.py, branch sqlsrc) is not here yet")
    query = ("SELECT id, _fivetran_deleted, account_id, amount, balance, invoice_date, updated_date, "
             "transaction_currency, CASE WHEN invoice_number = 'INV00000028' THEN 'Pending' ELSE status END "
             "AS status FROM zuora.invoice ORDER BY invoice_number")
    yml = ZUORA + (f"    url: {json.dumps(url)}\n    tables:\n"
                   f"      billing_invoices:\n        query: {json.dumps(query)}\n")
    error = _refusal(_project(tmp_path / "p", {}, yml))
    assert str(error) == (
        f"sources.billing ({query}), row 3 of the result, column 'status': 'Pending' is not one of Draft, Posted, "
        "Canceled, Error, with a decimal balance on a Posted invoice (map another under the table's `statuses:`) "
        "(read as billing_invoices.status)")


# --- Zuora's shape, written from standard rows --------------------------------------------------------------

def test_the_healthy_day_in_zuoras_shape_reads_as_the_standard_layout(tmp_path: Path) -> None:
    standard = _read(new_project(tmp_path / "standard", {DAY: {}}))
    assert _read(_project(tmp_path / "zuora", healthy_zuora())) == standard


def _world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tieout.demo import MIN_COMPANIES, MIN_DAYS, generate_world

    root = tmp_path_factory.mktemp("world")
    generate_world(root, companies=MIN_COMPANIES, days=MIN_DAYS)
    return root


def _in_zuoras_shape(world: Path, root: Path, days: list[str]) -> Path:
    """`world`'s days with the billing system in Zuora's shape (same entity map and other files)."""
    root.mkdir()
    (root / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n" + ZUORA)
    shutil.copyfile(world / "entity_map.csv", root / "entity_map.csv")
    for day in days:
        source, folder = world / "exports" / day, root / "exports" / day
        (folder / "zuora").mkdir(parents=True)
        for path in source.iterdir():
            if not path.name.startswith("billing_"):
                shutil.copyfile(path, folder / path.name)
        shaped = zuora_shape(standard_rows((source / "billing_customers.csv").read_text()),
                             standard_rows((source / "billing_invoices.csv").read_text()))
        for name, content in shaped.items():
            (folder / "zuora" / f"{name}.csv").write_text(content)
    return root


def test_a_generated_world_in_zuoras_shape_reads_as_the_standard_layout(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    world = _world(tmp_path_factory)
    days = sorted(p.name for p in (world / "exports").iterdir())[::9]
    shaped = _in_zuoras_shape(world, tmp_path / "zuora", days)
    for day in days:
        tables = _read(shaped, day)
        assert tables == _read(world, day), day
        assert any(row[8] is not None for row in tables["billing_invoices"])  # seats billed


@pytest.mark.slow
def test_a_generated_world_in_zuoras_shape_gives_the_standard_findings(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    world = _world(tmp_path_factory)
    days = sorted(p.name for p in (world / "exports").iterdir())[-12:]
    shaped = _in_zuoras_shape(world, tmp_path / "zuora", days)
    for root in (world, shaped):
        result = invoke("backfill", "-p", str(root), "--from", days[0], "--to", days[-1])
        assert result.exit_code == 0, result.output
    findings = seen(world).exceptions
    assert findings and seen(shaped).exceptions == findings


# --- what a person may set ----------------------------------------------------------------------------------

def test_fields_replace_a_derived_column_whole_and_statuses_map_over_zuoras(tmp_path: Path) -> None:
    files = healthy_zuora()
    invoice = standard_rows(files["invoice"])
    for row in invoice:
        row["status"] = "Pending Approval"  # a tenant's own workflow status
        row["seats__c"] = "12"
    files["invoice"] = as_csv([*INVOICE, "seats__c"], invoice)
    yml = ZUORA + ("    fields:\n      billing_invoices.billed_fte: seats__c\n"
                   "    tables:\n      billing_invoices:\n        statuses: {Pending Approval: draft}\n")
    (row,) = _read(_project(tmp_path / "p", files, yml))["billing_invoices"]
    assert (row[5], row[8]) == ("draft", Decimal("12"))


def test_a_posted_invoice_with_a_balance_is_open_and_an_error_is_a_draft(tmp_path: Path) -> None:
    files = healthy_zuora()
    rows = standard_rows(files["invoice"])
    extra = [{**rows[0], "id": "inv2", "balance": "0.01"}, {**rows[0], "id": "inv3", "status": "Error"},
             {**rows[0], "id": "inv4", "status": "canceled"}, {**rows[0], "id": "inv5", "balance": "-5"}]
    files["invoice"] = as_csv(INVOICE, rows + extra)
    items = standard_rows(files["invoice_item"])
    files["invoice_item"] = as_csv(ITEM, items + [{**i, "id": f"{i['id']}-{x['id']}", "invoice_id": x["id"]}
                                                for x in extra for i in items])
    statuses = {r[0]: r[5] for r in _read(_project(tmp_path / "p", files))["billing_invoices"]}
    assert statuses == {"in_1": "paid", "inv2": "open", "inv3": "draft", "inv4": "void", "inv5": "paid"}


# --- refusals: Zuora's file, row and column; nothing written ------------------------------------------------

def _broken(tmp_path: Path, name: str, old: str, new: str, *, count: int = 1) -> Path:
    files = healthy_zuora()
    assert old in files[name], (name, old)
    files[name] = files[name].replace(old, new, count)
    return _project(tmp_path / "p", files)


def _where(error: InputError) -> str:
    """The first problem named, from the day's folder on (a value that feeds two standard columns — an account's
    id, its invoices' currency — is named for each)."""
    return str(each_input_error(error)[0]).split(f"{DAY}/", 1)[1]


@pytest.mark.parametrize(("name", "old", "new", "message"), [
    ("invoice", ",10000.000000,", ",ten thousand,",
     "zuora/invoice.csv, row 2, column 'amount': 'ten thousand' is not a decimal number such as 1234.50 (read as "
     "billing_invoices.amount)"),
    ("invoice", ",Posted,", ",Pending,",
     "zuora/invoice.csv, row 2, column 'status': 'Pending' is not one of Draft, Posted, Canceled, Error, with a "
     "decimal balance on a Posted invoice (map another under the table's `statuses:`) (read as "
     "billing_invoices.status)"),
    ("invoice", "2026-01-20 23:00:00.000000", "yesterday",
     "zuora/invoice.csv, row 2, column 'updated_date': 'yesterday' is not an ISO 8601 date and time such as "
     "2026-01-31T23:00:00Z (read as billing_invoices.updated_at)"),
    ("invoice", ",2026-01-01,INV", ",01/01/2026,INV",
     "zuora/invoice.csv, row 2, column 'invoice_date': '01/01/2026' is not a date (YYYY-MM-DD) or an ISO 8601 "
     "date and time (read as billing_invoices.issued_on)"),
    ("invoice_item", ",2026-01-31,2026-01-01,", ",2026-01-31,Jan 1st,",
     "zuora/invoice_item.csv, row 2, column 'service_start_date': 'Jan 1st' is not a date (YYYY-MM-DD) or an "
     "ISO 8601 date and time (read for billing_invoices)"),
    ("invoice_item", ",50,rpc0,", ",fifty,rpc0,",
     "zuora/invoice_item.csv, row 2, column 'quantity': 'fifty' is not a decimal number such as 1234.50 (read "
     "for billing_invoices)"),
    ("invoice_item", "in_1,", "in_9,", None),  # every item of the invoice names another one
    ("account", "2026-01-20 23:00:00.000000", "2026-13-01 00:00:00",
     "zuora/account.csv, row 2, column 'updated_date': '2026-13-01 00:00:00' is not an ISO 8601 date and time "
     "such as 2026-01-31T23:00:00Z (read as billing_customers.updated_at)"),
    ("account", "cus_1,FALSE", ",FALSE",
     "zuora/account.csv, row 2, column 'id': empty: a value is required"),
])
def test_a_bad_zuora_value_is_named_by_its_file_row_and_column(
        tmp_path: Path, name: str, old: str, new: str, message: str | None) -> None:
    root = _broken(tmp_path, name, old, new, count=-1 if message is None else 1)
    if message is None:
        message = ("zuora/invoice.csv, row 2, column 'id': 'in_1' is not the id of an invoice that invoice items "
                   "name in their invoice_id (its service period is theirs) (read as billing_invoices.period_start)")
    assert _where(_refusal(root)) == message


@pytest.mark.parametrize(("name", "old", "new", "currency"), [
    ("invoice", ",Posted,,", ",Posted,EUR,", "EUR"),  # the invoice's own currency
    ("account", ",USD,", ",JPY,", "JPY"),  # the account's, for an invoice that names none
])
def test_a_currency_with_no_rate_is_refused(tmp_path: Path, name: str, old: str, new: str, currency: str) -> None:
    root = _broken(tmp_path, name, old, new)
    assert _where(_refusal(root)) == (
        f"zuora/invoice.csv, row 2, column 'transaction_currency': '{currency}': no rate into the reporting "
        f"currency USD for {DAY} (add it to tieout.yml, e.g. fx_rates: {{{currency}: 1.08}})")
    (root / "tieout.yml").write_text((root / "tieout.yml").read_text() + f"fx_rates: {{{currency}: 0.0065}}\n")
    (invoice,) = _read(root)["billing_invoices"]
    assert invoice[6:8] == (Decimal("10000.0000"), currency)


def test_a_missing_zuora_column_names_the_standard_column_it_feeds(tmp_path: Path) -> None:
    root = _broken(tmp_path, "invoice", "invoice_date", "Invoice_Date")
    assert _where(_refusal(root)) == (
        "zuora/invoice.csv, row 1, column 'Invoice_Date': missing column 'invoice_date' (read as "
        "billing_invoices.issued_on; map another with sources.billing.fields) (expected columns: id, account_id, "
        "invoice_date, status, balance, amount, updated_date) — is 'Invoice_Date' this column renamed?")


def test_a_missing_column_of_a_related_table_is_named_in_that_table(tmp_path: Path) -> None:
    root = _broken(tmp_path, "invoice_item", "service_end_date", "service_end")
    assert _where(_refusal(root)) == (
        "zuora/invoice_item.csv, row 1, column 'service_end': missing column 'service_end_date' (read for "
        "billing_invoices) (expected columns: invoice_id, rate_plan_charge_id, service_start_date, "
        "service_end_date, quantity) — is 'service_end' this column renamed?")


def test_a_missing_zuora_file_is_named(tmp_path: Path) -> None:
    files = healthy_zuora()
    del files["rate_plan_charge"]
    assert _where(_refusal(_project(tmp_path / "p", files))) == "zuora/rate_plan_charge.csv: file is missing"


def test_a_duplicate_invoice_names_both_rows(tmp_path: Path) -> None:
    files = healthy_zuora()
    rows = standard_rows(files["invoice"])
    files["invoice"] = as_csv(INVOICE, rows + [{**rows[0], "invoice_number": "INV2"}])
    assert _where(_refusal(_project(tmp_path / "p", files))) == (
        "zuora/invoice.csv, row 3, column 'id': duplicate invoice_id in_1 (also at row 2)")


def test_a_file_in_another_encoding_is_refused_unless_the_source_names_it(tmp_path: Path) -> None:
    files = healthy_zuora()
    root = _project(tmp_path / "p", files)
    account = root / "exports" / DAY / "zuora" / "account.csv"
    account.write_bytes(files["account"].replace("Acme Analytics Inc.", "Acmé Analytics Inc.").encode("latin-1"))
    error = _refusal(root)
    assert (_where(error), error.row) == (
        "zuora/account.csv, row 2, column 'name': bytes that are not UTF-8 (name the file's encoding as "
        "`encoding:` in sources.billing, e.g. latin-1, or cp1252 for a Windows export)", 2)
    (root / "tieout.yml").write_text((root / "tieout.yml").read_text() + "    encoding: latin-1\n")
    for name in ("invoice", "invoice_item", "rate_plan_charge"):  # one encoding per source
        path = root / "exports" / DAY / "zuora" / f"{name}.csv"
        path.write_bytes(path.read_text().encode("latin-1"))
    assert _read(root)["billing_customers"][0][1] == "Acmé Analytics Inc."


def test_a_refused_run_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", healthy_zuora())
    assert invoke("run", "-p", str(root), "--as-of", DAY).exit_code == 0
    before, store = seen(root), tree_digest(root / ".tieout")
    files = healthy_zuora()
    files["invoice"] = files["invoice"].replace(",Posted,", ",Pending,")
    _project(root, files, day="2026-01-21")
    result = invoke("run", "-p", str(root), "--as-of", "2026-01-21")
    assert result.exit_code == 4
    assert "zuora/invoice.csv, row 2, column 'status': 'Pending' is not one of Draft" in result.output
    assert tree_digest(root / ".tieout") == store and seen(root) == before
