from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tieout.config import SeverityThresholds
from tieout.output import format_money, money, to_csv, to_json
from tieout.severity import at_or_above, severity_of


@pytest.mark.parametrize(
    ("impact", "expected"),
    [("50000", "P1"), ("49999.99", "P2"), ("10000", "P2"), ("9999.9999", "P3"), ("1000", "P3"),
     ("999.99", "INFO"), ("0", "INFO")],
)
def test_contract_thresholds(impact: str, expected: str) -> None:
    assert severity_of(Decimal(impact), SeverityThresholds()) == expected


def test_thresholds_are_configurable() -> None:
    assert severity_of(Decimal("600"), SeverityThresholds(P1=Decimal(1000), P2=Decimal(500), P3=Decimal(1))) == "P2"


def test_at_or_above() -> None:
    assert at_or_above("P1", "P2") and at_or_above("P2", "P2") and not at_or_above("P3", "P2")


@given(st.decimals(min_value=-10**12, max_value=10**12, places=4, allow_nan=False, allow_infinity=False))
def test_json_money_is_exact(value: Decimal) -> None:
    parsed = json.loads(to_json({"impact": value}), parse_float=Decimal, parse_int=Decimal)
    assert parsed["impact"] == value


def test_json_dates_and_nulls() -> None:
    assert json.loads(to_json({"d": date(2026, 1, 2), "n": None})) == {"d": "2026-01-02", "n": None}


def test_money_shows_cents_unless_more_is_needed() -> None:
    assert str(money(Decimal("5000.0000"))) == "5000.00"
    assert str(money(Decimal("33.3333"))) == "33.3333"
    assert format_money(Decimal("1234567.5"), "EUR") == "1,234,567.50 EUR"


def test_csv_keeps_money_exact() -> None:
    assert to_csv([{"a": Decimal("0.1000"), "b": None}], ["a", "b"]) == "a,b\n0.10,\n"


def test_a_nested_value_is_a_json_cell_and_an_empty_one_no_value() -> None:
    edits = ({"day": date(2026, 3, 1), "old": "=1+1", "amount": Decimal("1.50")},)
    rows = list(csv.reader(io.StringIO(to_csv([{"e": edits, "none": ()}], ["e", "none"]))))
    assert rows[1][1] == ""
    assert json.loads(rows[1][0]) == [{"day": "2026-03-01", "old": "=1+1", "amount": 1.50}]
