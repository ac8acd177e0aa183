"""Who each system counts as an active customer at month end, and how that list moved since the month before.

The month-end pack's counts are sets of canonical entities (tieout.reports.bridge); an auditor samples them, so
the pack lists them: per system, each active customer with its name and the source records that made it active.
The roll-forward walks each system's set from the previous month's end to this one:

    opening + new − churned = closing,   new = first-time + reactivated

`reactivated` are the new ones that some earlier month end (stored, before the previous one) counted active: they
came back. Every set is computed as the bridge's is — on the stored day, from the source history — so every name
in it can be traced to stored records.

The month's average is the mean of each reconciled day's count, as that day's run counted it and the store
kept it (`StoredDay.active`); the pack lists every day's counts beside it, and any day can be listed in full
by the pack of that day (`tieout report monthly --as-of DAY`).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from tieout.active_customers import ops_window_days
from tieout.config import Project
from tieout.entity_names import EntityNames
from tieout.reports.bridge import Activity, load_activity
from tieout.reports.data import mean
from tieout.rules.registry import Rule
from tieout.store.manifest import read_manifest
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


def daily_counts(project: Project, rules: dict[str, Rule], days: list[date]) -> list[dict[str, Any]]:
    """Each stored day of `days` with each system's active customers, as its run counted them; a day stored
    without counts (by an older tieout) or counted over another ops window is counted again from the store."""
    window = ops_window_days(rules)
    stored = {d.day: d.active for d in read_manifest(project)}
    rows = []
    for day in days:
        counted = stored.get(day)
        if counted is not None and counted.ops_window_days == window:
            by_system = counted.as_dict()
        else:
            activity = load_activity(project, day, rules)
            by_system = {system: len(activity.entities(system)) for system in SYSTEMS}
        rows.append({"date": day, **{system: by_system[system] for system in SYSTEMS}})
    return rows


def average(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Per system, the mean of `daily`'s counts (one decimal, None without days), over how many days."""
    return {"days": len(daily), **{system: mean([row[system] for row in daily]) for system in SYSTEMS}}
