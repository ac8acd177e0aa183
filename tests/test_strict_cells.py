"""A count, quantity or timestamp cell is held to its form whichever way the check takes: the short way for a
common good cell (digits only; a UTC timestamp to the second: `tieout.sources.standard._GOOD`) must refuse exactly
what the form and the cast alone refuse. (Dates: tests/test_strict_dates.py.)"""

from __future__ import annotations

import random

import duckdb
import pytest

from tests.test_strict_dates import edited
from tieout.sources.layout import KIND_TYPES, Column
from tieout.sources.standard import _HELD, _TYPED, _typed_cell_is_bad

KINDS = ("count", "quantity")

# What DuckDB's casts read leniently (signs, blanks, exponents, hex, underscores, rounding), the edges of each
# type's digits, and cells that are no numbers at all.
AWKWARD = ["0", "12", "012", "000", "12.5", "12.5000", "12.50000", "0.0001", ".5", "5.", "1.2.3", "+5", "-5", "-0",
           " 5", "5 ", "1e3", "1E3", "1e2", "0x10", "0xFFFFFFFF", "1_000", "NaN", "inf", "infinity", "١٢", "１２",
           "5\x00", "", "   ", "9" * 14, "9" * 15, "9" * 18, "9" * 19, "0" * 18 + "1", "9" * 14 + ".9999",
           "9" * 15 + ".5", "=1+1", "<script>"]


def _form_only(kind: str, v: str) -> str:
    """The verdict of the form and the cast alone (the check without a short way), as SQL over the cell `v`."""
    form = _TYPED[kind][0].replace("{v}", v)
    return f"coalesce({v} <> '' AND (TRY_CAST({v} AS {KIND_TYPES[kind]}) IS NULL OR NOT ({form})), false)"


def _both(con: duckdb.DuckDBPyConnection, kind: str, texts: list[str]) -> list[tuple[str, bool, bool]]:
    """(cell, the check's verdict, the form's verdict) of every text, and of a NULL cell."""
    checked = _typed_cell_is_bad(Column("n", kind, True), "v", f"TRY_CAST(v AS {KIND_TYPES[kind]})")
    return con.execute(f"SELECT v, {checked}, {_form_only(kind, 'v')} FROM unnest(?) AS t(v)",
                       [[*texts, None]]).fetchall()


@pytest.mark.parametrize("kind", KINDS)
def test_a_number_is_refused_exactly_when_its_form_is_wrong(kind: str) -> None:
    rows = _both(duckdb.connect(), kind, AWKWARD)
    assert [(v, checked) for v, checked, form in rows if checked != form] == []
    assert len(rows) == len(AWKWARD) + 1


@pytest.mark.parametrize("kind", KINDS)
def test_the_awkward_numbers_are_refused_and_the_plain_ones_pass(kind: str) -> None:
    # The comparison above means something only if both verdicts occur, for the reasons expected.
    verdict = {v: checked for v, checked, _ in _both(duckdb.connect(), kind, AWKWARD)}
    for text in ("0", "12", "012", "9" * 14, ""):
        assert verdict[text] is False, text
    for text in ("+5", "-5", " 5", "1e3", "1e2", "0x10", "0xFFFFFFFF", "1_000", "NaN", "9" * 19, "5\x00", "=1+1"):
        assert verdict[text] is True, text
    assert verdict[None] is False
    if kind == "count":
        assert verdict["9" * 18] is False and verdict["12.5"] is True
    else:
        assert verdict["12.5"] is False and verdict["0.0001"] is False
        assert verdict["9" * 15] is True and verdict["12.50000"] is True and verdict[".5"] is True


@pytest.mark.parametrize("kind", KINDS)
def test_random_number_like_cells_get_the_same_verdict(kind: str) -> None:
    rng = random.Random(15)
    alphabet = "0123456789.+-eExX_ ,"
    texts = []
    for _ in range(3000):
        base = list(str(rng.choice((rng.randint(0, 999), rng.randint(0, 10**20)))))
        if rng.random() < 0.3:
            base += ["."] + list(str(rng.randint(0, 10**rng.randint(1, 6))))
        texts.append(edited(rng, base, alphabet))
    rows = _both(duckdb.connect(), kind, texts)
    assert [v for v, checked, form in rows if checked != form] == []
    assert {checked for _, checked, _ in rows} == {True, False}


