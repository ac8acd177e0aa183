"""The audit log: every workflow action, every refused attempt, sign-ins and user changes — hash-chained.

Refusals are written in a transaction of their own (the refused one is rolled back), so a refusal is never
lost with the change it refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tieout import state
from tieout.config import Project
from tieout.os_account import current as os_account
from tieout.state import chain
from tieout.state.tables import audit, log_heads

LOG = "audit"
FIELDS = ("at", "actor", "action", "object", "outcome", "reason", "detail")
OUTCOMES = ("allowed", "refused", "conflict")
# In an entry's hash only when set: the OS account of the command line that wrote it (migration 0006). Entries
# written from the web, or before 0006, serialise exactly as before.
OPTIONAL = ("os_user",)


def record(connection: Connection, *, actor: str, action: str, object: str, outcome: str,  # noqa: A002
           reason: str = "", detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append one entry inside the caller's write transaction, with the command line's OS account, if any."""
    account = os_account()
    return chain.append(connection, audit, LOG, {
        "at": datetime.now(UTC), "actor": actor or "?", "action": action, "object": object, "outcome": outcome,
        "reason": reason, "detail": json.dumps(detail or {}, sort_keys=True, default=str),
        **({"os_user": account} if account is not None else {})})


def record_alone(project: Project, **entry: Any) -> None:
    """Append one entry in a transaction of its own (a refusal, after the refused change rolled back)."""
    with state.open(project, write=True) as connection:
        record(connection, **entry)


def entries(project: Project, *, object: str | None = None, limit: int = 500) -> list[dict[str, Any]]:  # noqa: A002
    """The newest entries first. An absent state database has none (and is not created)."""
    if not state.exists(project):
        return []
    query = select(audit).order_by(audit.c.seq.desc()).limit(limit)
    if object is not None:
        query = query.where(audit.c.object == object)
    with state.open(project) as connection:
        return [{k: getattr(r, k) for k in ("seq", *FIELDS, *OPTIONAL, "hash")} for r in connection.execute(query)]


def verify_audit(project: Project) -> chain.Verdict:
    if not state.exists(project):
        return chain.verify(LOG, [], (0, chain.GENESIS))
    with state.open(project) as connection:
        rows = connection.execute(select(audit).order_by(audit.c.seq, audit.c.id)).all()
        head = connection.execute(select(log_heads.c.seq, log_heads.c.hash).where(log_heads.c.log == LOG)).first()
    found = [chain.Entry(id=r.id, seq=r.seq, body=r.body, prev_hash=r.prev_hash, hash=r.hash,
                         fields={k: getattr(r, k) for k in FIELDS} |
                         {k: getattr(r, k) for k in OPTIONAL if getattr(r, k) is not None}) for r in rows]
    return chain.verify(LOG, found, (head.seq, head.hash) if head is not None else None)
