"""When a pattern's occurrences happen and how long they last: the cadence they open on, the lag after which
they close, and the most money they held open at once.

The cadence is read off the distinct days on which occurrences opened (five exceptions opened by one import
are one day, not a habit): a weekday, a day of the month or the month's last day that at least
`CADENCE_SHARE` of those days fall on, with at least `CADENCE_MIN_DAYS` days (and, for a monthly cadence, two
months) to go on. Below that there is no cadence to tell: a one-off is a one-off.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from tieout.exposure import gap
from tieout.patterns.model import Cadence, Lag, Occurrence
from tieout.rules.registry import Rule
from tieout.timeline import Episode

CADENCE_MIN_DAYS = 3
CADENCE_SHARE = Fraction(3, 4)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _month_end(d: date) -> bool:
    return (d + timedelta(days=1)).month != d.month


def cadence(first_days: Iterable[date]) -> Cadence | None:
    """The day the occurrences opening on `first_days` cluster on, if they do."""
    days = sorted(set(first_days))
    if len(days) < CADENCE_MIN_DAYS:
        return None
    months = len({(d.year, d.month) for d in days})
    found: list[tuple[Fraction, int, Cadence]] = []  # (share, preference, cadence): the rarer kind wins a tie
    weekday, on_weekday = Counter(d.weekday() for d in days).most_common(1)[0]
    found.append((Fraction(on_weekday, len(days)), 0,
                  Cadence("weekday", weekday, on_weekday, len(days), f"opens on {WEEKDAYS[weekday]}s")))
    if months >= 2:
        # the smallest day of the month among the most common ones, for a stable answer
        on_day = max(Counter(d.day for d in days).values())
        day = min(k for k, v in Counter(d.day for d in days).items() if v == on_day)
        found.append((Fraction(on_day, len(days)), 1,
                      Cadence("day_of_month", day, on_day, len(days), f"opens on the {ordinal(day)} of the month")))
        at_end = sum(1 for d in days if _month_end(d))
        found.append((Fraction(at_end, len(days)), 2,
                      Cadence("month_end", 0, at_end, len(days), "opens on the last day of the month")))
    share, _, best = max(found, key=lambda f: (f[0], f[1]))
    return best if share >= CADENCE_SHARE else None


def open_until(e: Episode) -> date:
    """The last day an episode was open: the day before it resolved — days not reconciled in between included,
    as its lag counts them — or, still open, the last day it was reported."""
    return e.resolved_on - timedelta(days=1) if e.resolved_on is not None else e.last_seen


def _cases(n: int) -> str:
    return f"{n} case{'s' if n != 1 else ''}"


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def lag(occurrences: list[Occurrence], as_of: date) -> Lag:
    """How long the occurrences stayed open: days from first seen to resolved (the first day no longer
    reported), the usual one when most closed after it, else the range."""
    n = len(occurrences)
    closed = sorted((o.episode.resolved_on - o.episode.first_seen).days
                    for o in occurrences if o.episode.resolved_on is not None)
    still = [(as_of - o.episode.first_seen).days for o in occurrences if o.episode.resolved_on is None]
    open_longest = max(still) if still else None
    if not closed:
        text = (f"has been open {_days(open_longest or 0)}" if n == 1
                else f"has not closed yet in any of {_cases(n)} (the oldest open {_days(open_longest or 0)})")
        return Lag(None, 0, 0, n, None, None, None, open_longest, text)
    counts = Counter(closed)
    most = max(counts.values())
    usual = min(d for d, c in counts.items() if c == most)
    half = len(closed) // 2  # the median, exact: the middle day, or halfway between the middle two
    median = Decimal(closed[half]) if len(closed) % 2 else Decimal(closed[half - 1] + closed[half]) / 2
    if n == 1:
        text = f"closed after {_days(usual)}"
    elif most * 2 > len(closed):
        text = f"closes after {_days(usual)} in {most} of {_cases(n)}"
    else:
        text = (f"closes after {closed[0]} to {_days(closed[-1])} (median {median.normalize():f}) in {len(closed)} "
                f"of {_cases(n)}")
    return Lag(usual, most, len(closed), n, median, closed[0], closed[-1], open_longest, text)


def peak_at_risk(occurrences: list[Occurrence], rules: Mapping[str, Rule]) -> tuple[Decimal, date | None]:
    """The largest exposure (`tieout.exposure`: each gap once, at its largest impact) the occurrences held open
    together on any day, and the first day it was reached — what the pattern costs while it is open, even when
    every occurrence has closed since. A sweep over the days occurrences open on, not a day-by-day scan."""
    by_start = sorted(occurrences, key=lambda o: o.episode.first_seen)
    ending: list[tuple[date, int]] = []  # (last day reported, index) of the occurrences open
    impacts: dict[tuple[str | None, ...], Counter[Decimal]] = {}
    keys = [gap(o.episode, rules) for o in by_start]
    total, best, best_on = Decimal(0), Decimal(0), None

    def largest(key: tuple[str | None, ...]) -> Decimal:
        held = impacts.get(key)
        return max(held) if held else Decimal(0)

    i = 0
    while i < len(by_start):
        day = by_start[i].episode.first_seen
        while ending and ending[0][0] < day:  # closed before this day
            _, k = heapq.heappop(ending)
            before = largest(keys[k])
            impacts[keys[k]][by_start[k].episode.impact] -= 1
            impacts[keys[k]] += Counter()  # drops the impacts no longer held
            total += largest(keys[k]) - before
        while i < len(by_start) and by_start[i].episode.first_seen == day:
            before = largest(keys[i])
            impacts.setdefault(keys[i], Counter())[by_start[i].episode.impact] += 1
            total += largest(keys[i]) - before
            heapq.heappush(ending, (open_until(by_start[i].episode), i))
            i += 1
        if total > best:
            best, best_on = total, day
    return best, best_on
