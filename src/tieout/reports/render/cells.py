"""How a cell reads as text (Markdown, HTML); Excel keeps the value itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tieout.output import Amount, digits


def text(value: Any, kind: str) -> str:
    if value is None or value == "":
        return ""
    if kind == "money" and isinstance(value, Decimal):  # the reporting currency, named in the column title
        return digits(value, 2)
    if isinstance(value, Amount):  # its own currency, with that currency's decimals: `1,500 JPY`
        return str(value)
    if kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
