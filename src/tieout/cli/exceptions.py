"""`tieout exceptions`: the queue, for people (a table) and programs (JSON, CSV)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.config import SEVERITIES, Project
from tieout.due import DUE_KEYS, Due, due_of
from tieout.entity_names import clipped, exception_text, matches, with_names
from tieout.errors import ExceptionsAtOrAbove
from tieout.exposure import at_risk
from tieout.output import format_reporting, original, table, to_csv, to_json
from tieout.rules.registry import Rule, load_rules
from tieout.severity import RANK, at_or_above
from tieout.store import stored_days
from tieout.story import JSON_KEYS, exception_record
from tieout.timeline import STATUSES, QueuedException, exceptions
from tieout.web.queue import WORKFLOW_STATES


def _record(e: QueuedException, due: Due) -> dict[str, Any]:
    """`exception_record`, then its age and due date on the as-of day (tieout.due)."""
    return {**exception_record(e), **due.as_dict()}


def _subject(e: QueuedException) -> str:
    parts = [e.canonical_id or f"{e.source_system}:{e.source_id}"]
    if e.canonical_id and e.source_system:
        parts.append(e.source_system)
    if e.field:
        parts.append(e.field)
    return " · ".join(parts)


def _at_risk(found: list[QueuedException], rules: dict[str, Rule]) -> str:
    """The money at risk of the open ones listed, each gap once (docs/rules.md, "Money at risk")."""
    still = [e for e in found if e.status == "open"]
    if not still:
        return ""
    money = format_reporting(at_risk(still, rules), still[0].currency)
    return f", {money} at risk" + ("" if len(still) == len(found) else f" in the {len(still)} open")


@click.command("exceptions")
@project_option
@click.option("--status", type=click.Choice(STATUSES), default="open", show_default=True)
@click.option("--team", multiple=True, help="Only these teams (repeatable).")
@click.option("--severity", multiple=True, type=click.Choice(SEVERITIES), help="Only these severities.")
@click.option("--rule", multiple=True, help="Only these rules (repeatable).")
@click.option("--search", "search", metavar="TEXT",
              help="Only exceptions whose entity or record has TEXT in a name (any case, accents or not), its "
                   "canonical id, a source id, domain or tax id — or in the exception's id, rule, field, team "
                   "or details.")
@click.option("--as-of", "as_of", type=ISO_DATE, help="The queue as it stood on this date.")
@click.option("--assignee", multiple=True, help="Only exceptions assigned to this user (repeatable).")
@click.option("--unassigned", is_flag=True, help="Only exceptions assigned to nobody (with --assignee: or to them).")
@click.option("--state", "states", multiple=True, type=click.Choice(tuple(WORKFLOW_STATES)),
              help="Only exceptions in this workflow state (repeatable); open = nobody acted on it yet.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 5 if a listed open exception is at or above this severity.")
@format_option("table", "json", "csv")
def exceptions_cmd(project_dir: Path, status: str, team: tuple[str, ...], severity: tuple[str, ...],
                   rule: tuple[str, ...], search: str | None, as_of: date | None, assignee: tuple[str, ...],
                   unassigned: bool, states: tuple[str, ...], fail_on: str | None, fmt: str) -> None:
    """List exceptions: by default the open ones on the latest reconciled day."""
    project = open_project(project_dir)
    rules = load_rules(project)
    unknown = sorted(set(rule) - set(rules))
    if unknown:
        raise click.BadParameter(f"no rule {unknown[0]!r} (known: {', '.join(rules)})", param_hint="--rule")
    found = [
        e for e in exceptions(project, rules, as_of=as_of, status=status)
        if (not team or e.team in team) and (not severity or e.severity in severity)
        and (not rule or e.rule in rule)
    ]
    if assignee or unassigned or states:
        found = _by_workflow(project, found, assignee, unassigned, states)
    found = [e for e in with_names(project, found, as_of) if not search or matches(search, exception_text(e))]
    found.sort(key=lambda e: (RANK[e.severity], -e.impact, e.rule, e.id))
    days = stored_days(project, until=as_of)
    day = as_of or (days[-1] if days else None)
    if fmt in ("json", "csv"):
        records = [_record(e, due_of(e, project.sla, day)) for e in found] if day else []
        click.echo(to_json(records) if fmt == "json" else to_csv(records, (*JSON_KEYS, *DUE_KEYS)),
                   nl=fmt == "json")
    elif not days:
        click.echo(f"Nothing reconciled yet in {project.store_path}"
                   + (f" up to {as_of}" if as_of else "") + ": run `tieout run --as-of DATE` first.", err=True)
    else:
        # The amount in the records' own currency, in a column of its own, only when some exception has one.
        originals = any(e.original_currency for e in found)
        echo_rich(table(
            f"{len(found)} {status if status != 'all' else ''} exception(s)".replace("  ", " ")
            + _at_risk(found, rules),
            ("ID", "Sev", "Rule", "Entity / record", "Name", "Impact", *(("Original",) if originals else ()),
             "Team", "Status", "Class", "First seen", "Resolved"),
            ((e.id, e.severity, e.rule, _subject(e), clipped(e.entity_name), format_reporting(e.impact, e.currency),
              *((original(e.original_amount, e.original_currency) or "",) if originals else ()), e.team, e.status,
              e.classification, e.first_seen, e.resolved_on or "") for e in found),
            right=("Impact", "Original"),
            # Left out in this order when the terminal is narrow; ID, severity, rule, subject and impact stay. The
            # name goes last: the subject beside it still says which entity (its id) the row is about.
            whole=("ID", "Rule", "Team"),  # a team is a word people type into --team
            drop=("Resolved", "First seen", "Class", "Status", "Original", "Team", "Name"),
        ))
    if fail_on:
        worst = [e for e in found if e.status == "open" and at_or_above(e.severity, fail_on)]
        if worst:
            raise ExceptionsAtOrAbove(f"{len(worst)} open exception(s) at or above {fail_on}")


def _by_workflow(project: Project, found: list[QueuedException], assignee: tuple[str, ...], unassigned: bool,
                 states: tuple[str, ...]) -> list[QueuedException]:
    """`found` narrowed by where each stands in the workflow (the web queue's Workflow column): its assignee,
    nobody, or its state. The state database is read, never created."""
    from tieout.web.queue import NO_FLOW, flows

    flow = flows(project, found)
    out = []
    for e in found:
        f = flow.get(e.id, NO_FLOW)
        whose = not (assignee or unassigned) or f.assignee in assignee or (unassigned and f.assignee is None)
        if whose and (not states or f.state in states):
            out.append(e)
    return out
