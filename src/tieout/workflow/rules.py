"""Who may do what: the one authorisation table, checked on the server for every action on every object.

    admin        everything, but never approves their own request (maker-checker)
    team_member  ack, assign, comment, resolve, suppress — only exceptions routed to one of their teams
    approver     approve or reject a pending suppression (never their own), comment
    auditor      nothing: read-only (the audit page included)
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
