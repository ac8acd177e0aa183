"""`tieout review decide|decisions|close`: the weekly review's decisions per pattern, and what became of them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.output import table, to_csv, to_json

_actor = click.option("--as", "actor", required=True, help="Who records it (see `tieout users list`).")
# What `decisions --format csv` writes, in this order.
CSV_COLUMNS = ("ref", "week", "pattern_id", "owner", "action", "due_on", "recorded_by", "recorded_at", "status",
               "status_by", "outcome", "overdue", "new_since", "open_then", "open_now", "sentence")


@click.group()
def review() -> None:
    """The weekly review's decisions: per pattern an owner, an action and a due date; later reviews show the outcome.

    \b
    tieout report weekly                       # the review, with its patterns' ids
    tieout review decide 3f2a9c1b0d4e --owner "ar team" --action "bill on signature" --due 2026-04-03 --as ana
    tieout review decisions                    # each decision and what happened since
    tieout review close D-1 --status done --as carol
    """


def _text(d: Any) -> str:
    return (f"{d.ref}  {d.pattern_id}  review of {d.week}  owner {d.owner}  due {d.due_on}"
            + (f"  {d.status} by {d.status_by}" if d.status else "") + f"\n    {d.action}")


@review.command("decide")
@click.argument("pattern_id")
@click.option("--owner", required=True, help="Who owns the pattern's cause (a person or a team).")
@click.option("--action", "action", required=True, help="What they will do about it.")
@click.option("--due", required=True, type=ISO_DATE, help="By when, YYYY-MM-DD.")
@click.option("--week", type=ISO_DATE, help="The review's last day, a reconciled day (default: the latest).")
@_actor
@project_option
@format_option("text", "json")
def decide(pattern_id: str, owner: str, action: str, due: date, week: date | None, actor: str, project_dir: Path,
           fmt: str) -> None:
    """Record a decision on a pattern (its `tieout patterns` id) at the week's review."""
    from tieout.reports.decisions import decide as record_decision
    from tieout.rules.registry import load_rules

    project = open_project(project_dir)
    d = record_decision(project, load_rules(project), pattern_id, owner=owner, action=action, due=due,
                        actor=actor, week=week)
    click.echo(to_json(d.as_dict()) if fmt == "json" else _text(d))


@review.command("close")
@click.argument("ref")
@click.option("--status", type=click.Choice(["done", "dropped"]), required=True, help="How it ended.")
@click.option("--note", help="What was done, or why it was dropped.")
@_actor
@project_option
@format_option("text", "json")
def close(ref: str, status: str, note: str | None, actor: str, project_dir: Path, fmt: str) -> None:
    """Mark a decision (D-n) done or dropped; once."""
    from tieout.reports.decisions import close as close_decision

    d = close_decision(open_project(project_dir), ref, status, actor=actor, note=note)
    click.echo(to_json(d.as_dict()) if fmt == "json" else _text(d))


@review.command("decisions")
@click.option("--as-of", "as_of", type=ISO_DATE, help="The review's last day (default: the latest reconciled day).")
@project_option
@format_option("table", "json", "csv")
def decisions_cmd(as_of: date | None, project_dir: Path, fmt: str) -> None:
    """The decisions a review lists, each with what happened since: new occurrences, open then and now, overdue."""
    from tieout.reports.decision_outcomes import decisions_on
    from tieout.rules.registry import load_rules

    project = open_project(project_dir)
    end, rows = decisions_on(project, load_rules(project), as_of=as_of)
    if fmt == "json":
        click.echo(to_json({"as_of": end, "decisions": rows}))
    elif fmt == "csv":
        click.echo(to_csv(rows, CSV_COLUMNS), nl=False)
    else:
        echo_rich(table(
            f"{len(rows)} decision(s) at the review of the week ending {end}",
            ("Ref", "Review of", "Pattern", "Owner", "Action", "Due", "Outcome", "New since", "Open then/now"),
            ((r["ref"], r["week"], r["pattern_id"], r["owner"], r["action"], r["due_on"],
              r["outcome"] + (" (overdue)" if r["overdue"] else ""), r["new_since"],
              f"{_count(r['open_then'])} → {_count(r['open_now'])}") for r in rows),
            right=("New since",), whole=("Ref", "Pattern")))


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)
