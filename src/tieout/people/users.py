"""Users: `tieout users add` creates them; the web and the workflow read them to authorise every action."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tieout import state
from tieout.config import Project
from tieout.errors import BadArgument, NotFound
from tieout.people.passwords import check_password, dummy_hash, hash_password
from tieout.state.tables import ROLES, sessions, users

_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    name: str
    role: str  # one of ROLES, or "reader" for the anonymous user of a server without sign-in
    teams: tuple[str, ...] = ()
    anonymous: bool = False
    disabled: bool = False

    @property
    def can_write(self) -> bool:
        """Whether workflow actions may be offered at all (each is still authorised on the server)."""
        return not self.anonymous and self.role in ("admin", "team_member", "approver")

    @property
    def can_audit(self) -> bool:
        return self.role in ("admin", "auditor")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "teams": list(self.teams), "disabled": self.disabled}


def _user(row: Any) -> User:
    return User(name=row.name, role=row.role, teams=tuple(t for t in row.teams.split(",") if t),
                disabled=bool(row.disabled))


def add_user(project: Project, name: str, role: str, password: str, teams: tuple[str, ...] = ()) -> User:
    if not _NAME.match(name):
        raise BadArgument(f"user name {name!r}: use letters, digits and _ . @ - (at most 100)")
    if role not in ROLES:
        raise BadArgument(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    if role == "team_member" and not teams:
        raise BadArgument("--team: a team member acts on their team's exceptions: name at least one team")
    if len(password) < MIN_PASSWORD:
        raise BadArgument(f"the password must have at least {MIN_PASSWORD} characters")
    bad = [t for t in teams if not t or "," in t]
    if bad:
        raise BadArgument(f"--team: {bad[0]!r} is not a team name")
    from tieout.workflow.audit import record

    try:
        with state.open(project, write=True) as connection:
            connection.execute(insert(users).values(
                name=name, role=role, teams=",".join(teams), password_hash=hash_password(password),
                created_at=datetime.now(UTC), disabled=False))
            record(connection, actor="cli", action="users.add", object=f"user:{name}", outcome="allowed",
                   reason="", detail={"role": role, "teams": list(teams)})
    except IntegrityError:
        raise BadArgument(f"a user named {name!r} already exists") from None
    return User(name=name, role=role, teams=teams)


def get_user(connection: Connection, name: str) -> User | None:
    row = connection.execute(select(users).where(users.c.name == name, users.c.disabled.is_(False))).first()
    return _user(row) if row is not None else None


def list_users(project: Project, *, include_disabled: bool = False) -> list[User]:
    query = select(users).order_by(users.c.name)
    if not include_disabled:
        query = query.where(users.c.disabled.is_(False))
    with state.open(project) as connection:
        return [_user(r) for r in connection.execute(query)]


def set_disabled(project: Project, name: str, disabled: bool, *, actor: str = "cli") -> bool:
    """Disable (or enable again) a user; return whether anything changed. A disabled user cannot sign in, is
    named by no action, and their sessions are deleted in the same transaction, so a browser signed in as them
    is signed out at its next request. Users are never deleted: the audit log's names keep meaning someone.
    Raises NotFound."""
    from tieout.workflow.audit import record

    with state.open(project, write=True) as connection:
        row = connection.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise NotFound(f"no user {name!r} (see `tieout users list --all`)")
        if bool(row.disabled) == disabled:
            return False
        connection.execute(update(users).where(users.c.name == name).values(disabled=disabled))
        ended = connection.execute(delete(sessions).where(sessions.c.user_name == name)).rowcount if disabled else 0
        record(connection, actor=actor, action="users.disable" if disabled else "users.enable",
               object=f"user:{name}", outcome="allowed", detail={"sessions_ended": ended})
    return True


def set_password(project: Project, name: str, password: str, *, actor: str = "cli") -> None:
    """Replace a user's password; their sessions end (whoever knew the old one is signed out). Raises NotFound,
    BadArgument."""
    from tieout.workflow.audit import record

    if len(password) < MIN_PASSWORD:
        raise BadArgument(f"the password must have at least {MIN_PASSWORD} characters")
    with state.open(project, write=True) as connection:
        done = connection.execute(update(users).where(users.c.name == name)
                                  .values(password_hash=hash_password(password)))
        if done.rowcount != 1:
            raise NotFound(f"no user {name!r} (see `tieout users list --all`)")
        ended = connection.execute(delete(sessions).where(sessions.c.user_name == name)).rowcount
        # The audit entry says that it changed, never anything about the password itself.
        record(connection, actor=actor, action="users.passwd", object=f"user:{name}", outcome="allowed",
               detail={"sessions_ended": ended})


def team_members(connection: Connection, team: str | None) -> list[str]:
    """Who an exception routed to `team` may be assigned to: the enabled users of that team."""
    if not team:
        return []
    rows = connection.execute(select(users).where(users.c.disabled.is_(False)).order_by(users.c.name))
    return [r.name for r in rows if team in r.teams.split(",")]


def is_user(connection: Connection, name: str) -> bool:
    """Whether `name` is a user, enabled or not (what the audit log may name)."""
    return connection.execute(select(users.c.id).where(users.c.name == name)).first() is not None


def verify_login(connection: Connection, name: str, password: str) -> User | None:
    row = connection.execute(select(users).where(users.c.name == name, users.c.disabled.is_(False))).first()
    if row is None:
        check_password(password, dummy_hash())  # the same time as a wrong password: no user enumeration
        return None
    return _user(row) if check_password(password, row.password_hash) else None
