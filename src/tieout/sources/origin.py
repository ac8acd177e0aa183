"""Where a standard table's rows are read from, and how a refusal names one of them.

The checks of `tieout.sources.standard` run over a loaded table whose rows are in the order they were read
(`rowid`); an `Origin` turns a row and a standard column back into what a person can open: the file, its row
(or a JSON object's index and id) and the column (or field) as the file names it, and the cell as written.
`StandardCsv` is a file of the standard layout; the vendor shapes are in `tieout.sources.vendor`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from abc import ABC, abstractmethod
from pathlib import Path

import duckdb

from tieout.db import one
from tieout.errors import InputError
from tieout.sources.diagnose import locate_unreadable, read_first_line
from tieout.sources.layout import ExportFile
from tieout.sql import literal, quote_name

# rowid 0 is the first record, on row 2 of a CSV file (the header is row 1).
FIRST_ROW = 2


class Origin(ABC):
    """One standard table's source: the SQL relation that reads it as text, and the words of a refusal."""

    def __init__(self, spec: ExportFile, file: Path) -> None:
        self.spec = spec
        self.file = file  # named when a refusal concerns the whole table

    @abstractmethod
    def relation(self, rejects: str) -> str:
        """SQL of a relation with every standard column as text, in read order; `rejects` names the tables
        a CSV reader records structural errors in."""

    def check_shape(self) -> None:
        """Refuse a missing file or a missing column before anything is read (nothing by default)."""
        return None

    def unreadable(self, message: str) -> InputError:
        """The refusal for a source DuckDB could not read at all (`message` is DuckDB's)."""
        first = message.strip().splitlines()[0] if message.strip() else "unreadable"
        return InputError(f"cannot be read: {first}", file=self.file)

    def first_reject(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        """Refuse the first structural error the load recorded (CSV readers only)."""
        return None

    @abstractmethod
    def place(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int) -> tuple[Path, int | str]:
        """The file and row (a row number, or a worded place such as "object 17 (in_1Nv…)") of `rowid`."""

    def column(self, name: str) -> tuple[str, str]:
        """How the source names standard column `name`: (its own name, "column" or "field")."""
        return name, "column"

    @abstractmethod
    def text(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int, name: str) -> str | None:
        """The cell feeding standard column `name` on `rowid`, as written in the source."""

    def stage(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        """Read what `relation` needs into temp tables first, where that is faster (vendor sources only)."""
        return None

    def relation_text(self, con: duckdb.DuckDBPyConnection, rowid: int, name: str) -> str | None:
        """Standard column `name` of `rowid` as the relation gives it, before typing (read again: a typed
        column no longer holds its text; on refusal only)."""
        row = one(con, f"SELECT {quote_name(name)} FROM {self.relation('tieout_again')} LIMIT 1 OFFSET {rowid}")
        return row[0] if row else None

    def read_plainly(self) -> bool:
        """After the load failed: whether the origin has a plainer way to read the source, now taken (a faster
        reader that stops where the plain one would read on, or refuse in other words); False by default."""
        return False

    def keep_records(self, con: duckdb.DuckDBPyConnection, raw: str) -> None:
        """Delete the loaded rows that are no records (a vendor's deleted ones) from `raw`, whose rowids the
        remaining rows keep (nothing by default)."""
        return None

    def empty(self) -> InputError:
        return InputError("header only: the export holds no records (a missing day is not a clean day)",
                          file=self.file, row=2)

    def check_converted(self, con: duckdb.DuckDBPyConnection, raw: str) -> None:
        """Refuse the first value the source's own form could not be turned into (vendor sources only)."""
        return None

    def error(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int, name: str, problem: str) -> InputError:
        file, row = self.place(con, raw, rowid)
        column, word = self.column(name)
        return InputError(problem, file=file, row=row, column=column, column_word=word)


def read_header(path: Path, *, encoding: str = "utf-8", missing: str | None = None) -> list[str]:
    """The header row of `path` (BOM allowed); refuses a missing or empty file, a header not in `encoding` and
    CR-only lines."""
    if not path.is_file():
        raise InputError(missing or "file is missing (a day's export must hold all six files)", file=path)
    first = read_first_line(path)
    if not first.strip():
        raise InputError("file is empty (expected a header row and at least one record)", file=path, row=1)
    try:
        text = first.decode("utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as e:
        raise InputError(f"bytes that are not {_codec_label(encoding)} at byte {e.start} of the header", file=path,
                         row=1) from e
    return next(csv.reader(io.StringIO(text.rstrip("\r\n"))))


def _codec_label(encoding: str) -> str:
    return "UTF-8" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding


# Python codec (canonical name) -> the name DuckDB's CSV reader knows it by. DuckDB reads only these natively
# (utf-16 too, but not every BOM and byte order Python's codec reads, so it is decoded in Python); any other
# codec is decoded in Python (`tieout.sources.decode`).
_DUCKDB_CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "iso8859-1": "latin-1"}


def duckdb_encoding(encoding: str) -> str | None:
    """The name DuckDB's CSV reader gives Python codec `encoding` (`latin1`, `ISO-8859-1` -> `latin-1`), or
    None when DuckDB cannot decode it."""
    try:
        return _DUCKDB_CODECS.get(codecs.lookup(encoding).name)
    except LookupError:
        return None


def missing_column(path: Path, name: str, expected: list[str] | tuple[str, ...], header: list[str],
                   why: str = "") -> InputError:
    """A header without column `name`; a header cell that differs only in case or blanks is named as the likely
    rename, else the closest one difflib finds."""
    unknown = [h for h in header if h not in expected]
    guess = ([h for h in unknown if h.strip().lower() == name.lower()]
             or difflib.get_close_matches(name, unknown, n=1))
    hint = f" — is {guess[0]!r} this column renamed?" if guess else ""
    return InputError(f"missing column {name!r}{why} (expected columns: {', '.join(expected)}){hint}",
                      file=path, row=1, column=guess[0] if guess else name)


def check_duplicated_header(path: Path, header: list[str]) -> None:
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise InputError(f"column {duplicated[0]!r} appears twice in the header", file=path, row=1,
                         column=duplicated[0])


def csv_source(paths: list[Path], header: list[str], *, rejects: str, encoding: str = "utf-8",
               filename: str | None = None) -> str:
    """DuckDB's strict CSV reader over `paths` (one header), every column as text; structural errors are
    stored in `rejects`__rejects rather than raised, so they can be named by line. `filename`: the column that
    gives each row's file (a name of tieout's own: a header may have a `filename` column, DuckDB's default)."""
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    files = "[" + ", ".join(literal(str(p)) for p in paths) + "]" if len(paths) > 1 else literal(str(paths[0]))
    native = duckdb_encoding(encoding)
    if native is None:
        raise ValueError(f"DuckDB's CSV reader cannot decode {encoding!r}")
    options = f", encoding = {literal(native)}" if native != "utf-8" else ""
    options += f", filename = {literal(filename)}" if filename else ""
    return (f"read_csv({files}, header = true, auto_detect = false, columns = {columns}, delim = ',', "
            f"quote = '\"', escape = '\"', strict_mode = true, null_padding = false, store_rejects = true, "
            f"rejects_table = '{rejects}__rejects', rejects_scan = '{rejects}__reject_scans'{options})")


def first_csv_reject(con: duckdb.DuckDBPyConnection, rejects: str, *, encoding: str = "utf-8",
                     file: Path | None = None, column_of: dict[str, str] | None = None,
                     encoding_key: str | None = None) -> None:
    """Refuse the first row DuckDB's CSV reader recorded in `rejects`__rejects, with its line and column.
    `encoding_key` names where a source's encoding is set (`sources.crm.encoding`), for the hint."""
    # Almost every file has no reject: a look at the rejects alone costs a third of the join that orders them.
    if one(con, f"SELECT 1 FROM {rejects}__rejects LIMIT 1") is None:
        return
    row = one(
        con,
        "SELECT s.file_path, r.line, r.column_name, r.error_type, r.error_message "
        f"FROM {rejects}__rejects AS r JOIN {rejects}__reject_scans AS s USING (scan_id, file_id) "
        "ORDER BY s.file_path, r.line, r.column_idx LIMIT 1",
    )
    if row is None:
        return
    path, line, column, error_type, message = row
    where = Path(path) if file is None else file
    if error_type == "INVALID ENCODING":
        if encoding_key is not None:
            fix = (f"name the file's encoding as `encoding:` in {encoding_key.rpartition('.')[0]}, e.g. "
                   "latin-1, or cp1252 for a Windows export" if _codec_label(encoding) == "UTF-8"
                   else f"is {encoding_key}: {encoding} right?")
        else:
            fix = ("save the export as UTF-8" if _codec_label(encoding) == "UTF-8"
                   else "is the source's `encoding:` right?")
        raise InputError(f"bytes that are not {_codec_label(encoding)} ({fix})", file=where, row=line,
                         column=column)
    if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        counts = re.findall(r"\d+", message)
        shape = f" ({counts[1]} cells where the header has {counts[0]})" if len(counts) >= 2 else ""
        raise InputError(f"{error_type.lower()}{shape} — is the file truncated or a value unquoted?",
                         file=where, row=line, column=column)
    raise InputError(f"{error_type.lower()}: {message}", file=where, row=line, column=column)


class StandardCsv(Origin):
    """A file of the standard layout (contract §3): its columns are the standard columns."""

    def __init__(self, spec: ExportFile, path: Path) -> None:
        super().__init__(spec, path)
        self.header: list[str] = []

    def check_shape(self) -> None:
        self.header = read_header(self.file)
        for name in self.spec.column_names:
            if name not in self.header:
                raise missing_column(self.file, name, self.spec.column_names, self.header)
        check_duplicated_header(self.file, self.header)

    def relation(self, rejects: str) -> str:
        return csv_source([self.file], self.header, rejects=rejects)

    def unreadable(self, message: str) -> InputError:
        return locate_unreadable(self.file, self.header, message)

    def first_reject(self, con: duckdb.DuckDBPyConnection, rejects: str) -> None:
        first_csv_reject(con, rejects, file=self.file)

    def place(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int) -> tuple[Path, int | str]:
        return self.file, rowid + FIRST_ROW

    def text(self, con: duckdb.DuckDBPyConnection, raw: str, rowid: int, name: str) -> str | None:
        return self.relation_text(con, rowid, name)
