"""Ownership breaks: an owned field edited in a system that may not edit it, found in the stored source history.

The brief's distinction: "if the billing system updates one day later, that is a timing issue; if sales can
edit billing fields after finance owns the record, that is an ownership issue". A break is the second: on a
stored day, a record's column that holds a registry field changed, in a system that is not among the field's
editors *for that entity on that day* — the registry's conditions are evaluated on that day's state, so an
edit is allowed when the condition that makes its system an editor held that day.

One edit is not a break: a non-editor's copy that now agrees with the owner's value (compared as
OWNED_FIELD_MISMATCH compares) is the handoff doing its job — the owner's change reaching the copy.

Only edits of existing rows count (a new contract or invoice is not an edit of a field), and only on days
whose history diff is current and has a base: the first stored day's file is a baseline, not a set of edits.

The source history is read through `tieout.store.source_history`'s public functions and its documented file
layout; each day with candidate edits is rebuilt for just the entities concerned (their records, contracts,
invoices and tenants replayed from the history) and run through `canonical.build`, so conditions and values
mean exactly what they mean in a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from tieout import canonical
from tieout.config import Project
from tieout.db import connect, scratch
from tieout.entities import install_normalisers
from tieout.ownership.catalogue import RAW_COLUMNS, VIEWS
from tieout.ownership.model import Column, OwnedField, Registry, columns, load_registry, stage_for, stages
from tieout.ownership.sql import agree_sql, value_sql
from tieout.sources.layout import BY_TABLE, KIND_TYPES
from tieout.store import history_files, history_reads, source_history, stored_days
from tieout.store.source_history import RESOLUTION_COLUMNS
from tieout.systems import SYSTEMS

_RECORD_TABLES = {v.system: v.table for v in VIEWS.values() if not v.is_child}
_TABLES_OF = {s: [v for v in VIEWS.values() if v.system == s] for s in SYSTEMS}


@dataclass(frozen=True)
class OwnershipBreak:
    """One forbidden edit: `system` changed `field` of a record (row `row_id` of `column`) on `day`."""

    day: date
    canonical_id: str | None
    system: str
    source_id: str  # the source record (CRM account, billing customer, ops tenant)
    row_id: str  # the row edited: a contract or invoice id, else the source id
    field: str
    column: str  # view.column as the registry names it, e.g. "contracts.status"
    old: Any
    new: Any
    owner_system: str  # the field's owner for that entity that day
    editors: tuple[str, ...]  # who could have edited it that day
    condition: str | None  # the handover in force that day (None: the field's base rule)

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    def as_edit(self) -> dict[str, Any]:
        """What an exception caused by it lists of it (`tieout.timeline.ownership_edits`)."""
        return {"day": self.day, "system": self.system, "field": self.field, "column": self.column,
                "source_id": self.source_id, "old": self.old, "new": self.new, "owner_system": self.owner_system}


@dataclass(frozen=True)
class _Edit:
    system: str
    table: str
    source_id: str
    row_id: str
    field: str
    col: Column
    old: Any
    new: Any


def _watched(registry: Registry) -> dict[str, list[tuple[str, OwnedField, Column, tuple[str, ...]]]]:
    """Per export table: the registry fields it holds, with the raw columns whose edit edits the field.
    A column whose system is an editor in every stage can never be broken and is not watched."""
    out: dict[str, list[tuple[str, OwnedField, Column, tuple[str, ...]]]] = {}
    for name, f in registry.fields.items():
        for col in columns(f):
            if all(col.system in s.editors for s in stages(f)):
                continue
            raw = RAW_COLUMNS.get((col.view.name, col.column), (col.column,))
            out.setdefault(col.view.table, []).append((name, f, col, raw))
    return out


def _edits(con: duckdb.DuckDBPyConnection, project: Project, day: date,
           watched: dict[str, list[tuple[str, OwnedField, Column, tuple[str, ...]]]]) -> list[_Edit]:
    path = history_files.history_path(project, day)
    out = []
    for table, watches in watched.items():
        raw = sorted({c for _, _, _, cols in watches for c in cols})
        got = history_reads.rows(con, f"""
            SELECT fields, "{table}" AS new, "{table}__old" AS old FROM {history_files.scan([path], [table])}
            WHERE "table" = $table AND change = 'changed' AND list_has_any(fields, $cols)""",
                                  {"table": table, "cols": raw})
        for r in got:
            for name, _f, col, cols in watches:
                changed = [c for c in cols if c in r["fields"]]
                if changed:
                    shown = changed[0]  # the column the field reads, else what it is derived from
                    out.append(_Edit(col.system, table, str(r["new"][col.view.record_id]),
                                     str(r["new"][col.view.row_id]), name, col, r["old"][shown], r["new"][shown]))
    return out


def _typed_table(con: duckdb.DuckDBPyConnection, table: str, found: list[dict[str, Any]]) -> None:
    if table == "source_records":
        types = {c: "VARCHAR" for c in RESOLUTION_COLUMNS} | {"candidates": "VARCHAR[]"}
    else:
        types = {c.name: KIND_TYPES[c.kind] for c in BY_TABLE[table].columns}
    con.execute(f"CREATE TABLE {table} ({', '.join(f'{chr(34)}{c}{chr(34)} {t}' for c, t in types.items())})")
    if found:
        names = list(types)
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in names)})",
                        [[r.get(c) for c in names] for r in found])


def _day_state(project: Project, day: date, edits: list[_Edit]) -> duckdb.DuckDBPyConnection | None:
    """A connection holding `day`'s canonical tables for the entities the edits touch (None if the history
    cannot be replayed)."""
    con = connect()
    pairs = sorted({f"{e.system}:{e.source_id}" for e in edits})
    mine = history_reads.state_rows(con, project, day, "source_records",
                                     "source_system || ':' || source_id IN (SELECT unnest($p))", {"p": pairs})
    if mine is None:
        con.close()
        return None
    cids = sorted({str(r["canonical_id"]) for r in mine if r["canonical_id"] is not None})
    records = history_reads.state_rows(
        con, project, day, "source_records",
        "canonical_id IN (SELECT unnest($c)) OR source_system || ':' || source_id IN (SELECT unnest($p))",
        {"c": cids, "p": pairs}) or []
    _typed_table(con, "source_records", records)
    for system, views in _TABLES_OF.items():
        ids = sorted({str(r["source_id"]) for r in records if r["source_system"] == system})
        for view in views:
            got = (history_reads.state_rows(con, project, day, view.table,
                                             f"{view.record_id} IN (SELECT unnest($ids))", {"ids": ids}) or []
                   ) if ids else []
            _typed_table(con, view.table, got)
    _typed_table(con, "ops_usage", [])  # no condition reads usage; canonical.build expects the table
    install_normalisers(con)
    return con


def ownership_breaks(project: Project, registry: Registry | None = None, *, days: Iterable[date] | None = None,
                     stored: list[date] | None = None) -> list[OwnershipBreak]:
    """Every forbidden edit of an owned field in the stored source history (of `days`, default every stored
    day), oldest first. `stored`: the stored days, when a commit is about to make them so (default: the
    manifest's).

    >>> for b in ownership_breaks(load_project("my-recon")):       # doctest: +SKIP
    ...     print(b.day, b.system, b.field, b.old, "→", b.new)
    2026-02-03 crm customer_status active → cancelled
    """
    registry = load_registry(project) if registry is None else registry
    watched = _watched(registry)
    stored = stored_days(project) if stored is None else stored
    wanted = set(stored) if days is None else set(days) & set(stored)
    found: list[OwnershipBreak] = []
    if not watched:
        return found
    with scratch() as con:  # reads Parquet only: a cursor, not a new database (tens of ms each commit)
        for day in sorted(wanted):
            meta = source_history.current_diff(project, day, stored)
            if meta is None or meta.base is None:
                continue  # a baseline (or a diff not yet repaired) lists rows, not edits
            edits = _edits(con, project, day, watched)
            if edits:
                found += _judge(project, registry, day, edits)
    return sorted(found, key=lambda b: (b.day, b.canonical_id or "", b.field, b.system, b.row_id))


def _judge(project: Project, registry: Registry, day: date, edits: list[_Edit]) -> list[OwnershipBreak]:
    con = _day_state(project, day, edits)
    if con is None:
        return []
    try:
        canonical.build(con, project, day, registry=registry)
        holding: dict[str, set[str]] = {}
        for cid, cond in con.execute("SELECT canonical_id, condition FROM ownership_conditions").fetchall():
            holding.setdefault(cid, set()).add(cond)
        entity = dict(con.execute("SELECT source_system || ':' || source_id, canonical_id FROM source_records"
                                  ).fetchall())
        out = []
        for e in edits:
            f = registry.fields[e.field]
            cid = entity.get(f"{e.system}:{e.source_id}")
            stage = stage_for(f, holding.get(cid, set()) if cid else set())
            if e.system in stage.editors:
                continue
            if cid is not None:
                # The copy now agrees with the owner's value: the handoff, not a break.
                mine = value_sql(e.field, f, e.col, day, project.reporting_currency, all_rows=True)
                follows = con.execute(f"""
                    SELECT count(*) FROM ({mine}) AS m, field_values AS o
                    WHERE m.row_id = $row AND o.canonical_id = $cid AND o.field = $field
                      AND o.source_system = o.owner_system AND {agree_sql(f.kind, 'm', 'o')}""",
                                      {"row": e.row_id, "cid": cid, "field": e.field}).fetchone()
                if follows and follows[0]:
                    continue
            out.append(OwnershipBreak(day=day, canonical_id=cid, system=e.system, source_id=e.source_id,
                                      row_id=e.row_id, field=e.field, column=e.col.ref, old=e.old, new=e.new,
                                      owner_system=stage.owner, editors=stage.editors, condition=stage.when))
        return out
    finally:
        con.close()


def edits_by_day(project: Project, days: set[date], stored: list[date] | None = None
                 ) -> dict[date, list[dict[str, Any]]]:
    """The forbidden edits of `days` found in the source history, by day, each with its entity
    (`stored`: the stored days, by default the manifest's): what tieout.store.breaks keeps with each day."""
    found: dict[date, list[dict[str, Any]]] = {}
    for b in ownership_breaks(project, days=days, stored=stored):
        if b.canonical_id is not None:  # an edit causes the exceptions of its entity
            found.setdefault(b.day, []).append({"canonical_id": b.canonical_id, **b.as_edit()})
    return found
