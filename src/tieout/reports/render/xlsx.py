"""Excel: a Summary sheet of the headline figures, then one sheet per section.

Numbers are numeric cells with a number format, dates are date cells, never text. openpyxl writes a Decimal
as its own digits (no float on the way), so money stays exact in the file; Excel itself then computes in
binary floating point, as it always does.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from tieout.reports.sections import Document, Kind

FORMATS: dict[str, str] = {"int": "#,##0", "money": "#,##0.00", "decimal": "0.0", "date": "yyyy-mm-dd"}
_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, taken: set[str]) -> str:
    base = _BAD.sub(" ", name).strip()[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _put(ws: Any, row: int, col: int, value: Any, kind: Kind, currency: str) -> None:
    if value == "":
        value = None
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, date) or kind in FORMATS and value is not None:
        fmt = FORMATS.get(kind, "yyyy-mm-dd")
        cell.number_format = f'{fmt} "{currency}"' if kind == "money" else fmt


def write(doc: Document, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    taken: set[str] = set()
    summary = wb.active
    summary.title = _sheet_name("Summary", taken)
    summary.append([doc.title])
    summary["A1"].font = Font(bold=True, size=14)
    for i, (label, value, kind) in enumerate(doc.facts, start=3):
        summary.cell(row=i, column=1, value=label)
        _put(summary, i, 2, value, kind, doc.currency)
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 24
    for s in doc.sections:
        ws = wb.create_sheet(_sheet_name(s.sheet, taken))
        ws.append([s.title])
        ws["A1"].font = Font(bold=True, size=12)
        start = 2
        if s.note:
            ws.cell(row=2, column=1, value=s.note)
            start = 3
        for j, c in enumerate(s.columns, start=1):
            ws.cell(row=start, column=j, value=c.title).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(j)].width = max(12, min(60, len(c.title) + 4))
        for i, r in enumerate(s.rows, start=start + 1):
            for j, c in enumerate(s.columns, start=1):
                _put(ws, i, j, r.get(c.key), c.kind, doc.currency)
        if not s.rows:
            ws.cell(row=start + 1, column=1, value=s.empty)
        ws.freeze_panes = ws.cell(row=start + 1, column=1)
    wb.save(path)
