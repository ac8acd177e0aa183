"""Maker-checker: a change one person asks for and a second person decides, once.

Correction requests (`CR-<n>`, tieout.corrections.approval) and map requests (`MR-<n>`,
tieout.entities.map_requests) differ in what they hold and in what approving one does; how they are named,
read and decided is this module's, so both keep one rule set:

- only an approver or an admin decides, and never the requester — compared by name without regard to case
  and, on the command line, by OS account (a request made from one account is never decided from the same one,
  whatever name `--as` gives; tieout.os_account);
- a request is decided once: the decision is an UPDATE that only matches a pending row, so of two approvers at
  once the second gets Conflict;
- every decision, refusal and conflict is in the audit log, a refusal or a conflict in a transaction of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Connection

from tieout import state
from tieout.config import Project
from tieout.errors import BadArgument, Conflict, NotAllowed, NotFound
from tieout.os_account import current as os_account
from tieout.people.users import get_user
from tieout.workflow.audit import record, record_alone
from tieout.workflow.rules import authorise_correction

DECISIONS = ("approve", "reject")
# Request ids are INTEGER columns (32-bit on Postgres): a larger number names no request, and must not reach
# the driver (SQLite raises OverflowError past 64 bits).
_LARGEST_ID = 2**31 - 1


class Request(Protocol):
    """What deciding needs of a request, whatever else it holds."""

    @property
    def ref(self) -> str: ...
    @property
    def who(self) -> str: ...
    @property
    def os_user(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def decided_by(self) -> str | None: ...


R = TypeVar("R", bound=Request)
A = TypeVar("A")


@dataclass(frozen=True)
class Kind:
    """One kind of request: its reference prefix, its table, how the audit log and the refusals name it."""

    prefix: str  # `CR` → CR-3
    noun: str  # "correction request", in "no correction request CR-9"
    table: Table
    audit: str  # the audit log's action (`correction.approve`) and object (`correction:CR-3`) prefix
    change: str  # what a refusal calls the change ("a correction", "a map change")
    applied: str  # the audit detail's key for what approving did

    def ref(self, request_id: int) -> str:
        """How a request is named to people and on the command line: `CR-3`."""
        return f"{self.prefix}-{request_id}"

    def parse_ref(self, text: str) -> int | None:
        """`CR-3` (any case) → 3; anything else (an exception id, say) → None. An absurdly long number is one
        no request has (Python refuses to read more than 4,300 digits as an int)."""
        found = re.match(rf"^{self.prefix}-(\d+)$", text.strip(), re.IGNORECASE)
        if not found:
            return None
        digits = found.group(1).lstrip("0") or "0"
        return int(digits) if len(digits) <= 30 else 10**30

    def get(self, connection: Connection, request_id: int) -> Any:
        """The row of request `request_id`; NotFound when there is none."""
        if not 0 < request_id <= _LARGEST_ID:
            raise NotFound(f"no {self.noun} {self.ref(request_id)}")
        row = connection.execute(select(self.table).where(self.table.c.id == request_id)).first()
        if row is None:
            raise NotFound(f"no {self.noun} {self.ref(request_id)}")
        return row

    def listed(self, project: Project, status: str | None) -> list[Any]:
        """The rows of the requests (of one status, or all), newest first. No state database: none (and not
        created)."""
        if not state.exists(project):
            return []
        query = select(self.table).order_by(self.table.c.id.desc())
        if status is not None:
            query = query.where(self.table.c.status == status)
        with state.open(project) as connection:
            return list(connection.execute(query))


def same_account(request: Request, account: str | None) -> str | None:
    """Why the command line's OS account may not decide `request`: it is the account that asked for it."""
    if account is not None and request.os_user is not None and account == request.os_user:
        return (f"maker-checker: {request.ref} was requested from the OS account {account!r}; a second person "
                "decides it from an account of their own (whatever name --as gives)")
    return None


def decide(project: Project, kind: Kind, request_id: int, actor: str, decision: str, *, comment: str | None,
           load: Callable[[Any], R], apply: Callable[[Connection, R, datetime, str | None], tuple[Any, A]],
           ) -> tuple[R, A | None]:
    """Approve or reject pending request `request_id` as `actor`: the request as it now stands, and what
    `apply(connection, request, now, os_account)` returned on approval — in the decision's transaction, so a
    change it refuses (an exception it raises) rolls the decision back; the first item it returns is what the
    audit log records under `kind.applied`.

    Raises BadArgument (no such decision), NotFound, NotAllowed (role, or maker-checker), Conflict (decided
    already — by someone faster, perhaps)."""
    if decision not in DECISIONS:
        raise BadArgument(f"a {kind.noun} is approved or rejected, not {decision!r}")
    action, obj = f"{kind.audit}.{decision}", f"{kind.audit}:{kind.ref(request_id)}"
    comment = (comment or "").strip() or None
    account = os_account()
    try:
        with state.open(project, write=True) as connection:
            request = load(kind.get(connection, request_id))
            refusal = authorise_correction(get_user(connection, actor), decision, request.who) or \
                same_account(request, account)
            if refusal:
                raise NotAllowed(f"{actor} may not {decision} {request.ref}: "
                                 f"{refusal.replace('a correction', kind.change)}")
            now = datetime.now(UTC)
            done = connection.execute(update(kind.table).where(
                kind.table.c.id == request_id, kind.table.c.status == "pending"
            ).values(status="approved" if decision == "approve" else "rejected", decided_by=actor, decided_at=now,
                     decision_comment=comment, decided_os_user=account))
            if done.rowcount != 1:
                raise Conflict(f"{request.ref} was already {request.status} by {request.decided_by}: nothing changed")
            applied, result = apply(connection, request, now, account) if decision == "approve" else (None, None)
            record(connection, actor=actor, action=action, object=obj, outcome="allowed", reason=comment or "",
                   detail={"requested_by": request.who, kind.applied: applied})
            return load(kind.get(connection, request_id)), result
    except (NotAllowed, Conflict) as e:
        record_alone(project, actor=actor, action=action, object=obj,
                     outcome="conflict" if isinstance(e, Conflict) else "refused", reason=str(e),
                     detail={"comment": comment})
        raise
