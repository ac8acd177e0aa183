"""An entity's owned fields on one day: each system's value, the owner's (the golden record's winner), and
which values disagree with it — compared exactly as OWNED_FIELD_MISMATCH and `tieout golden` compare them.

It builds the canonical tables on the day's resolved exports and reads the registry's `field_values` view
(`tieout.ownership.sql`), so normalisers, status mappings, tolerances and handovers are the library's own.
`marks` maps a cell of the side-by-side records (export table, row id, column) to the owner's value, so the
page can mark the cells that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from tieout import canonical
from tieout.config import Project
from tieout.errors import ConfigError
from tieout.ownership.model import Registry, column
from tieout.ownership.sql import agree_sql
from tieout.sources.layout import BY_TABLE
from tieout.systems import SYSTEMS


@dataclass(frozen=True)
class FieldValue:
    system: str
    source_id: str
    row_id: str
    value: str | None
    agrees: bool | None  # None: no value to compare (an empty value is not a difference)


@dataclass(frozen=True)
class OwnedField:
    field: str
    kind: str
    owner_system: str
    winner_system: str | None  # the owner, else the system whose value stands in for it; None: nobody holds one
    winner_value: str | None
    values: dict[str, list[FieldValue]]  # system -> its records' values

    @property
    def differs(self) -> bool:
        return any(v.agrees is False for vs in self.values.values() for v in vs)


@dataclass(frozen=True)
class OwnedFields:
    day: date
    unavailable: str | None
    fields: list[OwnedField]
    # (export table, row id, column) -> the field's name and the owner's value, for each differing cell
    marks: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)


def owned_fields(con: duckdb.DuckDBPyConnection, project: Project, day: date, canonical_id: str,
                 registry: Registry) -> OwnedFields:
    """The registry's fields of `canonical_id` on `day`; `con` holds that day's resolved exports."""
    try:
        canonical.build(con, project, day, registry=registry)
    except ConfigError as e:
        return OwnedFields(day=day, unavailable=str(e), fields=[])
    order = " ".join(f"WHEN {s!r} THEN {i}" for i, s in enumerate(SYSTEMS))
    agree = " ".join(f"WHEN '{name}' THEN {agree_sql(f.kind, 'v', 'w')}" for name, f in registry.fields.items())
    rows = con.execute(f"""
        WITH mine AS (
            SELECT *, tieout_normalise(kind, mapped) IS NOT NULL AS present FROM field_values
            WHERE canonical_id = $id
        ), winner AS (
            -- as the golden record picks it: the owner's value, else the first other system holding one
            SELECT * FROM mine WHERE present
            QUALIFY row_number() OVER (
                PARTITION BY field
                ORDER BY source_system <> owner_system, CASE source_system {order} END, source_id, row_id) = 1
        )
        SELECT v.field, v.kind, v.owner_system, v.source_system, v.source_id, v.row_id, v.value,
               w.source_system AS winner_system, w.value AS winner_value,
               CASE WHEN NOT v.present OR w.field IS NULL THEN NULL ELSE (CASE v.field {agree} END) END AS agrees
        FROM mine AS v LEFT JOIN winner AS w ON w.field = v.field
        ORDER BY v.field, CASE v.source_system {order} END, v.source_id, v.row_id
    """, {"id": canonical_id}).fetchall()
    fields: dict[str, OwnedField] = {}
    marks: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, kind, owner, system, source_id, row_id, value, winner_system, winner_value, agrees in rows:
        f = fields.setdefault(name, OwnedField(name, kind, owner, winner_system, winner_value,
                                               {s: [] for s in SYSTEMS if s in registry.fields[name].held_in}))
        f.values[system].append(FieldValue(system, str(source_id), str(row_id), value, agrees))
        held = column(registry.fields[name], system)
        if agrees is False and held.column in BY_TABLE[held.view.table].column_names:
            marks[(held.view.table, str(row_id), held.column)] = {
                "field": name, "owner_system": winner_system, "owner_value": winner_value}
    ordered = [fields[n] for n in registry.fields if n in fields]
    return OwnedFields(day=day, unavailable=None, fields=ordered, marks=marks)
