"""`tieout report daily|weekly|monthly`: the digest, the weekly review and the month-end audit pack."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, open_project, project_option
from tieout.config import Project
from tieout.reports import FORMATS, KINDS, build, default_filename, render, write_xlsx
from tieout.rules.registry import load_rules


@click.command("report")
@click.argument("kind", type=click.Choice(KINDS))
@project_option
@click.option("--period", help="monthly: the month, YYYY-MM (its last day must be reconciled).")
@click.option("--as-of", "as_of", type=ISO_DATE,
              help="daily/weekly: the reconciled day (default: the latest); monthly: the month to that day.")
@click.option("--team", help="daily/weekly: only this team.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: stdout; xlsx: tieout-KIND-DATE.xlsx in the current folder).")
def report(kind: str, project_dir: Path, period: str | None, as_of: date | None, team: str | None, fmt: str,
           output: Path | None) -> None:
    """Write the daily digest, the weekly review or the month-end audit pack.

    \b
    tieout report daily --team ar --format md
    tieout report weekly --as-of 2026-03-27 --format html -o weekly.html
    tieout report monthly --period 2026-01 --format xlsx -o 2026-01.xlsx
    tieout report monthly --period 2026-01 --format json
    """
    project = open_project(project_dir)
    signed = _signed_pack(project, kind, period, fmt)
    if signed is not None:
        _write_signed(signed, fmt, output, f"tieout-monthly-{period}.{fmt}")
        return
    data = build(project, load_rules(project), kind, as_of=as_of, period=period, team=team)
    if fmt == "xlsx":
        target = output or Path(default_filename(data, "xlsx"))
        write_xlsx(data, target)
        click.echo(f"wrote {target}", err=True)
        return
    text = render(data, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


def _signed_pack(project: Project, kind: str, period: str | None, fmt: str) -> bytes | None:
    """A closed month's pack as it was signed (tieout.month_close), byte for byte; None otherwise."""
    from tieout.state.location import may_exist

    # No state database, no signature: the month is open, and SQLAlchemy is not worth importing to say so.
    if kind != "monthly" or period is None or not may_exist(project):
        return None
    from tieout.month_close import frozen_pack, month_state

    return frozen_pack(project, month_state(project, period), fmt)


def _write_signed(body: bytes, fmt: str, output: Path | None, default: str) -> None:
    if output is None and fmt != "xlsx":
        click.echo(body.decode("utf-8"), nl=False)
        return
    target = output or Path(default)
    target.write_bytes(body)
    click.echo(f"wrote {target} (the pack as signed)", err=True)
