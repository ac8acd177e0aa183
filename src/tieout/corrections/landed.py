"""The run's view of the corrections log: a table `corrections` that CORRECTION_NOT_APPLIED reads to
check that each correction landed in the source system, and that the other systems holding the field agree —
and the view `corrected_values` it reads the records' values from: the registry's `field_values`, and the
values of the record fields (billing's `billed_fte`, …) that corrections name.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tieout.config import Project

if TYPE_CHECKING:
    import pyarrow as pa

    from tieout.corrections.fields import FieldSpec
    from tieout.corrections.log import Correction
    from tieout.engines.base import Engine


def _schema() -> pa.Schema:
    """The staged corrections' columns (pyarrow only once a run loads them: reads that find an exception's
    causes import this module without loading any)."""
    import pyarrow as pa

    return pa.schema([
        ("seq", pa.int64()),
        ("recorded_at", pa.timestamp("us")),  # UTC
        ("recorded_on", pa.date32()),  # the business date (project time zone) it was recorded on
        ("canonical_id", pa.string()),
        ("source_system", pa.string()),
        ("source_id", pa.string()),
        ("field", pa.string()),
        ("kind", pa.string()),
        ("old_value", pa.string()),
        ("new_value", pa.string()),
        ("reason", pa.string()),
        ("who", pa.string()),
        ("ticket", pa.string()),
    ])


def load(engine: Engine, project: Project, as_of: date) -> int:
    """Create table `corrections` holding the corrections recorded on or before `as_of`, and the view
    `corrected_values` the rule compares them with; return how many corrections.

    Read-only on the state database, and a project that has none yet gets an empty table without one being
    created: a run must not leave files behind when it stores nothing.
    """
    from tieout.state.location import may_exist

    recorded = [] if not may_exist(project) else _recorded(project, as_of)
    specs = {(c.system, c.field): _spec(project, c.system, c.field) for c in recorded}
    rows = [
        {"seq": c.seq, "recorded_at": c.recorded_at.replace(tzinfo=None),
         "recorded_on": c.recorded_on(project.timezone), "canonical_id": c.canonical_id, "source_system": c.system,
         "source_id": c.source_id, "field": c.field,
         "kind": spec.kind if (spec := specs[(c.system, c.field)]) else None, "old_value": c.old_value,
         "new_value": c.new_value, "reason": c.reason, "who": c.who, "ticket": c.ticket}
        for c in recorded
    ]
    import pyarrow as pa

    engine.write_table("corrections", pa.Table.from_pylist(rows, schema=_schema()))
    engine.execute(f"CREATE OR REPLACE VIEW corrected_values AS {_values_sql(project, as_of, specs)}")
    return len(rows)


def _spec(project: Project, system: str, field: str) -> FieldSpec | None:
    from tieout.corrections.fields import field_spec
    from tieout.errors import BadArgument

    try:
        return field_spec(project, system, field)
    except BadArgument:
        return None  # a field the registry no longer lists: its correction is checked against nothing


def _values_sql(project: Project, as_of: date, specs: dict[tuple[str, str], FieldSpec | None]) -> str:
    """`field_values` (the registry's shared fields) and the record fields that corrections name. A record's own
    amount is compared as the record holds it, in its own currency: the value the person corrected."""
    from tieout.ownership.model import column
    from tieout.ownership.sql import value_sql

    parts = ["SELECT * FROM field_values"]
    for (system, _), spec in sorted(specs.items()):
        if spec is None or spec.shared or spec.owned is None:
            continue
        sql = value_sql(spec.name, spec.owned, column(spec.owned, system), as_of, project.reporting_currency)
        if spec.own_currency:
            own = "CAST(original_amount AS VARCHAR)"
            # (Columns named, not `* REPLACE`: DuckDB's syntax, which Spark lacks.)
            sql = (f"SELECT canonical_id, field, kind, source_system, source_id, row_id, {own} AS value, "
                   f"{own} AS mapped, amount, tolerance, owner_system, original_amount, original_currency "
                   f"FROM ({sql}) AS own")
        parts.append(sql)
    return " UNION ALL ".join(parts)


def _recorded(project: Project, as_of: date) -> list[Correction]:
    from tieout.corrections.log import corrections_for  # SQLAlchemy: only when there is a database

    return corrections_for(project, until=as_of)
