"""Where a CSV file that DuckDB refused outright is broken, found again in Python: the file, row and column.

Only the refusal path comes here, so it may read the file line by line; a good export never does. Lines end
with LF or CRLF, the same in the whole file: the header's ending is the file's. A carriage return anywhere
else (a file saved with CR-only endings, a line with the other ending, a stray CR inside a cell) is refused
where it first appears. Quotes are ignored when a column is named from a line, so with a quoted comma in the
row the column is a close hint rather than a parse.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tieout.errors import InputError

# Longer than any header: a file without a line feed must not be read whole to find its first line.
_MAX_HEADER = 1 << 20


def read_first_line(path: Path) -> bytes:
    """The header line of `path` with its ending; refuses CR-only line endings (the header would be the file)."""
    with path.open("rb") as f:
        first = f.readline(_MAX_HEADER)
    body = first[:-2] if first.endswith(b"\r\n") else first.rstrip(b"\n")
    if b"\r" in body:
        at = body.index(b"\r")
        raise InputError(
            "a line ends with a carriage return only (CR); save the export with LF or CRLF line endings",
            file=path, row=1, column=_cell_at(body, at, header=None),
        )
    return first


def _cell_at(line: bytes, offset: int, header: list[str] | None) -> str | None:
    """The name of the column holding byte `offset` of `line` (for the header line itself, the header cell
    being written there)."""
    if header is None:
        cells = _split(line[:offset])
        return cells[-1] if cells else None
    index = line.count(b",", 0, offset)
    return header[index] if index < len(header) else None


def _split(line: bytes) -> list[str]:
    text = line.decode("utf-8-sig", "replace").rstrip("\r\n")
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error:  # a quote left open in a broken line: any name is a hint, none is no worse
        return []


def locate_unreadable(path: Path, header: list[str], message: str) -> InputError:
    """The refusal for a file DuckDB could not read at all (`message` is DuckDB's), located by row and column."""
    with path.open("rb") as f:
        first = f.readline(_MAX_HEADER)
        crlf = first.endswith(b"\r\n")
        row = 1
        for line in f:
            row += 1
            ending = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
            body = line[: len(line) - len(ending)]
            if b"\r" in body:
                return InputError("a carriage return (CR) inside a line: lines end with LF or CRLF, the same in "
                                  "the whole file", file=path, row=row, column=_cell_at(body, body.index(b"\r"),
                                                                                       header))
            if ending and (ending == b"\r\n") != crlf:
                expected, found = ("CRLF", "LF") if crlf else ("LF", "CRLF")
                return InputError(f"this line ends with {found} but the header with {expected}: line endings "
                                  "must be the same in the whole file", file=path, row=row,
                                  column=header[-1] if header else None)
    first_line = message.strip().splitlines()[0] if message.strip() else "unreadable"
    return InputError(f"cannot be read as CSV: {first_line}", file=path)
