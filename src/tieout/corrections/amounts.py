"""An amount correction's values, checked as amounts: what the run compares amounts as.

How far a correction moves the field (measured against the record, never against the claimed old value) is
tieout.corrections.movement.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tieout.errors import BadArgument

# What the run compares amounts as: DECIMAL(20, 4) — at most 16 digits before the point, 4 after.
_AMOUNT = re.compile(r"^[+-]?(\d{1,16}(\.\d{0,4})?|\.\d{1,4})$", re.ASCII)


def parse_amount(text: str | None, option: str) -> Decimal | None:
    """`text` as an amount (None when blank: no value), or BadArgument naming `option`. NaN, Infinity and
    exponents are not amounts; thousands separators (`1,000.50`) are allowed."""
    if text is None or not text.strip():
        return None
    plain = text.strip().replace(",", "")
    if not _AMOUNT.match(plain):
        raise BadArgument(f"{option}: {text.strip()[:40]!r} is not an amount (digits with an optional sign and "
                          "up to 4 decimals, at most 16 digits before the point, e.g. -1250.00)")
    return Decimal(plain)
