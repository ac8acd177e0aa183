"""Sign-in throttling: failed sign-ins counted per user name and per client address, in the state database.

Kept in the database, not in memory, so that every worker process of a server (and every server over the same
database) sees one count. An attempt is charged *before* its password is checked, in one write transaction
that also reads the locks: however many requests arrive at once, each sees the ones before it, so a burst
cannot slip past the limit. A right password refunds the charge.

After `USER_LIMIT` failures in a row for one name (or `ADDRESS_LIMIT` from one address) the key is locked for
`FIRST_LOCK`, doubled at each further failure up to `LONGEST_LOCK`. While either key is locked every attempt
is refused — the right password too — without checking the password and without counting it (so hammering a
locked account does not lock it for longer). An unknown name is throttled exactly like a known one: the
answer never tells whether a user exists. A key with no failure for `FORGET_AFTER` starts afresh.

Keys are sha256 hashes ("user:<name>", "addr:<address>"): a password typed into the name box is not kept as
typed. Time comes from the caller (`now`), so tests need no sleeping.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from tieout.state.tables import signin_throttle

USER_LIMIT = 5
# Higher than the per-user limit: several people may share an address (a NAT, a proxy), and an address that
# tries many names is caught by this limit even though no single name reaches its own.
ADDRESS_LIMIT = 20
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(minutes=30)
FORGET_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Verdict:
    """Whether the attempt may check its password; if not, how many seconds until it may try again."""

    allowed: bool
    retry_after: int = 0
    keys: tuple[str, ...] = ()


def key_for_user(name: str) -> str:
    return hashlib.sha256(f"user:{name.casefold()}".encode("utf-8", "replace")).hexdigest()


def key_for_address(address: str) -> str:
    return hashlib.sha256(f"addr:{address}".encode("utf-8", "replace")).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _lock_for(failures: int, limit: int) -> timedelta | None:
    """How long a key is locked after its `failures`-th failure in a row: none below the limit, then growing."""
    if failures < limit:
        return None
    return min(FIRST_LOCK * 2 ** min(failures - limit, 20), LONGEST_LOCK)


def _rows_for_update(connection: Connection, keys: list[str], now: datetime) -> dict[str, Any]:
    """The keys' rows, each made to exist and locked against other writers until the transaction ends."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = connection.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for key in keys:  # INSERT … ON CONFLICT DO NOTHING: two first failures at once never collide
        connection.execute(insert(signin_throttle).values(key=key, failures=0, last_failure_at=now)
                           .on_conflict_do_nothing(index_elements=["key"]))
    query = select(signin_throttle).where(signin_throttle.c.key.in_(keys))
    if dialect == "postgresql":  # SQLite's BEGIN IMMEDIATE already holds the only write lock
        query = query.with_for_update()
    return {r.key: r for r in connection.execute(query)}


def charge(connection: Connection, user_name: str, address: str, now: datetime) -> Verdict:
    """Inside the caller's write transaction: refuse if the name or the address is locked, else count one
    failure against both (refunded by `refund` when the password is right)."""
    limits = {key_for_user(user_name): USER_LIMIT, key_for_address(address): ADDRESS_LIMIT}
    rows = _rows_for_update(connection, list(limits), now)
    locked_until = [u for r in rows.values() if (u := _aware(r.locked_until)) is not None and u > now]
    if locked_until:
        return Verdict(False, retry_after=max(1, math.ceil((max(locked_until) - now).total_seconds())))
    for key, limit in limits.items():
        row = rows[key]
        stale = now - (_aware(row.last_failure_at) or now) > FORGET_AFTER
        failures = (0 if stale else row.failures) + 1
        lock = _lock_for(failures, limit)
        connection.execute(update(signin_throttle).where(signin_throttle.c.key == key).values(
            failures=failures, last_failure_at=now, locked_until=now + lock if lock else None))
    return Verdict(True, keys=tuple(limits))


def refund(connection: Connection, verdict: Verdict) -> None:
    """A right password: the name's count starts afresh; the address gets back only this attempt's charge (a
    valid account must not wipe the count of an address that is guessing other names)."""
    user_key, address_key = verdict.keys
    connection.execute(delete(signin_throttle).where(signin_throttle.c.key == user_key))
    # The charge was allowed, so the address was not locked before it: any lock now is the charge's own.
    connection.execute(update(signin_throttle).where(signin_throttle.c.key == address_key,
                                                     signin_throttle.c.failures > 0)
                       .values(failures=signin_throttle.c.failures - 1, locked_until=None))


def locked_now(verdict: Verdict, connection: Connection, now: datetime) -> bool:
    """Whether this failed attempt has just locked its name or its address (for the audit entry)."""
    rows = connection.execute(select(signin_throttle.c.locked_until)
                              .where(signin_throttle.c.key.in_(verdict.keys))).all()
    return any((u := _aware(r.locked_until)) is not None and u > now for r in rows)


def forget_stale(connection: Connection, now: datetime) -> None:
    """Drop keys with no failure for FORGET_AFTER and no lock: the table stays as small as the attacks are."""
    connection.execute(delete(signin_throttle).where(
        signin_throttle.c.last_failure_at < now - FORGET_AFTER,
        (signin_throttle.c.locked_until.is_(None)) | (signin_throttle.c.locked_until < now)))
