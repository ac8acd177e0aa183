"""Browser sessions: a random 32-byte token in an HttpOnly cookie, only its sha256 stored.

A new token at every sign-in (the old one, if the browser sent it, is deleted: no session fixation), an idle
expiry (default 30 minutes, refreshed as the user works), an absolute one (12 hours), and sign-out deletes it.
The session's CSRF token is derived from the cookie's token (an HMAC of it), so it is stored nowhere: a copy of
the database holds neither secret, and a CSRF token seen in a page does not give the cookie away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from tieout import state
from tieout.config import Project
from tieout.people.users import User, get_user
from tieout.state.tables import sessions

IDLE_MINUTES = 30
ABSOLUTE = timedelta(hours=12)
# last_seen is written at most once a minute, and at most once a quarter of the idle timeout: a page view costs
# a write only when the stored time is older than that, so most GETs only read. An idle session may end up to
# that interval early; a quarter keeps a user who works through a one-minute timeout signed in.
TOUCH = timedelta(minutes=1)


def touch_interval(idle_minutes: int) -> timedelta:
    """How old the stored last-seen time may get before a request writes it again."""
    return min(TOUCH, timedelta(minutes=idle_minutes) / 4)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def csrf_for(token: str) -> str:
    """The session's anti-forgery token: an HMAC of the cookie's token, hex. One-way, so the token in a page
    never reveals the cookie."""
    return hmac.new(token.encode("ascii", "replace"), b"tieout csrf v1", hashlib.sha256).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def start(project: Project, user_name: str, *, replacing: str | None = None,
          now: datetime | None = None) -> tuple[str, str]:
    """A new session for `user_name`: (cookie token, CSRF token). `replacing` is the browser's old token."""
    token = secrets.token_urlsafe(32)
    now = now or datetime.now(UTC)
    with state.open(project, write=True) as connection:
        if replacing:
            connection.execute(delete(sessions).where(sessions.c.token_hash == _hash(replacing)))
        connection.execute(delete(sessions).where(sessions.c.expires_at < now))
        connection.execute(insert(sessions).values(token_hash=_hash(token), user_name=user_name,
                                                   created_at=now, last_seen=now, expires_at=now + ABSOLUTE))
    return token, csrf_for(token)


def lookup(project: Project, token: str | None, *, idle_minutes: int = IDLE_MINUTES,
           now: datetime | None = None) -> tuple[User, str] | None:
    """The signed-in user and the session's CSRF token, or None (no, unknown, idle or expired session)."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    key = _hash(token)
    with state.open(project) as connection:
        row: Any = connection.execute(select(sessions).where(sessions.c.token_hash == key)).first()
        user = get_user(connection, row.user_name) if row is not None else None
    if row is None:
        return None
    if user is None or _aware(row.last_seen) + timedelta(minutes=idle_minutes) < now or \
            _aware(row.expires_at) < now:
        end(project, token)
        return None
    if now - _aware(row.last_seen) > touch_interval(idle_minutes):
        with state.open(project, write=True) as connection:
            connection.execute(update(sessions).where(sessions.c.token_hash == key).values(last_seen=now))
    return user, csrf_for(token)


def end(project: Project, token: str | None) -> None:
    if token:
        with state.open(project, write=True) as connection:
            connection.execute(delete(sessions).where(sessions.c.token_hash == _hash(token)))
