"""An exception's source records: side by side on a day (re-read from the exports), and what changed on the
day it first appeared (from the stored source history, else from the exports).

The records behind a finding are read again from the day's export folder (`resolve_day`), which also says
which records belong to an entity that day. What changed on a day comes from the store's source history
(`source_history`) when that day's diff is current; a day with no stored base (the first stored day, whose
file is the baseline) or a store without history falls back to comparing two days' exports. Record sets are
tiny (one entity), so the comparison itself is plain Python over typed DuckDB values.

Usage rows that merely left the trailing window are never a change here, whichever source is read: the
export comparison drops them (`diff_table`), and the stored history does not hold them at all (store schema 3
on; a file records where its window starts instead, see `source_history`) — older files that do are filtered
the same way as the exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from tieout import source_history
from tieout.config import Project
from tieout.db import connect
from tieout.errors import InputError
from tieout.run import resolve_day
from tieout.source_history import RESOLUTION_COLUMNS
from tieout.sources.layout import BY_TABLE
from tieout.sources.read import past_day_unreadable
from tieout.store import stored_days
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
    """Each as-of day's exports resolved at most once per command; an unreadable day is a reason, not a crash
    (the findings are stored, so a deleted or since-broken export must not hide them)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._open: dict[date, duckdb.DuckDBPyConnection | str] = {}

    def get(self, day: date) -> duckdb.DuckDBPyConnection | str:
        if day not in self._open:
            unreadable = past_day_unreadable(self.project, day)
            if unreadable:
                self._open[day] = unreadable
            else:
                try:
                    self._open[day] = resolve_day(self.project, day)[0]
                except InputError as e:
                    self._open[day] = f"the export for {day} cannot be read: {e}"
        return self._open[day]

    def close(self) -> None:
        for con in self._open.values():
            if not isinstance(con, str):
                con.close()
        self._open.clear()


@contextmanager
def day_reader(project: Project) -> Iterator[DayReader]:
    reader = DayReader(project)
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


def _all_rows(con: duckdb.DuckDBPyConnection, ids: Ids) -> dict[str, list[Row]]:
    """Every row of the subject's records in every table, and how each record resolved: what a change could
    have touched."""
    out: dict[str, list[Row]] = {}
    for system in SYSTEMS:
        wanted = ids.get(system, [])
        for table, key in (RECORD_TABLE[system], CHILD_TABLE[system]):
            out[table] = _rows(con, _select(table, f"{key} IN (SELECT unnest($ids))"), {"ids": wanted})
    pairs = [f"{s}:{i}" for s in SYSTEMS for i in ids.get(s, [])]
    out["source_records"] = _rows(
        con, f"SELECT {', '.join(RESOLUTION_COLUMNS)} FROM source_records "
        "WHERE source_system || ':' || source_id IN (SELECT unnest($pairs)) ORDER BY source_system, source_id",
        {"pairs": pairs})
    return out


def _primary_key(table: str) -> tuple[str, ...]:
    return ("source_system", "source_id") if table == "source_records" else BY_TABLE[table].primary_key


def _system_of(table: str, row: Row) -> str:
    return str(row["source_system"]) if table == "source_records" else BY_TABLE[table].system


def diff_table(table: str, old: list[Row], new: list[Row]) -> list[Change]:
    """Rows compared by primary key: added, removed, or changed in a column other than `updated_at`."""
    pk = _primary_key(table)
    before = {tuple(r[c] for c in pk): r for r in old}
    after = {tuple(r[c] for c in pk): r for r in new}
    if table == "ops_usage" and after:
        # The usage export is a trailing window: rows older than the new window left it, nobody removed them.
        window_start = min(r["date"] for r in new)
        before = {k: r for k, r in before.items() if r["date"] >= window_start or k in after}
    changes = []
    for k in sorted(before.keys() | after.keys(), key=lambda t: tuple(str(v) for v in t)):
        key = dict(zip(pk, k, strict=True))
        o, n = before.get(k), after.get(k)
        if o is None and n is not None:
            changes.append(Change(_system_of(table, n), table, key, "added", record=n))
            continue
        if n is None and o is not None:
            changes.append(Change(_system_of(table, o), table, key, "removed", record=o))
            continue
        assert o is not None and n is not None
        differing = {c: {"old": o[c], "new": n[c]} for c in n if c not in pk and o.get(c) != n[c]}
        if differing.keys() - IGNORED_FOR_CHANGE:
            changes.append(Change(_system_of(table, n), table, key, "changed", fields=differing))
    return changes


def _union(a: Ids, b: Ids) -> Ids:
    return {s: sorted(set(a.get(s, [])) | set(b.get(s, []))) for s in SYSTEMS if a.get(s) or b.get(s)}


def previous_day(project: Project, day: date) -> date:
    """The day to compare `day` with: the stored day before it, else the calendar day before."""
    earlier = stored_days(project, until=day - timedelta(days=1))
    return earlier[-1] if earlier else day - timedelta(days=1)


_TABLE_ORDER = {t: i for i, t in enumerate(
    [t for s in SYSTEMS for t in (RECORD_TABLE[s][0], CHILD_TABLE[s][0])] + ["source_records"])}


def _sorted(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (SYSTEMS.index(c.system), _TABLE_ORDER[c.table],
                                          tuple(str(v) for v in c.key.values())))


