"""Exchange rates into the reporting currency, as `fx_rates` in tieout.yml gives them.

Per currency either one rate, used on every day, or a schedule — a rate in effect from each date:

    fx_rates:
      EUR: {2026-01-01: 1.08, 2026-02-01: 1.10}   # 1.08 from Jan 1 through Jan 31, 1.10 from Feb 1
      JPY: 0.0067                                  # every day

The rate for as-of day D is the one with the latest date on or before D; a day before a currency's first date
has no rate for it, and a run that meets an amount in that currency that day is refused rather than guessed.
Rates are exact decimals (a rate is a price finance agreed on, not a measurement): YAML reads `1.08` as a
binary float, so it is taken back by its shortest decimal spelling — the digits written in the file.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Schedule = dict[date, Decimal]  # the date each rate takes effect -> the rate, in date order
Rates = Decimal | Schedule

# The canonical `fx_rates` table holds a rate as DECIMAL(24, 12): up to 12 decimals (a VND or IDR rate into
# USD needs 8 or more to keep its significant digits) and 12 digits before the point.
MAX_DECIMALS = 12
MAX_RATE = Decimal(10) ** 12
RATE_PRECISION = (24, MAX_DECIMALS)
RATE_SQL_TYPE = f"DECIMAL{RATE_PRECISION}"
_A_RATE = "expected a rate > 0 (the reporting currency per unit, e.g. 1.08)"
_A_RATE_OR_DATES = (f"{_A_RATE}, or dates each with the rate in effect from it "
                    "(e.g. {2026-01-01: 1.08, 2026-02-01: 1.10})")


def _rate(value: Any, day: date | None = None) -> Decimal:
    """`value` as an exact rate; `day`: the date it takes effect from, in a schedule."""
    prefix, expected = (f"{day}: ", _A_RATE) if day else ("", _A_RATE_OR_DATES)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(prefix + expected)
    try:
        # a float is YAML's reading of the digits in the file: repr gives those digits back
        rate = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError(prefix + expected) from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(prefix + expected)
    if -int(rate.normalize().as_tuple().exponent) > MAX_DECIMALS:
        raise ValueError(f"{prefix}{value}: a rate has at most {MAX_DECIMALS} decimal places")
    if rate >= MAX_RATE:
        raise ValueError(f"{prefix}{value}: a rate is below {MAX_RATE:,}")
    return rate


def _day(key: Any) -> date:
    if isinstance(key, date) and not isinstance(key, datetime):
        return key
    if isinstance(key, str):
        try:
            return date.fromisoformat(key.strip())
        except ValueError:
            pass
    raise ValueError(f"{key!r}: expected a date YYYY-MM-DD from which the rate is in effect")


def parse_rates(value: Any) -> Rates:
    """One currency's entry of `fx_rates`: a rate, or a mapping of dates to rates (returned in date order).
    A ValueError says what was expected."""
    if isinstance(value, dict):  # a schedule
        if not value:
            raise ValueError("expected at least one date with its rate (e.g. {2026-01-01: 1.08})")
        schedule: Schedule = {}
        for key, rate in value.items():
            day = _day(key)
            if day in schedule:
                raise ValueError(f"{day}: given twice")
            schedule[day] = _rate(rate, day)
        return dict(sorted(schedule.items()))
    return _rate(value)


def check_code(code: str) -> None:
    """A key of `fx_rates`: a currency code as the exports spell it, upper case (they are read upper-cased)."""
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise ValueError(f"{code}: expected a 3-letter upper-case currency code such as EUR")


def all_rates(rates: Rates) -> list[Decimal]:
    return list(rates.values()) if isinstance(rates, dict) else [rates]


def rate_on(rates: Rates, day: date | None) -> Decimal | None:
    """The rate in effect on `day`: the one with the latest date on or before it (None before the first date).
    `day` None: the latest rate."""
    if not isinstance(rates, dict):
        return rates
    found = None
    for start, rate in rates.items():  # in date order, and a schedule has a handful of dates
        if day is not None and start > day:
            break
        found = rate
    return found


def first_day(rates: Rates) -> date | None:
    """The first day `rates` give a rate for; None when every day has one."""
    return next(iter(rates)) if isinstance(rates, dict) else None