# What DuckDB's timestamp cast reads leniently, and the short way's near misses.
TIMESTAMPS = ["2026-03-15T06:00:00Z", "2026-03-15 06:00:00Z", "2026-03-15T06:00Z", "2026-03-15T06:00:00.5Z",
              "2026-03-15T06:00:00+01:00", "2026-03-15T06:00:00+0100", "2026-03-15T06:00:00+15:00",
              "2026-03-15T06:00:00", "2026-03-15T06:00:00z", "2026-03-15t06:00:00Z", "2026-03-15T24:00:00Z",
              "2026-03-15T23:59:60Z", "2026-03-15T06:60:00Z", "2026-02-30T06:00:00Z", "0000-01-01T00:00:00Z",
              "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "10000-01-01T00:00:00Z", "2026-3-15T06:00:00Z",
              " 2026-03-15T06:00:00Z", "2026-03-15T06:00:00Z ", "2026/03/15T06:00:00Z", "2026-03-15T6:00:00Z",
              "2026-03-15T06:00:00ZZ", "2026-03-15T06:00:00 UTC", "2026-03-15", "epoch", "infinity",
              "２０２６-03-15T06:00:00Z", "2026-03-15T06:00:00Z\x00", "", "   "]


def test_a_timestamp_is_refused_exactly_when_its_form_is_wrong() -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = _both(con, "timestamp", TIMESTAMPS)
    assert [(v, checked) for v, checked, form in rows if checked != form] == []
    verdict = {v: checked for v, checked, _ in rows}
    for text in ("2026-03-15T06:00:00Z", "2026-03-15 06:00:00Z", "2026-03-15T06:00:00+01:00", "0001-01-01T00:00:00Z",
                 "9999-12-31T23:59:59Z", ""):
        assert verdict[text] is False, text
    for text in ("2026-03-15T06:00:00", "2026-03-15T06:60:00Z", "2026-02-30T06:00:00Z", "0000-01-01T00:00:00Z",
                 "10000-01-01T00:00:00Z", " 2026-03-15T06:00:00Z", "2026-03-15T06:00:00ZZ", "infinity"):
        assert verdict[text] is True, text


def test_random_timestamp_like_cells_get_the_same_verdict() -> None:
    rng = random.Random(15)
    alphabet = "0123456789-: TZz+.\x00"
    texts = []
    for _ in range(3000):
        base = list(f"{rng.randint(0, 10001):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}T"
                    f"{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}:{rng.randint(0, 61):02d}Z")
        texts.append(edited(rng, base, alphabet))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = _both(con, "timestamp", texts)
    assert [v for v, checked, form in rows if checked != form] == []
    assert {checked for _, checked, _ in rows} == {True, False}


# Values at the edges of the narrower types a file is loaded in first (`tieout.sources.standard._HELD`).
HELD_EDGES = ["2147483647", "2147483648", "4294967296", "99999", "99999.9999", "100000", "100000.0001",
              "123456.5", "0.0001", "9" * 9, "9" * 10]


@pytest.mark.parametrize("kind", KINDS)
def test_a_cell_good_in_its_held_type_is_good_in_its_own_with_the_same_value(kind: str) -> None:
    # A file is loaded again in the kinds' own types only when a row was flagged in the held ones: so a held type
    # must never pass a cell the kind's own type refuses, nor pass it with another value.
    rng = random.Random(16)
    texts = AWKWARD + HELD_EDGES + [str(rng.randint(0, 10 ** rng.randint(1, 19))) for _ in range(1000)]
    column = Column("n", kind, True)
    held, own = f"TRY_CAST(v AS {_HELD[kind]})", f"TRY_CAST(v AS {KIND_TYPES[kind]})"
    rows = duckdb.connect().execute(
        f"SELECT v, {_typed_cell_is_bad(column, 'v', held)}, {_typed_cell_is_bad(column, 'v', own)}, "
        f"{held} IS NOT DISTINCT FROM {own} FROM unnest(?) AS t(v)", [texts]).fetchall()
    assert [v for v, bad_held, bad_own, same in rows if not bad_held and (bad_own or not same)] == []
    # ... and the held type does flag what it cannot hold, which the kind's own passes: such a file is loaded again
    too_big = {v for v, bad_held, bad_own, _ in rows if bad_held and not bad_own}
    largest, too_large = ("2147483647", "2147483648") if kind == "count" else ("99999.9999", "100000")
    assert too_large in too_big and largest not in too_big
