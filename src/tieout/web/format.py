"""How values look on a page: money with its currency and thousands separators, ISO dates, record cells.

Money stays Decimal here too: the digits come from `tieout.output.money` (two decimals when exact, else every
significant digit), never through a float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from tieout.currencies import exponent
from tieout.entity_names import subject as entity_subject
from tieout.output import digits
from tieout.output import money as exact
from tieout.systems import title

# Record columns holding an amount in the currency named by the row's `currency` column.
AMOUNT_COLUMNS = frozenset({"annual_value", "amount"})
SEVERITY_CLASS = {"P1": "sev-p1", "P2": "sev-p2", "P3": "sev-p3", "INFO": "sev-info"}


def number(value: Decimal | int | None) -> str:
    """`12,500.00`, `0.3333` — grouped, exact."""
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    shown = exact(value)
    places = max(2, -int(shown.as_tuple().exponent))
    return f"{shown:,.{places}f}"


def money(value: Decimal | None, currency: str | None) -> str:
    """`USD 12,500.00`: the currency first, as finance writes it in a table. For amounts in the reporting
    currency (impacts, totals), which keep at least two decimals (`tieout.output.format_reporting`)."""
    if value is None:
        return ""
    return f"{currency} {number(value)}" if currency else number(value)


def amount(value: Decimal | None, currency: str | None) -> str:
    """`JPY 1,500`, `KWD 12.345`, `EUR 10,000.00`: an amount in its own currency, with that currency's
    decimals (ISO 4217), none rounded away."""
    if value is None:
        return ""
    return f"{currency} {digits(value, exponent(currency))}" if currency else number(value)


def original(e: dict[str, Any] | Any) -> Markup:
    """Beneath an impact, the amount in the records' own currency when it has one (`EUR 10,000.00`)."""
    get = e.get if isinstance(e, dict) else lambda k: getattr(e, k, None)
    value, currency = get("original_amount"), get("original_currency")
    if value is None or not currency:
        return Markup("")
    return Markup('<span class="original" title="in the records\' own currency">{}</span>').format(
        amount(value, currency))


def iso(value: date | datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def cell(value: Any, column: str = "", row: dict[str, Any] | None = None) -> str:
    """A record's value as text: amounts with the row's currency, dates ISO, lists joined."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column in AMOUNT_COLUMNS and row is not None and row.get("currency"):
            return amount(value, row["currency"])
        return number(value)
    if isinstance(value, date | datetime):
        return iso(value)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


def system(name: str | None) -> str:
    return title(name)


def subject(e: dict[str, Any] | Any) -> str:
    """What an exception is about, in one line: `Acme Inc. (C00042) · billing · legal_name` or
    `billing:cus_1` (tieout.entity_names.subject)."""
    return entity_subject(e)


def code_spans(text: str) -> Markup:
    """Escape `text`, then show its `backticked` parts as code (the ownership document's convention)."""
    parts = escape(text).split("`")
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


def breakable(text: str | None) -> Markup:
    """`RULE_NAME` with a line-break opportunity after each underscore, so long names wrap in narrow columns."""
    return Markup(str(escape(text or "")).replace("_", "_<wbr>"))
