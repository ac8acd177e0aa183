"""Chargebee: its CSV data export (`Customers.csv`, `Invoices.csv` and the invoices' `LineItems.csv`), or its API
v2 objects as JSON (list responses `{"list": [{"customer": {...}}, ...]}`, arrays, JSON Lines, webhook events
whose `content` holds the object). `docs/sources/chargebee.md` says what is read, what is assumed of the CSV
export (no public sample of it exists) and what is refused.

Chargebee's rules: amounts are integers in the currency's minor unit (ISO 4217: JPY has none, KWD three —
Chargebee follows the ISO definition); times are unix seconds (the CSV may also hold ISO 8601 dates and times),
taken as dates in the project's time zone; an invoice's service period is its line items' `date_from` and
`date_to`, whose `date_to` is exclusive (a term ends at the next term's start); `billed_fte` is the quantity of
its plan lines (`quantity_in_decimal` where given).
"""

from __future__ import annotations

from tieout.sources import convert
from tieout.sources.convert import Conversion
from tieout.sources.formats.base import Format, Related, TableMap, register
from tieout.sources.formats.templates import SEATS, bind, day, first, quantity, seat_sum, sql
from tieout.sql import literal

# ISO 4217 minor units that are not hundredths (Chargebee: "as per the ISO definition").
EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}

# Chargebee invoice status -> the standard one (README of ../shared/realdata; Chargebee's API reference).
INVOICE_STATUSES = {
    "paid": "paid",
    "posted": "open",  # issued, not yet due
    "payment_due": "open",  # due, collection under way
    "not_paid": "uncollectible",  # every collection attempt failed
    "voided": "void",
    "pending": "draft",  # not yet closed (metered charges may still be added)
}
PLAN_LINES = ("plan", "plan_item_price")  # the subscription's seats; addons and charges are not

TIME = "unix seconds such as 1767225600, or an ISO 8601 date or date and time"


def instant(v: str) -> str:
    """Unix seconds, an ISO 8601 date (midnight in the project's time zone) or date and time (UTC without a
    zone) -> BIGINT unix seconds; NULL for anything else."""
    return (f"(CASE WHEN regexp_full_match({v}, '[0-9]{{1,11}}') THEN CAST({v} AS BIGINT) "
            f"WHEN regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"THEN CAST(epoch(timezone(@tz, TRY_CAST({v} AS TIMESTAMP))) AS BIGINT) "
            f"WHEN regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}"
            f"(\\.[0-9]{{1,6}})?)?(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?') "
            f"THEN CAST(epoch(TRY_CAST({v} AS TIMESTAMPTZ)) AS BIGINT) END)")


def date_of(column: str) -> Conversion:
    return Conversion(sql(day(instant("@v")), "v"), (column,), TIME,
                      note="unix seconds (or an ISO 8601 date) as a date in the project's time zone")


def timestamp_of(column: str, *, optional: bool = False) -> Conversion:
    return Conversion(sql(f"strftime(timezone('UTC', to_timestamp({instant('@v')})), '%Y-%m-%dT%H:%M:%S.%fZ')",
                          "v"), (column,), TIME, optional, "unix seconds (or ISO 8601) as an instant")


def name(company: str, first_name: str, last_name: str) -> Conversion:
    """The company; a customer without one (a person) by first and last name."""
    return Conversion("coalesce(nullif(trim({0}), ''), nullif(trim(concat_ws(' ', nullif(trim({1}), ''), "
                      "nullif(trim({2}), ''))), ''))", (company, first_name, last_name),
                      note=f"the company, else {first_name} and {last_name}")


def money(column: str, currency: str) -> Conversion:
    return convert.minor_units(column, currency, EXPONENTS)


PLANS = "(" + ", ".join(f"'{p}'" for p in PLAN_LINES) + ")"

# --- the CSV export: line items in their own file ---------------------------------------------------------------

