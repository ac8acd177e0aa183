"""The `chargebee` source (contract §3b): its CSV data export (Customers.csv, Invoices.csv, LineItems.csv) and
its API v2 objects as JSON read onto the standard billing tables — statuses mapped, minor units by the ISO
exponent, unix seconds (or ISO dates) as dates in the project's time zone, line-item dates whose date_to is
exclusive, plan-line seats — and every bad value refused by file, row (or object) and column (or field)."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import HEALTHY_DAY, SHARED, invoke, new_project
from tests.sources.chargebee_shape import (
    CUSTOMER_HEADER,
    INVOICE_HEADER,
    LINE_HEADER,
    as_chargebee,
    records,
    write_csv,
)
from tests.store_checks import store_content
from tieout.config import load_project
from tieout.errors import InputError
from tieout.sources.read import read_day

DAY = "2026-01-20"
CHARGEBEE = "sources:\n  billing:\n    format: chargebee\n"
REALDATA = SHARED / "realdata" / "chargebee"
BILLING = ("billing_customers", "billing_invoices")


def typed(root: Path, day: str = DAY) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(day))
    return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in BILLING}


def refusal(root: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        read_day(duckdb.connect(), load_project(root), date.fromisoformat(DAY))
    return caught.value


# --- the CSV export ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tz", ["UTC", "America/Chicago"])
def test_the_healthy_day_as_chargebee_csv_reads_as_the_standard_layout(tmp_path: Path, tz: str) -> None:
    standard = new_project(tmp_path / "standard", {DAY: {}}, f"timezone: {tz}\n")
    root = new_project(tmp_path / "chargebee", {DAY: {}}, f"timezone: {tz}\n" + CHARGEBEE)
    as_chargebee(root / "exports" / DAY, tz)
    assert typed(root) == typed(standard)


EXTRA_INVOICES = (
    "in_jpy,{c},2026-01-01,2026-01-31,2026-01-02,paid,1234567,JPY,12,2026-01-02T10:00:00Z\n"
    "in_kwd,{c},2026-01-01,2026-01-31,2026-01-02,open,1234.567,KWD,3,2026-01-02T10:00:00Z\n"
    "in_bhd,{c},2026-01-01,2026-01-31,2026-01-20,draft,0.005,BHD,,2026-01-02T10:00:00Z\n"
    "in_half,{c},2025-12-15,2026-01-14,2025-12-15,uncollectible,99.99,EUR,2.5,2026-01-02T10:00:00Z\n"
    "in_void,{c},2025-12-01,2025-12-31,2025-12-01,void,-10.00,GBP,1,2026-01-02T10:00:00Z\n"
)
RATES = "fx_rates: {JPY: 0.0067, KWD: 3.25, BHD: 2.65, EUR: 1.08, GBP: 1.27}\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tieout.demo import generate_world

    root = tmp_path_factory.mktemp("world")
    generate_world(root, companies=60, days=60)
    return root


@pytest.mark.parametrize("day", ["2026-01-01", "2026-02-15"])
def test_a_generated_world_as_chargebee_csv_reads_as_the_standard_layout(world: Path, tmp_path: Path,
                                                                         day: str) -> None:
    roots = {}
    for shape in ("standard", "chargebee"):
        root = tmp_path / shape
        shutil.copytree(world / "exports" / day, root / "exports" / day)
        (root / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\ntimezone: "
                                         "Australia/Sydney\n" + RATES + (CHARGEBEE if shape == "chargebee" else ""))
        shutil.copy(world / "entity_map.csv", root)
        invoices = root / "exports" / day / "billing_invoices.csv"
        customer = records(invoices.read_text())[0]["customer_id"]
        with invoices.open("a", newline="") as f:
            f.write(EXTRA_INVOICES.format(c=customer).replace("\n", "\r\n"))  # CRLF, as the world writes
        roots[shape] = root
    as_chargebee(roots["chargebee"] / "exports" / day, "Australia/Sydney")
    got = typed(roots["chargebee"], day)
    assert got == typed(roots["standard"], day)
    amounts = {r[0]: (r[6], r[7], r[8]) for r in got["billing_invoices"] if r[0] in ("in_jpy", "in_kwd", "in_half")}
    assert amounts == {"in_jpy": (Decimal("1234567"), "JPY", Decimal(12)),
                       "in_kwd": (Decimal("1234.567"), "KWD", Decimal(3)),
                       "in_half": (Decimal("99.99"), "EUR", Decimal("2.5"))}


def test_a_customer_without_a_company_is_named_by_first_and_last_name(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
    out = as_chargebee(root / "exports" / DAY)
    rows = records((out / "Customers.csv").read_text())
    rows[0].update({"customers.company": " ", "customers.first_name": "Ana", "customers.last_name": "Lima"})
    write_csv(out / "Customers.csv", CUSTOMER_HEADER, rows)
    assert typed(root)["billing_customers"][0][1] == "Ana Lima"


def test_a_chargebee_day_reconciles_like_the_standard_one(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
    as_chargebee(root / "exports" / DAY)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    assert json.loads(invoke("exceptions", "-p", str(root), "--format", "json").output) == []


def _broken(tmp_path: Path, file: str, change: dict[str, str], row: int = 0) -> tuple[Path, InputError]:
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
    out = as_chargebee(root / "exports" / DAY)
    header = {"Invoices.csv": INVOICE_HEADER, "LineItems.csv": LINE_HEADER, "Customers.csv": CUSTOMER_HEADER}[file]
    rows = records((out / file).read_text())
    rows[row].update(change)
    write_csv(out / file, header, rows)
    return out, refusal(root)


TIME = "unix seconds such as 1767225600, or an ISO 8601 date or date and time"


@pytest.mark.parametrize(("file", "change", "row", "message"), [
    ("Invoices.csv", {"invoices.date": "18/09/2020"}, 0,
     f"Invoices.csv, row 2, column 'invoices.date': '18/09/2020' is not {TIME} (read as billing_invoices.issued_on)"),
    ("Invoices.csv", {"invoices.date": "2026-02-30"}, 0,
     f"Invoices.csv, row 2, column 'invoices.date': '2026-02-30' is not {TIME} (read as billing_invoices.issued_on)"),
    ("Invoices.csv", {"invoices.total": "100.00"}, 0,
     "Invoices.csv, row 2, column 'invoices.total': '100.00' is not a whole number of the currency's minor unit "
     "(cents), such as 123450 (read as billing_invoices.amount)"),
    ("Invoices.csv", {"invoices.status": "refunded"}, 0,
     "Invoices.csv, row 2, column 'invoices.status': 'refunded' is not one of paid, posted, payment_due, not_paid, "
     "voided, pending (map another under the table's `statuses:`) (read as billing_invoices.status)"),
    ("Invoices.csv", {"invoices.currency_code": "US$"}, 0,
     "Invoices.csv, row 2, column 'invoices.currency_code': 'US$': expected a 3-letter currency code such as USD"),
    ("Invoices.csv", {"invoices.currency_code": "XTS"}, 0,
     f"Invoices.csv, row 2, column 'invoices.currency_code': 'XTS': no rate into the reporting currency USD for {DAY} "
     "(add it to tieout.yml, e.g. fx_rates: {XTS: 1.08})"),
    ("Invoices.csv", {"invoices.updated_at": "yesterday"}, 0,
     f"Invoices.csv, row 2, column 'invoices.updated_at': 'yesterday' is not {TIME} (read as "
     "billing_invoices.updated_at)"),
    ("LineItems.csv", {"line_items.date_to": "1767225000", "line_items.date_from": "1767225600"}, 1,
     f"LineItems.csv, row 3, column 'line_items.date_to': '1767225000' is not {TIME}, not before its line's "
     "date_from (date_to is exclusive) (read for billing_invoices)"),
    ("LineItems.csv", {"line_items.date_from": "soon"}, 1,
     f"LineItems.csv, row 3, column 'line_items.date_from': 'soon' is not {TIME} (read for billing_invoices)"),
    ("LineItems.csv", {"line_items.quantity": "fifty"}, 0,
     "LineItems.csv, row 2, column 'line_items.quantity': 'fifty' is not a number of seats that is not negative, "
     "such as 12 (at most 4 decimals) on a plan line (read for billing_invoices)"),
    ("LineItems.csv", {"line_items.quantity": "fifty"}, 1, None),  # an addon's quantity is not read
], ids=["date-dmy", "date-not-a-day", "total-decimal", "status", "currency-symbol", "currency-no-rate",
        "updated-at", "date-to-before-from", "date-from", "quantity", "addon-quantity"])
def test_a_bad_csv_value_is_refused_with_its_file_row_and_column(tmp_path: Path, file: str, change: dict[str, str],
                                                                 row: int, message: str | None) -> None:
    if message is None:
        root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
        out = as_chargebee(root / "exports" / DAY)
        rows = records((out / file).read_text())
        rows[row].update(change)
        write_csv(out / file, LINE_HEADER, rows)
        assert typed(root)["billing_invoices"][0][8] == Decimal(50)
        return
    out, error = _broken(tmp_path, file, change, row)
    assert str(error) == f"{out}/{message}"


def test_a_computed_value_the_standard_checks_refuse_is_shown_as_computed(tmp_path: Path) -> None:
    """Two plan lines of 14-digit seat counts add up to more digits than the standard layout holds."""
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
    out = as_chargebee(root / "exports" / DAY)
    rows = records((out / "LineItems.csv").read_text())
    rows[1].update({"line_items.entity_type": "plan", "line_items.quantity": "99999999999999"})
    rows[0]["line_items.quantity"] = "99999999999999"
    write_csv(out / "LineItems.csv", LINE_HEADER, rows)
    assert str(refusal(root)) == (
        f"{out}/Invoices.csv, row 2, column \"billed_fte (the sum of its plan lines' quantities)\": "
        "'199999999999998.0000' is not a number that is not negative, such as 12 or 12.5 (digits and one point, "
        "at most 4 decimals)")


def test_an_invoice_without_line_items_is_refused(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
    out = as_chargebee(root / "exports" / DAY)
    rows = records((out / "LineItems.csv").read_text())
    write_csv(out / "LineItems.csv", LINE_HEADER, [{**r, "line_items.invoice_id": "in_other"} for r in rows])
    assert str(refusal(root)) == (
        f"{out}/Invoices.csv, row 2, column 'invoices.id': 'in_1' is not an invoice with line items in the line "
        "items file (LineItems.csv: its service period is read from them) (read as billing_invoices.period_start)")


def test_missing_files_and_columns_are_named(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
    out = as_chargebee(root / "exports" / DAY)
    lines = (out / "LineItems.csv").read_text()
    (out / "LineItems.csv").unlink()
    assert str(refusal(root)) == f"{out}/LineItems.csv: file is missing"
    (out / "LineItems.csv").write_text(lines.replace("line_items.date_to", "Line_Items.Date_To", 1))
    assert str(refusal(root)) == (
        f"{out}/LineItems.csv, row 1, column 'Line_Items.Date_To': missing column 'line_items.date_to' (read for "
        "billing_invoices) (expected columns: line_items.invoice_id, line_items.entity_type, line_items.date_from, "
        "line_items.date_to, line_items.quantity) — is 'Line_Items.Date_To' this column renamed?")
    (out / "LineItems.csv").write_text(lines)
    invoices = (out / "Invoices.csv").read_text()
    (out / "Invoices.csv").write_text(invoices.replace("invoices.currency_code", "invoices.currency", 1))
    assert str(refusal(root)).startswith(
        f"{out}/Invoices.csv, row 1, column 'invoices.currency': missing column 'invoices.currency_code' (read as "
        "billing_invoices.amount; map another with sources.billing.fields)")
    (out / "Invoices.csv").unlink()
    (out / "Customers.csv").unlink()
    assert str(refusal(root)) == (f"2 problems in the exports:\n  - {out}/Customers.csv: file is missing\n"
                                  f"  - {out}/Invoices.csv: file is missing")


def test_a_refused_run_writes_nothing(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {DAY: {}, "2026-01-21": {}}, CHARGEBEE)
    for day in (DAY, "2026-01-21"):
        as_chargebee(root / "exports" / day)
    assert invoke("run", "-p", str(root), "--as-of", DAY).exit_code == 0
    before = store_content(root)
    invoices = root / "exports" / "2026-01-21" / "chargebee" / "Invoices.csv"
    invoices.write_text(invoices.read_text().replace(",paid,", ",refunded,"))
    result = invoke("run", "-p", str(root), "--as-of", "2026-01-21")
    assert result.exit_code == 4
    assert "column 'invoices.status': 'refunded' is not one of paid" in result.output
    assert store_content(root) == before


# --- the API's JSON: Chargebee's own objects ---------------------------------------------------------------------

def _realdata(name: str) -> dict[str, object]:
    if not (REALDATA / name).is_file():
        pytest.skip(f"../shared/realdata/chargebee/{name} is absent: Chargebee's API objects (bonusly/mock_chargebee) "
                    "are read in place, never copied into the repository")
    return json.loads((REALDATA / name).read_text(encoding="utf-8"))


def _json_project(tmp_path: Path, customers: str, invoices: str, yml: str = "") -> Path:
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE + yml)
    folder = root / "exports" / DAY
    for name in ("billing_customers.csv", "billing_invoices.csv"):
        (folder / name).unlink()
    (folder / "chargebee").mkdir()
    (folder / "chargebee" / customers.split(":")[0]).write_text(customers.split(":", 1)[1])
    (folder / "chargebee" / invoices.split(":")[0]).write_text(invoices.split(":", 1)[1])
    return root


def _lines(*objects: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


REAL_CUSTOMERS = [  # by id
    ("169yKyRvVEpMaX5Y", "Chargebee", "michael@chargebee.com", None, datetime(2020, 4, 7, 20, 32, 15)),
    ("16CHTnSAxXWqMAg8", "Test Company with Plan", None, None, datetime(2020, 9, 18, 16, 49, 57)),
    ("3Nl7oGgQqGFprj9", "Benjamin Ross", "Benjamin@test.com", None, datetime(2012, 6, 30, 19, 40, 25)),
    ("__test__KyVnHhSBWl7eY2bl", "John Doe", "john@test.com", None, datetime(2018, 2, 1, 17, 22, 11)),
]


def test_chargebees_own_webhook_events_and_objects_read_as_chargebee_says(tmp_path: Path) -> None:
    """JSON Lines of the real objects: a bare customer and webhook events, each holding its record in
    `content`; an event without the table's object (invoice_generated for customers) is not a record."""
    customers = _lines(*(_realdata(n) for n in ("customer.json", "customer_changed.json", "subscription_renewed.json",
                                                "subscription_activated.json", "invoice_generated.json")))
    invoices = _lines(*(_realdata(n) for n in ("invoice_updated.json", "subscription_activated.json",
                                               "subscription_renewed.json", "customer_created.json")))
    got = typed(_json_project(tmp_path, "customers.jsonl:" + customers, "invoices.jsonl:" + invoices))
    assert got["billing_customers"] == REAL_CUSTOMERS
    assert got["billing_invoices"] == [
        # subscription_activated: a plan line (quantity 1) and an addon, 2012-08-07T19:40:24Z to the same time a
        # month later, exclusive; total 995 USD cents
        ("1", "3Nl7oGgQqGFprj9", date(2012, 8, 7), date(2012, 9, 7), date(2012, 8, 7), "paid", Decimal("9.95"),
         "USD", Decimal(1), datetime(2012, 8, 7, 19, 40, 25)),
        # invoice_updated: payment_due; one addon line whose date_from = date_to (a one-off charge): no seats
        ("19", "16CHTpRzjKx2O7mo", date(2020, 9, 18), date(2020, 9, 18), date(2020, 9, 18), "open",
         Decimal("5000.00"), "USD", None, datetime(2020, 10, 18, 14, 46, 59)),
        # subscription_renewed: a pending (draft) invoice of 5 seats of pro-monthly
        ("draft_inv_16BgPKSClXofl2Eic", "169yKyRvVEpMaX5Y", date(2020, 10, 7), date(2020, 11, 7), date(2020, 10, 7),
         "draft", Decimal("25.00"), "USD", Decimal(5), datetime(2020, 10, 7, 20, 32, 17)),
    ]


