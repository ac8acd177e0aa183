"""An exception's source records, read from the store: side by side on a day, and what changed on the day it
first appeared.

Both come from the store's source history (`tieout.store`): a day's records from the day opened by
`open_day`, which also says which records belonged to an entity that day; what changed on a day from that
day's stored changes (its history file, based on the stored day before it). The exports are never read
again. The first stored day has nothing stored before it, so what changed on it cannot be told. Record sets
are tiny (one entity), so the shaping is plain Python over typed DuckDB values.

Usage rows that merely left the trailing window are never a change here: the stored history does not hold
them (store schema 3 on; a file records where its window starts instead, see `source_history`), and older
files that do are filtered out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from tieout.config import Project
from tieout.db import reader
from tieout.errors import StoreError
from tieout.sources.layout import BY_TABLE
from tieout.store import PartDay, history_files, history_reads, source_history, stored_days
from tieout.systems import CHILD_TABLE, RECORD_TABLE, SYSTEMS

# A timestamp of the last edit changes with every edit: shown beside a change, never a change by itself.
IGNORED_FOR_CHANGE = frozenset({"updated_at"})

Row = dict[str, Any]
Ids = dict[str, list[str]]


@dataclass(frozen=True)
class Subject:
    """What an exception is about: an entity (canonical id) or one source record."""

    canonical_id: str | None = None
    source_system: str | None = None
    source_id: str | None = None


@dataclass(frozen=True)
class Change:
    system: str
    table: str
    key: dict[str, Any]
    change: str  # added | removed | changed
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # column -> {old, new}
    record: Row | None = None  # the whole row, for added and removed

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "table": self.table, "key": self.key, "change": self.change,
                "fields": self.fields, "record": self.record}


@dataclass(frozen=True)
class FirstDay:
    """What changed between the export before an exception's first day and that day's export."""

    day: date
    previous: date | None
    unavailable: str | None  # why the comparison could not be made, else None
    changes: list[Change]

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "previous": self.previous, "unavailable": self.unavailable,
                "changes": [c.as_dict() for c in self.changes]}


class DayReader:
    """Each stored day opened from the store at most once per command, loaded only as far as its readers ask
    (`tieout.store.PartDay`); a day the store cannot give back is a reason, not a crash (its findings are stored,
    so a damaged source history must not hide them). `normalisers`: whether a day's connection gets the
    natural-key normalisers (`open_day`): a caller that builds the canonical tables on it needs them, one that
    only reads records and names does not."""

    def __init__(self, project: Project, *, normalisers: bool = True) -> None:
        self.project = project
        self.normalisers = normalisers
        self._open: dict[date, PartDay | str] = {}

    def get(self, day: date, entities: Iterable[str] = (),
            records: Iterable[tuple[str, str]] = ()) -> duckdb.DuckDBPyConnection | str:
        """`day`'s connection: every source record's resolution, and the rows of `entities` and `records` (and
        of those asked for before); or why the store cannot give them back."""
        if day not in self._open:
            try:
                self._open[day] = PartDay(self.project, day, normalisers=self.normalisers)
            except StoreError as e:
                self._open[day] = str(e)
        opened = self._open[day]
        if isinstance(opened, str):
            return f"the store cannot give back the records of {day}: {opened}"
        try:
            return opened.load(entities, records)
        except StoreError as e:
            opened.close()
            self._open[day] = str(e)
            return self.get(day)

    def get_subject(self, day: date, subject: Subject) -> duckdb.DuckDBPyConnection | str:
        """`get` with the rows of what `subject` is about."""
        return self.get(day, [subject.canonical_id] if subject.canonical_id else (),
                        [(subject.source_system, subject.source_id)]
                        if subject.source_system and subject.source_id else ())

    def close(self) -> None:
        for opened in self._open.values():
            if not isinstance(opened, str):
                opened.close()
        self._open.clear()


@contextmanager
def day_reader(project: Project, *, normalisers: bool = True) -> Iterator[DayReader]:
    reader = DayReader(project, normalisers=normalisers)
    try:
        yield reader
    finally:
        reader.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[Row]:
    cur = con.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def subject_ids(con: duckdb.DuckDBPyConnection, subject: Subject) -> Ids:
    """The source ids per system that `subject` covers on the day `con` was resolved for."""
    if subject.canonical_id is None:
        if subject.source_system in RECORD_TABLE and subject.source_id is not None:
            return {subject.source_system: [subject.source_id]}
        return {}
    ids: Ids = {}
    for system, source_id in con.execute(
        "SELECT source_system, source_id FROM source_records WHERE canonical_id = ? AND status = 'resolved' "
        "ORDER BY source_system, source_id", [subject.canonical_id]
    ).fetchall():
        ids.setdefault(system, []).append(source_id)
    return ids


def _select(table: str, where: str) -> str:
    columns = ", ".join(f'"{c}"' for c in BY_TABLE[table].column_names)
    order = ", ".join(f'"{c}"' for c in BY_TABLE[table].primary_key)
    return f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {order}"


def records_on(con: duckdb.DuckDBPyConnection, day: date, ids: Ids) -> dict[str, dict[str, list[Row]]]:
    """Side by side on `day`: per system its records, and of their rows only what bears on that day —
    every contract, the invoices whose period covers the day, each tenant's latest usage row."""
    out: dict[str, dict[str, list[Row]]] = {}
    for system in SYSTEMS:
        wanted = ids.get(system, [])
        table, key = RECORD_TABLE[system]
        child, fk = CHILD_TABLE[system]
        rows = {table: _rows(con, _select(table, f"{key} IN (SELECT unnest($ids))"), {"ids": wanted})}
        if child == "billing_invoices":
            where = f"{fk} IN (SELECT unnest($ids)) AND period_start <= $day AND period_end >= $day"
            rows[child] = _rows(con, _select(child, where), {"ids": wanted, "day": day})
        elif child == "ops_usage":
            where = (f"{fk} IN (SELECT unnest($ids)) "
                     "QUALIFY row_number() OVER (PARTITION BY tenant_id ORDER BY date DESC) = 1")
            rows[child] = _rows(con, _select(child, where), {"ids": wanted})
        else:
            rows[child] = _rows(con, _select(child, f"{fk} IN (SELECT unnest($ids))"), {"ids": wanted})
        out[system] = rows
    return out


