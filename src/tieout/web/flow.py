"""Workflow actions (a form on the exception page, and JSON under /api/) and the audit page.

Every POST goes through `writer` (session + CSRF token); sign-in and sign-out are in `tieout.web.signin`.
No GET changes anything: a refused read is logged to the application log, never to the audit log.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from tieout.errors import BadArgument, Conflict, NotAllowed
from tieout.output import to_json
from tieout.web.auth import CurrentUser, User, Writer
from tieout.web.exception_workflow import target_for
from tieout.web.pages import exception_page
from tieout.web.queue import Filters
from tieout.web.reads import Reads

router = APIRouter(default_response_class=HTMLResponse)
log = logging.getLogger("tieout.web")


def _opt_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadArgument(f"{text!r} is not a date as YYYY-MM-DD") from None


@router.post("/exceptions/{ident}/actions")
def act_form(request: Request, ident: str, user: Writer, kind: Annotated[str, Form()],
             expected_version: Annotated[int, Form()], assignee: Annotated[str | None, Form()] = None,
             reason_code: Annotated[str | None, Form()] = None, comment: Annotated[str | None, Form()] = None,
             until: Annotated[str | None, Form()] = None) -> Response:
    """The exception page's forms. Success: back to the page (POST/redirect/GET); a refusal or a conflict:
    the page again, with the message and the current state, and what was typed kept in the form."""
    from tieout.workflow import act

    try:
        act(request.app.state.project, user.name, ident, kind, expected_version=expected_version,
            assignee=assignee or None, reason_code=reason_code or None, comment=comment, until=_opt_date(until),
            target=target_for(request, ident))
    except (Conflict, NotAllowed, BadArgument) as e:
        code = 409 if isinstance(e, Conflict) else 403 if isinstance(e, NotAllowed) else 422
        return exception_page(request, ident, user, flash={"error": str(e), "kind": kind, "comment": comment},
                              status_code=code)
    # Back to the page in the queue's view it was opened in (the form's action carries it), for Previous / Next.
    view = Filters.parse(request.query_params, rules=request.app.state.reads.rules()).params()
    return RedirectResponse(f"/exceptions/{ident}?{urlencode([*view, ('done', kind)])}#actions",
                            status_code=status.HTTP_303_SEE_OTHER)


class ActionIn(BaseModel):
    kind: str
    expected_version: int
    assignee: str | None = None
    reason_code: str | None = None
    comment: str | None = None
    until: date | None = None


class JSON(Response):
    media_type = "application/json"


@router.post("/api/exceptions/{ident}/actions", tags=["api"], response_class=JSON,
             summary="Take a workflow action (JSON; needs the X-CSRF-Token header)")
def act_api(request: Request, ident: str, user: Writer, body: Annotated[ActionIn, Body()]) -> JSON:
    """409 if `expected_version` is stale, 403 if the role or team forbids it, 422 if it is malformed."""
    from tieout.workflow import act

    st = act(request.app.state.project, user.name, ident, body.kind, expected_version=body.expected_version,
             assignee=body.assignee, reason_code=body.reason_code, comment=body.comment, until=body.until,
             target=target_for(request, ident))
    return JSON(to_json(st.as_dict(), indent=None))


@router.get("/api/exceptions/{ident}/actions", tags=["api"], response_class=JSON,
            summary="The exception's workflow status and every action taken on it")
def actions_api(request: Request, ident: str, user: CurrentUser) -> JSON:
    from tieout.workflow import actions_on, status_of

    project = request.app.state.project
    st = status_of(project, target_for(request, ident))
    return JSON(to_json({"status": st.as_dict(), "actions": actions_on(project, ident)}, indent=None))


@router.get("/api/session", tags=["api"], response_class=JSON,
            summary="Who is signed in, and the CSRF token to send as X-CSRF-Token")
def session_api(request: Request, user: CurrentUser) -> JSON:
    return JSON(to_json({**user.as_dict(), "csrf": request.state.csrf}, indent=None))


def _auditor(request: Request, user: CurrentUser) -> User:
    if not user.can_audit:
        # A GET writes nothing, not even its refusal: otherwise a link could add rows in a victim's name.
        log.warning("refused GET /audit to %s (role %s): only admins and auditors read the audit log",
                    user.name, user.role)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin or an auditor may read the audit log")
    return user


@router.get("/audit", name="audit")
def audit_page(request: Request, user: Annotated[User, Depends(_auditor)]) -> Response:
    from tieout.workflow.audit import entries, verify_audit

    project = request.app.state.project
    reads: Reads = request.app.state.reads
    return request.app.state.templates.TemplateResponse(request, "audit.html", {
        "user": user, "nav": "audit", "project_name": project.root.name, "as_of": None, "latest": reads.latest(),
        "entries": entries(project), "verdict": verify_audit(project), "csrf": request.state.csrf})
