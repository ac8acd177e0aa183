"""Who is asking: `current_user`, the one dependency every page and API route declares, and `writer`, the one
every state-changing route declares on top of it (it checks the CSRF token).

With sign-in on (`create_app(project)`, what `tieout serve` runs) the user comes from the session cookie;
without a valid session the API answers 401 and a page sends the browser to /login. `create_app(project,
auth=False)` serves one anonymous, read-only user (tests and embedding only): every write is refused.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from tieout.people.users import User
from tieout.state.tables import ROLES

__all__ = ["ANONYMOUS", "COOKIE", "ROLES", "CurrentUser", "User", "Writer", "current_user", "writer"]

COOKIE = "tieout_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
ANONYMOUS = User(name="anonymous", role="reader", anonymous=True)


def current_user(request: Request) -> User:
    """The user making `request`, from the session cookie."""
    if not request.app.state.auth:
        request.state.csrf = ""
        return ANONYMOUS
    from tieout.people import sessions

    found = sessions.lookup(request.app.state.project, request.cookies.get(COOKIE),
                            idle_minutes=request.app.state.idle_minutes, now=request.app.state.clock())
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in", headers={"WWW-Authenticate": "Session"})
    user, request.state.csrf = found
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def writer(request: Request, user: CurrentUser) -> User:
    """`current_user`, for a request that changes state: its CSRF token (the `X-CSRF-Token` header, or the
    `csrf` form field) must be the session's. A forged cross-site form cannot know it."""
    from tieout.workflow.audit import record_alone

    if user.anonymous:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "sign-in is off: this server is read-only")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)  # Starlette caches the form for the route's own fields
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), request.state.csrf.encode()):
        record_alone(request.app.state.project, actor=user.name, action=f"{request.method} {request.url.path}",
                     object="request", outcome="refused", reason="CSRF token missing or wrong")
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong: reload the page and try again")
    return user


Writer = Annotated[User, Depends(writer)]
