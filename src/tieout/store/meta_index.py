"""An index of the history files' footers (`<store>/history/metas.json`), so that a read does not open every
file to learn each one's base and tokens: a read that walks the chain of a day needs them all, and reading 90
footers costs a twentieth of a second — growing with every stored day.

Only a cache. Each entry carries the file's size and a digest of its footer's bytes when its footer was read; a
reader takes an entry only while the file still has both, and reads the footer of any file the index does not
hold as it is now — a file rewritten or added since — exactly as without an index. The stamp is the file's
content, never its times: two runs that write the same files write the same index (a re-run after a crash
leaves the store a clean run leaves, byte for byte), and a store copied or restored keeps its index. A missing
or unreadable index is an empty one. The run writes it, under the run lock, once its history files are in
place (`source_history.Plan.commit`, `repair`); a read never writes it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

INDEX = "metas.json"
_VERSION = 2  # 1 stamped files with their modification time

Stamp = tuple[int, str]  # (size, digest of the Parquet footer)
Entries = dict[str, tuple[Stamp, dict[str, Any]]]  # file name -> (its stamp, its meta as JSON)

# folder -> (the index file's modification time and size, its entries): the index as this process last read it
_loaded: dict[Path, tuple[tuple[int, int] | None, Entries]] = {}


def stamp_of(path: Path) -> Stamp | None:
    """The file's size and a digest of its Parquet footer (the last 8 bytes say the footer's length); None if
    there is no such file. Two reads of a few KiB: far cheaper than parsing the footer."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            footer = b""
            if size >= 12:
                f.seek(size - 8)
                tail = f.read(8)
                length = int.from_bytes(tail[:4], "little")
                if tail[4:] == b"PAR1" and length <= size - 12:
                    f.seek(size - 8 - length)
                    footer = f.read(length)
    except OSError:
        return None
    return (size, hashlib.blake2b(footer, digest_size=16).hexdigest())


def load_index(folder: Path) -> Entries:
    """The index of `folder`, read once per version of its file in a process; empty if there is none."""
    path = folder / INDEX
    try:
        st = path.stat()
        stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    cached = _loaded.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    entries: Entries = {}
    if stamp is not None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") == _VERSION:
                entries = {name: ((int(s[0]), str(s[1])), meta) for name, (s, meta) in raw["files"].items()}
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            entries = {}  # damaged: every footer is read as if there were no index
    _loaded[folder] = (stamp, entries)
    return entries


def save_index(folder: Path, entries: Entries) -> None:
    """Replace `folder`'s index by `entries` (one `os.replace`: a reader sees the old index or the new)."""
    tmp = folder / f".{INDEX}.{os.getpid()}.tmp"
    body = {"version": _VERSION, "files": {name: [list(s), meta] for name, (s, meta) in sorted(entries.items())}}
    tmp.write_text(json.dumps(body, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / INDEX)
