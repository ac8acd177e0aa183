"""A correction's values by the field's kind: checked (an amount in its currency's decimals — JPY none, USD two —, an
FTE a non-negative number, a date ISO `YYYY-MM-DD`, a status one of the layout's words) and compared as the kind
compares them (`ACME, Inc.` is `Acme Inc`; `12` is `12.0000`), the Python twin of `tieout_normalise`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from tieout.corrections.amounts import parse_amount
from tieout.corrections.fields import FieldSpec
from tieout.currencies import exponent
from tieout.entities.normalise import legal_name, registrable_domain, tax_id
from tieout.errors import BadArgument
from tieout.ownership.model import column


def shown_value(value: str | None) -> str:
    return "no value" if value is None else repr(value)


def plain(value: Decimal) -> str:
    """`12.0000` → `12`, `1250.5000` → `1250.5`: a stored DECIMAL as a person writes it."""
    return format(value.normalize(), "f")


def normalised(kind: str, value: str | None) -> object:
    """`value` in the form two values of `kind` are compared in (Python's twin of `tieout_normalise`)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if kind in ("amount", "fte"):
        try:
            return Decimal(text.replace(",", ""))
        except InvalidOperation:
            return text
    if kind == "name":
        return legal_name(text)
    if kind == "tax_id":
        return tax_id(text)
    if kind == "domain":
        return registrable_domain(text) or text.lower()
    if kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    return text.lower()


def check_kind(spec: FieldSpec, system: str, value: str | None, option: str) -> None:
    """Refuse a value `spec`'s kind cannot hold (BadArgument naming `option`). Blank is always "no value"."""
    if value is None or not value.strip():
        return
    text = value.strip()
    if spec.kind == "amount":
        parse_amount(text, option)
    elif spec.kind == "fte":
        number = parse_amount(text, option)
        if number is not None and number < 0:
            raise BadArgument(f"{option}: an FTE count is not negative (got {text[:40]!r})")
    elif spec.kind == "date":
        try:
            date.fromisoformat(text)
            if len(text) != 10:
                raise ValueError
        except ValueError:
            raise BadArgument(f"{option}: {text[:40]!r} is not a date (YYYY-MM-DD)") from None
    elif spec.kind == "status" and spec.owned is not None:
        held = column(spec.owned, system)
        words = (held.view.vocabulary or {}).get(held.column)
        if words and text.lower() not in words:
            raise BadArgument(f"{option}: {text[:40]!r} is not a {held.ref} value (expected {', '.join(words)})")


def check_currency(spec: FieldSpec, value: str | None, currency: str | None, option: str) -> None:
    """An amount has no more decimals than its currency (JPY none, USD two, KWD three): `1250.505` USD is a
    typo, not an amount. A shared amount is stated in the reporting currency."""
    if spec.kind != "amount" or currency is None:
        return
    amount = parse_amount(value, option)
    places = exponent(currency)
    if amount is not None and amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise BadArgument(f"{option}: {value!r} has more decimals than {currency} has ({places})")
