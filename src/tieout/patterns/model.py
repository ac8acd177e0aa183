"""What a pattern is made of: its signature (the cause), its occurrences, and what is said about them —
cadence, lag, money, the systems and fields involved and the handoff it crosses."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from tieout.timeline import Episode

# What the change signature can say about an episode's first day.
COMPARED = "compared"  # its diff against the stored day before was read
FIRST_DAY = "first_day"  # it began on the first day of the stored history: nothing to compare with
UNAVAILABLE = "unavailable"  # no stored history covers that day

# How a record resolved that says something about the cause: anything but the entity map, which is how every
# healthy record resolves (so a record being there, mapped, never splits a cause).
MAPPED = "map"


@dataclass(frozen=True, order=True)
class ChangeItem:
    """One kind of change on an episode's first day: `field` for a changed row, None for an added or
    removed one."""

    system: str
    table: str
    change: str  # added | removed | changed
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "table": self.table, "change": self.change, "field": self.field}

    def label(self) -> str:
        return f"{self.table}.{self.field}" if self.change == "changed" else f"{self.table}:{self.change}"


@dataclass(frozen=True, order=True)
class Origin:
    """How one of an episode's records came to be: its system, how it resolved, and whether it was new."""

    system: str
    method: str  # map | tax_id | domain | legal_name | unmapped | ambiguous
    lifecycle: str  # new | existing | removed (gone that day) | first_day (the history's first day)

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "method": self.method, "lifecycle": self.lifecycle}


@dataclass(frozen=True)
class Signature:
    """A cause: the rule, what changed on the first day, and how records resolved when not by the map.

    Not in it, on purpose: the classification (the same edit closes by itself one week and stays open the
    next — one cause, its timing and structural episodes together) and which mapped records the entity had
    that day or whether they were new (that is in `changes` already, as `table:added`)."""

    rule: str
    history: str  # compared | first_day | unavailable
    changes: tuple[ChangeItem, ...]
    resolved: tuple[tuple[str, str], ...]  # (system, method) of the records not resolved by the map

    @property
    def id(self) -> str:
        """Stable across runs and days: a hash of the signature's parts."""
        body = json.dumps([self.rule, self.history, [c.as_dict() for c in self.changes],
                           [list(r) for r in self.resolved]], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Occurrence:
    """One exception episode with its classification, its signature and its records' origins."""

    episode: Episode
    classification: str
    signature: Signature
    origins: tuple[Origin, ...] = ()

    @property
    def open(self) -> bool:
        return self.episode.resolved_on is None


@dataclass(frozen=True)
class Week:
    week: str  # ISO week, e.g. 2026-W09
    start: date  # its Monday
    new: int  # occurrences first seen that week


@dataclass(frozen=True)
class Cadence:
    """When a pattern's occurrences open, if they cluster: on one weekday, one day of the month, or the last
    day of the month."""

    kind: str  # weekday | day_of_month | month_end
    value: int  # the weekday (0 = Monday), the day of the month; 0 for month_end
    count: int  # occurrences that opened on it
    of: int  # occurrences in all
    text: str  # "opens on Fridays"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "count": self.count, "of": self.of, "text": self.text}


@dataclass(frozen=True)
class Lag:
    """How long a pattern's occurrences stay open: the usual number of days from first seen to resolved."""

    days: int | None  # the most common lag (the shortest of equals); None when none has closed
    count: int  # occurrences that closed after exactly `days` days
    closed: int  # occurrences that have closed
    of: int  # occurrences in all
    median: Decimal | None  # of the closed ones
    shortest: int | None
    longest: int | None
    open_longest: int | None  # the longest an open one has been open, up to the as-of date
    text: str  # "closes after 3 days in 9 of 11 cases"

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "count": self.count, "closed": self.closed, "of": self.of,
                "median": self.median, "shortest": self.shortest, "longest": self.longest,
                "open_longest": self.open_longest, "text": self.text}


@dataclass(frozen=True)
class Crossing:
    """The handoff of the ownership registry a pattern crosses (`tieout.ownership.doc.handoffs`): a lifecycle
    event that should have created or changed the other system's record, or the owner's change that should
    have been copied there — and why it was picked."""

    source: str  # the system where the event happens (the owner, for a field)
    target: str  # the system that should follow
    event: str
    fields: tuple[str, ...]  # a field's handoff: "legal_name → customers.name"; () for a lifecycle one
    # field (the exception names it) | lifecycle (its first day changed the event's columns) | column (its
    # first day changed a column holding the field)
    matched_on: str
    update: str  # one sentence: what event should update both systems
    columns: tuple[str, ...] = ()  # a lifecycle handoff: the event's columns, "contracts.status"

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "event": self.event, "fields": list(self.fields),
                "matched_on": self.matched_on, "update": self.update, "columns": list(self.columns)}


@dataclass
class Pattern:
    signature: Signature
    classification: str  # the most common classification of its occurrences (see `classifications`)
    classifications: dict[str, int]  # occurrences per classification
    origins: tuple[Origin, ...]  # every origin of its occurrences' records
    count: int
    open: int
    first_seen: date  # the first day any of its episodes was reported
    last_seen: date  # the last day any of its episodes was reported
    last_new: date  # the first day of its latest episode
    money_at_risk: Decimal  # the exposure of its open episodes, in the reporting currency (tieout.exposure)
    peak_at_risk: Decimal  # the largest exposure its episodes held open together on any day
    peak_on: date | None  # the first day of that peak (None when it was never above 0)
    currency: str
    trend: list[Week]
    week_over_week: int  # new occurrences in the last week minus the week before
    recurring_weeks: int  # of the last `of_weeks` weeks, those with a new occurrence
    recurring: bool
    examples: list[Episode]
    cadence: Cadence | None = None
    lag: Lag | None = None
    systems: tuple[str, ...] = ()  # the systems involved, in the catalogue's order
    fields: tuple[str, ...] = ()  # the columns involved, as table.column
    handoff: Crossing | None = None
    sentence: str = ""
    occurrences: list[Occurrence] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        """The pattern's stable id (its signature's): what decisions about it are kept by."""
        return self.signature.id


@dataclass(frozen=True)
class Report:
    as_of: date | None
    since: date | None
    status: str
    min_weeks: int
    of_weeks: int
    patterns: list[Pattern]
