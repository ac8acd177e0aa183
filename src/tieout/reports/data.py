"""Gathering for the reports: pure reads of the stored timeline, shaped as plain dataclasses.

Every report works on one as-of date that must be a stored day (a report of a day nobody reconciled would
silently show an empty queue). Money stays Decimal; dates stay dates — the renderers decide how to show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tieout.config import Project
from tieout.entity_names import EntityNames, named, names_for, stored_day_of
from tieout.entity_names import subject as subject_of
from tieout.errors import NotFound
from tieout.exposure import at_risk
from tieout.rules.registry import Rule
from tieout.severity import RANK
from tieout.store import stored_days
from tieout.timeline import Causes, Episode, causes, episodes

AGING_BUCKETS = (("0-1", 0, 1), ("2-7", 2, 7), ("8-30", 8, 30), ("over 30", 31, None))


@dataclass(frozen=True)
class Item:
    """One exception episode as the reports list it, as it stood on the report's as-of date."""

    id: str
    rule: str
    canonical_id: str | None
    source_system: str | None
    source_id: str | None
    field: str | None
    severity: str
    impact: Decimal
    team: str | None
    classification: str
    first_seen: date
    last_seen: date
    resolved_on: date | None
    episode: int  # 1 for the exception's first episode, 2 once it reopened, …
    age_days: int  # from first_seen to the as-of date (or to resolved_on once resolved)
    # the impact in the records' own currency, when that is not the reporting currency (tieout.timeline.Episode)
    original_amount: Decimal | None = None
    original_currency: str | None = None
    entity_name: str = ""  # the entity's display name on the as-of date (tieout.entity_names)

    @property
    def open(self) -> bool:
        return self.resolved_on is None

    @property
    def subject(self) -> str:
        """`Acme Inc. (C00042) · billing · legal_name`: the entity's name and id, the system, the field."""
        return subject_of(self)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "canonical_id": self.canonical_id,
                "source_system": self.source_system, "source_id": self.source_id, "field": self.field,
                "severity": self.severity, "impact": self.impact, "team": self.team,
                "classification": self.classification, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "resolved_on": self.resolved_on, "episode": self.episode,
                "age_days": self.age_days, "original_amount": self.original_amount,
                "original_currency": self.original_currency, "entity_name": self.entity_name}


def worst_first(items: list[Item]) -> list[Item]:
    """P1s first, then by money at risk; rule and id make the order the same on every run."""
    return sorted(items, key=lambda i: (RANK.get(i.severity, len(RANK)), -i.impact, i.rule, i.id))


def week_start(end: date) -> date:
    """The first of the seven calendar days a weekly review ending on `end` covers."""
    return end - timedelta(days=6)


def report_day(project: Project, as_of: date | None) -> tuple[date, list[date]]:
    """The report's as-of date (default: the latest stored day) and the stored days up to it."""
    days = stored_days(project)
    if not days:
        raise NotFound(f"{project.store_path}: nothing reconciled yet; run `tieout run --as-of DATE` first")
    if as_of is None:
        return days[-1], days
    if as_of not in days:
        raise NotFound(f"{as_of} is not a reconciled day (stored: {days[0]} to {days[-1]}, {len(days)} day(s)); "
                       f"run `tieout run --as-of {as_of}` first")
    return as_of, [d for d in days if d <= as_of]


def items_until(project: Project, rules: dict[str, Rule], as_of: date, *, found: list[Episode] | None = None,
                why: Causes | None = None, names: EntityNames | None = None) -> list[Item]:
    """Every exception episode that began on or before `as_of`, as it stood that day, classified that day.
    `found` and `why`: those episodes and their causes, when the caller has read them already; `names`: every
    name on the stored day of `as_of` (`entity_names`), when the caller has read them already."""
    found = episodes(project, until=as_of) if found is None else found
    why = causes(project, found) if why is None else why
    numbered: dict[str, int] = {}
    out = []
    for e in sorted(found, key=lambda e: (e.id, e.first_seen)):
        numbered[e.id] = numbered.get(e.id, 0) + 1
        out.append(_item(e, why.classify(e, rules, as_of), numbered[e.id], as_of))
    # named as on the as-of date, which every report and notification reads at
    if names is None:
        names = names_for(project, out, stored_day_of(project, as_of))
    return named(sorted(out, key=lambda i: (i.first_seen, i.rule, i.id)), names)


