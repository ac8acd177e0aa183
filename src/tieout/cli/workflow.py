"""`tieout users add|list|disable|enable|passwd` and the workflow commands
`tieout ack|assign|comment|resolve|suppress|approve|reject` (approve and reject also decide correction requests).

The CLI trusts the operating-system account: whoever can run tieout on the project folder can name any user
with `--as`. It is for operators who already have the project folder (and so the state database) in hand.
Every action is still authorised by that user's role and team, and audited, exactly as in the web.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.output import table, to_json
from tieout.state.tables import ROLES


@click.group()
def users() -> None:
    """People who may sign in to `tieout serve` (and be named with --as)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--team", "teams", multiple=True, help="A team the user belongs to (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@project_option
def users_add(name: str, role: str, teams: tuple[str, ...], password_stdin: bool, project_dir: Path) -> None:
    """Create a user; the password is stored as a salted scrypt hash."""
    from tieout.people import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = add_user(open_project(project_dir), name, role, password, teams)
    click.echo(f"user {user.name} added ({user.role}{': ' + ', '.join(user.teams) if user.teams else ''})")


@users.command("list")
@project_option
@click.option("--all", "include_disabled", is_flag=True, help="Disabled users too.")
@format_option("table", "json")
def users_list(project_dir: Path, include_disabled: bool, fmt: str) -> None:
    """The enabled users (with --all, the disabled ones too), their role and teams."""
    from tieout.people import list_users

    found = [u.as_dict() for u in list_users(open_project(project_dir), include_disabled=include_disabled)]
    if fmt == "json":
        click.echo(to_json(found))
    else:
        echo_rich(table(f"{len(found)} user(s)", ("Name", "Role", "Teams", "Status"),
                        ((u["name"], u["role"], ", ".join(u["teams"]), "disabled" if u["disabled"] else "enabled")
                         for u in found)))


def _set_disabled(name: str, project_dir: Path, disabled: bool) -> None:
    from tieout.people import set_disabled

    changed = set_disabled(open_project(project_dir), name, disabled)
    state_word = "disabled" if disabled else "enabled"
    if not changed:
        click.echo(f"user {name} was already {state_word}: nothing changed")
    elif disabled:
        click.echo(f"user {name} disabled: they cannot sign in, and their sessions have ended")
    else:
        click.echo(f"user {name} enabled: they can sign in again")


@users.command("disable")
@click.argument("name")
@project_option
def users_disable(name: str, project_dir: Path) -> None:
    """Stop a user from signing in; their open sessions end at once (audited)."""
    _set_disabled(name, project_dir, True)


@users.command("enable")
@click.argument("name")
@project_option
def users_enable(name: str, project_dir: Path) -> None:
    """Let a disabled user sign in again (audited)."""
    _set_disabled(name, project_dir, False)


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@project_option
def users_passwd(name: str, password_stdin: bool, project_dir: Path) -> None:
    """Set a user's password; their open sessions end (audited, without the password)."""
    from tieout.people import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    set_password(open_project(project_dir), name, password)
    click.echo(f"password of {name} changed; their sessions have ended")


def _options(f: Any) -> Any:
    f = click.option("--expected-version", type=int, default=None,
                     help="The version your decision was based on (default: the current one).")(f)
    f = click.option("--as", "actor", required=True, help="The acting user (see `tieout users list`).")(f)
    f = click.argument("exception_id")(f)
    return project_option(format_option("text", "json")(f))


def _run(project_dir: Path, actor: str, exception_id: str, kind: str, expected_version: int | None,
         fmt: str, **kwargs: Any) -> None:
    from tieout.workflow import act, find, status_of

    project = open_project(project_dir)
    target = find(project, exception_id)
    if expected_version is None:
        expected_version = status_of(project, target).version
    st = act(project, actor, exception_id, kind, expected_version=expected_version, target=target, **kwargs)
    if fmt == "json":
        click.echo(to_json(st.as_dict()))
    else:
        extra = f", assigned to {st.assignee}" if st.assignee else ""
        extra += f", suppressed until {st.suppressed_until}" if st.status == "suppressed" else ""
        extra += f", waiting for approval (suppress until {st.pending['until']})" if st.pending else ""
        click.echo(f"{kind}: exception {exception_id} is {st.status}{extra} (version {st.version})")


@click.command()
@_options
def ack(exception_id: str, actor: str, expected_version: int | None, project_dir: Path, fmt: str) -> None:
    """Acknowledge an exception."""
    _run(project_dir, actor, exception_id, "ack", expected_version, fmt)


@click.command()
@_options
@click.option("--to", "assignee", required=True, help="A member of the team the exception is routed to.")
def assign(exception_id: str, actor: str, expected_version: int | None, project_dir: Path, fmt: str,
           assignee: str) -> None:
    """Assign an exception to a member of its routed team."""
    _run(project_dir, actor, exception_id, "assign", expected_version, fmt, assignee=assignee)


@click.command()
@_options
@click.option("--text", "comment", required=True, help="The comment.")
def comment(exception_id: str, actor: str, expected_version: int | None, project_dir: Path, fmt: str,
            comment: str) -> None:
    """Comment on an exception."""
    _run(project_dir, actor, exception_id, "comment", expected_version, fmt, comment=comment)


@click.command()
@_options
@click.option("--reason", "reason_code", required=True,
              type=click.Choice(("fixed_in_source", "duplicate", "not_an_issue", "timing_expected", "other")))
@click.option("--comment", help="Free text beside the reason code.")
def resolve(exception_id: str, actor: str, expected_version: int | None, project_dir: Path, fmt: str,
            reason_code: str, comment: str | None) -> None:
    """Resolve an exception with a reason code."""
    _run(project_dir, actor, exception_id, "resolve", expected_version, fmt, reason_code=reason_code,
         comment=comment)


@click.command()
@_options
@click.option("--until", type=ISO_DATE, required=True,
              help="The suppression's last day (after the project's latest reconciled day: the day the queue shows).")
@click.option("--comment", help="Why.")
def suppress(exception_id: str, actor: str, expected_version: int | None, project_dir: Path, fmt: str,
             until: date, comment: str | None) -> None:
    """Ask to suppress an exception until a date (a second person approves)."""
    _run(project_dir, actor, exception_id, "suppress", expected_version, fmt, until=until, comment=comment)


def _decide_correction(project_dir: Path, actor: str, request_id: int, decision: str, fmt: str,
                       comment: str | None) -> None:
    from tieout.cli.corrections import correction_line
    from tieout.corrections import decide

    request, correction = decide(open_project(project_dir), request_id, actor, decision, comment=comment)
    if fmt == "json":
        click.echo(to_json({**request.as_dict(), "correction": correction.as_dict() if correction else None}))
    elif correction is not None:
        click.echo(f"{request.ref} approved by {actor}: {correction_line(correction)}")
    else:
        click.echo(f"{request.ref} rejected by {actor}: it will not enter the corrections log")


def _decide_mapping(project_dir: Path, actor: str, request_id: int, decision: str, fmt: str,
                    comment: str | None) -> None:
    from tieout.entities.map_requests import decide_mapping

    project = open_project(project_dir)
    request = decide_mapping(project, request_id, actor, decision, comment=comment)
    if fmt == "json":
        click.echo(to_json(request.as_dict()))
    elif request.status == "approved":
        click.echo(f"{request.ref} approved by {actor}: {project.entity_map_path} maps {request.source_system} "
                   f"{request.source_id} to {request.canonical_id} from {request.effective_from} (the next run "
                   "resolves it)")
    else:
        click.echo(f"{request.ref} rejected by {actor}: the entity map is unchanged")


def _approve_or_reject(kind: str, exception_id: str, actor: str, expected_version: int | None, project_dir: Path,
                       fmt: str, comment: str | None) -> None:
    from tieout.corrections.approval import parse_ref
    from tieout.entities.map_requests import parse_ref as parse_map_ref

    request_id = parse_ref(exception_id)
    map_request_id = parse_map_ref(exception_id)
    if request_id is not None:  # CR-<n>: a correction request, not an exception
        _decide_correction(project_dir, actor, request_id, kind, fmt, comment)
    elif map_request_id is not None:  # MR-<n>: a map request
        _decide_mapping(project_dir, actor, map_request_id, kind, fmt, comment)
    else:
        _run(project_dir, actor, exception_id, kind, expected_version, fmt, comment=comment)


@click.command()
@_options
@click.option("--comment", help="Why.")
def approve(exception_id: str, actor: str, expected_version: int | None, project_dir: Path, fmt: str,
            comment: str | None) -> None:
    """Approve the suppression waiting on an exception, a correction request CR-n or a map request MR-n (not
    your own)."""
    _approve_or_reject("approve", exception_id, actor, expected_version, project_dir, fmt, comment)


@click.command()
@_options
@click.option("--comment", help="Why.")
def reject(exception_id: str, actor: str, expected_version: int | None, project_dir: Path, fmt: str,
           comment: str | None) -> None:
    """Reject the suppression waiting on an exception, a correction request CR-n or a map request MR-n (not
    your own)."""
    _approve_or_reject("reject", exception_id, actor, expected_version, project_dir, fmt, comment)


