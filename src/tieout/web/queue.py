"""The queue's filters, facet counts and sort orders — shared by the queue page and `GET /api/exceptions`.

Every filter is a plain query-string parameter (repeatable for the multi-valued ones), so a filtered queue
is a link: bookmarkable, shareable, and usable without JavaScript. A facet's counts are taken with every
other filter applied, so each number says how many rows clicking that value would show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from tieout.config import SEVERITIES, Project
from tieout.entity_names import exception_text, fold, matches
from tieout.severity import RANK
from tieout.timeline import STATUSES, QueuedException

if TYPE_CHECKING:
    from tieout.workflow.core import Status, Target

CLASSIFICATIONS = ("pending", "structural", "timing", "ownership")
# Days from first seen to the as-of day (or to resolved_on, for a resolved exception): lower, upper bound.
AGE_BUCKETS: dict[str, tuple[int, int | None]] = {"0-1": (0, 1), "2-7": (2, 7), "8-30": (8, 30), "31+": (31, None)}
AGE_LABELS = {"0-1": "0–1 days", "2-7": "2–7 days", "8-30": "8–30 days", "31+": "> 30 days"}
SORTS = {"impact": "impact, largest first", "severity": "severity, then impact", "age": "age, oldest first",
         "newest": "first seen, newest first"}
MULTI = ("workflow", "severity", "team", "rule", "classification", "age")
# Where each exception stands in the workflow (tieout.workflow): the queue's Workflow column and filter. An
# exception nobody acted on (in its current episode) is `open`; a suppression waiting for its second person is
# `pending_approval`, whatever the status beside it.
WORKFLOW_STATES = {"open": "not acted on", "acknowledged": "acknowledged", "assigned": "assigned",
                   "pending_approval": "pending approval", "suppressed": "suppressed", "resolved": "marked resolved"}
# Whose work the queue shows: "mine" (the default) is the signed-in user's teams, assigned to them or to nobody;
# "all" is every team's. A user with no team (an admin, an approver) sees, as theirs, what is assigned to them
# or to nobody, across teams.
VIEWS = {"mine": "my queue", "all": "all teams"}


PATTERN_ID = re.compile(r"^[0-9a-f]{12}$")
# Rows a queue page shows: a day at a million companies has tens of thousands of open exceptions, and a page of
# them all would take seconds to render and to read (a row costs ~0.1 ms to render: 50 keep a page near 5 ms).
PAGE_ROWS = 50
Check = Callable[[QueuedException], bool]


class BadFilter(ValueError):
    """A query parameter the queue does not understand: named, with what it accepts."""


def count(name: str, text: str, *, least: int = 0) -> int:
    """A whole-number query parameter (a page, a limit, an offset) of at least `least`, or a BadFilter."""
    if not text.isdigit() or int(text) < least:
        raise BadFilter(f"{name}: {text!r} is not a whole number of at least {least}")
    return int(text)


def parse_as_of(text: str | None) -> date | None:
    """An `as_of` query parameter: None when absent or blank, else a YYYY-MM-DD date or a BadFilter."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"as_of: {text!r} is not a date as YYYY-MM-DD") from None


@dataclass(frozen=True)
class Flow:
    """One exception's workflow, as the queue shows and filters it."""

    state: str = "open"  # one of WORKFLOW_STATES
    assignee: str | None = None
    suppressed_until: date | None = None
    version: int = 0  # what a bulk action names as its expected version (tieout.workflow's optimistic check)

    @property
    def label(self) -> str:
        return WORKFLOW_STATES[self.state]


NO_FLOW = Flow()
Flows = Mapping[str, Flow]


def flow_of(st: Status) -> Flow:
    state = "pending_approval" if st.pending is not None else st.status
    return Flow(state if state in WORKFLOW_STATES else "open", st.assignee, st.suppressed_until, st.version)


def flows(project: Project, found: Iterable[QueuedException] | Mapping[str, QueuedException]) -> dict[str, Flow]:
    """The workflow of each exception anybody acted on, by id (the others have NO_FLOW): read afresh for every
    request — it changes with every action, unlike the store's cached readings."""
    from tieout.workflow import statuses

    return {ident: flow_of(st) for ident, st in statuses(project, _Targets(found)).items()}


class _Targets(Mapping[str, "Target"]):
    """The exceptions by id as workflow targets, each made when the workflow asks for it (only the few acted on)."""

    def __init__(self, found: Iterable[QueuedException] | Mapping[str, QueuedException]) -> None:
        self._by_id = found if isinstance(found, Mapping) else {e.id: e for e in found}

    def __getitem__(self, ident: str) -> Target:
        from tieout.workflow import target_of

        return target_of(self._by_id[ident])

    def __contains__(self, ident: object) -> bool:
        return ident in self._by_id

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)


def age(e: QueuedException, as_of: date) -> int:
    """Days the exception has been open: to `as_of`, or to the day it resolved."""
    return ((e.resolved_on or as_of) - e.first_seen).days


