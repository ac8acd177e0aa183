"""How a standard column is made from a vendor's own values: small SQL conversions, written as data.

A `Conversion` reads one or more of the vendor's columns (or JSON fields) as text and gives the standard
layout's text for the cell, or NULL where the vendor's value is present but not in the vendor's form — then the
read is refused with the vendor's file, row and column and what the vendor's value should have looked like.
What comes out is then checked exactly as a standard export is (`tieout.sources.standard`).

Templates name their inputs `{0}`, `{1}`… (the SQL of each vendor column) and `{tz}` (the project's time zone as
a SQL string); a vendor's date-times become dates in the project's time zone (contract §3b).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from tieout.sql import literal as _sql_literal


def literal(text: str) -> str:
    """`text` as a SQL string inside a template: quoted, and its braces doubled for `str.format`."""
    return _sql_literal(text).replace("{", "{{").replace("}", "}}")


# Dates as the standard layout writes them; DuckDB's strftime of a TIMESTAMP.
_DATE = "'%Y-%m-%d'"
_INSTANT = "'%Y-%m-%dT%H:%M:%S.%fZ'"


@dataclass(frozen=True)
class Conversion:
    template: str
    inputs: tuple[str, ...]
    expected: str = ""  # what a vendor's value must look like; empty: the conversion cannot fail
    optional: bool = False  # a source without the column gives no value instead of being refused
    # How a person reads it (`tieout init`, `tieout sources check`): "unix seconds as a date".
    note: str = ""
    # Made from several of the vendor's values or tables (an invoice's service period from its items): an
    # org's own column named in `fields:` or `columns:` replaces it whole, read as the format reads the kind.
    derived: bool = False
    # SQL true where the vendor holds a value for the column (default: the first input is not blank); a present
    # value whose result is NULL did not convert. For a value read from a list of line items, or one that may
    # rightly be empty.
    present: str = ""
    # SQL naming the value at fault on a row that did not convert, as [field, value as written, what was
    # expected] (`lines.data[3].period.end` rather than the first input); NULL: the first input and `expected`.
    # Read on refusal only.
    culprit: str = ""

    def sql(self, refs: list[str], tz: str) -> str:
        return self.template.format(*refs, tz=_sql_literal(tz))

    def present_sql(self, refs: list[str], tz: str) -> str:
        """SQL true where the vendor holds a value for the column."""
        if self.present:
            return f"coalesce(({self.present.format(*refs, tz=_sql_literal(tz))}), false)"
        return not_blank(refs[0])

    def bad_sql(self, refs: list[str], tz: str, result: str | None = None) -> str | None:
        """SQL true where the vendor's values did not convert: present, and the result (`result` where it is
        computed already) NULL."""
        if not self.expected:
            return None
        return f"({self.present_sql(refs, tz)} AND ({result or self.sql(refs, tz)}) IS NULL)"

    def culprit_sql(self, refs: list[str], tz: str) -> str | None:
        return self.culprit.format(*refs, tz=_sql_literal(tz)) if self.culprit else None

    def reading(self, column: str) -> Conversion:
        """The same conversion over another vendor column (`fields:` names an org's own column)."""
        return replace(self, inputs=(column, *self.inputs[1:]), optional=False)


def not_blank(v: str) -> str:
    """SQL true where the text `v` holds more than blanks (`trim` removes). A value that starts with a printable
    ASCII character (most) is not blank: `trim`, which copies the text, is asked only of the others."""
    return f"coalesce({v} >= '!' AND {v} < chr(128) OR trim({v}) <> '', false)"


def text(column: str, *, optional: bool = False) -> Conversion:
    """The value as written."""
    return Conversion("{0}", (column,), optional=optional, note="as written")


def iso_date(column: str, *, optional: bool = False) -> Conversion:
    """A date, or a date and time (ISO 8601; without a zone it is UTC) taken as a date in the project's zone."""
    return Conversion(
        "CASE WHEN regexp_full_match({0}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') THEN {0} "
        f"ELSE strftime(timezone({{tz}}, TRY_CAST({{0}} AS TIMESTAMPTZ)), {_DATE}) END",
        (column,), "a date (YYYY-MM-DD) or an ISO 8601 date and time", optional,
        "a date, or a date and time taken as its date in the project's time zone")


def iso_timestamp(column: str, *, optional: bool = False) -> Conversion:
    """An ISO 8601 date and time; without a zone it is UTC (how warehouse loaders land them)."""
    return Conversion(f"strftime(timezone('UTC', TRY_CAST({{0}} AS TIMESTAMPTZ)), {_INSTANT})", (column,),
                      "an ISO 8601 date and time such as 2026-01-31T23:00:00Z", optional,
                      "an ISO 8601 date and time (UTC without a zone)")


_UNIX = "CASE WHEN regexp_full_match({0}, '-?[0-9]{{1,15}}') THEN %s END"


def unix_date(column: str, *, millis: bool = False, optional: bool = False) -> Conversion:
    """Unix seconds (or milliseconds) as the date of that instant in the project's time zone."""
    instant = "make_timestamp(CAST({0} AS BIGINT) * %s)" % ("1000" if millis else "1000000")
    return Conversion(_UNIX % f"strftime(timezone({{tz}}, CAST({instant} AS TIMESTAMPTZ)), {_DATE})",
                      (column,), f"unix {'milliseconds' if millis else 'seconds'} such as "
                      f"{'1767225600000' if millis else '1767225600'}", optional,
                      f"unix {'milliseconds' if millis else 'seconds'} as a date in the project's time zone")


def unix_timestamp(column: str, *, millis: bool = False, optional: bool = False) -> Conversion:
    """Unix seconds (or milliseconds) as an ISO 8601 instant in UTC."""
    instant = "make_timestamp(CAST({0} AS BIGINT) * %s)" % ("1000" if millis else "1000000")
    return Conversion(_UNIX % f"strftime({instant}, {_INSTANT})", (column,),
                      f"unix {'milliseconds' if millis else 'seconds'} such as "
                      f"{'1767225600000' if millis else '1767225600'}", optional,
                      f"unix {'milliseconds' if millis else 'seconds'} as an instant")


_DIGITS = "regexp_full_match(trim({0}), '-?[0-9]{{1,15}}')"
_MILLIS = "make_timestamp(CAST(trim({0}) AS BIGINT) * 1000)"


def iso_or_unix_date(column: str, *, optional: bool = False) -> Conversion:
    """A date, an ISO 8601 date and time, or unix milliseconds (a loader lands one API's times both ways), as
    the date of that instant in the project's time zone."""
    return Conversion(
        f"CASE WHEN {_DIGITS} THEN strftime(timezone({{tz}}, CAST({_MILLIS} AS TIMESTAMPTZ)), {_DATE}) "
        "WHEN regexp_full_match({0}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') THEN {0} "
        f"ELSE strftime(timezone({{tz}}, TRY_CAST({{0}} AS TIMESTAMPTZ)), {_DATE}) END",
        (column,), "a date (YYYY-MM-DD), an ISO 8601 date and time or unix milliseconds such as 1767225600000",
        optional, "a date, an ISO 8601 date and time or unix milliseconds, as a date in the project's time zone")


def iso_or_unix_timestamp(column: str, *, optional: bool = False) -> Conversion:
    """An ISO 8601 date and time (without a zone: UTC) or unix milliseconds, as an ISO 8601 instant in UTC."""
    return Conversion(
        f"CASE WHEN {_DIGITS} THEN strftime({_MILLIS}, {_INSTANT}) "
        f"ELSE strftime(timezone('UTC', TRY_CAST({{0}} AS TIMESTAMPTZ)), {_INSTANT}) END",
        (column,), "an ISO 8601 date and time such as 2026-01-31T23:00:00Z or unix milliseconds such as "
        "1767225600000", optional, "an ISO 8601 date and time (UTC without a zone) or unix milliseconds")


def minor_units(column: str, currency: str, exponents: Mapping[str, int], *, optional: bool = False) -> Conversion:
    """An integer amount in the currency's minor unit (cents; yen have none) as a decimal in major units.

    `exponents` lists the currencies whose minor unit is not a hundredth. Decimal arithmetic only: the
    product of an integer and 0.01 is exact."""
    # One map lookup rather than a CASE branch per currency: each branch would read the currency again (a JSON
    # source parses its object at each read).
    scale = ", ".join(f"{literal(c.upper())}: CAST({literal(_unit(e))} AS DECIMAL(5, 4))"
                      for c, e in sorted(exponents.items()))
    factor = (f"coalesce(MAP {{{{{scale}}}}}[upper({{1}})], CAST('0.01' AS DECIMAL(5, 4)))" if scale
              else "CAST('0.01' AS DECIMAL(5, 4))")
    return Conversion(
        "CASE WHEN regexp_full_match({0}, '-?[0-9]{{1,18}}') "
        f"THEN CAST(CAST({{0}} AS DECIMAL(18, 0)) * {factor} AS VARCHAR) END",
        (column, currency), "a whole number of the currency's minor unit (cents), such as 123450", optional,
        f"minor units (cents) of the currency in {currency}, as major units")


def _unit(exponent: int) -> str:
    return "1" if exponent == 0 else "0." + "0" * (exponent - 1) + "1"


def status(column: str, mapping: Mapping[str, str], *, optional: bool = False,
           otherwise: Conversion | None = None) -> Conversion:
    """A vendor's status word (any case, blanks around it ignored) mapped onto the standard vocabulary; a word
    the map does not list takes `otherwise`'s status (its template reads the word as {0}, its further inputs
    from {1} on), if any."""
    cases = " ".join(f"WHEN {literal(k.strip().lower())} THEN {literal(v)}" for k, v in mapping.items())
    listed = "one of " + ", ".join(mapping) + " (map another under the table's `statuses:`)" if mapping else ""
    mapped = "mapped: " + ", ".join(f"{k} -> {v}" for k, v in mapping.items()) if mapping else ""
    if otherwise is None:
        return Conversion(f"CASE lower(trim({{0}})) {cases} END", (column,), listed, optional, mapped)
    inputs = (column, *otherwise.inputs[1:])
    expected = f"{listed} or {otherwise.expected}" if listed else otherwise.expected
    note = f"{mapped}; otherwise {otherwise.note}" if mapped else otherwise.note
    if not cases:
        return Conversion(otherwise.template, inputs, expected, optional, note)
    return Conversion(f"CASE lower(trim({{0}})) {cases} ELSE ({otherwise.template}) END", inputs, expected,
                      optional, note)


# A plain web address: lower case, http(s)://, one `www.`, a host that does not start with `www` (RE2 has no
# look-ahead: a first label of `w`, `ww`, or anything else) and at most a trailing slash. `_HOST_AT` is where its
# host starts.
_PLAIN_HOST = "(?:[a-vx-z0-9.-][a-z0-9.-]*|w(?:[a-vx-z0-9.-][a-z0-9.-]*|w(?:[a-vx-z0-9.-][a-z0-9.-]*)?)?)"
_PLAIN_ADDRESS = f"'(?:https?://)?(?:www\\.)?{_PLAIN_HOST}/?'"
_HOST_AT = ("CASE WHEN starts_with({0}, 'https://www.') THEN 13 WHEN starts_with({0}, 'http://www.') THEN 12 "
            "WHEN starts_with({0}, 'https://') THEN 9 WHEN starts_with({0}, 'http://') THEN 8 "
            "WHEN starts_with({0}, 'www.') THEN 5 ELSE 1 END")


def web_host(column: str, *, optional: bool = False) -> Conversion:
    """A web address (`https://www.acme.com/about`, `acme.com`) as its host, without a leading `www.`.

    A plain address is cut with string functions, a fraction of the cost of the pattern that reads any other
    (upper case, blanks, a path, a port, user@, `www2.`); both give the same host (fuzzed)."""
    return Conversion(
        f"CASE WHEN regexp_full_match({{0}}, {_PLAIN_ADDRESS}) THEN substring({{0}}, {_HOST_AT}, "
        f"length({{0}}) + 1 - ({_HOST_AT}) - CASE WHEN ends_with({{0}}, '/') THEN 1 ELSE 0 END) "
        "ELSE nullif(regexp_extract(lower(trim({0})), "
        "'^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?(?:www[0-9]*\\.)?([^/:?#\\s]+)', 1), '') END",
        (column,), "a web address such as https://www.example.com", optional, "the host of a web address")


def with_statuses(conversion: Conversion, mapping: Mapping[str, str]) -> Conversion:
    """A format's own status conversion with a table's `statuses:` on top: the words `mapping` names are
    mapped its way, every other word as the format says."""
    cases = " ".join(f"WHEN {literal(k.strip().lower())} THEN {literal(v)}" for k, v in mapping.items())
    mapped = ", ".join(f"{k} -> {v}" for k, v in mapping.items())
    return replace(conversion, template=f"coalesce(CASE lower(trim({{0}})) {cases} END, {conversion.template})",
                   expected=f"{conversion.expected}; or one of {', '.join(mapping)}",
                   note=f"{mapped}; otherwise {conversion.note}" if conversion.note else mapped)
