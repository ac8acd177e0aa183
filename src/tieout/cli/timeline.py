"""`tieout timeline`: the open queue of every stored day, counted by rule and by classification."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.output import table, to_json
from tieout.rules.registry import load_rules
from tieout.timeline import DayCounts, daily_counts

CLASSIFICATIONS = ("pending", "structural", "timing", "ownership")
TOP_RULES = 3


def day_record(d: DayCounts) -> dict[str, object]:
    return {"date": d.date, "open": d.open, "opened": d.opened, "resolved": d.resolved,
            "by_rule": dict(sorted(d.by_rule.items())),
            "by_classification": {c: d.by_classification.get(c, 0) for c in CLASSIFICATIONS}}


def _top_rules(d: DayCounts) -> str:
    # Most open first; the name breaks ties so the column is the same on every run.
    ranked = sorted(d.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{rule} {n}" for rule, n in ranked[:TOP_RULES])
    return shown + (f", +{len(ranked) - TOP_RULES} more" if len(ranked) > TOP_RULES else "")


@click.command("timeline")
@project_option
@click.option("--from", "start", type=ISO_DATE, help="First day shown (default: the first stored day).")
@click.option("--to", "end", type=ISO_DATE, help="Last day shown (default: the last stored day).")
@format_option("text", "json")
def timeline(project_dir: Path, start: date | None, end: date | None, fmt: str) -> None:
    """Per reconciled day: the exceptions open that day, by rule and by classification as of that day."""
    if start and end and end < start:
        raise click.BadParameter("--to is before --from")
    project = open_project(project_dir)
    days = daily_counts(project, load_rules(project), start=start, end=end)
    if fmt == "json":
        click.echo(to_json([day_record(d) for d in days]))
        return
    # Timing never counts as open (it needs a resolution), so it gets no column here.
    shown = ("pending", "structural", "ownership")
    echo_rich(table(
        f"{len(days)} reconciled day(s)",
        ("Day", "Open", "New", "Resolved", *(c.capitalize() for c in shown), "Top rules"),
        ((d.date, d.open, d.opened, d.resolved, *(d.by_classification.get(c, 0) for c in shown), _top_rules(d))
         for d in days),
        right=("Open", "New", "Resolved", *(c.capitalize() for c in shown)),
    ))
