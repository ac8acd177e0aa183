"""Read one as-of day of the standard layout (contract §3) into typed DuckDB tables.

DuckDB parses and type-checks in one pass and records every refused cell with its line and column
(`store_rejects`); we turn the first of those into an `InputError`. Money is read as text and checked
against a strict pattern before the cast, because DuckDB would otherwise round a fifth
decimal place away silently — and money must stay exact.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from pathlib import Path

import duckdb

from tieout.db import one
from tieout.errors import InputError
from tieout.sources.layout import (
    CONTRACT_STATUSES,
    INVOICE_STATUSES,
    KIND_TYPES,
    STANDARD_LAYOUT,
    ExportFile,
)

# rowid 0 is the first record, on row 2 of the file (the header is row 1).
_FIRST_ROW = 2

# Types DuckDB parses while reading; other kinds are read as text and checked by `_CHECKS`.
# FTE counts are parsed as read (a fifth decimal of an FTE count carries no meaning), money is not.
_READ_TYPES = {"date": "DATE", "timestamp": "TIMESTAMPTZ", "count": "BIGINT", "quantity": "DECIMAL(18,4)"}

_DECIMAL = r"^-?[0-9]+(\.[0-9]{1,4})?$"
# kind -> (SQL, with %s for the cell, true for a good non-empty value; what was expected)
_CHECKS = {
    "money": (f"regexp_full_match(%s, '{_DECIMAL}')", "an amount like 1234.50 (at most 4 decimals)"),
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
_CAST_EXPECTED = {
    "date": "a date as YYYY-MM-DD",
    "timestamp": "an ISO 8601 timestamp such as 2026-01-31T23:00:00Z",
    "count": "a whole number",
    "quantity": "a number like 12 or 12.5",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_header(path: Path) -> list[str]:
    """The header row of `path` (BOM allowed); refuses a missing, empty or non-UTF-8 file."""
    if not path.is_file():
        raise InputError("file is missing (a day's export must hold all six files)", file=path)
    with path.open("rb") as f:
        first = f.readline()
    if not first.strip():
        raise InputError("file is empty (expected a header row and at least one record)", file=path, row=1)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"bytes that are not UTF-8 at byte {e.start} of the header", file=path, row=1) from e
    return next(csv.reader(io.StringIO(text)))


def _check_header(spec: ExportFile, path: Path, header: list[str]) -> None:
    for name in spec.column_names:
        if name in header:
            continue
        unknown = [h for h in header if h not in spec.column_names]
        guess = difflib.get_close_matches(name, unknown, n=1)
        hint = f" — is {guess[0]!r} this column renamed?" if guess else ""
        raise InputError(
            f"missing column {name!r} (expected columns: {', '.join(spec.column_names)}){hint}",
            file=path,
            row=1,
            column=guess[0] if guess else name,
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise InputError(
            f"column {duplicated[0]!r} appears twice in the header", file=path, row=1, column=duplicated[0]
        )


def _first_reject(con: duckdb.DuckDBPyConnection, spec: ExportFile, path: Path) -> None:
    row = one(
        con,
        f"SELECT line, column_name, error_type, error_message FROM {spec.table}__rejects "
        "ORDER BY line, column_idx LIMIT 1",
    )
    if row is None:
        return
    line, column, error_type, message = row
    kinds = {c.name: c.kind for c in spec.columns}
    if error_type == "CAST" and column in kinds:
        value = message.split('Could not convert string "', 1)[-1].split('" to', 1)[0]
        raise InputError(
            f"{value!r} is not {_CAST_EXPECTED[kinds[column]]}", file=path, row=line, column=column
        )
    if error_type == "INVALID ENCODING":
        raise InputError(
            "bytes that are not UTF-8 (save the export as UTF-8)", file=path, row=line, column=column
        )
    if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        counts = re.findall(r"\d+", message)
        shape = f" ({counts[1]} cells where the header has {counts[0]})" if len(counts) >= 2 else ""
        raise InputError(f"{error_type.lower()}{shape} — is the file truncated or a value unquoted?",
                         file=path, row=line, column=column)
    raise InputError(f"{error_type.lower()}: {message}", file=path, row=line, column=column)


def _check_values(con: duckdb.DuckDBPyConnection, spec: ExportFile, path: Path, raw: str) -> None:
    """Every cell rule (required, pattern, vocabulary) over the loaded rows; the earliest failing row wins."""
    probes: list[tuple[str, str, str]] = []  # (column, problem, SQL true for a bad cell)
    for col in spec.columns:
        v = _q(col.name)
        if col.required:
            # Typed cells were parsed by DuckDB: only text can be blank rather than missing. Only a value
            # that sorts before '!' can start with a blank, so only those few are trimmed.
            blank = (f"{v} IS NULL" if col.kind in _READ_TYPES
                     else f"{v} IS NULL OR ({v} < '!' AND trim({v}, ' \t') = '')")
            probes.append((col.name, "a value is required", blank))
        if col.kind in _CHECKS:
            ok, expected = _CHECKS[col.kind]
            probes.append((col.name, f"expected {expected}", f"{v} IS NOT NULL AND NOT ({ok % v})"))
    if not probes:
        return
    # One query per rule rather than one scan with FILTERs: as a WHERE clause, a rule that no value can
    # break (no NULLs, nothing before '!') is answered from DuckDB's column statistics without a scan.
    firsts = con.execute(
        " UNION ALL ".join(f"SELECT {i} AS probe, min(rowid) AS first FROM {raw} WHERE {bad}"
                           for i, (_, _, bad) in enumerate(probes))
    ).fetchall()
    failing = [(first, i) for i, first in firsts if first is not None]
    if not failing:
        return
    rowid, i = min(failing)
    column, problem, _ = probes[i]
    (value,) = one(con, f"SELECT CAST({_q(column)} AS VARCHAR) FROM {raw} WHERE rowid = ?", [rowid]) or (None,)
    shown = "empty" if value is None or value.strip() == "" else repr(value)
    raise InputError(f"{shown}: {problem}", file=path, row=rowid + _FIRST_ROW, column=column)


def _duplicate_suspects(spec: ExportFile, raw: str) -> tuple[str, str]:
    """SQL of a small set of hashes that every duplicated key falls into (and a few innocent ones), and
    the expression giving a row's hash.

    Grouping 35 M usage rows by their full key builds a 35 M-entry hash table. For an (id, date) key,
    group by id and 64-day block instead and keep one bit per day: a block holds a duplicate exactly when
    it has more rows than distinct bits — a table as small as the number of ids.
    """
    kinds = {c.name: c.kind for c in spec.columns}
    key = [_q(k) for k in spec.primary_key]
    if len(key) == 2 and kinds[spec.primary_key[1]] == "date":
        ident, day = key
        days = f"({day} - DATE '0001-01-01')"
        return (
            f"SELECT hash({ident}, {days} // 64) AS h FROM {raw} GROUP BY {ident}, {days} // 64 "
            f"HAVING count(*) > bit_count(bit_or(CAST(1 AS UBIGINT) << CAST({days} % 64 AS UBIGINT)))"
        ), f"hash({ident}, {days} // 64)"
    return f"SELECT hash({', '.join(key)}) AS h FROM {raw} GROUP BY h HAVING count(*) > 1", f"hash({', '.join(key)})"


def _check_primary_key(con: duckdb.DuckDBPyConnection, spec: ExportFile, path: Path, raw: str) -> None:
    # The suspects are rare; only their rows are grouped exactly.
    suspects, suspect_of = _duplicate_suspects(spec, raw)
    key = ", ".join(_q(k) for k in spec.primary_key)
    dup = one(
        con,
        f"WITH suspects AS ({suspects}) "
        f"SELECT min(rowid), max(rowid), CAST(({key}) AS VARCHAR) FROM {raw} "
        f"WHERE {suspect_of} IN (SELECT h FROM suspects) "
        f"GROUP BY {key} HAVING count(*) > 1 ORDER BY 2 LIMIT 1",
    )
    if dup:
        first, second, value = dup
        label = " + ".join(spec.primary_key)
        raise InputError(
            f"duplicate {label} {value} (also at row {first + _FIRST_ROW})",
            file=path,
            row=second + _FIRST_ROW,
            column=spec.primary_key[0],
        )


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
            out.append(f"CAST(timezone('UTC', {v}) AS TIMESTAMP) AS {v}")
        elif col.kind == "money":
            out.append(f"CAST({v} AS {KIND_TYPES[col.kind]}) AS {v}")
        else:
            out.append(v)
    return f"CREATE OR REPLACE VIEW {spec.table} AS SELECT {', '.join(out)} FROM {raw}"


def read_export(con: duckdb.DuckDBPyConnection, spec: ExportFile, path: Path) -> int:
    """Load `path` as the view `spec.table`; return its record count. Raises `InputError` on bad input."""
    header = read_header(path)
    _check_header(spec, path, header)
    kinds = {c.name: c.kind for c in spec.columns}
    columns = (
        "{"
        + ", ".join(f"{_lit(h)}: '{_READ_TYPES.get(kinds.get(h, 'text'), 'VARCHAR')}'" for h in header)
        + "}"
    )
    raw = f"{spec.table}__raw"
    con.execute("SET TimeZone = 'UTC'")
    try:
        # Insertion order is kept, so rowid is the record's position in the file.
        con.execute(
            f"CREATE OR REPLACE TABLE {raw} AS SELECT * FROM read_csv({_lit(str(path))}, "
            f"header = true, auto_detect = false, columns = {columns}, delim = ',', quote = '\"', "
            f"escape = '\"', dateformat = '%Y-%m-%d', strict_mode = true, null_padding = false, "
            f"store_rejects = true, rejects_table = '{spec.table}__rejects', "
            f"rejects_scan = '{spec.table}__reject_scans')"
        )
    except duckdb.Error as e:
        raise InputError(f"cannot be read as CSV: {e}", file=path) from e
    _first_reject(con, spec, path)
    count = one(con, f"SELECT count(*) FROM {raw}")[0]  # type: ignore[index]
    if count == 0:
        raise InputError(
            "header only: the export holds no records (a missing day is not a clean day)", file=path, row=2
        )
    _check_values(con, spec, path, raw)
    _check_primary_key(con, spec, path, raw)
    con.execute(_typed_view(spec, raw))
    return count


def read_day(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Load every file of one as-of day's folder; return record counts per table."""
    if not folder.is_dir():
        raise InputError(
            "no export folder for this as-of date (a missing day is not a clean day)", file=folder
        )
    return {spec.table: read_export(con, spec, folder / spec.filename) for spec in STANDARD_LAYOUT}
