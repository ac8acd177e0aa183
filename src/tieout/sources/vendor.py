"""A standard table read from a vendor's own files (CSV, JSON, Parquet) or a database query's rows.

A `Reader` knows the files: which columns (or JSON fields) they have, the SQL that reads them as text, and
how to name a row. A `VendorTable` puts conversions on top (`tieout.sources.convert`): its relation has every
standard column as text, plus `tieout__unconverted` (the first standard column whose vendor value did not
convert) and, where rows can be told apart only so, the file and position each row came from. Nothing is
copied to disk; the standard checks run on the result (`tieout.sources.standard.read_export`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from tieout.db import one
from tieout.errors import InputError
from tieout.sources.convert import Conversion
from tieout.sources.diagnose import locate_unreadable
from tieout.sources.layout import ExportFile
from tieout.sources.origin import (
    FIRST_ROW,
    Origin,
    check_duplicated_header,
    csv_source,
    first_csv_reject,
    literal,
    missing_column,
    quote_name,
    read_header,
)

UNCONVERTED = "tieout__unconverted"
FILE = "tieout__file"
POSITION = "tieout__position"
INPUT = "tieout__input_"


class Reader(ABC):
    """The vendor's rows of one table, each column (or field) as text."""

    word = "column"  # how the source names its values in a refusal

    def __init__(self, paths: list[Path], label: Path) -> None:
        self.paths = paths
        self.label = label  # the file, or the pattern, named when no single file is meant

    @abstractmethod
    def has(self, name: str) -> bool:
        """Whether the source holds column (or field) `name`."""

    @abstractmethod
    def check(self) -> None:
        """Refuse missing files and unreadable headers."""

    @abstractmethod
    def ref(self, name: str) -> str:
        """SQL of the vendor's column (field) `name` as text, over `rows()`."""

    @abstractmethod
    def rows(self, rejects: str) -> str:
        """SQL of a relation of the vendor's rows in read order, with `tieout__file` and `tieout__position`
        (0-based, in its file) when `positioned`."""

    positioned = True  # False: the raw table's rowid is the row's position in the one file

    def first_reject(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        return None

    def unreadable(self, message: str) -> InputError:
        first = message.strip().splitlines()[0] if message.strip() else "unreadable"
        return InputError(f"cannot be read: {first}", file=self.label)

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        return position + FIRST_ROW

    def names(self) -> list[str]:
        return []


class CsvReader(Reader):
    """One or more CSV files with one header (a loader's export split into parts is one table)."""

    def __init__(self, paths: list[Path], label: Path, encoding: str) -> None:
        super().__init__(paths, label)
        self.encoding = encoding
        self.header: list[str] = []
        self.positioned = len(paths) > 1

    def check(self) -> None:
        for path in self.paths:
            header = read_header(path, encoding=self.encoding, missing="file is missing")
            check_duplicated_header(path, header)
            if self.header and header != self.header:
                raise InputError(f"its header differs from {self.paths[0].name}'s (parts of one table share one "
                                 "header)", file=path, row=1)
            self.header = header

    def names(self) -> list[str]:
        return self.header

    def has(self, name: str) -> bool:
        return name in self.header

    def ref(self, name: str) -> str:
        return quote_name(name)

    def rows(self, rejects: str) -> str:
        source = csv_source(self.paths, self.header, rejects=rejects, encoding=self.encoding,
                            filename=self.positioned)
        if not self.positioned:
            return source
        # Each file's rows in order; the position in the file is found on refusal only (`place`).
        return f"(SELECT *, filename AS {FILE}, row_number() OVER () - 1 AS {POSITION} FROM {source})"

    def first_reject(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        first_csv_reject(con, rejects, encoding=self.encoding)

    def unreadable(self, message: str) -> InputError:
        return locate_unreadable(self.paths[0], self.header, message)

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        # `position` counts the rows of every file before this one: take them away.
        before = 0
        for path in self.paths:
            if path == file:
                break
            before += one(con, f"SELECT count(*) FROM {csv_source([path], self.header, rejects='tieout_count', encoding=self.encoding)}")[0]  # type: ignore[index]  # noqa: E501
        return position - before + FIRST_ROW


class JsonReader(Reader):
    """JSON: a list object (`{"object": "list", "data": [...]}`, as an API pages it), a JSON array, or JSON
    Lines; several files of one object type are one table. Fields are paths such as `lines.data[0].period.end`."""

    word = "field"

    def check(self) -> None:
        for path in self.paths:
            if not path.is_file():
                raise InputError("file is missing", file=path)
            if not _first_char(path):
                raise InputError("file is empty (expected JSON objects)", file=path)

    def has(self, name: str) -> bool:
        return True  # objects may leave a field out; a required value missing is refused by the checks

    def ref(self, name: str) -> str:
        return f"json_extract_string(tieout__object, {literal(_json_path(name))})"

    def rows(self, rejects: str) -> str:
        parts = [self._file_rows(i, path) for i, path in enumerate(self.paths)]
        return "(" + " UNION ALL ".join(parts) + ")"

    def _file_rows(self, index: int, path: Path) -> str:
        file = literal(str(path))
        size = max(path.stat().st_size + 1, 1 << 24)
        if _first_char(path) == "[":
            objects = f"read_json_objects({file}, format = 'array', maximum_object_size = {size})"
            return (f"SELECT json AS tieout__object, {file} AS {FILE}, row_number() OVER () - 1 AS {POSITION} "
                    f"FROM {objects}")
        objects = f"read_json_objects({file}, format = 'auto', maximum_object_size = {size})"
        # One object holding a list of objects is an API list; otherwise each line is an object.
        return (f"SELECT o.o AS tieout__object, {file} AS {FILE}, o.i - 1 AS {POSITION} FROM ("
                f"SELECT CASE WHEN json_extract_string(json, '$.object') = 'list' AND json_type(json, '$.data') = "
                f"'ARRAY' THEN json_extract(json, '$.data[*]') ELSE [json] END AS l, row_number() OVER () AS n "
                f"FROM {objects}), LATERAL (SELECT unnest(l) AS o, generate_subscripts(l, 1) + n - 1 AS i) AS o")

    def unreadable(self, message: str) -> InputError:
        first = message.strip().splitlines()[0] if message.strip() else "unreadable"
        return InputError(f"is not valid JSON: {first}", file=self.label)

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        found = one(con, f"SELECT json_extract_string(tieout__object, '$.id') FROM {self.rows('x')} "
                         f"WHERE {FILE} = ? AND {POSITION} = ?", [str(file), position])
        ident = found[0] if found and found[0] else None
        shown = f" ({ident if len(ident) <= 24 else ident[:23] + '…'})" if ident else ""
        return f"object {position}{shown}"


def _first_char(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1].decode("ascii", "replace")


def _json_path(name: str) -> str:
    return "$." + name if not name.startswith("$") else name


class ParquetReader(Reader):
    """Parquet files; every column is read as text."""

    def check(self) -> None:
        for path in self.paths:
            if not path.is_file():
                raise InputError("file is missing", file=path)
        self._names = [f.name for f in _parquet_schema(self.paths[0])]

    def names(self) -> list[str]:
        return self._names

    def has(self, name: str) -> bool:
        return name in self._names

    def ref(self, name: str) -> str:
        return f"CAST({quote_name(name)} AS VARCHAR)"

    def rows(self, rejects: str) -> str:
        files = "[" + ", ".join(literal(str(p)) for p in self.paths) + "]"
        return (f"(SELECT *, filename AS {FILE}, file_row_number AS {POSITION} "
                f"FROM read_parquet({files}, filename = true, file_row_number = true))")

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        return f"record {position + 1}"


def _parquet_schema(path: Path) -> pa.Schema:
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"is not a Parquet file: {e}", file=path) from e


class RowsReader(Reader):
    """A database query's rows (`tieout.sources.database`), every column text, registered with DuckDB."""

    def __init__(self, rows: pa.Table, label: str, name: str) -> None:
        super().__init__([], Path(label))
        self.table = rows
        self.view = name

    def check(self) -> None:
        return None

    def names(self) -> list[str]:
        return list(self.table.column_names)

    def has(self, name: str) -> bool:
        return name in self.table.column_names

    def ref(self, name: str) -> str:
        return f"CAST({quote_name(name)} AS VARCHAR)"

    def rows(self, rejects: str) -> str:
        return (f"(SELECT *, {literal(str(self.label))} AS {FILE}, row_number() OVER () - 1 AS {POSITION} "
                f"FROM {self.view})")

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        return f"row {position + 1} of the result"


class VendorTable(Origin):
    """A standard table made from a reader's rows by one conversion per standard column."""

    def __init__(self, spec: ExportFile, reader: Reader, columns: Mapping[str, Conversion], *, tz: str,
                 keep: Conversion | None = None, system_key: str = "") -> None:
        super().__init__(spec, reader.label)
        self.reader = reader
        self.columns = dict(columns)
        self.tz = tz
        self.keep = keep  # rows the vendor keeps but that are not live records (Salesforce's deleted ones)
        self.system_key = system_key  # e.g. sources.crm, to tell a person where a column map is set
        self.positioned = reader.positioned or keep is not None

    def _inputs(self) -> list[str]:
        """Every vendor column (field) a conversion or `keep` reads, in a fixed order."""
        conversions = [*self.columns.values(), *([self.keep] if self.keep is not None else [])]
        return list(dict.fromkeys(c for conversion in conversions for c in conversion.inputs if self.reader.has(c)))

    def _refs(self, conversion: Conversion) -> list[str]:
        # Each input under a name of its own (`_input_rows`): a template's subquery over a related vendor table
        # that has a column of the same name (an invoice item's `id`) still reads this row's value.
        inputs = self._inputs()
        return [quote_name(f"{INPUT}{inputs.index(c)}") if self.reader.has(c) else "CAST(NULL AS VARCHAR)"
                for c in conversion.inputs]

    def _input_rows(self, rejects: str) -> str:
        refs = ", ".join(f"{self.reader.ref(c)} AS {quote_name(f'{INPUT}{i}')}" for i, c in enumerate(self._inputs()))
        return f"(SELECT *{', ' + refs if refs else ''} FROM {self._rows(rejects)})"

    def check_shape(self) -> None:
        self.reader.check()
        wanted = [c for conversion in self.columns.values() for c in conversion.inputs if not conversion.optional]
        for name, conversion in self.columns.items():
            for column in conversion.inputs:
                if not self.reader.has(column) and not conversion.optional:
                    why = f" (read as {self.spec.table}.{name}; map another with {self.system_key}.fields)"
                    raise missing_column(self.reader.paths[0] if self.reader.paths else self.file, column,
                                         list(dict.fromkeys(wanted)), self.reader.names(), why)

    def relation(self, rejects: str) -> str:
        out = []
        flags = []
        for col in self.spec.columns:
            conversion = self.columns.get(col.name)
            if conversion is None:
                out.append(f"CAST(NULL AS VARCHAR) AS {quote_name(col.name)}")
                continue
            refs = self._refs(conversion)
            out.append(f"{conversion.sql(refs, self.tz)} AS {quote_name(col.name)}")
            bad = conversion.bad_sql(refs, self.tz)
            if bad and all(self.reader.has(c) for c in conversion.inputs[:1]):
                flags.append(f"WHEN {bad} THEN {literal(col.name)}")
        out.append(f"CASE {' '.join(flags)} END AS {UNCONVERTED}" if flags else f"NULL AS {UNCONVERTED}")
        if self.positioned:
            out += [FILE, POSITION]
        where = f" WHERE {self.keep.sql(self._refs(self.keep), self.tz)}" if self.keep is not None else ""
        return f"(SELECT {', '.join(out)} FROM {self._input_rows(rejects)}{where})"

    def _rows(self, rejects: str) -> str:
        rows = self.reader.rows(rejects)
        if self.positioned and not self.reader.positioned:
            # One file whose rows are filtered: the rowid no longer tells a row's place, so it is carried.
            rows = (f"(SELECT *, {literal(str(self.reader.paths[0]))} AS {FILE}, row_number() OVER () - 1 AS "
                    f"{POSITION} FROM {rows})")
        return rows

    def unreadable(self, message: str) -> InputError:
        return self.reader.unreadable(message)

    def first_reject(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        self.reader.first_reject(con, rejects)

    def empty(self) -> InputError:
        return InputError("holds no records (a missing day is not a clean day)", file=self.file)

    def _where(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int) -> tuple[Path, int]:
        if not self.positioned:
            return self.reader.paths[0], rowid
        file, position = one(con, f"SELECT {FILE}, {POSITION} FROM {raw} WHERE rowid = ?", [rowid])  # type: ignore[misc]
        return Path(file), position

    def place(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int) -> tuple[Path, int | str]:
        file, position = self._where(con, raw, rowid)
        return file, self.reader.place(file, position, con)

    def column(self, name: str) -> tuple[str, str]:
        conversion = self.columns.get(name)
        return (conversion.inputs[0] if conversion else name), self.reader.word

    def text(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int, name: str) -> str | None:
        conversion = self.columns.get(name)
        if conversion is None:
            return None
        found = self._first_input(con, raw, rowid, conversion) if self.reader.has(conversion.inputs[0]) else None
        if (found is None or not found.strip()) and len(conversion.inputs) > 1:
            # The value came from another of the vendor's values (an invoice's currency from its account's)
            return self.relation_text(con, rowid, name)
        return found

    def _first_input(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int, conversion: Conversion
                     ) -> str | None:
        file, position = self._where(con, raw, rowid)
        ref = self.reader.ref(conversion.inputs[0])
        if self.positioned:
            found = one(con, f"SELECT {ref} FROM {self._rows('tieout_again')} WHERE {FILE} = ? AND {POSITION} = ?",
                        [str(file), position])
        else:
            found = one(con, f"SELECT {ref} FROM {self._rows('tieout_again')} LIMIT 1 OFFSET {position}")
        return found[0] if found else None

    def check_converted(self, con: duckdb.DuckDBPyConnection, raw: str) -> None:
        found = one(con, f"SELECT rowid, {UNCONVERTED} FROM {raw} WHERE {UNCONVERTED} IS NOT NULL "
                         "ORDER BY rowid LIMIT 1")
        if found is None:
            return
        rowid, name = found
        value = self.text(con, raw, rowid, name)
        raise self.error(con, raw, rowid, name,
                         f"{value!r} is not {self.columns[name].expected} (read as {self.spec.table}.{name})")
