"""An index of the history files' footers (`<store>/history/metas.json`), so that a read does not open every
file to learn each one's base and tokens: a read that walks the chain of a day needs them all, and reading 90
footers costs a twentieth of a second — growing with every stored day.

Only a cache. Each entry carries the file's modification time (ns) and size when its footer was read; a reader
takes an entry only while the file still has both, and reads the footer of any file the index does not hold as
it is now — a file rewritten, added or restored since — exactly as without an index. A missing or unreadable
index is an empty one. The run writes it, under the run lock, once its history files are in place
(`source_history.Plan.commit`, `repair`); a read never writes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

INDEX = "metas.json"
_VERSION = 1

Stamp = tuple[int, int]  # (st_mtime_ns, st_size)
Entries = dict[str, tuple[Stamp, dict[str, Any]]]  # file name -> (its stamp, its meta as JSON)

_loaded: dict[Path, tuple[Stamp | None, Entries]] = {}  # folder -> (the index file's stamp, its entries)


def stamp_of(path: Path) -> Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def load_index(folder: Path) -> Entries:
    """The index of `folder`, read once per version of its file in a process; empty if there is none."""
    path = folder / INDEX
    stamp = stamp_of(path)
    cached = _loaded.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    entries: Entries = {}
    if stamp is not None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") == _VERSION:
                entries = {name: ((int(s[0]), int(s[1])), meta) for name, (s, meta) in raw["files"].items()}
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
