"""Who may do what: the one authorisation table, checked on the server for every action on every object.

    admin        everything, but never approves their own request (maker-checker)
    team_member  ack, assign, comment, resolve, suppress — only exceptions routed to one of their teams
    approver     approve or reject a pending suppression (never their own), comment
    auditor      nothing: read-only (the audit page included)

Corrections (`authorise_correction`) follow the same roles: admins and team members record them (corrections
are about an entity, not an exception, so no team applies), approvers and admins approve or reject a request
held for approval — never their own.
"""

from __future__ import annotations

from typing import Any

from tieout.people.users import User

TEAM_KINDS = ("ack", "assign", "comment", "resolve", "suppress")
APPROVER_KINDS = ("approve", "reject", "comment")


def authorise(user: User | None, kind: str, team: str | None, pending: dict[str, Any] | None) -> str | None:
    """None if `user` may take action `kind` on an exception routed to `team`, else why not."""
    if user is None or user.anonymous:
        return "unknown or disabled user"
    if user.role == "auditor":
        return "an auditor has read-only access"
    if user.role == "team_member":
        if kind not in TEAM_KINDS:
            return f"a team member may not {kind}: only an approver or an admin may"
        if team is None or team not in user.teams:
            return f"the exception is routed to team {team or '(none)'}, not to one of {user.name}'s teams"
    if user.role == "approver" and kind not in APPROVER_KINDS:
        return f"an approver may approve, reject or comment, not {kind}"
    if kind in ("approve", "reject") and pending is not None and pending["actor"] == user.name:
        return "maker-checker: nobody approves or rejects their own request"
    return None


CORRECTION_KINDS = ("correct", "approve", "reject")


def authorise_correction(user: User | None, kind: str, requester: str | None) -> str | None:
    """None if `user` may record a correction (`correct`) or approve / reject one requested by `requester`,
    else why not."""
    if user is None or user.anonymous:
        return "unknown or disabled user"
    if user.role == "auditor":
        return "an auditor has read-only access"
    if kind == "correct":
        if user.role not in ("admin", "team_member"):
            return f"an {user.role} approves corrections; an admin or a team member records them"
        return None
    if user.role not in ("admin", "approver"):
        return f"a {user.role.replace('_', ' ')} may not {kind} a correction: only an approver or an admin may"
    if requester is not None and requester.strip().casefold() == user.name.strip().casefold():
        return "maker-checker: nobody approves or rejects their own request"
    return None
