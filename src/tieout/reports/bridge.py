"""The bridge between the three answers to "how many active customers did we have?" (contract §5).

At the period's last day D, each system's own definition is applied to canonical entities:

- **CRM-active**: a live contract on D (`crm_active`);
- **billing-active**: an invoice covering D, not void or draft (`billing_active`);
- **ops-active over 30 days**: a usage row with active users in (D − 30, D] (`tenant_activity`).

The bridge walks CRM → billing → ops. Each entity in one set and not the next is explained by a named
exception reported on D that says exactly that (`EXPLAINED_BY`, first match wins, so nothing is counted
twice); whatever no exception covers is an UNEXPLAINED line, never folded into another. So, line by line,
`to = from + Σ effect`, and `unexplained` counts the entities no exception explains (both directions, so two
unexplained differences in opposite directions never cancel out to a reassuring zero).

OPS_ACTIVE_BILLING_INACTIVE looks back 7 days, the ops definition 30: an entity active 8–30 days ago and not
billing-active is ops-active but not reported by that rule. It is explained when CRM_ACTIVE_BILLING_INACTIVE
names it (its missing billing is then a named exception), and is otherwise unexplained — on purpose: it is a
gap between the rules and the definition that finance should see.

Entities are counted, not records: a second CRM account of one entity (DUPLICATE_SOURCE_RECORD) is one
customer, and a record that resolves to no entity (UNMAPPED_SOURCE_RECORD, AMBIGUOUS_ENTITY_MATCH) is in no
entity count. `records_to_entities` bridges each system's own record count to its entity count with those
exceptions, so the customers a system would count on its own are accounted for as well.

The sets are computed from D as the store holds it (`tieout.store.open_day`, the canonical tables built again);
the explanations are the findings stored for D — what the run reported, not what today's rules would say.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from tieout import canonical
from tieout.config import Project
from tieout.rules.registry import Rule
from tieout.store import open_day
from tieout.store.days import findings_on

OPS_WINDOW_DAYS = 30
UNEXPLAINED = "UNEXPLAINED"
STEPS = (("crm", "billing"), ("billing", "ops"))
# (from, to, where the entity is) -> the rules whose exception on D explains it, tried in order
EXPLAINED_BY: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("crm", "billing", "from"): ("CRM_ACTIVE_BILLING_INACTIVE",),
    ("crm", "billing", "to"): ("BILLING_ACTIVE_CRM_INACTIVE",),
    ("billing", "ops", "from"): ("BILLING_ACTIVE_OPS_INACTIVE",),
    ("billing", "ops", "to"): ("OPS_ACTIVE_BILLING_INACTIVE", "CRM_ACTIVE_BILLING_INACTIVE"),
}
WHY = {
    ("crm", "billing", "from"): "CRM-active, not billing-active",
    ("crm", "billing", "to"): "billing-active, not CRM-active",
    ("billing", "ops", "from"): f"billing-active, not ops-active over {OPS_WINDOW_DAYS} days",
    ("billing", "ops", "to"): f"ops-active over {OPS_WINDOW_DAYS} days, not billing-active",
}
UNRESOLVED_RULES = ("UNMAPPED_SOURCE_RECORD", "AMBIGUOUS_ENTITY_MATCH")


@dataclass(frozen=True)
class Findings:
    """What was reported on D, indexed the ways the bridge asks."""

    entities: dict[str, set[str]]  # rule -> canonical ids
    duplicates: set[tuple[str, str]]  # (canonical id, system)
    unresolved: dict[tuple[str, str], str]  # (system, source id) -> rule


def stored_findings(project: Project, day: date) -> Findings:
    rows = findings_on(project, day).select(["rule", "canonical_id", "source_system", "source_id"]).to_pylist()
    entities: dict[str, set[str]] = defaultdict(set)
    duplicates: set[tuple[str, str]] = set()
    unresolved: dict[tuple[str, str], str] = {}
    for r in rows:
        if r["rule"] == "DUPLICATE_SOURCE_RECORD" and r["canonical_id"] and r["source_system"]:
            duplicates.add((r["canonical_id"], r["source_system"]))
        elif r["rule"] in UNRESOLVED_RULES and r["source_system"] and r["source_id"]:
            unresolved[(r["source_system"], r["source_id"])] = r["rule"]
        elif r["canonical_id"]:
            entities[r["rule"]].add(r["canonical_id"])
    return Findings(dict(entities), duplicates, unresolved)


@dataclass(frozen=True)
class Activity:
    """Active records on D per system, as (source id, canonical id or None)."""

    records: dict[str, list[tuple[str, str | None]]]

    def entities(self, system: str) -> set[str]:
        return {cid for _, cid in self.records[system] if cid is not None}


def activity(con: duckdb.DuckDBPyConnection, day: date) -> Activity:
    """Each system's active records on `day` from the canonical tables of an evaluated day."""
    since = day - timedelta(days=OPS_WINDOW_DAYS)
    queries = {
        # the same conditions as the canonical crm_active / billing_active tables, kept per record
        "crm": ("SELECT DISTINCT account_id, canonical_id FROM contracts WHERE status = 'active' "
                "AND start_date <= $d AND (end_date IS NULL OR end_date >= $d)", {"d": day}),
        "billing": ("SELECT DISTINCT customer_id, canonical_id FROM covering_invoices", {}),
        "ops": ("SELECT DISTINCT tenant_id, canonical_id FROM tenant_activity WHERE last_active_on > $since",
                {"since": since}),
    }
    return Activity({s: sorted(con.execute(q, p).fetchall(), key=lambda r: (r[0], r[1] or ""))
                     for s, (q, p) in queries.items()})


