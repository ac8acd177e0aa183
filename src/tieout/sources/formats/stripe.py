"""Stripe: API list objects (`GET /v1/customers`, `GET /v1/invoices`) as the API hands them out — a list object
(`{"object": "list", "data": [...]}`), a JSON array or JSON Lines of objects; several page files of one object
type are one table. `docs/sources/stripe.md` says what is read and what is refused.

Stripe's own rules (contract §3b): amounts are integers in the currency's minor unit (Stripe's zero- and
three-decimal lists below, which are not ISO 4217's: Stripe keeps ISK two-decimal); times are unix seconds (UTC),
taken as dates in the project's time zone; currency codes are lower case; an invoice's service period is its line
items' `period`, whose `end` is exclusive; `billed_fte` is the sum of its subscription lines' quantities.

An invoice's lines are read with DuckDB's list functions, row by row in one statement (no Python per invoice):
a million invoices read as fast as their JSON can be parsed.
"""

from __future__ import annotations

from tieout.sources import convert
from tieout.sources.convert import Conversion
from tieout.sources.formats.base import Format, Related, TableMap, register
from tieout.sources.formats.templates import SEATS, day, first, quantity, sql
from tieout.sql import literal

# https://docs.stripe.com/currencies: amounts of these are whole units (500 JPY is 500)...
ZERO_DECIMAL = ("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF",
                "XOF", "XPF")
# ...of these thousandths (5.124 KWD is 5124). ISK, HUF and TWD stay two-decimal in the API (100 ISK is 10000).
THREE_DECIMAL = ("BHD", "JOD", "KWD", "OMR", "TND")
EXPONENTS = {**dict.fromkeys(ZERO_DECIMAL, 0), **dict.fromkeys(THREE_DECIMAL, 3)}

INVOICE_STATUSES = {s: s for s in ("draft", "open", "paid", "uncollectible", "void")}

SECONDS = "unix seconds such as 1767225600"
MORE_LINES = ("false (the export holds only the first page of this invoice's line items, so its period and seats "
              "would be wrong: export invoices with every line, e.g. list each invoice's lines until has_more is "
              "false)")


def seconds(v: str) -> str:
    """SQL true where the text `v` is a whole, non-negative number of unix seconds (at most 11 digits: up to the
    year 5138, so every value is a date); NULL where `v` is NULL."""
    return f"regexp_full_match({v}, '[0-9]{{1,11}}')"


def unix(v: str) -> str:
    """Unix seconds as text -> BIGINT, or NULL where the text is not `seconds`."""
    return f"(CASE WHEN {seconds(v)} THEN CAST({v} AS BIGINT) END)"


def _day(v: str) -> str:
    """`day` of unix seconds read by `seconds` (1970 to 5138). In UTC, the default time zone, the date is the
    instant's own — a third of the cost of applying a zone's rules; DuckDB keeps only the branch of the zone."""
    return (f"CASE WHEN @tz = 'UTC' THEN CAST(CAST(make_timestamp({v} * 1000000) AS DATE) AS VARCHAR) "
            f"ELSE {day(v)} END")


# --- invoices: the line items -----------------------------------------------------------------------------------

# Each line's fields as a list, one element per line (NULL where a line lacks the field): the JSON source parses
# each invoice once into them (`tieout.sources.vendor.JsonReader.want`). `@lines` (their JSON) is read on refusal
# only, to show an invoice without lines.
PERIOD_START_INPUTS = ("period_start", "lines.data[*].period.start", "lines.data[*].period.end", "lines.has_more",
                       "period_end", "lines.data")
PERIOD_ALIASES = ("own", "starts", "ends", "more", "other", "lines")
MORE = "coalesce(@more, 'false') <> 'false'"
NO_LINES = "coalesce(len(@starts), 0) = 0"

# Each line's last second: its period.end is exclusive, and a one-off item's period is one instant (end = start,
# as in Stripe's fixtures), whose one day is the start's — greatest(start, end - 1). The lines are first checked
# (every start unix seconds; for the end, every end too and not before its start), then read as whole lists:
# the latest last second is greatest(the latest start, the latest end - 1).
_STARTS_READ = f"list_bool_and(list_transform(@starts, lambda v: coalesce({seconds('v')}, false)))"
_LINES_READ = (f"list_bool_and(list_transform(list_zip(@starts, @ends), lambda p: coalesce({seconds('p[1]')} AND "
               f"{seconds('p[2]')} AND TRY_CAST(p[2] AS BIGINT) >= TRY_CAST(p[1] AS BIGINT), false)))")
