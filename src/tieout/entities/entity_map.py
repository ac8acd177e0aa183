"""`entity_map.csv` (contract §4) loaded into the DuckDB table `entity_map`, validated in SQL.

Every refusal is an `InputError` naming the file, the row as a spreadsheet shows it (the header is row 1)
and the column, like every other input error. The checks are set-based queries over the whole file, so a
3-million-row map costs a few scans, not a Python loop.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import duckdb

from ..errors import InputError
from ..sources.diagnose import locate_unreadable, read_first_line
from ..sql import literal
from ..systems import SYSTEMS

COLUMNS = ("canonical_id", "source_system", "source_id", "effective_from", "effective_to", "notes")
REQUIRED = COLUMNS[:5]  # notes may be left out of a hand-written map
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
# Year 0 would be read as 1 BC; no map means it.
_FIRST_YEAR = "0001"
# As in an export (tieout.sources.standard): C0 controls but tab, DEL and a byte order mark are never part
# of an id or a note.
_CONTROL = "[\\x00-\\x08\\x0a-\\x1f\\x7f\\x{feff}]"

ENTITY_MAP_DDL = """
CREATE OR REPLACE TABLE entity_map (
    canonical_id VARCHAR NOT NULL,
    source_system VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    effective_from DATE NOT NULL,
    effective_to DATE,          -- NULL: open
    notes VARCHAR
)
"""


def _check_utf8(path: Path) -> bytes:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        row = data.count(b"\n", 0, exc.start) + 1
        header = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")
        index = data.count(b",", line_start, exc.start)  # ignores quoting: a good hint, not a parser
        column = header[index].strip() if index < len(header) else None
        raise InputError(
            f"not UTF-8: byte 0x{data[exc.start]:02x}",
            file=path,
            row=row,
            column=column,
        ) from None
    if not data.strip():
        raise InputError("the entity map is empty (no header row)", file=path)
    return data


def _check_line_endings(path: Path, data: bytes, header: list[str]) -> None:
    """LF or CRLF, the same in the whole map: DuckDB's sniffer would read a mix without a word."""
    carriage_returns = data.count(b"\r")
    if carriage_returns and not carriage_returns == data.count(b"\r\n") == data.count(b"\n"):
        raise locate_unreadable(path, header, "mixed line endings")


def _header(path: Path) -> list[str]:
    first = read_first_line(path).decode("utf-8-sig")  # refuses CR-only line endings
    return [c.strip().strip('"').strip() for c in first.rstrip("\r\n").split(",")]


def load_entity_map(con: duckdb.DuckDBPyConnection, path: Path | str, *, cache: Path | None = None,
                    keep: bool = False) -> None:
    """Read and validate `path` into the table `entity_map` (typed DATE columns, effective_to NULL = open).

    Refuses a missing file, missing columns, non-UTF-8 bytes, empty ids, an unknown source_system, a bad
    date, effective_to before effective_from, and overlapping effective ranges of one source record.

    `cache`: a folder holding the validated map of the file's exact bytes (`_cached`), read instead of
    validating again; with `keep` (a run, which may write the store) the map validated here is kept there.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("the entity map does not exist", file=path)
    if cache is not None:
        _load_cached(con, path, cache, keep)
    else:
        _load_and_validate(con, path)


# What a cached map is named after besides the file's bytes: the validating code and DuckDB's version (a cast
# may read a date otherwise), so that a cached map is always what validating the same bytes gives now.
_CACHE_BASIS = hashlib.sha256(Path(__file__).read_bytes() + duckdb.__version__.encode()
                              + ",".join(SYSTEMS).encode()).hexdigest()


def _cached(cache: Path, data: bytes) -> Path:
    """Where the validated map of the map file's bytes `data` is kept in `cache`."""
    digest = hashlib.sha256(_CACHE_BASIS.encode() + data).hexdigest()[:32]
    return cache / f"entity_map.{digest}.parquet"


