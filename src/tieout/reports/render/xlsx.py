"""Excel: a Summary sheet of the headline figures, then one sheet per section.

Numbers are numeric cells with a number format, dates are date cells, never text. openpyxl writes a Decimal
as its own digits (no float on the way), so money stays exact in the file; Excel itself then computes in
binary floating point, as it always does.

Text is never a formula: every text cell — a name from an export, a reason, a title of our own — is written
as a string cell (openpyxl would otherwise store any text starting with `=` as a formula) and neutralised
against formula injection (`tieout.safe_text.for_workbook`), so `=1+1` reads `'=1+1` and stays text even
when someone edits the cell; a control character (which a workbook cannot hold) is written out, `\\x1b`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tieout.currencies import exponent
from tieout.output import Amount
from tieout.reports.render.xlsx_charts import chart_for
from tieout.reports.sections import Column, Document, Kind
from tieout.safe_text import for_workbook

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


def _text(ws: Any, row: int, col: int, value: str) -> Any:
    """A string cell holding `value`, neutralised: never a formula, whatever the text starts with."""
    cell = ws.cell(row=row, column=col)
    cell.value = for_workbook(value)
    cell.data_type = "s"  # set after the value: openpyxl infers the type from the value it is given
    return cell


def amount_format(currency: str) -> str:
    """Excel's number format for an amount in `currency`: its own decimals (`#,##0 "JPY"`, `#,##0.000 "KWD"`)."""
    places = exponent(currency)
    return f'#,##0{"." + "0" * places if places else ""} "{currency}"'


def _put(ws: Any, row: int, col: int, value: Any, kind: Kind, currency: str) -> None:
    if value == "":
        value = None
    if isinstance(value, str):
        _text(ws, row, col, value)
        return
    if isinstance(value, Amount):  # a number in its own currency (its code is letters: no injection)
        ws.cell(row=row, column=col, value=value.value).number_format = amount_format(value.currency)
        return
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, date) or kind in FORMATS and value is not None:
        fmt = FORMATS.get(kind, "yyyy-mm-dd")
        cell.number_format = f'{fmt} "{currency}"' if kind == "money" else fmt


def write(doc: Document, path: Path | IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    taken: set[str] = set()
    summary = wb.active
    summary.title = _sheet_name("Summary", taken)
    _text(summary, 1, 1, doc.title)
    summary["A1"].font = Font(bold=True, size=14)
    for i, (label, value, kind) in enumerate(doc.facts, start=3):
        _text(summary, i, 1, label)
        _put(summary, i, 2, value, kind, doc.currency)
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 24
    for s in doc.sections:
        ws = wb.create_sheet(_sheet_name(s.sheet, taken))
        _text(ws, 1, 1, s.title)
        ws["A1"].font = Font(bold=True, size=12)
        start = 2
        if s.note:
            _text(ws, 2, 1, s.note)
            start = 3
        for j, c in enumerate(s.columns, start=1):
            _text(ws, start, j, c.title).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(j)].width = _width(c, s.rows, doc.currency)
        for i, r in enumerate(s.rows, start=start + 1):
            for j, c in enumerate(s.columns, start=1):
                _put(ws, i, j, r.get(c.key), c.kind, doc.currency)
        if not s.rows and s.empty:
            _text(ws, start + 1, 1, s.empty)
        ws.freeze_panes = ws.cell(row=start + 1, column=1)
        if s.chart_data:
            chart_for(ws, s.title, s.chart_data, row=start + len(s.rows) + 3)
    wb.save(path)


def _width(column: Column, rows: list[dict[str, Any]], currency: str) -> float:
    """A column as wide as its widest cell as Excel shows it (numbers with their separators and currency), within
    8–60 characters: a 27-character rule name fits, a long reason wraps at the edge of the screen."""
    def shown(value: Any) -> int:
        if value is None or value == "":
            return 0
        if isinstance(value, Amount):
            return len(f"{value.value:,}") + len(value.currency) + 1
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return len(f"{value:,}") + (len(currency) + 1 if column.kind == "money" else 0)
        return max((len(part) for part in str(value).splitlines()), default=0)

    widest = max([len(column.title), *(shown(r.get(column.key)) for r in rows)])
    return max(8, min(60, widest + 2))
