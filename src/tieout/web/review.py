"""The weekly review on the web: the week's report (tieout.reports.weekly) and, per pattern, a form to record the
team's decision — an owner, an action, a due date — beside what became of the decisions of earlier reviews
(tieout.reports.decisions: the same roles and audit as `tieout review`). Every POST goes through `writer`
(session + CSRF); the page only hides the forms from a user who may not use them.

    GET  /review                              the review of the week ending on the latest reconciled day
    GET  /review?as_of=DATE                   ... ending on DATE (a reconciled day)
    POST /review/decisions                    record a decision (form: pattern, week, owner, action, due)
    POST /review/decisions/{ref}/{status}     mark a decision (D-n) done or dropped (form: note)
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tieout.errors import BadArgument
from tieout.web.auth import CurrentUser, Writer, current_user
from tieout.web.queue import parse_as_of

router = APIRouter(dependencies=[Depends(current_user)], default_response_class=HTMLResponse)


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadArgument(f"{what}: {text!r} is not a date as YYYY-MM-DD") from None


def _back(week: date, flash: str, anchor: str) -> Response:
    return RedirectResponse(f"/review?{urlencode({'as_of': week.isoformat(), 'done': flash})}#{anchor}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.get("/review", name="review")
def review_page(request: Request, user: CurrentUser) -> Response:
    from tieout.reports.weekly import weekly_review
    from tieout.web.pages import render_page

    reads = request.app.state.reads
    report, weeks = weekly_review(reads.project, reads.rules(), as_of=parse_as_of(request.query_params.get("as_of")))
    end = report["as_of"]
    days = reads.days()
    earlier = [d for d in days if d <= end - timedelta(days=7)]
    later = [d for d in days if d >= end + timedelta(days=7)]
    by_pattern: dict[str, list[dict[str, object]]] = {}
    for d in report["decisions"]:
        by_pattern.setdefault(str(d["pattern_id"]), []).append(d)
    return render_page(request, "review.html", user, "review", report=report, weeks=weeks, as_of=end,
                       by_pattern=by_pattern, may_decide=user.can_write,
                       previous_week=earlier[-1] if earlier else None, next_week=later[0] if later else None,
                       flash=request.query_params.get("done", ""))


@router.post("/review/decisions")
def decide_form(request: Request, user: Writer, pattern: Annotated[str, Form()], week: Annotated[str, Form()],
                owner: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "",
                due: Annotated[str, Form()] = "") -> Response:
    from tieout.reports.decisions import decide

    reads = request.app.state.reads
    d = decide(reads.project, reads.rules(), pattern, owner=owner, action=action, due=_day(due, "due"),
               actor=user.name, week=_day(week, "week"))
    return _back(d.week, f"recorded {d.ref}", f"p-{d.pattern_id}")


@router.post("/review/decisions/{ref}/{decision_status}")
def close_form(request: Request, ref: str, decision_status: Literal["done", "dropped"], user: Writer,
               week: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    from tieout.reports.decisions import close

    d = close(request.app.state.reads.project, ref, decision_status, actor=user.name, note=note)
    return _back(_day(week, "week") if week else d.week, f"{d.ref} marked {decision_status}", f"d-{d.ref}")
