"""The queue as one person sees it: their view, the filters of the URL, and the rows in order — read once here
for the queue page, its downloads, its bulk actions and the exception page's previous / next.

Everything that decides which rows a view holds lives in `tieout.web.queue` (filters) and here (who is asking,
which pattern); the handlers only render what `read_view` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from fastapi import Request

from tieout.due import Due, due_of
from tieout.timeline import QueuedException
from tieout.web.auth import User
from tieout.web.queue import Filters, Flow, Me, flows, sort
from tieout.web.reads import Reads


def me_of(user: User) -> Me:
    return Me(user.name, user.teams)


@dataclass(frozen=True)
class QueueView:
    filters: Filters
    day: date | None  # the as-of day; None before anything is reconciled
    scoped: list[QueuedException]  # the day's exceptions (any status) in the view and pattern, before filters
    flows: dict[str, Flow]
    shown: list[QueuedException]  # after every filter, in the view's order
    counts: dict[str, int]  # per view ("mine", "all"): how many rows it would show with these filters
    due: dict[str, Due]  # per shown exception: age, due date, overdue

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
    every = reads.exceptions(filters.as_of) if day is not None else []
    flow = flows(reads.project, every)
    if filters.pattern:
        members = reads.pattern_members(filters.pattern, filters.as_of)
        every = [e for e in every if e.id in members]
    me = me_of(user)
    scoped = filters.in_view(every, me, flow)
    shown = filters.apply(scoped, day, flow) if day is not None else []
    counts = {"mine": len(filters.apply(Filters(view="mine").in_view(every, me, flow), day, flow)) if day else 0,
              "all": len(filters.apply(every, day, flow)) if day else 0}
    sla = reads.project.sla
    return QueueView(filters, day, scoped, flow, shown, counts,
                     {e.id: due_of(e, sla, day) for e in shown} if day is not None else {})
