"""`tieout show ID`: one exception's whole story, or one entity's records and every exception it ever had."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.entity_names import clipped, subject
from tieout.errors import NotFound
from tieout.output import format_impact, money, table, to_json
from tieout.record_versions import day_reader
from tieout.rules.registry import load_rules
from tieout.safe_text import for_terminal
from tieout.store import stored_days
from tieout.story import entity_story, exception_story
from tieout.systems import SYSTEMS, title

if TYPE_CHECKING:
    from rich.text import Text


@click.command("show")
@click.argument("ident", metavar="ID")
@project_option
@click.option("--as-of", "as_of", type=ISO_DATE, help="As it stood on this date (default: the latest stored day).")
@format_option("text", "json")
def show(ident: str, project_dir: Path, as_of: date | None, fmt: str) -> None:
    """One exception (by its id) or one entity (by its canonical id), with its history.

    \b
    An exception: its episodes, its records in each system on the day it was last seen, and what
    changed in its records on the day it first appeared (both as the store holds them).
    An entity: how each of its source records resolved, and all its exception episodes by date.
    """
    project = open_project(project_dir)
    if not stored_days(project, until=as_of):
        raise NotFound(f"no exception or entity {ident!r}: nothing reconciled in {project.store_path}"
                       + (f" on or before {as_of}" if as_of else ""))
    rules = load_rules(project)
    with day_reader(project, normalisers=False) as reader:  # the stories read records and names only
        data = exception_story(reader, rules, ident, as_of=as_of)
        if data is not None:
            click.echo(to_json(data)) if fmt == "json" else _render_exception(data)
        else:
            data = entity_story(reader, rules, ident, as_of=as_of)
            click.echo(to_json(data)) if fmt == "json" else _render_entity(data)


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


def _row_text(table_name: str, row: dict[str, Any]) -> Text:
    """A record as a table cell: rich Text, so that a value from an export is never read as markup."""
    from rich.text import Text

    text = Text(table_name, style="bold")
    for k, v in row.items():
        text.append(f"\n  {k}: {for_terminal(_cell(v))}")
    return text


def _render_exception(data: dict[str, Any]) -> None:
    e = data["exception"]
    click.echo(f"{e['id']}  {e['rule']}")
    click.echo(f"  entity / record: {for_terminal(subject(e))}")
    impact = format_impact(e["impact"], e["currency"], e["original_amount"], e["original_currency"])
    click.echo(f"  severity {e['severity']}   impact {impact}   team {e['team'] or '-'}")
    click.echo(f"  status {e['status']}   classification {e['classification']}")
    if e["details"]:
        click.echo(f"  details: {for_terminal(e['details'])}")
    for edit in e["ownership_edits"]:
        click.echo(f"  ownership break: {edit['system']} edited {edit['field']} of {edit['source_id']} on "
                   f"{edit['day']}: {_cell(edit['old'])!r} → {_cell(edit['new'])!r} "
                   f"(owned by {edit['owner_system']})")
    click.echo("")
    echo_rich(table(f"{len(data['episodes'])} episode(s)",
                    ("First seen", "Last seen", "Resolved on", "Severity", "Impact", "Class"),
                    ((x["first_seen"], x["last_seen"], x["resolved_on"] or "", x["severity"],
                      format_impact(x["impact"], e["currency"], x["original_amount"], x["original_currency"]),
                      x["classification"]) for x in data["episodes"]),
                    right=("Impact",)))
    _render_records(data["records"])
    _render_first_day(data["first_day"])


def _render_records(records: dict[str, Any]) -> None:
    click.echo("")
    if records["unavailable"]:
        click.echo(f"Records on {records['day']} (last seen): unavailable — {records['unavailable']}")
        return
    from rich.text import Text

    cells = [Text("\n").join(_row_text(t, r) for t, rows in records[s].items() for r in rows) or "(no records)"
             for s in SYSTEMS]
    echo_rich(table(f"Records on {records['day']} (last seen), side by side",
                    [title(s) for s in SYSTEMS], [cells]))


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
    name = data["entity_name"]
    click.echo(f"{for_terminal(name)} — entity {data['canonical_id']}" if name else f"Entity {data['canonical_id']}")
    if data["unavailable"]:
        click.echo(f"  its records on {data['as_of']}: unavailable — {data['unavailable']}")
    else:
        echo_rich(table(f"{len(data['source_records'])} source record(s) on {data['as_of']}",
                        ("System", "Source id", "Name", "Status", "Resolved by", "Key", "Candidates"),
                        ((r["source_system"], r["source_id"], clipped(r["record_name"]), r["status"],
                          r["resolved_by"], r["matched_key"], _cell(r["candidates"])) for r in data["source_records"]),
                        whole=("Source id",), drop=("Key", "Resolved by", "Name")))
    click.echo("")
    echo_rich(table(f"{len(data['episodes'])} exception episode(s), by date",
                    ("First seen", "Last seen", "Resolved on", "Rule", "ID", "System", "Field", "Severity",
                     "Class"),
                    ((x["first_seen"], x["last_seen"], x["resolved_on"] or "", x["rule"], x["id"],
                      _cell(x["source_system"]) + (f":{x['source_id']}" if x["source_id"] else ""),
                      x["field"] or "", x["severity"], x["classification"]) for x in data["episodes"])))

