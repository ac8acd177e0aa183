"""`tieout exceptions`: the queue, for people (a table) and programs (JSON, CSV)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.config import SEVERITIES
from tieout.due import DUE_KEYS
from tieout.entity_names import clipped
from tieout.errors import ExceptionsAtOrAbove
from tieout.exposure import at_risk
from tieout.output import format_reporting, original, table, to_csv, to_json
from tieout.queue_records import records, select, unknown_rules
from tieout.rules.registry import Rule, load_rules
from tieout.severity import at_or_above
from tieout.store import stored_days
from tieout.story import JSON_KEYS
from tieout.timeline import STATUSES, QueuedException
from tieout.web.queue import WORKFLOW_STATES


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
    unknown = unknown_rules(rules, rule)
    if unknown:
        raise click.BadParameter(unknown, param_hint="--rule")
    found = select(project, rules, status=status, as_of=as_of, teams=team, severities=severity, rule_names=rule,
                   assignees=assignee, unassigned=unassigned, states=states, search=search)
    if fmt in ("json", "csv"):
        listed = records(project, found, as_of)
        click.echo(to_json(listed) if fmt == "json" else to_csv(listed, (*JSON_KEYS, *DUE_KEYS)), nl=fmt == "json")
    elif not stored_days(project, until=as_of):
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

