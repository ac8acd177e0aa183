"""What happened to the exceptions in a review's week: what is new, what closed by itself, what is older than
its service level, and the hand corrections people made — each a pure read of the store (and, for who did
what, of the state database)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tieout import state
from tieout.config import Project
from tieout.due import Sla, due_date
from tieout.reports.data import Item, changes, open_on, worst_first
from tieout.state import sqlite_reads
from tieout.timeline import Causes, Episode


def new_this_week(items: list[Item], start: date, end: date) -> list[dict[str, Any]]:
    """Episodes begun in [start, end] — an exception's first (`episode` 1) or a reopening — worst first."""
    week = changes(items, start - timedelta(days=1), end)
    return [i.as_dict() for i in worst_first(week.new + week.reopened)]


def _resolved_by_hand(project: Project, ids: set[str]) -> set[tuple[str, date]]:
    """(exception id, episode's first day) of every episode someone resolved in the workflow (`tieout resolve`,
    the web's Resolve): it was closed by a person, not by itself."""
    if not ids or not state.exists(project):
        return set()
    rows = sqlite_reads.select(project, "actions", ["exception_id", "episode_first_seen"],
                               where={"kind": "resolve", "exception_id": sorted(ids)},
                               types={"episode_first_seen": "date"})
    if rows is not None:
        return {(r["exception_id"], r["episode_first_seen"]) for r in rows}
    from sqlalchemy import select

    from tieout.state.tables import actions

    with state.open(project) as connection:
        found = connection.execute(select(actions.c.exception_id, actions.c.episode_first_seen)
                                   .where(actions.c.kind == "resolve", actions.c.exception_id.in_(sorted(ids))))
        return {(r.exception_id, r.episode_first_seen) for r in found}


def closed_by_themselves(project: Project, items: list[Item], found: list[Episode], why: Causes, start: date,
                         end: date) -> list[dict[str, Any]]:
    """Episodes resolved in [start, end] that nobody resolved: no hand correction of their entity was recorded
    while they were open, and nobody resolved them in the workflow — the lags that cleared. Worst first."""
    closed = [i for i in items if i.resolved_on is not None and start <= i.resolved_on <= end]
    episode = {(e.id, e.first_seen): e for e in found}
    by_hand = _resolved_by_hand(project, {i.id for i in closed})
    return [i.as_dict() for i in worst_first(closed)
            if (i.id, i.first_seen) not in by_hand and not why.corrected(episode[(i.id, i.first_seen)], end)]


def aged_beyond_sla(items: list[Item], sla: Sla, end: date) -> list[dict[str, Any]]:
    """Episodes open on `end` past their due date (`sla:` in tieout.yml), the longest overdue first."""
    out = []
    for i in worst_first(open_on(items, end)):
        due = due_date(sla, i.severity, i.first_seen)
        if due is not None and end > due:
            out.append({**i.as_dict(), "due_on": due, "days_overdue": (end - due).days})
    return sorted(out, key=lambda r: -r["days_overdue"])  # stable: worst first within a day