def _primary_key(table: str) -> tuple[str, ...]:
    return ("source_system", "source_id") if table == "source_records" else BY_TABLE[table].primary_key


def _system_of(table: str, row: Row) -> str:
    return str(row["source_system"]) if table == "source_records" else BY_TABLE[table].system


def previous_day(project: Project, day: date) -> date:
    """The day to compare `day` with: the stored day before it, else the calendar day before."""
    earlier = stored_days(project, until=day - timedelta(days=1))
    return earlier[-1] if earlier else day - timedelta(days=1)


_TABLE_ORDER = {t: i for i, t in enumerate(
    [t for s in SYSTEMS for t in (RECORD_TABLE[s][0], CHILD_TABLE[s][0])] + ["source_records"])}


def _sorted(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (SYSTEMS.index(c.system), _TABLE_ORDER[c.table],
                                          tuple(str(v) for v in c.key.values())))


def what_changed(project: Project, subject: Subject, day: date,
                 con: duckdb.DuckDBPyConnection | None = None) -> FirstDay:
    """What changed in the subject's records on stored `day`, from the day's stored changes against the stored
    day before it — a record that joined or left the entity that day included (its edit may be the cause).
    Unavailable for the first stored day (nothing before it to compare with), and for a day whose stored
    changes do not follow on from the stored day before (the next run repairs them). `con`: a `reader`
    connection to read with (one that read the same history files keeps their footers), left open; default a
    new one."""
    previous = previous_day(project, day)
    meta = source_history.current_diff(project, day, stored_days(project))
    if meta is None or meta.base is None:
        first = not stored_days(project, until=day - timedelta(days=1))
        why = (f"{day} is the first reconciled day: nothing is stored before it to compare with" if first else
               f"the stored source history of {day} does not follow on from {previous} (the next run repairs it)")
        return FirstDay(day=day, previous=previous, unavailable=why, changes=[])
    own = con is None
    con = reader() if con is None else con
    try:
        ids: dict[str, set[str]] = {}
        if subject.canonical_id is None:
            ids = {s: set(v) for s, v in subject_ids(con, subject).items()}
        else:
            for on in (meta.base, day):
                got = history_reads.state_rows(con, project, on, "source_records",
                                                "canonical_id = $id AND status = 'resolved'",
                                                {"id": subject.canonical_id})
                if got is None:
                    return FirstDay(day=day, previous=previous, changes=[],
                                    unavailable=f"the stored source history of {on} cannot be replayed")
                for r in got:
                    ids.setdefault(str(r["source_system"]), set()).add(str(r["source_id"]))
        path = history_files.history_path(project, day)
        changes = []
        lists: dict[str, tuple[str, list[str]]] = {}
        for system in SYSTEMS:
            for table, column in (RECORD_TABLE[system], CHILD_TABLE[system]):
                lists[table] = (column, sorted(ids.get(system, set())))
        lists["source_records"] = ("source_system || ':' || source_id",
                                   sorted(f"{s}:{i}" for s, v in ids.items() for i in v))
        for table, (column, wanted) in lists.items():
            got = history_reads.rows(con, f"""
                SELECT change, fields, new, old FROM (
                    SELECT change, fields, "{table}" AS new, "{table}__old" AS old,
                           coalesce("{table}", "{table}__old") AS r
                    FROM {history_files.scan([path], [table])} WHERE "table" = $table)
                WHERE {column.replace('source_', 'r.source_') if table == 'source_records' else 'r.' + column}
                      IN (SELECT unnest($ids))""", {"table": table, "ids": wanted})
            if table == "ops_usage" and got and table not in meta.window:
                # The usage export is a trailing window: rows older than the new window left it. Such rows are
                # not stored from schema 3 on (a file that records its window start holds none); history files
                # written before still list them as removed, told apart by replaying the day's window.
                now = history_reads.state_rows(con, project, day, "ops_usage", "tenant_id IN (SELECT unnest($ids))",
                                                {"ids": wanted}) or []
                start = min((r["date"] for r in now), default=None)
                got = [r for r in got if not (r["change"] == "removed" and start is not None
                                              and r["old"]["date"] < start)]
            for r in got:
                row = r["new"] if r["new"] is not None else r["old"]
                key = {c: row[c] for c in _primary_key(table)}
                system = _system_of(table, row)
                if r["change"] == "changed":
                    if not set(r["fields"]) - IGNORED_FOR_CHANGE:
                        continue
                    fields = {c: {"old": r["old"][c], "new": r["new"][c]} for c in r["fields"]}
                    changes.append(Change(system, table, key, "changed", fields=fields))
                else:
                    changes.append(Change(system, table, key, r["change"], record=row))
        return FirstDay(day=day, previous=meta.base, unavailable=None, changes=_sorted(changes))
    finally:
        if own:
            con.close()


