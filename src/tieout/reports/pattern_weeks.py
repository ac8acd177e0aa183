"""The weekly review's view of the patterns (`tieout patterns`): per pattern, its new occurrences in the review's
week and in the week before, so the review can say which patterns recurred and which grew.

Every figure is read off one `patterns()` as of the review's last day: a pattern's id is its cause's, whatever
its episodes' classification, so its occurrences counted by their first day say when it was new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tieout.patterns import Pattern


@dataclass(frozen=True)
class PatternWeek:
    id: str
    sentence: str
    count: int  # occurrences up to the review's last day
    open: int  # of them open that day
    recurring: bool  # `tieout patterns`' flag: new occurrences in most of the last weeks
    new_this_week: int  # occurrences first seen in the review's week
    new_previous_week: int  # ... in the seven days before it
    first_seen: tuple[date, ...] = field(default=(), repr=False)  # each occurrence's first day

    @property
    def grew(self) -> bool:
        """More new occurrences this week than the week before."""
        return self.new_this_week > self.new_previous_week

    def new_between(self, first: date, last: date) -> int:
        """Occurrences first seen in [first, last]."""
        return _between(self.first_seen, first, last)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sentence": self.sentence, "count": self.count, "open": self.open,
                "recurring": self.recurring, "new_this_week": self.new_this_week,
                "new_previous_week": self.new_previous_week}


def pattern_weeks(every: list[Pattern], *, start: date, end: date) -> list[PatternWeek]:
    """Every pattern of `every` (`patterns()` as of `end`, in its order) with its new occurrences in
    [start, end] and in the seven days before `start`."""
    out = []
    for p in every:
        first_seen = tuple(sorted(o.episode.first_seen for o in p.occurrences))
        out.append(PatternWeek(
            id=p.id, sentence=p.sentence, count=p.count, open=p.open, recurring=p.recurring,
            new_this_week=_between(first_seen, start, end),
            new_previous_week=_between(first_seen, start - timedelta(days=7), start - timedelta(days=1)),
            first_seen=first_seen))
    return out


def _between(days: tuple[date, ...], first: date, last: date) -> int:
    return sum(1 for day in days if first <= day <= last)
