"""The golden record: per canonical entity and registry field, the value that wins under the registry.

The winner is the owner's record for that entity on that day (a handover's condition decides which system
that is). When the owner holds no value, the first other system holding one stands in, and the row says so:
`source_system` differs from `owner_system`. Values are read from one reconciled day as the store holds it
(`tieout.store.open_day`) and built exactly as a run builds them, so the golden record of a day agrees with that
day's OWNED_FIELD_MISMATCH. A day not reconciled yet (`--as-of`) is read from its exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tieout import canonical
from tieout.config import SYSTEMS, Project
from tieout.errors import ConfigError
from tieout.output import money
from tieout.ownership.model import Registry, load_registry, stage_for
from tieout.ownership.sql import agree_sql
from tieout.store import open_or_read_day, stored_days

COLUMNS = ("as_of", "canonical_id", "field", "value", "source_system", "source_id", "row_id", "owner_system",
           "ruled_by", "disagreeing")


@dataclass(frozen=True)
class Golden:
    as_of: date
    source: str  # what was read, for a person: "the store's 2026-02-16 (the latest reconciled day)"
    rows: list[dict[str, Any]]


def golden_day(project: Project, as_of: date | None) -> tuple[date, str]:
    """The day to read: `as_of`, else the latest stored day; and a sentence saying which, from where, and why."""
    days = stored_days(project)
    if as_of is not None:
        if as_of in days:
            return as_of, f"the store's {as_of} (--as-of)"
        return as_of, f"{project.exports.replace('{date}', as_of.isoformat())} (--as-of, not reconciled yet)"
    if not days:
        raise ConfigError(f"{project.store_path}: no day reconciled yet, so there is no latest day to read; "
                       "pass --as-of DATE to read that day's exports")
    return days[-1], f"the store's {days[-1]} (the latest reconciled day)"


def golden_records(project: Project, *, as_of: date | None = None, registry: Registry | None = None) -> Golden:
    """Every entity's winning value of every registry field on `as_of` (default: the latest stored day).

    >>> golden_records(load_project("my-recon")).rows[0]            # doctest: +SKIP
    {'as_of': date(2026, 2, 16), 'canonical_id': 'ACME', 'field': 'legal_name', 'value': 'Acme Inc.', ...}
    """
    registry = load_registry(project) if registry is None else registry
    day, source = golden_day(project, as_of)
    con = open_or_read_day(project, day)
    try:
        canonical.build(con, project, day, registry=registry)
        order = " ".join(f"WHEN {s!r} THEN {i}" for i, s in enumerate(SYSTEMS))
        kinds = {name: f.kind for name, f in registry.fields.items()}
        # Which other systems hold a value that does not agree with the winner, compared as the rule compares.
        disagree = " OR ".join(f"(w.field = '{name}' AND NOT ({agree_sql(kind, 'w', 'v')}))"
                               for name, kind in kinds.items())
        cur = con.execute(f"""
            WITH present AS (
                SELECT * FROM field_values WHERE tieout_normalise(kind, mapped) IS NOT NULL
            ), winner AS (
                SELECT * FROM present
                QUALIFY row_number() OVER (
                    PARTITION BY canonical_id, field
                    ORDER BY source_system <> owner_system, CASE source_system {order} END, source_id, row_id) = 1
            )
            SELECT w.canonical_id, w.field, w.value, w.source_system, w.source_id, w.row_id, w.owner_system,
                   list_sort(list_distinct(list(v.source_system) FILTER (WHERE v.source_system IS NOT NULL
                       AND v.source_system <> w.source_system AND ({disagree})))) AS disagreeing
            FROM winner AS w LEFT JOIN present AS v ON v.canonical_id = w.canonical_id AND v.field = w.field
            GROUP BY ALL
            ORDER BY w.canonical_id, w.field
        """)
        names = [c[0] for c in cur.description]
        found = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        holding: dict[str, set[str]] = {}
        for cid, cond in con.execute("SELECT canonical_id, condition FROM ownership_conditions").fetchall():
            holding.setdefault(cid, set()).add(cond)
    finally:
        con.close()
    rows = []
    for r in found:
        stage = stage_for(registry.fields[r["field"]], holding.get(r["canonical_id"], set()))
        if registry.fields[r["field"]].kind == "amount":
            r["value"] = str(money(Decimal(r["value"])))  # 120.50, not 120.5000
        rows.append({"as_of": day, **r, "ruled_by": stage.when or "owner",
                     "disagreeing": ", ".join(r["disagreeing"] or [])})
    return Golden(as_of=day, source=source, rows=[{c: row[c] for c in COLUMNS} for row in rows])
