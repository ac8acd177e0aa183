"""Standard-layout values (contract §3) spelt the way Salesforce and Stripe hand them out (contract §3b).

Every function here is exact and reversible: a value the vendor's shape cannot carry without loss (an amount
finer than its currency's minor unit, a fractional seat count) raises `ValueError` instead of being rounded.
Choices between equivalent vendor spellings (`Draft` or `In Approval Process`) are a function of the record id,
so the same record is spelt the same way every day and every run.
"""

from __future__ import annotations

import calendar
import re
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tieout.sources.formats.stripe import EXPONENTS as STRIPE_EXPONENTS

# Stripe's own minor units (its zero- and three-decimal lists, which differ from ISO 4217: ISK has two),
# the ones its reader converts back with.
CURRENCY_EXPONENTS = STRIPE_EXPONENTS
# Standard contract status -> Salesforce Contract.STATUS spellings; the first is the usual one.
SALESFORCE_CONTRACT_STATUS = {
    "active": ("Activated",),
    "draft": ("Draft", "In Approval Process"),
    "expired": ("Expired",),
    "cancelled": ("Cancelled", "Terminated"),
}
EU_VAT_PREFIXES = frozenset("AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI"
                            .split())


def _moment(timestamp: str) -> datetime:
    """An ISO 8601 timestamp; one without an offset is taken as UTC (the demo's timezone)."""
    moment = datetime.fromisoformat(timestamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pick(record_id: str, every: int) -> bool:
    """True for about one record in `every`, the same ones on every run (crc32, not Python's salted hash)."""
    return zlib.crc32(record_id.encode("utf-8")) % every == 0


# --- Salesforce Data Loader ----------------------------------------------------------------------------------

def dataloader_line(values: list[str]) -> str:
    """One Data Loader CSV line (without the line break): every cell double-quoted, empty ones too."""
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


def salesforce_website(domain: str, account_id: str) -> str:
    """A WEBSITE URL whose host is `domain` (after an optional `www.`); mostly https://www.…/, some bare."""
    if not domain:
        return ""
    return f"http://{domain}" if _pick(account_id, 5) else f"https://www.{domain}/"


def salesforce_timestamp(timestamp: str) -> str:
    """ISO 8601 -> Salesforce's UTC form with milliseconds: 2024-09-30T11:03:00.000Z."""
    if not timestamp:
        return ""
    moment = _moment(timestamp).astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def salesforce_contract_status(status: str, contract_id: str) -> str:
    options = SALESFORCE_CONTRACT_STATUS[status.lower()]
    return options[1] if len(options) > 1 and _pick(contract_id, 3) else options[0]


# --- Stripe ----------------------------------------------------------------------------------------------------

def unix_seconds(timestamp: str) -> int:
    """An ISO 8601 timestamp as unix seconds (whole seconds only: Stripe has no finer unit)."""
    moment = _moment(timestamp)
    if moment.microsecond:
        raise ValueError(f"{timestamp}: Stripe timestamps are whole seconds")
    return int(moment.timestamp())


def unix_day(day: date) -> int:
    """Unix seconds of `day` at 00:00 in the project's timezone (the demo's: UTC)."""
    return calendar.timegm(day.timetuple())


def exclusive_end(period_end: date) -> int:
    """Stripe line periods end exclusively: the standard layout's last day + 1, at 00:00."""
    return unix_day(period_end + timedelta(days=1))


def currency_exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS.get(currency.upper(), 2)


def minor_units(amount: str, currency: str) -> int:
    """A decimal amount in major units as Stripe's integer minor units, exactly (`1234.50 USD` -> 123450)."""
    if not amount or not currency:
        raise ValueError("a Stripe amount needs both an amount and a currency")
    exponent = currency_exponent(currency)
    scaled = Decimal(amount).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency}: finer than the currency's {exponent} decimals")
    return int(scaled)


def seat_quantity(billed_fte: str) -> int | None:
    """billed_fte as a Stripe line quantity (an integer; None when the standard value is empty)."""
    if not billed_fte:
        return None
    quantity = Decimal(billed_fte)
    if quantity != quantity.to_integral_value():
        raise ValueError(f"billed_fte {billed_fte}: a Stripe quantity is a whole number")
    return int(quantity)


def stripe_tax_id_type(value: str) -> str:
    """Stripe's tax id `type` for the way the id is written: us_ein, gb_vat, eu_vat, otherwise unknown."""
    key = re.sub(r"[^A-Z0-9]", "", value.upper())
    if re.fullmatch(r"\d{9}", key):
        return "us_ein"
    if key.startswith("GB"):
        return "gb_vat"
    return "eu_vat" if key[:2] in EU_VAT_PREFIXES else "unknown"
