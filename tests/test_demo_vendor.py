"""`tieout demo --vendor` writes the standard demo's world in the systems' own shapes (issue 12, contract §3b).

These tests hold the WRITER to the shapes the readers read: files and headers, Data Loader quoting, Stripe list
objects, and — for every record of every day — that each standard value is recoverable from its vendor form,
compared against the standard demo generated with the same arguments. The conversions are recomputed here
independently (datetime, Decimal), not through `tieout.demo.vendor_values`.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import SHARED, invoke, tree_digest
from tieout.demo import generate_world

SMALL = {"companies": 60, "days": 60}
VENDOR_FILES = ("ops/tenants.csv", "ops/usage.csv", "salesforce/Account.csv", "salesforce/Contract.csv",
                "stripe/customers.json", "stripe/invoices.json")
ACCOUNT_HEADER = '"ID","ISDELETED","MASTERRECORDID","NAME","WEBSITE","OWNERID","TAX_ID__C","LASTMODIFIEDDATE"'
CONTRACT_HEADER = ('"ID","ISDELETED","ACCOUNTID","STATUS","STARTDATE","ENDDATE","CURRENCYISOCODE",'
                   '"ANNUAL_VALUE__C","SEATS__C","LASTMODIFIEDDATE"')
# Contract §3b: Salesforce contract STATUS -> the standard status.
SALESFORCE_STATUS = {"Activated": "active", "Draft": "draft", "In Approval Process": "draft", "Expired": "expired",
                     "Cancelled": "cancelled", "Terminated": "cancelled"}
# The contract §3b example block, with the demo's encoding, plus the project's own keys.
EXPECTED_CONFIG = {
    "exports": "exports/{date}",
    "entity_map": "entity_map.csv",
    "sources": {
        "crm": {"format": "salesforce", "path": "salesforce", "encoding": "utf-8",
                "fields": {"crm_accounts.tax_id": "TAX_ID__C", "crm_contracts.annual_value": "ANNUAL_VALUE__C",
                           "crm_contracts.contracted_fte": "SEATS__C"}},
        "billing": {"format": "stripe", "path": "stripe"},
        "ops": {"format": "csv", "path": "ops", "tables": {
            "ops_tenants": {"file": "tenants.csv", "columns": {
                "tenant_id": "id", "display_name": "workspace", "domain": "primary_domain",
                "created_on": "created_at", "status": "state"}},
            "ops_usage": {"file": "usage.csv", "columns": {
                "tenant_id": "tenant_id", "date": "day", "active_users": "dau", "fte_count": "seats_in_use"}},
        }},
    },
}


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("standard")
    generate_world(root, **SMALL)
    return root


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vendor")
    generate_world(root, **SMALL, vendor=True)
    return root


def _days(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "exports").iterdir())


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _by(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    out = {r[key]: r for r in rows}
    assert len(out) == len(rows), f"duplicate {key}"
    return out


def _list_object(path: Path, url: str) -> list[dict]:
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert {k: obj[k] for k in ("object", "url", "has_more")} == {"object": "list", "url": url, "has_more": False}
    assert isinstance(obj["data"], list)
    return obj["data"]


def _midnight(day: str | date) -> int:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _instant(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _each_day(standard: Path, vendor: Path):
    for day in _days(standard):
        yield day, standard / "exports" / day, vendor / "exports" / day


def test_the_same_world_the_same_days_and_only_vendor_files(standard: Path, vendor: Path) -> None:
    for name in ("entity_map.csv", "planted.json", "natural_keys.json"):
        assert (vendor / name).read_bytes() == (standard / name).read_bytes(), name
    assert _days(vendor) == _days(standard) and len(_days(vendor)) == SMALL["days"]
    for day in _days(vendor):
        folder = vendor / "exports" / day
        assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == list(VENDOR_FILES)


def test_same_arguments_same_bytes(vendor: Path, tmp_path: Path) -> None:
    generate_world(tmp_path, **SMALL, vendor=True)
    assert tree_digest(tmp_path) == tree_digest(vendor)


def test_headers(vendor: Path) -> None:
    folder = vendor / "exports" / _days(vendor)[0]
    first = {name: (folder / name).read_bytes().split(b"\r\n", 1)[0].decode() for name in VENDOR_FILES
             if name.endswith(".csv")}
    assert first == {"salesforce/Account.csv": ACCOUNT_HEADER, "salesforce/Contract.csv": CONTRACT_HEADER,
                     "ops/tenants.csv": "id,workspace,primary_domain,created_at,state",
                     "ops/usage.csv": "tenant_id,day,dau,seats_in_use"}


@pytest.mark.parametrize("name", ["salesforce/Account.csv", "salesforce/Contract.csv"])
def test_data_loader_files_quote_every_cell_and_end_lines_with_crlf(vendor: Path, name: str) -> None:
    raw = (vendor / "exports" / _days(vendor)[-1] / name).read_bytes()
    text = raw.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert len(lines) > SMALL["companies"] // 2
    for line in lines:
        cells = next(csv.reader([line]))
        assert line == ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def test_accounts_carry_every_standard_value(standard: Path, vendor: Path) -> None:
    websites = set()
    for day, s, v in _each_day(standard, vendor):
        std = _by(_csv(s / "crm_accounts.csv"), "account_id")
        sf = _by(_csv(v / "salesforce" / "Account.csv"), "ID")
        assert list(sf) == list(std), day
        for account_id, a in sf.items():
            r = std[account_id]
            assert len(account_id) == 18
            assert (a["ISDELETED"], a["MASTERRECORDID"]) == ("false", "")
            assert (a["NAME"], a["OWNERID"], a["TAX_ID__C"]) == (r["legal_name"], r["owner"], r["tax_id"])
            host = urlsplit(a["WEBSITE"]).hostname or ""
            assert host.removeprefix("www.") == r["domain"], (day, account_id)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", a["LASTMODIFIEDDATE"])
            assert _instant(a["LASTMODIFIEDDATE"]) == _instant(r["updated_at"])
            websites.add(a["WEBSITE"].split("//")[0] + ("www" if "//www." in a["WEBSITE"] else ""))
    assert websites == {"https:www", "http:"}  # both URL forms occur


def test_salesforce_ids_are_distinct_in_their_15_character_form(vendor: Path) -> None:
    folder = vendor / "exports" / _days(vendor)[-1] / "salesforce"
    for name in ("Account.csv", "Contract.csv"):
        ids = [r["ID"] for r in _csv(folder / name)]
        assert len({i[:15] for i in ids}) == len(ids), name


def test_contracts_carry_every_standard_value(standard: Path, vendor: Path) -> None:
    spellings = set()
    for day, s, v in _each_day(standard, vendor):
        std = _by(_csv(s / "crm_contracts.csv"), "contract_id")
        sf = _by(_csv(v / "salesforce" / "Contract.csv"), "ID")
        assert list(sf) == list(std), day
        for contract_id, c in sf.items():
            r = std[contract_id]
            assert (c["ISDELETED"], c["ACCOUNTID"]) == ("false", r["account_id"])
            assert SALESFORCE_STATUS[c["STATUS"]] == r["status"].lower(), (day, contract_id)
            assert (c["STARTDATE"], c["ENDDATE"], c["CURRENCYISOCODE"], c["ANNUAL_VALUE__C"], c["SEATS__C"]) == (
                r["start_date"], r["end_date"], r["currency"], r["annual_value"], r["contracted_fte"])
            assert _instant(c["LASTMODIFIEDDATE"]) == _instant(r["updated_at"])
            spellings.add(c["STATUS"])
    assert {"Activated", "Draft", "In Approval Process", "Expired"} <= spellings


def test_invoices_in_minor_units_with_exclusive_periods(standard: Path, vendor: Path) -> None:
    checked = 0
    for day, s, v in _each_day(standard, vendor):
        std = _by(_csv(s / "billing_invoices.csv"), "invoice_id")
        invoices = _list_object(v / "stripe" / "invoices.json", "/v1/invoices")
        assert [i["id"] for i in invoices] == list(std), day
        for inv in invoices:
            r = std[inv["id"]]
            assert r["currency"] == "USD" and re.fullmatch(r"\d+\.\d\d", r["amount"])
            total = int(Decimal(r["amount"]) * 100)
            assert inv["total"] == total and isinstance(inv["total"], int)
            assert (inv["object"], inv["customer"], inv["status"], inv["currency"]) == (
                "invoice", r["customer_id"], r["status"], "usd")
            assert inv["created"] == _midnight(r["issued_on"] or r["period_start"])
            lines = inv["lines"]
            assert (lines["object"], lines["has_more"], len(lines["data"])) == ("list", False, 1)
            line = lines["data"][0]
            assert (line["object"], line["type"], line["amount"], line["currency"]) == (
                "line_item", "subscription", total, "usd")
            assert line["id"].startswith("il_")
            # int() of a fractional FTE would raise: no seat count was rounded
            assert line["quantity"] == (int(r["billed_fte"]) if r["billed_fte"] else None)
            assert line["period"] == {"start": _midnight(r["period_start"]),
                                      "end": _midnight(date.fromisoformat(r["period_end"]) + timedelta(days=1))}
            checked += 1
    assert checked > SMALL["companies"] * SMALL["days"]


def test_customers_carry_name_email_and_tax_id(standard: Path, vendor: Path) -> None:
    types = set()
    created: dict[str, int] = {}
    for day, s, v in _each_day(standard, vendor):
        std = _by(_csv(s / "billing_customers.csv"), "customer_id")
        customers = _list_object(v / "stripe" / "customers.json", "/v1/customers")
        assert [c["id"] for c in customers] == list(std), day
        for cus in customers:
            r = std[cus["id"]]
            assert (cus["object"], cus["name"], cus["email"], cus["metadata"]) == (
                "customer", r["name"] or None, r["email"] or None, {})
            assert isinstance(cus["created"], int)
            assert created.setdefault(cus["id"], cus["created"]) == cus["created"]  # created never moves
            assert cus["created"] <= _instant(r["updated_at"]).timestamp()
            tax_ids = cus["tax_ids"]
            assert (tax_ids["object"], tax_ids["has_more"]) == ("list", False)
            assert [t["value"] for t in tax_ids["data"]] == ([r["tax_id"]] if r["tax_id"] else [])
            for t in tax_ids["data"]:
                assert t["object"] == "tax_id" and t["id"].startswith("txi_")
                types.add(t["type"])
    assert {"us_ein", "gb_vat", "eu_vat"} <= types


def test_ops_tables_hold_the_standard_rows_under_their_own_names(standard: Path, vendor: Path) -> None:
    renames = {"tenants.csv": ("ops_tenants.csv", EXPECTED_CONFIG["sources"]["ops"]["tables"]["ops_tenants"]),
               "usage.csv": ("ops_usage.csv", EXPECTED_CONFIG["sources"]["ops"]["tables"]["ops_usage"])}
    for _, s, v in _each_day(standard, vendor):
        for name, (std_name, table) in renames.items():
            ops = [{std: row[own] for std, own in table["columns"].items()} for row in _csv(v / "ops" / name)]
            assert ops == _csv(s / std_name), name


def test_tieout_yml_is_the_contract_block(vendor: Path) -> None:
    text = (vendor / "tieout.yml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) == EXPECTED_CONFIG
    assert text.startswith("#")  # says what generated it


def test_tieout_yml_matches_the_contract_text(vendor: Path) -> None:
    contract = SHARED / "spec" / "contract.md"
    if not contract.is_file():
        pytest.skip(f"{contract} is absent (the shared spec is not checked out beside the repository)")
    section = contract.read_text(encoding="utf-8").split("## 3b.", 1)[1]
    block = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    block["sources"]["crm"]["encoding"] = "utf-8"
    ours = yaml.safe_load((vendor / "tieout.yml").read_text(encoding="utf-8"))
    assert ours == {**block, "entity_map": "entity_map.csv"}


def test_demo_vendor_refuses_a_folder_that_is_not_an_earlier_demo(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.md").write_text("mine\n")
    before = tree_digest(folder)

    result = invoke("demo", str(folder), "--vendor", "--companies", "60", "--days", "60")

    assert result.exit_code == 3, result.output
    assert "nothing changed" in result.output
    assert tree_digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_values_stripe_cannot_carry_are_refused_not_rounded() -> None:
    from tieout.demo.vendor_values import minor_units, seat_quantity

    assert (minor_units("1234.50", "USD"), minor_units("1500", "JPY"), minor_units("12.345", "KWD")) == (
        123450, 1500, 12345)
    with pytest.raises(ValueError, match="finer than"):
        minor_units("10.005", "USD")
    with pytest.raises(ValueError, match="finer than"):
        minor_units("1500.5", "JPY")
    with pytest.raises(ValueError, match="needs both"):
        minor_units("", "USD")
    assert (seat_quantity("12"), seat_quantity("12.0000"), seat_quantity("")) == (12, 12, None)
    with pytest.raises(ValueError, match="whole number"):
        seat_quantity("12.5")
