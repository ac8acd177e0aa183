"""The episodes' signatures (`tieout.patterns.signature`), kept per first day once read.

An episode's signature — what changed among its records on its first day, and how they resolved — is a
function of its subject (entity or record) and of two stored days only: its first day and the stored day
before it. Reading it costs a scan of the resolution rows of every history file in the chain (~0.15 s on the
demo, every `patterns` and weekly review), so the first read keeps each first day's signatures in
`<store>/cache/signatures/<first day>.<key>.json`, one entry per subject, and later reads take them from there.

`key` names the content of both days, the day before's date, this file format's version, tieout's and the
source of the modules the signatures come from (`tieout.store.day_cache`): a day re-run, re-resolved or
repaired into other content, or a day run out of order between the two (another day before), gives another
key. A subject first read later (an episode a re-run with other rules found) is added to its day's file. A
read that cannot write the store (read-only, full) reads the signatures as before, every time.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tieout.config import Project
from tieout.store import day_cache

_FORMAT = 1

# The modules the signatures come from: the query, what counts as a change, the history's rows, the systems.
CODE = ("tieout.patterns.signature", "tieout.record_versions", "tieout.store.source_history", "tieout.systems")

Subject = tuple[str | None, str | None, str | None]  # canonical id, source system, source id
Row = tuple[str, str, str | None, str | None, str | None]  # kind ('change', 'origin'), system, a, b, c


def cache_dir(project: Project) -> Path:
    return day_cache.folder(project, "signatures")


def key(project: Project, first: date, before: date | None) -> str | None:
    """The key of the signatures of the episodes first seen on stored `first`, compared with stored `before`
    (None: `first` is the history's first day); None when a history file's footer cannot be read (nothing is
    cached then)."""
    now = day_cache.content(project, first)
    then = day_cache.content(project, before) if before is not None else {}
    if now is None or then is None:
        return None
    return day_cache.key({"format": _FORMAT, "first": now, "before": then}, CODE)


def _path(project: Project, first: date, key_: str) -> Path:
    return cache_dir(project) / f"{first.isoformat()}.{key_}.json"


def read(project: Project, first: date, key_: str) -> dict[Subject, list[Row]]:
    """The kept signature rows of each subject first seen on `first`, under `key_`; empty when there are none
    (or the file cannot be read)."""
    try:
        kept = json.loads(_path(project, first, key_).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("format") != _FORMAT:
        return {}
    return {(c, s, i): [tuple(r) for r in rows] for c, s, i, rows in kept["subjects"]}  # type: ignore[misc]


def write(project: Project, first: date, key_: str, subjects: dict[Subject, list[Row]]) -> None:
    """Keep `subjects`' rows as `first`'s under `key_`, replacing any other key's; quietly nothing when the
    store cannot be written."""
    text = json.dumps({"format": _FORMAT, "subjects": [[*s, sorted(rows, key=str)] for s, rows in
                                                        sorted(subjects.items(), key=str)]})
    target = _path(project, first, key_)
    day_cache.replace(cache_dir(project), first, target, lambda tmp: tmp.write_text(text))
