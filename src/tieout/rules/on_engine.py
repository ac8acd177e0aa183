"""A run on an engine other than DuckDB refuses, before it reads anything, every enabled rule that engine cannot
run — naming the rule, the engine and the construct — with what `tieout rules check --dialect` computes."""

from __future__ import annotations

from tieout.engines.base import Engine
from tieout.errors import ConfigError
from tieout.rules.registry import Rule


def refuse_unportable(rules: dict[str, Rule], engine: type[Engine]) -> None:
    """Raise ConfigError (exit 3) naming each enabled rule `engine` cannot run and what blocks it."""
    from tieout.rules.portability import check_portability

    blocked = [(rule, check_portability(rule, engine.dialect)) for rule in rules.values() if rule.enabled]
    problems = [f"rule {rule.name} ({rule.source}) cannot run on the {engine.name} engine: {'; '.join(p.blockers)}"
                for rule, p in blocked if not p.portable]
    if problems:
        raise ConfigError("\n".join(problems) + f"\n(disable the rule for this project, or run with engine: duckdb; "
                          f"`tieout rules check --dialect {engine.dialect}` lists every rule)")
