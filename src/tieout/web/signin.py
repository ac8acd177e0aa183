"""Sign-in and sign-out.

/login has no session yet, so it checks a login-form token against a cookie instead (double submit): another
site cannot sign a browser in as someone else. A POST without that token is refused before anything is
written. Every other attempt is throttled per name and per client address (tieout.people.throttle) before its
password is checked, so the audit entries a stranger can cause are bounded by the throttle too; and an audit
entry names only a user that exists — anything else typed in the name box (a password, 900 KB of text) is
recorded as "unknown user" with the client's address.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tieout.web.auth import COOKIE, Writer

router = APIRouter(default_response_class=HTMLResponse)
log = logging.getLogger("tieout.web")
LOGIN_COOKIE = "tieout_login"
# Longer than any user name (at most 100 characters) or sensible password: such a field is refused unread.
MAX_NAME = 100
MAX_PASSWORD = 1024
UNKNOWN = "unknown user"
# One message whatever is locked (the name, the address, or both), so the answer tells nothing about users.
TOO_MANY = "Too many failed sign-ins: wait a few minutes and try again."


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an open redirect to another one.
    # (a browser reads "/\\host" as "//host")
    return target if target and target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(request: Request, next_url: str, message: str | None = None, code: int = 200,
                headers: dict[str, str] | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = request.app.state.templates.TemplateResponse(request, "login.html", {
        "user": None, "nav": None, "as_of": None, "project_name": request.app.state.project.root.name,
        "login_csrf": token, "next": next_url, "message": message, "signed_out": True}, status_code=code,
        headers=headers)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/login")
    return response


@router.get("/login", name="login")
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query parameter
    return _login_page(request, _safe_next(next))


@router.post("/login")
def login(request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    from tieout import state
    from tieout.people import sessions, throttle, verify_login
    from tieout.people.users import is_user
    from tieout.workflow.audit import record

    project, address, now = request.app.state.project, _address(request), request.app.state.clock()
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf.encode()):
        # Nothing is written: without this check anyone could append to the audit log without a session.
        log.warning("refused sign-in from %s: login form token missing or wrong", address)
        return _login_page(request, _safe_next(next), "The sign-in form expired: please try again.", 403)
    too_long = len(name) > MAX_NAME or len(password) > MAX_PASSWORD
    name = name[:MAX_NAME]  # what is throttled and looked up: never more than a user name can be
    with state.open(project, write=True) as connection:
        throttle.forget_stale(connection, now)
        verdict = throttle.charge(connection, name, address, now)
    if not verdict.allowed:
        log.warning("refused sign-in from %s: throttled for %d s", address, verdict.retry_after)
        return _login_page(request, _safe_next(next), TOO_MANY, status.HTTP_429_TOO_MANY_REQUESTS,
                           headers={"Retry-After": str(verdict.retry_after)})
    with state.open(project) as connection:
        user = None if too_long else verify_login(connection, name, password)
    with state.open(project, write=True) as connection:
        if user is None:
            known = not too_long and is_user(connection, name)
            record(connection, actor=name if known else UNKNOWN, action="login",
                   object=f"user:{name}" if known else "user:?", outcome="refused", reason="wrong name or password",
                   detail={"address": address, "locked": throttle.locked_now(verdict, connection, now)})
        else:
            throttle.refund(connection, verdict)
            record(connection, actor=user.name, action="login", object=f"user:{user.name}", outcome="allowed",
                   detail={"address": address})
    if user is None:
        return _login_page(request, _safe_next(next), "Wrong name or password.", 401)
    # A new token at every sign-in; the one this browser had (if any) is deleted.
    token, _ = sessions.start(project, user.name, replacing=request.cookies.get(COOKIE), now=now)
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, user: Writer) -> Response:
    from tieout.people import sessions
    from tieout.workflow.audit import record_alone

    sessions.end(request.app.state.project, request.cookies.get(COOKIE))
    record_alone(request.app.state.project, actor=user.name, action="logout", object=f"user:{user.name}",
                 outcome="allowed")
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/")
    return response
