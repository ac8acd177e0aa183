"""The weekly review's decisions as recorded (tieout.reports.decisions records them): the record and its read.

Apart from the recording so that a review, which only reads them, does not load the state database's stack:
the default SQLite database is read through Python's sqlite3 (tieout.state.sqlite_reads), any other through
SQLAlchemy, the same rows either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tieout import state
from tieout.config import Project
from tieout.errors import BadArgument
from tieout.state import sqlite_reads

PREFIX = "D-"
# The columns of `pattern_decisions` a Decision is made of, and those SQLAlchemy converts on SQLite.
COLUMNS = ("id", "pattern_id", "week", "owner", "action", "due_on", "recorded_by", "recorded_at", "status",
           "status_by", "status_at", "status_note")
_TYPES = {"week": "date", "due_on": "date", "recorded_at": "datetime", "status_at": "datetime"}


@dataclass(frozen=True)
class Decision:
    id: int
    pattern_id: str
    week: date  # the last day of the review's week
    owner: str
    action: str
    due_on: date
    recorded_by: str
    recorded_at: datetime  # UTC
    status: str | None = None  # done | dropped, once someone says so
    status_by: str | None = None
    status_at: datetime | None = None
    status_note: str | None = None

    @property
    def ref(self) -> str:
        return f"{PREFIX}{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "pattern_id": self.pattern_id, "week": self.week, "owner": self.owner,
                "action": self.action, "due_on": self.due_on, "recorded_by": self.recorded_by,
                "recorded_at": self.recorded_at.isoformat(timespec="seconds"), "status": self.status,
                "status_by": self.status_by,
                "status_at": self.status_at.isoformat(timespec="seconds") if self.status_at else None,
                "status_note": self.status_note}


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def decision(row: Mapping[str, Any]) -> Decision:
    """A `pattern_decisions` row as a Decision, its moments in UTC."""
    recorded_at = _aware(row["recorded_at"])
    assert recorded_at is not None  # NOT NULL
    return Decision(**{c: row[c] for c in COLUMNS if c not in ("recorded_at", "status_at")},
                    recorded_at=recorded_at, status_at=_aware(row["status_at"]))


def decisions(project: Project, *, until: date | None = None, pattern_id: str | None = None) -> list[Decision]:
    """The decisions taken at reviews of weeks ending on or before `until` (default: all), newest week first.
    No state database: none (and none is created)."""
    if not state.exists(project):
        return []
    rows = sqlite_reads.select(project, "pattern_decisions", COLUMNS, order_by=["-week", "id"], types=_TYPES,
                               where={} if pattern_id is None else {"pattern_id": pattern_id})
    if rows is None:
        from sqlalchemy import select

        from tieout.state.tables import pattern_decisions

        query = select(pattern_decisions).order_by(pattern_decisions.c.week.desc(), pattern_decisions.c.id)
        if pattern_id is not None:
            query = query.where(pattern_decisions.c.pattern_id == pattern_id)
        with state.open(project) as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
    return [decision(r) for r in rows if until is None or r["week"] <= until]


def parse_ref(ref: str) -> int:
    """`D-3` (or `3`) -> 3."""
    text = ref.strip().upper().removeprefix(PREFIX)
    if not text.isdigit():
        raise BadArgument(f"{ref!r} is not a decision (D-n, as `tieout review decisions` lists them)")
    return int(text)
