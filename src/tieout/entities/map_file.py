"""Appending a row to `entity_map.csv`: atomically, keeping every byte a person wrote, one writer at a time.

The map is a file people edit by hand, so tieout never rewrites what is there: it reads the file's bytes, adds one
line in the file's own column order and line endings, checks that the result is still a valid map
(`load_entity_map`: no overlapping ranges, no bad date), writes it to a temporary file beside it, flushes it to
disk and moves it over the map in one `os.replace`. A reader sees the old map or the new one, never half of
either. Appends take an exclusive lock (`<map>.lock`, `fcntl.flock`) around the read-and-replace, so two
approvals at the same moment append two rows instead of the second one overwriting the first one's.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tieout.db import connect
from tieout.errors import InputError

from .entity_map import COLUMNS, load_entity_map

# What the map refuses in a note (tieout.entities.entity_map): a note written from a page is one line of text.
_CONTROL = re.compile("[\x00-\x1f\x7f\ufeff]+")


@contextmanager
def map_lock(path: Path) -> Iterator[None]:
    """Hold the map's append lock (a file beside it, never the map itself: os.replace swaps the map's inode)."""
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def one_line(text: str | None) -> str:
    """Free text as one line the map accepts: control characters (line breaks, tabs, NUL) become spaces."""
    return _CONTROL.sub(" ", text or "").strip()


def _line(data: bytes, values: dict[str, str]) -> bytes:
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig").split("\n", 1)[0].rstrip("\r"))))
    newline = "\r\n" if b"\r\n" in data else "\n"
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerow([values.get(h.strip(), "") for h in header])
    return out.getvalue().encode("utf-8")


def append_row(path: Path, row: dict[str, str]) -> None:
    """Append `row` (keys from COLUMNS; a column the file's header lacks is left out) to the map at `path`.
    Raises InputError (nothing written) when the map with the row would not be valid."""
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not entity map columns: {', '.join(sorted(unknown))}")
    row = {**row, "notes": one_line(row.get("notes"))}  # free text: one line, whoever wrote it
    with map_lock(path):
        data = path.read_bytes()
        newline = b"\r\n" if b"\r\n" in data else b"\n"
        body = data if not data or data.endswith(b"\n") else data + newline
        new = body + _line(data, row)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(new)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, path.stat().st_mode & 0o7777)
            con = connect()
            try:
                load_entity_map(con, temp)  # the map as it would be: refused here, the real one is untouched
            except InputError as e:
                raise InputError(f"with the new row, the map would be refused: {e.problem}", file=path,
                                 row=e.row, column=e.column) from None
            finally:
                con.close()
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
