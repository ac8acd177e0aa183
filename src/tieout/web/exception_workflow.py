"""The workflow as the exception page shows it: the exception's latest episode, its status and its history.

A module of its own because `pages` (the exception page) shows it and `flow` (the actions, which show that page
again when one is refused) reads the same episode: `flow` imports `pages`, and neither needs the other back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request

from tieout.errors import NotFound
from tieout.web.auth import User
from tieout.web.reads import Reads


def target_for(request: Request, ident: str) -> Any:
    """The exception's latest episode as the workflow sees it (from the cached queue). Raises NotFound."""
    from tieout.workflow import target_of

    reads: Reads = request.app.state.reads
    for e in reads.exceptions():
        if e.id == ident:
            return target_of(e)
    raise NotFound(f"no exception {ident!r}")


def workflow_context(request: Request, ident: str, user: User) -> dict[str, Any]:
    """What the exception page shows of the workflow: status, history by episode, the form's choices."""
    from tieout import state
    from tieout.workflow import REASON_CODES, Status, actions_on, status_of
    from tieout.workflow.core import as_of_day

    target = target_for(request, ident)
    project = request.app.state.project
    if state.exists(project):
        st, actions = status_of(project, target), actions_on(project, ident)
    else:  # nothing recorded yet, and a read must not create the database
        st, actions = Status(ident, 0, "open"), []
    return {"wf": st, "wf_target": target, "reason_codes": REASON_CODES,
            "current_actions": [a for a in actions if a["episode_first_seen"] == target.first_seen],
            "earlier_actions": [a for a in actions if a["episode_first_seen"] != target.first_seen],
            "min_until": (as_of_day(project) + timedelta(days=1)).isoformat(), "csrf": request.state.csrf}
