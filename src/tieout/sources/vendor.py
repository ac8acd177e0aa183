"""A standard table read from a vendor's own files (CSV, JSON, Parquet) or a database query's rows.

A `Reader` knows the files: which columns (or JSON fields) they have, the SQL that reads them as text, and
how to name a row. A `VendorTable` puts conversions on top (`tieout.sources.convert`): its relation has every
standard column as text, plus `tieout__unconverted` (the first standard column whose vendor value did not
convert) and, where rows can be told apart only so, the file and position each row came from. Nothing is
copied to disk; the standard checks run on the result (`tieout.sources.standard.read_export`).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from tieout.db import one
from tieout.errors import InputError
from tieout.sources.convert import Conversion
from tieout.sources.decode import FILE, POSITION, cell_at, decode_csv
from tieout.sources.diagnose import locate_unreadable
from tieout.sources.layout import ExportFile
from tieout.sources.origin import (
    FIRST_ROW,
    Origin,
    check_duplicated_header,
    csv_source,
    duckdb_encoding,
    first_csv_reject,
    missing_column,
    read_header,
)
from tieout.sql import literal, quote_name

UNCONVERTED = "tieout__unconverted"
LIVE = "tieout__live"  # a row `keep` keeps, where the loaded table holds every row (`VendorTable.live`)
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
    def rows(self, rejects: str, numbered: bool = True) -> str:
        """SQL of a relation of the vendor's rows in read order, with `tieout__file` and (`numbered`)
        `tieout__position` (0-based, in its file) when `positioned`. Numbering rows as they stream by keeps
        DuckDB to one thread, so a table read whole is staged unnumbered (`VendorTable.stage`)."""

    # False: one file whose rows, read unnumbered, come in their order (its rowid is the row's position)
    positioned = True

    def placed_rows(self, rejects: str, numbered: bool = True) -> str:
        """`rows`, with `tieout__file` and (`numbered`) `tieout__position` whether or not `positioned`."""
        return self.rows(rejects, numbered)

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
    """One or more CSV files with one header (a loader's export split into parts is one table).

    DuckDB's reader decodes UTF-8 and latin-1; a file in any other codec (`encoding: cp1252`) is decoded in
    Python and read from an Arrow table registered on `con` (`tieout.sources.decode`)."""

    def __init__(self, paths: list[Path], label: Path, encoding: str, con: duckdb.DuckDBPyConnection | None = None,
                 *, name: str = "tieout_csv", encoding_key: str | None = None) -> None:
        super().__init__(paths, label)
        self.encoding = encoding
        self.header: list[str] = []
        self.native = duckdb_encoding(encoding) is not None
        self.decoded = f"{name}__decoded"  # the Arrow table's name when decoded in Python
        self.con = con
        self.encoding_key = encoding_key  # where the encoding is set (sources.crm.encoding), for hints
        self.positioned = len(paths) > 1 or not self.native

    def check(self) -> None:
        if not self.native:
            if self.con is None:
                raise ValueError(f"decoding {self.encoding} in Python needs a connection")
            self.header, table = decode_csv(self.paths, self.encoding)
            self.con.register(self.decoded, table)
            return
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

    def rows(self, rejects: str, numbered: bool = True) -> str:
        if not self.native:
            return f"(SELECT * FROM {self.decoded})"
        source = csv_source(self.paths, self.header, rejects=rejects, encoding=self.encoding,
                            filename=FILE if self.positioned else None)
        if not self.positioned:
            return source
        # Each file's rows in order; the position in the file is found on refusal only (`place`).
        position = f", row_number() OVER () - 1 AS {POSITION}" if numbered else ""
        return f"(SELECT *{position} FROM {source})"

    def placed_rows(self, rejects: str, numbered: bool = True) -> str:
        rows = self.rows(rejects, numbered)
        if self.positioned:
            return rows
        position = f", row_number() OVER () - 1 AS {POSITION}" if numbered else ""
        return f"(SELECT *, {literal(str(self.paths[0]))} AS {FILE}{position} FROM {rows})"

    def first_reject(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        if self.native:
            first_csv_reject(con, rejects, encoding=self.encoding, encoding_key=self.encoding_key)

    def unreadable(self, message: str) -> InputError:
        if duckdb_encoding(self.encoding) == "latin-1" and "not latin-1 encoded" in message:
            located = _c1_byte(self.paths, self.header)
            if located is not None:
                return located
        return locate_unreadable(self.paths[0], self.header, message)

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        if not self.native:
            return position + FIRST_ROW  # decoded positions count in their own file
        # `position` counts the rows of every file before this one: take them away.
        before = 0
        for path in self.paths:
            if path == file:
                break
            before += one(con, f"SELECT count(*) FROM {csv_source([path], self.header, rejects='tieout_count', encoding=self.encoding)}")[0]  # type: ignore[index]  # noqa: E501
        return position - before + FIRST_ROW


def _c1_byte(paths: list[Path], header: list[str]) -> InputError | None:
    """DuckDB's latin-1 refuses bytes 0x80-0x9f (C1 control codes in ISO 8859-1) without saying where: the
    first such byte, with its line and column. Those bytes are letters and quotes in Windows-1252."""
    for path in paths:
        with path.open("rb") as f:
            for number, line in enumerate(f, 1):
                at = next((i for i, b in enumerate(line) if 0x80 <= b <= 0x9F), None)
                if at is None:
                    continue
                column = cell_at(line[:at].decode("latin-1"), header) if number > 1 else None
                return InputError(f"byte 0x{line[at]:02x} is a control code in latin-1, not a character — a "
                                  "Windows export is usually cp1252: set the source's `encoding: cp1252`",
                                  file=path, row=number, column=column)
    return None


class JsonReader(Reader):
    """JSON: a list object (`{"object": "list", "data": [...]}`, as an API pages it), a JSON array, or JSON
    Lines; several files of one object type are one table. Fields are paths such as `lines.data[0].period.end`."""

    word = "field"

    def __init__(self, paths: list[Path], label: Path, unwrap: tuple[str, ...] = ()) -> None:
        super().__init__(paths, label)
        # Each file's objects come in order; their `tieout__file` is always there (`placed_rows` is `rows`).
        self.positioned = len(paths) > 1
        self.parsed: dict[str, tuple[Segment, ...]] = {}  # field -> its path in `tieout__fields`
        # Paths tried in order for the record inside each object (an API list entry {"customer": {...}}, a
        # webhook event's content.customer); an object holding none of them is the record itself.
        self.unwrap = unwrap

    def want(self, names: list[str]) -> None:
        """Parse each object once, into the fields that will be read (`json_extract_string` parses the whole
        object again at every read: with fifteen fields, fifteen times). A path is dotted keys, each with an
        optional index: `tax_ids.data[0].value`, or `lines.data[*].quantity` (a list, one element per line,
        NULL where a line has no quantity). Where one path reads as text what another reads into (`lines.data`
        beside `lines.data[*].quantity`), the text one is read as before, apart."""
        paths = {n: segments for n in set(names) if (segments := field_segments(n)) is not None}
        kinds: dict[tuple[str, ...], set[str]] = {}
        for segments in paths.values():
            for prefix, kind in _kinds(segments):
                kinds.setdefault(prefix, set()).add(kind)
        chosen = {}
        for prefix, found in kinds.items():
            structured = {k for k in found if not k.endswith("text")}
            chosen[prefix] = next(iter(found)) if len(found) == 1 else (
                next(iter(structured)) if len(structured) == 1 else None)
        self.parsed = {n: segments for n, segments in paths.items()
                       if all(chosen[prefix] == kind for prefix, kind in _kinds(segments))}

    def check(self) -> None:
        for path in self.paths:
            if not path.is_file():
                raise InputError("file is missing", file=path)
            if not _first_char(path):
                raise InputError("file is empty (expected JSON objects)", file=path)

    def has(self, name: str) -> bool:
        return True  # objects may leave a field out; a required value missing is refused by the checks

    def ref(self, name: str) -> str:
        segments = self.parsed.get(name)
        if segments is not None:
            return _access("tieout__fields", segments)
        extract = f"json_extract_string(tieout__object, {literal(_json_path(name))})"
        last = field_segments(name)
        if last is None:
            return extract
        # An object whose text lacks the key has no such field: most rows are answered without a parse (a
        # `deleted` flag that only deleted objects carry). A key written with escapes would be missed: JSON
        # exports write keys plainly.
        return f"CASE WHEN contains(tieout__object, {literal(json.dumps(last[-1][0]))}) THEN {extract} END"

    def _schema(self) -> dict[str, object]:
        schema: dict[str, object] = {}
        for segments in self.parsed.values():
            _insert(schema, segments)
        return schema

    def reads_fields(self, names: list[str]) -> bool:
        """Whether `field_rows` can give fields `names`: each is parsed, and every file is JSON Lines of records
        with nothing to unwrap."""
        return (bool(self.parsed) and not self.unwrap and all(n in self.parsed for n in names)
                and all(p.is_file() and records_by_line(p) for p in self.paths))

    def field_rows(self) -> str:
        """The rows as `rows(numbered=False)` gives them, but only `tieout__fields` (and `tieout__file`): DuckDB's
        JSON reader parses each record once into the fields, where `rows` reads each record's text and then
        parses that again. Where the two would differ — a value of another kind than a field's path says (an
        object where a list of line items belongs), a key twice, a line that is no object — this one stops with
        an error and the table is read again by `rows` (`VendorTable.read_plainly`)."""
        columns = "{'tieout__fields': " + literal(_struct_type(self._schema())) + "}"
        files = literal(str(self.paths[0])) if len(self.paths) == 1 else (
            "[" + ", ".join(literal(str(p)) for p in self.paths) + "]")
        file = literal(str(self.paths[0])) if len(self.paths) == 1 else "filename"
        return (f"(SELECT tieout__fields, {file} AS {FILE} FROM read_json({files}, format = 'newline_delimited', "
                f"records = false, columns = {columns}{', filename = true' if len(self.paths) > 1 else ''}))")

    def rows(self, rejects: str, numbered: bool = True) -> str:
        parts = [self._file_rows(path, numbered) for path in self.paths]
        rows = "(" + " UNION ALL ".join(parts) + ")"
        if self.unwrap:
            paths = "[" + ", ".join(literal(_json_path(p)) for p in self.unwrap) + "]"
            inner = f"list_filter(json_extract(tieout__object, {paths}), lambda w: json_type(w) = 'OBJECT')[1]"
            rows = (f"(SELECT * REPLACE (coalesce({inner}, tieout__object) AS tieout__object) FROM {rows})")
        if not self.parsed:
            return rows
        schema = literal(json.dumps(self._schema()))
        return f"(SELECT *, json_transform(tieout__object, {schema}) AS tieout__fields FROM {rows})"

    def _file_rows(self, path: Path, numbered: bool) -> str:
        file = literal(str(path))
        size = max(path.stat().st_size + 1, 1 << 24)
        position = f", row_number() OVER () - 1 AS {POSITION}" if numbered else ""
        if _first_char(path) == "[":
            objects = f"read_json_objects({file}, format = 'array', maximum_object_size = {size})"
            return f"SELECT json AS tieout__object, {file} AS {FILE}{position} FROM {objects}"
        if records_by_line(path):
            # JSON Lines of records (the first line is a whole record): no line is looked into for a list. Each
            # line is one record, so DuckDB's buffers stay small and every thread parses (a buffer as large as
            # the file would be parsed by one).
            objects = f"read_json_objects({file}, format = 'newline_delimited')"
            return f"SELECT json AS tieout__object, {file} AS {FILE}{position} FROM {objects}"
        objects = f"read_json_objects({file}, format = 'auto', maximum_object_size = {size})"
        # One object holding a list of objects is an API list (Stripe's {"object": "list", "data": [...]},
        # Chargebee's {"list": [...], "next_offset": ...} and nothing else); otherwise each line is an object.
        # One parse each (the keys are read only for an object holding a `list` array).
        lists = (f"SELECT CASE WHEN e[1] = '\"list\"' AND json_type(e[2]) = 'ARRAY' THEN CAST(e[2] AS JSON[]) "
                 f"WHEN e[1] IS NULL AND json_type(e[3]) = 'ARRAY' AND list_has_all(['list', 'next_offset'], "
                 f"json_keys(json)) THEN CAST(e[3] AS JSON[]) ELSE [json] END AS l"
                 f"{', row_number() OVER () AS n' if numbered else ''} "
                 f"FROM (SELECT json, json_extract(json, ['$.object', '$.data', '$.list']) AS e FROM {objects})")
        if not numbered:
            return f"SELECT unnest(l) AS tieout__object, {file} AS {FILE} FROM ({lists})"
        return (f"SELECT o.o AS tieout__object, {file} AS {FILE}, o.i - 1 AS {POSITION} FROM ({lists}), "
                f"LATERAL (SELECT unnest(l) AS o, generate_subscripts(l, 1) + n - 1 AS i) AS o")

    def unreadable(self, message: str) -> InputError:
        first = message.strip().splitlines()[0] if message.strip() else "unreadable"
        return InputError(f"is not valid JSON: {first}", file=self.label)

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        found = one(con, f"SELECT json_extract_string(tieout__object, '$.id') FROM {self.rows('x')} "
                         f"WHERE {FILE} = ? AND {POSITION} = ?", [str(file), position])
        ident = found[0] if found and found[0] else None
        shown = f" ({ident if len(ident) <= 24 else ident[:23] + '…'})" if ident else ""
        return f"object {position}{shown}"


Segment = tuple[str, str | None]  # a key, and its index: None, "*" or a number


def field_segments(name: str) -> tuple[Segment, ...] | None:
    out = []
    for part in name.split("."):
        match = re.fullmatch(r"([A-Za-z0-9_]+)(?:\[(\*|[0-9]+)\])?", part)
        if match is None:
            return None
        out.append((match.group(1), match.group(2)))
    return tuple(out)


def _kinds(segments: tuple[Segment, ...]) -> list[tuple[tuple[str, ...], str]]:
    """What a path takes each of its key paths to be: text, an object, or a list of either."""
    return [(tuple(k for k, _ in segments[:i + 1]),
             ("list of " if index is not None else "") + ("text" if i == len(segments) - 1 else "object"))
            for i, (_, index) in enumerate(segments)]


def _insert(node: dict[str, object], segments: tuple[Segment, ...]) -> None:
    """Add a path to a json_transform schema; a value is VARCHAR (an object or list read as text is its JSON,
    as json_extract_string gives it)."""
    key, index = segments[0]
    rest = segments[1:]
    if index is None:
        if rest:
            _insert(node.setdefault(key, {}), rest)  # type: ignore[arg-type]
        else:
            node[key] = "VARCHAR"
    elif rest:
        _insert(node.setdefault(key, [{}])[0], rest)  # type: ignore[index]
    else:
        node[key] = ["VARCHAR"]


def _struct_type(node: object) -> str:
    """DuckDB's type of a json_transform schema (`_insert`)."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return _struct_type(node[0]) + "[]"
    assert isinstance(node, dict)
    return "STRUCT(" + ", ".join(f'"{key}" {_struct_type(value)}' for key, value in node.items()) + ")"


