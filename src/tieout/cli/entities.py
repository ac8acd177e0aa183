"""`tieout entities` and `tieout entities propose`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.config import Project
from tieout.entities import propose, write_proposals
from tieout.entity_names import clipped, read_names
from tieout.errors import ConfigError
from tieout.ingest import source_proposals
from tieout.output import table, to_csv, to_json
from tieout.ownership.model import load_registry
from tieout.store import open_or_read_day, stored_days

# `entity_name`: the entity's display name, for a record of no entity its own name (tieout.entity_names).
COLUMNS = ("source_system", "source_id", "canonical_id", "status", "resolved_by", "matched_key", "candidates",
           "entity_name")


def _default_as_of(project: Project, as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    days = stored_days(project)
    if not days:
        raise ConfigError(f"{project.store_path}: nothing reconciled yet — pass --as-of DATE")
    return days[-1]


as_of_option = click.option("--as-of", "as_of", type=ISO_DATE,
                            help="The as-of date (default: the latest reconciled day). A reconciled day is read "
                                 "from the store; a day not reconciled yet, from its exports.")


@click.group(invoke_without_command=True)
@project_option
@as_of_option
@click.option("--status", type=click.Choice(("all", "resolved", "ambiguous", "unmapped")), default="all",
              show_default=True)
@format_option("table", "json", "csv")
@click.pass_context
def entities(ctx: click.Context, project_dir: Path, as_of: date | None, status: str, fmt: str) -> None:
    """Every source record with its canonical entity and the key that resolved it.

    A reconciled day shows how the run resolved it (the store); a day not reconciled yet is read from its
    exports and resolved with the entity map as it is now.
    """
    if ctx.invoked_subcommand is not None:
        return
    project = open_project(project_dir)
    day = _default_as_of(project, as_of)
    con = open_or_read_day(project, day)
    where = "" if status == "all" else f"WHERE status = '{status}'"
    read = COLUMNS[:-1]
    cur = con.execute(f"SELECT {', '.join(read)} FROM source_records {where} ORDER BY source_system, source_id")
    rows = [dict(zip(read, r, strict=True)) for r in cur.fetchall()]
    names = read_names(con, load_registry(project), day=day)
    for r in rows:
        r["candidates"] = list(r["candidates"] or [])
        r["entity_name"] = names.name(r["canonical_id"], r["source_system"], r["source_id"])
    if fmt == "json":
        click.echo(to_json(rows))
    elif fmt == "csv":
        click.echo(to_csv([{**r, "candidates": " ".join(r["candidates"])} for r in rows], COLUMNS), nl=False)
    else:
        echo_rich(table(f"{len(rows)} source records on {day}",
                        ("System", "Source id", "Canonical id", "Name", "Status", "Resolved by", "Key", "Candidates"),
                        ((r["source_system"], r["source_id"], r["canonical_id"], clipped(r["entity_name"]),
                          r["status"], r["resolved_by"], r["matched_key"], ", ".join(r["candidates"])) for r in rows),
                        whole=("Source id", "Canonical id"), drop=("Key", "Resolved by", "Name")))
        # What the systems' own exports say about the map (e.g. Salesforce's merges): proposed, never applied.
        for name, proposed in source_proposals(project, day).items():
            if proposed:
                echo_rich(table(f"{len(proposed)} map row(s) proposed from {_SOURCE_NAMES.get(name, name)} "
                                "merges — review them with `tieout entities propose`",
                                ("System", "Source id", "Canonical id", "From", "To", "Notes"),
                                ((p["source_system"], p["source_id"], p["canonical_id"] or "?",
                                  p["effective_from"], p["effective_to"], p["notes"]) for p in proposed)))


_SOURCE_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


@entities.command("propose")
@project_option
@as_of_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("proposed_map_rows.csv"),
              show_default=True, help="CSV of candidate map rows, relative to the project folder.")
@click.option("--min-score", type=click.IntRange(0, 100), default=80, show_default=True)
def propose_cmd(project_dir: Path, as_of: date | None, out: Path, min_score: int) -> None:
    """Write candidate map rows for a person to review: fuzzy matches for unmapped and ambiguous records, and
    the rows a source's own export implies (a record Salesforce merged into another).

    A proposal never resolves anything: copy the rows you accept into the entity map.
    """
    project = open_project(project_dir)
    day = _default_as_of(project, as_of)
    con = open_or_read_day(project, day)
    from_sources = [p for proposed in source_proposals(project, day).values() for p in proposed]
    waiting = [p for p in from_sources if not p["canonical_id"]]
    rows = [*(p for p in from_sources if p["canonical_id"]), *propose(con, day, min_score=min_score)]
    target = out if out.is_absolute() else project.root / out
    write_proposals(rows, target)
    click.echo(f"{len(rows)} candidate row(s) written to {target} — review them, then copy the ones you "
               f"accept into {project.entity_map_path}")
    for p in waiting:  # a merge into a record that resolves to no entity: nothing to copy yet
        click.echo(f"not written: {p['notes']}")
