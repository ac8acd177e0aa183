"""`tieout sources check`: read one day from every source and say what came out, writing nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.output import table, to_json
from tieout.safe_text import for_terminal


@click.group("sources")
def sources() -> None:
    """The systems' own exports and databases that tieout.yml's `sources:` names (docs/sources/README.md)."""


@sources.command("check", short_help="Read one day from every source and show what came out; writes nothing.")
@click.option("--as-of", "as_of", type=ISO_DATE, required=True, help="The as-of date whose exports are read.")
@project_option
@format_option("text", "json")
def check(as_of: date, project_dir: Path, fmt: str) -> None:
    """Read every source for the --as-of date as a run would and print, per standard table, the rows read, which of the
    source's columns fed each standard column, three sample rows and every problem found. Nothing is written.

    \b
    Exit code: 0 every table reads; 4 a table's export is refused (each broken table is listed with its
    first problem); 3 a source's database URL cannot be used.
    """
    from tieout.sources.check import check_sources

    project = open_project(project_dir)
    result = check_sources(project, as_of)
    if fmt == "json":
        click.echo(to_json({
            "as_of": as_of, "ok": not result.problems, "problems": len(result.problems),
            "tables": [{
                "table": t.table, "system": t.system, "format": t.format, "read_from": t.read_from,
                "rows": t.rows,
                "columns": [{"column": c.column, "read_from": list(c.read_from), "how": c.how, "set_by": c.set_by}
                            for c in t.columns],
                "sample": t.sample,
                "problems": [{"message": p.message, "file": p.file, "row": p.row, "column": p.column,
                              "exit_code": p.exit_code} for p in t.problems],
            } for t in result.tables],
        }))
    else:
        _print_text(result)
    if result.exit_code:
        click.get_current_context().exit(result.exit_code)


def _print_text(result: Any) -> None:
    click.echo(f"Sources on {result.as_of}:")
    for t in result.tables:
        state = f"{t.rows} row{'' if t.rows == 1 else 's'} read" if t.rows is not None else "refused"
        samples = [f"row {i + 1}" for i in range(len(t.sample))]
        echo_rich(table(
            f"{t.table} ({t.format}) from {t.read_from}: {state}",
            ("Column", "Read from", "Set by", "Details", *samples),
            ((c.column, ", ".join(c.read_from) or "-", c.set_by, c.how, *(row[c.column] for row in t.sample))
             for c in t.columns)))
        for p in t.problems:
            click.echo(for_terminal(f"  problem: {p.message}"))
    broken = [t for t in result.tables if t.problems]
    if broken:
        click.echo(f"{len(broken)} of {len(result.tables)} tables have a problem: "
                   f"{', '.join(t.table for t in broken)}. Nothing was written.")
    else:
        click.echo(f"All {len(result.tables)} tables read cleanly. Nothing was written.")
