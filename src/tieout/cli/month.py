"""`tieout month status|prepare|review|reopen`: signing a month's pack, and reopening a signed month."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tieout.cli.common import format_option, open_project, project_option
from tieout.output import to_json

_period = click.option("--period", required=True, help="The month, YYYY-MM.")
_actor = click.option("--as", "actor", required=True, help="Who signs (see `tieout users list`).")


@click.group()
def month() -> None:
    """Sign the month-end pack: a preparer, then a reviewer (a second person); a reviewed month is closed.

    \b
    tieout month prepare --period 2026-01 --as ana
    tieout month review  --period 2026-01 --as carol
    tieout month status
    tieout month reopen  --period 2026-01 --as carol --reason "late credit note for Acme"
    """


def _line(m: Any) -> str:
    from tieout.month_close import DONE

    signed = "; ".join(f"{DONE[s.step]} by {s.who} {s.at:%Y-%m-%d %H:%M}Z" + (f" ({s.reason})" if s.reason else "")
                       for s in m.signatures)
    return f"{m.period}  {m.state:<9}  {signed}".rstrip()


def _show(m: Any, fmt: str) -> None:
    click.echo(to_json(m.as_dict()) if fmt == "json" else _line(m))


@month.command("status")
@click.option("--period", help="One month, YYYY-MM (default: every month with a reconciled day).")
@project_option
@format_option("text", "json")
def status(period: str | None, project_dir: Path, fmt: str) -> None:
    """Where each month stands: open, prepared, closed or reopened, and who signed it."""
    from tieout.month_close import month_state, months

    project = open_project(project_dir)
    found = [month_state(project, period)] if period else months(project)
    if fmt == "json":
        click.echo(to_json([m.as_dict() for m in found]))
        return
    for m in found:
        click.echo(_line(m))


def _sign(step: str, period: str, actor: str, project_dir: Path, fmt: str, reason: str | None = None) -> None:
    from tieout.reports.signoff import sign

    _show(sign(open_project(project_dir), period, step, actor, reason=reason), fmt)


@month.command("prepare")
@_period
@_actor
@project_option
@format_option("text", "json")
def prepare(period: str, actor: str, project_dir: Path, fmt: str) -> None:
    """Sign the month's pack as prepared: its days are not run again until it is reviewed or reopened."""
    _sign("prepare", period, actor, project_dir, fmt)


@month.command("review")
@_period
@_actor
@project_option
@format_option("text", "json")
def review(period: str, actor: str, project_dir: Path, fmt: str) -> None:
    """Sign a prepared month as reviewed (not your own): the month is closed and its pack kept as signed."""
    _sign("review", period, actor, project_dir, fmt)


@month.command("reopen")
@_period
@_actor
@click.option("--reason", required=True, help="Why the signed month is reopened.")
@project_option
@format_option("text", "json")
def reopen(period: str, actor: str, reason: str, project_dir: Path, fmt: str) -> None:
    """Reopen a prepared or closed month (an approver or an admin, with a reason): its days can be run again."""
    _sign("reopen", period, actor, project_dir, fmt, reason)
