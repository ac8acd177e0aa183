"""Age and due date of an exception: the service level (`sla:` in tieout.yml) a team owes each severity.

An exception is due `sla[severity]` days after it was first seen (its current episode's first day); it is
*overdue* while it is still open (reported by the exports) on a day after that. Ages and "today" are counted on
the project's as-of day — the latest reconciled day, or the day the queue is read as of — never the wall clock:
the exports' dates may lag it, and a demo's are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from tieout.timeline import QueuedException


class Sla(BaseModel):
    """Days from first seen to due, per severity; null: no due date for that severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    P1: int | None = Field(default=2, ge=0)
    P2: int | None = Field(default=5, ge=0)
    P3: int | None = Field(default=10, ge=0)
    INFO: int | None = Field(default=None, ge=0)

    def days(self, severity: str) -> int | None:
        value = getattr(self, severity, None)
        return value if isinstance(value, int) else None


@dataclass(frozen=True)
class Due:
    """How long an exception has been open on the as-of day, and when it is (was) due."""

    age_days: int
    due_on: date | None
    overdue: bool

    def as_dict(self) -> dict[str, Any]:
        return {"age_days": self.age_days, "due_on": self.due_on, "overdue": self.overdue}


# The keys `due_of` adds to an exception's record (`tieout exceptions`, the API, the queue's downloads).
DUE_KEYS = ("age_days", "due_on", "overdue")


def due_date(sla: Sla, severity: str, first_seen: date) -> date | None:
    """When an exception of `severity` first seen on `first_seen` is due; None when its severity has no SLA."""
    days = sla.days(severity)
    return first_seen + timedelta(days=days) if days is not None else None


def due_of(e: QueuedException, sla: Sla, as_of: date) -> Due:
    """`e`'s age on `as_of` (to the day it resolved, if it did), its due date and whether it is overdue:
    open on `as_of` and `as_of` after the due date."""
    due_on = due_date(sla, e.severity, e.first_seen)
    age_days = ((e.resolved_on or as_of) - e.first_seen).days
    return Due(age_days, due_on, e.status == "open" and due_on is not None and as_of > due_on)
