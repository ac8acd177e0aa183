"""How a cell reads as text (Markdown, HTML); Excel keeps the value itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tieout.output import money


def text(value: Any, kind: str) -> str:
    if value is None or value == "":
        return ""
    if kind == "money" and isinstance(value, Decimal):
        shown = money(value)
        return f"{shown:,.{max(2, -int(shown.as_tuple().exponent))}f}"
    if kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
