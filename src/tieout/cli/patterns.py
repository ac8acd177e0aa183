"""`tieout patterns`: exceptions grouped by shared cause — rule, what changed on the first day and how the
records came to be — with their cadence, lag, money, handoff and weekly trend, the recurring ones flagged."""

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
                     for o in p.origins)


def class_text(p: Pattern) -> str:
    """Its occurrences per classification: "timing 3, structural 1"."""
    return ", ".join(f"{c} {n}" for c, n in p.classifications.items())


def when_text(p: Pattern) -> str:
    """Its cadence and usual lag, short: "Fridays · 3 d (4/4)"."""
    parts = []
    if p.cadence is not None:
        parts.append(p.cadence.text.removeprefix("opens on "))
    if p.lag is not None and p.lag.days is not None:
        parts.append(f"{p.lag.days} d ({p.lag.count}/{p.lag.of})")
    return " · ".join(parts)


def handoff_text(p: Pattern) -> str:
    return f"{p.handoff.source} → {p.handoff.target}" if p.handoff is not None else ""


def _render(report: Report) -> None:
    rows = []
    weekly = f"New per week (last {len(report.patterns[0].trend) if report.patterns else 0})"
    for n, p in enumerate(report.patterns, 1):
        rows.append((n, p.signature.rule, class_text(p), when_text(p), signature_text(p), origin_text(p),
                     handoff_text(p), p.count, p.open, format_reporting(p.money_at_risk, p.currency),
                     format_reporting(p.peak_at_risk, p.currency), " ".join(str(w.new) for w in p.trend),
                     f"{p.week_over_week:+d}", "yes" if p.recurring else ""))
    echo_rich(table(
        f"{len(report.patterns)} pattern(s) as of {report.as_of}"
        + (f", episodes first seen since {report.since}" if report.since else ""),
        ("#", "Rule", "Class", "Opens · closes after", "Changed on first day", "Records", "Handoff", "Count",
         "Open", "Money at risk", "At most at once", weekly, "WoW", "Recurring"),
        rows, right=("#", "Count", "Open", "Money at risk", "At most at once", "WoW"),
        whole=("ID", "Rule"),
        drop=("Recurring", "WoW", weekly, "Records", "At most at once", "Handoff", "Changed on first day"),
    ))
    for n, p in enumerate(report.patterns, 1):
        click.echo(f"\n{n}. [{p.id}] {for_terminal(p.sentence)}")  # the registry's handoff words are free text
        click.echo(f"   first seen {p.first_seen}, last new {p.last_new}, last seen {p.last_seen}")
        click.echo(f"   systems {', '.join(p.systems) or '-'}; fields {', '.join(p.fields) or '-'}")
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
    A pattern is one cause: the exception episodes with the same rule, change on their first day (which
    system, table and field) and way their records resolved when not by the entity map, whatever their
    classification. Each gets its count, weekly trend, cadence (the weekday or day of the month it opens
    on), usual lag, money at risk now and at most at once, the systems and fields involved, the handoff of
    the ownership registry it crosses, examples and a sentence.
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

