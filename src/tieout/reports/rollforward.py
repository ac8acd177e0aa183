"""Who each system counts as an active customer at month end, and how that list moved since the month before.

The month-end pack's counts are sets of canonical entities (tieout.reports.bridge); an auditor samples them, so
the pack lists them: per system, each active customer with its name and the source records that made it active.
The roll-forward walks each system's set from the previous month's end to this one:

    opening + new − churned = closing,   new = first-time + reactivated

`reactivated` are the new ones that some earlier month end (stored, before the previous one) counted active: they
came back. Every set is computed as the bridge's is — on the stored day, from the source history — so every name
in it can be traced to stored records.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from tieout.config import Project
from tieout.entity_names import EntityNames
from tieout.reports.bridge import Activity, load_activity
from tieout.rules.registry import Rule
from tieout.systems import SYSTEMS


def customer_lists(act: Activity, names: EntityNames) -> dict[str, list[dict[str, Any]]]:
    """Per system, its active customers on the day of `act`: id, name and the records that made them active."""
    out: dict[str, list[dict[str, Any]]] = {}
    for system in SYSTEMS:
        records: dict[str, list[str]] = {}
        for source_id, cid in act.records[system]:
            if cid is not None:
                records.setdefault(cid, []).append(source_id)
        out[system] = [{"canonical_id": cid, "entity_name": names.name(cid), "records": sorted(ids)}
                       for cid, ids in sorted(records.items())]
    return out


def month_ends(days: list[date], before: date) -> list[date]:
    """The stored days before `before` that end their month, newest first."""
    return sorted((d for d in days if d < before and d.day == calendar.monthrange(d.year, d.month)[1]),
                  reverse=True)


def roll_forward(project: Project, rules: dict[str, Rule], current: Activity, start: date, days: list[date],
                 names: EntityNames) -> dict[str, Any] | None:
    """Per system, opening (the previous month's end), new (of which reactivated), churned and closing, with the
    customers by name; None when the previous month's last day is not stored."""
    previous_end = start - timedelta(days=1)
    if previous_end not in days:
        return None
    opening = load_activity(project, previous_end, rules)
    earlier = [load_activity(project, d, rules) for d in month_ends(days, previous_end)]
    return {"from": previous_end, "systems": roll(opening, current, earlier, names)}


def roll(opening: Activity, closing: Activity, earlier: list[Activity], names: EntityNames) -> dict[str, Any]:
    """The roll-forward of each system from `opening` to `closing`; `earlier`: the month ends before `opening`
    (pure: tested on hand-made sets)."""
    def named(ids: set[str]) -> list[dict[str, str]]:
        return [{"canonical_id": cid, "entity_name": names.name(cid)} for cid in sorted(ids)]

    systems = {}
    for system in SYSTEMS:
        before, now = opening.entities(system), closing.entities(system)
        seen_before: set[str] = set().union(*(a.entities(system) for a in earlier))
        new, churned = now - before, before - now
        reactivated = new & seen_before
        systems[system] = {"opening": len(before), "new": len(new), "reactivated": len(reactivated),
                           "churned": len(churned), "closing": len(now),
                           "new_customers": named(new - reactivated), "reactivated_customers": named(reactivated),
                           "churned_customers": named(churned)}
    return systems