def _load_cached(con: duckdb.DuckDBPyConnection, path: Path, cache: Path, keep: bool) -> None:
    """`load_entity_map` through the cache: a map validated before (the same bytes) is read back, typed as
    validated; any other is validated, and kept (`keep`) in place of the one before.

    At a million companies validating the 3 M-row map costs about 6 CPU seconds of every run, reading it back a
    fraction of one, and a map changes far less often than the exports."""
    data = path.read_bytes()
    kept = _cached(cache, data)
    del data
    if not (kept.is_file() and _read_back(con, kept)):
        _load_and_validate(con, path)
        if keep:
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f".{kept.name}.{os.getpid()}.tmp"
            con.execute(f"COPY entity_map TO {literal(str(tmp))} (FORMAT parquet)")
            os.replace(tmp, kept)
    if keep:  # on a hit too: a run killed before this left the map before in place
        for other in cache.glob("entity_map.*.parquet"):
            if other != kept:
                other.unlink(missing_ok=True)


def _read_back(con: duckdb.DuckDBPyConnection, kept: Path) -> bool:
    """Load the cached map `kept` as `entity_map`; False when it cannot be read (it is validated again then)."""
    try:
        con.execute(ENTITY_MAP_DDL)
        con.execute("INSERT INTO entity_map SELECT * FROM read_parquet(?)", [str(kept)])
        return True
    except duckdb.OutOfMemoryException:
        raise  # the run's memory limit, not the cache (`tieout.run`)
    except duckdb.Error:
        return False


def _load_and_validate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    data = _check_utf8(path)
    header = _header(path)
    _check_line_endings(path, data, header)
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise InputError(f"column {duplicated[0]!r} appears twice in the header", file=path, row=1,
                         column=duplicated[0])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} in the header; expected {', '.join(COLUMNS)}",
            file=path,
            row=1,
            column=missing[0],
        )
    try:
        # A table (not a view) keeps the file's order in rowid: rowid + 2 is the row (the header is row 1).
        con.execute(
            "CREATE OR REPLACE TEMP TABLE tieout_entity_map_raw AS SELECT * FROM read_csv(?, header = true, "
            "all_varchar = true, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            "null_padding = false)",
            [str(path)],
        )
    except duckdb.OutOfMemoryException:
        raise  # the run's memory limit, not the file (`tieout.run`)
    except duckdb.Error as exc:
        located = locate_unreadable(path, header, str(exc))
        if located.row is not None:
            raise located from None
        line = re.search(r"[Ll]ine:? (\d+)", str(exc))
        row = int(line.group(1)) if line else None
        raise InputError(f"not a readable CSV: {str(exc).splitlines()[0]}", file=path, row=row) from None
    try:
        _validate(con, path, header)
        notes = "notes" if "notes" in header else "NULL"
        con.execute(ENTITY_MAP_DDL)
        con.execute(f"""
            INSERT INTO entity_map
            SELECT trim(canonical_id), lower(trim(source_system)), trim(source_id),
                   CAST(trim(effective_from) AS DATE), CAST(nullif(trim(effective_to), '') AS DATE), {notes}
            FROM tieout_entity_map_raw ORDER BY rowid
        """)
    finally:
        con.execute("DROP TABLE IF EXISTS tieout_entity_map_raw")


