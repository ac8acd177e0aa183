"""What a store must look like after any crash, and what a person sees of it: shared by the crash tests
(tests/security/test_kill_points.py, tests/security/test_concurrent_runs.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import invoke
from tieout.config import load_project
from tieout.store.days import _DAY_FILE as DAY_FILE
from tieout.store.history_files import history_dir, read_metas
from tieout.store.manifest import MANIFEST, days_dir, named_files, read_checkpoint, read_manifest
from tieout.store.source_history import TABLE_FILES


def cli_json(*args: str) -> object:
    out = invoke(*args)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def queue(project: Path) -> list[dict]:
    """`tieout exceptions --status all --format json`, by id."""
    got = cli_json("exceptions", "-p", str(project), "--status", "all", "--format", "json")
    assert isinstance(got, list)
    return sorted(got, key=lambda e: e["id"])


@dataclass(frozen=True)
class Seen:
    """What a person sees of the store: the exception queue, the timeline and the day manifest (which names
    every stored day's file by the hash of its rows)."""

    exceptions: list[dict]
    timeline: object
    manifest: str | None

    def without_entity_names(self) -> Seen:
        """The same, less each exception's entity name (read from the stored records)."""
        return Seen([{k: v for k, v in e.items() if k != "entity_name"} for e in self.exceptions],
                    self.timeline, self.manifest)


def seen(project: Path) -> Seen:
    manifest = days_dir(load_project(project)) / MANIFEST
    return Seen(queue(project), cli_json("timeline", "-p", str(project), "--format", "json"),
                manifest.read_text() if manifest.is_file() else None)


def assert_consistent(project: Path) -> Seen:
    """Every stored day whole and readable, the manifest naming only files that are there, every source
    history file readable, and the queue and the timeline answer (what they show is returned)."""
    p = load_project(project)
    listed = read_manifest(p)
    assert [d.day for d in listed] == sorted({d.day for d in listed})
    for stored in listed:
        table = pq.read_table(days_dir(p) / stored.file)  # every day it names is whole and readable
        assert table.num_rows == stored.changes
    checkpoint = read_checkpoint(p)
    if checkpoint is not None:
        assert checkpoint.day == listed[-1].day
        pq.read_table(days_dir(p) / checkpoint.file)
    if history_dir(p).is_dir():
        for stored_history in history_dir(p).rglob("*.parquet"):
            if not stored_history.name.startswith("."):
                pq.read_metadata(stored_history)  # never half a file
    return seen(project)


def store_content(project: Path) -> dict[str, object]:
    """Every file of the store by its content: Parquet files by their rows (sorted: DuckDB may write them in
    any order) and their key-value metadata, other files by their bytes. A day file the manifest no longer
    names is left out: no reader sees it, and the next run removes it under the run lock — a clean run leaves
    the one it replaced too, a re-run after a kill may have removed it already (`days.sweep`); so is a
    baseline's table file no day's history file names (`source_history._sweep_tables`)."""
    store = project / ".tieout"
    out: dict[str, object] = {}
    if not store.is_dir():
        return out
    p = load_project(project)
    named = named_files(p)
    history = history_dir(p)
    tables = {n for m in read_metas(history.glob("????-??-??.parquet")).values() if m is not None
              for n in m.tables.values()}
    for path in sorted(store.rglob("*")):
        if not path.is_file():
            continue
        if path.parent == days_dir(p) and path.name not in named and DAY_FILE.match(path.name):
            continue
        if path.parent == history and path.match(TABLE_FILES) and path.name not in tables:
            continue
        name = str(path.relative_to(store))
        if path.suffix == ".parquet" and not path.name.startswith("."):
            table = pq.read_table(path)
            rows = sorted(repr(tuple(r.values())) for r in table.to_pylist())
            meta = {k: v for k, v in (table.schema.metadata or {}).items() if k.startswith(b"tieout")}
            out[name] = (table.schema.names, rows, meta)
        else:
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
