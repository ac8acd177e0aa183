"""`act`, `actions_on` and `status_of`: the workflow's state, kept per exception with a version.

Optimistic concurrency: every action names the version it was based on (`expected_version`); the version is
bumped by an UPDATE that only matches that version, so of two people acting on one state the second finds
nothing to update and gets `Conflict` — recorded in the audit log with everything it carried, nothing lost.

A state belongs to one episode: an exception that comes back after resolving is a new episode, open again,
and the actions of the earlier episode stay in its history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tieout import state
from tieout.config import Project
from tieout.errors import BadArgument, Conflict, NotAllowed, NotFound
from tieout.people.users import get_user, team_members
from tieout.state.tables import KINDS, actions, exception_state
from tieout.store import stored_days
from tieout.timeline import QueuedException
from tieout.workflow.audit import record, record_alone
from tieout.workflow.rules import authorise

REASON_CODES = ("fixed_in_source", "duplicate", "not_an_issue", "timing_expected", "other")
_STATUS_AFTER = {"ack": "acknowledged", "assign": "assigned", "resolve": "resolved"}


@dataclass(frozen=True)
class Target:
    """What the workflow needs to know of an exception: its id, routed team and current episode."""

    id: str
    team: str | None
    first_seen: date
    resolved_on: date | None = None


def target_of(e: QueuedException | dict[str, Any]) -> Target:
    if isinstance(e, dict):
        return Target(e["id"], e.get("team"), _day(e["first_seen"]), _day(e.get("resolved_on")))
    return Target(e.id, e.team, e.first_seen, e.resolved_on)


def _day(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def find(project: Project, exception_id: str) -> Target:
    """The exception's latest episode, from the stored days. Raises NotFound."""
    from tieout.rules.registry import load_rules
    from tieout.timeline import exceptions

    for e in exceptions(project, load_rules(project), status="all"):
        if e.id == exception_id:
            return target_of(e)
    raise NotFound(f"no exception {exception_id!r}")


@dataclass(frozen=True)
class Status:
    exception_id: str
    version: int
    status: str  # open, acknowledged, assigned, resolved, suppressed
    assignee: str | None = None
    suppressed_until: date | None = None
    pending: dict[str, Any] | None = None  # the suppression waiting for approval
    reopened: bool = False  # actions were taken on an earlier episode
    members: list[str] = field(default_factory=list)  # whom it may be assigned to

    def as_dict(self) -> dict[str, Any]:
        return {"exception_id": self.exception_id, "version": self.version, "status": self.status,
                "assignee": self.assignee, "suppressed_until": self.suppressed_until, "pending": self.pending,
                "reopened": self.reopened, "assignable_to": self.members}


def as_of_day(project: Project) -> date:
    """The project's today: its latest reconciled day. A suppression runs to an as-of date — the exports'
    dates, which may lag the wall clock or be a demo's — so it is checked, and runs out, against the day the
    queue shows; before any day is stored, the wall clock in the project's time zone."""
    days = stored_days(project)
    return days[-1] if days else datetime.now(ZoneInfo(project.timezone)).date()


def _action(row: Any) -> dict[str, Any]:
    return {k: getattr(row, k) for k in ("id", "exception_id", "episode_first_seen", "kind", "actor", "assignee",
                                         "reason_code", "comment", "until", "requires_approval", "approved_by",
                                         "approved_at", "decision", "target_id", "version", "at")}


def _status(connection: Connection, target: Target, today: date) -> Status:
    row = connection.execute(select(exception_state).where(exception_state.c.exception_id == target.id)).first()
    pending = None
    if row is not None and row.pending_action_id is not None:
        found = connection.execute(select(actions).where(actions.c.id == row.pending_action_id)).first()
        pending = _action(found) if found is not None else None
    return _from_row(row, pending, target, today, team_members(connection, target.team))


