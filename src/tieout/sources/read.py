"""Read one as-of day from wherever each system's `sources:` entry says (contract §3b), into the standard
layout's typed tables; a system without an entry reads the standard layout from the day's folder.

Every table is validated by the same checks (`tieout.sources.standard.read_export`), and a refusal names the
vendor's file, row (or object) and column (or field).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from tieout.config import Project, Source
from tieout.db import one
from tieout.errors import ConfigError, InputError
from tieout.sources import convert
from tieout.sources.convert import Conversion
from tieout.sources.formats import FORMATS, Format, TableMap
from tieout.sources.layout import STANDARD_LAYOUT, ExportFile
from tieout.sources.origin import Origin, StandardCsv, literal, missing_column, quote_name
from tieout.sources.standard import read_export
from tieout.sources.vendor import CsvReader, JsonReader, ParquetReader, Reader, RowsReader, VendorTable

_STATUS_KINDS = ("contract_status", "invoice_status")


def read_day(con: duckdb.DuckDBPyConnection, project: Project, as_of: date) -> dict[str, int]:
    """Load every standard table of `as_of`; return record counts per table. Raises `InputError` on bad input."""
    folder = project.export_dir(as_of)
    if not folder.is_dir() and any(_reads_files(_source(project, s)) for s in STANDARD_LAYOUT):
        raise InputError("no export folder for this as-of date (a missing day is not a clean day)", file=folder)
    counts = {}
    for spec in STANDARD_LAYOUT:
        source = origin(con, project, spec, folder)
        counts[spec.table] = read_export(con, spec, source)
        if "currency" in spec.column_names:
            _check_rates(con, project, as_of, spec, source)
    return counts


def _check_rates(con: duckdb.DuckDBPyConnection, project: Project, as_of: date, spec: ExportFile,
                 source: Origin) -> None:
    """Refuse the first amount in a currency with no rate into the reporting currency (contract §3b): impact
    and severity could not be stated, and a guessed rate would be a wrong number that looks right."""
    raw = f"{spec.table}__raw"
    found = con.execute(f"SELECT DISTINCT upper(currency) FROM {raw} WHERE currency IS NOT NULL").fetchall()
    missing = sorted(c for (c,) in found if project.fx_rate(c) is None)
    if not missing:
        return
    first = one(con, f"SELECT min(rowid) FROM {raw} WHERE upper(currency) IN (SELECT unnest(?))", [missing])
    rowid = first[0]  # type: ignore[index]
    currency = source.text(con, raw, rowid, "currency")
    raise source.error(con, raw, rowid, "currency",
                       f"{currency!r}: no rate into the reporting currency {project.reporting_currency} for "
                       f"{as_of} (add it to tieout.yml, e.g. fx_rates: {{{missing[0]}: 1.08}})")


def _source(project: Project, spec: ExportFile) -> Source | None:
    return project.sources.get(spec.system)  # type: ignore[call-overload]


def _reads_files(source: Source | None) -> bool:
    return source is None or source.url is None


def origin(con: duckdb.DuckDBPyConnection, project: Project, spec: ExportFile, folder: Path) -> Origin:
    """Where `spec` is read from on the day whose folder is `folder`."""
    source = _source(project, spec)
    if source is None or source.format == "standard":
        return StandardCsv(spec, folder / (source.path or "" if source else "") / spec.filename)
    fmt = _shape(FORMATS[source.format], source, spec, folder)
    default = fmt.tables.get(spec.table, TableMap())
    key = f"sources.{spec.system}"
    return VendorTable(spec, _reader(con, source, fmt, default, spec, folder, key), columns(fmt, source, spec),
                       tz=project.timezone, keep=default.keep, system_key=key, joins=bool(default.related))


def _shape(fmt: Format, source: Source, spec: ExportFile, folder: Path) -> Format:
    """The shape of a vendor's exports that `spec` is read in (`Format.alternatives`)."""
    if not fmt.alternatives or source.url is not None:
        return fmt
    shapes = (fmt, *fmt.alternatives)
    given = source.tables.get(spec.table)
    if given and given.file:
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
        if override is not None and isinstance(read, Conversion) and read.fixed:
            raise ConfigError(f"sources.{spec.system}: {spec.table}.{col.name} is {read.fixed} in the {fmt.name} "
                              f"format, so it cannot be read from {override!r}")
        if override is not None:
            read = read.reading(override) if isinstance(read, Conversion) else override
        if read is None:
            continue
        if isinstance(read, str):
            if col.kind in _STATUS_KINDS and statuses:
                read = convert.status(read, statuses)
            else:
                made = fmt.kinds.get(col.kind, convert.text)(read)
                # A generic source's columns are the standard ones by default; an unmapped optional one may be
                # absent.
                read = made if override or not fmt.generic or col.required else _optional(made)
        out[col.name] = read
    return out


