"""A standard billing export rendered in Zuora's shape, as a warehouse loader lands Zuora's tables: for the
tests of the `zuora` format (tests/sources/test_zuora.py) and of the commands that set a project up."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

from tests.conftest import HEALTHY_DAY

ACCOUNT = ["id", "_fivetran_deleted", "account_number", "additional_email_addresses", "currency", "name", "status",
           "updated_date", "vatid"]
INVOICE = ["id", "_fivetran_deleted", "account_id", "amount", "balance", "invoice_date", "invoice_number", "status",
           "transaction_currency", "updated_date"]
ITEM = ["id", "_fivetran_deleted", "invoice_id", "charge_amount", "quantity", "rate_plan_charge_id",
        "service_end_date", "service_start_date", "uom", "updated_date"]
CHARGE = ["id", "_fivetran_deleted", "charge_model", "charge_number", "charge_type", "name", "uom"]
STATUS = {"paid": "Posted", "open": "Posted", "void": "Canceled", "draft": "Draft"}


def as_csv(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def loader_time(stamp: str) -> str:
    """`2026-01-20T23:00:00Z` as a loader writes it: UTC wall time without a zone, microseconds."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S.%f") if stamp else ""


def zuora_shape(customers: list[dict[str, str]], invoices: list[dict[str, str]]) -> dict[str, str]:
    """Standard billing rows as Zuora's account, invoice, invoice_item and rate_plan_charge tables, with what a
    real tenant adds: a deleted account and deleted items, usage items, a seat change inside an invoice's
    period (two segments of one charge), and invoices that name no currency (their account's)."""
    accounts = [{"id": c["customer_id"], "_fivetran_deleted": "FALSE", "account_number": f"A{n:08d}",
                 "additional_email_addresses": f"{c['email']},cc@example.org" if c["email"] else "",
                 "currency": "USD", "name": c["name"], "status": "Active",
                 "updated_date": loader_time(c["updated_at"]), "vatid": c["tax_id"]}
                for n, c in enumerate(customers)]
    accounts.append({**accounts[0], "id": "2c92c0f86763fb0a0167834d6c5e086b", "_fivetran_deleted": "TRUE",
                     "name": "Deleted Account"})
    items: list[dict[str, str]] = []
    charges: list[dict[str, str]] = []
    rows = []
    for n, inv in enumerate(invoices):
        assert inv["status"] in STATUS, inv  # Zuora has no "uncollectible"
        amount = inv["amount"]
        rows.append({"id": inv["invoice_id"], "_fivetran_deleted": "FALSE", "account_id": inv["customer_id"],
                     "amount": amount + "0000" if "." in amount else amount,  # numeric(…) with its scale
                     "balance": amount if inv["status"] == "open" else "0", "invoice_date": inv["issued_on"],
                     "invoice_number": f"INV{n:08d}", "status": STATUS[inv["status"]],
                     "transaction_currency": inv["currency"] if n % 3 else "",
                     "updated_date": loader_time(inv["updated_at"])})
        start, end = date.fromisoformat(inv["period_start"]), date.fromisoformat(inv["period_end"])
        seats = inv["billed_fte"]
        charge = {"id": f"rpc{n}", "_fivetran_deleted": "FALSE", "charge_number": f"C-{n:08d}",
                  "charge_type": "Recurring", "charge_model": "Per Unit Pricing" if seats else "Flat Fee Pricing",
                  "name": "User Charge", "uom": "User"}
        charges.append(charge)
        item = {"_fivetran_deleted": "FALSE", "invoice_id": inv["invoice_id"], "charge_amount": amount,
                "rate_plan_charge_id": charge["id"], "uom": "User", "updated_date": loader_time(inv["updated_at"])}
        mid = start + (end - start) // 2
        if seats and n % 2 and mid > start:
            # A seat change inside the period: the first segment (a charge segment of its own) bills fewer seats.
            charges.append({**charge, "id": f"rpc{n}s1"})
            fewer = str(max(Decimal(seats) - 1, Decimal(0)))
            items.append({**item, "id": f"ii{n}a", "rate_plan_charge_id": f"rpc{n}s1", "quantity": fewer,
                          "service_start_date": start.isoformat(), "service_end_date": mid.isoformat()})
            items.append({**item, "id": f"ii{n}b", "quantity": seats,
                          "service_start_date": (mid + timedelta(days=1)).isoformat(),
                          "service_end_date": end.isoformat()})
        else:
            items.append({**item, "id": f"ii{n}", "quantity": seats or "1", "service_start_date": start.isoformat(),
                          "service_end_date": end.isoformat()})
        # Usage billed on the same invoice (not seats), and an item the loader saw deleted.
        charges.append({"id": f"rpc{n}u", "_fivetran_deleted": "FALSE", "charge_number": f"C-{n:08d}U",
                        "charge_type": "Usage", "charge_model": "Per Unit Pricing", "name": "Transactions",
                        "uom": "Transaction"})
        items.append({**item, "id": f"ii{n}u", "rate_plan_charge_id": f"rpc{n}u", "quantity": "33580",
                      "uom": "Transaction", "service_start_date": start.isoformat(),
                      "service_end_date": end.isoformat()})
        items.append({**item, "id": f"ii{n}d", "_fivetran_deleted": "TRUE", "quantity": "999",
                      "service_start_date": (start - timedelta(days=400)).isoformat(),
                      "service_end_date": (end + timedelta(days=400)).isoformat()})
    return {"account": as_csv(ACCOUNT, accounts), "invoice": as_csv(INVOICE, rows),
            "invoice_item": as_csv(ITEM, items), "rate_plan_charge": as_csv(CHARGE, charges)}


def standard_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def healthy_zuora() -> dict[str, str]:
    return zuora_shape(standard_rows(HEALTHY_DAY["billing_customers.csv"]),
                       standard_rows(HEALTHY_DAY["billing_invoices.csv"]))