def load_activity(project: Project, day: date, rules: dict[str, Rule]) -> Activity:
    """Each system's active records on stored `day`: its canonical tables built again on the day as the store
    holds it (`open_day`), never on its exports — a pack still builds once they are archived. The activity
    reads only canonical tables, so the rules (`rules`) need not run again: their findings are stored."""
    del rules  # the stored findings are the rules' word on `day` (`stored_findings`)
    con = open_day(project, day)
    try:
        canonical.build(con, project, day)
        return activity(con, day)
    finally:
        con.close()


def _step(sets: dict[str, set[str]], found: Findings, a: str, b: str) -> tuple[list[dict[str, Any]], int]:
    lines: list[dict[str, Any]] = []
    unexplained = 0
    for where, only, sign in (("from", sets[a] - sets[b], -1), ("to", sets[b] - sets[a], 1)):
        left = set(only)
        for rule in EXPLAINED_BY[(a, b, where)]:
            covered = left & found.entities.get(rule, set())
            left -= covered
            if covered:
                lines.append(_line(a, b, rule, where, sign, covered))
        if left:
            unexplained += len(left)
            lines.append(_line(a, b, UNEXPLAINED, where, sign, left))
    return lines, unexplained


def _line(a: str, b: str, rule: str, where: str, sign: int, ids: set[str]) -> dict[str, Any]:
    return {"from": a, "to": b, "rule": rule, "count": len(ids), "effect": sign * len(ids),
            "why": WHY[(a, b, where)], "entities": sorted(ids)}


def _records_to_entities(act: Activity, found: Findings) -> list[dict[str, Any]]:
    out = []
    for system, records in act.records.items():
        per_entity: dict[str, int] = defaultdict(int)
        lines: dict[str, int] = defaultdict(int)
        for source_id, cid in records:
            if cid is None:
                lines[found.unresolved.get((system, source_id), UNEXPLAINED)] += 1
            else:
                per_entity[cid] += 1
        for cid, n in per_entity.items():
            if n > 1:
                lines["DUPLICATE_SOURCE_RECORD" if (cid, system) in found.duplicates else UNEXPLAINED] += n - 1
        out.append({"system": system, "records": len(records), "entities": len(per_entity),
                    "lines": [{"rule": r, "count": lines[r]} for r in sorted(lines)],
                    "unexplained": lines.get(UNEXPLAINED, 0)})
    return out


def bridge(act: Activity, found: Findings) -> dict[str, Any]:
    """The counts, the bridge lines and the unexplained remainder (pure: tested on hand-made sets)."""
    sets = {s: act.entities(s) for s in ("crm", "billing", "ops")}
    counts = {s: len(v) for s, v in sets.items()}
    lines: list[dict[str, Any]] = []
    unexplained: dict[str, int] = {}
    for a, b in STEPS:
        step, left = _step(sets, found, a, b)
        assert counts[a] + sum(line["effect"] for line in step) == counts[b], (a, b)  # the walk balances
        lines += step
        unexplained[f"{a}_{b}"] = left
    return {"active_customers": counts, "bridge": lines, "unexplained": unexplained,
            "records_to_entities": _records_to_entities(act, found)}
