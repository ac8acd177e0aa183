"""What a correction may name: a field of the ownership registry held by the corrected system, and an entity
of the entity map (with, optionally, one of its source records).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tieout.config import SYSTEMS, Project
from tieout.db import connect
from tieout.entities import load_entity_map
from tieout.errors import BadArgument, NotFound, StoreError
from tieout.ownership.model import columns, load_registry


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the registry's field name, what the log stores
    kind: str  # how values are normalised before comparing (tieout_normalise)
    holders: tuple[tuple[str, str], ...]  # (system, column) of every system that holds it


def registry_fields(project: Project) -> dict[str, FieldSpec]:
    """The fields corrections may name: those of the project's ownership registry (ownership.yml, else the
    contract's default)."""
    return {name: FieldSpec(name, f.kind, tuple((c.system, c.column) for c in columns(f)))
            for name, f in load_registry(project).fields.items()}


def field_spec(project: Project, system: str, field: str) -> FieldSpec:
    """The registry field `field` names in `system`: its registry name, or that system's column for it
    (billing's `name` is its copy of `legal_name`)."""
    if system not in SYSTEMS:
        raise BadArgument(f"--system: expected one of {', '.join(SYSTEMS)}, got {system!r}")
    fields = registry_fields(project)
    spec = fields.get(field) or next(
        (f for f in fields.values() if (system, field) in f.holders), None)
    if spec is None:
        known = ", ".join(sorted(fields))
        raise BadArgument(f"--field: {field!r} is not a field of the ownership registry (known: {known})")
    if system not in {s for s, _ in spec.holders}:
        held = ", ".join(f"{s}.{c}" for s, c in spec.holders)
        raise BadArgument(f"--field: {spec.name} is not held by {system} (held as {held})")
    return spec


def check_entity(project: Project, canonical_id: str, system: str, source_id: str | None) -> None:
    """Refuse an entity the entity map does not know, and a source record not mapped to it in `system`.

    Every canonical id comes from the map (natural keys only resolve records onto mapped entities), so the
    map is the list of entities. A record resolved by natural key rather than mapped is found in the
    latest reconciled day.
    """
    con = connect()
    try:
        load_entity_map(con, project.entity_map_path)
        if not con.execute("SELECT 1 FROM entity_map WHERE canonical_id = ? LIMIT 1", [canonical_id]).fetchall():
            raise NotFound(f"no entity {canonical_id!r} in {project.entity_map_path}")
        if source_id is None or con.execute(
            "SELECT 1 FROM entity_map WHERE canonical_id = ? AND source_system = ? AND source_id = ? LIMIT 1",
            [canonical_id, system, source_id],
        ).fetchall():
            return
    finally:
        con.close()
    if _resolved_on_latest_day(project, system, source_id) != canonical_id:
        raise NotFound(f"no {system} record {source_id!r} of entity {canonical_id!r} in "
                       f"{project.entity_map_path} or on the latest reconciled day")


def _resolved_on_latest_day(project: Project, system: str, source_id: str) -> str | None:
    from tieout.store import open_day, stored_days

    days: list[date] = stored_days(project)
    if not days:
        return None
    try:
        con = open_day(project, days[-1], tables=("source_records",))
    except StoreError:
        return None  # that day's records cannot be read back: the map was the only other witness
    try:
        row = con.execute("SELECT canonical_id FROM source_records WHERE source_system = ? AND source_id = ?",
                          [system, source_id]).fetchall()
    finally:
        con.close()
    return row[0][0] if row else None
