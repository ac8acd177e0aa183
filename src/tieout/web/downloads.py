"""The queue's current view as a file: `GET /queue.csv` and `GET /queue.xlsx`, with the queue page's query string
(view, filters, sort, as-of day), so the file holds exactly the rows the page shows, in its order.

The rows are `tieout exceptions --format json`'s records, then where each stands in the workflow and its age and
due date. Both files go through the project's writers of untrusted text: `tieout.output.write_csv` and the
reports' Excel writer neutralise any cell a spreadsheet would read as a formula (`=HYPERLINK(...)` is written
`'=HYPERLINK(...)`).
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tieout.due import DUE_KEYS
from tieout.output import original, to_csv
from tieout.reports.sections import Column, Document, Section
from tieout.story import JSON_KEYS, exception_record
from tieout.web.auth import CurrentUser, current_user
from tieout.web.queue import NO_FLOW, VIEWS
from tieout.web.queue_view import QueueView, read_view

router = APIRouter(dependencies=[Depends(current_user)])
WORKFLOW_KEYS = ("workflow", "assignee")
QUEUE_KEYS = (*JSON_KEYS, *WORKFLOW_KEYS, *DUE_KEYS)
# The Excel sheet's columns: a person's reading of the same rows (the CSV keeps every key, for programs).
SHEET_COLUMNS = [
    Column("severity", "Severity"), Column("rule", "Rule"), Column("canonical_id", "Entity"),
    Column("entity_name", "Name"), Column("source_system", "System"), Column("source_id", "Record"),
    Column("field", "Field"),
    Column("impact", "Impact", "money"), Column("original", "Original amount", "amount"), Column("team", "Team"),
    Column("status", "Status"), Column("workflow", "Workflow"), Column("assignee", "Assignee"),
    Column("classification", "Class"), Column("first_seen", "First seen", "date"),
    Column("age_days", "Age (days)", "int"), Column("due_on", "Due", "date"), Column("overdue", "Overdue"),
    Column("resolved_on", "Resolved on", "date"), Column("details", "Evidence"), Column("id", "ID"),
]


def rows(view: QueueView) -> list[dict[str, Any]]:
    out = []
    for e in view.shown:
        flow = view.flows.get(e.id, NO_FLOW)
        out.append({**exception_record(e), "workflow": flow.state, "assignee": flow.assignee,
                    **view.due[e.id].as_dict()})
    return out


def _name(view: QueueView, extension: str) -> str:
    return f"tieout-queue-{view.day.isoformat() if view.day else 'empty'}.{extension}"


def _attachment(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/queue.csv", name="queue_csv")
def queue_csv(request: Request, user: CurrentUser) -> Response:
    view = read_view(request, user)
    return _attachment(to_csv(rows(view), QUEUE_KEYS), "text/csv; charset=utf-8", _name(view, "csv"))


@router.get("/queue.xlsx", name="queue_xlsx")
def queue_xlsx(request: Request, user: CurrentUser) -> Response:
    from tieout.reports.render.xlsx import write

    view = read_view(request, user)
    project = request.app.state.project
    sheet = [{**r, "original": original(r["original_amount"], r["original_currency"]),
              "overdue": "overdue" if r["overdue"] else ""}
             for r in rows(view)]
    filters = ", ".join(f"{k}={v}" for k, v in view.filters.params() if k not in ("view", "as_of")) or "none"
    doc = Document(
        kind="queue", title=f"Exception queue as of {view.day.isoformat() if view.day else '(nothing reconciled)'}",
        facts=[("As of", view.day, "date"), ("View", VIEWS[view.filters.view] + f" ({user.name})", "text"),
               ("Filters", filters, "text"), ("Exceptions", len(sheet), "int")],
        sections=[Section("Exceptions", "Exceptions", SHEET_COLUMNS, sheet, empty="No exception matches.")],
        currency=project.reporting_currency)
    buffer = io.BytesIO()
    write(doc, buffer)
    return _attachment(buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       _name(view, "xlsx"))
