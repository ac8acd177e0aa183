"""`tieout sources check`: read every source of one as-of day the way a run reads it (`tieout.sources.read`),
in a throwaway in-memory DuckDB, and say per standard table how many rows were read, which of the source's
columns fed each standard column, a few rows as they came out, and what is wrong — writing nothing.

A table's read stops at its first refusal; the check goes on with the next table, so every broken table is
listed with its first problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tieout.config import Project, Source
from tieout.db import connect
from tieout.errors import ConfigError, InputError, TieoutError
from tieout.output import money
from tieout.sources.formats import FORMATS, TableMap
from tieout.sources.layout import STANDARD_LAYOUT, ExportFile
from tieout.sources.read import columns, find_files, read_table, shape

SAMPLE_ROWS = 3


@dataclass(frozen=True)
class ColumnSource:
    """Where one standard column comes from."""

    column: str
    read_from: tuple[str, ...]  # the source's columns (fields); empty: not read (no value)
    how: str  # the conversion in words
    set_by: str  # "format" (its default), "fields", "tables" (the table's columns:) or "standard"


@dataclass(frozen=True)
class Problem:
    message: str  # the whole refusal, as a run prints it
    file: str
    row: int | str | None
    column: str | None
    exit_code: int


@dataclass
class TableCheck:
    table: str
    system: str
    format: str
    read_from: str  # the file (pattern), or the query; never a database URL
    rows: int | None = None  # None: the read was refused
    columns: list[ColumnSource] = field(default_factory=list)
    sample: list[dict[str, str | None]] = field(default_factory=list)  # as the standard layout writes them
    problems: list[Problem] = field(default_factory=list)


@dataclass
class SourcesCheck:
    as_of: date
    tables: list[TableCheck]

    @property
    def problems(self) -> list[Problem]:
        return [p for t in self.tables for p in t.problems]

    @property
    def exit_code(self) -> int:
        """0 clean; 3 when a source's configuration cannot be used (a URL); else 4 for a bad export."""
        codes = {p.exit_code for p in self.problems}
        return 0 if not codes else 3 if ConfigError.exit_code in codes else InputError.exit_code


def check_sources(project: Project, as_of: date) -> SourcesCheck:
    """Read every standard table of `as_of` from its source, one table at a time; nothing is written."""
    folder = project.export_dir(as_of)
    con = connect()
    out = []
    try:
        for spec in STANDARD_LAYOUT:
            source = project.sources.get(spec.system)  # type: ignore[call-overload]
            if source is not None and source.format != "standard" and source.format not in FORMATS:
                table = TableCheck(spec.table, spec.system, source.format, "", problems=[_problem(ConfigError(
                    f"sources.{spec.system}.format: {source.format} is not available in this version of tieout"))])
                out.append(table)
                continue
            table = TableCheck(spec.table, spec.system, source.format if source else "standard",
                               _read_from(spec, source, folder), columns=_columns(spec, source, folder))
            out.append(table)
            try:
                if not folder.is_dir() and (source is None or source.url is None):
                    raise InputError("no export folder for this as-of date (a missing day is not a clean day)",
                                     file=folder)
                table.rows = read_table(con, project, spec, folder, as_of)
                result = con.execute(f"SELECT * FROM {spec.table} LIMIT {SAMPLE_ROWS}")
                table.sample = [{c.name: _standard_text(v, c.kind) for c, v in zip(spec.columns, row, strict=True)}
                                for row in result.fetchall()]
            except (InputError, ConfigError) as e:
                table.problems.append(_problem(e))
    finally:
        con.close()
    return SourcesCheck(as_of, out)


def _standard_text(value: Any, kind: str) -> str | None:
    """A typed value as the standard layout's CSV writes it (contract §3)."""
    if value is None:
        return None
    if isinstance(value, datetime):  # UTC wall time
        return value.isoformat() + "Z" if value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(money(value)) if kind == "money" else format(value.normalize(), "f")
    return str(value)


def _problem(error: TieoutError) -> Problem:
    if isinstance(error, InputError):
        return Problem(str(error), error.file, error.row, error.column, error.exit_code)
    return Problem(str(error), "", None, None, error.exit_code)


def _read_from(spec: ExportFile, source: Source | None, folder: Path) -> str:
    if source is None or source.format == "standard":
        return str(folder / (source.path or "" if source else "") / spec.filename)
    default = shape(FORMATS[source.format], source, spec, folder).tables.get(spec.table, TableMap())  # as read
    given = source.tables.get(spec.table)
    if source.url is not None:
        query = (given.query if given else None) or default.query
        return f"{query or '(no query)'} (the database of sources.{spec.system}.url)"
    base = folder / (source.path if source.path is not None else source.format)
    files = (given.file,) if given and given.file else default.files
    if not files:
        return str(base)
    try:  # the file the read takes (the first of the format's names found), or the pattern of its pages
        return str(find_files(base, files)[1])
    except InputError:
        return str(base / files[0])


def _columns(spec: ExportFile, source: Source | None, folder: Path) -> list[ColumnSource]:
    if source is None or source.format == "standard":
        return [ColumnSource(c.name, (c.name,), "as written", "standard") for c in spec.columns]
    given = source.tables.get(spec.table)
    fmt = FORMATS[source.format]
    mapped = columns(shape(fmt, source, spec, folder), source, spec)  # the shape the day is read in
    out = []
    for col in spec.columns:
        conversion = mapped.get(col.name)
        set_by = ("tables" if given and col.name in given.columns
                  else "fields" if f"{spec.table}.{col.name}" in source.fields else "format")
        if conversion is None:
            out.append(ColumnSource(col.name, (), "not read (no value)", set_by))
        else:
            out.append(ColumnSource(col.name, conversion.inputs, conversion.note or "converted", set_by))
    return out
