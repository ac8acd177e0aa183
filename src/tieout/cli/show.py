"""`tieout show ID`: one exception's whole story, or one entity's records and every exception it ever had."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.cli.exceptions import JSON_KEYS
from tieout.config import Project
from tieout.errors import NotFound
from tieout.history import (
    RESOLUTION_COLUMNS,
    SYSTEMS,
    DayReader,
    FirstDay,
    Subject,
    day_reader,
    first_day_changes,
    records_on,
    subject_ids,
)
from tieout.output import format_money, money, table, to_json
from tieout.rules.registry import Rule, load_rules
from tieout.store import stored_days
from tieout.timeline import Causes, Episode, Exception_, causes, episodes

# Exception ids are the first 16 hex digits of an md5 (evaluate._identity_sql); anything else is an entity.
_EXCEPTION_ID = re.compile(r"^[0-9a-f]{16}$")
SYSTEM_LABELS = {"crm": "CRM", "billing": "Billing", "ops": "Ops"}


@click.command("show")
@click.argument("ident", metavar="ID")
@project_option
@click.option("--as-of", "as_of", type=ISO_DATE, help="As it stood on this date (default: the latest stored day).")
@format_option("text", "json")
def show(ident: str, project_dir: Path, as_of: date | None, fmt: str) -> None:
    """One exception (by its id) or one entity (by its canonical id), with its history.

    \b
    An exception: its episodes, its records in each system on the day it was last seen, and what
    changed in the exports on the day it first appeared.
    An entity: how each of its source records resolved, and all its exception episodes by date.
    """
    project = open_project(project_dir)
    days = stored_days(project, until=as_of)
    if not days:
        raise NotFound(f"no exception or entity {ident!r}: nothing reconciled in {project.store_path}"
                       + (f" on or before {as_of}" if as_of else ""))
    rules = load_rules(project)
    today = days[-1] if as_of is None else as_of
    with day_reader(project) as reader:
        found = episodes(project, until=as_of, exception_id=ident) if _EXCEPTION_ID.match(ident) else []
        if found:
            data = _exception(reader, rules, found, today)
            click.echo(to_json(data)) if fmt == "json" else _render_exception(data)
        else:
            data = _entity(reader, rules, ident, days[-1], today)
            click.echo(to_json(data)) if fmt == "json" else _render_entity(data)


# --- gathering ---------------------------------------------------------------------------------------------

def _episode(e: Episode, rules: dict[str, Rule], today: date, why: Causes) -> dict[str, Any]:
    return {"first_seen": e.first_seen, "last_seen": e.last_seen, "resolved_on": e.resolved_on,
            "severity": e.severity, "impact": e.impact, "classification": why.classify(e, rules, today),
            "details": e.details, "ownership_edits": list(why.edits_of(e))}


def _as_exception(latest: Episode, count: int, project: Project, rules: dict[str, Rule],
                  today: date, why: Causes) -> Exception_:
    """The same record `tieout exceptions` lists for this id (its latest episode)."""
    d = latest.as_dict()
    return Exception_(**d, currency=project.reporting_currency, episodes=count,
                      status="open" if latest.resolved_on is None else "resolved",
                      classification=why.classify(latest, rules, today),
                      ownership_edits=why.edits_of(latest))


def _exception(reader: DayReader, rules: dict[str, Rule], found: list[Episode], today: date) -> dict[str, Any]:
    latest = found[-1]
    why = causes(reader.project, found)
    e = _as_exception(latest, len(found), reader.project, rules, today, why)
    subject = Subject(latest.canonical_id, latest.source_system, latest.source_id)
    con = reader.get(latest.last_seen)
    records: dict[str, Any] = {"day": latest.last_seen, "unavailable": con if isinstance(con, str) else None}
    if not isinstance(con, str):
        records.update(records_on(con, latest.last_seen, subject_ids(con, subject)))
    first: FirstDay = first_day_changes(reader, subject, latest.first_seen)
    return {
        "kind": "exception",
        "exception": {k: e.as_dict()[k] for k in JSON_KEYS},
        "episodes": [_episode(x, rules, today, why) for x in found],
        "records": records,
        "first_day": first.as_dict(),
    }


def _entity(reader: DayReader, rules: dict[str, Rule], canonical_id: str, day: date,
            today: date) -> dict[str, Any]:
    con = reader.get(day)
    resolved: list[dict[str, Any]] = []
    if not isinstance(con, str):
        # Ambiguous records that name this entity among their candidates belong to its story too.
        cur = con.execute(
            f"SELECT {', '.join(RESOLUTION_COLUMNS)} FROM source_records "
            "WHERE canonical_id = $id OR list_contains(candidates, $id) ORDER BY source_system, source_id",
            {"id": canonical_id})
        resolved = [dict(zip(RESOLUTION_COLUMNS, r, strict=True)) for r in cur.fetchall()]
    pairs = [(r["source_system"], r["source_id"]) for r in resolved]
    found = episodes(reader.project, until=today, canonical_id=canonical_id, records=pairs)
    why = causes(reader.project, found)
    if not resolved and not found:
        raise NotFound(f"no exception or entity {canonical_id!r} in {reader.project.store_path}"
                       + (f" (and no record resolves to it on {day})" if not isinstance(con, str) else f" ({con})"))
    return {
        "kind": "entity",
        "canonical_id": canonical_id,
        "as_of": day,
        "unavailable": con if isinstance(con, str) else None,
        "source_records": resolved,
        "episodes": [{"id": e.id, "rule": e.rule, "source_system": e.source_system, "source_id": e.source_id,
                      "field": e.field, "team": e.team, **_episode(e, rules, today, why)} for e in found],
    }


# --- rendering for people ----------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(money(value))
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _row_text(table_name: str, row: dict[str, Any]) -> str:
    lines = [f"[bold]{table_name}[/bold]"]
    lines += [f"  {k}: {_cell(v)}" for k, v in row.items()]
    return "\n".join(lines)


def _render_exception(data: dict[str, Any]) -> None:
    e = data["exception"]
    subject = e["canonical_id"] or f"{e['source_system']}:{e['source_id']}"
    extra = " · ".join(x for x in (e["source_system"] if e["canonical_id"] else None, e["field"]) if x)
    click.echo(f"{e['id']}  {e['rule']}")
    click.echo(f"  entity / record: {subject}" + (f" · {extra}" if extra else ""))
    click.echo(f"  severity {e['severity']}   impact {format_money(e['impact'], e['currency'])}   "
               f"team {e['team'] or '-'}")
    click.echo(f"  status {e['status']}   classification {e['classification']}")
    if e["details"]:
        click.echo(f"  details: {e['details']}")
    for edit in e["ownership_edits"]:
        click.echo(f"  ownership break: {edit['system']} edited {edit['field']} of {edit['source_id']} on "
                   f"{edit['day']}: {_cell(edit['old'])!r} → {_cell(edit['new'])!r} "
                   f"(owned by {edit['owner_system']})")
    click.echo("")
    echo_rich(table(f"{len(data['episodes'])} episode(s)",
                    ("First seen", "Last seen", "Resolved on", "Severity", "Impact", "Class"),
                    ((x["first_seen"], x["last_seen"], x["resolved_on"] or "", x["severity"],
                      format_money(x["impact"], e["currency"]), x["classification"]) for x in data["episodes"]),
                    right=("Impact",)))
    _render_records(data["records"])
    _render_first_day(data["first_day"])


def _render_records(records: dict[str, Any]) -> None:
    click.echo("")
    if records["unavailable"]:
        click.echo(f"Records on {records['day']} (last seen): unavailable — {records['unavailable']}")
        return
    cells = ["\n".join(_row_text(t, r) for t, rows in records[s].items() for r in rows) or "(no records)"
             for s in SYSTEMS]
    echo_rich(table(f"Records on {records['day']} (last seen), side by side",
                    [SYSTEM_LABELS[s] for s in SYSTEMS], [cells]))


def _change_lines(c: dict[str, Any]) -> Iterable[str]:
    key = ", ".join(f"{k}={_cell(v)}" for k, v in c["key"].items())
    if c["change"] == "changed":
        yield f"  {c['system']:<8} {c['table']} {key}: changed"
        for col, v in c["fields"].items():
            yield f"      {col}: {_cell(v['old'])!r} → {_cell(v['new'])!r}"
    else:
        yield f"  {c['system']:<8} {c['table']} {key}: {c['change']}"
        yield "      " + ", ".join(f"{k}={_cell(v)}" for k, v in (c["record"] or {}).items())


def _render_first_day(first: dict[str, Any]) -> None:
    click.echo("")
    head = f"What changed on {first['day']} (first seen), compared with {first['previous']}"
    if first["unavailable"]:
        click.echo(f"{head}: cannot tell — {first['unavailable']}")
        return
    if not first["changes"]:
        click.echo(f"{head}: nothing in this entity's or record's exports")
        return
    click.echo(f"{head}:")
    for c in first["changes"]:
        for line in _change_lines(c):
            click.echo(line)


def _render_entity(data: dict[str, Any]) -> None:
    click.echo(f"Entity {data['canonical_id']}")
    if data["unavailable"]:
        click.echo(f"  its records on {data['as_of']}: unavailable — {data['unavailable']}")
    else:
        echo_rich(table(f"{len(data['source_records'])} source record(s) on {data['as_of']}",
                        ("System", "Source id", "Status", "Resolved by", "Key", "Candidates"),
                        ((r["source_system"], r["source_id"], r["status"], r["resolved_by"], r["matched_key"],
                          _cell(r["candidates"])) for r in data["source_records"])))
    click.echo("")
    echo_rich(table(f"{len(data['episodes'])} exception episode(s), by date",
                    ("First seen", "Last seen", "Resolved on", "Rule", "ID", "System", "Field", "Severity",
                     "Class"),
                    ((x["first_seen"], x["last_seen"], x["resolved_on"] or "", x["rule"], x["id"],
                      _cell(x["source_system"]) + (f":{x['source_id']}" if x["source_id"] else ""),
                      x["field"] or "", x["severity"], x["classification"]) for x in data["episodes"])))

