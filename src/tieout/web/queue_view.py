"""The queue as one person sees it: their view, the filters of the URL, and the rows in order — read once here
for the queue page, its downloads, its bulk actions and the exception page's previous / next.

Everything that decides which rows a view holds lives in `tieout.web.queue` (filters) and here (who is asking,
which pattern); the handlers only render what `read_view` returns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import Request

from tieout.due import Due, due_of
from tieout.exposure import at_risk
from tieout.timeline import QueuedException
from tieout.web.auth import User
from tieout.web.queue import PAGE_ROWS, Facet, Filters, Flow, Me, facets, flows, sort
from tieout.web.reads import Reads


def me_of(user: User) -> Me:
    return Me(user.name, user.teams)


class DueDates(Mapping[str, Due]):
    """Per shown exception (by id): its age, due date and overdue, worked out when asked for — a page reads
    its hundred rows', not the whole view's."""

    def __init__(self, shown: list[QueuedException], every: Mapping[str, QueuedException], sla: Any,
                 day: date | None) -> None:
        self._shown, self._every, self._sla, self._day = shown, every, sla, day

    def __getitem__(self, ident: str) -> Due:
        if self._day is None:
            raise KeyError(ident)
        return due_of(self._every[ident], self._sla, self._day)  # only the shown ids are asked for

    def __iter__(self) -> Iterator[str]:
        return (e.id for e in self._shown)

    def __len__(self) -> int:
        return len(self._shown)


@dataclass(frozen=True)
class QueueView:
    filters: Filters
    day: date | None  # the as-of day; None before anything is reconciled
    every: list[QueuedException]  # the day's exceptions (any status) in the pattern, in the view's order
    flows: dict[str, Flow]
    shown: list[QueuedException]  # after every filter, in the view's order
    counts: dict[str, int]  # per view ("mine", "all"): how many rows it would show with these filters
    due: Mapping[str, Due]  # per shown exception: age, due date, overdue
    me: Me | None = None
    basis: tuple[Any, ...] = ()  # what its rows depend on besides the store: the key of its cached parts

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.shown) // PAGE_ROWS))

    @property
    def rows(self) -> list[QueuedException]:
        """The rows of the page asked for (`filters.page`): what the queue page lists."""
        start = (self.filters.page - 1) * PAGE_ROWS
        return self.shown[start:start + PAGE_ROWS]

    def neighbours(self, ident: str, current: QueuedException | None) -> tuple[str | None, str | None, int | None]:
        """The exceptions before and after `ident` in this view's order, and its position (1-based; None when
        it is not in the view — after an action moved it out, its neighbours are where it would sort)."""
        ids = [e.id for e in self.shown]
        if ident in ids:
            at = ids.index(ident)
            return (ids[at - 1] if at else None, ids[at + 1] if at + 1 < len(ids) else None, at + 1)
        if current is None or self.day is None:
            return None, None, None
        placed = [e.id for e in sort(self.filters.sort, [*self.shown, current], self.day)]
        at = placed.index(ident)
        return (placed[at - 1] if at else None, placed[at + 1] if at + 1 < len(placed) else None, None)


def read_view(request: Request, user: User, params: Any = None, *, default_view: str | None = None) -> QueueView:
    """The queue `user` asked for with `params` (default: the request's query string). `default_view`: the
    view when the query names none (the API's is "all": a program has no queue of its own).

    Twenty people on a queue of tens of thousands of exceptions: what a view's rows depend on — the day, the
    filters and everybody's workflow — is the key of its cached parts (`Reads.view_part`), so a request works out
    only what is its own: the few rows assigned to somebody else are taken out of its team's."""
    reads: Reads = request.app.state.reads
    params = request.query_params if params is None else params
    filters = Filters.parse(params, rules=reads.rules())
    if default_view is not None and not params.getlist("view"):
        filters = replace(filters, view=default_view)
    day = filters.as_of or reads.latest()
    if day is None:
        return QueueView(filters, None, [], {}, [], {"mine": 0, "all": 0}, DueDates([], {}, None, None))
    # Every exception of the day in the order asked for, sorted once per stored day (the order depends on the
    # store only); the filters keep that order, so nothing is sorted per request.
    every = reads.ordered(filters.as_of, filters.sort, day)
    flow = flows(reads.project, reads.by_id(filters.as_of))
    if filters.pattern:
        members = reads.pattern_members(filters.pattern, filters.as_of)
        every = [e for e in every if e.id in members]
    basis = (replace(filters, page=1, view="all"), day, frozenset(flow.items()))
    me = me_of(user)
    passing = reads.view_part(("passing", basis), lambda: filters.passing(every, day, flow))
    mine = _mine(reads, basis, "passing", passing, me, flow)
    shown = mine if filters.view == "mine" else passing
    return QueueView(filters, day, every, flow, shown, {"mine": len(mine), "all": len(passing)},
                     DueDates(shown, reads.by_id(filters.as_of), reads.project.sla, day), me, basis)


def _assigned_elsewhere(me: Me, flow: dict[str, Flow]) -> frozenset[str]:
    return frozenset(ident for ident, f in flow.items() if f.assignee not in (None, me.name))


def _mine(reads: Reads, basis: tuple[Any, ...], which: str, rows: list[QueuedException], me: Me,
          flow: dict[str, Flow]) -> list[QueuedException]:
    """`rows` (`which` of the view's lists: "passing" its filters, or "every" one) in `me`'s queue (`Me.owns`):
    those of my teams (shared by the team), less the few assigned to somebody else."""
    ours = rows if not me.teams else reads.view_part(("teams", which, basis, me.teams),
                                                     lambda: [e for e in rows if e.team in me.teams])
    elsewhere = _assigned_elsewhere(me, flow)
    return [e for e in ours if e.id not in elsewhere] if elsewhere else ours


def view_facets(request: Request, view: QueueView) -> list[Facet]:
    """The queue page's facets for `view` (tieout.web.queue.facets over the view's exceptions before filters),
    cached with the view's parts: the same for everybody with the same teams and the same rows assigned elsewhere."""
    if view.day is None or view.me is None:
        return []
    reads: Reads = request.app.state.reads
    me, day, flow = view.me, view.day, view.flows
    mine = view.filters.view == "mine"
    return reads.view_part(("facets", view.basis, *view_whose(view)), lambda: facets(
        view.filters, _mine(reads, view.basis, "every", view.every, me, flow) if mine else view.every, day, flow))


def view_whose(view: QueueView) -> tuple[Any, ...]:
    """What, besides its basis, decides which rows a view shows: for "my queue", my teams and the rows
    assigned to somebody else; nothing for "all teams"."""
    if view.filters.view != "mine" or view.me is None:
        return ("all",)
    return ("mine", view.me.teams, _assigned_elsewhere(view.me, view.flows))


def view_at_risk(request: Request, view: QueueView) -> tuple[Decimal, int]:
    """The money at risk of the open exceptions the view shows (each gap once, tieout.exposure) and how many
    they are, cached with the view's parts."""
    reads: Reads = request.app.state.reads

    def read() -> tuple[Decimal, int]:
        still = [e for e in view.shown if e.status == "open"]
        return at_risk(still, reads.rules()), len(still)

    return reads.view_part(("at_risk", view.basis, *view_whose(view)), read)