_FIRST = "list_min(CAST(@starts AS BIGINT[]))"
_LAST = "greatest(list_max(CAST(@starts AS BIGINT[])), list_max(CAST(@ends AS BIGINT[])) - 1)"


def _own(column: str) -> str:
    """The invoice's own period_start or period_end (an invoice without lines), in seconds: `@own` is the
    column's own field, `@other` the other bound."""
    if column == "period_start":
        return unix("@own")
    return f"CASE WHEN {unix('@own')} >= {unix('@other')} THEN greatest({unix('@other')}, {unix('@own')} - 1) END"


def _line_field(i: str, name: str) -> str:
    return f"'lines.data[' || CAST({i} - 1 AS VARCHAR) || '].{name}'"


def period(column: str) -> Conversion:
    """period_start: the day of the earliest line start; period_end: the day of the latest line's last second.
    An invoice without lines (a draft being built) is read by its own period_start and period_end."""
    read, pick = (_STARTS_READ, _FIRST) if column == "period_start" else (_LINES_READ, _LAST)
    value = f"CASE WHEN {MORE} THEN NULL WHEN {NO_LINES} THEN {_day(_own(column))} WHEN {read} THEN {_day(pick)} END"
    # A value is there where the invoice has lines (even none: an empty list) or a period of its own.
    present = f"@starts IS NOT NULL OR @own IS NOT NULL OR {MORE}"
    if column == "period_start":
        own = f"['period_start', @own, '{SECONDS}']"
        line = f"CASE WHEN {unix('p[1]')} IS NULL THEN [{_line_field('i', 'period.start')}, p[1], '{SECONDS}'] END"
    else:
        own = (f"CASE WHEN {unix('@own')} IS NULL THEN ['period_end', @own, '{SECONDS}'] "
               "ELSE ['period_end', @own, 'at or after the invoice''s period_start ' || @other] END")
        line = (f"CASE WHEN {unix('p[2]')} IS NULL THEN [{_line_field('i', 'period.end')}, p[2], '{SECONDS}'] "
                f"WHEN {unix('p[2]')} < {unix('p[1]')} THEN [{_line_field('i', 'period.end')}, p[2], "
                "'at or after the line''s period.start ' || p[1] || ' (its end is exclusive)'] END")
    none = ("['lines.data', @lines, 'a list of line items with their periods (an invoice without lines is read by "
            f"its own {column}, and this one has none)']")
    culprit = (f"CASE WHEN {MORE} THEN ['lines.has_more', @more, {literal(MORE_LINES)}] "
               f"WHEN {NO_LINES} THEN CASE WHEN @own IS NULL THEN {none} ELSE {own} END "
               f"ELSE {first(f'list_transform(list_zip(@starts, @ends), lambda p, i: {line})')} END")
    inputs = PERIOD_START_INPUTS if column == "period_start" else (
        "period_end", *PERIOD_START_INPUTS[1:4], "period_start", "lines.data")
    return Conversion(sql(value, *PERIOD_ALIASES), inputs, "a list of line items with their periods",
                      present=sql(present, *PERIOD_ALIASES), culprit=sql(culprit, *PERIOD_ALIASES),
                      note=("the day of the earliest line's period.start" if column == "period_start" else
                            "the day of the latest line's period.end, which is exclusive"), derived=True)


# billed_fte: the quantities of the subscription lines (`type` subscription before API version 2025-03-31,
# `parent.type` subscription_item_details since); `quantity_decimal` where `quantity` is null. Trailing zeros of
# a decimal are dropped; then at most 4 decimals, as the standard layout allows.
SEAT_INPUTS = ("lines.data[*].type", "lines.data[*].parent.type", "lines.data[*].quantity",
               "lines.data[*].quantity_decimal")
SEAT_ALIASES = ("type", "parent", "quantity", "decimal")
_SUBSCRIPTION = "(z[1] = 'subscription' OR z[2] = 'subscription_item_details')"
_LINES = "list_zip(@type, @parent, @quantity, @decimal)"
# Each line's seats: NULL for a line that is no subscription line or has no quantity, -1 where the quantity is
# not a number of seats. The value and the presence test read the same list: DuckDB computes it once.
_SEATS = (f"list_transform({_LINES}, lambda z: CASE WHEN {_SUBSCRIPTION} AND coalesce(z[3], z[4]) IS NOT NULL "
          f"THEN coalesce({quantity('coalesce(z[3], z[4])')}, -1) END)")
