"""Who is asking: the one dependency every page and API route declares.

TEMPORARY. Users, sessions, roles and the audit log arrive with the people-facing state store
(`tieout.state`). Until then the app knows a single anonymous, read-only user when it is created with
`auth=False` (the default of `tieout serve` today), and refuses everyone (401) when created with
`auth=True`, since nobody can log in yet. The login work replaces `current_user` — and only it: routes
already depend on it and already receive a `User` with a role, so per-object authorisation can be added
where the object is loaded without touching how the routes are wired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

ROLES = ("admin", "team_member", "approver", "auditor")


@dataclass(frozen=True)
class User:
    name: str
    role: str  # one of ROLES, or "reader" for the temporary anonymous user
    teams: tuple[str, ...] = ()
    anonymous: bool = False

    @property
    def can_write(self) -> bool:
        """Whether workflow actions may be offered. Nobody may act until workflow exists."""
        return False


ANONYMOUS = User(name="anonymous", role="reader", anonymous=True)


def current_user(request: Request) -> User:
    """The user making `request`. Temporary: see the module docstring."""
    if not request.app.state.auth:
        return ANONYMOUS
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in", headers={"WWW-Authenticate": "Session"})


# What a route declares to receive the user: `def page(request: Request, user: CurrentUser)`.
CurrentUser = Annotated[User, Depends(current_user)]