def test_a_list_response_of_real_objects_in_another_time_zone(tmp_path: Path) -> None:
    """Chargebee's list response wraps each record: {"list": [{"customer": {...}}, ...], "next_offset": ...}."""
    customer = _realdata("customer.json")
    invoice = _realdata("subscription_activated.json")["content"]["invoice"]  # type: ignore[index]
    root = _json_project(tmp_path, "customers.json:" + json.dumps({"list": [{"customer": customer}],
                                                                    "next_offset": None}),
                         "invoices_1.json:" + json.dumps({"list": [{"invoice": invoice}]}), "timezone: Asia/Tokyo\n")
    got = typed(root)
    assert got["billing_customers"] == [REAL_CUSTOMERS[3]]
    # 2012-08-07T19:40:24Z is 2012-08-08 in Tokyo; the term ends 2012-09-08 04:40:24 there, exclusive
    assert got["billing_invoices"][0][2:5] == (date(2012, 8, 8), date(2012, 9, 8), date(2012, 8, 8))


@pytest.mark.parametrize(("change", "message"), [
    ({"line_items_next_offset": "li_42"},
     "field 'line_items_next_offset': 'li_42' is not absent (the invoice's line items continue on another page, "
     "so its period and seats would be wrong: export invoices with all their line items) (read as "
     "billing_invoices.period_start)"),
    ({"status": "refunded"},
     "field 'status': 'refunded' is not one of paid, posted, payment_due, not_paid, voided, pending (map another "
     "under the table's `statuses:`) (read as billing_invoices.status)"),
    ({"date": "2012-08-07T19:40:24+25:00"},
     f"field 'date': '2012-08-07T19:40:24+25:00' is not {TIME} (read as billing_invoices.issued_on)"),
    ({"total": 9.95}, "field 'total': '9.95' is not a whole number of the currency's minor unit (cents), such as "
                      "123450 (read as billing_invoices.amount)"),
    ({"line_items": []}, "field 'line_items': '[]' is not a list of line items with their dates (date_from, date_to) "
                         "(read as billing_invoices.period_start)"),
])
def test_a_bad_json_value_is_refused_with_its_object_and_field(tmp_path: Path, change: dict[str, object],
                                                               message: str) -> None:
    invoice = dict(_realdata("subscription_activated.json")["content"]["invoice"])  # type: ignore[index]
    invoice.update(change)
    root = _json_project(tmp_path, "customers.json:" + json.dumps([_realdata("customer.json")]),
                         "invoices.json:" + json.dumps({"list": [{"invoice": invoice}]}))
    assert str(refusal(root)) == f"{root}/exports/{DAY}/chargebee/invoices.json, object 0 (1), {message}"


