"""A date cell is held to its form (YYYY-MM-DD) whichever way the check takes: the quick one for a cell that is its
cast written back (`_GOOD`) must refuse exactly what the form alone refuses."""

from __future__ import annotations

import random

import duckdb
import pytest

from tieout.sources.layout import Column
from tieout.sources.standard import _TYPED, _typed_cell_is_bad

DATE = Column("date", "date", True)
CAST = "TRY_CAST(v AS DATE)"

# What DuckDB's date cast reads leniently, and what it writes back as the same text (year 10000).
AWKWARD = ["2026-03-15", "0001-01-01", "0044-03-15", "9999-12-31", "10000-01-01", "2026-2-3", "2026-02-3",
           " 2026-02-03", "2026-02-03 ", "2026/02/03", "2026.02.03", "+2026-02-03", "-0044-03-15", "0000-01-01",
           "2026-02-30", "2026-13-01", "infinity", "-infinity", "epoch", "2026-02-03 (BC)", "20260203",
           "2026-02-03T00:00", "２０２６-02-03", "2026-02-03\x00", "", "   ", "=HYPERLINK(\"x\")", "<script>"]


def _form_only(con: duckdb.DuckDBPyConnection, text: str) -> bool:
    """The verdict of the form and the cast alone (the check as it was before the quick way)."""
    form = _TYPED["date"][0].replace("{v}", "v")
    sql = f"SELECT coalesce(v <> '' AND ({CAST} IS NULL OR NOT ({form})), false) FROM (SELECT ? AS v)"
    return con.execute(sql, [text]).fetchone()[0]  # type: ignore[index]


def _checked(con: duckdb.DuckDBPyConnection, text: str) -> bool:
    sql = f"SELECT {_typed_cell_is_bad(DATE, 'v', CAST)} FROM (SELECT ? AS v)"
    return con.execute(sql, [text]).fetchone()[0]  # type: ignore[index]


@pytest.mark.parametrize("text", AWKWARD)
def test_a_date_is_refused_exactly_when_its_form_is_wrong(text: str) -> None:
    con = duckdb.connect()
    assert _checked(con, text) == _form_only(con, text)


def test_the_awkward_dates_are_refused_and_the_plain_ones_pass() -> None:
    # The comparison above means something only if both verdicts occur, for the reasons expected.
    con = duckdb.connect()
    assert not _checked(con, "2026-03-15") and not _checked(con, "0044-03-15")
    for text in ("10000-01-01", "2026-2-3", " 2026-02-03", "2026/02/03", "0000-01-01", "infinity", "2026-02-30"):
        assert _checked(con, text), text


def edited(rng: random.Random, base: list[str], alphabet: str) -> str:
    """`base` after a few random edits: a character replaced, dropped or inserted (from `alphabet`)."""
    for _ in range(rng.randint(0, 3)):
        at = rng.randrange(len(base) + 1)
        what = rng.choice(("replace", "drop", "insert"))
        if what == "insert" or at == len(base):
            base.insert(at, rng.choice(alphabet))
        elif what == "drop":
            del base[at]
        else:
            base[at] = rng.choice(alphabet)
    return "".join(base)


def test_random_date_like_cells_get_the_same_verdict() -> None:
    rng = random.Random(15)
    alphabet = "0123456789-/ .+:TZ(BC)"
    con = duckdb.connect()
    texts = []
    for _ in range(3000):
        base = list(f"{rng.randint(0, 12000):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}")
        texts.append(edited(rng, base, alphabet))
    rows = con.execute(
        f"SELECT v, {_typed_cell_is_bad(DATE, 'v', CAST)}, coalesce(v <> '' AND ({CAST} IS NULL OR NOT "
        f"({_TYPED['date'][0].replace('{v}', 'v')})), false) FROM unnest(?) AS t(v)", [texts]).fetchall()
    differ = [v for v, checked, form in rows if checked != form]
    assert not differ
    assert {checked for _, checked, _ in rows} == {True, False}
