"""`tieout patterns`: exceptions grouped by shared cause — rule, classification, what changed on the first
day and how the records came to be — with their weekly trend and the recurring ones flagged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.entity_names import TABLE_NAME_WIDTH, label
from tieout.output import format_reporting, table, to_json
from tieout.patterns import (
    DEFAULT_EXAMPLES,
    DEFAULT_MIN_WEEKS,
    DEFAULT_OF_WEEKS,
    STATUSES,
    Pattern,
    Report,
    patterns,
    report_record,
    window_start,
)
from tieout.rules.registry import load_rules
from tieout.safe_text import for_terminal
from tieout.store import stored_days


def signature_text(p: Pattern) -> str:
    sig = p.signature
    if sig.history != "compared":
        return "(first stored day)" if sig.history == "first_day" else "(no history)"
    return ", ".join(c.label() for c in sig.changes) or "(nothing changed)"


def origin_text(p: Pattern) -> str:
    return ", ".join(f"{o.system}:{o.method}" + ("" if o.lifecycle in ("existing", "first_day") else f"+{o.lifecycle}")
                     for o in p.signature.origins)


def _render(report: Report) -> None:
    rows = []
    for n, p in enumerate(report.patterns, 1):
        rows.append((n, p.signature.rule, p.signature.classification, signature_text(p), origin_text(p),
                     p.count, p.open, format_reporting(p.money_at_risk, p.currency),
                     " ".join(str(w.new) for w in p.trend), f"{p.week_over_week:+d}",
                     "yes" if p.recurring else ""))
    echo_rich(table(
        f"{len(report.patterns)} pattern(s) as of {report.as_of}"
        + (f", episodes first seen since {report.since}" if report.since else ""),
        ("#", "Rule", "Class", "Changed on first day", "Records", "Count", "Open", "Money at risk",
         f"New per week (last {len(report.patterns[0].trend) if report.patterns else 0})", "WoW", "Recurring"),
        rows, right=("#", "Count", "Open", "Money at risk", "WoW"),
        whole=("ID", "Rule"),
        drop=("Recurring", "WoW", f"New per week (last {len(report.patterns[0].trend) if report.patterns else 0})",
              "Records", "Changed on first day"),
    ))
    for n, p in enumerate(report.patterns, 1):
        click.echo(f"\n{n}. [{p.signature.id}] {p.sentence}")
        click.echo(f"   first seen {p.first_seen}, last new {p.last_new}, last seen {p.last_seen}")
        click.echo("   e.g. " + ", ".join(
            f"{e.id} ({for_terminal(label(e, width=TABLE_NAME_WIDTH))}, {e.first_seen})" for e in p.examples))


@click.command("patterns")
@project_option
@click.option("--as-of", "as_of", type=ISO_DATE, help="As it stood on this date (default: the latest stored day).")
@click.option("--status", type=click.Choice(STATUSES), default="all", show_default=True,
              help="Which episodes count: patterns are about recurrence, so all by default.")
@click.option("--since", type=ISO_DATE, help="Only episodes first seen on or after this date.")
@click.option("--weeks", type=click.IntRange(1, 520),
              help="Only episodes first seen in the last N ISO weeks (the trend shows them); default: all "
                   "episodes, an 8-week trend.")
@click.option("--rule", multiple=True, help="Only these rules (repeatable).")
@click.option("--examples", type=click.IntRange(0, 100), default=DEFAULT_EXAMPLES, show_default=True,
              help="Example exceptions per pattern.")
@click.option("--recurring-min", "min_weeks", type=click.IntRange(1, 52), default=DEFAULT_MIN_WEEKS,
              show_default=True, help="Recurring: new occurrences in at least this many ...")
@click.option("--recurring-of", "of_weeks", type=click.IntRange(1, 52), default=DEFAULT_OF_WEEKS,
              show_default=True, help="... of the last this many ISO weeks.")
@format_option("table", "json")
def patterns_cmd(project_dir: Path, as_of: date | None, status: str, since: date | None, weeks: int | None,
                 rule: tuple[str, ...], examples: int, min_weeks: int, of_weeks: int, fmt: str) -> None:
    """Exceptions grouped by shared cause, not by team; the ones that recur weekly flagged.

    \b
    A pattern is the exception episodes with the same rule, classification, change on their first day
    (which system, table and field) and origin of their records (entity map or natural key, new or not).
    Each gets its count, weekly trend, first and last occurrence, money at risk, examples and a sentence.
    """
    if since is not None and weeks is not None:
        raise click.BadParameter("give --since or --weeks, not both", param_hint="--weeks")
    if min_weeks > of_weeks:
        raise click.BadParameter(f"{min_weeks} of the last {of_weeks} weeks cannot happen",
                                 param_hint="--recurring-min")
    project = open_project(project_dir)
    rules = load_rules(project)
    unknown = sorted(set(rule) - set(rules))
    if unknown:
        raise click.BadParameter(f"no rule {unknown[0]!r} (known: {', '.join(rules)})", param_hint="--rule")
    days = stored_days(project, until=as_of)
    if weeks is not None and days:
        since = window_start(as_of or days[-1], weeks)
    report = patterns(project, rules, as_of=as_of, status=status, since=since, rule_names=rule,
                      trend_weeks=weeks, min_weeks=min_weeks, of_weeks=of_weeks, examples=examples)
    if fmt == "json":
        click.echo(to_json(report_record(report)))
    elif not days:
        click.echo(f"Nothing reconciled yet in {project.store_path}"
                   + (f" up to {as_of}" if as_of else "") + ": run `tieout run --as-of DATE` first.", err=True)
    else:
        _render(report)