# The line items file, loaded once with its values converted and checked (a bad one is refused with its own file,
# row and column): each line's first and last second (date_to is exclusive; a one-off charge's date_to equals
# its date_from, whose day it is), and a plan line's seats.
_FROM, _TO = '"line_items.date_from"', '"line_items.date_to"'
LINE_COLUMNS = {
    "line_items.invoice_id": convert.text("line_items.invoice_id"),
    "line_items.entity_type": convert.text("line_items.entity_type"),
    "line_items.date_from": Conversion(sql(instant("@v"), "v"), ("line_items.date_from",), TIME,
                                       note="its first second"),
    "line_items.date_to": Conversion(
        sql(f"CASE WHEN {instant('@to')} >= {instant('@from')} THEN greatest({instant('@from')}, {instant('@to')} - 1) "
            "END", "to", "from"),
        ("line_items.date_to", "line_items.date_from"),
        f"{TIME}, not before its line's date_from (date_to is exclusive)", note="its last second"),
    "line_items.quantity": Conversion(
        sql(f"CASE WHEN @type IN {PLANS} THEN {quantity('nullif(trim(@q), ' + chr(39) * 2 + ')')} END", "q", "type"),
        ("line_items.quantity", "line_items.entity_type"), f"{SEATS} on a plan line",
        present=sql(f"@type IN {PLANS} AND coalesce(trim(@q), '') <> ''", "q", "type"), note="a plan line's seats"),
}
# ... and summed up per invoice once, for each invoice to look its own up.
SUMMARY = ('SELECT "line_items.invoice_id" AS invoice_id, min("line_items.date_from") AS first_second, '
           'max("line_items.date_to") AS last_second, sum("line_items.quantity") AS seats '
           "FROM billing_invoices__line_items GROUP BY 1")
_LOOKUP = "(SELECT {} FROM billing_invoices__summary AS s WHERE s.invoice_id = @id)"
_NO_LINES = ("['invoices.id', @id, 'an invoice with line items in the line items file (LineItems.csv: its service "
             "period is read from them)']")


def _csv_period(column: str) -> Conversion:
    seconds = "s.first_second" if column == "period_start" else "s.last_second"
    return Conversion(sql(_LOOKUP.format(day(seconds)), "id"), ("invoices.id",),
                      "an invoice with line items in the line items file", culprit=sql(_NO_LINES, "id"),
                      note=("the day of its line items' earliest date_from" if column == "period_start" else
                            "the day of its line items' latest date_to, which is exclusive"), derived=True)


CSV_BILLED_FTE = Conversion(
    sql(_LOOKUP.format("CAST(s.seats AS VARCHAR)"), "id"), ("invoices.id",),
    note="the sum of its plan lines' quantities", derived=True)

CSV = Format(
    "chargebee", "csv",
    tables={
        "billing_customers": TableMap(
            files=("Customers.csv", "customers.csv"),
            columns={"customer_id": "customers.id",
                     "name": name("customers.company", "customers.first_name", "customers.last_name"),
                     "email": "customers.email", "tax_id": convert.text("customers.vat_number", optional=True),
                     "updated_at": timestamp_of("customers.updated_at", optional=True)},
        ),
        "billing_invoices": TableMap(
            files=("Invoices.csv", "invoices.csv"),
            columns={"invoice_id": "invoices.id", "customer_id": "invoices.customer_id",
                     "period_start": _csv_period("period_start"), "period_end": _csv_period("period_end"),
                     "issued_on": date_of("invoices.date"), "status": "invoices.status",
                     "amount": money("invoices.total", "invoices.currency_code"),
                     "currency": "invoices.currency_code", "billed_fte": CSV_BILLED_FTE,
                     "updated_at": timestamp_of("invoices.updated_at", optional=True)},
            statuses=INVOICE_STATUSES,
            related={
                "line_items": Related(files=("LineItems.csv", "Line_Items.csv", "InvoiceLineItems.csv",
                                             "Invoice_Line_Items.csv", "line_items.csv"), columns=LINE_COLUMNS),
                "summary": Related(sql=SUMMARY),
            },
        ),
    },
    kinds={"date": date_of, "timestamp": timestamp_of,
           "money": lambda column: money(column, "invoices.currency_code")},
)

# --- the API's JSON: line items inside the invoice --------------------------------------------------------------

# Each line's fields as a list, one element per line (the JSON source parses each invoice once into them);
# `@lines` (their JSON) is read on refusal only.
JSON_PERIOD = ("line_items[*].date_from", "line_items[*].date_to", "line_items_next_offset", "line_items")
JSON_ALIASES = ("froms", "tos", "more", "lines")
MORE = "@more IS NOT NULL"
MORE_LINES = ("absent (the invoice's line items continue on another page, so its period and seats would be wrong: "
              "export invoices with all their line items)")


def _json_line(i: str, field: str) -> str:
    return f"'line_items[' || CAST({i} - 1 AS VARCHAR) || '].{field}'"


