"""A report as every renderer sees it: a title, a few headline facts, and sections that are tables.

One shape for Markdown, HTML and Excel keeps the three formats saying the same thing: each section is one
Markdown table, one HTML table (with its chart, when it has one) and one Excel sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["text", "int", "money", "date", "decimal"]


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
    empty: str = "None."  # said instead of an empty table
    chart: str | None = None  # a chart's name in `Document.charts`


@dataclass
class Document:
    kind: str  # daily | weekly | monthly
    title: str
    facts: list[tuple[str, Any, Kind]]  # headline figures: label, value, kind
    sections: list[Section]
    currency: str
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> Vega-Lite spec (HTML only)


ITEM_COLUMNS = [
    Column("severity", "Severity"), Column("rule", "Rule"), Column("subject", "Entity / record"),
    Column("impact", "Impact", "money"), Column("team", "Team"), Column("classification", "Class"),
    Column("first_seen", "First seen", "date"), Column("age_days", "Age (days)", "int"), Column("id", "ID"),
]
RESOLVED_COLUMNS = [c for c in ITEM_COLUMNS if c.key not in ("age_days",)] + [
    Column("resolved_on", "Resolved on", "date"), Column("age_days", "Days open", "int")]