def record_history(project: Project, ident: str) -> dict[str, Any] | None:
    """Every version of the source records `ident` names — a canonical id (every record that ever resolved to
    it) or `system:source_id` — and of their rows (contracts, invoices; not the usage window), from the
    stored source history up to the latest stored day: which fields changed on which day. None if nothing
    matches."""
    days = stored_days(project)
    if not days:
        return None
    latest = days[-1]
    con = reader()
    try:
        system, _, source_id = ident.partition(":")
        one = system in SYSTEMS and bool(source_id)
        keys = {table: (s, column) for s in SYSTEMS for table, column in (RECORD_TABLE[s], CHILD_TABLE[s])
                if table != "ops_usage"}
        # One scan of the key fields finds the entity's records and the files holding their rows; the scan of
        # whole rows reads those files only.
        held = history_reads.records_and_files(con, project, latest, keys, None if one else ident,
                                                [(system, source_id)] if one else [])
        if held is None:
            return {"subject": ident, "as_of": latest, "unavailable": "the stored source history is incomplete",
                    "records": []}
        pairs, files = held
        if not pairs:
            return None
        ids = {s: sorted(i for x, i in pairs if x == s) for s in SYSTEMS}
        wanted: dict[str, tuple[str, list[str]]] = {
            table: (f'{{r}}."{column}"', ids[s]) for table, (s, column) in keys.items()}
        wanted["source_records"] = ("{r}.source_system || ':' || {r}.source_id", [f"{s}:{i}" for s, i in pairs])
        found = history_reads.versions_of(con, project, latest, wanted, holding=files)
        if found is None:
            return {"subject": ident, "as_of": latest, "unavailable": "the stored source history is incomplete",
                    "records": []}
        records: list[dict[str, Any]] = []
        for table, rows in found.items():
            for r in rows:
                key = {c: r["r"][c] for c in _primary_key(table)}
                if not records or records[-1]["table"] != table or records[-1]["key"] != key:
                    records.append({"system": _system_of(table, r["r"]), "table": table, "key": key,
                                    "versions": []})
                version: dict[str, Any] = {"day": r["day"], "change": r["change"]}
                if r["change"] == "changed":
                    version["fields"] = {c: {"old": r["old"][c], "new": r["new"][c]} for c in r["fields"]}
                else:
                    version["record"] = r["r"]
                records[-1]["versions"].append(version)
        records.sort(key=lambda x: (SYSTEMS.index(x["system"]), _TABLE_ORDER[x["table"]]))
        return {"subject": ident, "as_of": latest, "unavailable": None, "records": records}
    finally:
        con.close()
