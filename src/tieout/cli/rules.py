"""`tieout rules list`, `tieout rules explain` and `tieout rules check`."""

from __future__ import annotations

from pathlib import Path

import click

from tieout.cli.common import echo_rich, format_option, open_project, project_option
from tieout.errors import ConfigError, NotFound
from tieout.output import format_impact, table, to_json
from tieout.rules.registry import SYSTEM_OWNER, get_rule, load_rules
from tieout.timeline import exceptions


@click.group()
def rules() -> None:
    """The mismatch rules: built-in and your own."""


@rules.command("list")
@project_option
@format_option("table", "json")
def list_rules(project_dir: Path, fmt: str) -> None:
    """Every rule with its team, expected lag and parameters."""
    found = load_rules(open_project(project_dir))
    if fmt == "json":
        click.echo(to_json([
            {"name": r.name, "description": r.description, "impact": r.impact, "team": r.team,
             "expected_lag_days": r.expected_lag_days, "params": r.params, "enabled": r.enabled,
             "builtin": r.builtin, "exposure": r.exposure} for r in found.values()
        ]))
        return
    echo_rich(table(
        f"{len(found)} rules", ("Rule", "Team", "Lag", "Parameters", "Source", "Description"),
        ((r.name, "owner of its system" if r.team == SYSTEM_OWNER else r.team, f"{r.expected_lag_days}d",
          ", ".join(f"{k}={v}" for k, v in r.params.items()),
          ("built-in" if r.builtin else "project") + ("" if r.enabled else " (off)"), r.description)
         for r in found.values()),
    ))


@rules.command("explain")
@click.argument("name")
@click.option("--exception", "exception_id", help="Also explain why this exception fired.")
@project_option
def explain(name: str, exception_id: str | None, project_dir: Path) -> None:
    """A rule's SQL and parameters; with --exception ID, the evidence for that exception."""
    project = open_project(project_dir)
    found = load_rules(project)
    rule = get_rule(found, name)
    click.echo(f"{rule.name} — {rule.description}")
    click.echo(f"impact: {rule.impact}")
    if rule.exposure:
        shared = sorted(r.name for r in found.values() if r.exposure == rule.exposure and r is not rule)
        click.echo(f"exposure: {rule.exposure}" + (f" — shared with {', '.join(shared)}: on one entity, counted "
                                                  "once in money at risk" if shared else ""))
    click.echo(f"team: {rule.team}    expected lag: {rule.expected_lag_days} days")
    click.echo(f"source: {rule.source}")
    click.echo("parameters: " + (", ".join(f"${k} = {v}" for k, v in rule.params.items()) or "none")
               + "    (and $as_of, the as-of date)")
    click.echo("\n" + rule.sql.strip())
    if exception_id:
        match = [e for e in exceptions(project, found, status="all") if e.id == exception_id]
        if not match:
            raise NotFound(f"no exception {exception_id!r} in {project.store_path}")
        e = match[0]
        if e.rule != rule.name:
            raise NotFound(f"exception {exception_id} was raised by {e.rule}, not {rule.name}")
        click.echo(f"\nWhy {e.id} fired on {e.last_seen}: {e.details}")
        click.echo(f"entity: {e.canonical_id or '-'}   record: {e.source_system or '-'}:{e.source_id or '-'}"
                   f"   field: {e.field or '-'}")
        click.echo(f"impact: {format_impact(e.impact, e.currency, e.original_amount, e.original_currency)} → "
                   f"{e.severity}, routed to {e.team}")
        click.echo(f"open since {e.first_seen}" + (f", resolved on {e.resolved_on}" if e.resolved_on else "")
                   + f" ({e.classification})")




@rules.command("check", short_help="Can each rule run in another SQL dialect? Names what blocks it.")
@click.option("--dialect", required=True, type=click.Choice(["postgres", "spark", "snowflake", "bigquery"]),
              help="The SQL dialect of the engine the rules would run on.")
@project_option
@format_option("text", "json")
def check(dialect: str, project_dir: Path, fmt: str) -> None:
    """Transpile every rule from DuckDB's SQL to --dialect with sqlglot and say, per rule, that it is portable
    or what blocks it: a function only an engine provides (the rule's requires:), a DuckDB function or piece of
    DuckDB syntax the dialect lacks, or what sqlglot cannot write. Reads the syntax only; nothing runs.

    \b
    Exit code: 0 every enabled rule is portable; 3 an enabled rule is not (or a rule does not load).
    """
    from tieout.rules.portability import check_portability_of

    found = load_rules(open_project(project_dir))
    results = check_portability_of(found, dialect)
    blocked = [r for r in results if not r.portable and found[r.rule].enabled]
    if fmt == "json":
        click.echo(to_json({
            "dialect": dialect, "portable": not blocked,
            "rules": [{"rule": r.rule, "enabled": found[r.rule].enabled, "portable": r.portable,
                       "blockers": list(r.blockers), "requires": list(found[r.rule].requires), "sql": r.sql}
                      for r in results],
        }))
    else:
        width = max((len(r.rule) for r in results), default=0)
        click.echo(f"Rules in {dialect} (transpiled from DuckDB's SQL with sqlglot):")
        for r in results:
            off = "" if found[r.rule].enabled else " (off)"
            verdict = "portable" if r.portable else "blocked by " + "; ".join(r.blockers)
            click.echo(f"  {r.rule:<{width}}  {verdict}{off}")
        portable = sum(r.portable for r in results)
        click.echo(f"{portable} of {len(results)} rules portable to {dialect}.")
    if blocked:
        click.get_current_context().exit(ConfigError.exit_code)
