"""What the store's caches of a stored day's derived data share: the key that names what the data is a function
of, and writing one day's file in place of the key it had before.

A key is a digest of the content of the days the data is built from, as their history files record it (each
file's *tokens*, a fingerprint of each table's rows, and where its usage window starts:
`tieout.store.source_history`), the cache's own inputs, its file format's version, tieout's version and the
source of the modules that build the data. A day re-run with other records, re-resolved, or repaired into
other content has other tokens, hence another key: the old file is never read again (and is removed when the
new one is written). A day run out of order rebases the next day's history file but leaves its content, and so
its tokens, as they were.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import tieout
from tieout.config import Project
from tieout.store.history_files import history_path, read_meta
from tieout.store.version import CACHE


def folder(project: Project, name: str) -> Path:
    """The store's cache folder `name` (the run lock's sweep removes the temporary files left in it)."""
    return project.store_path / CACHE / name


@functools.cache
def code_digest(modules: tuple[str, ...]) -> str:
    """A digest of the source of `modules`, so that a tieout whose code changed (a development checkout, whatever
    its version says) never takes data an earlier one built."""
    digest = hashlib.blake2b(digest_size=12)
    for name in modules:
        try:
            digest.update(Path(importlib.import_module(name).__file__ or "").read_bytes())
        except OSError:
            digest.update(tieout.__version__.encode())  # no source to read: the version says
    return digest.hexdigest()


def content(project: Project, day: date) -> dict[str, Any] | None:
    """Stored `day`'s content as its history file records it; None when its footer cannot be read."""
    meta = read_meta(history_path(project, day))
    if meta is None or meta.day != day:
        return None
    return {"day": day.isoformat(), "tokens": meta.tokens, "usage_window": meta.window}


def key(what: dict[str, Any], code: tuple[str, ...]) -> str:
    """The key of data that is a function of `what` (JSON) and of the source of the modules `code`."""
    what = {**what, "tieout": tieout.__version__, "code": code_digest(code)}
    return hashlib.blake2b(json.dumps(what, sort_keys=True).encode(), digest_size=12).hexdigest()


def replace(folder_: Path, day: date, target: Path, write: Callable[[Path], object],
            errors: tuple[type[Exception], ...] = ()) -> None:
    """Write `target` (one of `day`'s files in `folder_`) through `write(temporary path)` and one `os.replace`,
    then remove `day`'s files of other keys; quietly nothing when the store cannot be written (read-only, full)
    or `write` raises one of `errors`."""
    # one temporary file per writer: the web server's threads may keep the same day at once
    tmp = folder_ / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        folder_.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, target)
        for old in folder_.glob(f"{day.isoformat()}.*"):
            if old != target:
                old.unlink(missing_ok=True)
    except (OSError, *errors):  # type: ignore[misc]  # a tuple of exception classes
        tmp.unlink(missing_ok=True)
