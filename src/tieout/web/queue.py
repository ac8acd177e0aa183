"""The queue's filters, facet counts and sort orders — shared by the queue page and `GET /api/exceptions`.

Every filter is a plain query-string parameter (repeatable for the multi-valued ones), so a filtered queue
is a link: bookmarkable, shareable, and usable without JavaScript. A facet's counts are taken with every
other filter applied, so each number says how many rows clicking that value would show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from tieout.config import SEVERITIES
from tieout.severity import RANK
from tieout.timeline import STATUSES, Exception_

CLASSIFICATIONS = ("pending", "structural", "timing", "ownership")
# Days from first seen to the as-of day (or to resolved_on, for a resolved exception): lower, upper bound.
AGE_BUCKETS: dict[str, tuple[int, int | None]] = {"0-1": (0, 1), "2-7": (2, 7), "8-30": (8, 30), "31+": (31, None)}
AGE_LABELS = {"0-1": "0–1 days", "2-7": "2–7 days", "8-30": "8–30 days", "31+": "> 30 days"}
SORTS = {"impact": "impact, largest first", "severity": "severity, then impact", "age": "age, oldest first",
         "newest": "first seen, newest first"}
MULTI = ("severity", "team", "rule", "classification", "age")


class BadFilter(ValueError):
    """A query parameter the queue does not understand: named, with what it accepts."""


def age(e: Exception_, as_of: date) -> int:
    """Days the exception has been open: to `as_of`, or to the day it resolved."""
    return ((e.resolved_on or as_of) - e.first_seen).days


def age_bucket(days: int) -> str:
    for name, (low, high) in AGE_BUCKETS.items():
        if days >= low and (high is None or days <= high):
            return name
    return "0-1"  # only a negative age (as_of before first_seen), which `exceptions` never returns


@dataclass(frozen=True)
class Filters:
    status: str = "open"
    severity: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    age: tuple[str, ...] = ()
    q: str = ""
    sort: str = "impact"
    as_of: date | None = None

    @classmethod
    def parse(cls, params: Any, *, rules: Iterable[str]) -> Filters:
        """From a query string (anything with `getlist`, like Starlette's QueryParams). Empty values are
        ignored, as a form's blank choice sends them; anything unknown is a BadFilter."""
        def many(name: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v for v in params.getlist(name) if v))

        def one(name: str, default: str) -> str:
            values = [v for v in params.getlist(name) if v]
            return values[-1] if values else default

        known = {"severity": SEVERITIES, "classification": CLASSIFICATIONS, "age": tuple(AGE_BUCKETS),
                 "rule": tuple(rules)}
        got = {name: many(name) for name in MULTI}
        for name, allowed in known.items():
            bad = [v for v in got[name] if v not in allowed]
            if bad:
                raise BadFilter(f"{name}: unknown value {bad[0]!r} (expected one of {', '.join(allowed)})")
        status, sort = one("status", "open"), one("sort", "impact")
        if status not in STATUSES:
            raise BadFilter(f"status: unknown value {status!r} (expected one of {', '.join(STATUSES)})")
        if sort not in SORTS:
            raise BadFilter(f"sort: unknown value {sort!r} (expected one of {', '.join(SORTS)})")
        as_of_text = one("as_of", "")
        try:
            as_of = date.fromisoformat(as_of_text) if as_of_text else None
        except ValueError:
            raise BadFilter(f"as_of: {as_of_text!r} is not a date as YYYY-MM-DD") from None
        return cls(status=status, q=one("q", "").strip(), sort=sort, as_of=as_of, **got)

    # --- applying ----------------------------------------------------------------------------------------

    def matches(self, e: Exception_, as_of: date, *, ignore: str | None = None) -> bool:
        """Whether `e` passes every filter but `ignore` (a facet whose counts are being taken)."""
        checks = {
            "status": self.status == "all" or e.status == self.status,
            "severity": not self.severity or e.severity in self.severity,
            "team": not self.team or e.team in self.team,
            "rule": not self.rule or e.rule in self.rule,
            "classification": not self.classification or e.classification in self.classification,
            "age": not self.age or age_bucket(age(e, as_of)) in self.age,
            "q": not self.q or self.q.lower() in _haystack(e),
        }
        return all(ok for name, ok in checks.items() if name != ignore)

    def apply(self, found: Sequence[Exception_], as_of: date) -> list[Exception_]:
        return sort(self.sort, [e for e in found if self.matches(e, as_of)], as_of)

    # --- links -------------------------------------------------------------------------------------------

    def params(self) -> list[tuple[str, str]]:
        """The query string's pairs, defaults left out so links stay short."""
        out: list[tuple[str, str]] = []
        default = Filters()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if isinstance(value, tuple):
                out += [(f.name, v) for v in value]
            else:
                out.append((f.name, value.isoformat() if isinstance(value, date) else str(value)))
        return out

    def query(self) -> str:
        params = self.params()
        return "?" + urlencode(params) if params else ""

    def toggled(self, facet: str, value: str) -> Filters:
        """These filters with `value` of `facet` switched on or off (status and sort take one value)."""
        changes: dict[str, Any] = {facet: value}
        if facet in MULTI:
            current: tuple[str, ...] = getattr(self, facet)
            changes[facet] = tuple(v for v in current if v != value) if value in current else (*current, value)
        return replace(self, **changes)

    def cleared(self, facet: str) -> Filters:
        return replace(self, **{facet: getattr(Filters(), facet)})


