"""Read one as-of day from wherever each system's `sources:` entry says (contract §3b), into the standard
layout's typed tables; a system without an entry reads the standard layout from the day's folder.

Every table is validated by the same checks (`tieout.sources.standard.read_export`), and a refusal names the
vendor's file, row (or object) and column (or field).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb

from tieout import fx
from tieout.config import Project, Source
from tieout.db import one
from tieout.errors import InputError, each_input_error, input_errors
from tieout.sources import convert
from tieout.sources.convert import Conversion
from tieout.sources.formats import FORMATS, Format, Related, TableMap
from tieout.sources.layout import STANDARD_LAYOUT, ExportFile
from tieout.sources.origin import Origin, StandardCsv, missing_column
from tieout.sources.standard import read_export
from tieout.sources.vendor import (
    FILE,
    POSITION,
    CsvReader,
    JsonReader,
    ParquetReader,
    Reader,
    RowsReader,
    VendorTable,
)
from tieout.sql import literal, quote_name

_STATUS_KINDS = ("contract_status", "invoice_status")


# Reads one standard table of a day into `con` (`read_table`'s signature); returns its record count.
TableReader = Callable[[duckdb.DuckDBPyConnection, Project, ExportFile, Path, date], int]


def read_day(con: duckdb.DuckDBPyConnection, project: Project, as_of: date, *,
             read: TableReader | None = None) -> dict[str, int]:
    """Load every standard table of `as_of` (each with `read`, by default `read_table`); return record counts
    per table. Raises `InputError` on bad input."""
    read = read_table if read is None else read
    folder = project.export_dir(as_of)
    if not folder.is_dir() and _reads_files(project):
        raise InputError("no export folder for this as-of date (a missing day is not a clean day)", file=folder)
    counts: dict[str, int] = {}
    errors: list[InputError] = []
    for spec in STANDARD_LAYOUT:  # every table is read, so that every bad export is named in one go
        try:
            counts[spec.table] = read(con, project, spec, folder, as_of)
        except InputError as e:
            errors += each_input_error(e)
    if errors:
        raise input_errors(errors)
    return counts


def read_table(con: duckdb.DuckDBPyConnection, project: Project, spec: ExportFile, folder: Path, as_of: date
               ) -> int:
    """Load one standard table of `as_of` from its source, checked as `read_day` checks it (`tieout sources
    check` reads each table so, one at a time); return its record count. Raises `InputError` on bad input."""
    source = origin(con, project, spec, folder, as_of)
    count = read_export(con, spec, source)
    if "currency" in spec.column_names:
        _check_rates(con, project, as_of, spec, source)
    if isinstance(source, VendorTable):
        vendor_rows_view(con, project, spec, source)
    return count


def vendor_rows_view(con: duckdb.DuckDBPyConnection, project: Project, spec: ExportFile, source: VendorTable
                     ) -> None:
    """The vendor's own rows of `source`, deleted records included, as the view `<table>__vendor` where its
    format makes proposals of them (read again only when asked)."""
    system = _source(project, spec)
    fmt = FORMATS.get(system.format) if system is not None else None
    if fmt is not None and fmt.proposals is not None:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {spec.table}__vendor AS SELECT * FROM "
                    f"{source.reader.rows(f'{spec.table}__vendor')}")


def _check_rates(con: duckdb.DuckDBPyConnection, project: Project, as_of: date, spec: ExportFile,
                 source: Origin) -> None:
    """Refuse the first amount in a currency with no rate into the reporting currency (contract §3b): impact
    and severity could not be stated, and a guessed rate would be a wrong number that looks right."""
    raw = f"{spec.table}__raw"
    found = con.execute(f"SELECT DISTINCT upper(currency) FROM {raw} WHERE currency IS NOT NULL").fetchall()
    missing = sorted(c for (c,) in found if project.fx_rate(c, on=as_of) is None)
    if not missing:
        return
    first = one(con, f"SELECT min(rowid) FROM {raw} WHERE upper(currency) IN (SELECT unnest(?))", [missing])
    rowid = first[0]  # type: ignore[index]
    currency = source.text(con, raw, rowid, "currency")
    code = missing[0] if len(missing) == 1 else str(currency).upper()
    if code in project.fx_rates:  # a schedule that starts too late is a different mistake from no rate at all
        why = (f"tieout.yml's fx_rates.{code} has no rate in effect on {as_of} (its first rate is from "
               f"{fx.first_day(project.fx_rates[code])}; add a rate from a date on or before {as_of})")
    else:
        why = (f"no rate into the reporting currency {project.reporting_currency} for {as_of} (add it to "
               f"tieout.yml, e.g. fx_rates: {{{code}: 1.08}})")
    raise source.error(con, raw, rowid, "currency", f"{currency!r}: {why}")


def _source(project: Project, spec: ExportFile) -> Source | None:
    return project.sources.get(spec.system)  # type: ignore[call-overload]


def _reads_files(project: Project) -> bool:
    return any((s := _source(project, spec)) is None or s.url is None for spec in STANDARD_LAYOUT)


def past_day_unreadable(project: Project, day: date) -> str | None:
    """Why `day` cannot be read again, or None. A database source gives its tables as they are now unless
    every query names `{date}` (a warehouse keeping history): reading it for a past day would pass today's
    records off as that day's."""
    for system, source in project.sources.items():
        if source.url is None:
            continue
        fmt = FORMATS[source.format]
        queries = [(source.tables[t].query if t in source.tables else None) or fmt.tables.get(t, TableMap()).query
                   for t in (f.table for f in STANDARD_LAYOUT if f.system == system)]
        if not all(q and "{date}" in q for q in queries):
            return (f"sources.{system} reads a database as it is now (not every query names {{date}}), so "
                    f"{day} is not read again")
    folder = project.export_dir(day)
    if _reads_files(project) and not folder.is_dir():
        return f"no export for {day} ({folder})"
    return None