def _item(e: Episode, classification: str, number: int, as_of: date) -> Item:
    return Item(id=e.id, rule=e.rule, canonical_id=e.canonical_id, source_system=e.source_system,
                source_id=e.source_id, field=e.field, severity=e.severity, impact=e.impact, team=e.team,
                classification=classification, first_seen=e.first_seen, last_seen=e.last_seen,
                resolved_on=e.resolved_on, episode=number, age_days=((e.resolved_on or as_of) - e.first_seen).days,
                original_amount=e.original_amount, original_currency=e.original_currency)


def open_on(items: list[Item], day: date) -> list[Item]:
    """The episodes open on stored `day`: begun by then and not resolved by then."""
    return [i for i in items if i.first_seen <= day and (i.resolved_on is None or i.resolved_on > day)]


@dataclass(frozen=True)
class Changes:
    """What happened to a team's exceptions in the window (after, through]: episodes begun — the exception's
    first (`new`) or a later one (`reopened`) — and episodes resolved. Events are dated on stored days, so a
    window whose ends are stored days loses nothing to days that were never run or were run out of order."""

    after: date | None  # exclusive; None: from the first stored day
    through: date  # inclusive
    new: list[Item]
    reopened: list[Item]
    resolved: list[Item]


def changes(items: list[Item], after: date | None, through: date) -> Changes:
    """The episodes of `items` begun or resolved in (after, through], each list worst first."""
    def inside(day: date | None) -> bool:
        return day is not None and (after is None or day > after) and day <= through

    begun = [i for i in items if inside(i.first_seen)]
    return Changes(after, through,
                   new=worst_first([i for i in begun if i.episode == 1]),
                   reopened=worst_first([i for i in begun if i.episode > 1]),
                   resolved=worst_first([i for i in items if inside(i.resolved_on)]))


def previous_stored_day(days: list[date], day: date) -> date | None:
    """The stored day before `day`, None when `day` is the first."""
    earlier = [d for d in days if d < day]
    return earlier[-1] if earlier else None


def aging(items: list[Item], as_of: date, rules: dict[str, Rule]) -> list[dict[str, Any]]:
    """Open items by age in days on `as_of`: 0–1, 2–7, 8–30, over 30."""
    out = []
    for name, low, high in AGING_BUCKETS:
        inside = [i for i in items if (as_of - i.first_seen).days >= low
                  and (high is None or (as_of - i.first_seen).days <= high)]
        out.append({"bucket": name, "open": len(inside), "money_at_risk": at_risk(inside, rules)})
    return out


def mean(values: list[int]) -> Decimal | None:
    """The mean of whole numbers (days, customers) to one decimal (round half up), None for no values."""
    if not values:
        return None
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")


def by_team(items: list[Item], team: str | None) -> list[Item]:
    return items if team is None else [i for i in items if i.team == team]


def corrections_between(project: Project, start: date, end: date, names: EntityNames) -> list[dict[str, Any]]:
    """The hand corrections (`tieout correct`) recorded on business days `start` to `end`, oldest first, each
    with its entity's name from `names`."""
    from tieout.corrections import corrections_for  # SQLAlchemy only when asked

    return [{"recorded_at": c.recorded_at, "recorded_on": c.recorded_on(project.timezone),
             "canonical_id": c.canonical_id, "entity_name": names.name(c.canonical_id), "system": c.system,
             "field": c.field, "source_id": c.source_id, "old_value": c.old_value, "new_value": c.new_value,
             "reason": c.reason, "who": c.who, "ticket": c.ticket, "seq": c.seq}
            for c in corrections_for(project, until=end) if c.recorded_on(project.timezone) >= start]