def _haystack(e: Exception_) -> str:
    return " ".join(str(x) for x in (e.id, e.rule, e.canonical_id, e.source_system, e.source_id, e.field, e.team,
                                     e.details) if x).lower()


def sort(order: str, found: list[Exception_], as_of: date) -> list[Exception_]:
    keys = {
        "impact": lambda e: (-e.impact, RANK[e.severity], e.rule, e.id),
        "severity": lambda e: (RANK[e.severity], -e.impact, e.rule, e.id),  # `tieout exceptions`' order
        "age": lambda e: (-age(e, as_of), RANK[e.severity], -e.impact, e.id),
        "newest": lambda e: (-e.first_seen.toordinal(), RANK[e.severity], -e.impact, e.id),
    }
    return sorted(found, key=keys[order])


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: list[tuple[str, str, int, bool]]  # value, label, count with the other filters, selected


def facets(filters: Filters, found: Sequence[Exception_], as_of: date) -> list[Facet]:
    """Per filter, each value with how many exceptions it would show. Values come from every exception of
    the as-of day (any status), so the choices stay put as filters change."""
    def values_of(name: str) -> list[tuple[str, str]]:
        if name == "status":
            return [(s, s) for s in STATUSES]
        if name == "severity":
            return [(s, s) for s in SEVERITIES]
        if name == "classification":
            return [(c, c) for c in CLASSIFICATIONS]
        if name == "age":
            return list(AGE_LABELS.items())
        present = sorted({getattr(e, name) for e in found if getattr(e, name)})
        return [(v, v) for v in present]

    def value_of(e: Exception_, name: str) -> str:
        return age_bucket(age(e, as_of)) if name == "age" else str(getattr(e, name))

    out = []
    labels = {"status": "Status", "severity": "Severity", "team": "Team", "rule": "Rule",
              "classification": "Classification", "age": "Age"}
    for name, label in labels.items():
        rest = [e for e in found if filters.matches(e, as_of, ignore=name)]
        counts: dict[str, int] = {}
        for e in rest:
            counts[value_of(e, name)] = counts.get(value_of(e, name), 0) + 1
        if name == "status":
            counts["all"] = len(rest)
        chosen = (filters.status,) if name == "status" else getattr(filters, name)
        out.append(Facet(name, label, [(v, text, counts.get(v, 0), v in chosen) for v, text in values_of(name)]))
    return out


def total_impact(found: Iterable[Exception_]) -> Decimal:
    return sum((e.impact for e in found), Decimal(0))
