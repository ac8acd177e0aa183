"""CSV files in a codec DuckDB's reader does not know (Windows-1252, UTF-16, Shift JIS, …), decoded in Python.

DuckDB's CSV reader decodes UTF-8 and latin-1 only (`tieout.sources.origin.duckdb_encoding`). A source whose
`encoding:` names any other Python codec is decoded here, line by line with an incremental decoder, parsed by
Python's `csv` module and handed to DuckDB as an Arrow table of strings that carries each record's file and
position — vendor CRM and billing extracts are small, and no converted copy is written to disk. The refusals
are the ones DuckDB's path gives: bytes that are not the codec, a record with too few or too many cells, a
broken quote, each with its file, row and column. An empty cell is no value (NULL), as DuckDB reads it.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from tieout.errors import InputError
from tieout.sources.origin import FIRST_ROW, check_duplicated_header

FILE = "tieout__file"
POSITION = "tieout__position"


class _Lines:
    """The decoded physical lines of a file (line endings kept, for `csv`), counting them; a byte that is not
    `encoding` is refused with its line and the column it falls in (a hint when a quoted cell holds a comma)."""

    def __init__(self, path: Path, encoding: str, header: list[str] | None) -> None:
        self.path = path
        self.encoding = encoding
        self.header = header
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        # Bytes are split where a line feed byte is, text where a line feed character is: in UTF-16 the byte
        # comes before the rest of its character, which the incremental decoder keeps until it arrives.
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="strict")
        pending = ""
        with self.path.open("rb") as f:
            for raw in f:
                try:
                    pending += decoder.decode(raw)
                except UnicodeDecodeError as e:
                    raise self._undecodable(pending, raw, e) from None
                except UnicodeError as e:  # e.g. UTF-16 without a byte order mark
                    raise InputError(f"not {self.encoding}: {e} (is the source's `encoding:` right?)",
                                     file=self.path, row=self.number + 1) from None
                while (end := pending.find("\n")) >= 0:
                    self.number += 1
                    yield pending[: end + 1]
                    pending = pending[end + 1:]
            try:
                pending += decoder.decode(b"", final=True)
            except UnicodeError as e:
                raise InputError(f"the file ends inside a character: its last bytes are not {self.encoding} "
                                 "(is the file truncated?)", file=self.path, row=self.number + 1) from e
        if pending:
            self.number += 1
            yield pending

    def _undecodable(self, pending: str, raw: bytes, e: UnicodeDecodeError) -> InputError:
        bad = e.object[e.start:e.end]
        shown = " ".join(f"0x{b:02x}" for b in bad[:4]) or "bytes"
        before = pending + codecs.decode(e.object[: e.start], self.encoding, "replace")
        line = before.count("\n")
        column = cell_at(before.rpartition("\n")[2], self.header if self.number + line else None)
        return InputError(f"{shown}: not {self.encoding} (is the source's `encoding:` right?)", file=self.path,
                          row=self.number + line + 1, column=column)


def cell_at(before: str, header: list[str] | None) -> str | None:
    """The column of the cell that a line's text `before` ends in (a hint: a record may span lines)."""
    if header is None:
        return None
    cells = next(csv.reader([before.rstrip("\r\n")]), [""]) if before else [""]
    index = len(cells) - 1
    return header[index] if index < len(header) else None


def decode_csv(paths: list[Path], encoding: str) -> tuple[list[str], pa.Table]:
    """The header and every record of `paths` (one header, parts of one table) as an Arrow table of strings,
    with `tieout__file` and `tieout__position` (0-based, in its file)."""
    header: list[str] = []
    columns: list[list[str | None]] = []
    files: list[str] = []
    positions: list[int] = []
    for path in paths:
        if not path.is_file():
            raise InputError("file is missing", file=path)
        lines = _Lines(path, encoding, None)
        try:
            records = csv.reader(lines, strict=True)
            first = next(records, None)
            if first is None or not any(cell.strip() for cell in first):
                raise InputError("file is empty (expected a header row and at least one record)", file=path, row=1)
            first = [first[0].lstrip("\ufeff"), *first[1:]]
            check_duplicated_header(path, first)
            if header and first != header:
                raise InputError(f"its header differs from {paths[0].name}'s (parts of one table share one "
                                 "header)", file=path, row=1)
            if not header:
                header = first
                columns = [[] for _ in header]
            lines.header = header
            for position, record in enumerate(_records(records, path, header)):
                for values, cell in zip(columns, record, strict=True):
                    values.append(cell if cell != "" else None)
                files.append(str(path))
                positions.append(position)
        except csv.Error as e:
            raise InputError(f"cannot be read as CSV: {e} — is a quote left open?", file=path,
                             row=lines.number) from e
    table = pa.table({**{name: pa.array(values, pa.string()) for name, values in zip(header, columns, strict=True)},
                      FILE: pa.array(files, pa.string()), POSITION: pa.array(positions, pa.int64())})
    return header, table


def _records(records: Iterator[list[str]], path: Path, header: list[str]) -> Iterator[list[str]]:
    for index, record in enumerate(records):
        if not record:  # a blank line
            continue
        if len(record) != len(header):
            what = "missing columns" if len(record) < len(header) else "too many columns"
            column = header[min(len(record), len(header)) - 1] if len(record) < len(header) else header[-1]
            raise InputError(f"{what} ({len(record)} cells where the header has {len(header)}) — is the file "
                             "truncated or a value unquoted?", file=path, row=index + FIRST_ROW, column=column)
        yield record
