"""`tieout correct`, `tieout corrections` and `tieout audit verify`.

The corrections package (and SQLAlchemy with it) is imported inside each command, so that every other
command starts without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tieout.cli.common import echo_rich, format_option, open_project, project_option
from tieout.errors import AuditBroken
from tieout.output import table, to_csv, to_json
from tieout.systems import SYSTEMS

if TYPE_CHECKING:
    from tieout.corrections import Correction, CorrectionRequest

COLUMNS = ("seq", "recorded_at", "canonical_id", "system", "field", "source_id", "old_value", "new_value",
           "reason", "who", "ticket", "approved_by", "request_id", "hash", "os_user", "approved_os_user")
REQUEST_COLUMNS = ("ref", "requested_at", "canonical_id", "system", "field", "source_id", "old_value", "new_value",
                   "reason", "who", "ticket", "impact", "threshold", "status", "decided_by", "decided_at",
                   "decision_comment", "correction_seq", "os_user", "decided_os_user")


def _os_user() -> str:
    from tieout.os_account import os_user

    return os_user()  # the real account (effective uid), never $USER


def _shown(value: str | None) -> str:
    return "∅" if value is None else repr(value)


@click.command()
@click.option("--entity", "canonical_id", required=True, help="The canonical id of the corrected entity.")
@click.option("--system", type=click.Choice(SYSTEMS), required=True, help="The system where the value was changed.")
@click.option("--field", required=True,
              help="A field the system owns: of the ownership registry (legal_name, tax_id) or of its records "
                   "(e.g. billed_fte, amount, annual_value, contracted_fte).")
@click.option("--old", "old_value", default=None,
              help="The value before the correction ('' for none); checked against the stored record (exit 9 if "
                   "it does not match). Left out: the stored value is recorded.")
@click.option("--new", "new_value", required=True, help="The value after the correction ('' for none).")
@click.option("--reason", required=True, help="Why it was corrected (required, not empty).")
@click.option("--who", default=_os_user, show_default="the OS user", help="Who made the correction.")
@click.option("--ticket", help="A ticket or case reference.")
@click.option("--source-id", "source_id", help="The corrected record in that system (default: the entity's).")
@project_option
@format_option("text", "json")
def correct(canonical_id: str, system: str, field: str, old_value: str | None, new_value: str, reason: str, who: str,
            ticket: str | None, source_id: str | None, project_dir: Path, fmt: str) -> None:
    """Record a hand correction in the append-only corrections log — or, when its impact is above
    `workflow.correction_approval_over`, ask a second person to approve it (`tieout approve CR-n`)."""
    from tieout.corrections import request_correction
    from tieout.output import format_reporting

    if not reason.strip():
        raise click.BadParameter("a correction needs a reason (it is what the next person reads)",
                                 param_hint="--reason")
    if not who.strip():
        raise click.BadParameter("no OS user name to default to: say who made the correction", param_hint="--who")
    project = open_project(project_dir)
    done = request_correction(project, canonical_id=canonical_id, system=system, field=field, old_value=old_value,
                              new_value=new_value, reason=reason, who=who, ticket=ticket, source_id=source_id)
    if fmt == "json":
        click.echo(to_json(done.correction.as_dict() if done.correction else
                           {**done.request.as_dict(), "applied": False}))  # type: ignore[union-attr]
    elif done.correction is not None:
        click.echo(correction_line(done.correction))
    else:
        r = done.request
        assert r is not None and done.threshold is not None
        currency = project.reporting_currency
        click.echo(f"correction held for approval as {r.ref}: {r.canonical_id} {_record(r)} {r.field} "
                   f"{_shown(r.old_value)} → {_shown(r.new_value)} by {r.who}; its impact "
                   f"{format_reporting(r.impact, currency)} is above the approval threshold "
                   f"{format_reporting(done.threshold, currency)}. It enters the log once someone else approves it: "
                   f"tieout approve {r.ref} --as NAME")


def _record(c: Correction | CorrectionRequest) -> str:
    return f"{c.system}:{c.source_id}" if c.source_id else c.system


def correction_line(c: Correction) -> str:
    """`correction #1 recorded: ACME billing legal_name 'a' → 'b' by ana (FIN-12)[, approved by carol]`."""
    return (f"correction #{c.seq} recorded: {c.canonical_id} {_record(c)} {c.field} {_shown(c.old_value)} → "
            f"{_shown(c.new_value)} by {c.who}" + (f" ({c.ticket})" if c.ticket else "") +
            (f", approved by {c.approved_by}" if c.approved_by else ""))


@click.command("corrections")
@project_option
@click.option("--entity", "canonical_id", help="Only this entity's corrections.")
@click.option("--pending", is_flag=True, help="List the correction requests waiting for approval instead.")
@format_option("table", "json", "csv")
def corrections_cmd(project_dir: Path, canonical_id: str | None, pending: bool, fmt: str) -> None:
    """List the corrections log, oldest first (or, with --pending, the requests waiting for approval)."""
    from tieout.corrections import corrections_for, requests
    from tieout.output import format_reporting

    project = open_project(project_dir)
    if pending:
        found = [r.as_dict() for r in requests(project, status="pending")
                 if canonical_id is None or r.canonical_id == canonical_id]
        if fmt == "json":
            click.echo(to_json([{k: r[k] for k in REQUEST_COLUMNS} for r in found]))
        elif fmt == "csv":
            click.echo(to_csv(found, REQUEST_COLUMNS), nl=False)
        else:
            echo_rich(table(
                f"{len(found)} correction request(s) waiting for approval",
                ("Ref", "Requested (UTC)", "Entity", "System", "Field", "Old", "New", "Who", "Impact", "Reason"),
                ((r["ref"], r["requested_at"][:19].replace("T", " "), r["canonical_id"], r["system"], r["field"],
                  _shown(r["old_value"]), _shown(r["new_value"]), r["who"],
                  format_reporting(r["impact"], project.reporting_currency), r["reason"]) for r in found)))
        return
    rows = [c.as_dict() for c in corrections_for(project, canonical_id)]
    if fmt == "json":
        click.echo(to_json([{k: r[k] for k in COLUMNS} for r in rows]))
    elif fmt == "csv":
        click.echo(to_csv(rows, COLUMNS), nl=False)
    else:
        echo_rich(table(
            f"{len(rows)} correction(s)",
            ("Seq", "Recorded (UTC)", "Entity", "System", "Field", "Old", "New", "Who", "Approved by", "Ticket",
             "Reason"),
            ((r["seq"], r["recorded_at"][:19].replace("T", " "),
              r["canonical_id"] + (f" ({r['source_id']})" if r["source_id"] else ""), r["system"], r["field"],
              _shown(r["old_value"]), _shown(r["new_value"]), r["who"], r["approved_by"], r["ticket"], r["reason"])
             for r in rows),
        ))


@click.group()
def audit() -> None:
    """Check the hash-chained logs (corrections, audit) and read the audit log."""


@audit.command("verify")
@project_option
@click.option("--log", "log", type=click.Choice(("corrections", "audit")), default=None,
              help="Check only this hash-chained log (default: every one).")
@format_option("text", "json")
def verify(project_dir: Path, log: str | None, fmt: str) -> None:
    """Recompute every hash-chained log (or one) and check it against the heads each stored day anchored in the
    day store: exit 0 if all hold, 8 naming the first broken entry."""
    from tieout.state.integrity import VERIFIED_LOGS, verify_logs

    checks = verify_logs(open_project(project_dir), [log] if log else VERIFIED_LOGS)
    broken = [c for c in checks if not c.ok]
    if fmt == "json":
        found = [c.as_dict() for c in checks]
        click.echo(to_json(found[0] if log else {"ok": not broken, "logs": found}))
    if broken:
        raise AuditBroken("\n".join(c.message for c in broken))
    if fmt == "text":
        for c in checks:
            click.echo(c.message)


@audit.command("log")
@project_option
@click.option("--object", "obj", help="Only entries about this object (e.g. exception:ID, user:NAME).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@format_option("table", "json")
def audit_log(project_dir: Path, obj: str | None, limit: int, fmt: str) -> None:
    """The audit log, newest first: every workflow action, refused attempt, conflict and sign-in."""
    from tieout.workflow.audit import entries

    rows = entries(open_project(project_dir), object=obj, limit=limit)
    if fmt == "json":
        click.echo(to_json(rows))
    else:
        echo_rich(table(f"{len(rows)} audit entr{'y' if len(rows) == 1 else 'ies'}",
                        ("Seq", "At (UTC)", "Who", "Action", "Object", "Outcome", "Reason"),
                        ((r["seq"], str(r["at"])[:19], r["actor"], r["action"], r["object"], r["outcome"], r["reason"])
                         for r in rows)))