def origin(con: duckdb.DuckDBPyConnection, project: Project, spec: ExportFile, folder: Path, as_of: date
           ) -> Origin:
    """Where `spec` is read from on `as_of`, whose folder is `folder`."""
    path = standard_file(project, spec, folder)
    if path is not None:
        return StandardCsv(spec, path)
    source = _source(project, spec)
    assert source is not None
    fmt = shape(FORMATS[source.format], source, spec, folder)
    default = fmt.tables.get(spec.table, TableMap())
    key = f"sources.{spec.system}"
    reader = _reader(con, source, fmt, default, spec, folder, key, as_of, project.timezone)
    return VendorTable(spec, reader, columns(fmt, source, spec), tz=project.timezone, keep=default.keep,
                       system_key=key, joins=bool(default.related))


def standard_file(project: Project, spec: ExportFile, folder: Path) -> Path | None:
    """The CSV file of the standard layout `spec` is read from (contract §3), or None when its system's
    `sources:` entry names another format."""
    source = _source(project, spec)
    if source is None or source.format == "standard":
        return folder / (source.path or "" if source else "") / spec.filename
    return None


def shape(fmt: Format, source: Source, spec: ExportFile, folder: Path) -> Format:
    """The shape of a vendor's exports that `spec` is read in (`Format.alternatives`)."""
    if not fmt.alternatives or source.url is not None:
        return fmt
    shapes = (fmt, *fmt.alternatives)
    given = source.tables.get(spec.table)
    if given and given.file:
        named = next((s for s in shapes if any(fnmatch.fnmatch(given.file.lower(), pattern.lower())
                                               for pattern in s.tables.get(spec.table, TableMap()).files)), None)
        if named is not None:  # Opportunity.csv: the shape whose own file it is
            return named
        suffix = given.file.rsplit(".", 1)[-1].lower()
        kind = {"json": "json", "jsonl": "json", "ndjson": "json", "parquet": "parquet"}.get(suffix, "csv")
        return next((s for s in shapes if s.reader == kind), fmt)
    base = _base(folder, source, fmt)
    return next((s for s in shapes if _found(base, s.tables.get(spec.table, TableMap()).files)), fmt)


def columns(fmt: Format, source: Source, spec: ExportFile) -> dict[str, Conversion]:
    """Standard column -> conversion: the format's map, then `fields:` and the table's `columns:` on top."""
    default = fmt.tables.get(spec.table, TableMap())
    given = source.tables.get(spec.table)
    statuses = {**default.statuses, **(given.statuses if given else {})}
    out: dict[str, Conversion] = {}
    for col in spec.columns:
        read = default.columns.get(col.name)
        if read is None and fmt.generic:
            read = col.name
        override = (given.columns.get(col.name) if given else None) or source.fields.get(f"{spec.table}.{col.name}")
        if override is not None:
            read = read.reading(override) if isinstance(read, Conversion) and not read.derived else override
        if read is None:
            continue
        if isinstance(read, Conversion) and col.kind in _STATUS_KINDS and given and given.statuses:
            read = convert.with_statuses(read, given.statuses)  # the table's own words over the format's
        elif isinstance(read, str):
            if col.kind in _STATUS_KINDS and (statuses or default.unmapped_status):
                read = convert.status(read, statuses, otherwise=default.unmapped_status)
            else:
                made = fmt.kinds.get(col.kind, convert.text)(read)
                # A generic source's columns are the standard ones by default; an unmapped optional one may be
                # absent.
                read = made if override or not fmt.generic or col.required else _optional(made)
        out[col.name] = read
    return out


