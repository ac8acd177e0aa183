"""The bridge between the three answers to "how many active customers did we have?" (contract §5).

At the period's last day D, each system's own definition of an active customer (tieout.active_customers:
CRM-active, billing-active, ops-active over the window BILLING_ACTIVE_OPS_INACTIVE names, so the bridge and
that rule count the same ops-active customers) is applied to canonical entities.

The bridge walks CRM → billing → ops (`tieout.systems.BRIDGE_STEPS`). Each entity in one set and not the next
is explained by a named exception reported on D that says exactly that: the rules whose metadata (`bridge:`,
docs/rules.md) claim that step and side, tried in their order, first match wins, so nothing is counted twice;
whatever no exception covers is an UNEXPLAINED line, never folded into another. So, line by line,
`to = from + Σ effect`, and `unexplained` counts the entities no exception explains (both directions, so two
unexplained differences in opposite directions never cancel out to a reassuring zero).

OPS_ACTIVE_BILLING_INACTIVE looks back 7 days, the ops definition 30: an entity active 8–30 days ago and not
billing-active is ops-active but not reported by that rule. It is explained when CRM_ACTIVE_BILLING_INACTIVE
names it (its missing billing is then a named exception), and is otherwise unexplained — on purpose: it is a
gap between the rules and the definition that finance should see.

Entities are counted, not records: a second CRM account of one entity (`bridge_records: duplicate`,
DUPLICATE_SOURCE_RECORD) is one customer, and a record that resolves to no entity (`bridge_records:
unresolved`, UNMAPPED_SOURCE_RECORD and AMBIGUOUS_ENTITY_MATCH) is in no entity count. `records_to_entities`
bridges each system's own record count to its entity count with those exceptions, so the customers a system
would count on its own are accounted for as well.

The sets are computed from D as the store holds it (`tieout.store.open_day`, the canonical tables built again);
the explanations are the findings stored for D — what the run reported, not what today's rules would say.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from tieout import canonical
from tieout.active_customers import Activity, activity, ops_window_days, records_query
from tieout.config import Project
from tieout.rules.registry import Rule
from tieout.store import activity_cache, open_day, stored_days
from tieout.store.days import finding_rows
from tieout.systems import BRIDGE_STEPS, SYSTEMS
from tieout.systems import label as system_label

UNEXPLAINED = "UNEXPLAINED"
STEPS = BRIDGE_STEPS


@dataclass(frozen=True)
class Plan:
    """How the loaded rules enter the bridge, read off their metadata (`bridge`, `bridge_records`,
    `bridge_params`) — never off their names."""

    # (from, to, where the entity is) -> the rules whose exception on D explains it, tried in order
    explained_by: dict[tuple[str, str, str], tuple[str, ...]]
    duplicate_rules: frozenset[str]  # a second record of an entity in one system
    unresolved_rules: frozenset[str]  # a record that resolves to no entity
    ops_window_days: int

    def why(self, a: str, b: str, where: str) -> str:
        """`CRM-active, not billing-active`: what the entities of a bridge line are."""
        on, off = (a, b) if where == "from" else (b, a)
        return f"{self.definition(on)}, not {self.definition(off)}"

    def definition(self, system: str) -> str:
        windowed = f" over {self.ops_window_days} days" if system == "ops" else ""
        return f"{system_label(system)}-active{windowed}"


def plan(rules: dict[str, Rule]) -> Plan:
    """The bridge as the loaded rules describe it (the registry has checked no two claim the same place)."""
    claims: dict[tuple[str, str, str], list[tuple[int, str]]] = defaultdict(list)
    for rule in rules.values():
        for line in rule.bridge:
            claims[(*line.systems, line.side)].append((line.order, rule.name))
    return Plan(
        explained_by={(a, b, where): tuple(name for _, name in sorted(claims[(a, b, where)]))
                      for a, b in STEPS for where in ("from", "to")},
        duplicate_rules=frozenset(n for n, r in rules.items() if r.bridge_records == "duplicate"),
        unresolved_rules=frozenset(n for n, r in rules.items() if r.bridge_records == "unresolved"),
        ops_window_days=ops_window_days(rules),
    )


@dataclass(frozen=True)
class Findings:
    """What was reported on D, indexed the ways the bridge asks."""

    entities: dict[str, set[str]]  # rule -> canonical ids
    duplicates: dict[tuple[str, str], str]  # (canonical id, system) -> rule
    unresolved: dict[tuple[str, str], str]  # (system, source id) -> rule


def stored_findings(project: Project, day: date, how: Plan) -> Findings:
    rows = finding_rows(project, day, ("rule", "canonical_id", "source_system", "source_id"))
    entities: dict[str, set[str]] = defaultdict(set)
    duplicates: dict[tuple[str, str], str] = {}
    unresolved: dict[tuple[str, str], str] = {}
    for rule, canonical_id, source_system, source_id in rows:
        if rule in how.duplicate_rules and canonical_id and source_system:
            duplicates[(canonical_id, source_system)] = rule
        elif rule in how.unresolved_rules and source_system and source_id:
            unresolved[(source_system, source_id)] = rule
        elif canonical_id:
            entities[rule].add(canonical_id)
    return Findings(dict(entities), duplicates, unresolved)


def load_activity(project: Project, day: date, rules: dict[str, Rule]) -> Activity:
    """Each system's active records on stored `day`: its canonical tables built again on the day as the store
    holds it (`open_day`), never on its exports — a pack still builds once they are archived. The activity
    reads only canonical tables, so the rules need not run again (their findings are stored): `rules` give the
    ops window only. Built once per content of the day: later reads take them from the store's cache
    (tieout.store.activity_cache)."""
    window = plan(rules).ops_window_days
    key = activity_cache.key(project, day, window) if day in stored_days(project) else None  # else NotFound
    cached = activity_cache.read(project, day, key) if key is not None else None
    if cached is not None:
        return cached
    con = open_day(project, day)
    try:
        canonical.build(con, project, day)
        # Kept for the next read (tieout.store.activity_cache) — unless a run changed the day meanwhile: the
        # records built may then be the new content's, not the content `key` names.
        if key is not None and activity_cache.key(project, day, window) == key:
            activity_cache.write(project, day, key, *records_query(day, window), con)
        return activity(con, day, window)
    finally:
        con.close()


def _step(sets: dict[str, set[str]], found: Findings, how: Plan, a: str, b: str
          ) -> tuple[list[dict[str, Any]], int]:
    lines: list[dict[str, Any]] = []
    unexplained = 0
    for where, only, sign in (("from", sets[a] - sets[b], -1), ("to", sets[b] - sets[a], 1)):
        left = set(only)
        why = how.why(a, b, where)
        for rule in how.explained_by[(a, b, where)]:
            covered = left & found.entities.get(rule, set())
            left -= covered
            if covered:
                lines.append(_line(a, b, rule, why, sign, covered))
        if left:
            unexplained += len(left)
            lines.append(_line(a, b, UNEXPLAINED, why, sign, left))
    return lines, unexplained


def _line(a: str, b: str, rule: str, why: str, sign: int, ids: set[str]) -> dict[str, Any]:
    return {"from": a, "to": b, "rule": rule, "count": len(ids), "effect": sign * len(ids),
            "why": why, "entities": sorted(ids)}


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
                lines[found.duplicates.get((cid, system), UNEXPLAINED)] += n - 1
        out.append({"system": system, "records": len(records), "entities": len(per_entity),
                    "lines": [{"rule": r, "count": lines[r]} for r in sorted(lines)],
                    "unexplained": lines.get(UNEXPLAINED, 0)})
    return out


def bridge(act: Activity, found: Findings, how: Plan) -> dict[str, Any]:
    """The counts, the window of the ops-active count, the bridge lines and the unexplained remainder (pure:
    tested on hand-made sets)."""
    sets = {s: act.entities(s) for s in SYSTEMS}
    counts = {s: len(v) for s, v in sets.items()}
    lines: list[dict[str, Any]] = []
    unexplained: dict[str, int] = {}
    for a, b in STEPS:
        step, left = _step(sets, found, how, a, b)
        assert counts[a] + sum(line["effect"] for line in step) == counts[b], (a, b)  # the walk balances
        lines += step
        unexplained[f"{a}_{b}"] = left
    return {"active_customers": counts, "ops_window_days": how.ops_window_days, "bridge": lines,
            "unexplained": unexplained,
            "records_to_entities": _records_to_entities(act, found)}


def waterfall(report: dict[str, Any]) -> dict[str, Any]:
    """The bridge of a monthly pack as a waterfall: each system's count a total, each bridge line a step up or
    down from the count before it. `floor`: where the value axis starts, a little below the smallest value, so
    that a difference of one customer in three hundred can be seen (an axis from 0 shows nothing)."""
    counts = report["active_customers"]
    steps: list[dict[str, Any]] = []
    taken: set[str] = set()

    def add(label: str, start: int, end: int, kind: str) -> None:
        unique, n = label, 2
        while unique in taken:  # the same rule on both sides of one step
            unique, n = f"{label} ({n})", n + 1
        taken.add(unique)
        steps.append({"label": unique, "start": start, "end": end, "kind": kind})

    for n, (a, b) in enumerate(STEPS):
        if n == 0:
            add(f"{system_label(a)}-active", 0, counts[a], "total")
        running = counts[a]
        for line in report["bridge"]:
            if line["from"] == a:
                add(f"{line['rule']} {line['effect']:+d}", running, running + line["effect"],
                    "up" if line["effect"] > 0 else "down")
                running += line["effect"]
        add(f"{system_label(b)}-active", 0, counts[b], "total")
    values = [v for s in steps for v in (s["start"], s["end"]) if not (s["kind"] == "total" and v == 0)]
    low, high = min(values, default=0), max(values, default=0)
    floor = max(0, low - max(5, (high - low) // 2))
    for s in steps:
        if s["kind"] == "total":
            s["start"] = floor
    return {"steps": steps, "floor": floor}