def age_bucket(days: int) -> str:
    for name, (low, high) in AGE_BUCKETS.items():
        if days >= low and (high is None or days <= high):
            return name
    return "0-1"  # only a negative age (as_of before first_seen), which `exceptions` never returns


@dataclass(frozen=True)
class Me:
    """Whose queue "my queue" is: a user's name and teams."""

    name: str
    teams: tuple[str, ...] = ()

    def owns(self, e: QueuedException, flow: Flow) -> bool:
        """In my queue: routed to one of my teams (any team, when I have none), and assigned to me or to nobody."""
        return (not self.teams or e.team in self.teams) and flow.assignee in (None, self.name)


@dataclass(frozen=True)
class Filters:
    view: str = "mine"
    status: str = "open"
    workflow: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    age: tuple[str, ...] = ()
    q: str = ""
    sort: str = "impact"
    as_of: date | None = None
    pattern: str = ""  # a `tieout patterns` signature id: only that pattern's exceptions
    page: int = 1  # which PAGE_ROWS rows of the view the queue page shows (1-based; the API takes limit/offset)

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
                 "rule": tuple(rules), "workflow": tuple(WORKFLOW_STATES)}
        got = {name: many(name) for name in MULTI}
        for name, allowed in known.items():
            bad = [v for v in got[name] if v not in allowed]
            if bad:
                raise BadFilter(f"{name}: unknown value {bad[0]!r} (expected one of {', '.join(allowed)})")
        status, sort, view = one("status", "open"), one("sort", "impact"), one("view", "mine")
        if view not in VIEWS:
            raise BadFilter(f"view: unknown value {view!r} (expected one of {', '.join(VIEWS)})")
        if status not in STATUSES:
            raise BadFilter(f"status: unknown value {status!r} (expected one of {', '.join(STATUSES)})")
        if sort not in SORTS:
            raise BadFilter(f"sort: unknown value {sort!r} (expected one of {', '.join(SORTS)})")
        pattern = one("pattern", "").strip()
        if pattern and not PATTERN_ID.match(pattern):
            raise BadFilter(f"pattern: {pattern!r} is not a pattern id (12 hex digits, as `tieout patterns` shows)")
        return cls(view=view, status=status, q=one("q", "").strip(), sort=sort, as_of=parse_as_of(one("as_of", "")),
                   pattern=pattern, page=count("page", one("page", "1"), least=1), **got)

    def in_view(self, found: Iterable[QueuedException], me: Me | None, flows: Flows | None = None
                ) -> list[QueuedException]:
        """`found` narrowed to the view: all of it for "all" (or nobody to call "me"), else `me`'s queue.
        Applied before the other filters, so the facets count within the view."""
        if self.view == "all" or me is None:
            return list(found)
        return [e for e in found if me.owns(e, (flows or {}).get(e.id, NO_FLOW))]

    # --- applying ----------------------------------------------------------------------------------------

    def checks(self, as_of: date, flows: Flows | None = None) -> list[tuple[str, Check]]:
        """The filters in force, by name, each a test of one exception; a filter not in force is left out (it
        passes everything). Built once per request: the queue runs them over every exception of the day.
        `flows`: the workflow of the exceptions anybody acted on, by id."""
        acted = flows or {}
        tests: list[tuple[str, Check]] = []
        if self.status != "all":
            tests.append(("status", lambda e: e.status == self.status))
        if self.workflow:
            tests.append(("workflow", lambda e: acted.get(e.id, NO_FLOW).state in self.workflow))
        for name in ("severity", "team", "rule", "classification"):
            if getattr(self, name):
                tests.append((name, _attribute_in(name, getattr(self, name))))
        if self.age:
            tests.append(("age", lambda e: age_bucket(age(e, as_of)) in self.age))
        if self.q:
            tests.append(("q", lambda e: matches(self.q, _haystack(e, acted.get(e.id, NO_FLOW)))))
        return tests

    def matches(self, e: QueuedException, as_of: date, *, ignore: str | None = None,
                flows: Flows | None = None) -> bool:
        """Whether `e` passes every filter but `ignore` (a facet whose counts are being taken)."""
        return all(test(e) for name, test in self.checks(as_of, flows) if name != ignore)

    def passing(self, found: Iterable[QueuedException], as_of: date, flows: Flows | None = None
                ) -> list[QueuedException]:
        """`found` narrowed by every filter, in its own order."""
        tests = [test for _, test in self.checks(as_of, flows)]
        return [e for e in found if all(test(e) for test in tests)]

    def apply(self, found: Sequence[QueuedException], as_of: date, flows: Flows | None = None) -> list[QueuedException]:
        return sort(self.sort, self.passing(found, as_of, flows), as_of)

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
        changes: dict[str, Any] = {facet: value, "page": 1}  # other rows: back to the first page
        if facet in MULTI:
            current: tuple[str, ...] = getattr(self, facet)
            changes[facet] = tuple(v for v in current if v != value) if value in current else (*current, value)
        return replace(self, **changes)

    def cleared(self, facet: str) -> Filters:
        return replace(self, **{facet: getattr(Filters(), facet), "page": 1})

    def at_page(self, page: int) -> Filters:
        return replace(self, page=page)