def _optional(conversion: Conversion) -> Conversion:
    return Conversion(conversion.template, conversion.inputs, conversion.expected, optional=True)


def _reader(con: duckdb.DuckDBPyConnection, source: Source, fmt: Format, default: TableMap, spec: ExportFile,
            folder: Path, key: str) -> Reader:
    given = source.tables.get(spec.table)
    query = (given.query if given else None) or default.query
    patterns = (given.file,) if given and given.file else default.files
    reader = _open(con, source, fmt, spec.table, spec.table, query, patterns, folder, key, default.unwrap)
    for name, related in default.related.items():
        view = f"{spec.table}__{name}"
        if related.optional and source.url is None and not _found(_base(folder, source, fmt), related.files):
            columns = ", ".join(f"CAST(NULL AS {'JSON' if c == 'tieout__object' else 'VARCHAR'}) AS {quote_name(c)}"
                                for c in related.columns) or "NULL AS nothing"
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {columns} WHERE false")
            continue
        # Loaded as a view for the table's conversions to join; its header is checked like the table's.
        other = _open(con, source, fmt, spec.table, view, related.query, related.files, folder, key)
        other.check()
        for column in related.columns:
            if not other.has(column):
                raise missing_column(other.paths[0] if other.paths else other.label, column, related.columns,
                                     other.names(), f" (read for {spec.table})")
        rows = other.rows(view)
        if not other.positioned:  # every related view says where each row is, for a refusal to name it
            rows = (f"(SELECT *, {literal(str(other.paths[0]))} AS tieout__file, row_number() OVER () - 1 AS "
                    f"tieout__position FROM {rows})")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {rows}")
    return reader


def _open(con: duckdb.DuckDBPyConnection, source: Source, fmt: Format, table: str, name: str, query: str | None,
          patterns: tuple[str, ...], folder: Path, key: str, unwrap: tuple[str, ...] = ()) -> Reader:
    if source.url is not None:
        from tieout.sources.database import fetch

        if not query:
            raise InputError(f"no query or table for {table} (set {key}.tables.{table}.query)", file=f"{key}.url")
        view = f"{name}__fetched"
        rows = fetch(source.url, query, key=f"{key}.url")
        con.register(view, rows)
        return RowsReader(rows, f"{key} ({query})", view)
    base = _base(folder, source, fmt)
    if not patterns:
        raise InputError(f"no file for {table} (set {key}.tables.{table}.file)", file=base)
    paths, label = _files(base, patterns)
    if fmt.reader == "json":
        return JsonReader(paths, label, unwrap)
    if fmt.reader == "parquet":
        return ParquetReader(paths, label)
    return CsvReader(paths, label, source.encoding)


def _base(folder: Path, source: Source, fmt: Format) -> Path:
    return folder / (source.path if source.path is not None else fmt.name)


def _found(base: Path, patterns: tuple[str, ...]) -> bool:
    """Whether any of `patterns` names a file in `base`."""
    return any(any(p.is_file() for p in base.glob(pattern)) if any(ch in pattern for ch in "*?[")
               else (base / pattern).is_file() for pattern in patterns)


def _files(base: Path, patterns: tuple[str, ...]) -> tuple[list[Path], Path]:
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