BILLED_FTE = Conversion(
    sql(f"CASE WHEN list_min({_SEATS}) >= 0 THEN CAST(list_sum({_SEATS}) AS VARCHAR) END", *SEAT_ALIASES),
    SEAT_INPUTS, SEATS,
    present=sql(f"list_count({_SEATS}) > 0", *SEAT_ALIASES),
    culprit=sql(first(
        f"list_transform({_LINES}, lambda z, i: CASE WHEN {_SUBSCRIPTION} AND coalesce(z[3], z[4]) IS NOT NULL AND "
        f"{quantity('coalesce(z[3], z[4])')} IS NULL THEN [{_line_field('i', 'quantity')} "
        f"|| CASE WHEN z[3] IS NULL THEN '_decimal' ELSE '' END, coalesce(z[3], z[4]), '{SEATS}'] END)"),
        *SEAT_ALIASES),
    note="the sum of the subscription lines' quantities", derived=True,
)

# issued_on: the day the invoice was finalized (issued to the customer: a draft may be created days before),
# else the day it was created (a draft's). Either, when present, must be unix seconds.
_CREATED_BAD = f"(@created IS NOT NULL AND {unix('@created')} IS NULL)"
_FINALIZED_BAD = f"(@finalized IS NOT NULL AND {unix('@finalized')} IS NULL)"
ISSUED_ON = Conversion(
    sql(f"CASE WHEN (@created IS NULL OR {seconds('@created')}) AND (@finalized IS NULL OR {seconds('@finalized')}) "
        f"THEN {_day('CAST(coalesce(@finalized, @created) AS BIGINT)')} END", "created", "finalized"),
    ("created", "status_transitions.finalized_at"), SECONDS,
    present=sql("@created IS NOT NULL OR @finalized IS NOT NULL", "created", "finalized"),
    culprit=sql(f"CASE WHEN {_CREATED_BAD} THEN ['created', @created, '{SECONDS}'] WHEN {_FINALIZED_BAD} "
                f"THEN ['status_transitions.finalized_at', @finalized, '{SECONDS}'] END", "created", "finalized"),
    note="status_transitions.finalized_at, else created: unix seconds as a date in the project's time zone",
)

# A customer may be expanded in place of its id (`expand[]=data.customer`).
CUSTOMER = Conversion("CASE WHEN starts_with(ltrim({0}), '{{') THEN json_extract_string({0}, '$.id') ELSE {0} END",
                      ("customer",), note="as written (an expanded customer: its id)")

# Stripe deletes customers (and draft invoices) in place: a deleted object is no live record.
LIVE = Conversion("coalesce({0}, 'false') <> 'true'", ("deleted",))

# The customer's tax id: the first of its `tax_ids` (a customer listed with `expand[]=data.tax_ids`), else the
# first tax_id object of `tax_ids.json` (`GET /v1/tax_ids`, or each customer's) whose owner is this customer.
TAX_ID = Conversion(
    "coalesce({0}, (SELECT first(t.value ORDER BY t.tieout__file, t.tieout__position) "
    "FROM billing_customers__tax_ids AS t WHERE t.customer = {1}))",
    ("tax_ids.data[0].value", "id"), note="the first of its tax_ids, else its first in tax_ids.json")
TAX_ID_COLUMNS = {"customer": Conversion("coalesce({0}, {1})", ("customer", "owner.customer")),
                  "value": convert.text("value")}


def _pages(name: str) -> tuple[str, ...]:
    """One object type's file: a list object or array, JSON Lines, or pages of either (first found wins)."""
    return (f"{name}.json", f"{name}.jsonl", f"{name}_*.json", f"{name}_*.jsonl")


STRIPE = register(Format(
    "stripe", "json",
    tables={
        "billing_customers": TableMap(
            files=_pages("customers"),
            columns={"customer_id": "id", "name": "name", "email": "email", "tax_id": TAX_ID},
            keep=LIVE,
            related={"tax_ids": Related(files=_pages("tax_ids"), columns=TAX_ID_COLUMNS, optional=True)},
        ),
        "billing_invoices": TableMap(
            files=_pages("invoices"),
            columns={"invoice_id": "id", "customer_id": CUSTOMER, "period_start": period("period_start"),
                     "period_end": period("period_end"), "issued_on": ISSUED_ON, "status": "status",
                     "amount": convert.minor_units("total", "currency", EXPONENTS), "currency": "currency",
                     "billed_fte": BILLED_FTE},
            statuses=INVOICE_STATUSES,
            keep=LIVE,
        ),
    },
    kinds={
        "date": convert.unix_date,
        "timestamp": convert.unix_timestamp,
        "money": lambda column: convert.minor_units(column, "currency", EXPONENTS),
    },
))