def test_a_bad_json_line_item_is_named_by_its_index(tmp_path: Path) -> None:
    invoice = json.loads(json.dumps(_realdata("subscription_activated.json")["content"]["invoice"]))  # type: ignore[index]
    invoice["line_items"][1]["date_to"] = invoice["line_items"][1]["date_from"] - 60
    invoice["line_items"][0]["quantity_in_decimal"] = "1.00005"
    root = _json_project(tmp_path, "customers.json:" + json.dumps([_realdata("customer.json")]),
                         "invoices.json:" + json.dumps([invoice]))
    assert str(refusal(root)) == (
        f"{root}/exports/{DAY}/chargebee/invoices.json, object 0 (1), field 'line_items[1].date_to': '1344368364' is "
        "not at or after its line's date_from 1344368424 (date_to is exclusive) (read as billing_invoices.period_end)")
    invoice["line_items"][1]["date_to"] = invoice["line_items"][1]["date_from"]
    (root / "exports" / DAY / "chargebee" / "invoices.json").write_text(json.dumps([invoice]))
    assert str(refusal(root)) == (
        f"{root}/exports/{DAY}/chargebee/invoices.json, object 0 (1), field 'line_items[0].quantity_in_decimal': "
        "'1.00005' is not a number of seats that is not negative, such as 12 (at most 4 decimals) (read as "
        "billing_invoices.billed_fte)")


