"""`tieout history ID`: every version of an entity's (or one record's) source records, from the stored
source history — which fields changed on which day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tieout.cli.common import format_option, open_project, project_option
from tieout.cli.show import _cell
from tieout.errors import NotFound
from tieout.output import to_json
from tieout.record_versions import record_history


@click.command("history")
@click.argument("ident", metavar="ID")
@project_option
@format_option("text", "json")
def history(ident: str, project_dir: Path, fmt: str) -> None:
    """Each version of the source records of an entity (canonical id) or of one record (SYSTEM:SOURCE_ID).

    \b
    Every day a record or one of its contracts or invoices was added, removed or edited, field by field
    (old → new), and every change in how it resolved. The first stored day lists what existed then.
    """
    project = open_project(project_dir)
    data = record_history(project, ident)
    if data is None:
        raise NotFound(f"no source record of {ident!r} in the stored history of {project.store_path}")
    if fmt == "json":
        click.echo(to_json(data))
        return
    _render(data)


def _render(data: dict[str, Any]) -> None:
    click.echo(f"Source history of {data['subject']} up to {data['as_of']}")
    if data["unavailable"]:
        click.echo(f"  unavailable — {data['unavailable']}")
        return
    for rec in data["records"]:
        key = ", ".join(f"{k}={_cell(v)}" for k, v in rec["key"].items())
        click.echo(f"\n{rec['system']} {rec['table']} {key}")
        for v in rec["versions"]:
            if v["change"] == "changed":
                click.echo(f"  {v['day']}  changed")
                for col, x in v["fields"].items():
                    click.echo(f"      {col}: {_cell(x['old'])!r} → {_cell(x['new'])!r}")
            else:
                click.echo(f"  {v['day']}  {v['change']}: "
                           + ", ".join(f"{k}={_cell(x)}" for k, x in v["record"].items()))
