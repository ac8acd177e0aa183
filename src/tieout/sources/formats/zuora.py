"""Zuora billing (contract §3b): accounts and invoices as a warehouse loader lands Zuora's tables (Fivetran's
`zuora` schema: snake_case columns, `_fivetran_deleted`, decimal amounts in major units, timestamps as text
without a zone, in UTC), from files in the source's folder or, with `url:`, from the tables themselves.

- `billing_customers` ← `account`: the 32-hex `id` is the customer id (what invoices, subscriptions and every
  other Zuora table reference; `account_number` such as A00000021 is the person's name for it), `vatid` the tax
  id, the first of `additional_email_addresses` the e-mail (Zuora keeps e-mail on contacts, not on accounts).
- `billing_invoices` ← `invoice`, with `invoice_item` for the service period (Zuora's service end date is the
  last day of service, inclusive, as the standard layout's) and `rate_plan_charge` for the seats billed, and
  `account` for the currency of an invoice that does not name one.
- Rows whose `_fivetran_deleted` is true are records Zuora deleted: not read.

Subscriptions, rate plans and products are not read: tieout's billing activity is what invoices cover (contract
§5), so an active subscription that is never invoiced is exactly what CRM_ACTIVE_BILLING_INACTIVE must see.
docs/sources/zuora.md says what each decision means.
"""

from __future__ import annotations

from tieout.sources import convert
from tieout.sources.convert import Conversion
from tieout.sources.formats.base import Format, Related, TableMap, register
from tieout.sql import literal as _sql_literal

# A loader's delete marker: `TRUE`/`FALSE` in a CSV, `true`/`false` from a database; a source without the column
# (a plain export) has only live rows.
_LIVE = Conversion("coalesce(lower(trim({0})), '') NOT IN ('true', 't', '1', 'yes')", ("_fivetran_deleted",),
                   optional=True, note="rows whose _fivetran_deleted is true are deleted records, not read")

_DECIMAL = "CASE WHEN regexp_full_match(trim({0}), '-?[0-9]{{1,30}}(\\.[0-9]*)?') THEN {1} END"
# Trailing zeros after the point are dropped (a warehouse's numeric(38, 9) writes 70.360000000), exactly.
_DIGITS = "regexp_replace(regexp_replace(trim({0}), '(\\.[0-9]*?)0+$', '\\1'), '\\.$', '')"


def decimal(column: str, *, optional: bool = False) -> Conversion:
    """A decimal number as Zuora writes amounts and quantities (`70.36`, `106953453`, `70.360000000`), kept as
    its digits: never through a float."""
    return Conversion(_DECIMAL.replace("{1}", _DIGITS), (column,), "a decimal number such as 1234.50", optional,
                      "a decimal number (trailing zeros dropped)")


def _first_address(column: str) -> Conversion:
    return Conversion("nullif(trim(split_part({0}, ',', 1)), '')", (column,), optional=True,
                      note="the first of a comma-separated list of addresses")


# Zuora's invoice status words (Draft, Posted, Canceled, Error). A posted invoice is paid once its balance is 0
# (or less: overpaid), open while a balance remains; Zuora has no "uncollectible" (a write-off adjusts the
# balance to 0). An invoice in Error was never issued: a draft.
INVOICE_STATUSES = {"Draft": "draft", "Posted": "open or paid (by balance)", "Canceled": "void", "Error": "draft"}
_STATUS = Conversion(
    "CASE lower(trim({0})) WHEN 'draft' THEN 'draft' WHEN 'canceled' THEN 'void' WHEN 'cancelled' THEN 'void' "
    "WHEN 'error' THEN 'draft' WHEN 'posted' THEN CASE "
    "WHEN coalesce(trim({1}), '') = '' THEN 'open' "
    "WHEN TRY_CAST(trim({1}) AS DECIMAL(38, 10)) > 0 THEN 'open' "
    "WHEN TRY_CAST(trim({1}) AS DECIMAL(38, 10)) <= 0 THEN 'paid' END END",
    ("status", "balance"),
    "one of Draft, Posted, Canceled, Error, with a decimal balance on a Posted invoice (map another under "
    "the table's `statuses:`)",
    note="Draft -> draft, Posted -> paid when its balance is 0 (open while one remains), Canceled -> void, "
         "Error -> draft")

# Related tables, loaded once per read for the invoice conversions to join.
_ITEMS = "billing_invoices__invoice_item"
_CHARGES = "billing_invoices__rate_plan_charge"
_ACCOUNTS = "billing_invoices__account"
_BY_INVOICE = "billing_invoices__by_invoice"