def _optional(conversion: Conversion) -> Conversion:
    return replace(conversion, optional=True)


def _reader(con: duckdb.DuckDBPyConnection, source: Source, fmt: Format, default: TableMap, spec: ExportFile,
            folder: Path, key: str, as_of: date, tz: str) -> Reader:
    given = source.tables.get(spec.table)
    query = (given.query if given else None) or default.query
    patterns = (given.file,) if given and given.file else default.files
    reader = _open(con, source, fmt, spec.table, spec.table, query, patterns, folder, key, as_of, default.unwrap)
    for name, related in default.related.items():
        if related.sql:  # the format's own query over the related tables loaded so far
            con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.table}__{name} AS {related.sql}")
            continue
        if related.optional and source.url is None and not _found(_base(folder, source, fmt), related.files):
            # Left out of this export: an empty table of the columns the conversions read.
            empty = "".join(f"CAST(NULL AS VARCHAR) AS {quote_name(c)}, " for c in related.columns)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.table}__{name} AS SELECT {empty}"
                        f"CAST(NULL AS VARCHAR) AS {FILE}, CAST(NULL AS BIGINT) AS {POSITION} WHERE false")
            continue
        other = _open(con, source, fmt, spec.table, f"{spec.table}__{name}", related.query, related.files, folder,
                      key, as_of)
        _load_related(con, other, related, f"{spec.table}__{name}", spec.table, tz)
    return reader


_BAD_COLUMN = "tieout__unconverted"
_BAD_TEXT = "tieout__unconverted_text"


def _load_related(con: duckdb.DuckDBPyConnection, reader: Reader, related: Related, name: str, table: str,
                  tz: str) -> None:
    """Load a related vendor table once as the temp table `name` for the table's conversions to join: its
    `columns` converted (a value that does not convert is refused in this table's own words), its rows where
    `keep` is not true left out."""
    reader.check()
    wanted = [c for conversion in related.columns.values() for c in conversion.inputs if not conversion.optional]
    for conversion in related.columns.values():
        for column in conversion.inputs:
            if not reader.has(column) and not conversion.optional:
                raise missing_column(reader.paths[0] if reader.paths else reader.label, column,
                                     list(dict.fromkeys(wanted)), reader.names(), f" (read for {table})")

    def refs(conversion: Conversion) -> list[str]:
        return [reader.ref(c) if reader.has(c) else "CAST(NULL AS VARCHAR)" for c in conversion.inputs]

    rows = reader.placed_rows(name)
    present = set(reader.names())
    replaced: list[str] = []
    added: list[str] = []
    flags: list[str] = []
    texts: list[str] = []
    for column, conversion in related.columns.items():
        converted = f"{conversion.sql(refs(conversion), tz)} AS {quote_name(column)}"
        (replaced if column in present else added).append(converted)
        bad = conversion.bad_sql(refs(conversion), tz)
        if bad and reader.has(conversion.inputs[0]):
            flags.append(f"WHEN {bad} THEN {literal(conversion.inputs[0])}")
            texts.append(f"WHEN {bad} THEN {refs(conversion)[0]}")
    select = "*" + (f" REPLACE ({', '.join(replaced)})" if replaced else "")
    select += "".join(f", {a}" for a in added)
    select += (f", CASE {' '.join(flags)} END AS {_BAD_COLUMN}, CASE {' '.join(texts)} END AS {_BAD_TEXT}" if flags
               else f", CAST(NULL AS VARCHAR) AS {_BAD_COLUMN}, CAST(NULL AS VARCHAR) AS {_BAD_TEXT}")
    where = f" WHERE {related.keep.sql(refs(related.keep), tz)}" if related.keep is not None else ""
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select} FROM {rows}{where}")
    except duckdb.OutOfMemoryException:
        raise  # the run's memory limit, not the file (`tieout.run`)
    except duckdb.Error as e:
        raise reader.unreadable(str(e)) from e
    reader.first_reject(con, name)
    found = one(con, f"SELECT {FILE}, {POSITION}, {_BAD_COLUMN}, {_BAD_TEXT} FROM {name} "
                     f"WHERE {_BAD_COLUMN} IS NOT NULL ORDER BY {FILE}, {POSITION} LIMIT 1")
    if found is not None:
        file, position, column, value = found
        conversion = next(c for c in related.columns.values() if c.inputs[0] == column)
        raise InputError(f"{value!r} is not {conversion.expected} (read for {table})", file=Path(file),
                         row=reader.place(Path(file), position, con), column=column, column_word=reader.word)


