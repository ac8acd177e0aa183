"""The weekly review's view of the patterns (`tieout patterns`): per pattern, its new occurrences in the review's
week and in the week before, so the review can say which patterns recurred and which grew.

Every figure is read off `patterns()` as of the review's last day, once over all episodes and once over those
first seen since a day (`since`): the same episodes classified on the same day, so a pattern has the same id in
each reading and the counts subtract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tieout.config import Project
from tieout.patterns import Pattern, patterns
from tieout.rules.registry import Rule
from tieout.timeline import Causes, Episode


def pattern_id(p: Pattern) -> str:
    """The pattern's stable id. Patterns by cause (issue 16, item 4) give a pattern an `id` of its own; a
    pattern without one is named by its signature's, as `tieout patterns` shows it."""
    own = getattr(p, "id", None)
    return own if isinstance(own, str) else p.signature.id


@dataclass(frozen=True)
class PatternWeek:
    id: str
    sentence: str
    count: int  # occurrences up to the review's last day
    open: int  # of them open that day
    recurring: bool  # `tieout patterns`' flag: new occurrences in most of the last weeks
    new_this_week: int  # occurrences first seen in the review's week
    new_previous_week: int  # ... in the seven days before it

    @property
    def grew(self) -> bool:
        """More new occurrences this week than the week before."""
        return self.new_this_week > self.new_previous_week

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sentence": self.sentence, "count": self.count, "open": self.open,
                "recurring": self.recurring, "new_this_week": self.new_this_week,
                "new_previous_week": self.new_previous_week}


def counts_since(project: Project, rules: dict[str, Rule], *, as_of: date, since: date,
                 found: list[Episode] | None = None, why: Causes | None = None) -> dict[str, int]:
    """Per pattern id (as of `as_of`), its occurrences first seen on or after `since`."""
    if since > as_of:
        return {}
    report = patterns(project, rules, as_of=as_of, since=since, found=found, why=why)
    return {pattern_id(p): p.count for p in report.patterns}


def pattern_weeks(project: Project, rules: dict[str, Rule], *, start: date, end: date, found: list[Episode],
                  why: Causes) -> list[PatternWeek]:
    """Every pattern as of `end`, in `tieout patterns`' order, with its new occurrences in [start, end] and in
    the seven days before `start`. `found` and `why`: every episode up to `end` and their causes."""
    every = patterns(project, rules, as_of=end, found=found, why=why).patterns
    this_week = counts_since(project, rules, as_of=end, since=start, found=found, why=why)
    two_weeks = counts_since(project, rules, as_of=end, since=start - timedelta(days=7), found=found, why=why)
    out = []
    for p in every:
        key = pattern_id(p)
        new = this_week.get(key, 0)
        out.append(PatternWeek(id=key, sentence=p.sentence, count=p.count, open=p.open, recurring=p.recurring,
                               new_this_week=new, new_previous_week=two_weeks.get(key, 0) - new))
    return out