def _access(expr: str, segments: tuple[Segment, ...], depth: int = 0) -> str:
    """SQL reading a parsed path: keys, list elements (`[0]` is the first) and every element (`[*]`)."""
    for i, (key, index) in enumerate(segments):
        expr = f"struct_extract({expr}, {literal(key)})"
        if index == "*":
            rest = segments[i + 1:]
            if not rest:
                return expr
            element = f"tieout__element{depth}"
            return f"list_transform({expr}, lambda {element}: {_access(element, rest, depth + 1)})"
        if index is not None:
            expr = f"list_extract({expr}, {int(index) + 1})"
    return expr


def records_by_line(path: Path) -> bool:
    """Whether `path` is JSON Lines of records: its first line (read up to 1 MiB) is a whole object that is no
    API list."""
    with path.open("rb") as f:
        first = f.readline(1 << 20)
    if not first.endswith(b"\n"):
        return False
    try:
        record = json.loads(first.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(record, dict):
        return False
    stripe_list = record.get("object") == "list" and isinstance(record.get("data"), list)
    chargebee_list = isinstance(record.get("list"), list) and set(record) <= {"list", "next_offset"}
    return not (stripe_list or chargebee_list)


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
        # DuckDB adds these columns to the read (the row's place), and names match whatever their case.
        taken = next((n for n in self._names if n.lower() in ("file_row_number", FILE, POSITION)), None)
        if taken is not None:
            raise InputError(f"column {taken!r}: the Parquet read adds a column of this name (each row's place in "
                             "its file); rename it in the export", file=self.paths[0], column=taken)

    def names(self) -> list[str]:
        return self._names

    def has(self, name: str) -> bool:
        return name in self._names

    def ref(self, name: str) -> str:
        return f"CAST({quote_name(name)} AS VARCHAR)"

    def rows(self, rejects: str, numbered: bool = True) -> str:
        files = "[" + ", ".join(literal(str(p)) for p in self.paths) + "]"
        return (f"(SELECT *, file_row_number AS {POSITION} "
                f"FROM read_parquet({files}, filename = {literal(FILE)}, file_row_number = true))")

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

    def rows(self, rejects: str, numbered: bool = True) -> str:
        position = f", row_number() OVER () - 1 AS {POSITION}" if numbered else ""
        return f"(SELECT *, {literal(str(self.label))} AS {FILE}{position} FROM {self.view})"

    def place(self, file: Path, position: int, con: duckdb.DuckDBPyConnection) -> int | str:
        return f"row {position + 1} of the result"


class VendorTable(Origin):
    """A standard table made from a reader's rows by one conversion per standard column."""

    def __init__(self, spec: ExportFile, reader: Reader, columns: Mapping[str, Conversion], *, tz: str,
                 keep: Conversion | None = None, system_key: str = "", joins: bool = False) -> None:
        super().__init__(spec, reader.label)
        self.reader = reader
        self.columns = dict(columns)
        self.tz = tz
        self.keep = keep  # rows the vendor keeps but that are not live records (Salesforce's deleted ones)
        self.system_key = system_key  # e.g. sources.crm, to tell a person where a column map is set
        # Rows of several files, or joined to a related table (a join may reorder them): each carries its place.
        self.positioned = reader.positioned or joins
        # One file read in order with `keep`: every row is loaded, `keep` as the column LIVE, and the rows it
        # leaves out are deleted from the loaded table (`keep_records`), whose rowid stays each row's position
        # — a filter would renumber them, and numbering them as they stream by keeps DuckDB to one thread.
        self.live = keep is not None and not self.positioned
        self.staged: str | None = None  # the temp table `stage` read the inputs into
        self.plainly = False  # `read_plainly`: the rows as `reader.rows` gives them, never `field_rows`
        if isinstance(reader, JsonReader):
            reader.want(self.inputs())

    def inputs(self) -> list[str]:
        """Every vendor column (field) a conversion or `keep` reads, in a fixed order."""
        conversions = [*self.columns.values(), *([self.keep] if self.keep is not None else [])]
        return list(dict.fromkeys(c for conversion in conversions for c in conversion.inputs if self.reader.has(c)))

    def _refs(self, conversion: Conversion) -> list[str]:
        # Each input under a name of its own (`_input_rows`): a template's subquery over a related vendor table
        # that has a column of the same name (an invoice item's `id`) still reads this row's value.
        return self._refs_as(conversion, [quote_name(f"{INPUT}{i}") for i in range(len(self.inputs()))])

    def _refs_as(self, conversion: Conversion, names: list[str]) -> list[str]:
        inputs = self.inputs()
        return [names[inputs.index(c)] if self.reader.has(c) else "CAST(NULL AS VARCHAR)" for c in conversion.inputs]

    def _input_rows(self, rejects: str) -> str:
        if self.staged:
            return f"(SELECT *, rowid AS {POSITION} FROM {self.staged})"
        fields = self._field_rows()
        if fields is not None:
            return self._inputs_of(fields, self.computed_inputs())
        return self._inputs_of(self._rows(rejects))

    def _field_rows(self) -> str | None:
        """The JSON reader's rows of only the fields that values, presence tests and `keep` read, where it has
        such rows (`JsonReader.field_rows`) and they did not fail (`read_plainly`); else None. Inputs read only to
        name a culprit are read on refusal, from `reader.rows`."""
        if self.plainly or not isinstance(self.reader, JsonReader):
            return None
        inputs = self.inputs()
        if not self.reader.reads_fields([inputs[i] for i in self.computed_inputs()]):
            return None
        return self.reader.field_rows()

    def read_plainly(self) -> bool:
        if self.plainly or self._field_rows() is None:
            return False
        self.plainly = True
        return True

    def _inputs_of(self, rows: str, only: list[int] | None = None) -> str:
        """`rows` with each input (those at the indexes `only`, if given) under its own name."""
        refs = ", ".join(f"{self.reader.ref(c)} AS {quote_name(f'{INPUT}{i}')}" for i, c in enumerate(self.inputs())
                         if only is None or i in only)
        return f"(SELECT *{', ' + refs if refs else ''} FROM {rows})"

    def stage(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        """Read the vendor's rows once into a temp table of the inputs the conversions read: its rowid is each
        row's place among all the files read (DuckDB keeps insertion order), so no row is numbered as it streams
        by (which keeps DuckDB to one thread). Inputs read only to name a culprit are read again on refusal."""
        if not self.positioned:
            return
        computed = self.computed_inputs()
        inputs = [quote_name(f"{INPUT}{i}") for i in computed]
        rows = self._field_rows() or self.reader.placed_rows(rejects, numbered=False)
        staged = f"{self.spec.table}__input"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {', '.join([FILE, *inputs])} "
                    f"FROM {self._inputs_of(rows, computed)}")
        self.staged = staged

    def computed_inputs(self) -> list[int]:
        """The indexes of the inputs that a value, a presence test or `keep` reads (not only a culprit)."""
        names = [f"\x00{i}\x00" for i in range(len(self.inputs()))]
        used = " ".join(c.sql(self._refs_as(c, names), self.tz) + c.present_sql(self._refs_as(c, names), self.tz)
                        for c in [*self.columns.values(), *([self.keep] if self.keep is not None else [])])
        return [i for i, name in enumerate(names) if name in used]

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
        # Each conversion is computed once, in the inner query; the outer one tests the results (a JSON field is
        # parsed again at each use, so a test that recomputed the conversion would double the cost of reading).
        inner = []
        flags = []
        for i, col in enumerate(self.spec.columns):
            name = quote_name(col.name)
            conversion = self.columns.get(col.name)
            if conversion is None:
                inner.append(f"CAST(NULL AS VARCHAR) AS {name}")
                continue
            refs = self._refs(conversion)
            inner.append(f"{conversion.sql(refs, self.tz)} AS {name}")
            if not all(self.reader.has(c) for c in conversion.inputs[:1]):
                continue
            if conversion.expected:
                inner.append(f"{conversion.present_sql(refs, self.tz)} AS tieout__present_{i}")
                flags.append(f"WHEN tieout__present_{i} AND {name} IS NULL THEN {literal(col.name)}")
        out = [quote_name(c.name) for c in self.spec.columns]
        out.append(f"CASE {' '.join(flags)} END AS {UNCONVERTED}" if flags else f"NULL AS {UNCONVERTED}")
        if self.positioned:
            out += [FILE, POSITION]
            inner += [FILE, POSITION]
        rows, where = self._input_rows(rejects), ""
        if self.keep is not None:
            keep = self.keep.sql(self._refs(self.keep), self.tz)
            if self.live:
                # The rows `keep` leaves out are converted from no values: whatever they hold is no record's,
                # and never stops the read (a value too large for a cast).
                cleared = ", ".join(f"CASE WHEN {LIVE} THEN {quote_name(f'{INPUT}{i}')} END AS "
                                    f"{quote_name(f'{INPUT}{i}')}" for i in self.computed_inputs())
                rows = (f"(SELECT *{' REPLACE (' + cleared + ')' if cleared else ''} FROM "
                        f"(SELECT *, coalesce({keep}, false) AS {LIVE} FROM {rows}))")
                out.append(LIVE)
                inner.append(LIVE)
            else:
                where = f" WHERE {keep}"
        return f"(SELECT {', '.join(out)} FROM (SELECT {', '.join(inner)} FROM {rows}{where}))"

    def _rows(self, rejects: str) -> str:
        # Positioned: each row carries its place (a joined one file's rows are numbered here). Otherwise the
        # rows of the one file in order, every row (LIVE ones or not): the rowid is the place.
        return self.reader.placed_rows(rejects) if self.positioned else self.reader.rows(rejects, numbered=False)

    def keep_records(self, con: duckdb.DuckDBPyConnection, raw: str) -> None:
        if self.live:  # a deleted row keeps the rowid of every row after it
            con.execute(f"DELETE FROM {raw} WHERE NOT {LIVE}")

    def unreadable(self, message: str) -> InputError:
        return self.reader.unreadable(message)

    def first_reject(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        self.reader.first_reject(con, rejects)

    def empty(self) -> InputError:
        if self.keep is not None and self.keep.expected:
            return InputError(f"holds no live records (read: {self.keep.expected}; a missing day is not a clean "
                              "day)", file=self.file)
        return InputError("holds no records (a missing day is not a clean day)", file=self.file)

    def _where(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int) -> tuple[Path, int]:
        """The file and the position in it of the raw table's `rowid`."""
        if not self.positioned:
            return self.reader.paths[0], rowid
        file, position = one(con, f"SELECT {FILE}, {POSITION} FROM {raw} WHERE rowid = ?", [rowid])  # type: ignore[misc]
        if self.staged:  # a place among every file's rows: less the rows of the files before
            position -= one(con, f"SELECT min(rowid) FROM {self.staged} WHERE {FILE} = ?", [file])[0]  # type: ignore[index]
        return Path(file), position

    def place(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int) -> tuple[Path, int | str]:
        file, position = self._where(con, raw, rowid)
        return file, self.reader.place(file, position, con)

    def column(self, name: str) -> tuple[str, str]:
        conversion = self.columns.get(name)
        if conversion is not None and conversion.derived:  # no one vendor column holds it
            return (f"{name} ({conversion.note})" if conversion.note else name), self.reader.word
        return (conversion.inputs[0] if conversion else name), self.reader.word

    def relation_text(self, con: duckdb.DuckDBPyConnection, rowid: int, name: str) -> str | None:
        if not self.positioned:
            return super().relation_text(con, rowid, name)
        # A joined relation may come out in another order when read again: the row is found by its place.
        raw = f"{self.spec.table}__raw"  # (read_export's table)
        if self.staged:  # the relation's position is the staged rowid
            where, args = f"{POSITION} = ?", [one(con, f"SELECT {POSITION} FROM {raw} WHERE rowid = ?", [rowid])[0]]  # type: ignore[index]
        else:
            file, position = self._where(con, raw, rowid)
            where, args = f"{FILE} = ? AND {POSITION} = ?", [str(file), position]
        found = one(con, f"SELECT {quote_name(name)} FROM {self.relation('tieout_again')} WHERE {where}", args)
        return found[0] if found else None

    def text(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int, name: str) -> str | None:
        conversion = self.columns.get(name)
        if conversion is None:
            return None
        if conversion.derived:  # made from several values (an invoice's lines): the value it gave
            return self.relation_text(con, rowid, name)
        found = (self._evaluate(con, raw, rowid, self.reader.ref(conversion.inputs[0]))
                 if self.reader.has(conversion.inputs[0]) else None)
        value = None if found is None or found[0] is None else str(found[0])
        if (value is None or not value.strip()) and len(conversion.inputs) > 1:
            # The value came from another of the vendor's values (an invoice's currency from its account's)
            return self.relation_text(con, rowid, name)
        return value

    def _evaluate(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int, sql: str) -> tuple[object, ...] | None:
        """`sql` over the vendor's row that became `rowid`, its inputs under their own names as the conversions
        read them (read again: on refusal only)."""
        rows = self._inputs_of(self._rows("tieout_again"))  # every input, culprits' too: read again
        if self.positioned:
            file, position = self._where(con, raw, rowid)
            return one(con, f"SELECT {sql} FROM {rows} WHERE {FILE} = ? AND {POSITION} = ?", [str(file), position])
        return one(con, f"SELECT {sql} FROM {rows} LIMIT 1 OFFSET {rowid}")

    def check_converted(self, con: duckdb.DuckDBPyConnection, raw: str) -> None:
        found = one(con, f"SELECT rowid, {UNCONVERTED} FROM {raw} WHERE {UNCONVERTED} IS NOT NULL "
                         "ORDER BY rowid LIMIT 1")
        if found is None:
            return
        rowid, name = found
        conversion = self.columns[name]
        culprit = conversion.culprit_sql(self._refs(conversion), self.tz)
        named = self._evaluate(con, raw, rowid, culprit) if culprit else None
        if named and named[0]:
            field, value, expected = (None if v is None else str(v) for v in named[0])  # type: ignore[attr-defined]
            file, row = self.place(con, raw, rowid)
            shown = "no value" if value is None else repr(value)
            raise InputError(f"{shown} is not {expected} (read as {self.spec.table}.{name})", file=file, row=row,
                             column=field, column_word=self.reader.word)
        # The vendor's first input, as written (a derived value is named by it too: it is what did not convert).
        found = (self._evaluate(con, raw, rowid, self.reader.ref(conversion.inputs[0]))
                 if self.reader.has(conversion.inputs[0]) else None)
        value = None if found is None or found[0] is None else str(found[0])
        if (value is None or not value.strip()) and len(conversion.inputs) > 1 and not conversion.derived:
            value = self.relation_text(con, rowid, name)
        file, row = self.place(con, raw, rowid)
        raise InputError(f"{value!r} is not {conversion.expected} (read as {self.spec.table}.{name})", file=file,
                         row=row, column=conversion.inputs[0], column_word=self.reader.word)