def _open(con: duckdb.DuckDBPyConnection, source: Source, fmt: Format, table: str, name: str, query: str | None,
          patterns: tuple[str, ...], folder: Path, key: str, as_of: date, unwrap: tuple[str, ...] = ()
          ) -> Reader:
    if source.url is not None:
        from tieout.sources.database import fetch

        if not query:
            raise InputError(f"no query or table for {table} (set {key}.tables.{table}.query)", file=f"{key}.url")
        view = f"{name}__fetched"
        # `{date}` in a query is the as-of date, as a SQL string (our own ISO text, never a vendor value).
        query = query.replace("{date}", f"'{as_of.isoformat()}'")
        rows = fetch(source.url, query, key=f"{key}.url")
        con.register(view, rows)
        return RowsReader(rows, f"{key} ({query})", view)
    base = _base(folder, source, fmt)
    if not patterns:
        raise InputError(f"no file for {table} (set {key}.tables.{table}.file)", file=base)
    paths, label = find_files(base, patterns)
    if fmt.reader == "json":
        return JsonReader(paths, label, unwrap)
    if fmt.reader == "parquet":
        return ParquetReader(paths, label)
    return CsvReader(paths, label, source.encoding, con, name=name, encoding_key=f"{key}.encoding")


def _base(folder: Path, source: Source, fmt: Format) -> Path:
    return folder / (source.path if source.path is not None else fmt.name)


def _found(base: Path, patterns: tuple[str, ...]) -> bool:
    """Whether any of `patterns` names a file in `base`."""
    return any(any(p.is_file() for p in base.glob(pattern)) if any(ch in pattern for ch in "*?[")
               else (base / pattern).is_file() for pattern in patterns)


def find_files(base: Path, patterns: tuple[str, ...]) -> tuple[list[Path], Path]:
    """The files of the first pattern that finds any, sorted (pages in order); else the first pattern's path,
    which the reader refuses as missing."""
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            found = sorted(p for p in base.glob(pattern) if p.is_file())
            if found:
                return found, base / pattern
        elif (base / pattern).is_file():
            return [base / pattern], base / pattern
    first = base / patterns[0]
    if any(ch in patterns[0] for ch in "*?["):
        raise InputError(f"no file matches {patterns[0]!r}", file=base)
    return [first], first


def normalise_map_ids(con: duckdb.DuckDBPyConnection, project: Project, path: Path) -> None:
    """Spell the loaded `entity_map`'s source ids of each system as its format spells its record ids
    (`Format.source_id`: a Salesforce map row may name the 15- or the 18-character id). Two rows that then name
    one record with overlapping effective ranges are refused, as the map's own check refuses them."""
    for system, source in project.sources.items():
        fmt = FORMATS.get(source.format)
        conversion = fmt.source_id if fmt is not None else None
        if conversion is None:
            continue
        spelt = conversion.sql(["source_id"], project.timezone)
        overlap = con.execute(f"""
            WITH r AS (
                SELECT rowid + 2 AS row, {spelt} AS sid, source_id, effective_from AS f, effective_to AS t
                FROM entity_map WHERE source_system = ?
            ), repeated AS (SELECT sid FROM r GROUP BY sid HAVING count(*) > 1),
            w AS (
                SELECT *, lag(t) OVER k AS prev_t, lag(row) OVER k AS prev_row, lag(source_id) OVER k AS prev_id,
                       row_number() OVER k AS n
                FROM r SEMI JOIN repeated USING (sid) WINDOW k AS (PARTITION BY sid ORDER BY f, row)
            )
            SELECT greatest(row, prev_row), least(row, prev_row), sid, source_id, prev_id FROM w
            WHERE n > 1 AND (prev_t IS NULL OR prev_t >= f) ORDER BY 1 LIMIT 1
        """, [system]).fetchall()
        if overlap:
            row, other, sid, one_id, another = overlap[0]
            spelling = f"{another!r} and {one_id!r} name" if one_id != another else f"{one_id!r} names"
            raise InputError(f"rows {other} and {row} map {system} record {sid!r} ({spelling} the same "
                             f"{source.format} record) with overlapping effective ranges: close one range before "
                             "the next opens", file=path, row=row, column="source_id")
        con.execute(f"UPDATE entity_map SET source_id = {spelt} WHERE source_system = ? AND source_id <> {spelt}",
                    [system])


def proposals(con: duckdb.DuckDBPyConnection, project: Project, as_of: date) -> dict[str, list[dict[str, object]]]:
    """Map rows each source's format proposes on `as_of` (e.g. from Salesforce's merges), by format name; for a
    person to accept, never applied. `con` holds the day read and resolved (`tieout.ingest.resolve_day`): the
    vendor's own rows these read (deleted records, merges) are in the exports only, never in the store."""
    out: dict[str, list[dict[str, object]]] = {}
    for source in project.sources.values():
        fmt = FORMATS.get(source.format)
        propose = fmt.proposals if fmt is not None else None
        if propose is not None:
            out[source.format] = propose(con, as_of, project.timezone)
    return out
