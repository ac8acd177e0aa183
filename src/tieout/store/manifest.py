"""The day manifest (`days/manifest.json`): the stored days in date order, the file of each, the anchors each
was committed with, the checkpoint (every finding of the last stored day) and the stored timeline (every
episode of every exception, tieout.store.episodes). Replacing it in one `os.replace` is what commits a day
(tieout.store.days writes the files it names).

A manifest that cannot be read is a damaged store (`StoreError`), never a configuration error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import duckdb

from tieout.config import Project
from tieout.errors import StoreError
from tieout.state.anchors import Anchor

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ActiveCounts:
    """Each system's active customers on a day, as its run counted them (tieout.active_customers), and the ops
    window it counted with: the month's average reads them instead of building every day again."""

    by_system: tuple[tuple[str, int], ...]
    ops_window_days: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.by_system)


@dataclass(frozen=True)
class StoredDay:
    day: date
    file: str
    findings: int  # reported that day
    changes: int  # rows in its file
    anchors: tuple[Anchor, ...] = ()  # the head of every log with entries, when the day was committed
    active: ActiveCounts | None = None  # None: stored by a tieout from before the counts, or by a bare commit


def days_dir(project: Project) -> Path:
    return project.store_path / "days"


@dataclass(frozen=True)
class Checkpoint:
    day: date  # the last stored day
    file: str  # every finding reported that day


class Manifest(NamedTuple):
    days: list[StoredDay]
    checkpoint: Checkpoint | None
    # The stored timeline of `days` (tieout.store.episodes) and their ownership breaks (tieout.store.breaks):
    # None in a store from before them, until its next commit; readers then derive them as before.
    episodes: tuple[str, ...] | None = None  # its segments
    ownership: str | None = None


# path -> (its text, what it says): the manifest as this process last parsed it. A read parses it once per
# version (`show` asks for the stored days eight times, each parse ~6 ms on the demo's 90 days).
_parsed: dict[Path, tuple[bytes, Manifest]] = {}


def read(project: Project) -> Manifest:
    path = days_dir(project) / MANIFEST
    if not path.is_file():
        return Manifest([], None)
    data = path.read_bytes()
    cached = _parsed.get(path)
    if cached is None or cached[0] != data:
        cached = _parsed[path] = (data, _parse(path, data))
    return cached[1]._replace(days=list(cached[1].days))  # the caller's own list of (frozen) days


def _parse(path: Path, data: bytes) -> Manifest:
    try:
        raw = json.loads(data.decode("utf-8"))
        days = [StoredDay(day=date.fromisoformat(d["day"]), file=d["file"], findings=d["findings"],
                          changes=d["changes"], anchors=_anchors(d.get("anchors") or {}),
                          active=_active(d.get("active"))) for d in raw["days"]]
        latest = raw.get("checkpoint")
        checkpoint = Checkpoint(date.fromisoformat(latest["day"]), latest["file"]) if latest else None
        episodes, ownership = raw.get("episodes"), raw.get("ownership")
        if episodes is not None and not (isinstance(episodes, list) and all(isinstance(n, str) for n in episodes)):
            raise TypeError(f"episodes: {episodes!r}")
        if ownership is not None and not isinstance(ownership, str):
            raise TypeError(f"ownership: {ownership!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise StoreError(f"{path}: not a tieout day manifest ({e})") from e
    return Manifest(days, checkpoint, None if episodes is None else tuple(episodes), ownership)


def _anchors(raw: dict[str, Any]) -> tuple[Anchor, ...]:
    return tuple(Anchor(log, int(h["seq"]), str(h["hash"])) for log, h in sorted(raw.items()))


def _active(raw: dict[str, Any] | None) -> ActiveCounts | None:
    if raw is None:
        return None
    counts = {k: v for k, v in raw.items() if k != "ops_window_days"}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (*counts.values(), raw["ops_window_days"])):
        raise TypeError(f"active: {raw!r}")
    return ActiveCounts(tuple(sorted(counts.items())), raw["ops_window_days"])


def _day_entry(d: StoredDay) -> dict[str, object]:
    entry: dict[str, object] = {"day": d.day.isoformat(), "file": d.file, "findings": d.findings,
                                "changes": d.changes}
    if d.anchors:  # a project without a state database writes the manifest it always wrote
        entry["anchors"] = {a.log: {"seq": a.seq, "hash": a.hash} for a in d.anchors}
    if d.active is not None:
        entry["active"] = {**d.active.as_dict(), "ops_window_days": d.active.ops_window_days}
    return entry


def read_manifest(project: Project) -> list[StoredDay]:
    """The stored days in date order (no migration: see `tieout.store.stored_days`)."""
    return read(project)[0]


def read_checkpoint(project: Project) -> Checkpoint | None:
    """The checkpoint the manifest names: every finding of the last stored day (None in a store from before
    checkpoints, until its next commit)."""
    return read(project)[1]


def anchored(project: Project) -> list[tuple[date, Anchor]]:
    """Every stored day's anchors, oldest day first."""
    return [(d.day, a) for d in read_manifest(project) for a in d.anchors]


def named_files(project: Project) -> set[str]:
    """Every file of the day store the manifest names, the manifest included."""
    return names(read(project))


def names(manifest: Manifest) -> set[str]:
    """Every file of the day store `manifest` names, the manifest included."""
    days, checkpoint, episodes, ownership = manifest
    extra = {checkpoint.file} if checkpoint else set()
    return {d.file for d in days} | extra | set(episodes or ()) | ({ownership} if ownership else set()) | {MANIFEST}


def write_whole(path: Path, body: str | bytes) -> None:
    """Write `path` whole or not at all: a temporary file, durable, moved into place (text as UTF-8)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(body.encode("utf-8") if isinstance(body, str) else body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_manifest(project: Project, manifest: Manifest) -> None:
    days, checkpoint, episodes, ownership = manifest
    body: dict[str, object] = {"days": [_day_entry(d) for d in days]}
    if checkpoint is not None:
        body["checkpoint"] = {"day": checkpoint.day.isoformat(), "file": checkpoint.file}
    if episodes is not None:
        body["episodes"] = list(episodes)
    if ownership is not None:
        body["ownership"] = ownership
    write_whole(days_dir(project) / MANIFEST, json.dumps(body, indent=1) + "\n")


def files(project: Project, days: list[StoredDay]) -> list[str]:
    return [str(days_dir(project) / d.file) for d in days]


T = TypeVar("T")


def reading(read: Callable[[], T]) -> T:
    """Call `read` (which reads the manifest and then its files), again if a run removed a file it had
    listed in between — the manifest it reads the second time names only files that exist. A file that is
    there and still cannot be read is a damaged store."""
    try:
        try:
            return read()
        except (duckdb.IOException, FileNotFoundError):
            return read()
    except (duckdb.IOException, duckdb.InvalidInputException, FileNotFoundError) as e:
        raise StoreError(f"a file of the day store cannot be read: {e}") from e