@dataclass(frozen=True)
class FacetLinks:
    """The query strings of the facets' links, HTML-escaped (so a template prints them as they are): per facet,
    `cleared[name]` is `filters.cleared(name).query()` and `toggled[name][value]` is `filters.toggled(name,
    value).query()` — the very same text, without a Filters copied and URL-encoded whole for every value."""

    cleared: dict[str, Markup]
    toggled: dict[str, dict[str, Markup]]


def facet_links(filters: Filters, found: Iterable[Facet]) -> FacetLinks:
    """`FacetLinks` of `found` (tieout.web.queue.facets) under `filters`. A link's query is `params()` with the
    facet's field changed and the page back to 1 (the default, so left out): the fields before and after the
    facet are encoded once, and only the facet's own pairs per value."""
    pairs = dict.fromkeys(f.name for f in fields(Filters))
    encoded: dict[str, str] = {}
    for name, value in replace(filters, page=1).params():
        piece = urlencode([(name, value)])
        encoded[name] = f"{encoded[name]}&{piece}" if name in encoded else piece

    def query(name: str, own: str) -> Markup:
        parts = [own if n == name else encoded.get(n, "") for n in pairs]
        text = "&".join(p for p in parts if p)
        return escape("?" + text if text else "")

    default = Filters()
    cleared: dict[str, Markup] = {}
    toggled: dict[str, dict[str, Markup]] = {}
    for facet in found:
        name = facet.name
        current = getattr(filters, name)
        cleared[name] = query(name, "")
        links: dict[str, Markup] = {}
        for value, *_ in facet.values:
            if name in MULTI:
                chosen = tuple(v for v in current if v != value) if value in current else (*current, value)
                own = urlencode([(name, v) for v in chosen])
            else:
                own = "" if value == getattr(default, name) else urlencode([(name, value)])
            links[value] = query(name, own)
        toggled[name] = links
    return FacetLinks(cleared, toggled)


def _attribute_in(name: str, wanted: tuple[str, ...]) -> Check:
    return lambda e: getattr(e, name) in wanted


def _haystack(e: QueuedException, flow: Flow) -> str:
    """What the search box looks in: the exception's own fields, its entity's names, ids, domains and tax ids
    (tieout.entity_names), and its assignee — folded, so any case and accents match."""
    return f"{exception_text(e)} {fold(flow.assignee)}"


def sort(order: str, found: list[QueuedException], as_of: date) -> list[QueuedException]:
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


def facets(filters: Filters, found: Sequence[QueuedException], as_of: date, flows: Flows | None = None) -> list[Facet]:
    """Per filter, each value with how many exceptions it would show. Values come from every exception of
    the as-of day (any status), so the choices stay put as filters change."""
    def values_of(name: str) -> list[tuple[str, str]]:
        if name == "status":
            return [(s, s) for s in STATUSES]
        if name == "workflow":
            return list(WORKFLOW_STATES.items())
        if name == "severity":
            return [(s, s) for s in SEVERITIES]
        if name == "classification":
            return [(c, c) for c in CLASSIFICATIONS]
        if name == "age":
            return list(AGE_LABELS.items())
        present = sorted({getattr(e, name) for e in found if getattr(e, name)})
        return [(v, v) for v in present]

    def value_of(e: QueuedException, name: str) -> str:
        if name == "workflow":
            return (flows or {}).get(e.id, NO_FLOW).state
        return age_bucket(age(e, as_of)) if name == "age" else str(getattr(e, name))

    labels = {"status": "Status", "workflow": "Workflow", "severity": "Severity", "team": "Team", "rule": "Rule",
              "classification": "Classification", "age": "Age"}
    # One pass: an exception that passes every filter counts in every facet; one that fails a single filter
    # counts in that filter's facet only (its counts ignore that filter); failing two, in none.
    tests = filters.checks(as_of, flows)
    tally: dict[str, dict[str, int]] = {name: {} for name in labels}
    for e in found:
        failed: str | None = None
        for name, test in tests:
            if not test(e):
                if failed is not None:
                    break
                failed = name
        else:
            for name in (labels if failed is None else (failed,) if failed in labels else ()):
                counts = tally[name]
                value = value_of(e, name)
                counts[value] = counts.get(value, 0) + 1
    out = []
    for name, label in labels.items():
        counts = tally[name]
        if name == "status":
            counts["all"] = sum(counts.values())
        chosen = (filters.status,) if name == "status" else getattr(filters, name)
        out.append(Facet(name, label, [(v, text, counts.get(v, 0), v in chosen) for v, text in values_of(name)]))
    return out