# Charge models whose quantity counts units (seats) rather than a flat fee or a discount.
SEAT_MODELS = ("Per Unit Pricing", "Volume Pricing", "Tiered Pricing", "Tiered with Overage Pricing")
_SEAT_MODELS = ", ".join(_sql_literal(m.lower()) for m in SEAT_MODELS)
# What an invoice's items say, one row per invoice, computed once: the service period (the earliest start, the
# latest end) and the seats billed — per recurring per-unit charge (its charge_number), the quantity of its
# latest service period on the invoice: an invoice billing three months of one charge bills its seats once, and
# a mid-period change (two segments of one charge) bills the later quantity.
_ITEMS_BY_INVOICE = (
    f"SELECT p.invoice_id, p.period_start, p.period_end, s.seats FROM ("
    f"SELECT invoice_id, min(service_start_date) AS period_start, max(service_end_date) AS period_end "
    f"FROM {_ITEMS} GROUP BY invoice_id) AS p LEFT JOIN ("
    f"SELECT invoice_id, {_DIGITS.replace('{0}', 'CAST(sum(q) AS VARCHAR)')} AS seats FROM ("
    f"SELECT i.invoice_id, arg_max(CAST(i.quantity AS DECIMAL(38, 10)), i.service_start_date) AS q "
    f"FROM {_ITEMS} AS i JOIN {_CHARGES} AS c ON c.id = i.rate_plan_charge_id "
    f"WHERE lower(trim(c.charge_type)) = 'recurring' AND lower(trim(c.charge_model)) IN ({_SEAT_MODELS}) "
    f"AND i.quantity IS NOT NULL GROUP BY i.invoice_id, coalesce(c.charge_number, c.id)) GROUP BY invoice_id"
    f") AS s USING (invoice_id)")


def _by_invoice(column: str, expected: str, note: str) -> Conversion:
    return Conversion(f"(SELECT b.{column} FROM {_BY_INVOICE} AS b WHERE b.invoice_id = {{0}})", ("id",), expected,
                      derived=True, note=note)


_PERIOD_EXPECTED = ("the id of an invoice that invoice items name in their invoice_id (its service period is "
                    "theirs)")
_PERIOD_START = _by_invoice("period_start", _PERIOD_EXPECTED,
                            "the earliest service_start_date of the invoice's items (invoice_item)")
_PERIOD_END = _by_invoice("period_end", _PERIOD_EXPECTED,
                          "the latest service_end_date of the invoice's items (invoice_item; the last day of "
                          "service, inclusive)")
_BILLED_FTE = _by_invoice("seats", "", "the seats billed: per recurring per-unit charge (rate_plan_charge), the "
                                       "quantity of its latest item on the invoice, summed")
_CURRENCY = Conversion(
    f"coalesce(nullif(trim({{0}}), ''), (SELECT min(a.currency) FROM {_ACCOUNTS} AS a WHERE a.id = {{1}}))",
    ("transaction_currency", "account_id"), optional=True,
    note="transaction_currency, else the account's currency")

ZUORA = register(Format(
    "zuora",
    "csv",
    tables={
        "billing_customers": TableMap(
            files=("account.csv",),
            query="zuora.account",
            columns={
                "customer_id": "id",
                "name": "name",
                "email": _first_address("additional_email_addresses"),
                "tax_id": convert.text("vatid", optional=True),
                "updated_at": "updated_date",
            },
            keep=_LIVE,
        ),
        "billing_invoices": TableMap(
            files=("invoice.csv",),
            query="zuora.invoice",
            columns={
                "invoice_id": "id",
                "customer_id": "account_id",
                "period_start": _PERIOD_START,
                "period_end": _PERIOD_END,
                "issued_on": "invoice_date",
                "status": _STATUS,
                "amount": "amount",
                "currency": _CURRENCY,
                "billed_fte": _BILLED_FTE,
                "updated_at": "updated_date",
            },
            keep=_LIVE,
            related={
                "invoice_item": Related(
                    files=("invoice_item.csv",), query="zuora.invoice_item",
                    columns={"invoice_id": convert.text("invoice_id"),
                             "rate_plan_charge_id": convert.text("rate_plan_charge_id"),
                             "service_start_date": convert.iso_date("service_start_date"),
                             "service_end_date": convert.iso_date("service_end_date"),
                             "quantity": decimal("quantity")},
                    keep=_LIVE),
                "rate_plan_charge": Related(
                    files=("rate_plan_charge.csv",), query="zuora.rate_plan_charge",
                    columns={"id": convert.text("id"), "charge_number": convert.text("charge_number"),
                             "charge_type": convert.text("charge_type"),
                             "charge_model": convert.text("charge_model")},
                    keep=_LIVE),
                "account": Related(
                    files=("account.csv",), query="zuora.account",
                    columns={"id": convert.text("id"), "currency": convert.text("currency")}),
                "by_invoice": Related(sql=_ITEMS_BY_INVOICE),
            },
        ),
    },
    kinds={
        "money": decimal,
        "quantity": decimal,
        "date": convert.iso_date,
        "timestamp": convert.iso_timestamp,
    },
))
