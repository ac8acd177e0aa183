"""The `stripe` source (contract §3b): API list objects read onto the standard billing tables — minor units by
Stripe's currency exponents, unix seconds as dates in the project's time zone, line-item periods whose end is
exclusive, seat quantities, tax ids — and every bad value refused by file, object and field."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.conftest import HEALTHY_DAY, SHARED, invoke, new_project, write_day
from tests.store_checks import store_content
from tieout.config import load_project
from tieout.errors import InputError
from tieout.sources.read import read_day

DAY = "2026-01-20"
STRIPE = "sources:\n  billing:\n    format: stripe\n"
FIXTURES = SHARED / "realdata" / "stripe" / "stripe_fixtures3_subset.json"
# Stripe's own exponents, written out here rather than imported: the test states what Stripe documents.
EXPONENT = {**dict.fromkeys(("JPY", "KRW", "VND", "CLP"), 0), **dict.fromkeys(("KWD", "BHD", "JOD", "OMR", "TND"), 3)}
BILLING = ("billing_customers", "billing_invoices")


# --- rendering the standard layout as Stripe hands it out ---------------------------------------------------

def _unix(day: str | date, tz: str, at: time = time(0)) -> int:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return int(datetime.combine(d, at, ZoneInfo(tz)).timestamp())


def stripe_customer(r: dict[str, str]) -> dict[str, object]:
    tax_ids = [{"id": "txi_" + r["customer_id"], "object": "tax_id", "type": "eu_vat", "value": r["tax_id"]}]
    return {"id": r["customer_id"], "object": "customer", "name": r["name"] or None, "email": r["email"] or None,
            "created": 1735689600, "metadata": {},
            "tax_ids": {"object": "list", "data": tax_ids if r["tax_id"] else [], "has_more": False}}


def minor(amount: str, currency: str) -> int:
    scaled = Decimal(amount).scaleb(EXPONENT.get(currency.upper(), 2))
    assert scaled == scaled.to_integral_value(), (amount, currency)
    return int(scaled)


def stripe_invoice(r: dict[str, str], tz: str = "UTC") -> dict[str, object]:
    """One subscription line carrying the amount; its period ends exclusively at the next local midnight."""
    seats: dict[str, object] = {"quantity": None}
    if r["billed_fte"]:
        whole = Decimal(r["billed_fte"]) == Decimal(r["billed_fte"]).to_integral_value()
        seats = {"quantity": int(Decimal(r["billed_fte"]))} if whole else {"quantity": None,
                                                                          "quantity_decimal": r["billed_fte"]}
    total = minor(r["amount"], r["currency"])
    line = {"id": "il_" + r["invoice_id"], "object": "line_item", "type": "subscription", **seats, "amount": total,
            "currency": r["currency"].lower(),
            "period": {"start": _unix(r["period_start"], tz),
                       "end": _unix(date.fromisoformat(r["period_end"]) + timedelta(days=1), tz)}}
    return {"id": r["invoice_id"], "object": "invoice", "customer": r["customer_id"], "status": r["status"].lower(),
            "currency": r["currency"].lower(), "total": total,
            "created": _unix(r["issued_on"] or r["period_start"], tz, time(9, 30)),
            "lines": {"object": "list", "has_more": False, "data": [line]}}


def list_object(objects: list[dict[str, object]], url: str = "/v1/invoices") -> str:
    return json.dumps({"object": "list", "url": url, "has_more": False, "data": objects}, indent=1)


def records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def as_stripe(folder: Path, tz: str = "UTC") -> None:
    """Replace a day folder's standard billing files by Stripe's list objects."""
    (folder / "stripe").mkdir(exist_ok=True)
    customers = records((folder / "billing_customers.csv").read_text(encoding="utf-8"))
    invoices = records((folder / "billing_invoices.csv").read_text(encoding="utf-8"))
    (folder / "stripe" / "customers.json").write_text(list_object([stripe_customer(r) for r in customers],
                                                                  "/v1/customers"), encoding="utf-8")
    (folder / "stripe" / "invoices.json").write_text(list_object([stripe_invoice(r, tz) for r in invoices]),
                                                     encoding="utf-8")
    (folder / "billing_customers.csv").unlink()
    (folder / "billing_invoices.csv").unlink()


def typed(root: Path, day: str = DAY) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(day))
    # Stripe objects have no time of last change: updated_at is left empty.
    return {t: con.sql(f"SELECT * EXCLUDE (updated_at) FROM {t} ORDER BY ALL").fetchall() for t in BILLING}


def refusal(root: Path, day: str = DAY) -> InputError:
    with pytest.raises(InputError) as caught:
        read_day(duckdb.connect(), load_project(root), date.fromisoformat(day))
    return caught.value


def stripe_project(tmp_path: Path, customers: list[dict[str, object]], invoices: list[dict[str, object]],
                   yml: str = "") -> Path:
    root = new_project(tmp_path / "stripe", {DAY: {}}, STRIPE + yml)
    folder = root / "exports" / DAY
    for name in ("billing_customers.csv", "billing_invoices.csv"):
        (folder / name).unlink()
    (folder / "stripe").mkdir()
    (folder / "stripe" / "customers.json").write_text(list_object(customers, "/v1/customers"))
    (folder / "stripe" / "invoices.json").write_text(list_object(invoices))
    return root


def healthy_invoice(**changes: object) -> dict[str, object]:
    invoice = stripe_invoice(records(HEALTHY_DAY["billing_invoices.csv"])[0])
    invoice.update(changes)
    return invoice


def healthy_customer(**changes: object) -> dict[str, object]:
    customer = stripe_customer(records(HEALTHY_DAY["billing_customers.csv"])[0])
    customer.update(changes)
    return customer


def with_line(invoice: dict[str, object], **changes: object) -> dict[str, object]:
    lines = json.loads(json.dumps(invoice["lines"]))
    lines["data"][0].update(changes)
    return {**invoice, "lines": lines}


# --- the healthy day and a generated world read as the standard layout does ---------------------------------

@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_the_healthy_day_in_stripe_shape_reads_as_the_standard_layout(tmp_path: Path, tz: str) -> None:
    zone = f"timezone: {tz}\n"
    standard = new_project(tmp_path / "standard", {DAY: {}}, zone)
    root = new_project(tmp_path / "stripe", {DAY: {}}, zone + STRIPE)
    as_stripe(root / "exports" / DAY, tz)
    assert typed(root) == typed(standard)


# Invoices the generated world lacks: zero- and three-decimal currencies, a fractional seat count (Stripe's
# quantity_decimal), every status.
EXTRA_INVOICES = (
    "in_jpy,{c},2026-01-01,2026-01-31,2026-01-02,paid,1234567,JPY,12,\n"
    "in_kwd,{c},2026-01-01,2026-01-31,2026-01-02,open,1234.567,KWD,3,\n"
    "in_bhd,{c},2026-01-01,2026-01-31,2026-01-20,draft,0.005,BHD,,\n"
    "in_half,{c},2025-12-15,2026-01-14,2025-12-15,uncollectible,99.99,EUR,2.5,\n"
    "in_void,{c},2025-12-01,2025-12-31,2025-12-01,void,-10.00,GBP,1,\n"
)
RATES = "fx_rates: {JPY: 0.0067, KWD: 3.25, BHD: 2.65, EUR: 1.08, GBP: 1.27}\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tieout.demo import generate_world

    root = tmp_path_factory.mktemp("world")
    generate_world(root, companies=60, days=60)
    return root


@pytest.mark.parametrize("day", ["2026-01-01", "2026-01-31", "2026-03-01"])
def test_a_generated_world_in_stripe_shape_reads_as_the_standard_layout(world: Path, tmp_path: Path,
                                                                        day: str) -> None:
    roots = {}
    for shape in ("standard", "stripe"):
        root = tmp_path / shape
        shutil.copytree(world / "exports" / day, root / "exports" / day)
        (root / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\ntimezone: "
                                         "Europe/Berlin\n" + RATES + (STRIPE if shape == "stripe" else ""))
        shutil.copy(world / "entity_map.csv", root)
        invoices = root / "exports" / day / "billing_invoices.csv"
        customer = records(invoices.read_text())[0]["customer_id"]
        with invoices.open("a", newline="") as f:
            f.write(EXTRA_INVOICES.format(c=customer).replace("\n", "\r\n"))  # CRLF, as the world writes
        roots[shape] = root
    as_stripe(roots["stripe"] / "exports" / day, "Europe/Berlin")
    standard, stripe = typed(roots["standard"], day), typed(roots["stripe"], day)
    assert stripe == standard
    amounts = {r[0]: (r[6], r[7], r[8]) for r in stripe["billing_invoices"] if r[0] in ("in_jpy", "in_kwd", "in_half")}
    assert amounts == {"in_jpy": (Decimal("1234567"), "JPY", Decimal(12)),
                       "in_kwd": (Decimal("1234.567"), "KWD", Decimal(3)),
                       "in_half": (Decimal("99.99"), "EUR", Decimal("2.5"))}


def test_zero_and_three_decimal_amounts_are_exact(tmp_path: Path) -> None:
    invoices = [healthy_invoice(id="in_jpy", currency="jpy", total=1234567),
                healthy_invoice(id="in_kwd", currency="kwd", total=1234567),
                healthy_invoice(id="in_usd", currency="usd", total=1234567),
                healthy_invoice(id="in_isk", currency="isk", total=1234500)]  # Stripe keeps ISK two-decimal
    root = stripe_project(tmp_path, [healthy_customer()], invoices, "fx_rates: {JPY: 0.0067, KWD: 3.25, ISK: 0.0072}\n")
    got = {r[0]: (r[6], r[7]) for r in typed(root)["billing_invoices"]}
    assert got == {"in_jpy": (Decimal("1234567"), "JPY"), "in_kwd": (Decimal("1234.567"), "KWD"),
                   "in_usd": (Decimal("12345.67"), "USD"), "in_isk": (Decimal("12345.00"), "ISK")}


# --- Stripe's real fixtures ------------------------------------------------------------------------------------

def _fixtures() -> dict[str, dict[str, object]]:
    if not FIXTURES.is_file():
        pytest.skip(f"../shared/realdata/stripe/{FIXTURES.name} is absent: Stripe's API fixtures (stripe/openapi) "
                    "are read in place, never copied into the repository")
    return json.loads(FIXTURES.read_text(encoding="utf-8"))["resources"]


@pytest.mark.parametrize(("tz", "service_day"), [("UTC", date(2024, 7, 26)), ("America/Los_Angeles",
                                                                              date(2024, 7, 25))])
def test_stripes_own_fixture_objects_read_as_stripe_says(tmp_path: Path, tz: str, service_day: date) -> None:
    """customer, invoice (with its real line list) and tax_id as Stripe's API mock serves them: the tax id is a
    separate object (tax_ids.json), the one line is a one-off invoice item whose period is one instant."""
    fixtures = _fixtures()
    root = stripe_project(tmp_path, [fixtures["customer"]], [fixtures["invoice"]], f"timezone: {tz}\n")
    (root / "exports" / DAY / "stripe" / "tax_ids.json").write_text(list_object([fixtures["tax_id"]], "/v1/tax_ids"))
    got = typed(root)
    assert got["billing_customers"] == [("cus_QXg1o8vcGmoR32", None, None, "DE123456789")]
    # total 1000 usd cents; lines.data[0].period start = end = 1721954054 (2024-07-26T00:34:14Z); created
    # 1234567890 (2009-02-13T23:31:30Z); its line is an invoice item (parent.type invoice_item_details): no seats.
    assert got["billing_invoices"] == [("in_1Pgc6tB7WZ01zgkWu9fdqL6I", "cus_QXg1o8vcGmoR32", service_day, service_day,
                                        date(2009, 2, 13), "draft", Decimal("10.00"), "USD", None)]


def test_a_fixture_invoice_with_subscription_lines_of_the_current_api_counts_their_seats(tmp_path: Path) -> None:
    """Since API version 2025-03-31 a line has no `type`: a subscription line says parent.type
    subscription_item_details."""
    fixtures = _fixtures()
    invoice = json.loads(json.dumps(fixtures["invoice"]))
    line = json.loads(json.dumps(fixtures["line_item"]))
    line["parent"]["type"] = "subscription_item_details"
    line["quantity"] = 7
    invoice["lines"]["data"].append(line)
    root = stripe_project(tmp_path, [fixtures["customer"]], [invoice])
    assert typed(root)["billing_invoices"][0][8] == Decimal(7)


# --- what the reader accepts -----------------------------------------------------------------------------------

def test_pages_and_json_lines_of_one_object_type_are_one_table(tmp_path: Path) -> None:
    customers = [healthy_customer(id=f"cus_{i}") for i in range(5)]
    root = stripe_project(tmp_path, customers, [healthy_invoice()])
    folder = root / "exports" / DAY / "stripe"
    (folder / "customers.json").unlink()
    (folder / "customers_1.json").write_text(list_object(customers[:3], "/v1/customers"))
    (folder / "customers_2.jsonl").write_text("".join(json.dumps(c) + "\n" for c in customers[3:]))
    # the first pattern found wins: the .json pages; the JSON Lines page is another pattern
    assert [r[0] for r in typed(root)["billing_customers"]] == ["cus_0", "cus_1", "cus_2"]
    (folder / "customers_2.json").write_text(json.dumps(customers[3:]))
    (folder / "customers_2.jsonl").unlink()
    assert [r[0] for r in typed(root)["billing_customers"]] == [f"cus_{i}" for i in range(5)]
    for page in folder.glob("customers_*"):
        page.unlink()
    (folder / "customers.jsonl").write_text("".join(json.dumps(c) + "\n" for c in customers))
    assert len(typed(root)["billing_customers"]) == 5


def test_the_service_period_spans_every_line_and_ends_the_second_before_the_exclusive_end(tmp_path: Path) -> None:
    tz = "America/New_York"
    invoice = healthy_invoice()
    first = invoice["lines"]["data"][0]  # type: ignore[index]
    lines = [
        {**first, "period": {"start": _unix("2026-01-01", tz), "end": _unix("2026-02-01", tz)}, "quantity": 40},
        {**first, "id": "il_2", "period": {"start": _unix("2026-01-15", tz), "end": _unix("2026-02-15", tz)},
         "quantity": 10},
        {**first, "id": "il_3", "type": "invoiceitem", "quantity": 99,  # not seats
         "period": {"start": _unix("2025-12-20", tz, time(13)), "end": _unix("2025-12-20", tz, time(13))}},
    ]
    invoice = {**invoice, "lines": {"object": "list", "has_more": False, "data": lines},
               "status_transitions": {"finalized_at": _unix("2026-01-03", tz, time(8)), "paid_at": None}}
    root = stripe_project(tmp_path, [healthy_customer()], [invoice], f"timezone: {tz}\n")
    (_, _, start, end, issued, *_rest, seats), = typed(root)["billing_invoices"]
    assert (start, end, issued, seats) == (date(2025, 12, 20), date(2026, 2, 14), date(2026, 1, 3), Decimal(50))


def test_an_invoice_without_lines_is_read_by_its_own_period(tmp_path: Path) -> None:
    invoice = healthy_invoice(lines={"object": "list", "has_more": False, "data": []},
                              period_start=_unix("2026-01-05", "UTC"), period_end=_unix("2026-01-05", "UTC"))
    root = stripe_project(tmp_path, [healthy_customer()], [invoice])
    (row,) = typed(root)["billing_invoices"]
    assert row[2:4] == (date(2026, 1, 5), date(2026, 1, 5)) and row[8] is None


def test_expanded_customers_deleted_customers_and_tax_ids_listed_apart(tmp_path: Path) -> None:
    customer = healthy_customer(tax_ids={"object": "list", "data": [], "has_more": False})
    gone = {"id": "cus_gone", "object": "customer", "deleted": True}
    invoice = healthy_invoice(customer=customer)
    root = stripe_project(tmp_path, [customer, gone], [invoice])
    (root / "exports" / DAY / "stripe" / "tax_ids.jsonl").write_text(
        json.dumps({"id": "txi_2", "object": "tax_id", "customer": "cus_other", "value": "NOT-THIS"}) + "\n"
        + json.dumps({"id": "txi_1", "object": "tax_id", "owner": {"type": "customer", "customer": "cus_1"},
                      "value": "12-3456789"}) + "\n")
    got = typed(root)
    assert got["billing_customers"] == [("cus_1", "Acme Analytics Inc.", "ap@acme.com", "12-3456789")]
    assert got["billing_invoices"][0][1] == "cus_1"


def test_fields_name_other_stripe_fields_and_keep_their_conversion(tmp_path: Path) -> None:
    yml = ("    fields:\n      billing_customers.tax_id: metadata.vat_id\n"
           "      billing_invoices.issued_on: effective_at\n"
           "      billing_customers.updated_at: metadata.synced\n      billing_invoices.amount: amount_due\n")
    customer = healthy_customer(metadata={"vat_id": "DE999", "synced": 1768867200})
    invoice = healthy_invoice(effective_at=_unix("2026-01-07", "UTC", time(12)), amount_due=5000)
    root = stripe_project(tmp_path, [customer], [invoice], yml)
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(DAY))
    assert con.sql("SELECT tax_id, CAST(updated_at AS VARCHAR) FROM billing_customers").fetchall() == [
        ("DE999", "2026-01-20 00:00:00")]
    assert con.sql("SELECT issued_on, amount FROM billing_invoices").fetchall() == [(date(2026, 1, 7), Decimal(50))]


def test_a_deleted_invoice_is_no_record_whatever_its_values(tmp_path: Path) -> None:
    # 15 digits of unix seconds are too many for a time (a live invoice's would stop the read); a deleted
    # invoice's values are nobody's, and never read.
    yml = "    fields:\n      billing_invoices.updated_at: effective_at\n"
    gone = healthy_invoice(id="in_gone", deleted=True, effective_at=999999999999999, total="lots")
    invoice = healthy_invoice(effective_at=_unix("2026-01-07", "UTC", time(12)))
    root = stripe_project(tmp_path, [healthy_customer()], [gone, invoice], yml)
    folder = root / "exports" / DAY / "stripe"
    for json_lines in (False, True):
        if json_lines:  # one file read in order: its deleted rows are loaded, then deleted
            (folder / "invoices.json").unlink()
            (folder / "invoices.jsonl").write_text(json.dumps(gone) + "\n" + json.dumps(invoice) + "\n")
        con = duckdb.connect()
        read_day(con, load_project(root), date.fromisoformat(DAY))
        assert con.sql("SELECT invoice_id, CAST(updated_at AS VARCHAR) FROM billing_invoices").fetchall() == [
            ("in_1", "2026-01-07 12:00:00")]


def test_a_field_for_a_value_computed_from_the_lines_replaces_it_whole(tmp_path: Path) -> None:
    invoice = healthy_invoice(metadata={"seats": "12"})
    root = stripe_project(tmp_path, [healthy_customer()], [invoice],
                          "    fields:\n      billing_invoices.billed_fte: metadata.seats\n")
    assert typed(root)["billing_invoices"][0][8] == Decimal(12)


def test_a_stripe_day_reconciles_like_the_standard_one(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {DAY: {}}, STRIPE)
    as_stripe(root / "exports" / DAY)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    assert json.loads(invoke("exceptions", "-p", str(root), "--format", "json").output) == []


# --- what is refused, and how it is named ------------------------------------------------------------------

def _message(tmp_path: Path, invoice: dict[str, object], json_lines: bool = False) -> str:
    root = stripe_project(tmp_path, [healthy_customer()], [healthy_invoice(id="in_0"), invoice])
    invoices = root / "exports" / DAY / "stripe" / "invoices.json"
    if json_lines:  # the same invoices, one object a line
        invoices.unlink()
        invoices = invoices.with_suffix(".jsonl")
        invoices.write_text(json.dumps(healthy_invoice(id="in_0")) + "\n" + json.dumps(invoice) + "\n")
    error = refusal(root)
    text = str(error)
    assert text.startswith(f"{invoices}, object 1 (in_1), field ")
    return text.removeprefix(f"{invoices}, object 1 (in_1), ")


SECONDS = "unix seconds such as 1767225600"


@pytest.mark.parametrize(("invoice", "message"), [
    (healthy_invoice(created="2026-01-02"),
     f"field 'created': '2026-01-02' is not {SECONDS} (read as billing_invoices.issued_on)"),
    (healthy_invoice(created=1767225600.5),
     f"field 'created': '1767225600.5' is not {SECONDS} (read as billing_invoices.issued_on)"),
    (healthy_invoice(status_transitions={"finalized_at": "soon"}),
     f"field 'status_transitions.finalized_at': 'soon' is not {SECONDS} (read as billing_invoices.issued_on)"),
    (healthy_invoice(total=1000050.5),
     "field 'total': '1000050.5' is not a whole number of the currency's minor unit (cents), such as 123450 "
     "(read as billing_invoices.amount)"),
    (healthy_invoice(total="12,50"),
     "field 'total': '12,50' is not a whole number of the currency's minor unit (cents), such as 123450 "
     "(read as billing_invoices.amount)"),
    (healthy_invoice(status="refunded"),
     "field 'status': 'refunded' is not one of draft, open, paid, uncollectible, void (map another under the "
     "table's `statuses:`) (read as billing_invoices.status)"),
    (healthy_invoice(currency="us dollar"), "field 'currency': 'us dollar': expected a 3-letter currency code such "
                                            "as USD"),
    (with_line(healthy_invoice(), period={"start": 1767225600, "end": 1767225599}),
     "field 'lines.data[0].period.end': '1767225599' is not at or after the line's period.start 1767225600 (its "
     "end is exclusive) (read as billing_invoices.period_end)"),
    (with_line(healthy_invoice(), period={"start": "2026-01-01", "end": 1767225600}),
     f"field 'lines.data[0].period.start': '2026-01-01' is not {SECONDS} (read as billing_invoices.period_start)"),
    (with_line(healthy_invoice(), period={"start": 1767225600}),
     f"field 'lines.data[0].period.end': no value is not {SECONDS} (read as billing_invoices.period_end)"),
    (with_line(healthy_invoice(), quantity=-3),
     "field 'lines.data[0].quantity': '-3' is not a number of seats that is not negative, such as 12 (at most 4 "
     "decimals) (read as billing_invoices.billed_fte)"),
    (with_line(healthy_invoice(), quantity=None, quantity_decimal="2.12345"),
     "field 'lines.data[0].quantity_decimal': '2.12345' is not a number of seats that is not negative, such as 12 "
     "(at most 4 decimals) (read as billing_invoices.billed_fte)"),
    (healthy_invoice(lines={"object": "list", "has_more": True, "data": []}),
     "field 'lines.has_more': 'true' is not false (the export holds only the first page of this invoice's line "
     "items, so its period and seats would be wrong: export invoices with every line, e.g. list each invoice's "
     "lines until has_more is false) (read as billing_invoices.period_start)"),
    (healthy_invoice(lines={"object": "list", "has_more": False, "data": []}),
     "field 'lines.data': '[]' is not a list of line items with their periods (an invoice without lines is read "
     "by its own period_start, and this one has none) (read as billing_invoices.period_start)"),
], ids=["created-iso", "created-fraction", "finalized", "total-fraction", "total-comma", "status", "currency",
        "end-before-start", "start-iso", "end-missing", "quantity-negative", "quantity-5-decimals", "has-more",
        "no-lines"])
@pytest.mark.parametrize("json_lines", [False, True], ids=["list", "json-lines"])
def test_a_bad_value_is_refused_with_its_object_and_field(tmp_path: Path, invoice: dict[str, object],
                                                          message: str, json_lines: bool) -> None:
    invoice = json.loads(json.dumps(invoice))
    invoice["id"] = "in_1"
    assert _message(tmp_path, invoice, json_lines) == message


def test_a_bad_second_line_is_named_by_its_index(tmp_path: Path) -> None:
    invoice = healthy_invoice(id="in_1")
    lines = invoice["lines"]["data"]  # type: ignore[index]
    lines.append({**lines[0], "id": "il_2", "period": {"start": 1767225600, "end": "later"}})
    assert _message(tmp_path, invoice) == (f"field 'lines.data[1].period.end': 'later' is not {SECONDS} (read as "
                                           "billing_invoices.period_end)")


def test_a_currency_with_no_rate_is_refused(tmp_path: Path) -> None:
    invoice = healthy_invoice(id="in_1", currency="xts")
    assert _message(tmp_path, invoice) == ("field 'currency': 'xts': no rate into the reporting currency USD for "
                                           f"{DAY} (add it to tieout.yml, e.g. fx_rates: {{XTS: 1.08}})")


def test_a_duplicate_invoice_across_pages_names_both_places(tmp_path: Path) -> None:
    root = stripe_project(tmp_path, [healthy_customer()], [healthy_invoice()])
    folder = root / "exports" / DAY / "stripe"
    (folder / "invoices.json").rename(folder / "invoices_1.json")
    (folder / "invoices_2.json").write_text(list_object([healthy_invoice(id="in_2"), healthy_invoice()]))
    error = refusal(root)
    assert str(error) == (f"{folder / 'invoices_2.json'}, object 1 (in_1), field 'id': duplicate invoice_id in_1 "
                          f"(also at object 0 (in_1) of {folder / 'invoices_1.json'})")


def test_a_missing_file_and_invalid_json_are_refused(tmp_path: Path) -> None:
    root = stripe_project(tmp_path, [healthy_customer()], [healthy_invoice()])
    folder = root / "exports" / DAY / "stripe"
    (folder / "invoices.json").unlink()
    assert str(refusal(root)) == f"{folder / 'invoices.json'}: file is missing"
    (folder / "invoices.json").write_text('{"object": "list", "data": [{"id": "in_1",')
    assert str(refusal(root)).startswith(f"{folder / 'invoices.json'}: is not valid JSON: ")


# JSON Lines of records are parsed by DuckDB's JSON reader straight into the fields read
# (`JsonReader.field_rows`); a file that reader stops at is read again as each record's text. Either way a day
# reads as it always did: the outcome of each file below, read so, equals its outcome read as text only.
HEALTHY_LINE = json.dumps(healthy_invoice(id="in_1"))
JSON_LINES = {
    "healthy": [HEALTHY_LINE, json.dumps(healthy_invoice(id="in_2", deleted=True))],
    "bad-value": [HEALTHY_LINE, json.dumps(with_line(healthy_invoice(id="in_2"), period={"start": "x", "end": 1}))],
    "lines-not-a-list": [HEALTHY_LINE, json.dumps(healthy_invoice(id="in_2", lines="none"))],
    "line-not-an-object": [HEALTHY_LINE, json.dumps(healthy_invoice(id="in_2", lines={"data": [7]}))],
    "key-twice": [HEALTHY_LINE, '{"id": "in_2", "id": "in_3", "customer": "cus_1"}'],
    "array-line": [HEALTHY_LINE, "[1, 2]"],
    "malformed-line": [HEALTHY_LINE, '{"id": "in_2", "customer":'],
    "blank-lines-and-crlf": ["", HEALTHY_LINE + "\r", "  ", json.dumps(healthy_invoice(id="in_2")) + "\r"],
}


@pytest.mark.parametrize("name", list(JSON_LINES))
def test_json_lines_read_into_their_fields_read_as_their_text_does(tmp_path: Path, name: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tieout.sources.vendor import JsonReader, VendorTable

    root = stripe_project(tmp_path, [healthy_customer()], [])
    folder = root / "exports" / DAY / "stripe"
    (folder / "invoices.json").unlink()
    (folder / "invoices.jsonl").write_text("\n".join(JSON_LINES[name]) + "\n")

    def outcome() -> object:
        try:
            return typed(root)
        except InputError as e:
            return str(e)

    plainly: list[bool] = []
    read_plainly = VendorTable.read_plainly
    monkeypatch.setattr(VendorTable, "read_plainly", lambda self: plainly.append(read_plainly(self)) or plainly[-1])
    fields = outcome()
    assert (True in plainly) == (name not in ("healthy", "bad-value", "blank-lines-and-crlf"))  # read again
    monkeypatch.setattr(JsonReader, "reads_fields", lambda self, names: False)
    assert outcome() == fields
    if name == "healthy":
        assert [r[0] for r in fields["billing_invoices"]] == ["in_1"]  # type: ignore[index]


def test_pages_of_json_lines_read_into_their_fields_name_each_page(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tieout.sources.vendor import JsonReader

    root = stripe_project(tmp_path, [healthy_customer()], [])
    folder = root / "exports" / DAY / "stripe"
    (folder / "invoices.json").unlink()
    (folder / "invoices_1.jsonl").write_text(HEALTHY_LINE + "\n" + json.dumps(healthy_invoice(id="in_2")) + "\n")
    (folder / "invoices_2.jsonl").write_text(json.dumps(healthy_invoice(id="in_3")) + "\n" + HEALTHY_LINE + "\n")
    fields = str(refusal(root))
    assert fields == (f"{folder / 'invoices_2.jsonl'}, object 1 (in_1), field 'id': duplicate invoice_id in_1 (also "
                      f"at object 0 (in_1) of {folder / 'invoices_1.jsonl'})")
    monkeypatch.setattr(JsonReader, "reads_fields", lambda self, names: False)
    assert str(refusal(root)) == fields


def test_a_refused_run_writes_nothing(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p", {DAY: {}, "2026-01-21": {}}, STRIPE)
    for day in (DAY, "2026-01-21"):
        as_stripe(root / "exports" / day)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    before = store_content(root)
    bad = root / "exports" / "2026-01-21" / "stripe" / "invoices.json"
    bad.write_text(list_object([with_line(healthy_invoice(), period={"start": 1767225600, "end": 1767225000})]))
    result = invoke("run", "-p", str(root), "--as-of", "2026-01-21")
    assert result.exit_code == 4
    assert "field 'lines.data[0].period.end'" in result.output
    assert store_content(root) == before
    write_day(root, "2026-01-22")  # and the next good day still runs
    as_stripe(root / "exports" / "2026-01-22")
    assert invoke("run", "-p", str(root), "--as-of", "2026-01-22").exit_code == 0
