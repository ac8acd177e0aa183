"""A pattern's occurrences on a calendar strip: one cell per day of whole ISO weeks, Monday to Sunday, each
saying how many occurrences opened that day and how many were open — so a weekday cadence shows as a row and
a lag as the run of open days after it. Counted with a running sum over the occurrences, not day by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tieout.patterns.model import Pattern
from tieout.patterns.timing import open_until


@dataclass(frozen=True)
class StripDay:
    day: date
    opened: int  # occurrences first seen that day
    open: int  # occurrences open that day: from the first day to the day before it resolved (opened included)
    future: bool  # after the as-of date: nothing is known yet


def strip(p: Pattern, start: date, end: date, as_of: date) -> list[StripDay]:
    """The days from the Monday of `start`'s week to the Sunday of `end`'s."""
    first = start - timedelta(days=start.weekday())
    last = end + timedelta(days=6 - end.weekday())
    span = (last - first).days + 1
    opened = [0] * span
    change = [0] * (span + 1)  # +1 where an occurrence starts being open, -1 the day after its last
    for o in p.occurrences:
        e = o.episode
        until = open_until(e)
        if until < first or e.first_seen > last:
            continue
        if e.first_seen >= first:
            opened[(e.first_seen - first).days] += 1
        change[(max(e.first_seen, first) - first).days] += 1
        change[(min(until, last) - first).days + 1] -= 1
    out, running = [], 0
    for k in range(span):
        running += change[k]
        day = first + timedelta(days=k)
        out.append(StripDay(day, opened[k], running, day > as_of))
    return out
