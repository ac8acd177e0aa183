"""`tieout notify digest` and `tieout notify log`, and the P1 hook `tieout run` / `tieout backfill` call."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.config import Project
from tieout.output import table, to_json
from tieout.rules.registry import Rule, load_rules


def p1_after_run(project: Project, rules: dict[str, Rule] | None, as_of: date) -> None:
    """Send the P1s open now that the run or backfill ending on `as_of` found (`notify_p1s`). Nothing here may
    fail the run: the days are committed already, so a failure is a warning on stderr (and a `failed` row in
    the log, retried next time)."""
    if not project.notifications.channels or not project.notifications.p1_immediately:
        return
    try:
        from tieout.notify import notify_p1s

        outcomes = notify_p1s(project, load_rules(project) if rules is None else rules, as_of)
    except Exception as e:  # noqa: BLE001 - the run's exit code must not depend on a notification
        click.echo(f"warning: P1 notifications for {as_of} were not sent: {type(e).__name__}: {e}", err=True)
        return
    for o in outcomes:
        if not o.ok:
            click.echo(f"warning: P1 notification to {o.team} via {o.channel} failed after {o.attempts} attempt(s): "
                       f"{o.error} (recorded; retried by the next run or digest)", err=True)


@click.group("notify")
def notify() -> None:
    """Team notifications: the daily digest, and the log of what was sent."""


@notify.command("digest")
@project_option
@click.option("--as-of", "as_of", type=ISO_DATE, help="The reconciled day (default: the latest).")
@click.option("--team", help="Only this team.")
@format_option("text", "json")
def digest(project_dir: Path, as_of: date | None, team: str | None, fmt: str) -> None:
    """Send each team its digest: what it has not been told yet (new, reopened, more severe, resolved)."""
    from tieout.notify import send_digests

    project = open_project(project_dir)
    if not project.notifications.channels:
        click.echo(f"{project.root / 'tieout.yml'}: no notifications.channels configured; nothing sent", err=True)
    outcomes = send_digests(project, load_rules(project), as_of=as_of, team=team)
    if fmt == "json":
        click.echo(to_json([o.as_dict() for o in outcomes]))
    else:
        for o in outcomes:
            state = "sent" if o.ok else f"FAILED after {o.attempts} attempt(s): {o.error}"
            click.echo(f"{o.team} via {o.channel}: {o.exceptions} exception(s), {state}")
        if not outcomes:
            click.echo("nothing new to send")
    failed = [o for o in outcomes if not o.ok]
    if failed:
        click.echo(f"warning: {len(failed)} digest(s) not delivered (recorded; the next digest retries)", err=True)


@notify.command("log")
@project_option
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@format_option("table", "json")
def log_cmd(project_dir: Path, limit: int, fmt: str) -> None:
    """What was sent to which channel, newest first, with failures and their errors."""
    from tieout.notify.log import deliveries

    rows = deliveries(open_project(project_dir), limit=limit)
    if fmt == "json":
        click.echo(to_json(rows))
        return
    echo_rich(table(f"{len(rows)} notification(s)",
                    ("When", "Kind", "Team", "Channel", "Exception", "Severity", "Outcome", "Attempts", "Error"),
                    ((r["attempted_at"], r["kind"], r["team"], r["channel"],
                      r["exception_id"] or "(nothing new)",  # a quiet digest's mark (notify.log.NOTHING_NEW)
                      r["severity"], r["outcome"], r["attempts"], r["error"] or "") for r in rows)))
