"""The run's view of the corrections log: a DuckDB table `corrections` that CORRECTION_NOT_APPLIED reads to
check that each correction landed in the source system, and that the other systems holding the field agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from tieout.config import Project

if TYPE_CHECKING:
    from tieout.corrections.log import Correction

SCHEMA = pa.schema([
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


def load(con: duckdb.DuckDBPyConnection, project: Project, as_of: date) -> int:
    """Create table `corrections` holding the corrections recorded on or before `as_of`; return how many.

    Read-only on the state database, and a project that has none yet gets an empty table without one being
    created: a run must not leave files behind when it stores nothing.
    """
    from tieout.corrections.fields import registry_fields
    from tieout.state.location import may_exist

    kinds = {name: spec.kind for name, spec in registry_fields(project).items()}
    rows = [] if not may_exist(project) else [
        {"seq": c.seq, "recorded_at": c.recorded_at.replace(tzinfo=None),
         "recorded_on": c.recorded_on(project.timezone), "canonical_id": c.canonical_id, "source_system": c.system,
         "source_id": c.source_id, "field": c.field, "kind": kinds.get(c.field), "old_value": c.old_value,
         "new_value": c.new_value, "reason": c.reason, "who": c.who, "ticket": c.ticket}
        for c in _recorded(project, as_of)
    ]
    con.register("staged_corrections", pa.Table.from_pylist(rows, schema=SCHEMA))
    try:
        con.execute("CREATE OR REPLACE TABLE corrections AS SELECT * FROM staged_corrections")
    finally:
        con.unregister("staged_corrections")
    return len(rows)


def _recorded(project: Project, as_of: date) -> list[Correction]:
    from tieout.corrections.log import corrections_for  # SQLAlchemy: only when there is a database

    return corrections_for(project, until=as_of)
