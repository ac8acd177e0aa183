"""`tieout sources check --as-of DATE`: every source of the day read as a run reads it, per standard table the
rows read, what fed each standard column, three sample rows and every broken table's problem — and nothing
written: the project folder is byte-identical afterwards and no store is created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke, new_project, tree_digest, write_day
from tests.sources.zuora_shape import healthy_zuora
from tieout.sources.layout import STANDARD_LAYOUT

DAY = "2026-01-20"
ZUORA = "sources:\n  billing:\n    format: zuora\n"


def _zuora_project(root: Path, yml: str = ZUORA, files: dict[str, str] | None = None) -> Path:
    new_project(root, {DAY: {}}, yml)
    folder = root / "exports" / DAY
    for name in ("billing_customers.csv", "billing_invoices.csv"):
        (folder / name).unlink()
    (folder / "zuora").mkdir()
    for name, content in {**healthy_zuora(), **(files or {})}.items():
        (folder / "zuora" / f"{name}.csv").write_text(content)
    return root


def _check(root: Path, *flags: str, code: int = 0) -> str:
    before = tree_digest(root)
    result = invoke("sources", "check", "-p", str(root), "--as-of", DAY, *flags)
    assert result.exit_code == code, result.output
    assert tree_digest(root) == before and not (root / ".tieout").exists()  # nothing written, no store
    return result.output


def _json(root: Path, code: int = 0) -> dict:
    return json.loads(_check(root, "--format", "json", code=code))


def test_a_clean_standard_day(tmp_path: Path) -> None:
    got = _json(new_project(tmp_path / "p", {DAY: {}}))
    assert (got["as_of"], got["ok"], got["problems"]) == (DAY, True, 0)
    assert [t["table"] for t in got["tables"]] == [spec.table for spec in STANDARD_LAYOUT]
    accounts = got["tables"][0]
    assert accounts["format"] == "standard" and accounts["rows"] == 1 and accounts["problems"] == []
    assert accounts["read_from"] == str(tmp_path / "p" / "exports" / DAY / "crm_accounts.csv")
    assert accounts["columns"][1] == {"column": "legal_name", "read_from": ["legal_name"], "how": "as written",
                                      "set_by": "standard"}
    assert accounts["sample"] == [{"account_id": "A1", "legal_name": "Acme Analytics Inc.", "domain": "acme.com",
                                   "tax_id": "12-3456789", "owner": "ana", "updated_at": "2026-01-20T23:00:00Z"}]
    assert got["tables"][5]["rows"] == 2 and len(got["tables"][5]["sample"]) == 2


def test_a_zuora_day_says_what_fed_each_column(tmp_path: Path) -> None:
    got = _json(_zuora_project(tmp_path / "p"))
    invoices = next(t for t in got["tables"] if t["table"] == "billing_invoices")
    folder = tmp_path / "p" / "exports" / DAY / "zuora"
    assert (invoices["format"], invoices["rows"], invoices["read_from"]) == ("zuora", 1, str(folder / "invoice.csv"))
    columns = {c["column"]: c for c in invoices["columns"]}
    assert columns["status"] == {
        "column": "status", "read_from": ["status", "balance"], "set_by": "format",
        "how": "Draft -> draft, Posted -> paid when its balance is 0 (open while one remains), Canceled -> void, "
               "Error -> draft"}
    assert columns["period_start"]["how"] == "the earliest service_start_date of the invoice's items (invoice_item)"
    assert columns["amount"] == {"column": "amount", "read_from": ["amount"], "set_by": "format",
                                 "how": "a decimal number (trailing zeros dropped)"}
    assert invoices["sample"] == [{
        "invoice_id": "in_1", "customer_id": "cus_1", "period_start": "2026-01-01", "period_end": "2026-01-31",
        "issued_on": "2026-01-01", "status": "paid", "amount": "10000.00", "currency": "USD", "billed_fte": "50",
        "updated_at": "2026-01-20T23:00:00Z"}]


def test_set_by_names_fields_and_the_tables_column_map(tmp_path: Path) -> None:
    files = healthy_zuora()
    files["account"] = files["account"].replace("vatid", "tax_number")
    files["invoice"] = files["invoice"].replace("invoice_date", "posted_on")
    yml = ZUORA + ("    fields:\n      billing_customers.tax_id: tax_number\n"
                   "    tables:\n      billing_invoices:\n        columns: {issued_on: posted_on}\n")
    got = _json(_zuora_project(tmp_path / "p", yml, files))
    by_table = {t["table"]: {c["column"]: c for c in t["columns"]} for t in got["tables"]}
    assert by_table["billing_customers"]["tax_id"]["read_from"] == ["tax_number"]
    assert by_table["billing_customers"]["tax_id"]["set_by"] == "fields"
    assert by_table["billing_invoices"]["issued_on"]["read_from"] == ["posted_on"]
    assert by_table["billing_invoices"]["issued_on"]["set_by"] == "tables"
    assert by_table["billing_invoices"]["customer_id"]["set_by"] == "format"


def test_every_broken_table_is_listed_and_the_others_still_read(tmp_path: Path) -> None:
    bad_status = healthy_zuora()["invoice"].replace(",Posted,", ",Sent,")
    root = _zuora_project(tmp_path / "p", files={"invoice": bad_status})
    write_day(root, DAY, {
        "crm_accounts.csv": HEALTHY_DAY["crm_accounts.csv"].replace("legal_name", "company"),
        "ops_usage.csv": HEALTHY_DAY["ops_usage.csv"].replace("2026-01-19", "19/01/2026"),
    })
    for name in ("billing_customers.csv", "billing_invoices.csv"):  # write_day wrote the standard ones back
        (root / "exports" / DAY / name).unlink()
    got = _json(root, code=4)
    assert (got["ok"], got["problems"]) == (False, 3)
    by_table = {t["table"]: t for t in got["tables"]}
    folder = root / "exports" / DAY
    assert by_table["crm_accounts"]["problems"] == [{
        "message": f"{folder}/crm_accounts.csv, row 1, column 'legal_name': missing column 'legal_name' (expected "
                   "columns: account_id, legal_name, domain, tax_id, owner, updated_at)",
        "file": str(folder / "crm_accounts.csv"), "row": 1, "column": "legal_name", "exit_code": 4}]
    assert by_table["crm_accounts"]["rows"] is None and by_table["crm_accounts"]["sample"] == []
    assert by_table["billing_invoices"]["problems"][0]["message"] == (
        f"{folder}/zuora/invoice.csv, row 2, column 'status': 'Sent' is not one of Draft, Posted, Canceled, Error, "
        "with a decimal balance on a Posted invoice (map another under the table's `statuses:`) (read as "
        "billing_invoices.status)")
    assert by_table["ops_usage"]["problems"][0]["message"] == (
        f"{folder}/ops_usage.csv, row 2, column 'date': '19/01/2026' is not a date as YYYY-MM-DD")
    for table in ("crm_contracts", "billing_customers", "ops_tenants"):
        assert by_table[table]["problems"] == [] and by_table[table]["rows"] == 1
    text = _check(root, code=4)
    assert ("3 of 6 tables have a problem: crm_accounts, billing_invoices, ops_usage. Nothing was written."
            in text)
    assert "  problem: " + by_table["ops_usage"]["problems"][0]["message"] in text


def test_a_missing_day_is_a_problem_for_every_table(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {"2026-01-19": {}})
    got = _json(root, code=4)
    assert got["problems"] == 6
    assert {p["message"] for t in got["tables"] for p in t["problems"]} == {
        f"{root / 'exports' / DAY}: no export folder for this as-of date (a missing day is not a clean day)"}


def test_the_text_report(tmp_path: Path) -> None:
    text = _check(_zuora_project(tmp_path / "p"))
    assert text.startswith(f"Sources on {DAY}:\n")
    assert text.rstrip().endswith("All 6 tables read cleanly. Nothing was written.")
    for piece in ("billing_invoices (zuora) from", "invoice.csv: 1 row read", "status, balance", "row 1",
                  "transaction_currency, account_id", "10000.00", "2026-01-20T23:00:00Z"):
        assert piece in text, piece


def test_a_hostile_sample_value_is_shown_inert(tmp_path: Path) -> None:
    """A name made to run in a spreadsheet, re-colour a terminal (C1 CSI, which the standard checks let
    through) or plant a rich hyperlink is printed as text; an ESC is refused and its problem shown escaped."""
    hostile = "=cmd|' /C calc'!A0 \x9b31m [link=https://evil.example]click[/link]"
    root = new_project(tmp_path / "p", {DAY: {
        "billing_customers.csv": HEALTHY_DAY["billing_customers.csv"].replace("Acme Analytics Inc.", f'"{hostile}"'),
        "crm_accounts.csv": HEALTHY_DAY["crm_accounts.csv"].replace("Acme Analytics Inc.", "Acme\x1b]8;;x\x1b\\"),
    }})
    text = _check(root, code=4)
    assert "\x1b" not in text and "\x9b" not in text
    assert "=cmd|' /C calc'!A0 \\x9b31m [link=https://evil.example]click[/link]" in text
    assert "'Acme\\x1b]8;;x\\x1b\\\\'" in text  # the refused value, as the problem quotes it
    got = _json(root, code=4)
    customers = next(t for t in got["tables"] if t["table"] == "billing_customers")
    assert customers["sample"][0]["name"] == hostile  # JSON carries the value itself, escaped by JSON


def test_json_output_is_what_the_docs_show(tmp_path: Path) -> None:
    got = _json(_zuora_project(tmp_path / "p"))
    assert set(got) == {"as_of", "ok", "problems", "tables"}
    for t in got["tables"]:
        assert set(t) == {"table", "system", "format", "read_from", "rows", "columns", "sample", "problems"}
        for c in t["columns"]:
            assert set(c) == {"column", "read_from", "how", "set_by"}


def test_a_database_url_is_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tieout.sources.database", reason="the sql reader (branch sqlsrc) is not merged yet")
    monkeypatch.delenv("TIEOUT_TEST_NO_SUCH_URL", raising=False)
    root = _zuora_project(tmp_path / "p", ZUORA + "    url: ${TIEOUT_TEST_NO_SUCH_URL}\n")
    got = _json(root, code=3)
    billing = [t for t in got["tables"] if t["system"] == "billing"]
    assert billing[0]["read_from"] == "zuora.account (the database of sources.billing.url)"
    assert all("TIEOUT_TEST_NO_SUCH_URL is not set" in t["problems"][0]["message"] for t in billing)


def test_the_file_read_is_named_not_every_name_the_format_would_try(tmp_path: Path) -> None:
    from tieout.demo import generate_world

    generate_world(tmp_path / "v", companies=60, days=60, vendor=True)
    result = invoke("sources", "check", "-p", str(tmp_path / "v"), "--as-of", "2026-03-01", "--format", "json")
    assert result.exit_code == 0, result.output
    read_from = {t["table"]: t["read_from"] for t in json.loads(result.stdout)["tables"]}
    folder = tmp_path / "v" / "exports" / "2026-03-01"
    assert read_from["crm_accounts"] == str(folder / "salesforce" / "Account.csv")
    assert read_from["billing_invoices"] == str(folder / "stripe" / "invoices.json")