def _from_row(row: Any, pending: dict[str, Any] | None, target: Target, today: date, members: list[str]) -> Status:
    """A state row (or None: nobody acted yet) as the status of the target's current episode."""
    if row is None:
        return Status(target.id, 0, "open", members=members)
    if row.episode_first_seen != target.first_seen:
        # It came back after resolving: a new episode starts open; the old actions are history.
        return Status(target.id, row.version, "open", reopened=True, members=members)
    status, until = row.status, row.suppressed_until
    if status == "suppressed" and until is not None and until < today:
        status = "open"  # the suppression ran out
    return Status(target.id, row.version, status, row.assignee, until, pending, members=members)


def statuses(project: Project, targets: Iterable[Target] | Mapping[str, Target]) -> dict[str, Status]:
    """The status of many exceptions in two queries (the queue shows every row's): by id, only those anybody
    acted on — the others are open at version 0. `members` is left empty. An absent state database is not
    created: nobody acted on anything. `targets` by id (a Mapping) is read only for the ids acted on: a
    queue of a hundred thousand exceptions need not make a Target of each."""
    from tieout.state import exists

    wanted = targets if isinstance(targets, Mapping) else {t.id: t for t in targets}
    if not wanted or not exists(project):
        return {}
    with state.open(project) as connection:
        rows = [r for r in connection.execute(select(exception_state)) if r.exception_id in wanted]
        waiting = [r.pending_action_id for r in rows if r.pending_action_id is not None]
        pending = {a.id: _action(a) for a in connection.execute(select(actions).where(actions.c.id.in_(waiting)))} \
            if waiting else {}
    today = as_of_day(project)
    return {r.exception_id: _from_row(r, pending.get(r.pending_action_id), wanted[r.exception_id], today, [])
            for r in rows}


def status_of(project: Project, target: Target) -> Status:
    with state.open(project) as connection:
        return _status(connection, target, as_of_day(project))


def actions_on(project: Project, exception_id: str) -> list[dict[str, Any]]:
    """Every action taken on the exception, oldest first, each naming the episode (first seen) it belongs to."""
    with state.open(project) as connection:
        rows = connection.execute(select(actions).where(actions.c.exception_id == exception_id)
                                  .order_by(actions.c.id))
        return [_action(r) for r in rows]


def _validate(kind: str, st: Status, today: date, *, assignee: str | None, reason_code: str | None,
              comment: str | None, until: date | None) -> None:
    if kind not in KINDS:
        raise BadArgument(f"unknown action {kind!r}: one of {', '.join(KINDS)}")
    if kind == "assign" and assignee not in st.members:
        raise BadArgument(f"{assignee or 'nobody'!r} is not a member of the routed team; assignable: "
                          f"{', '.join(st.members) or 'nobody'}")
    if kind == "resolve" and reason_code not in REASON_CODES:
        raise BadArgument(f"resolve needs a reason code: one of {', '.join(REASON_CODES)}")
    if kind == "comment" and not (comment or "").strip():
        raise BadArgument("a comment needs text")
    if kind == "suppress":
        if until is None or until <= today:
            raise BadArgument(f"suppress needs a date after the latest reconciled day ({today.isoformat()})")
        if st.pending is not None:
            raise BadArgument("a suppression is already waiting for approval")
    if kind in ("approve", "reject") and st.pending is None:
        raise BadArgument("nothing is waiting for approval")


