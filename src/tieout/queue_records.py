"""The exception queue as records: what `tieout exceptions --format json` prints and `tieout.exceptions()` returns.

The exceptions of one status as they stood on a day (default: the latest stored day), narrowed by team, severity,
rule, where each stands in the workflow and a search, worst first; each record the contract's keys
(`tieout.story.JSON_KEYS`) with its age and due date on that day (`tieout.due.DUE_KEYS`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from tieout.config import Project
from tieout.due import due_of
from tieout.entity_names import exception_text, matches, with_names
from tieout.rules.registry import Rule
from tieout.severity import RANK
from tieout.store import stored_days
from tieout.story import exception_record
from tieout.timeline import QueuedException, exceptions


def unknown_rules(rules: dict[str, Rule], names: Collection[str]) -> str | None:
    """What to say when `names` holds a rule the project does not have; None when it has them all."""
    unknown = sorted(set(names) - set(rules))
    return f"no rule {unknown[0]!r} (known: {', '.join(rules)})" if unknown else None


def select(project: Project, rules: dict[str, Rule], *, status: str = "open", as_of: date | None = None,
           teams: Collection[str] = (), severities: Collection[str] = (), rule_names: Collection[str] = (),
           assignees: Collection[str] = (), unassigned: bool = False, states: Collection[str] = (),
           search: str | None = None) -> list[QueuedException]:
    """The exceptions listed, named and worst first. An empty collection does not narrow; `assignees`,
    `unassigned` and `states` narrow by the workflow (the state database is read, never created)."""
    found = [e for e in exceptions(project, rules, as_of=as_of, status=status)
             if (not teams or e.team in teams) and (not severities or e.severity in severities)
             and (not rule_names or e.rule in rule_names)]
    if assignees or unassigned or states:
        found = _by_workflow(project, found, assignees, unassigned, states)
    found = [e for e in with_names(project, found, as_of) if not search or matches(search, exception_text(e))]
    found.sort(key=lambda e: (RANK[e.severity], -e.impact, e.rule, e.id))
    return found


def records(project: Project, found: list[QueuedException], as_of: date | None = None) -> list[dict[str, Any]]:
    """`found` as records, each with its age and due date on `as_of` (default: the latest stored day)."""
    day = as_of
    if day is None:  # the latest stored day; none stored, nothing listed
        days = stored_days(project)
        if not days:
            return []
        day = days[-1]
    # Lists, not tuples (`ownership_edits`): a DataFrame made from the records reads a tuple as a struct.
    return [{k: list(v) if isinstance(v, tuple) else v
             for k, v in {**exception_record(e), **due_of(e, project.sla, day).as_dict()}.items()} for e in found]


def _by_workflow(project: Project, found: list[QueuedException], assignees: Collection[str], unassigned: bool,
                 states: Collection[str]) -> list[QueuedException]:
    """`found` narrowed by where each stands in the workflow (the web queue's Workflow column): its assignee,
    nobody, or its state."""
    from tieout.web.queue import NO_FLOW, flows

    flow = flows(project, found)
    out = []
    for e in found:
        f = flow.get(e.id, NO_FLOW)
        whose = not (assignees or unassigned) or f.assignee in assignees or (unassigned and f.assignee is None)
        if whose and (not states or f.state in states):
            out.append(e)
    return out
