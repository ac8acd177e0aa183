"""What a correction may name: a field a system owns, held by the corrected system, and an entity of the entity
map (with, optionally, one of its source records).

A system owns two sorts of field:

- a **shared** field of the ownership registry (`legal_name`, `tax_id`, …): held by several systems, compared
  across them by OWNED_FIELD_MISMATCH; named by its registry name or by the corrected system's column for it
  (billing's `name` is `legal_name`);
- a **record field**: any other column of the system's own records in the canonical views
  (`tieout.ownership.catalogue.VIEWS`) — billing's `billed_fte` and `amount`, the CRM's `annual_value` and
  `contracted_fte`, dates, statuses. Only that system holds it, so that system owns it. Columns derived by
  tieout (`monthly_value`, `amount_rc`) are not records' values and cannot be corrected: correct what they are
  derived from.

Either way a FieldSpec carries an `OwnedField`, so its values are read with the registry's own SQL
(`tieout.ownership.sql.value_sql`) — by the landed check and by the old-value check alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tieout.config import SYSTEMS, Project
from tieout.db import connect
from tieout.entities import load_entity_map
from tieout.errors import BadArgument, NotFound, StoreError
from tieout.ownership.catalogue import DATE, FTE, MONEY, MONEY_RC, VIEWS
from tieout.ownership.model import OwnedField, columns, load_registry
from tieout.store.version import CACHE

# A record field's kind, by its column (else by its type class): how its values are normalised and validated.
_COLUMN_KINDS = {"legal_name": "name", "name": "name", "tax_id": "tax_id", "domain": "domain", "email": "domain",
                 "status": "status"}
_CLASS_KINDS = {DATE: "date", MONEY: "amount", FTE: "fte"}


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the registry's field name (a record field: its column), what the log stores
    kind: str  # how values are normalised before comparing (tieout_normalise) and validated
    holders: tuple[tuple[str, str], ...]  # (system, column) of every system that holds it
    owned: OwnedField | None = None  # how its values are read (tieout.ownership.sql.value_sql)
    shared: bool = True  # a registry field; False: one system's own record field

    @property
    def own_currency(self) -> bool:
        """An amount stated in the record's own currency (a record field of a money column) rather than in the
        reporting currency (a shared amount, compared across systems in the one currency they have in common)."""
        return not self.shared and self.kind == "amount"


def registry_fields(project: Project) -> dict[str, FieldSpec]:
    """The shared fields corrections may name: those of the project's ownership registry (ownership.yml, else
    the contract's default)."""
    return {name: FieldSpec(name, f.kind, tuple((c.system, c.column) for c in columns(f)), f)
            for name, f in load_registry(project).fields.items()}


def record_fields(project: Project, system: str) -> dict[str, FieldSpec]:
    """`system`'s own record fields (see the module's docstring), by column, without the columns a registry
    field of `system` already holds."""
    shared = {c for f in registry_fields(project).values() for s, c in f.holders if s == system}
    out: dict[str, FieldSpec] = {}
    for view in VIEWS.values():
        if view.system != system:
            continue
        for column, type_class in view.columns.items():
            if type_class == MONEY_RC or column in shared or column in out:
                continue
            kind = _COLUMN_KINDS.get(column) or _CLASS_KINDS.get(type_class, "text")
            owned = OwnedField(kind=kind, held_in={system: f"{view.name}.{column}"}, owner=system)
            out[column] = FieldSpec(column, kind, ((system, column),), owned, shared=False)
    return out


def correctable_fields(project: Project, system: str) -> dict[str, FieldSpec]:
    """Every field a correction in `system` may name: the registry's fields `system` holds, then its own record
    fields — what the web form offers."""
    return {**{n: f for n, f in registry_fields(project).items() if system in {s for s, _ in f.holders}},
            **record_fields(project, system)}


def field_spec(project: Project, system: str, field: str) -> FieldSpec:
    """The field `field` names in `system`: a registry field by its name or by that system's column for it
    (billing's `name` is its copy of `legal_name`), else one of `system`'s own record fields."""
    if system not in SYSTEMS:
        raise BadArgument(f"--system: expected one of {', '.join(SYSTEMS)}, got {system!r}")
    fields = registry_fields(project)
    spec = fields.get(field) or next(
        (f for f in fields.values() if (system, field) in f.holders), None)
    if spec is None:
        own = record_fields(project, system)
        if field in own:
            return own[field]
        known = ", ".join(sorted(correctable_fields(project, system)))
        raise BadArgument(f"--field: {field!r} is not a field of the ownership registry or of {system}'s records "
                          f"(known in {system}: {known})")
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
        load_entity_map(con, project.entity_map_path, cache=project.store_path / CACHE)  # validated once
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
