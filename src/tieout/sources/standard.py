"""Read one as-of day of the standard layout (contract §3) into typed DuckDB tables.

Every cell is read as text and checked against a strict pattern before it is typed, because DuckDB's own
parsing is lenient where an export must not be: it reads `2026-2-3` as a date, `1e3` and `+5` as numbers,
rounds a fifth decimal away and skips blanks around a value. The forms and casts run in the statement that
loads the file, leaving one boolean per row (`_BAD_ROW`) that the value checks read — from DuckDB's column
statistics when no cell failed. Money stays text until the typed view casts it, so it is
exact. Structural errors (a row with too few or too many cells, bad UTF-8) come from DuckDB's
`store_rejects` with their line; anything DuckDB refuses outright is located again in Python
(`tieout.sources.diagnose`), so every refusal names the file, the row and the column.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import duckdb

from tieout.db import one, slices
from tieout.errors import MAX_INPUT_ERRORS, InputError, input_errors
from tieout.sources.layout import (
    CONTRACT_STATUSES,
    INVOICE_STATUSES,
    KIND_TYPES,
    Column,
    ExportFile,
)
from tieout.sources.origin import Origin
from tieout.sql import quote_name

_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DIGITS_DATE = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
# kind -> (SQL, with {v} for the cell, true when the whole cell has the kind's form; what was expected), for
# the kinds typed while loading. A sign, an exponent, blanks, `NaN`/`infinity` and year 0 never pass; a value
# that passes but does not exist (2025-02-30, hour 25) fails the cast that follows. Digit counts keep every
# value inside its DuckDB type. GLOB where it says enough: on the 35 M cells of a large usage export it costs
# about half of a regular expression.
_TYPED = {
    "date": ("{v} GLOB " + _DIGITS_DATE + " AND {v} >= '0001'", "a date as YYYY-MM-DD"),
    "timestamp": (
        "regexp_full_match({v}, '" + _DATE
        + "[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)') "
        "AND {v} >= '0001'",
        "an ISO 8601 timestamp with its time zone, such as 2026-01-31T23:00:00Z",
    ),
    "count": ("NOT {v} GLOB '*[!0-9]*' AND strlen({v}) <= 18", "a whole number that is not negative, such as 12"),
    "quantity": (
        # digits, then at most one point with 1 to 4 digits after it (a second point fails the cast)
        "NOT {v} GLOB '*[!0-9.]*' AND {v} GLOB '[0-9]*' AND NOT {v} GLOB '*.' AND NOT {v} GLOB '*.?????*'",
        "a number that is not negative, such as 12 or 12.5 (digits and one point, at most 4 decimals)",
    ),
}

# DECIMAL(20,4) holds 16 digits before the point; a 17th would fail the cast in the typed view.
_MONEY = r"^-?[0-9]{1,16}(\.[0-9]{1,4})?$"
# C0 control characters other than tab (a NUL, an escape sequence, a line break inside a quoted cell), DEL and
# a byte order mark: never part of a name or an id, and harmful in a terminal, a report or a CSV written back.
_CONTROL = "[\\x00-\\x08\\x0a-\\x1f\\x7f\\x{feff}]"
# A required text cell that holds only blanks (ASCII, no-break and ideographic spaces) counts as empty.
_BLANK = "[ \\t\\x{a0}\\x{2000}-\\x{200b}\\x{3000}]*"
# kind -> (SQL, with %s for the cell, true for a good non-empty value; what was expected)
_CHECKS = {
    "money": (f"regexp_full_match(%s, '{_MONEY}')",
              "an amount like 1234.50 (at most 16 digits before the point and 4 after)"),
    "currency": ("regexp_full_match(%s, '^[A-Za-z]{3}$')", "a 3-letter currency code such as USD"),
    "contract_status": (
        "lower(%s) IN (" + ", ".join(f"'{s}'" for s in CONTRACT_STATUSES) + ")",
        "one of " + ", ".join(CONTRACT_STATUSES),
    ),
    "invoice_status": (
        "lower(%s) IN (" + ", ".join(f"'{s}'" for s in INVOICE_STATUSES) + ")",
        "one of " + ", ".join(INVOICE_STATUSES),
    ),
}
_CONTROL_PROBLEM = ("holds a control character (a NUL, a line break, an escape or a byte order mark); remove it "
                    "at the source")
# Text kinds without a pattern of their own: they are checked for control characters instead.
_FREE_TEXT = ("id", "text")


_q = quote_name


# True on a row where some typed cell was present but did not become a value (see `_load_sql`).
_BAD_ROW = "tieout__bad_row"


# kind -> SQL, with {v} for the cell and {t} for its cast, true only for a cell the kind's form and cast accept:
# the common good cell takes this short way and skips the full check (`_typed_cell_is_bad`), a NULL or any other
# cell takes the full one. A date that is its cast written back (as DuckDB writes it: YYYY-MM-DD for years 1 to
# 9999 only, 5 digits after, " (BC)" before, hence the length) has the form; on 35 M usage dates the cast's text
# is about half the cost of the form's GLOB. A count of digits only (at most 18) that cast is its form, and so
# is a quantity of digits only that cast (at most 14 digits). Every short way holds the cast to have succeeded:
# the cast may be to a type narrower than the kind's (`_HELD`), which a value of good form can overflow. On the
# 35 M rows of a 1 M-company usage export the short ways of counts and quantities cost about 1.5 CPU s less than
# their full forms (measured: 3.3 -> 2.9 CPU s for the three checks' statement on 10 M rows, against 1.9 with no
# check).
_GOOD = {
    "date": "strlen({v}) = 10 AND CAST({t} AS VARCHAR) = {v}",
    "count": "{t} IS NOT NULL AND NOT {v} GLOB '*[!0-9]*' AND strlen({v}) <= 18",
    "quantity": "{t} IS NOT NULL AND NOT {v} GLOB '*[!0-9]*'",
    # A UTC timestamp to the second, as exports mostly write them: one GLOB instead of the form's regular expression.
    "timestamp": "{t} IS NOT NULL AND {v} GLOB '" + _DIGITS_DATE[1:-1]
                 + "T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z' AND {v} >= '0001'",
}


def _typed_cell_is_bad(col: Column, v: str, typed: str) -> str:
    """SQL true when the text `v` of `col` is present but `typed` (its cast) failed or its form is wrong. An
    empty cell, quoted or not, is no value."""
    form = _TYPED[col.kind][0].replace("{v}", v)  # `>= '0001'` in a form: DuckDB reads year 0 as 1 BC
    bad = f"coalesce({v} <> '' AND ({typed} IS NULL OR NOT ({form})), false)"
    if col.kind in _GOOD:
        return f"CASE WHEN {_GOOD[col.kind].format(v=v, t=typed)} THEN false ELSE {bad} END"
    return bad


# kind -> the narrower type a loaded table holds the kind in, when every value of the file fits it (else the
# file is loaded again in its kind's own type: `read_export`). Counts and FTEs are small: held in 4 bytes
# rather than 8, the 35 M rows of a 1 M-company usage export take 280 MB less of the run's 1 GB memory limit,
# so less of the day is spilled and read back (a 1 M re-run: ~7 % less CPU and wall time). Readers see the
# kind's own type (`_typed_view`).
_HELD = {"count": "INTEGER", "quantity": "DECIMAL(9,4)"}


def _load_sql(spec: ExportFile, origin: Origin, raw: str, held: dict[str, str]) -> str:
    """One statement that reads the origin as text and types it: each typed column is cast (to the type
    `held` gives its kind, else the kind's own), and `_BAD_ROW` says whether any typed cell of the row was
    present but failed its form or its cast. One flag for the row rather than one per column: the loading
    statement is the cost of reading 35 M usage rows, and the column of a bad row is found again on refusal
    (`_first_bad_typed`)."""
    source = origin.relation(spec.table)
    typed = [(f"tieout__typed_{i}", c) for i, c in enumerate(spec.columns) if c.kind in _TYPED]
    if not typed:
        return f"CREATE OR REPLACE TABLE {raw} AS SELECT *, false AS {_BAD_ROW} FROM {source}"
    casts = ", ".join(f"TRY_CAST({_q(c.name)} AS {held.get(c.kind, KIND_TYPES[c.kind])}) AS {t}"
                      for t, c in typed)
    bad = " OR ".join(_typed_cell_is_bad(c, _q(c.name), t) for t, c in typed)
    names = ", ".join(f"{_q(c.name)}, {t}" for t, c in typed)
    # The inner query keeps the text and the cast side by side; the outer one keeps the cast under the
    # column's name. Insertion order is kept, so rowid is the record's position in the source.
    return (f"CREATE OR REPLACE TABLE {raw} AS SELECT * EXCLUDE ({names}), "
            f"{', '.join(f'{t} AS {_q(c.name)}' for t, c in typed)}, {bad} AS {_BAD_ROW} "
            f"FROM (SELECT *, {casts} FROM {source})")


def _first_bad_typed(con: duckdb.DuckDBPyConnection, spec: ExportFile, origin: Origin, raw: str,
                     rowid: int) -> tuple[Column, str | None]:
    """The first typed column of the flagged row `rowid` whose cell is bad, and that cell as written."""
    for col in spec.columns:
        if col.kind not in _TYPED:
            continue
        text = origin.relation_text(con, rowid, col.name)
        check = _typed_cell_is_bad(col, "v", f"TRY_CAST(v AS {KIND_TYPES[col.kind]})")
        if one(con, f"SELECT {check} FROM (SELECT CAST(? AS VARCHAR) AS v)", [text]) == (True,):
            return col, origin.text(con, raw, rowid, col.name)
    raise AssertionError(f"{origin.file}: row {rowid} was flagged but no typed cell is bad")


def _probes(spec: ExportFile) -> list[tuple[Column | None, str, str]]:
    """(column, problem, SQL true for a bad cell) for every cell rule of `spec`; the column of the typed-cell
    rule is None (found for the row on refusal)."""
    probes: list[tuple[Column | None, str, str]] = [(None, "", _BAD_ROW)]
    for col in spec.columns:
        v = _q(col.name)
        if col.required:
            # Typed cells were cast: only text can be blank rather than missing. Only a value that sorts
            # before '!' or after ASCII can start with a blank, so only those few are matched.
            blank = (f"{v} IS NULL" if col.kind in _TYPED
                     else f"{v} IS NULL OR (({v} < '!' OR {v} >= chr(128)) AND regexp_full_match({v}, '{_BLANK}'))")
            probes.append((col, "a value is required", blank))
        if col.kind in _CHECKS:
            ok, expected = _CHECKS[col.kind]
            probes.append((col, f"expected {expected}", f"{v} IS NOT NULL AND NOT ({ok % v})"))
        # (a usage id is checked once per id, with its key: see _duplicate_suspects)
        if col.kind in _FREE_TEXT and not (_by_id_and_date(spec) and col.name == spec.primary_key[0]):
            probes.append((col, _CONTROL_PROBLEM, f"regexp_matches({v}, '{_CONTROL}')"))
    return probes


def _check_values(con: duckdb.DuckDBPyConnection, spec: ExportFile, origin: Origin, raw: str) -> None:
    """Every cell rule (pattern, required, vocabulary, control characters) over the loaded rows; the earliest
    failing row wins."""
    probes = _probes(spec)
    # One query per rule rather than one scan with FILTERs: as a WHERE clause, a rule that no value can
    # break (no NULLs, nothing before '!', no flag set) is answered from DuckDB's column statistics.
    firsts = con.execute(
        " UNION ALL ".join(f"SELECT {i} AS probe, min(rowid) AS first FROM {raw} WHERE {bad}"
                           for i, (_, _, bad) in enumerate(probes))
    ).fetchall()
    failing = sorted((first, i) for i, first in firsts if first is not None)
    if failing:  # the first row breaking each rule, in row order; one problem per cell
        errors = [_cell_error(con, spec, origin, raw, rowid, probes[i]) for rowid, i in failing[:MAX_INPUT_ERRORS]]
        cells = {(e.file, e.row, e.column): e for e in reversed(errors)}  # a cell that did not cast is not blank too
        raise input_errors([e for e in errors if cells[(e.file, e.row, e.column)] is e])


def _cell_error(con: duckdb.DuckDBPyConnection, spec: ExportFile, origin: Origin, raw: str, rowid: int,
                probe: tuple[Column | None, str, str]) -> InputError:
    column, problem, _ = probe
    if column is None:
        column, value = _first_bad_typed(con, spec, origin, raw, rowid)
        return origin.error(con, raw, rowid, column.name, f"{value!r} is not {_TYPED[column.kind][1]}")
    value = origin.text(con, raw, rowid, column.name)
    shown = "empty" if value is None or value.strip() == "" else repr(value)
    return origin.error(con, raw, rowid, column.name, f"{shown}: {problem}")


def _by_id_and_date(spec: ExportFile) -> bool:
    """Whether `spec`'s key is an id and a date (usage): its id repeats on every day of the window."""
    kinds = {c.name: c.kind for c in spec.columns}
    return len(spec.primary_key) == 2 and kinds[spec.primary_key[1]] == "date"


def _duplicate_suspects(spec: ExportFile, raw: str, where: str = "true") -> tuple[str, str]:
    """SQL of a small set of hashes that every duplicated key among the rows WHERE `where` falls into (and a
    few innocent ones), with whether the group's id holds a control character; and the expression giving a
    row's hash.

    Grouping 35 M usage rows by their full key builds a 35 M-entry hash table. For an (id, date) key,
    group by id and 64-day block instead and keep one bit per day: a block holds a duplicate exactly when
    it has more rows than distinct bits — a table as small as the number of ids. The id's control-character
    check rides on the same grouping: once per id and block rather than once per row and day.
    """
    key = [_q(k) for k in spec.primary_key]
    if _by_id_and_date(spec):
        ident, day = key
        days = f"({day} - DATE '0001-01-01')"
        control = f"regexp_matches({ident}, '{_CONTROL}')"
        return (
            f"SELECT hash({ident}, {days} // 64) AS h, {control} AS control FROM {raw} WHERE {where} "
            f"GROUP BY {ident}, {days} // 64 "
            f"HAVING count(*) > bit_count(bit_or(CAST(1 AS UBIGINT) << CAST({days} % 64 AS UBIGINT))) "
            f"OR {control}"
        ), f"hash({ident}, {days} // 64)"
    return (f"SELECT hash({', '.join(key)}) AS h, false AS control FROM {raw} WHERE {where} GROUP BY h "
            f"HAVING count(*) > 1", f"hash({', '.join(key)})")


def _slice_of(spec: ExportFile) -> str:
    """The expression that slices an export's rows so that every group of `_duplicate_suspects` lies in one
    slice: the id's hash for an (id, date) key (its groups are an id's blocks), else the key's."""
    return f"hash({_q(spec.primary_key[0])})" if _by_id_and_date(spec) else _duplicate_suspects(spec, "")[1]


def _suspect_slices(con: duckdb.DuckDBPyConnection, spec: ExportFile, raw: str, rows: int) -> int:
    """In how many slices the suspects are grouped (`tieout.db.slices`). A key without a date is a group per
    row. An (id, date) key is a group per id and 64-day block: the ids are estimated from the dates' span (a
    scan of the date column only, when the rows alone would not fit), as a usage export that has a row per id
    and day has them; an export sparser than that has more groups than estimated and may run out of memory
    (refused as the memory limit's, `tieout.run`). Counting the ids exactly would cost a scan of every id."""
    if not _by_id_and_date(spec) or slices(rows) == 1:
        return slices(rows)
    days = f"({_q(spec.primary_key[1])} - DATE '0001-01-01')"
    first, last = one(con, f"SELECT min({days}), max({days}) FROM {raw}")  # type: ignore[misc]
    if first is None:
        return 1
    return slices(-(-rows // (last - first + 1)) * (last // 64 - first // 64 + 1))


def _check_primary_key(con: duckdb.DuckDBPyConnection, spec: ExportFile, origin: Origin, raw: str,
                       rows: int) -> None:
    # The suspects are rare; only their rows are grouped exactly. Under a run's memory limit a large export's
    # groups are made slice by slice: DuckDB does not spill a grouping's hash table (`tieout.db.slices`).
    count = _suspect_slices(con, spec, raw, rows)
    parts = [_duplicate_suspects(spec, raw, "true" if count == 1 else f"{_slice_of(spec)} % {count} = {part}")[0]
             for part in range(count)]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.table}__suspects AS {parts[0]}")
    for part in parts[1:]:
        con.execute(f"INSERT INTO {spec.table}__suspects {part}")
    suspect_of = _duplicate_suspects(spec, raw)[1]
    # Rows are looked up (a scan) only when some id has a control character; only an (id, date) key's
    # suspects say (any other key's ids were checked with the other cells, `_probes`: `control` is false).
    control = one(con, f"SELECT min(rowid) FROM {raw} WHERE {suspect_of} IN "
                       f"(SELECT h FROM {spec.table}__suspects WHERE control)"
                  ) if _by_id_and_date(spec) and one(
                      con, f"SELECT bool_or(control) FROM {spec.table}__suspects") == (True,) else None
    if control and control[0] is not None:
        column = spec.primary_key[0]
        raise origin.error(con, raw, control[0], column,
                           f"{origin.text(con, raw, control[0], column)!r}: {_CONTROL_PROBLEM}")
    key = ", ".join(_q(k) for k in spec.primary_key)
    dup = one(
        con,
        f"SELECT min(rowid), max(rowid), CAST(({key}) AS VARCHAR) FROM {raw} "
        f"WHERE {suspect_of} IN (SELECT h FROM {spec.table}__suspects) "
        f"GROUP BY {key} HAVING count(*) > 1 ORDER BY 2 LIMIT 1",
    )
    if dup:
        first, second, value = dup
        label = " + ".join(spec.primary_key)
        file, row = origin.place(con, raw, first)
        also = f"row {row}" if isinstance(row, int) else row
        if file != origin.place(con, raw, second)[0]:
            also += f" of {file}"
        raise origin.error(con, raw, second, spec.primary_key[0], f"duplicate {label} {value} (also at {also})")


# Each kind's type in the typed table (`_typed_view`), what every reader of a day sees: timestamps as UTC wall time.
TYPED_KINDS = {**KIND_TYPES, "timestamp": "TIMESTAMP"}


def _typed_view(spec: ExportFile, raw: str) -> str:
    """The typed table as a view over the loaded rows: a copy of 35 M usage rows costs more than casting
    the one text-read column again in each rule that reads it."""
    out = []
    for col in spec.columns:
        v = _q(col.name)
        if col.kind in ("contract_status", "invoice_status"):
            out.append(f"lower({v}) AS {v}")
        elif col.kind == "currency":
            out.append(f"upper({v}) AS {v}")
        elif col.kind == "timestamp":
            # Stored as UTC wall time: the business time zone only matters for as-of dates.
            out.append(f"CAST(timezone('UTC', {v}) AS {TYPED_KINDS[col.kind]}) AS {v}")
        elif col.kind == "money" or col.kind in _HELD:
            out.append(f"CAST({v} AS {KIND_TYPES[col.kind]}) AS {v}")
        else:
            out.append(v)
    return f"CREATE OR REPLACE VIEW {spec.table} AS SELECT {', '.join(out)} FROM {raw}"


def _load(con: duckdb.DuckDBPyConnection, spec: ExportFile, origin: Origin, raw: str, held: dict[str, str]) -> None:
    """Load `origin` into `raw` (`_load_sql`), again the plain way if DuckDB cannot read it and it has one."""
    while True:
        try:
            origin.stage(con, spec.table)
            con.execute(_load_sql(spec, origin, raw, held))
            return
        except duckdb.OutOfMemoryException:
            raise  # the run's memory limit, not the file (`tieout.run`)
        except duckdb.Error as e:
            if not origin.read_plainly():  # else read again, the plain way
                raise origin.unreadable(str(e)) from e


def read_export(con: duckdb.DuckDBPyConnection, spec: ExportFile, origin: Origin) -> int:
    """Load `origin` as the view `spec.table`; return its record count. Raises `InputError` on bad input."""
    origin.check_shape()
    raw = f"{spec.table}__raw"
    con.execute("SET TimeZone = 'UTC'")
    _load(con, spec, origin, raw, _HELD)
    origin.first_reject(con, spec.table)
    if any(c.kind in _HELD for c in spec.columns) and one(con, f"SELECT 1 FROM {raw} WHERE {_BAD_ROW} LIMIT 1"):
        # A value too large for its held type, or a bad cell: the kinds' own types give the verdict.
        _load(con, spec, origin, raw, {})
    origin.keep_records(con, raw)
    count = one(con, f"SELECT count(*) FROM {raw}")[0]  # type: ignore[index]
    if count == 0:
        raise origin.empty()
    origin.check_converted(con, raw)
    _check_values(con, spec, origin, raw)
    _check_primary_key(con, spec, origin, raw, count)
    con.execute(_typed_view(spec, raw))
    return count

