"""Bulk actions on the queue: one workflow action on each selected exception, each through `tieout.workflow.act`
— the function every single action calls — so each is authorised, version-checked and audited exactly as if it
had been taken alone, in a transaction of its own.

Not all-or-nothing: a refused exception (not your team's, changed since the page was read, an assignee outside
its team) is reported with why, and the others are still applied — as the same clicks one by one would have
done. The routes are in `tieout.web.bulk`; this module holds what the queue page needs to offer and report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from tieout.config import Project
from tieout.errors import BadArgument, Conflict, NotAllowed
from tieout.people.users import User

BULK_KINDS = {"ack": "acknowledged", "assign": "assigned", "comment": "commented on", "resolve": "resolved"}
BULK_LIMIT = 500  # exceptions per request: a page of the queue is far fewer, and each is one transaction


@dataclass(frozen=True)
class Outcome:
    id: str
    ok: bool
    detail: str = ""
    status_code: int = 200  # as the single action would answer: 403 not allowed, 409 conflict, 422 malformed, 404
    status: dict[str, Any] | None = None  # the new workflow status, when applied

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status_code": self.status_code, "detail": self.detail, "status": self.status}


@dataclass(frozen=True)
class BulkReport:
    kind: str
    applied: int
    refused: list[Outcome] = field(default_factory=list)

    @property
    def verb(self) -> str:
        return BULK_KINDS.get(self.kind, self.kind)


def parse_items(values: Iterable[str]) -> list[tuple[str, int]]:
    """The form's selected rows, each `ID:VERSION` (the version the page showed it at). Raises BadArgument."""
    out: dict[str, int] = {}
    for value in values:
        ident, _, version = value.partition(":")
        if not ident or not version.isdigit():
            raise BadArgument(f"{value!r} is not a selected exception (expected ID:VERSION)")
        out[ident] = int(version)
    return list(out.items())


def act_on_many(request: Request, user: User, kind: str, items: list[tuple[str, int]], *,
                assignee: str | None = None, reason_code: str | None = None,
                comment: str | None = None) -> list[Outcome]:
    """`kind` on each of `items` (id, expected version) as `user`, one `act` each; never raises for one item."""
    from tieout.workflow import act, target_of

    if kind not in BULK_KINDS:
        raise BadArgument(f"bulk action {kind!r}: one of {', '.join(BULK_KINDS)}")
    if not items:
        raise BadArgument("select at least one exception")
    if len(items) > BULK_LIMIT:
        raise BadArgument(f"{len(items)} exceptions selected: at most {BULK_LIMIT} at a time")
    targets = {e.id: target_of(e) for e in request.app.state.reads.exceptions()}
    project = request.app.state.project
    outcomes = []
    for ident, version in items:
        if ident not in targets:
            outcomes.append(Outcome(ident, False, f"no exception {ident!r}", 404))
            continue
        try:
            st = act(project, user.name, ident, kind, expected_version=version, assignee=assignee or None,
                     reason_code=reason_code or None, comment=comment, target=targets[ident])
        except (Conflict, NotAllowed, BadArgument) as e:
            code = 409 if isinstance(e, Conflict) else 403 if isinstance(e, NotAllowed) else 422
            outcomes.append(Outcome(ident, False, str(e), code))
        else:
            outcomes.append(Outcome(ident, True, status=st.as_dict()))
    return outcomes


def report_of(kind: str, outcomes: list[Outcome]) -> BulkReport:
    return BulkReport(kind, sum(o.ok for o in outcomes), [o for o in outcomes if not o.ok])


def done_report(request: Request) -> BulkReport | None:
    """What the redirect after a fully applied bulk action says (`?done=bulk-ack&n=3`), for its message."""
    done, n = request.query_params.get("done", ""), request.query_params.get("n", "")
    kind = done.removeprefix("bulk-")
    return BulkReport(kind, int(n)) if done.startswith("bulk-") and kind in BULK_KINDS and n.isdigit() else None


def team_members(project: Project) -> dict[str, list[str]]:
    """Every team with its enabled members, for the bulk form's assignee choice. An absent state database is
    not created: nobody is a member of anything yet."""
    from tieout import state
    from tieout.people import list_users

    if not state.exists(project):
        return {}
    teams: dict[str, list[str]] = {}
    for u in list_users(project):
        for team in u.teams:
            teams.setdefault(team, []).append(u.name)
    return dict(sorted(teams.items()))


def bulk_choices(project: Project, user: User) -> Mapping[str, Any]:
    """What the queue's bulk form offers `user`: nothing to a reader; the actions, reason codes and assignees."""
    from tieout.workflow import REASON_CODES

    if not user.can_write:
        return {"bulk_kinds": {}, "reason_codes": (), "members": {}}
    if user.role == "approver":  # an approver approves one at a time, and may comment
        return {"bulk_kinds": {"comment": BULK_KINDS["comment"]}, "reason_codes": (), "members": {}}
    return {"bulk_kinds": BULK_KINDS, "reason_codes": REASON_CODES, "members": team_members(project)}
