"""The standard layout's billing files rendered as Chargebee's CSV export (Customers.csv, Invoices.csv,
LineItems.csv): for the tests of the `chargebee` format (tests/sources/test_chargebee.py) and the differential
over every shape (tests/sources/test_every_shape_differential.py)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

EXPONENT = {"JPY": 0, "KWD": 3, "BHD": 3}
# The standard status -> Chargebee's (open alternates between posted and payment_due).
STATUS = {"paid": ["paid"], "open": ["posted", "payment_due"], "uncollectible": ["not_paid"], "void": ["voided"],
          "draft": ["pending"]}
CUSTOMER_HEADER = ["customers.id", "customers.first_name", "customers.last_name", "customers.email",
                   "customers.company", "customers.vat_number", "customers.auto_collection", "customers.created_at",
                   "customers.updated_at"]
INVOICE_HEADER = ["invoices.id", "invoices.customer_id", "invoices.subscription_id", "invoices.status",
                  "invoices.date", "invoices.due_date", "invoices.total", "invoices.amount_paid",
                  "invoices.currency_code", "invoices.updated_at"]
LINE_HEADER = ["line_items.id", "line_items.invoice_id", "line_items.date_from", "line_items.date_to",
               "line_items.entity_type", "line_items.entity_id", "line_items.quantity", "line_items.amount",
               "line_items.description"]


def records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _unix(day: str | date, tz: str, at: time = time(0)) -> int:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return int(datetime.combine(d, at, ZoneInfo(tz)).timestamp())


def _instant(timestamp: str) -> str:
    return str(int(datetime.fromisoformat(timestamp).timestamp())) if timestamp else ""


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)


def minor(amount: str, currency: str) -> str:
    scaled = Decimal(amount).scaleb(EXPONENT.get(currency.upper(), 2))
    assert scaled == scaled.to_integral_value(), (amount, currency)
    return str(int(scaled))


def customer_row(r: dict[str, str]) -> dict[str, str]:
    return {"customers.id": r["customer_id"], "customers.first_name": "", "customers.last_name": "",
            "customers.email": r["email"], "customers.company": r["name"], "customers.vat_number": r["tax_id"],
            "customers.auto_collection": "on", "customers.created_at": "1735689600",
            "customers.updated_at": _instant(r["updated_at"])}


def invoice_rows(r: dict[str, str], n: int, tz: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """An invoice and its line items: a plan line carrying the seats and an addon line that is not seats; the
    invoice date alternates between unix seconds and an ISO date, the line dates likewise."""
    issued = r["issued_on"] or r["period_start"]
    invoice = {"invoices.id": r["invoice_id"], "invoices.customer_id": r["customer_id"],
               "invoices.subscription_id": "sub_" + r["customer_id"],
               "invoices.status": STATUS[r["status"].lower()][n % len(STATUS[r["status"].lower()])],
               "invoices.date": str(_unix(issued, tz, time(6))) if n % 2 else issued, "invoices.due_date": "",
               "invoices.total": minor(r["amount"], r["currency"]), "invoices.amount_paid": "0",
               "invoices.currency_code": r["currency"].upper(), "invoices.updated_at": _instant(r["updated_at"])}
    end = date.fromisoformat(r["period_end"]) + timedelta(days=1)  # date_to is exclusive
    start, stop = ((str(_unix(r["period_start"], tz)), str(_unix(end, tz))) if n % 3 else
                   (r["period_start"], end.isoformat()))
    plan = {"line_items.id": "li_" + r["invoice_id"], "line_items.invoice_id": r["invoice_id"],
            "line_items.date_from": start, "line_items.date_to": stop, "line_items.entity_type": "plan_item_price",
            "line_items.entity_id": "seat-monthly", "line_items.quantity": r["billed_fte"],
            "line_items.amount": invoice["invoices.total"], "line_items.description": "Seats"}
    addon = {**plan, "line_items.id": "li_a_" + r["invoice_id"], "line_items.entity_type": "addon",
             "line_items.quantity": "3", "line_items.amount": "0", "line_items.description": "Support"}
    return invoice, [plan, addon]


def as_chargebee(folder: Path, tz: str = "UTC") -> Path:
    """Replace a day folder's standard billing files by Chargebee's CSV export; returns its folder."""
    out = folder / "chargebee"
    customers = records((folder / "billing_customers.csv").read_text(encoding="utf-8"))
    invoices, lines = [], []
    for n, r in enumerate(records((folder / "billing_invoices.csv").read_text(encoding="utf-8"))):
        invoice, items = invoice_rows(r, n, tz)
        invoices.append(invoice)
        lines += items
    write_csv(out / "Customers.csv", CUSTOMER_HEADER, [customer_row(r) for r in customers])
    write_csv(out / "Invoices.csv", INVOICE_HEADER, invoices)
    write_csv(out / "LineItems.csv", LINE_HEADER, lines)
    (folder / "billing_customers.csv").unlink()
    (folder / "billing_invoices.csv").unlink()
    return out
