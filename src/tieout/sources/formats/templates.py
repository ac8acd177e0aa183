"""Helpers for writing a vendor's conversion templates (`tieout.sources.convert.Conversion`) as readable SQL:
named inputs instead of `{0}`, a value computed once and used several times, a list's first non-NULL element."""

from __future__ import annotations


def sql(text: str, *inputs: str) -> str:
    """A conversion template from readable SQL: `@name` is the input of that name, `@tz` the project's time
    zone; braces are SQL's own."""
    out = text.replace("{", "{{").replace("}", "}}").replace("@tz", "{tz}")
    for i, name in sorted(enumerate(inputs), key=lambda n: -len(n[1])):
        out = out.replace(f"@{name}", f"{{{i}}}")
    return out


def day(seconds: str) -> str:
    """Unix seconds (BIGINT) -> the date of that instant in the project's time zone, as YYYY-MM-DD."""
    return f"strftime(timezone(@tz, to_timestamp({seconds})), '%Y-%m-%d')"


def bind(value: str, name: str, body: str) -> str:
    """`body` with `value` computed once under `name` (a lambda over a one-element list: DuckDB evaluates a
    repeated subexpression at each use)."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


def first(items: str) -> str:
    """The first non-NULL element of a list (NULL when there is none)."""
    return f"list_filter({items}, lambda c: c IS NOT NULL)[1]"


# A quantity of seats: trailing zeros of a decimal dropped, then digits with at most 4 decimals (the standard
# layout's form); NULL for anything else (a negative number, a word, a fifth decimal).
_NUMBER = "'[0-9]{1,14}(\\.[0-9]{1,4})?'"
SEATS = "a number of seats that is not negative, such as 12 (at most 4 decimals)"


def _trimmed(v: str) -> str:
    return f"CASE WHEN contains({v}, '.') THEN rtrim(rtrim({v}, '0'), '.') ELSE {v} END"


def quantity(v: str) -> str:
    """Seat text -> DECIMAL(18, 4), or NULL where it is not a number of seats."""
    return f"(CASE WHEN regexp_full_match({_trimmed(v)}, {_NUMBER}) THEN CAST({_trimmed(v)} AS DECIMAL(18, 4)) END)"


def seat_sum(seats: str) -> str:
    """The sum of a list of seat texts as text; NULL where one is not a number of seats, or the list is empty."""
    return bind(f"list_transform({seats}, lambda v: {quantity('v')})", "q",
                "CASE WHEN list_count(q) = len(q) THEN CAST(list_sum(q) AS VARCHAR) END")