def _json_period(column: str) -> Conversion:
    if column == "period_start":
        seconds, pick = f"list_transform(@froms, lambda v: {instant('v')})", "list_min"
        line = f"CASE WHEN {instant('q[1]')} IS NULL THEN [{_json_line('i', 'date_from')}, q[1], '{TIME}'] END"
    else:
        seconds = (f"list_transform(list_transform(list_zip(@froms, @tos), lambda p: [{instant('p[1]')}, "
                   f"{instant('p[2]')}]), lambda b: CASE WHEN b[2] >= b[1] THEN greatest(b[1], b[2] - 1) END)")
        pick = "list_max"
        line = (f"CASE WHEN {instant('q[2]')} IS NULL THEN [{_json_line('i', 'date_to')}, q[2], '{TIME}'] "
                f"WHEN {instant('q[2]')} < {instant('q[1]')} THEN [{_json_line('i', 'date_to')}, q[2], "
                "'at or after its line''s date_from ' || q[1] || ' (date_to is exclusive)'] END")
    value = (f"CASE WHEN {MORE} THEN NULL ELSE " + bind(
        seconds, "s", f"CASE WHEN len(s) > 0 AND list_count(s) = len(s) THEN {day(f'{pick}(s)')} END") + " END")
    culprit = (f"CASE WHEN {MORE} THEN ['line_items_next_offset', @more, {literal(MORE_LINES)}] "
               "WHEN coalesce(len(@froms), 0) = 0 THEN ['line_items', @lines, 'a list of line items with their dates "
               "(date_from, date_to)'] "
               f"ELSE {first(f'list_transform(list_zip(@froms, @tos), lambda q, i: {line})')} END")
    # The line items are there (an empty list too: an invoice without lines is refused), or continue elsewhere.
    present = f"@froms IS NOT NULL OR {MORE}"
    return Conversion(sql(value, *JSON_ALIASES), JSON_PERIOD, "a list of line items with their dates (date_from, "
                      "date_to)", present=sql(present, *JSON_ALIASES), culprit=sql(culprit, *JSON_ALIASES),
                      note=("the day of its line items' earliest date_from" if column == "period_start" else
                            "the day of its line items' latest date_to, which is exclusive"), derived=True)


# Seats: the plan lines' quantity_in_decimal, else quantity.
JSON_SEATS = ("line_items[*].entity_type", "line_items[*].quantity", "line_items[*].quantity_in_decimal")
_JSON_LINES = "list_zip(@type, @quantity, @decimal)"
_JSON_PLAN = f"z[1] IN {PLANS} AND coalesce(z[3], z[2]) IS NOT NULL"
JSON_BILLED_FTE = Conversion(
    sql(seat_sum(f"list_transform(list_filter({_JSON_LINES}, lambda z: {_JSON_PLAN}), lambda z: coalesce(z[3], z[2]))"),
        "type", "quantity", "decimal"),
    JSON_SEATS, SEATS,
    present=sql(f"list_bool_or(list_transform({_JSON_LINES}, lambda z: {_JSON_PLAN}))", "type", "quantity", "decimal"),
    culprit=sql(first(
        f"list_transform({_JSON_LINES}, lambda z, i: CASE WHEN {_JSON_PLAN} AND {quantity('coalesce(z[3], z[2])')} "
        f"IS NULL THEN [{_json_line('i', 'quantity')} || CASE WHEN z[3] IS NOT NULL THEN '_in_decimal' ELSE '' END, "
        f"coalesce(z[3], z[2]), '{SEATS}'] END)"), "type", "quantity", "decimal"),
    note="the sum of its plan lines' quantities (quantity_in_decimal first)", derived=True,
)


def _live(kind: str) -> Conversion:
    """A live record of this kind: not deleted, and not another object (an event without one, read as itself)."""
    return Conversion(f"coalesce({{0}}, 'false') <> 'true' AND coalesce({{1}}, '{kind}') = '{kind}'",
                      ("deleted", "object"))


def _pages(name_: str) -> tuple[str, ...]:
    return (f"{name_}.json", f"{name_}.jsonl", f"{name_}_*.json", f"{name_}_*.jsonl")


JSON = Format(
    "chargebee", "json",
    tables={
        "billing_customers": TableMap(
            files=_pages("customers"),
            columns={"customer_id": "id", "name": name("company", "first_name", "last_name"), "email": "email",
                     "tax_id": "vat_number", "updated_at": timestamp_of("updated_at")},
            keep=_live("customer"),
            unwrap=("content.customer", "customer"),
        ),
        "billing_invoices": TableMap(
            files=_pages("invoices"),
            columns={"invoice_id": "id", "customer_id": "customer_id", "period_start": _json_period("period_start"),
                     "period_end": _json_period("period_end"), "issued_on": date_of("date"), "status": "status",
                     "amount": money("total", "currency_code"), "currency": "currency_code",
                     "billed_fte": JSON_BILLED_FTE, "updated_at": timestamp_of("updated_at")},
            statuses=INVOICE_STATUSES,
            keep=_live("invoice"),
            unwrap=("content.invoice", "invoice"),
        ),
    },
    kinds={"date": date_of, "timestamp": timestamp_of, "money": lambda column: money(column, "currency_code")},
)

CHARGEBEE = register(Format(CSV.name, CSV.reader, CSV.tables, CSV.kinds, alternatives=(JSON,)))
