"""`tieout entities`, `tieout entities propose`, `tieout entities candidates` and `tieout entities map`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.config import Project
from tieout.entities import propose, write_proposals
from tieout.entities.candidates import explain_ties
from tieout.entity_names import clipped, read_names
from tieout.errors import ConfigError, NotFound
from tieout.ingest import source_proposals
from tieout.output import table, to_csv, to_json
from tieout.ownership.model import load_registry
from tieout.store import RECORD_TABLES, open_day, open_or_read_day, stored_days
from tieout.systems import SYSTEMS

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
    # the records and their names: no contract, invoice or usage row, no normaliser
    con = open_or_read_day(project, day, tables=RECORD_TABLES, normalisers=False)
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
    con = open_or_read_day(project, day, tables=RECORD_TABLES)
    from_sources = [p for proposed in source_proposals(project, day).values() for p in proposed]
    waiting = [p for p in from_sources if not p["canonical_id"]]
    fuzzy = propose(con, day, min_score=min_score)
    ties = explain_ties(con, day, fuzzy)  # equal scores are explained, never offered silently
    rows = [*(p for p in from_sources if p["canonical_id"]), *fuzzy]
    target = out if out.is_absolute() else project.root / out
    write_proposals(rows, target)
    click.echo(f"{len(rows)} candidate row(s) written to {target} — review them, then copy the ones you "
               f"accept into {project.entity_map_path}, or ask for one: tieout entities map SYSTEM SOURCE_ID --to ID")
    for line in ties:
        click.echo(f"tie: {line}")
    for p in waiting:  # a merge into a record that resolves to no entity: nothing to copy yet
        click.echo(f"not written: {p['notes']}")


@entities.command("candidates")
@project_option
@click.argument("system", type=click.Choice(SYSTEMS))
@click.argument("source_id")
@format_option("text", "json")
def candidates_cmd(project_dir: Path, system: str, source_id: str, fmt: str) -> None:
    """The entities a source record may belong to on the latest reconciled day, with the evidence for each
    (which key matched, and the values on both sides) and why one ranks above another — or that nothing tells
    them apart."""
    from tieout.entities.candidates import candidates_for

    project = open_project(project_dir)
    day = _default_as_of(project, None)
    con = open_day(project, day, tables=RECORD_TABLES)
    try:
        found = candidates_for(con, day, system, source_id)
    finally:
        con.close()
    if found.status is None:
        raise NotFound(f"no {system} record {source_id!r} on {day}")
    if fmt == "json":
        click.echo(to_json({"as_of": day.isoformat(), **found.as_dict()}))
        return
    click.echo(f"{system} {source_id} on {day}: {found.status}")
    if not found.candidates:
        click.echo("no candidate: nothing in the records matches it — map it to a new entity "
                   f"(tieout entities map {system} {source_id} --new-entity --reason …)")
    for c in found.candidates:
        click.echo(f"  {c.canonical_id}" + (f" ({c.name})" if c.name else ""))
        for e in c.evidence:
            click.echo(f"    - {e.describe()}")
    if found.explanation:
        click.echo(found.explanation)


def _os_user() -> str:
    from tieout.os_account import os_user

    return os_user()


@entities.command("map")
@project_option
@click.argument("system", type=click.Choice(SYSTEMS))
@click.argument("source_id")
@click.option("--to", "canonical_id", help="The entity to map the record to.")
@click.option("--new-entity", is_flag=True, help="Map it to a new entity (its id is chosen on approval).")
@click.option("--from", "effective_from", type=ISO_DATE,
              help="The first day the row applies (default: the day after the latest reconciled day).")
@click.option("--reason", required=True, help="Why (required): what the approver reads.")
@click.option("--who", default=_os_user, show_default="the OS user", help="Who asks for it.")
@format_option("text", "json")
def map_cmd(project_dir: Path, system: str, source_id: str, canonical_id: str | None, new_entity: bool,
            effective_from: date | None, reason: str, who: str, fmt: str) -> None:
    """Ask to map a source record to an entity (or a new one). The row enters the entity map once a second
    person approves it (`tieout approve MR-n --as NAME`), and takes effect from the next run."""
    from tieout.entities.candidates import candidates_for
    from tieout.entities.map_requests import request_mapping

    project = open_project(project_dir)
    evidence = None
    days = stored_days(project)
    if days and canonical_id:
        con = open_day(project, days[-1], tables=RECORD_TABLES)
        try:
            chosen = [c for c in candidates_for(con, days[-1], system, source_id).candidates
                      if c.canonical_id == canonical_id]
        finally:
            con.close()
        evidence = "; ".join(e.describe() for c in chosen for e in c.evidence) or "no matching key"
    request = request_mapping(project, source_system=system, source_id=source_id, canonical_id=canonical_id,
                              new_entity=new_entity, effective_from=effective_from, reason=reason, who=who,
                              evidence=evidence)
    if fmt == "json":
        click.echo(to_json(request.as_dict()))
    else:
        click.echo(f"map request {request.ref}: {system} {source_id} → {request.target} from "
                   f"{request.effective_from}, by {request.who}. It enters {project.entity_map_path} once someone "
                   f"else approves it: tieout approve {request.ref} --as NAME")

