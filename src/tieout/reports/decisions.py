"""The weekly review's decisions: per pattern, who owns it, what they will do and by when.

At a weekly review (`tieout report weekly`, the web's Review page) the team records a decision on a pattern
(`tieout patterns` id): an owner, an action and a due date. The reviews after it show what happened since
(tieout.reports.decision_outcomes). A decision is recorded once and never edited; later it may be marked
**done** or **dropped**, once.

    >>> decide(project, rules, "3f2a9c1b0d4e", owner="ar team", action="bill on contract signature",
    ...        due=date(2026, 4, 3), actor="ana")                                    # doctest: +SKIP
    >>> close(project, "D-1", "done", actor="carol")                                 # doctest: +SKIP

Who may: anyone who may act on the queue (a team member, an approver, an admin); an auditor reads only. Every
decision, status and refusal is in the audit log (object `pattern:<id>`). The week is named by the review's last
day, a reconciled day (`--week`, default the latest).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from tieout import state
from tieout.config import Project
from tieout.errors import BadArgument, Conflict, NotAllowed, NotFound
from tieout.os_account import current as os_account
from tieout.patterns import patterns
from tieout.people.users import User, get_user
from tieout.reports.data import report_day
from tieout.reports.decision_records import PREFIX, Decision, decision, decisions, parse_ref
from tieout.rules.registry import Rule
from tieout.state.tables import DECISION_STATUSES, pattern_decisions
from tieout.workflow.audit import record, record_alone

__all__ = ["Decision", "close", "decide", "decisions", "parse_ref", "refusal_of"]

MAX_OWNER = 100  # the column's width
MAX_ACTION = 2000


def _now() -> datetime:
    return datetime.now(UTC)


def refusal_of(user: User | None) -> str | None:
    """Why `user` may not record a decision or mark one done or dropped, or None."""
    if user is None or user.anonymous:
        return "unknown or disabled user"
    if user.role == "auditor":
        return "an auditor has read-only access"
    if not user.can_write:
        return f"a {user.role.replace('_', ' ')} may not record review decisions"
    return None


def _text(value: str | None, what: str, limit: int) -> str:
    text = " ".join((value or "").split())  # one line: a table cell, a terminal row
    if not text:
        raise BadArgument(f"--{what}: required")
    if len(text) > limit:
        raise BadArgument(f"--{what}: at most {limit} characters (got {len(text)})")
    return text


def _pattern_ids(project: Project, rules: dict[str, Rule], week: date) -> set[str]:
    return {p.id for p in patterns(project, rules, as_of=week).patterns}


def decide(project: Project, rules: dict[str, Rule], pattern: str, *, owner: str, action: str, due: date,
           actor: str, week: date | None = None) -> Decision:
    """Record `actor`'s decision on `pattern` at the review of `week` (a reconciled day, default the latest).
    Raises BadArgument (an empty or too long owner or action), NotFound (the week is not reconciled, or the
    pattern is not one of that week's), NotAllowed (role)."""
    pattern = pattern.strip().lower()
    owner, action = _text(owner, "owner", MAX_OWNER), _text(action, "action", MAX_ACTION)
    week = report_day(project, week)[0]
    obj = f"pattern:{pattern}"
    try:
        if pattern not in _pattern_ids(project, rules, week):
            raise NotFound(f"{pattern!r} is not a pattern of the week ending {week} (see `tieout patterns "
                           f"--as-of {week}`)")
        with state.open(project, write=True) as connection:
            refusal = refusal_of(get_user(connection, actor))
            if refusal:
                raise NotAllowed(f"{actor} may not record a decision: {refusal}")
            row = {"pattern_id": pattern, "week": week, "owner": owner, "action": action, "due_on": due,
                   "recorded_by": actor, "os_user": os_account(), "recorded_at": _now()}
            inserted = connection.execute(pattern_decisions.insert().values(**row)).inserted_primary_key
            assert inserted is not None
            new_id = inserted[0]
            record(connection, actor=actor, action="decision.record", object=obj, outcome="allowed",
                   reason=action, detail={"ref": f"{PREFIX}{new_id}", "week": week, "owner": owner, "due_on": due})
            return _one(connection, new_id)
    except NotAllowed as e:
        record_alone(project, actor=actor, action="decision.record", object=obj, outcome="refused", reason=str(e),
                     detail={"week": week})
        raise


def _one(connection: Connection, decision_id: int) -> Decision:
    row = connection.execute(select(pattern_decisions).where(pattern_decisions.c.id == decision_id)).first()
    if row is None:
        raise NotFound(f"{PREFIX}{decision_id}: no such decision (see `tieout review decisions`)")
    return decision(dict(row._mapping))


def close(project: Project, ref: str, status: str, *, actor: str, note: str | None = None) -> Decision:
    """Mark decision `ref` (D-n) done or dropped, once. Raises BadArgument, NotFound, NotAllowed, Conflict (it
    already has a status: nothing changed)."""
    if status not in DECISION_STATUSES:
        raise BadArgument(f"a decision is marked {' or '.join(DECISION_STATUSES)}, not {status!r}")
    decision_id = parse_ref(ref)
    note = " ".join((note or "").split()) or None
    if note is not None and len(note) > MAX_ACTION:
        raise BadArgument(f"--note: at most {MAX_ACTION} characters")
    obj = f"{PREFIX}{decision_id}"
    try:
        with state.open(project, write=True) as connection:
            current = _one(connection, decision_id)
            obj = f"pattern:{current.pattern_id}"
            refusal = refusal_of(get_user(connection, actor))
            if refusal:
                raise NotAllowed(f"{actor} may not mark {current.ref} {status}: {refusal}")
            changed = connection.execute(
                update(pattern_decisions)
                .where(pattern_decisions.c.id == decision_id, pattern_decisions.c.status.is_(None))
                .values(status=status, status_by=actor, status_at=_now(), status_note=note)).rowcount
            if not changed:
                raise Conflict(f"{current.ref} is already {current.status} (by {current.status_by}): nothing changed")
            record(connection, actor=actor, action=f"decision.{status}", object=obj, outcome="allowed",
                   reason=note or "", detail={"ref": current.ref})
            return _one(connection, decision_id)
    except (NotAllowed, Conflict) as e:
        record_alone(project, actor=actor, action=f"decision.{status}", object=obj,
                     outcome="conflict" if isinstance(e, Conflict) else "refused", reason=str(e),
                     detail={"ref": f"{PREFIX}{decision_id}"})
        raise