def act(project: Project, actor: str, exception_id: str, kind: str, *, expected_version: int,
        assignee: str | None = None, reason_code: str | None = None, comment: str | None = None,
        until: date | None = None, target: Target | None = None) -> Status:
    """Take one action as `actor`; return the new status. Raises NotAllowed (the role or team forbids it),
    BadArgument (it is malformed), Conflict (the version moved on) — each recorded in the audit log."""
    target = target or find(project, exception_id)
    obj = f"exception:{target.id}"
    asked = {"expected_version": expected_version, "assignee": assignee, "reason_code": reason_code,
             "comment": comment, "until": until}
    try:
        with state.open(project, write=True) as connection:
            today = as_of_day(project)
            st = _status(connection, target, today)
            user = get_user(connection, actor)
            refusal = authorise(user, kind, target.team, st.pending)
            if refusal:
                raise NotAllowed(f"{actor} may not {kind} exception {target.id}: {refusal}")
            _validate(kind, st, today, assignee=assignee, reason_code=reason_code, comment=comment, until=until)
            if expected_version != st.version:
                raise Conflict(f"exception {target.id} changed since version {expected_version} (now version "
                               f"{st.version}, status {st.status}): reload it and try again; nothing was changed")
            new = _apply(connection, actor, kind, target, st, assignee=assignee, reason_code=reason_code,
                         comment=comment, until=until)
            record(connection, actor=actor, action=kind, object=obj, outcome="allowed",
                   detail={**asked, "version": new.version})
            return new
    except IntegrityError:
        # Postgres: someone else created the exception's first state at the same moment.
        e: Conflict | NotAllowed | BadArgument = Conflict(
            f"exception {target.id} changed since version {expected_version}: reload it and try again")
        record_alone(project, actor=actor, action=kind, object=obj, outcome="conflict", reason=str(e), detail=asked)
        raise e from None
    except (NotAllowed, BadArgument, Conflict) as e:
        record_alone(project, actor=actor, action=kind, object=obj,
                     outcome="conflict" if isinstance(e, Conflict) else "refused", reason=str(e), detail=asked)
        raise


def _apply(connection: Connection, actor: str, kind: str, target: Target, st: Status, *, assignee: str | None,
           reason_code: str | None, comment: str | None, until: date | None) -> Status:
    now = datetime.now(UTC)
    version = st.version + 1
    values: dict[str, Any] = {"status": st.status, "assignee": st.assignee, "suppressed_until": st.suppressed_until,
                              "pending_action_id": st.pending["id"] if st.pending else None}
    if kind in _STATUS_AFTER:
        values["status"] = _STATUS_AFTER[kind]
    if kind == "assign":
        values["assignee"] = assignee
    pending_id = st.pending["id"] if st.pending else None
    if kind in ("approve", "reject"):
        assert st.pending is not None
        connection.execute(update(actions).where(actions.c.id == pending_id).values(
            approved_by=actor, approved_at=now, decision="approved" if kind == "approve" else "rejected"))
        values["pending_action_id"] = None
        if kind == "approve":
            values.update(status="suppressed", suppressed_until=st.pending["until"])
    # Only the version read above may be replaced: a concurrent action that committed first makes this match
    # nothing (Postgres re-checks the WHERE after waiting for the other transaction).
    if st.version == 0 and not st.reopened:
        connection.execute(insert(exception_state).values(exception_id=target.id, version=version,
                                                          episode_first_seen=target.first_seen, **values))
    else:
        done = connection.execute(update(exception_state).where(
            exception_state.c.exception_id == target.id, exception_state.c.version == st.version
        ).values(version=version, episode_first_seen=target.first_seen, **values))
        if done.rowcount != 1:
            raise Conflict(f"exception {target.id} changed while this action was being recorded: reload it and "
                           "try again; nothing was changed")
    inserted = connection.execute(insert(actions).values(
        exception_id=target.id, episode_first_seen=target.first_seen, kind=kind, actor=actor,
        assignee=assignee if kind == "assign" else None, reason_code=reason_code if kind == "resolve" else None,
        comment=(comment or "").strip() or None, until=until if kind == "suppress" else None,
        requires_approval=kind == "suppress", target_id=pending_id if kind in ("approve", "reject") else None,
        version=version, at=now)).inserted_primary_key
    assert inserted is not None
    new_id = inserted[0]
    if kind == "suppress":
        values["pending_action_id"] = new_id
        connection.execute(update(exception_state).where(exception_state.c.exception_id == target.id)
                           .values(pending_action_id=new_id))
    pending = None
    if values["pending_action_id"] is not None:
        row = connection.execute(select(actions).where(actions.c.id == values["pending_action_id"])).first()
        pending = _action(row) if row is not None else None
    return Status(target.id, version, values["status"], values["assignee"], values["suppressed_until"], pending,
                  members=st.members)
