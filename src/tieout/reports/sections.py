"""A report as every renderer sees it: a title, a few headline facts, and sections that are tables.

One shape for Markdown, HTML and Excel keeps the three formats saying the same thing: each section is one
Markdown table, one HTML table (with its chart, when it has one) and one Excel sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tieout.output import original

# money: in the reporting currency (Document.currency); amount: a tieout.output.Amount, in its own currency
Kind = Literal["text", "int", "money", "amount", "date", "decimal"]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Kind = "text"


@dataclass
class Section:
    sheet: str  # an Excel sheet name: at most 31 characters, none of []:*?/\
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    note: str = ""
    empty: str = "None."  # said instead of an empty table; "": nothing (a heading with its note only)
    chart: str | None = None  # a chart's name in `Document.charts`
    # What the spreadsheet's own chart of the section draws: {"waterfall": tieout.reports.bridge.waterfall(…)}
    # or {"bars": [{"label", "value"}]}; empty: none.
    chart_data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Document:
    kind: str  # daily | weekly | monthly
    title: str
    facts: list[tuple[str, Any, Kind]]  # headline figures: label, value, kind
    sections: list[Section]
    currency: str
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> Vega-Lite spec (HTML only)


ITEM_COLUMNS = [
    Column("severity", "Severity"), Column("rule", "Rule"), Column("entity_name", "Name"),
    Column("subject", "Entity / record"), Column("impact", "Impact", "money"), Column("team", "Team"),
    Column("classification", "Class"), Column("first_seen", "First seen", "date"),
    Column("age_days", "Age (days)", "int"), Column("id", "ID"),
]
RESOLVED_COLUMNS = [c for c in ITEM_COLUMNS if c.key not in ("age_days",)] + [
    Column("resolved_on", "Resolved on", "date"), Column("age_days", "Days open", "int")]
ORIGINAL_COLUMN = Column("original", "Original amount", "amount")
# A hand correction (tieout.reports.data.corrections_between), in the month-end pack and the weekly review.
CORRECTION_COLUMNS = [
    Column("recorded_on", "Recorded on", "date"), Column("canonical_id", "Entity"), Column("entity_name", "Name"),
    Column("system", "System"), Column("field", "Field"), Column("old_value", "Old"), Column("new_value", "New"),
    Column("reason", "Reason"), Column("who", "Who"), Column("ticket", "Ticket"), Column("seq", "Log seq", "int"),
]


def item_subject(i: dict[str, Any]) -> str:
    """`C00042 · billing · legal_name`: a report item's entity (or record), system and field."""
    parts = [i["canonical_id"] or f"{i['source_system']}:{i['source_id']}"]
    if i["canonical_id"] and i["source_system"]:
        parts.append(i["source_system"])
    if i["field"]:
        parts.append(i["field"])
    return " · ".join(parts)


def item_rows(items: list[dict[str, Any]], subject: Callable[[dict[str, Any]], str]) -> list[dict[str, Any]]:
    """Report items (`Item.as_dict`) as table rows: with their `subject`, and their `original` amount (the
    impact in the records' own currency) as an Amount."""
    return [{**i, "subject": subject(i), "original": original(i.get("original_amount"), i.get("original_currency"))}
            for i in items]


def item_columns(columns: list[Column], rows: list[dict[str, Any]]) -> list[Column]:
    """`columns`, with the original amount beside the impact when a row has one: a project in one currency
    keeps the tables it always had."""
    if not any(r.get("original") for r in rows):
        return columns
    at = next(n for n, c in enumerate(columns) if c.key == "impact") + 1
    return [*columns[:at], ORIGINAL_COLUMN, *columns[at:]]