def test_deleted_customers_are_not_live_records(tmp_path: Path) -> None:
    customer = _realdata("customer.json")
    gone = {**customer, "id": "cus_gone", "deleted": True}
    root = _json_project(tmp_path, "customers.json:" + json.dumps([customer, gone]),
                         "invoices.json:" + json.dumps([_realdata("invoice_updated.json")]))
    assert [r[0] for r in typed(root)["billing_customers"]] == ["__test__KyVnHhSBWl7eY2bl"]


def test_the_healthy_customer_in_the_csv_and_the_json_shape_agree(tmp_path: Path) -> None:
    """Per table, the shape is the one whose files are there: customers from JSON, invoices from CSV."""
    root = new_project(tmp_path / "p", {DAY: {}}, CHARGEBEE)
    out = as_chargebee(root / "exports" / DAY)
    before = typed(root)["billing_customers"]
    (out / "Customers.csv").unlink()
    r = records(HEALTHY_DAY["billing_customers.csv"])[0]
    (out / "customers.json").write_text(json.dumps({"list": [{"customer": {
        "id": r["customer_id"], "company": r["name"], "email": r["email"], "vat_number": r["tax_id"],
        "updated_at": int(datetime.fromisoformat(r["updated_at"]).timestamp()), "object": "customer",
        "deleted": False}}]}))
    assert typed(root)["billing_customers"] == before


def test_a_tables_file_picks_the_shape_and_statuses_map_more_words(tmp_path: Path) -> None:
    invoice = dict(_realdata("subscription_activated.json")["content"]["invoice"])  # type: ignore[index]
    invoice["status"] = "written_off"
    yml = ("    tables:\n      billing_invoices:\n        file: export-*.jsonl\n"
           "        statuses: {written_off: uncollectible}\n")
    root = _json_project(tmp_path, "customers.json:" + json.dumps([_realdata("customer.json")]),
                         "export-1.jsonl:" + _lines({"invoice": invoice}), yml)
    assert typed(root)["billing_invoices"][0][5] == "uncollectible"


def test_a_record_with_a_list_field_is_no_list_response(tmp_path: Path) -> None:
    """Only an object of `list` (and `next_offset`) alone is Chargebee's list response."""
    customer = {**_realdata("customer.json"), "list": [{"customer": {"id": "not_me"}}]}
    root = _json_project(tmp_path, "customers.jsonl:" + _lines(customer),
                         "invoices.json:" + json.dumps([_realdata("invoice_updated.json")]))
    assert [r[0] for r in typed(root)["billing_customers"]] == ["__test__KyVnHhSBWl7eY2bl"]
