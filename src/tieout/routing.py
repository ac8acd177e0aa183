"""Which team must act: the rule's team (or the owner of the system it names), unless a route in
`tieout.yml` matches first. Built as one SQL CASE so routing costs nothing at scale.
"""

from __future__ import annotations

from collections.abc import Sequence

from tieout.config import Project, RouteCondition
from tieout.rules.registry import SYSTEM_OWNER, Rule
from tieout.sql import literal


def _in(column: str, values: Sequence[str] | str) -> str:
    items = [values] if isinstance(values, str) else values
    return f"{column} IN ({', '.join(literal(v) for v in items)})"


def _condition(when: RouteCondition) -> str:
    parts = []
    if when.rule is not None:
        parts.append(_in("rule", when.rule))
    if when.severity is not None:
        parts.append(_in("severity", when.severity))
    if when.source_system is not None:
        parts.append(_in("source_system", when.source_system))
    if when.field is not None:
        parts.append(_in("field", when.field))
    if when.min_impact is not None:
        parts.append(f"impact >= {when.min_impact}")
    return " AND ".join(parts) or "TRUE"


def default_team_sql(rules: dict[str, Rule], project: Project) -> str:
    owners = " ".join(
        f"WHEN source_system = {literal(system)} THEN {literal(team)}" for system, team in project.system_owners.items()
    )
    by_rule = " ".join(
        f"WHEN rule = {literal(r.name)} THEN "
        + (f"CASE {owners} ELSE NULL END" if r.team == SYSTEM_OWNER else literal(r.team))
        for r in rules.values()
    )
    return f"CASE {by_rule} ELSE NULL END"


def team_sql(rules: dict[str, Rule], project: Project) -> str:
    """SQL for the team of a finding with columns rule, severity, source_system, field, impact."""
    routes = " ".join(f"WHEN {_condition(r.when)} THEN {literal(r.team)}" for r in project.routing)
    default = default_team_sql(rules, project)
    return f"CASE {routes} ELSE {default} END" if routes else default