def _validate(con: duckdb.DuckDBPyConnection, path: Path, header: list[str]) -> None:
    systems = ", ".join(f"'{s}'" for s in SYSTEMS)
    # Row-level checks: the first offending row wins, then the first failing check on it.
    checks = [
        (column, f"regexp_matches({column}, '{_CONTROL}')",
         f"'{column} holds a control character (a NUL, a line break, an escape or a byte order mark)'")
        for column in COLUMNS if column in header
    ] + [
        ("canonical_id", "coalesce(trim(canonical_id), '') = ''", "'empty canonical_id'"),
        ("source_system", "coalesce(trim(source_system), '') = ''", "'empty source_system'"),
        (
            "source_system",
            f"lower(trim(source_system)) NOT IN ({systems})",
            f"'unknown source_system ' || source_system || ' (expected one of {', '.join(SYSTEMS)})'",
        ),
        ("source_id", "coalesce(trim(source_id), '') = ''", "'empty source_id'"),
        ("effective_from", "coalesce(trim(effective_from), '') = ''", "'empty effective_from'"),
        (
            "effective_from",
            f"NOT regexp_matches(trim(effective_from), '{_ISO_DATE}') "
            f"OR trim(effective_from) < '{_FIRST_YEAR}' OR TRY_CAST(trim(effective_from) AS DATE) IS NULL",
            "'not a date (YYYY-MM-DD): ' || effective_from",
        ),
        (
            "effective_to",
            "coalesce(trim(effective_to), '') <> '' "
            f"AND (NOT regexp_matches(trim(effective_to), '{_ISO_DATE}') "
            f"OR trim(effective_to) < '{_FIRST_YEAR}' OR TRY_CAST(trim(effective_to) AS DATE) IS NULL)",
            "'not a date (YYYY-MM-DD): ' || effective_to",
        ),
        (
            "effective_to",
            "TRY_CAST(nullif(trim(effective_to), '') AS DATE) < TRY_CAST(trim(effective_from) AS DATE)",
            "'effective_to ' || effective_to || ' is before effective_from ' || effective_from",
        ),
    ]
    union = " UNION ALL ".join(
        f"SELECT * FROM (SELECT rowid + 2 AS row, {i} AS check_no, '{col}' AS col, {msg} AS msg "
        f"FROM tieout_entity_map_raw WHERE {cond} ORDER BY rowid LIMIT 1)"
        for i, (col, cond, msg) in enumerate(checks)
    )
    bad = con.execute(f"SELECT row, col, msg FROM ({union}) ORDER BY row, check_no LIMIT 1").fetchall()
    if bad:
        row, col, msg = bad[0]
        raise InputError(msg, file=path, row=row, column=col)

    # A source record belongs to one entity per day. With valid ranges sorted by start, ranges overlap
    # somewhere iff some range starts on or before the end of the one before it (open end = forever).
    overlap = con.execute("""
        WITH keyed AS (
            SELECT rowid + 2 AS row, lower(trim(source_system)) AS sys, trim(source_id) AS sid, *
            FROM tieout_entity_map_raw
        ), repeated AS (
            -- only a record with two or more rows can overlap: sort those few, not all 3 M
            SELECT sys, sid FROM keyed GROUP BY sys, sid HAVING count(*) > 1
        ), r AS (
            SELECT row, sys, sid, trim(canonical_id) AS cid,
                   CAST(trim(effective_from) AS DATE) AS f, CAST(nullif(trim(effective_to), '') AS DATE) AS t
            FROM keyed SEMI JOIN repeated USING (sys, sid)
        ), w AS (
            SELECT *, lag(t) OVER k AS prev_t, lag(row) OVER k AS prev_row, lag(cid) OVER k AS prev_cid,
                   row_number() OVER k AS n
            FROM r WINDOW k AS (PARTITION BY sys, sid ORDER BY f, row)
        )
        SELECT greatest(row, prev_row) AS row, least(row, prev_row) AS other, sys, sid
        FROM w WHERE n > 1 AND (prev_t IS NULL OR prev_t >= f)
        ORDER BY row LIMIT 1
    """).fetchall()
    if overlap:
        row, other, sys, sid = overlap[0]
        raise InputError(
            f"{sys} record {sid!r} has overlapping effective ranges in rows {other} and {row}: "
            f"a source record belongs to one entity per day, so close one range before the "
            f"next opens",
            file=path,
            row=row,
            column="effective_from",
        )
