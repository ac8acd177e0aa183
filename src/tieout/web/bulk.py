"""The queue's bulk actions: `POST /queue/actions` (the queue page's form) and `POST /api/exceptions/actions`
(JSON). Both take the session's CSRF token (`writer`) and run `tieout.web.bulk_report.act_on_many`: one
`tieout.workflow.act` per selected exception, each authorised and audited as a single action is."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from tieout.output import to_json
from tieout.web.api import JSON
from tieout.web.auth import Writer
from tieout.web.bulk_report import act_on_many, parse_items, report_of
from tieout.web.pages import queue_page
from tieout.web.queue import Filters

router = APIRouter(default_response_class=HTMLResponse)


@router.post("/queue/actions", name="bulk")
def bulk_form(request: Request, user: Writer, kind: Annotated[str, Form()],
              item: Annotated[list[str] | None, Form()] = None, assignee: Annotated[str | None, Form()] = None,
              reason_code: Annotated[str | None, Form()] = None,
              comment: Annotated[str | None, Form()] = None) -> Response:
    """The queue's form; the query string is the queue's view. All applied: back to that view with a message
    (POST/redirect/GET). Any refused: the queue again, listing each refused exception and why."""
    filters = Filters.parse(request.query_params, rules=request.app.state.reads.rules())
    outcomes = act_on_many(request, user, kind, parse_items(item or ()), assignee=assignee,
                           reason_code=reason_code, comment=comment)
    report = report_of(kind, outcomes)
    if not report.refused:
        query = urlencode([*filters.params(), ("done", f"bulk-{kind}"), ("n", str(report.applied))])
        return RedirectResponse(f"/?{query}#results", status_code=status.HTTP_303_SEE_OTHER)
    code = 200 if report.applied else report.refused[0].status_code
    return queue_page(request, user, bulk=report, status_code=code)


class Selected(BaseModel):
    id: str
    expected_version: int


class BulkIn(BaseModel):
    kind: str
    items: list[Selected]
    assignee: str | None = None
    reason_code: str | None = None
    comment: str | None = None


@router.post("/api/exceptions/actions", tags=["api"], response_class=JSON,
             summary="One workflow action on many exceptions (JSON; needs the X-CSRF-Token header)")
def bulk_api(request: Request, user: Writer, body: Annotated[BulkIn, Body()]) -> JSON:
    """200 with `applied` (each exception's new status) and `refused` (each with `status_code` 403, 404, 409 or
    422 and `detail`); 422 when the request itself is malformed (unknown kind, nothing or too much selected)."""
    outcomes = act_on_many(request, user, body.kind, [(i.id, i.expected_version) for i in body.items],
                           assignee=body.assignee, reason_code=body.reason_code, comment=body.comment)
    return JSON(to_json({"kind": body.kind, "applied": [o.status for o in outcomes if o.ok],
                         "refused": [o.as_dict() for o in outcomes if not o.ok]}, indent=None))
