"""The weekly review's own sections as the renderers see them (tieout.reports.sections): new this week,
recurring patterns, closed by themselves, aged beyond SLA, corrections, patterns that grew, and the decisions
of the reviews with what happened since."""

from __future__ import annotations

from typing import Any

from tieout.reports.sections import (
    CORRECTION_COLUMNS,
    ITEM_COLUMNS,
    RESOLVED_COLUMNS,
    Column,
    Section,
    item_columns,
    item_rows,
    item_subject,
)

PATTERN = Column("sentence", "Pattern")
PATTERN_ID = Column("id", "Pattern id")
AGED_COLUMNS = [*ITEM_COLUMNS, Column("due_on", "Due", "date"), Column("days_overdue", "Days overdue", "int")]
DECISION_COLUMNS = [
    Column("ref", "Decision"), Column("outcome", "Outcome"), Column("overdue_text", "Overdue"),
    Column("owner", "Owner"), Column("action", "Action"), Column("due_on", "Due", "date"),
    Column("new_since", "New since", "int"), Column("open_then", "Open then", "int"),
    Column("open_now", "Open now", "int"), Column("sentence", "Pattern"), Column("pattern_id", "Pattern id"),
    Column("week", "Review of", "date"), Column("recorded_by", "Recorded by"),
]


def _items(sheet: str, title: str, columns: list[Column], items: list[dict[str, Any]], note: str = "") -> Section:
    rows = item_rows(items, item_subject)
    return Section(sheet, title, item_columns(columns, rows), rows, note=note)


def review_sections(report: dict[str, Any]) -> list[Section]:
    decisions = [{**d, "overdue_text": "overdue" if d["overdue"] else ""} for d in report["decisions"]]
    return [
        _items("New this week", "New this week (first seen or reopened)", ITEM_COLUMNS, report["new_this_week"]),
        Section("Recurring patterns", "Recurring: patterns with new occurrences this week",
                [PATTERN, Column("new_this_week", "New this week", "int"), Column("count", "Count", "int"),
                 Column("open", "Open", "int"), PATTERN_ID], report["recurring"]),
        _items("Closed by themselves", "Closed by themselves (no correction, nobody resolved them)",
               RESOLVED_COLUMNS, report["closed_by_themselves"],
               note="Resolved this week with no hand correction of their entity while open and no Resolve in the "
                    "workflow: the lags that cleared."),
        _items("Aged beyond SLA", "Open beyond their SLA (sla: in tieout.yml)", AGED_COLUMNS,
               report["aged_beyond_sla"]),
        Section("Corrections", "Corrections made this week (tieout correct)", CORRECTION_COLUMNS,
                report["corrections"]),
        Section("Patterns that grew", "Patterns that grew: more new occurrences than the week before",
                [PATTERN, Column("new_previous_week", "Week before", "int"),
                 Column("new_this_week", "This week", "int"), Column("open", "Open", "int"), PATTERN_ID],
                report["patterns_grew"]),
        Section("Decisions", "Decisions of the reviews, and what happened since", DECISION_COLUMNS, decisions,
                note="Recorded with tieout review decide or on the web's Review page. New since: the pattern's "
                     "occurrences first seen after the review that decided; open then: at that review.",
                empty="No decision recorded yet."),
    ]
