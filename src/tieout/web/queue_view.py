"""The queue as one person sees it: their view, the filters of the URL, and the rows in order — read once here
for the queue page, its downloads, its bulk actions and the exception page's previous / next.

Everything that decides which rows a view holds lives in `tieout.web.queue` (filters) and here (who is asking,
which pattern); the handlers only render what `read_view` returns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from fastapi import Request

from tieout.due import Due, due_of
from tieout.timeline import QueuedException
from tieout.web.auth import User
from tieout.web.queue import PAGE_ROWS, Filters, Flow, Me, flows, sort
from tieout.web.reads import Reads


def me_of(user: User) -> Me:
    return Me(user.name, user.teams)


class DueDates(Mapping[str, Due]):
    """Per shown exception (by id): its age, due date and overdue, worked out when asked for — a page reads
    its hundred rows', not the whole view's."""

    def __init__(self, shown: list[QueuedException], sla: Any, day: date | None) -> None:
        self._by_id = {e.id: e for e in shown} if day is not None else {}
        self._sla, self._day = sla, day

    def __getitem__(self, ident: str) -> Due:
        return due_of(self._by_id[ident], self._sla, self._day)

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)


@dataclass(frozen=True)
class QueueView:
    filters: Filters
    day: date | None  # the as-of day; None before anything is reconciled
    scoped: list[QueuedException]  # the day's exceptions (any status) in the view and pattern, before filters
    flows: dict[str, Flow]
    shown: list[QueuedException]  # after every filter, in the view's order
    counts: dict[str, int]  # per view ("mine", "all"): how many rows it would show with these filters
    due: Mapping[str, Due]  # per shown exception: age, due date, overdue

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
    view when the query names none (the API's is "all": a program has no queue of its own)."""
    reads: Reads = request.app.state.reads
    params = request.query_params if params is None else params
    filters = Filters.parse(params, rules=reads.rules())
    if default_view is not None and not params.getlist("view"):
        filters = replace(filters, view=default_view)
    day = filters.as_of or reads.latest()
    if day is None:
        return QueueView(filters, None, [], {}, [], {"mine": 0, "all": 0}, DueDates([], None, None))
    # Every exception of the day in the order asked for, sorted once per stored day (the order depends on the
    # store only); the filters keep that order, so nothing is sorted per request.
    every = reads.ordered(filters.as_of, filters.sort, day)
    flow = flows(reads.project, every)
    if filters.pattern:
        members = reads.pattern_members(filters.pattern, filters.as_of)
        every = [e for e in every if e.id in members]
    me = me_of(user)
    scoped = filters.in_view(every, me, flow)
    passing = filters.passing(every, day, flow)
    mine = Filters(view="mine").in_view(passing, me, flow)
    shown = mine if filters.view == "mine" else passing
    return QueueView(filters, day, scoped, flow, shown, {"mine": len(mine), "all": len(passing)},
                     DueDates(shown, reads.project.sla, day))