def stored_first_day(project: Project, subject: Subject, day: date) -> FirstDay | None:
    """What changed on `day`, from the stored source history; None unless `day`'s diff is current and has a
    base (the first stored day's file is the baseline: everything in it is 'added')."""
    meta = source_history.current_diff(project, day, stored_days(project))
    if meta is None or meta.base is None:
        return None
    con = connect()
    try:
        ids: dict[str, set[str]] = {}
        if subject.canonical_id is None:
            ids = {s: set(v) for s, v in subject_ids(con, subject).items()}
        else:
            for on in (meta.base, day):
                got = source_history.state_rows(con, project, on, "source_records",
                                                "canonical_id = $id AND status = 'resolved'",
                                                {"id": subject.canonical_id})
                if got is None:
                    return None
                for r in got:
                    ids.setdefault(str(r["source_system"]), set()).add(str(r["source_id"]))
        path = str(source_history.history_path(project, day))
        changes = []
        lists: dict[str, tuple[str, list[str]]] = {}
        for system in SYSTEMS:
            for table, column in (RECORD_TABLE[system], CHILD_TABLE[system]):
                lists[table] = (column, sorted(ids.get(system, set())))
        lists["source_records"] = ("source_system || ':' || source_id",
                                   sorted(f"{s}:{i}" for s, v in ids.items() for i in v))
        for table, (column, wanted) in lists.items():
            got = source_history.rows(con, f"""
                SELECT change, fields, new, old FROM (
                    SELECT change, fields, "{table}" AS new, "{table}__old" AS old,
                           coalesce("{table}", "{table}__old") AS r
                    FROM read_parquet($path) WHERE "table" = $table)
                WHERE {column.replace('source_', 'r.source_') if table == 'source_records' else 'r.' + column}
                      IN (SELECT unnest($ids))""", {"path": path, "table": table, "ids": wanted})
            if table == "ops_usage" and got:
                # The usage export is a trailing window: rows older than the new window left it. Such rows are
                # not stored from schema 3 on; history files written before still list them as removed.
                now = source_history.state_rows(con, project, day, "ops_usage", "tenant_id IN (SELECT unnest($ids))",
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
        con.close()


def first_day_changes(reader: DayReader, subject: Subject, day: date) -> FirstDay:
    stored = stored_first_day(reader.project, subject, day)
    if stored is not None:
        return stored
    previous = previous_day(reader.project, day)
    new_con, old_con = reader.get(day), reader.get(previous)
    for con in (old_con, new_con):
        if isinstance(con, str):
            return FirstDay(day=day, previous=previous, unavailable=con, changes=[])
    assert not isinstance(new_con, str) and not isinstance(old_con, str)
    # A record that joined or left the entity that day is compared too: its edit may be the cause.
    ids = _union(subject_ids(old_con, subject), subject_ids(new_con, subject))
    old_rows, new_rows = _all_rows(old_con, ids), _all_rows(new_con, ids)
    order = {t: i for i, t in enumerate(
        [t for s in SYSTEMS for t in (RECORD_TABLE[s][0], CHILD_TABLE[s][0])] + ["source_records"])}
    changes = [c for t in old_rows for c in diff_table(t, old_rows[t], new_rows[t])]
    changes.sort(key=lambda c: (SYSTEMS.index(c.system), order[c.table]))
    return FirstDay(day=day, previous=previous, unavailable=None, changes=changes)


def record_history(project: Project, ident: str) -> dict[str, Any] | None:
    """Every version of the source records `ident` names — a canonical id (every record that ever resolved to
    it) or `system:source_id` — and of their rows (contracts, invoices; not the usage window), from the
    stored source history up to the latest stored day: which fields changed on which day. None if nothing
    matches."""
    days = stored_days(project)
    if not days:
        return None
    latest = days[-1]
    con = connect()
    try:
        system, _, source_id = ident.partition(":")
        if system in SYSTEMS and source_id:
            pairs = {(system, source_id)}
        else:
            got = source_history.versions(con, project, latest, "source_records",
                                          "new.canonical_id = $id OR old.canonical_id = $id", {"id": ident})
            if got is None:
                return {"subject": ident, "as_of": latest, "unavailable": "the stored source history is incomplete",
                        "records": []}
            pairs = {(str(r["r"]["source_system"]), str(r["r"]["source_id"])) for r in got}
        if not pairs:
            return None
        ids = {s: sorted(i for x, i in pairs if x == s) for s in SYSTEMS}
        wanted: list[tuple[str, str, Any]] = []
        for s in SYSTEMS:
            for table, column in (RECORD_TABLE[s], CHILD_TABLE[s]):
                if table != "ops_usage":
                    wanted.append((table, f"r.{column} IN (SELECT unnest($ids))", {"ids": ids[s]}))
        wanted.append(("source_records", "r.source_system || ':' || r.source_id IN (SELECT unnest($ids))",
                       {"ids": sorted(f"{s}:{i}" for s, i in pairs)}))
        records: list[dict[str, Any]] = []
        for table, where, params in wanted:
            rows = source_history.versions(con, project, latest, table, where, params)
            if rows is None:
                return {"subject": ident, "as_of": latest, "unavailable": "the stored source history is incomplete",
                        "records": []}
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
